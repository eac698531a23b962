"""The `vllm` adapter against a stand-in `vllm` executable (tests/stand_ins/vllm), real processes.

The stand-in serves vLLM's OpenAI-compatible API on 127.0.0.1 and starts a "worker" child in
its process group; STANDIN_VLLM_MODE switches on failures (never healthy, exit early, die after
N replies, slow start, ignore SIGTERM, latency).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from voxeval.adapter import ADAPTERS
from voxeval.adapters.vllm_server import LOG_NAME, VllmAdapter
from voxeval.errors import VoxevalError
from voxeval.runner import RunConfig, run_evaluation

STAND_INS = Path(__file__).resolve().parent / "stand_ins"
VOXEVAL = Path(sys.executable).with_name("voxeval")
TASK = "demo-dialogue"
SAMPLES = f"samples-{TASK}.jsonl"
SECRET = "sk-vllm-test-NEVER-WRITE-THIS-ANYWHERE"


class StandIn:
    """Controls the stand-in through the environment and reads the pids it reports."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, pidfile: Path) -> None:
        self._monkeypatch = monkeypatch
        self.pidfile = pidfile

    def mode(self, value: str) -> None:
        """Set STANDIN_VLLM_MODE for servers started from now on."""
        self._monkeypatch.setenv("STANDIN_VLLM_MODE", value)

    def pids(self) -> list[int]:
        """[server pid, worker pid] of the last server started."""
        return [int(x) for x in self.pidfile.read_text().split()]


@pytest.fixture
def standin(monkeypatch, tmp_path) -> StandIn:
    """The stand-in `vllm` first on PATH, healthy unless told otherwise."""
    monkeypatch.setenv("PATH", f"{STAND_INS}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("STANDIN_VLLM_PIDFILE", str(tmp_path / "standin.pid"))
    monkeypatch.delenv("STANDIN_VLLM_MODE", raising=False)
    monkeypatch.delenv("VLLM_API_KEY", raising=False)
    return StandIn(monkeypatch, tmp_path / "standin.pid")


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def assert_gone(pids: list[int], within_s: float = 5.0) -> None:
    """Every pid has ended within `within_s` (a SIGKILL is delivered asynchronously)."""
    deadline = time.monotonic() + within_s
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in pids if alive(p)], "server processes left behind"


def run(tmp_path: Path, limit: int | None = None, **args: object):
    config = RunConfig(
        model="vllm",
        tasks=[TASK],
        model_args={"model": "tiny-chat", "startup_timeout_s": 20, **args},
        limit=limit,
        output_dir=tmp_path / "out",
    )
    return run_evaluation(config)


def records(run_dir: Path) -> list[dict]:
    path = run_dir / SAMPLES
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def only_run_dir(tmp_path: Path) -> Path:
    (run_dir,) = [p.parent for p in (tmp_path / "out" / "vllm").glob("*/run.json")]
    return run_dir


@pytest.mark.slow
def test_end_to_end_every_sample_answered_log_beside_the_run(tmp_path, standin):
    result, run_dir = run(tmp_path, extra_args="--enforce-eager --max-num-seqs 4")
    rows = records(run_dir)
    assert len(rows) == 12 and all(r["error"] is None for r in rows)
    assert rows[0]["prediction"]["text"].startswith("I hear you: 1 audio clip(s)")
    assert result.tasks[TASK].n_errors == 0
    log = (run_dir / LOG_NAME).read_text()
    assert log.count("POST /v1/chat/completions") == 12
    assert "extra flags ['--enforce-eager', '--max-num-seqs', '4']" in log
    info = result.model.info
    assert info["vllm_version"] == "0.0.0+standin"
    assert info["served_model_name"] == "tiny-chat" and info["dtype"] == "auto"
    assert info["server_command"].startswith("vllm serve tiny-chat --host 127.0.0.1 --port ")
    assert info["server_log"] == LOG_NAME
    assert_gone(standin.pids())  # stopped when the run ended: server and its worker


@pytest.mark.slow
def test_api_key_reaches_the_server_but_no_file(tmp_path, standin, monkeypatch):
    monkeypatch.setenv("MY_VLLM_KEY", SECRET)
    result, run_dir = run(tmp_path, limit=2, api_key_env="MY_VLLM_KEY")
    assert result.tasks[TASK].n_errors == 0  # the stand-in answers 401 without the key
    assert "key required True" in (run_dir / LOG_NAME).read_text()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(errors="ignore"), path


