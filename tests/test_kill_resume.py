"""Crash safety: SIGKILL a real `voxeval run` mid-task, run it again, and prove that it resumed.

The example plugin's `example-counter` adapter appends every model call to a log file, so the
log is a true count of model calls across both processes: a sample that had a result before
the kill must never reach the model again.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DEMO_DATA
from tests.plugin_site import PLUGIN_SRC, VOXEVAL, pip_install, plugin_env
from voxeval.checkpoint import SamplesFile

pytestmark = pytest.mark.slow

DEMO_MANIFEST = DEMO_DATA / "manifest.jsonl"
MODEL = "example-counter"
SAMPLES = "samples-demo-asr.jsonl"
DELAY_S = "0.15"  # 30 clips: about 4.5 s of "model" time per full run


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for `voxeval` subprocesses that loads the installed example plugin."""
    assert VOXEVAL.is_file(), f"no voxeval script next to {sys.executable}"
    work = tmp_path_factory.mktemp("example-plugin")
    site = pip_install(PLUGIN_SRC, work / "site", work)
    return plugin_env(site)


def run_args(out_dir: Path, log: Path, delay_s: str = DELAY_S, *extra: str) -> list[str]:
    return [
        str(VOXEVAL),
        "run",
        *("--model", MODEL, "--model-args", f"calls_log={log},delay_s={delay_s}"),
        *("--tasks", "demo-asr", "--output-dir", str(out_dir)),
        *extra,
    ]


def run_to_end(args: list[str], env: dict[str, str]) -> tuple[dict[str, Any], Path]:
    """Run voxeval to completion; return the run.json it reports and its folder."""
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    out_dir = Path(args[args.index("--output-dir") + 1])
    # The run just written is the one with the newest run.json (written last, atomically).
    run_dir = max(run_dirs(out_dir).values(), key=lambda d: (d / "run.json").stat().st_mtime_ns)
    return read_run(run_dir), run_dir


def read_run(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "run.json").read_text())


def run_dirs(out_dir: Path) -> dict[str, Path]:
    """run_id → folder for every run of the model under `out_dir`."""
    return {p.parent.name: p.parent for p in (out_dir / MODEL).glob("*/run.json")}


def complete_records(path: Path) -> list[dict[str, Any]]:
    """Records of the whole lines of a samples file (a torn last line is ignored; no truncation)."""
    if not path.exists():
        return []
    data = path.read_bytes()
    whole = data[: data.rfind(b"\n") + 1]
    return [json.loads(line) for line in whole.splitlines()]


def start_and_kill(args: list[str], env: dict[str, str], out_dir: Path, at_least: int) -> Path:
    """Start a run, SIGKILL it once its samples file has `at_least` records; return its folder."""
    log = out_dir.parent / f"stderr-{time.monotonic_ns()}.txt"
    with log.open("w") as stderr:
        proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        deadline = time.monotonic() + 30
        while True:
            files = list((out_dir / MODEL).glob(f"*/{SAMPLES}"))
            if files and len(complete_records(files[0])) >= at_least:
                break
            assert proc.poll() is None, f"run ended before the kill: {log.read_text()}"
            assert time.monotonic() < deadline, "no progress within 30 s"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    return files[0].parent


def demo_ids() -> list[str]:
    lines = DEMO_MANIFEST.read_text().splitlines()
    return [json.loads(line)["id"] for line in lines if line.strip()]


# -- tests -------------------------------------------------------------------------------------


def test_sigkill_then_resume_calls_the_model_only_for_unfinished_samples(
    env: dict[str, str], tmp_path: Path
) -> None:
    out_dir, calls = tmp_path / "runs", tmp_path / "calls.log"
    args = run_args(out_dir, calls)
    ids = demo_ids()
    assert len(ids) == 30

    run_dir = start_and_kill(args, env, out_dir, at_least=10)
    killed = read_run(run_dir)
    assert killed["status"] == "started"
    assert killed["resumed"] == 0
    done_before = {r["sample_id"] for r in complete_records(run_dir / SAMPLES)}
    assert 10 <= len(done_before) < 30
    calls_before = Counter(calls.read_text().splitlines())
    assert all(calls_before[sid] == 1 for sid in done_before)

    resumed, resumed_dir = run_to_end(args, env)
    assert resumed_dir == run_dir
    assert list(run_dirs(out_dir)) == [killed["run_id"]]
    assert resumed["run_id"] == killed["run_id"]
    assert resumed["status"] == "success"
    assert resumed["resumed"] == 1
    task = resumed["tasks"]["demo-asr"]
    assert task["dataset"]["n"] == 30
    assert (task["n_samples"], task["n_scored"], task["n_errors"]) == (30, 30, 0)

    # Latest-record view: every sample once, none failed; and the raw file has no repeats
    # (a torn last line from the kill was cut off, not duplicated).
    latest = SamplesFile(run_dir / SAMPLES).read()
    assert sorted(latest) == sorted(ids)
    assert all(not rec.get("error") and rec["prediction"]["text"] for rec in latest.values())
    raw = Counter(r["sample_id"] for r in complete_records(run_dir / SAMPLES))
    assert raw == Counter(ids)

    # The model-call log across both processes.
    calls_all = Counter(calls.read_text().splitlines())
    assert set(calls_all) == set(ids)
    repeated = {sid: n for sid, n in calls_all.items() if n > 1}
    assert not set(repeated) & done_before, f"finished samples called again: {repeated}"
    # At most the one sample that was in flight at the kill (batch_size 1) is called twice.
    assert sum(n - 1 for n in calls_all.values()) <= 1, repeated

    # An uninterrupted run of the same configuration scores exactly the same.
    fresh, _ = run_to_end(run_args(tmp_path / "fresh", calls), env)
    assert fresh["status"] == "success" and fresh["resumed"] == 0
    fresh_task = fresh["tasks"]["demo-asr"]
    for name in ("wer", "cer"):
        got, want = task["metrics"][name], fresh_task["metrics"][name]
        assert (got["value"], got["ci_low"], got["ci_high"], got["n"]) == (
            want["value"],
            want["ci_low"],
            want["ci_high"],
            want["n"],
        )
        assert got["ci_low"] is not None
    assert task["metrics"] == fresh_task["metrics"]
    assert task["breakdowns"] == fresh_task["breakdowns"]


