"""Shared parts of the Hugging Face transformers adapters (hf-*): arguments, loading, devices.

Importing this module stays light: torch and transformers are imported inside methods only,
so that `voxeval --help` and `voxeval list models` never pay for them.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from voxeval.adapter import Adapter, AdapterArgs, TaskContext
from voxeval.adapters.encoder_slices import encoder_slice
from voxeval.audio import resample
from voxeval.errors import VoxevalError
from voxeval.hub import ensure_hub_reachable
from voxeval.types import ModelInput

INSTALL_HINT = "pip install 'voxeval[local]'"
# Parameters some checkpoints lack that inference never uses (wav2vec2's SpecAugment vector).
IGNORED_MISSING = ("masked_spec_embed",)


class HFArgs(AdapterArgs):
    """Options common to every hf-* adapter."""

    model: str = Field(description="a local folder (from save_pretrained) or a hub id")
    revision: str | None = Field(
        None, description="hub branch, tag or commit; recorded in run.json"
    )
    device: Literal["auto", "cpu", "cuda", "mps"] = Field(
        "auto", description="torch device; auto picks cuda, then mps, then cpu"
    )
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = Field(
        "float32",
        description="weights' dtype; auto: the checkpoint's own on a GPU (float16 where a "
        "GPU lacks bfloat16), float32 on a CPU",
    )
    device_map: Literal["auto"] | None = Field(
        None,
        description="auto: spread the model over every visible GPU (accelerate), for models "
        "larger than one GPU; None: all on `device`",
    )
    trust_remote_code: bool = Field(
        False, description="let transformers run the model's own code (only passed when true)"
    )
    batch_size: int = Field(
        8, ge=1, le=100_000, description="clips per predict call (one generate call)"
    )
    encoder_batch_size: int = Field(
        0,
        ge=0,
        le=100_000,
        description="clips per audio-encoder pass; 0: 1 on a CPU, the whole batch else",
    )


def import_backend() -> tuple[Any, Any]:
    """(torch, transformers), or a VoxevalError naming the pip extra."""
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise VoxevalError(
            f"The hf-* adapters need torch and transformers ({exc.name or exc} is missing): "
            f"`{INSTALL_HINT}` (for a CPU-only machine install torch first from "
            "https://download.pytorch.org/whl/cpu)."
        ) from None
    return torch, transformers


def resolve_device(torch: Any, wanted: str) -> Any:
    """A torch.device for "auto" | "cpu" | "cuda" | "mps"; unavailable ones are an error."""
    mps = getattr(torch.backends, "mps", None)
    mps_ok = bool(mps and mps.is_available())
    if wanted == "auto":
        wanted = "cuda" if torch.cuda.is_available() else "mps" if mps_ok else "cpu"
    elif wanted == "cuda" and not torch.cuda.is_available():
        raise VoxevalError(
            "device=cuda was asked for, but torch sees no CUDA GPU (torch "
            f"{torch.__version__}, CUDA build: {torch.version.cuda or 'no'}). Use device=cpu "
            "or device=auto, or install a CUDA build of torch."
        )
    elif wanted == "mps" and not mps_ok:
        raise VoxevalError(
            "device=mps was asked for, but Apple's Metal backend is not available here. "
            "Use device=cpu or device=auto."
        )
    return torch.device(wanted)


def looks_like_path(model: str) -> bool:
    """True for something meant as a folder rather than a hub id ("org/name")."""
    return (
        model.startswith(("/", ".", "~"))
        or "\\" in model
        or model.count("/") > 1
        or Path(model).expanduser().exists()
    )


def describe_load_error(model: str, revision: str | None, what: str, exc: BaseException) -> str:
    """A user-facing explanation of why from_pretrained failed."""
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "trust_remote_code" in str(exc):
        return (
            f"{model!r} contains custom code that transformers will run only when allowed. If "
            "you trust it, pass --model-args trust_remote_code=true."
        )
    if looks_like_path(model):
        folder = Path(model).expanduser()
        if not folder.exists():
            return f"No model folder {model!r}: the path does not exist."
        return f"Could not load the {what} from the folder {model!r}: {detail}"
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}
    at = f" at revision {revision!r}" if revision else ""
    why = (
        "HF_HUB_OFFLINE is set and it is not in the local Hugging Face cache"
        if offline and isinstance(exc, OSError)
        else detail
    )
    return (
        f"Could not load the {what} of the hub model {model!r}{at}: {why}. Download it first "
        f"(`hf download {model}`, with network access) or pass a local folder: "
        f"--model-args model=/path/to/{model.rsplit('/', 1)[-1]}."
    )


def checkpoint_dtype(torch: Any, config: Any) -> Any:
    """The dtype a checkpoint's config declares (top level, else its text model), else float32."""
    for part in (
        config,
        getattr(config, "text_config", None),
        getattr(config, "thinker_config", None),
    ):
        value = getattr(part, "dtype", None) or getattr(part, "torch_dtype", None)
        if isinstance(value, str):
            value = getattr(torch, value.removeprefix("torch."), None)
        if isinstance(value, torch.dtype) and value.is_floating_point:
            return value
    return torch.float32