@pytest.mark.slow
def test_an_unrelated_vllm_api_key_is_not_handed_to_the_server(tmp_path, standin, monkeypatch):
    monkeypatch.setenv("VLLM_API_KEY", SECRET)  # would lock the client out (401s)
    result, run_dir = run(tmp_path, limit=2)
    assert result.tasks[TASK].n_errors == 0
    assert "key required False" in (run_dir / LOG_NAME).read_text()


@pytest.mark.slow
def test_never_healthy_stops_after_the_timeout_and_leaves_no_process(tmp_path, standin):
    standin.mode("never-healthy")
    start = time.monotonic()
    with pytest.raises(VoxevalError, match=r"did not become ready within 1.5 s") as err:
        run(tmp_path, startup_timeout_s=1.5)
    assert time.monotonic() - start < 8
    assert str(only_run_dir(tmp_path) / LOG_NAME) in str(err.value)
    assert_gone(standin.pids())


@pytest.mark.slow
def test_exit_before_healthy_quotes_the_log_tail(tmp_path, standin):
    standin.mode("exit-early")
    with pytest.raises(VoxevalError, match="exited with code 1 before it was ready") as err:
        run(tmp_path)
    message = str(err.value)
    assert "CUDA out of memory while loading the stand-in model" in message
    assert str(only_run_dir(tmp_path) / LOG_NAME) in message
    assert_gone(standin.pids())  # the worker too, though its parent had already exited


@pytest.mark.slow
def test_server_death_mid_run_stops_and_a_rerun_resumes_the_rest(tmp_path, standin):
    standin.mode("die-after=5")
    start = time.monotonic()
    with pytest.raises(VoxevalError, match="exited with code 3 during the run") as err:
        run(tmp_path)
    assert time.monotonic() - start < 10  # not minutes of retries against a closed port
    assert "stand-in engine died after 5 replies" in str(err.value)
    assert_gone(standin.pids())
    run_dir = only_run_dir(tmp_path)
    first = records(run_dir)
    assert len(first) == 5 and all(r["error"] is None for r in first)
    assert json.loads((run_dir / "run.json").read_text())["status"] == "error"

    standin.mode("")
    result, again = run(tmp_path)
    assert again == run_dir and result.resumed == 1
    rows = records(run_dir)
    assert len(rows) == 12 and len({r["sample_id"] for r in rows}) == 12
    assert all(r["error"] is None for r in rows)
    second_server = (run_dir / LOG_NAME).read_text().split("# voxeval ")[-1]
    assert second_server.count("POST /v1/chat/completions") == 7


@pytest.mark.slow
def test_ctrl_c_stops_the_server(tmp_path, standin):
    standin.mode("latency=0.3")
    out = tmp_path / "out"
    args = [str(VOXEVAL), "run", "--model", "vllm", "--tasks", TASK, "--output-dir", str(out)]
    args += ["--model-args", "model=tiny-chat,concurrency=1,startup_timeout_s=20"]
    stderr = tmp_path / "stderr.txt"
    with stderr.open("w") as fh:
        # As at a terminal: a shell without job control (`cmd &` in a script, as CI may be
        # run) starts its children with SIGINT ignored, and Python keeps that at start-up.
        proc = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=fh, preexec_fn=_default_sigint
        )
    try:
        deadline = time.monotonic() + 30
        while not list(out.glob(f"vllm/*/{SAMPLES}")) or not records(only_run_dir(tmp_path)):
            assert proc.poll() is None, stderr.read_text()
            assert time.monotonic() < deadline, "no answer within 30 s"
            time.sleep(0.05)
        pids = standin.pids()
        assert all(alive(p) for p in pids)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130, stderr.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "interrupted" in stderr.read_text()
    assert_gone(pids)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux-only")
