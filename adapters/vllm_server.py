"""vllm: start `vllm serve` for a model, evaluate it over its OpenAI-compatible API, stop it.

Requests take the `openai` adapter's aiohttp path (bounded concurrency, retries, each answer
saved as it arrives). The server listens on 127.0.0.1 only; its log is `vllm-server.log` in
the run folder. If the server dies mid-run, the run stops at once with its exit code and log
instead of retrying every remaining sample against a closed port; saved answers stay, and
running the same command again resumes the rest. The real engine needs a CUDA machine with
`pip install vllm`; the tests use a stand-in executable.
"""

from __future__ import annotations

import contextlib
import copy
import os
import shlex
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator
from pydantic.fields import FieldInfo

from voxeval.adapter import Adapter, AdapterArgs, Emit, TaskContext
from voxeval.adapters.openai_compat import OpenAIArgs, OpenAICompatAdapter
from voxeval.adapters.server_process import ServerProcess, free_port, get_json
from voxeval.errors import VoxevalError
from voxeval.hookspecs import hookimpl
from voxeval.secrets import register_secret, scrub
from voxeval.types import ModelInput, Response

LOG_NAME = "vllm-server.log"
HOST = "127.0.0.1"
KEY_VARIABLE = "VLLM_API_KEY"  # vllm serve reads its key here: never on the command line
WATCH_S = 0.2  # how often a running batch checks that the server process is still there
# Flags the adapter sets itself, and the argument to use instead.
OWNED_FLAGS = {
    "--host": "none: the server listens on 127.0.0.1 only",
    "--port": "port",
    "--api-key": "api_key_env (the key travels in an environment variable, never argv)",
    "--served-model-name": "served_model_name",
    "--revision": "revision",
    "--dtype": "dtype",
    "--tensor-parallel-size": "tensor_parallel_size",
    "-tp": "tensor_parallel_size",
    "--data-parallel-size": "data_parallel_size",
    "-dp": "data_parallel_size",
    "--gpu-memory-utilization": "gpu_memory_utilization",
    "--max-model-len": "max_model_len",
    "--trust-remote-code": "trust_remote_code",
}
# The openai adapter's arguments that a vllm run uses as they are.
CLIENT_ARGS = (
    "endpoint",
    "batch_size",
    "concurrency",
    "timeout_s",
    "max_retries",
    "backoff_base_s",
    "backoff_max_s",
    "temperature",
    "seed",
    "max_tokens",
    "system_prompt",
)


def _openai(name: str) -> FieldInfo:
    """The openai adapter's definition of argument `name` (same default, bounds, help)."""
    return copy.deepcopy(OpenAIArgs.model_fields[name])


