"""Deployment (docs/deploy.md): the Dockerfile's own entry and command serve the board and stop
on SIGTERM, also as PID 1 under its tini; the Space files match the Dockerfile; results/ holds
loadable demo runs with cards.

No Docker engine is needed: the exec-form ENTRYPOINT, CMD and HEALTHCHECK are read from the
Dockerfile and run here with the venv's voxeval, a temporary results folder and a free port.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.browser_helpers import free_port, wait_healthy
from tests.conftest import REPO
from voxeval.publish import publish_run
from voxeval.runner import RunConfig, run_evaluation
from voxeval.types import Response

DOCKERFILE = REPO / "Dockerfile"
SPACE = REPO / "deploy" / "hf-space"
RESULTS = REPO / "results"
DEMO_MODELS = ("faster-whisper", "pocketsphinx")  # scripts/publish_demo_results.sh
STOP_S = 15  # docker stop waits 10 s before SIGKILL; Streamlit stops well within that


def instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order: comments dropped, continuation lines joined."""
    logical, out = "", []
    for line in path.read_text().splitlines():
        if line.lstrip().startswith("#"):
            continue
        logical += line
        if logical.endswith("\\"):
            logical = logical[:-1]
            continue
        if logical.strip():
            keyword, _, args = logical.strip().partition(" ")
            out.append((keyword.upper(), args.strip()))
        logical = ""
    return out


def only(keyword: str) -> str:
    """The arguments of the one (last, as Docker reads it) instruction `keyword`."""
    found = [args for kw, args in instructions() if kw == keyword]
    assert found, f"the Dockerfile has no {keyword}"
    return found[-1]


def exec_form(args: str) -> list[str]:
    """A JSON-array (exec form) argument list; shell form would put /bin/sh in between."""
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), args
    return value


def healthcheck_command() -> list[str]:
    args = only("HEALTHCHECK")
    assert " CMD " in f" {args} ", args
    return exec_form(args.split("CMD", 1)[1].strip())


def exposed_port() -> int:
    return int(only("EXPOSE").split("/")[0])


def option(argv: list[str], name: str) -> str:
    assert name in argv, f"{name} missing from {argv}"
    return argv[argv.index(name) + 1]


def copies() -> list[tuple[list[str], str]]:
    """(sources, destination) of every COPY, flags such as --chown dropped."""
    out = []
    for keyword, args in instructions():
        if keyword == "COPY":
            parts = [p for p in args.split() if not p.startswith("--")]
            out.append((parts[:-1], parts[-1]))
    return out


def test_dockerfile_runs_the_leaderboard_as_a_non_root_user_under_tini():
    assert re.fullmatch(r"python:3\.\d+-slim(-\w+)?", only("FROM")), only("FROM")
    user = only("USER").split(":")[0]
    assert user not in ("root", "0")
    assert any(
        re.search(rf"useradd .*(--uid|-u) 1000 .*\b{user}$", args)
        for keyword, args in instructions()
        if keyword == "RUN"
    ), "USER is created with uid 1000 (what Hugging Face Docker Spaces run as)"
    keywords = [k for k, _ in instructions()]
    assert keywords.index("USER") < keywords.index("CMD"), "the server must not start as root"
    entry = exec_form(only("ENTRYPOINT"))
    assert Path(entry[0]).name == "tini" and entry[1:] == ["--"], entry
    cmd = exec_form(only("CMD"))
    assert cmd[:2] == ["voxeval", "leaderboard"], cmd
    assert option(cmd, "--host") == "0.0.0.0"  # reachable through the container's port mapping
    assert int(option(cmd, "--port")) == exposed_port() == 8501
    results_dest = [dest for sources, dest in copies() if sources == ["results/"]]
    assert results_dest and option(cmd, "--results-dir") == results_dest[0].rstrip("/")
    health = healthcheck_command()
    assert health[0] == "python" and f":{exposed_port()}/_stcore/health" in health[-1], health


def test_dockerfile_installs_only_the_leaderboard_extra_and_copies_what_exists():
    import tomllib

    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert {"streamlit", "pandas"} <= {re.split(r"[<>=\[ ]", d)[0] for d in extras["leaderboard"]}
    installs = [a for k, a in instructions() if k == "RUN" and "pip install" in a]
    assert len(installs) == 1 and "[leaderboard]" in installs[0], installs
    assert "torch" not in installs[0]
    ignore = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()]
    ignore = [line for line in ignore if line and not line.startswith("#")]
    assert ignore[0] == "*", "the build context is an allow-list"
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    sources = [s for group, _ in copies() for s in group]
    assert sources, "no COPY"
    for source in sources:
        assert (REPO / source).exists(), f"COPY {source}: not in the repository"
        assert source.rstrip("/").split("/")[0] in allowed, f".dockerignore drops {source}"