def test_a_killed_voxeval_takes_its_server_with_it(tmp_path, standin):
    standin.mode("latency=0.3")
    out = tmp_path / "out"
    args = [str(VOXEVAL), "run", "--model", "vllm", "--tasks", TASK, "--output-dir", str(out)]
    args += ["--model-args", "model=tiny-chat,concurrency=1,startup_timeout_s=20"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not list(out.glob(f"vllm/*/{SAMPLES}")) or not records(only_run_dir(tmp_path)):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        server = standin.pids()[0]
        assert alive(server)
        proc.kill()  # SIGKILL: no atexit, no finally
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert_gone([server])


@pytest.mark.slow
def test_from_python_log_in_a_temp_file_and_close_escalates_to_sigkill(standin, capsys):
    standin.mode("slow-start=0.8,ignore-term")
    adapter = ADAPTERS.get("vllm").from_args({"model": "tiny-chat", "stop_grace_s": 0.5})
    try:
        adapter.load()
        log = Path(adapter.model_info()["server_log"])
        assert log.is_file() and log.name.startswith("voxeval-vllm-")
        assert f"vllm server log: {log}" in capsys.readouterr().err
        pids = standin.pids()
        start = time.monotonic()
        adapter.close()
        assert time.monotonic() - start >= 0.5  # SIGTERM ignored: SIGKILL after the grace
        assert_gone(pids)
        adapter.close()  # twice is fine
    finally:
        adapter.close()
        log.unlink(missing_ok=True)


def test_missing_executable_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no vllm anywhere
    adapter = ADAPTERS.get("vllm").from_args({"model": "tiny-chat"})
    with pytest.raises(VoxevalError, match=r"Cannot find the vllm executable 'vllm'") as err:
        adapter.load()
    assert "pip install vllm" in str(err.value) and "vllm_bin=" in str(err.value)


@pytest.mark.parametrize(
    ("args", "named"),
    [
        ({"port": "0"}, "port"),
        ({"port": "70000"}, "port"),
        ({"gpu_memory_utilization": "1.5"}, "gpu_memory_utilization"),
        ({"tensor_parallel_size": "0"}, "tensor_parallel_size"),
        ({"dtype": "int3"}, "dtype"),
        ({"startup_timeout_s": "-1"}, "startup_timeout_s"),
        ({"extra_args": "--port 9000"}, "--port is set by voxeval; use port"),
        ({"extra_args": "--api-key=abc"}, "--api-key is set by voxeval; use api_key_env"),
        ({"extra_args": "'unbalanced"}, "extra_args"),
        ({"base_url": "http://x/v1"}, "base_url"),
        ({}, "model"),
    ],
)
def test_bad_args_name_the_argument(args, named):
    raw = {"model": "tiny-chat", **args} if args else {}
    with pytest.raises(VoxevalError, match="Bad --model-args for 'vllm'") as err:
        ADAPTERS.get("vllm").from_args(raw)
    assert named in str(err.value)


def test_speed_args_stay_out_of_the_resume_fingerprint():
    def prediction(**args: object) -> dict:
        return VllmAdapter.from_args({"model": "m", **args}).prediction_args()

    base = prediction()
    speed = {"port": 8123, "startup_timeout_s": 5, "vllm_bin": "/opt/vllm", "concurrency": 8}
    assert prediction(**speed, gpu_memory_utilization=0.5) == base
    for changed in ({"model": "other"}, {"revision": "abc"}, {"dtype": "bfloat16"}):
        assert VllmAdapter.from_args({"model": "m", **changed}).prediction_args() != base
    assert prediction(max_model_len=4096) != base


def test_server_command_carries_every_option_and_no_key(monkeypatch):
    monkeypatch.setenv("MY_VLLM_KEY", SECRET)
    adapter = VllmAdapter.from_args(
        {
            "model": "org/audio-llm",
            "served_model_name": "alm",
            "revision": "v2",
            "dtype": "bfloat16",
            "tensor_parallel_size": 2,
            "data_parallel_size": 2,
            "gpu_memory_utilization": 0.8,
            "max_model_len": 8192,
            "trust_remote_code": "true",
            "extra_args": ["--enforce-eager"],
            "api_key_env": "MY_VLLM_KEY",
        }
    )
    cmd = adapter.server_command("vllm", 8001)
    assert cmd[:7] == ["vllm", "serve", "org/audio-llm", "--host", "127.0.0.1", "--port", "8001"]
    text = " ".join(cmd)
    for part in (
        "--served-model-name alm",
        "--revision v2",
        "--dtype bfloat16",
        "--tensor-parallel-size 2",
        "--data-parallel-size 2",
        "--gpu-memory-utilization 0.8",
        "--max-model-len 8192",
        "--trust-remote-code",
        "--enforce-eager",
    ):
        assert part in text
    assert SECRET not in text and "--api-key" not in text
    plain = " ".join(VllmAdapter.from_args({"model": "m"}).server_command("vllm", 1))
    assert "--trust-remote-code" not in plain and "--data-parallel-size" not in plain
    assert "--served-model-name m --dtype auto" in plain


def _default_sigint() -> None:
    """In the child before exec: Ctrl-C does what it does at a terminal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
