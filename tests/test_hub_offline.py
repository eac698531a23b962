"""Hub ids fail fast, without network, when offline or when the hub cannot be reached.

Speed is checked by what does not happen (no connection is tried offline, one 1.5 s probe at
most otherwise, no library retries after it); the elapsed-time bounds are only guards
against the old ~25 s retry loop.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from voxeval import hub
from voxeval.adapter import ADAPTERS
from voxeval.cli import main
from voxeval.errors import DataNotFoundError, VoxevalError
from voxeval.task import TASKS

GUARD_S = 10.0  # far above the ~2 s goal, far below the old 25-40 s of retries
OFFLINE_VARS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
HUB_TASKS = [
    ("berst-asr", {}, "Rosie-Lab/BERSt"),
    ("emonet-voice", {}, "t1a5anu-anon/emonet-voice-bench"),
    ("empathetic-dialogues", {}, "facebook/empathetic_dialogues"),
    ("sd-eval-emo", {"hub": True}, "amphion/SD-Eval"),
]


@pytest.fixture(autouse=True)
def fresh_probe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An empty HF cache per test, memoised probes forgotten, the offline switch restored."""
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "datasets"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # as conftest left it
    for memo in (hub.unreachable_reason, hub.use_cache_only):
        memo.cache_clear()
    yield
    for memo in (hub.unreachable_reason, hub.use_cache_only):
        memo.cache_clear()


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every connection or name lookup tried; each one fails at once (no network here)."""
    tried: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        tried.append(args[:2])
        raise ConnectionRefusedError("test: no network")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return tried


@pytest.fixture
def unreachable(monkeypatch: pytest.MonkeyPatch) -> str:
    """Offline mode off, no proxy, and HF_ENDPOINT on a closed local port."""
    for name in OFFLINE_VARS + PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
    with socket.socket() as probe:  # bound then closed: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    return endpoint


def fake_cached_model(root: Path, repo_id: str, commit: str = "a" * 40) -> None:
    """The cache layout huggingface_hub writes: refs/main and snapshots/<commit>/config.json."""
    repo = root / f"models--{repo_id.replace('/', '--')}"
    (repo / "snapshots" / commit).mkdir(parents=True)
    (repo / "snapshots" / commit / "config.json").write_text("{}")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)


def load_hub_task(name: str, options: dict[str, Any]) -> None:
    """Read a task's data with no --data-dir, i.e. from the hub."""
    task = TASKS.get(name)(None, options)
    task.dataset()
    next(iter(task.samples()))


def timed(call: Any, *args: Any) -> tuple[BaseException, float]:
    """(the error `call` raised, seconds it took)."""
    start = time.monotonic()
    with pytest.raises(VoxevalError) as info:
        call(*args)
    return info.value, time.monotonic() - start


# ---------------------------------------------------------------- offline mode
def test_offline_hub_model_fails_without_trying_the_network(connections):
    model = ADAPTERS.get("hf-asr").from_args({"model": "voxeval-tests/no-such-model"})
    error, seconds = timed(model.load)
    message = str(error)
    assert "voxeval-tests/no-such-model" in message and "HF_HUB_OFFLINE is set" in message
    assert "--model-args model=/path/to/no-such-model" in message
    assert connections == [] and seconds < GUARD_S


def test_offline_cli_run_of_a_hub_model_exits_with_the_hint(connections, tmp_path, capsys):
    argv = ["run", "--model", "hf-asr", "--tasks", "demo-asr", "--limit", "1"]
    argv += ["--model-args", "model=openai/whisper-tiny"]
    start = time.monotonic()
    code = main([*argv, "--output-dir", str(tmp_path / "out")])
    seconds = time.monotonic() - start
    err = capsys.readouterr().err
    assert code != 0 and "openai/whisper-tiny" in err and "model=/path/to/" in err
    assert connections == [] and seconds < GUARD_S


@pytest.mark.parametrize(("name", "options", "repo_id"), HUB_TASKS)
def test_offline_hub_dataset_fails_without_trying_the_network(connections, name, options, repo_id):
    pytest.importorskip("datasets")
    error, seconds = timed(load_hub_task, name, options)
    assert isinstance(error, DataNotFoundError)
    assert repo_id in str(error) and "--data-dir" in str(error)
    assert connections == [] and seconds < GUARD_S