@pytest.fixture
def served_results(tmp_path, mock_model) -> Path:
    """A results folder holding one published demo-asr run."""
    mock_model.default = staticmethod(lambda item: Response(text="hello there"))
    _, run_dir = run_evaluation(
        RunConfig(model="mock", tasks=["demo-asr"], limit=3, output_dir=tmp_path / "runs")
    )
    publish_run(run_dir, tmp_path / "results")
    return tmp_path / "results"


def local_command(argv: list[str], results: Path, port: int) -> list[str]:
    """The Dockerfile's CMD with this venv's voxeval, `results`, `port`, and 127.0.0.1: the
    container's 0.0.0.0 would expose the test server to the network."""
    out = list(argv)
    out[0] = str(Path(sys.executable).with_name("voxeval"))
    for name, value in (("--results-dir", results), ("--port", port), ("--host", "127.0.0.1")):
        out[out.index(name) + 1] = str(value)
    return out


def healthcheck(port: int) -> int:
    """Exit status of the Dockerfile's HEALTHCHECK command against `port`."""
    argv = healthcheck_command()
    argv = [sys.executable, *argv[1:-1], argv[-1].replace(f":{exposed_port()}/", f":{port}/")]
    return subprocess.run(argv, capture_output=True, timeout=30).returncode


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen]]:
    """Processes a test starts, each in its own session; whatever is left is killed after."""
    procs: list[subprocess.Popen] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def stop_and_check(proc: subprocess.Popen, target: int, port: int, log: Path) -> None:
    """SIGTERM `target` (what docker stop does to PID 1): everything exits, the port closes."""
    os.kill(target, signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running {STOP_S} s after SIGTERM:\n{log.read_text()[-3000:]}")
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):  # nothing of its process group is left behind
        os.killpg(proc.pid, 0)
    assert not port_open(port), "something still serves on the port after SIGTERM"
    assert healthcheck(port) != 0


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_the_docker_command_serves_passes_its_healthcheck_and_stops_on_sigterm(
    served_results, tmp_path, started
):
    port = free_port()
    command = local_command(exec_form(only("CMD")), served_results, port)
    log = tmp_path / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=out, start_new_session=True)
    started.append(proc)
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, proc, log)
    with urllib.request.urlopen(url, timeout=10) as reply:
        assert reply.status == 200 and b"<noscript>" in reply.read()  # Streamlit's page
    assert healthcheck(port) == 0
    assert f"serving {served_results}" in log.read_text()
    stop_and_check(proc, proc.pid, port, log)


def pid_namespace_prefix() -> list[str] | None:
    """An `unshare` command line that runs a command as PID 1 of a new PID namespace, as a
    container does, or None where this machine does not allow one."""
    unshare = shutil.which("unshare")
    if not unshare:
        return None
    for extra in ([], ["--user", "--map-root-user"]):
        prefix = [unshare, *extra, "--pid", "--fork", "--kill-child"]
        probe = subprocess.run([*prefix, "sh", "-c", "test $$ = 1"], capture_output=True)
        if probe.returncode == 0:
            return prefix
    return None