class VllmArgs(AdapterArgs):
    """Options of the vllm adapter: the server's flags, then the request options."""

    model: str = Field(description="Hugging Face id or local folder given to `vllm serve`")
    served_model_name: str | None = Field(None, description="name the API serves; None: model")
    revision: str | None = Field(None, description="model revision (branch, tag or commit)")
    dtype: Literal["auto", "half", "float16", "bfloat16", "float", "float32"] = Field(
        "auto", description="weights and activations type"
    )
    tensor_parallel_size: int = Field(1, ge=1, le=1024, description="GPUs per model replica")
    data_parallel_size: int = Field(1, ge=1, le=1024, description="model replicas")
    gpu_memory_utilization: float | None = Field(
        None, gt=0, le=1, description="share of GPU memory vllm may take; None: its default"
    )
    max_model_len: int | None = Field(
        None, ge=1, le=100_000_000, description="context length; None: the model's"
    )
    trust_remote_code: bool = Field(False, description="run the model repository's own code")
    extra_args: list[str] = Field(
        default_factory=list, description='more `vllm serve` flags, e.g. "--enforce-eager"'
    )
    vllm_bin: str = Field("vllm", description="the vllm executable: a name on PATH or a path")
    port: int | None = Field(None, ge=1, le=65535, description="server port; None: a free one")
    startup_timeout_s: float = Field(
        900.0, gt=0, le=86_400, description="longest wait for the server to serve the model"
    )
    stop_grace_s: float = Field(
        20.0, ge=0, le=600, description="wait after SIGTERM before SIGKILL at the end"
    )
    api_key_env: str | None = Field(
        None, description="variable holding a key the server requires; None: no key"
    )
    endpoint: Literal["chat", "transcriptions"] = _openai("endpoint")
    batch_size: int = _openai("batch_size")
    concurrency: int = _openai("concurrency")
    timeout_s: float = _openai("timeout_s")
    max_retries: int = _openai("max_retries")
    backoff_base_s: float = _openai("backoff_base_s")
    backoff_max_s: float = _openai("backoff_max_s")
    temperature: float | None = _openai("temperature")
    seed: int | None = _openai("seed")
    max_tokens: int | None = _openai("max_tokens")
    system_prompt: str | None = _openai("system_prompt")

    @field_validator("extra_args", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        # From --model-args it is one string: split it as a shell would.
        return shlex.split(value) if isinstance(value, str) else value

    @field_validator("extra_args")
    @classmethod
    def _not_owned(cls, value: list[str]) -> list[str]:
        for flag in value:
            name = flag.split("=", 1)[0]
            if name in OWNED_FLAGS:
                raise ValueError(f"{name} is set by voxeval; use {OWNED_FLAGS[name]}")
        return value


class VllmAdapter(Adapter):
    """Starts `vllm serve MODEL` on 127.0.0.1 and evaluates it like the `openai` adapter."""

    name: ClassVar[str] = "vllm"
    description: ClassVar[str] = "starts `vllm serve` for a model; requests as `openai` does"
    supports = OpenAICompatAdapter.supports
    Args: ClassVar[type[AdapterArgs]] = VllmArgs
    # How fast or where the server runs, never what it answers.
    speed_args: ClassVar[frozenset[str]] = (
        OpenAICompatAdapter.speed_args - {"price_input", "price_output"}
    ) | {"port", "startup_timeout_s", "stop_grace_s", "vllm_bin", "gpu_memory_utilization"}
    args: VllmArgs

    def __init__(self, args: VllmArgs) -> None:
        super().__init__(args)
        self._server: ServerProcess | None = None
        self._client: _ServerClient | None = None
        self._version: str | None = None

    @property
    def served_name(self) -> str:
        """The model name the server answers to."""
        return self.args.served_model_name or self.args.model

    def load(self) -> None:
        """Start `vllm serve`, wait until it lists the model, then connect the client."""
        if self._client is not None:
            return
        key = self._api_key()
        port = self.args.port or free_port(HOST)
        root = f"http://{HOST}:{port}"
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        server = ServerProcess(
            self.server_command(self._executable(), port),
            self._log_path(),
            what="vllm server",
            env=self._env(key),
            grace_s=self.args.stop_grace_s,
        )
        print(f"voxeval: vllm server log: {server.log_path}", file=sys.stderr, flush=True)
        server.start()
        self._server = server
        server.wait_until(lambda: self._serving(root, headers), self.args.startup_timeout_s)
        version = get_json(f"{root}/version", headers=headers)
        self._version = str(version.get("version")) if isinstance(version, dict) else None
        self._client = _ServerClient(self._client_args(f"{root}/v1"), server, key)

    def server_command(self, executable: str, port: int) -> list[str]:
        """The `vllm serve` command line (never holds the API key)."""
        a = self.args
        cmd = [executable, "serve", a.model, "--host", HOST, "--port", str(port)]
        cmd += ["--served-model-name", self.served_name, "--dtype", a.dtype]
        cmd += ["--tensor-parallel-size", str(a.tensor_parallel_size)]
        if a.data_parallel_size != 1:  # older vllm has no such flag; 1 is its default
            cmd += ["--data-parallel-size", str(a.data_parallel_size)]
        optional = {
            "--revision": a.revision,
            "--gpu-memory-utilization": a.gpu_memory_utilization,
            "--max-model-len": a.max_model_len,
        }
        for flag, value in optional.items():
            if value is not None:
                cmd += [flag, str(value)]
        if a.trust_remote_code:
            cmd.append("--trust-remote-code")
        return cmd + list(a.extra_args)

    def model_info(self) -> dict[str, Any]:
        """Model, revision, vllm version, parallelism, dtype and the server command line."""
        command = self._server.command if self._server else []
        logged = self._server.log_path if self._server else None
        return {
            "model_name": self.served_name,
            "model": self.args.model,
            "revision": self.args.revision,
            "served_model_name": self.served_name,
            "vllm_version": self._version,
            "dtype": self.args.dtype,
            "tensor_parallel_size": self.args.tensor_parallel_size,
            "data_parallel_size": self.args.data_parallel_size,
            "max_model_len": self.args.max_model_len,
            "endpoint": self.args.endpoint,
            # The executable's name, not this machine's path to it.
            "server_command": scrub(shlex.join([Path(command[0]).name, *command[1:]]))
            if command
            else None,
            "server_log": (logged.name if self.run_dir else str(logged)) if logged else None,
        }

    def predict_stream(self, batch: list[ModelInput], task: TaskContext, emit: Emit) -> None:
        """Send the batch to the server; a server that has died stops the run (VoxevalError)."""
        if self._client is None:
            self.load()
        assert self._client is not None
        self._client.predict_stream(batch, task, emit)

    def close(self) -> None:
        """Stop the server and its workers (safe to call twice)."""
        if self._server is not None:
            self._server.stop()

    def _executable(self) -> str:
        found = shutil.which(self.args.vllm_bin)
        if found is None:
            raise VoxevalError(
                f"Cannot find the vllm executable {self.args.vllm_bin!r} (not on PATH). Install "
                "vLLM on a CUDA machine with `pip install vllm`, or point to it with "
                "--model-args vllm_bin=/path/to/vllm."
            )
        return found

    def _api_key(self) -> str | None:
        if self.args.api_key_env is None:
            return None
        key = os.environ.get(self.args.api_key_env)
        if not key:
            raise VoxevalError(
                f"api_key_env names {self.args.api_key_env}, but that environment variable is "
                "empty: set it, or leave api_key_env out (the server listens on 127.0.0.1)."
            )
        register_secret(key)  # masked if the server or a reply ever shows it
        return key

    def _env(self, key: str | None) -> dict[str, str]:
        env = dict(os.environ)
        env.pop(KEY_VARIABLE, None)  # an unrelated key in our environment would lock us out
        if key:
            env[KEY_VARIABLE] = key
        return env

    def _log_path(self) -> Path:
        if self.run_dir is not None:
            return self.run_dir / LOG_NAME
        import tempfile

        fd, name = tempfile.mkstemp(prefix="voxeval-vllm-", suffix=".log")
        os.close(fd)
        return Path(name)

    def _serving(self, root: str, headers: dict[str, str]) -> bool:
        """Healthy and listing the model (vllm answers /health before the API is up)."""
        if get_json(f"{root}/health") is None:
            return False
        models = get_json(f"{root}/v1/models", headers=headers)
        listed = models.get("data") if isinstance(models, dict) else None
        ids = {m.get("id") for m in listed or [] if isinstance(m, dict)}
        return self.served_name in ids

    def _client_args(self, base_url: str) -> OpenAIArgs:
        chosen = {k: getattr(self.args, k) for k in CLIENT_ARGS}
        return OpenAIArgs(model=self.served_name, base_url=base_url, **chosen)


class _ServerClient(OpenAICompatAdapter):
    """The openai adapter's request path, stopped at once when the server process is gone."""

    def __init__(self, args: OpenAIArgs, server: ServerProcess, key: str | None) -> None:
        super().__init__(args)
        self.server = server
        self._key = key

    def load(self) -> None:
        """Nothing to read: the vllm adapter handed the key over."""

    def _prices(self) -> tuple[float, float] | None:
        return None  # a self-hosted model has no per-token price

    def _died(self) -> VoxevalError:
        return VoxevalError(
            self.server.exited_message(
                "during the run",
                "The answers saved so far are kept; run the same command again to resume.",
            )
        )

    async def _predict_all(self, batch: list[ModelInput], emit: Emit) -> None:
        import asyncio

        if self.server.exit_code() is not None:
            raise self._died()
        work = asyncio.ensure_future(super()._predict_all(batch, emit))
        watch = asyncio.ensure_future(self._watch())
        done, _ = await asyncio.wait({work, watch}, return_when=asyncio.FIRST_COMPLETED)
        if work in done:
            watch.cancel()
            return work.result()
        # The server exited: requests in flight would only retry against a closed port.
        work.cancel()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await work
        raise self._died()

    async def _watch(self) -> None:
        import asyncio

        while self.server.exit_code() is None:
            await asyncio.sleep(WATCH_S)

    async def _one(self, session: Any, item: ModelInput) -> Response:
        response = await super()._one(session, item)
        if response.error and await self._gone(session):
            raise self._died()  # not a per-sample error: the run must stop
        return response

    async def _gone(self, session: Any, wait_s: float = 5.0) -> bool:
        """After a failed request: is the server process dead (not just this sample)?"""
        import asyncio

        import aiohttp

        health = self.args.base_url.rstrip("/").removesuffix("/v1") + "/health"
        with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
            async with session.get(health, timeout=aiohttp.ClientTimeout(total=wait_s)) as resp:
                if resp.status == 200:
                    return False
        # Its port is closed a moment before the process counts as exited.
        for _ in range(int(wait_s / WATCH_S)):
            if self.server.exit_code() is not None:
                return True
            await asyncio.sleep(WATCH_S)
        return False


@hookimpl
def register_adapters(register: Callable[..., None]) -> None:
    """Register the vllm adapter."""
    register(VllmAdapter)