# ---------------------------------------------------------------- hub unreachable
def test_unreachable_hub_fails_fast_for_models_and_datasets(unreachable):
    model = ADAPTERS.get("hf-asr").from_args({"model": "voxeval-tests/no-such-model"})
    error, seconds = timed(model.load)
    assert f"the hub at {unreachable} cannot be reached" in str(error)
    assert "--model-args model=/path/to/no-such-model" in str(error)
    for name, options, repo_id in HUB_TASKS:
        error, more = timed(load_hub_task, name, options)
        assert isinstance(error, DataNotFoundError) and repo_id in str(error)
        assert "cannot be reached" in str(error) and "--data-dir" in str(error)
        seconds += more
    assert seconds < GUARD_S


def test_the_probe_runs_once_per_process(unreachable, monkeypatch):
    tried: list[Any] = []
    real = socket.create_connection

    def spy(address: Any, *args: Any, **kwargs: Any) -> Any:
        tried.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", spy)
    for repo_id in ("org/one", "org/two"):
        with pytest.raises(VoxevalError):
            hub.ensure_hub_reachable(repo_id)
    assert len(tried) == 1 and tried[0][0] == "127.0.0.1"


def test_a_hanging_lookup_is_cut_short(unreachable, monkeypatch):
    def hang(*args: Any, **kwargs: Any) -> None:
        time.sleep(3)
        raise TimeoutError("test: too late")

    monkeypatch.setattr(socket, "create_connection", hang)
    monkeypatch.setattr(hub, "PROBE_TIMEOUT_S", 0.2)
    start = time.monotonic()
    reason = hub.unreachable_reason(unreachable)
    assert reason is not None and "no answer" in reason
    assert time.monotonic() - start < GUARD_S


def test_a_reachable_hub_lets_the_load_through(unreachable, monkeypatch):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.getsockname()[1]}")
        hub.ensure_hub_reachable("org/not-cached")  # the library takes it from here
        hub.ensure_hub_reachable("org/data", "dataset")


def test_the_proxy_is_probed_when_one_is_set(unreachable, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "https://hub.example.org")
    monkeypatch.setenv("https_proxy", "http://proxy.internal:3128")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    assert hub._probe_target(hub.hub_endpoint()) == ("proxy.internal", 3128)


# ---------------------------------------------------------------- the local cache
def test_a_cached_model_passes_offline_without_a_probe(connections, tmp_path):
    fake_cached_model(tmp_path / "hub", "org/cached")
    hub.ensure_hub_reachable("org/cached")
    hub.ensure_hub_reachable("org/cached", revision="a" * 40)  # a pinned commit
    with pytest.raises(VoxevalError, match="org/cached at revision v2"):
        hub.ensure_hub_reachable("org/cached", revision="v2")
    assert connections == []


def test_a_cached_model_passes_and_goes_offline_with_the_hub_unreachable(
    unreachable, tmp_path, monkeypatch, capsys
):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    fake_cached_model(tmp_path / "hub", "org/cached")
    hub.ensure_hub_reachable("org/cached")
    hub.ensure_hub_reachable("org/cached")
    # else the libraries retry ~25 s for each optional file the cache lacks
    assert huggingface_hub.constants.HF_HUB_OFFLINE is True
    err = capsys.readouterr().err
    assert err.count("using the local Hugging Face cache only") == 1 and unreachable in err
    with pytest.raises(VoxevalError, match="cannot be reached"):  # not "HF_HUB_OFFLINE"
        hub.ensure_hub_reachable("org/not-cached")


def test_a_cached_model_stays_online_when_the_hub_answers(unreachable, tmp_path, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    fake_cached_model(tmp_path / "hub", "org/cached")
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.getsockname()[1]}")
        hub.ensure_hub_reachable("org/cached")
    assert huggingface_hub.constants.HF_HUB_OFFLINE is False  # newer files may be fetched


def test_a_cached_dataset_passes_with_the_hub_unreachable(unreachable, connections, tmp_path):
    (tmp_path / "datasets" / "Rosie-Lab___ber_st" / "default").mkdir(parents=True)
    hub.ensure_hub_reachable("Rosie-Lab/BERSt", "dataset")
    with pytest.raises(DataNotFoundError, match="cannot be reached"):
        hub.ensure_hub_reachable("Rosie-Lab/other", "dataset", error=DataNotFoundError)
    assert len(connections) == 1  # one probe, shared by both ids


def test_offline_variables(monkeypatch):
    for name in OFFLINE_VARS:
        monkeypatch.delenv(name, raising=False)
    assert hub.offline_variable() is None
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "yes")
    assert hub.offline_variable() == "TRANSFORMERS_OFFLINE"
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "0")  # datasets' own switch wins for datasets
    assert hub.offline_variable("dataset") is None