def namespace_init(pid: int, name: str, timeout_s: float = 10) -> int:
    """The child of `unshare` (PID 1 in its namespace), once it runs the program `name`."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for child in children.read_text().split() if children.exists() else []:
            with contextlib.suppress(OSError):
                if Path(f"/proc/{child}/exe").resolve().name == name:
                    return int(child)
        time.sleep(0.05)
    raise AssertionError(f"process {pid} started no {name}")


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux PID namespaces")
@pytest.mark.parametrize("when", ["serving", "starting"])
def test_the_docker_entrypoint_as_pid_1_stops_on_sigterm(served_results, tmp_path, started, when):
    """As PID 1 a process gets only the signals it handles. Streamlit handles SIGTERM once it
    is up, but not during its seconds of imports (checked without tini: a SIGTERM then is
    ignored and docker stop waits for SIGKILL); tini forwards it at any time."""
    entry = exec_form(only("ENTRYPOINT"))
    if not Path(entry[0]).exists():
        pytest.skip(f"{entry[0]} is missing (apt-get install tini); the image installs it")
    prefix = pid_namespace_prefix()
    if prefix is None:
        pytest.skip("this machine allows no new PID namespace (unshare --pid)")
    port = free_port()
    command = [*prefix, *entry, *local_command(exec_form(only("CMD")), served_results, port)]
    log = tmp_path / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=out, start_new_session=True)
    started.append(proc)
    init = namespace_init(proc.pid, Path(entry[0]).name)  # PID 1 inside, as in the container
    if when == "serving":
        wait_healthy(f"http://127.0.0.1:{port}", proc, log)
        assert healthcheck(port) == 0
    stop_and_check(proc, init, port, log)


def front_matter(path: Path) -> dict:
    text = path.read_text()
    assert text.startswith("---\n"), "the Space README starts with YAML front matter"
    return yaml.safe_load(text.split("\n---\n", 1)[0][4:])


def test_space_front_matter_is_a_docker_space_on_the_dockerfiles_port():
    meta = front_matter(SPACE / "README.md")
    assert meta["sdk"] == "docker"
    assert meta["app_port"] == exposed_port()
    assert isinstance(meta["title"], str) and meta["title"]
    assert len(meta.get("short_description", "")) <= 60  # the Hub's limit


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_assembled_space_holds_everything_the_dockerfile_copies(tmp_path):
    space = tmp_path / "space"
    done = subprocess.run(
        ["bash", str(SPACE / "assemble.sh"), str(space)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert (space / "Dockerfile").read_bytes() == DOCKERFILE.read_bytes()
    assert front_matter(space / "README.md")["sdk"] == "docker"
    for sources, _ in copies():
        for source in sources:
            assert (space / source).exists(), f"the Space lacks {source}"
    assert list(space.glob("results/demo/*/*/run.json")), "the Space serves no results"
    assert not list(space.rglob("__pycache__")) and not (space / ".venv").exists()
    lfs = [
        line.split()[0]
        for line in (space / ".gitattributes").read_text().splitlines()
        if "filter=lfs" in line
    ]
    for path in space.rglob("*"):
        if path.is_file() and b"\0" in path.read_bytes()[:8000]:
            assert any(fnmatch.fnmatch(path.name, p) for p in lfs), f"{path.name}: binary, no LFS"


def test_published_demo_results_load_with_their_cards():
    from voxeval.leaderboard import data
    from voxeval.leaderboard.card import ModelCard

    rows = data.load_results(RESULTS, use_cache=False)
    assert rows["problem"].isna().all(), data.problems(rows)
    latest = data.select_latest(rows, "demo")
    assert set(DEMO_MODELS) <= set(latest["model_key"]), latest["model_key"].unique()
    for model in DEMO_MODELS:
        mine = latest[(latest["model_key"] == model) & (latest["task"] == "demo-asr")]
        raw = rows[(rows["path"] == mine["path"].iloc[0]) & (rows["metric"] == "wer")]
        assert len(raw) == 1 and 0 <= raw["value"].iloc[0] < 1, raw  # a fraction, not a %
        assert raw["n"].iloc[0] == 30  # the whole bundled demo set, no --limit
        card = ModelCard.model_validate_json((RESULTS / "cards" / f"{model}.json").read_text())
        assert card.licence and card.open_weights is not None and card.hardware
        assert mine["display_name"].iloc[0] == card.display_name
        assert mine["path"].iloc[0].startswith(f"demo/{model}/")
    assert data.select_latest(rows, "official").empty  # demo runs never reach the ranking


def test_published_results_hold_no_machine_paths_or_stray_files():
    files = [p for p in RESULTS.rglob("*") if p.is_file()]
    allowed = re.compile(r"(run\.json|card\.json|samples-[\w.-]+\.jsonl|judge-[\w.-]+\.jsonl)")
    for path in files:
        rel = path.relative_to(RESULTS)
        if rel.parts[0] in ("demo", "runs"):
            assert allowed.fullmatch(path.name), f"unexpected file {rel}"
        text = path.read_text(errors="replace")
        assert not re.search(r"(/home/|/root/|/tmp/|/work/|/Users/|[A-Z]:\\\\)", text), rel
        assert path.stat().st_size < 1_000_000, f"{rel} is large for a demo result"