def to_mono_arrays(batch: list[ModelInput], sampling_rate: int) -> list[np.ndarray]:
    """The batch's audio as float32 mono arrays at `sampling_rate` (ValueError if absent)."""
    out = []
    for item in batch:
        if item.audio is None or item.audio.size == 0:
            raise ValueError(f"sample {item.sample_id!r} has no audio")
        audio = np.asarray(item.audio, dtype=np.float32)
        if audio.ndim > 1:
            audio = audio.mean(axis=-1 if audio.shape[-1] < audio.shape[0] else 0)
        if item.sampling_rate and item.sampling_rate != sampling_rate:
            audio = resample(audio, item.sampling_rate, sampling_rate).astype(np.float32)
        out.append(audio)
    return out


class HFAdapter(Adapter):
    """Base of the hf-* adapters: loads under a clear error, reports identity and size."""

    Args: ClassVar[type[AdapterArgs]] = HFArgs
    speed_args: ClassVar[frozenset[str]] = frozenset({"batch_size", "encoder_batch_size"})
    args: HFArgs

    def __init__(self, args: HFArgs) -> None:
        super().__init__(args)
        self.model: Any = None
        self.device: Any = None
        self.torch_dtype: Any = None
        self.extra_info: dict[str, Any] = {}

    def encoder_slice(self) -> int | None:
        """Clips per audio-encoder pass (None: the whole batch); recorded in model_info."""
        return encoder_slice(self.device.type, self.args.encoder_batch_size)

    def slices(self, n: int) -> list[slice]:
        """Index ranges of n clips in encoder-sized groups, for encoder-only models."""
        size = self.encoder_slice() or n
        return [slice(start, start + size) for start in range(0, n, size)]

    # -- loading -------------------------------------------------------------------------
    def load(self) -> None:
        """Import the backend, resolve device and dtype, then load via `_load`."""
        if self.model is not None:
            return
        if not looks_like_path(self.args.model):  # before torch's import: fails in well under 2 s
            ensure_hub_reachable(self.args.model, revision=self.args.revision)
        torch, _ = import_backend()
        self.device = resolve_device(torch, self.args.device)
        if self.args.device_map and self.device.type != "cuda":
            raise VoxevalError(
                f"device_map={self.args.device_map} spreads a model over GPUs, but the device "
                f"is {self.device.type}: drop device_map, or run where torch sees CUDA GPUs."
            )
        if self.args.device_map and importlib.util.find_spec("accelerate") is None:
            raise VoxevalError(
                f"device_map needs accelerate: {INSTALL_HINT} or pip install accelerate."
            )
        try:
            self.torch_dtype = self._resolve_dtype(torch)
            self._load()
            if self.args.device_map:  # accelerate placed the layers; inputs go to the first
                self.device = next(self.model.parameters()).device
            else:
                self.model.to(self.device)
            self.model.eval()
        except BaseException:
            self.model = None  # a later load() starts over instead of using half a model
            raise

    def _load(self) -> None:
        raise NotImplementedError

    def _resolve_dtype(self, torch: Any) -> Any:
        """The torch dtype to load in; `auto` reads the checkpoint's config (see HFArgs)."""
        if self.args.dtype != "auto":
            return getattr(torch, self.args.dtype)
        if self.device.type == "cpu":  # half precision is slow or missing in CPU kernels
            return torch.float32
        own = checkpoint_dtype(torch, self.load_config())
        if own is torch.bfloat16 and self.device.type == "cuda":
            return own if torch.cuda.is_bf16_supported() else torch.float16
        return own

    @property
    def source(self) -> str:
        """What from_pretrained gets: the hub id, or the folder with `~` expanded."""
        model = self.args.model
        return str(Path(model).expanduser()) if model.startswith("~") else model

    def hub_kwargs(self) -> dict[str, Any]:
        """revision (when given) and trust_remote_code (only when asked for)."""
        kwargs: dict[str, Any] = {}
        if self.args.revision:
            kwargs["revision"] = self.args.revision
        if self.args.trust_remote_code:
            kwargs["trust_remote_code"] = True
        return kwargs

    @contextlib.contextmanager
    def loading(self, what: str) -> Iterator[None]:
        """Turn from_pretrained's OSError/ValueError tracebacks into a VoxevalError."""
        try:
            yield
        except VoxevalError:
            raise
        except (OSError, ValueError, KeyError, ImportError, TypeError) as exc:
            raise VoxevalError(
                describe_load_error(self.args.model, self.args.revision, what, exc)
            ) from exc

    def load_config(self) -> Any:
        """The model's config (fails fast and clearly for unknown ids or folders)."""
        from transformers import AutoConfig

        with self.loading("configuration"):
            return AutoConfig.from_pretrained(self.source, **self.hub_kwargs())

    def load_processor(self, loader: Any, what: str = "processor") -> Any:
        """`loader.from_pretrained(model)` under the same error handling."""
        with self.loading(what):
            return loader.from_pretrained(self.source, **self.hub_kwargs())

    def load_model(
        self, loader: Any, config: Any = None, strict: bool = False, hint: str = ""
    ) -> Any:
        """Load weights in the asked dtype; `strict` refuses checkpoints missing weights."""
        import transformers

        kwargs = self.hub_kwargs()
        if config is not None:
            kwargs["config"] = config
        # transformers 5 renamed torch_dtype to dtype
        major = int(transformers.__version__.split(".")[0])
        kwargs["dtype" if major >= 5 else "torch_dtype"] = self.torch_dtype
        if self.args.device_map:
            kwargs["device_map"] = self.args.device_map
        with self.loading("weights"):
            model, info = loader.from_pretrained(self.source, output_loading_info=True, **kwargs)
        missing = sorted(
            k for k in info.get("missing_keys") or [] if not k.endswith(IGNORED_MISSING)
        )
        if missing:
            self.extra_info["missing_weights"] = missing[:20]
            if strict:
                more = " ..." if len(missing) > 4 else ""
                raise VoxevalError(
                    f"{self.args.model!r} has no trained weights for {len(missing)} parameters "
                    f"of {type(model).__name__} ({', '.join(missing[:4])}{more}): they would be "
                    "random. The checkpoint is probably a base model or has a head of another "
                    f"shape; use a fine-tuned checkpoint or a matching adapter.{hint}"
                )
        return model

    # -- identity ------------------------------------------------------------------------
    def model_info(self) -> dict[str, Any]:
        """Path or hub id, revision (or resolved commit), parameter count, dtype, device."""
        info: dict[str, Any] = {"model": self.args.model, "revision": self.args.revision}
        if self.model is None:
            return info
        import torch
        import transformers

        config = self.model.config
        commit = getattr(config, "_commit_hash", None)
        info.update(
            revision=self.args.revision or commit,
            commit=commit,
            model_name=(
                Path(self.args.model).name if looks_like_path(self.args.model) else self.args.model
            ),
            architecture=type(self.model).__name__,
            model_type=getattr(config, "model_type", None),
            parameters=sum(p.numel() for p in self.model.parameters()),
            dtype=str(self.torch_dtype).removeprefix("torch."),
            dtype_requested=self.args.dtype,
            device=str(self.device),
            device_map=self._placement(),
            transformers=transformers.__version__,
            torch=torch.__version__,
            encoder_batch_size=self.encoder_slice() or "batch",
        )
        info.update(copy.deepcopy(self.extra_info))
        return info

    def _placement(self) -> dict[str, list[str]] | None:
        """With device_map: which devices hold which top-level modules (None without)."""
        if not self.args.device_map:
            return None
        placed: dict[str, set[str]] = {}
        for name, param in self.model.named_parameters():
            placed.setdefault(str(param.device), set()).add(name.split(".")[0])
        return {where: sorted(modules) for where, modules in placed.items()}

    # -- running -------------------------------------------------------------------------
    def warmup(self, example: ModelInput, task: TaskContext) -> None:
        """One throw-away prediction so timed batches exclude first-call set-up."""
        self.predict([example], task)

    def close(self) -> None:
        """Drop the weights (and the CUDA cache when on a GPU)."""
        if self.model is None:
            return
        self.model = None
        with contextlib.suppress(Exception):
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()