def test_changed_args_or_limit_start_a_new_run_instead_of_resuming(
    env: dict[str, str], tmp_path: Path
) -> None:
    out_dir, calls = tmp_path / "runs", tmp_path / "calls.log"
    base = run_args(out_dir, calls)
    unfinished_dir = start_and_kill(base, env, out_dir, at_least=1)
    unfinished = read_run(unfinished_dir)
    assert unfinished["status"] == "started"
    unfinished_samples = (unfinished_dir / SAMPLES).read_bytes()

    other_args, other_dir = run_to_end(run_args(out_dir, calls, "0.1"), env)
    limited, limited_dir = run_to_end(run_args(out_dir, calls, DELAY_S, "--limit", "2"), env)

    run_ids = {unfinished["run_id"], other_args["run_id"], limited["run_id"]}
    assert len(run_ids) == 3
    assert set(run_dirs(out_dir)) == run_ids
    assert len({unfinished_dir, other_dir, limited_dir}) == 3
    for run in (other_args, limited):
        assert run["status"] == "success" and run["resumed"] == 0
    assert other_args["model"]["args"]["delay_s"] == 0.1
    assert other_args["tasks"]["demo-asr"]["dataset"]["n"] == 30
    assert limited["limit"] == 2
    assert limited["tasks"]["demo-asr"]["dataset"]["n"] == 2
    assert len(complete_records(limited_dir / SAMPLES)) == 2

    # The unfinished run was left alone, and the original command still resumes it.
    assert read_run(unfinished_dir)["status"] == "started"
    assert (unfinished_dir / SAMPLES).read_bytes() == unfinished_samples
    resumed, resumed_dir = run_to_end(base, env)
    assert resumed_dir == unfinished_dir
    assert resumed["run_id"] == unfinished["run_id"]
    assert resumed["resumed"] == 1 and resumed["status"] == "success"
    assert set(run_dirs(out_dir)) == run_ids


def test_rerun_after_success_calls_nothing_unless_asked(
    env: dict[str, str], tmp_path: Path
) -> None:
    out_dir, calls = tmp_path / "runs", tmp_path / "calls.log"
    args = run_args(out_dir, calls, DELAY_S, "--limit", "3")

    first, first_dir = run_to_end(args, env)
    assert first["status"] == "success"
    first_files = {p.name: p.read_bytes() for p in first_dir.iterdir()}

    # The same command again: the finished run is reported, and the model is not called.
    again = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    assert "already finished" in again.stderr and str(first_dir) in again.stderr
    assert {p.name: p.read_bytes() for p in first_dir.iterdir()} == first_files
    assert Counter(calls.read_text().splitlines()) == Counter(demo_ids()[:3])

    # --rerun asks for a fresh run on purpose: a new folder, every sample called again.
    second, second_dir = run_to_end([*args, "--rerun"], env)
    assert second["status"] == "success"
    assert second["run_id"] != first["run_id"] and second_dir != first_dir
    assert second["resumed"] == 0
    assert set(run_dirs(out_dir)) == {first["run_id"], second["run_id"]}
    assert {p.name: p.read_bytes() for p in first_dir.iterdir()} == first_files
    assert len(complete_records(second_dir / SAMPLES)) == 3
    assert Counter(calls.read_text().splitlines()) == Counter({sid: 2 for sid in demo_ids()[:3]})
    assert second["tasks"]["demo-asr"]["metrics"] == first["tasks"]["demo-asr"]["metrics"]
