"""Paid work is never lost or paid twice: a hosted run killed mid-batch re-pays at most the
requests in flight; two processes on one run never both call the model; a finished run is
not called again. Real `voxeval run` processes against a real local HTTP server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.fake_openai import FakeOpenAI
from tests.test_results_reader import checksums

pytestmark = pytest.mark.slow
VOXEVAL = Path(sys.executable).parent / "voxeval"
SAMPLES = "samples-demo-asr.jsonl"
N = 30  # bundled demo clips


def env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "VOXEVAL_PLUGINS": ""}


def argv(server: FakeOpenAI, out: Path, concurrency: int, *extra: str) -> list[str]:
    args = f"model=whisper-1,endpoint=transcriptions,base_url={server.base_url}"
    return [
        str(VOXEVAL),
        "run",
        *("--model", "openai", "--model-args", f"{args},concurrency={concurrency}"),
        *("--tasks", "demo-asr", "--output-dir", str(out), *extra),
    ]


def rows(out: Path) -> list[dict]:
    """Every whole line of every samples file under `out`."""
    found = []
    for path in out.rglob(SAMPLES):
        data = path.read_bytes()
        found += [json.loads(x) for x in data[: data.rfind(b"\n") + 1].splitlines()]
    return found


def kill_when(proc: subprocess.Popen, out: Path, records: int) -> None:
    deadline = time.monotonic() + 60
    while len(rows(out)) < records:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else proc.returncode
        assert time.monotonic() < deadline, "no progress within 60 s"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)


def test_sigkill_mid_batch_re_pays_at_most_the_requests_in_flight(tmp_path):
    concurrency, out = 4, tmp_path / "runs"
    with FakeOpenAI(reply=lambda body: "hello", latency_s=1.0) as server:
        first = subprocess.Popen(argv(server, out, concurrency), env=env(), stderr=subprocess.PIPE)
        kill_when(first, out, records=2 * concurrency)  # default batch_size is 256 > 30 clips
        saved_at_kill = {r["sample_id"] for r in rows(out)}
        sent_at_kill = len(server.seen)
        done = subprocess.run(argv(server, out, concurrency), env=env(), capture_output=True)
        assert done.returncode == 0, done.stderr.decode()
    assert 2 * concurrency <= len(saved_at_kill) < N  # answers were saved mid-batch
    paid_twice = len(server.seen) - N
    assert 0 <= paid_twice <= concurrency, (paid_twice, sent_at_kill)
    final = rows(out)
    assert len(final) == N and Counter(r["sample_id"] for r in final).most_common(1)[0][1] == 1
    assert all(r["error"] is None for r in final)


@pytest.mark.parametrize("wait", [False, True])
def test_two_processes_on_one_run_never_both_call_the_model(tmp_path, wait):
    out = tmp_path / "runs"
    extra = ("--wait",) if wait else ()
    with FakeOpenAI(reply=lambda body: "hello", latency_s=0.2) as server:
        procs = [
            subprocess.Popen(argv(server, out, 4, *extra), env=env(), stderr=subprocess.PIPE)
            for _ in range(2)
        ]
        results = [(p.wait(120), p.stderr.read().decode()) for p in procs]
    assert len(server.seen) == N  # every clip paid for once
    final = rows(out)
    assert len(final) == N and len({r["sample_id"] for r in final}) == N
    assert len(list(out.glob("openai/*/run.json"))) == 1
    codes = sorted(code for code, _ in results)
    if wait:
        assert codes == [0, 0]
        assert any("already finished" in err for _, err in results)
    else:
        assert codes == [0, 1], results
        (refused,) = [err for code, err in results if code == 1]
        assert "is in use by pid" in refused and "--wait" in refused


def test_re_running_a_finished_run_calls_nothing_and_changes_nothing(tmp_path):
    out = tmp_path / "runs"
    with FakeOpenAI(reply=lambda body: "hello") as server:
        first = subprocess.run(argv(server, out, 4), env=env(), capture_output=True, text=True)
        assert first.returncode == 0, first.stderr
        before = checksums(out)
        again = subprocess.run(argv(server, out, 8), env=env(), capture_output=True, text=True)
        assert again.returncode == 0, again.stderr
        assert len(server.seen) == N  # concurrency is a speed argument: same run, no calls
        assert "already finished" in again.stderr and "wer" in again.stdout
        assert checksums(out) == before
        fresh = subprocess.run(
            argv(server, out, 4, "--rerun"), env=env(), capture_output=True, text=True
        )
        assert fresh.returncode == 0, fresh.stderr
        assert len(server.seen) == 2 * N and len(list(out.glob("openai/*/run.json"))) == 2


@pytest.mark.parametrize("leak", ["url-password", "echoed-key"])
def test_passwords_and_echoed_keys_never_reach_results_or_output(tmp_path, leak):
    out, secret = tmp_path / "runs", "s3cret-0123456789abcdef"
    with FakeOpenAI(reply=lambda body: "hello") as server:
        url, run_env = server.base_url, env()
        if leak == "url-password":
            url = url.replace("http://", f"http://alice:{secret}@")
        else:  # a 401 whose body repeats the key, as real providers' do
            server.faults.extend(["echo-key"] * 5)
            run_env["MY_LLM_CRED"] = secret
        args = f"model=m,endpoint=transcriptions,base_url={url},api_key_env=MY_LLM_CRED"
        command = [str(VOXEVAL), "run", "--model", "openai", "--model-args", args]
        command += ["--tasks", "demo-asr", "--limit", "5", "--output-dir", str(out)]
        command += ["--max-error-rate", "1"]
        done = subprocess.run(command, env=run_env, capture_output=True, text=True)
        sent = [s.headers.get("Authorization", "") for s in server.seen]
    assert done.returncode == 0, done.stderr
    assert all(sent), "the credentials were sent to the server"
    texts = [done.stdout, done.stderr] + [p.read_text() for p in out.rglob("*") if p.is_file()]
    assert not [t for t in texts if secret in t]
    run = json.loads(next(out.rglob("run.json")).read_text())
    if leak == "url-password":
        assert run["model"]["args"]["base_url"].startswith("http://***redacted***@127.0.0.1")
        assert run["tasks"]["demo-asr"]["n_errors"] == 0
    else:
        errors = [r["error"]["message"] for r in rows(out)]
        assert len(errors) == 5 and all("Incorrect API key provided: ***" in e for e in errors)
