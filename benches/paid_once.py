"""Paid work is never paid twice: what a crash, a second process or a re-run costs.

1. SIGKILL of `voxeval run --model openai` against a local server with 1 s latency, once a
   third of the samples are saved, then the same command again: requests sent in all
   minus samples = answers paid twice (target: at most the concurrency).
2. Two `voxeval run` processes on one run at the same time (with and without --wait):
   requests, rows in the samples file, duplicate rows (target: 0 paid twice, 0 duplicates).
3. The README's faster-whisper demo run, then the same command again: model calls of the
   second (none: it does not load the model) and its wall time as a share of the first's
   (target: <= 5%).

    .venv/bin/python benches/paid_once.py [--samples 300] [--concurrency 4 64]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # for tests.fake_openai (a real HTTP server on 127.0.0.1)

from tests.fake_openai import FakeOpenAI  # noqa: E402

VOXEVAL = Path(sys.executable).parent / "voxeval"
DEMO = REPO / "tasks" / "demo_asr" / "data"
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "VOXEVAL_PLUGINS": ""}


def demo_copies(root: Path, n: int) -> Path:
    """A demo-asr data folder of n samples: the 30 bundled clips, repeated under new ids."""
    entries = [json.loads(x) for x in (DEMO / "manifest.jsonl").read_text().splitlines()]
    root.mkdir()
    (root / "audio").symlink_to(DEMO / "audio")
    rows = [{**entries[i % 30], "id": f"clip-{i:04d}"} for i in range(n)]
    (root / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


def command(server: FakeOpenAI, data: Path, out: Path, concurrency: int, *extra: str) -> list:
    args = f"model=whisper-1,endpoint=transcriptions,base_url={server.base_url}"
    return [
        str(VOXEVAL),
        "run",
        *("--model", "openai", "--model-args", f"{args},concurrency={concurrency}"),
        *("--tasks", "demo-asr", "--data-dir", str(data), "--output-dir", str(out), *extra),
    ]


def saved_rows(out: Path) -> list[str]:
    ids = []
    for path in out.rglob("samples-demo-asr.jsonl"):
        data = path.read_bytes()
        ids += [json.loads(x)["sample_id"] for x in data[: data.rfind(b"\n") + 1].splitlines()]
    return ids


def killed_and_resumed(n: int, concurrency: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI(lambda b: "hi", latency_s=1.0) as server:
        data, out = demo_copies(Path(tmp) / "data", n), Path(tmp) / "runs"
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        proc = subprocess.Popen(command(server, data, out, concurrency), env=ENV, **quiet)
        while len(saved_rows(out)) < n // 3:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        at_kill = len(saved_rows(out))
        subprocess.run(command(server, data, out, concurrency), env=ENV, check=True, **quiet)
        rows = saved_rows(out)
        return {
            "saved at kill": at_kill,
            "requests": len(server.seen),
            "paid twice": len(server.seen) - n,
            "rows": len(rows),
            "duplicate rows": len(rows) - len(set(rows)),
        }


def two_processes(n: int, wait: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI(lambda b: "hi", latency_s=0.2) as server:
        data, out = demo_copies(Path(tmp) / "data", n), Path(tmp) / "runs"
        extra = ("--wait",) if wait else ()
        procs = [
            subprocess.Popen(
                command(server, data, out, 16, *extra),
                env=ENV,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(2)
        ]
        codes = sorted(p.wait() for p in procs)
        rows = saved_rows(out)
        return {
            "exit codes": codes,
            "requests": len(server.seen),
            "paid twice": len(server.seen) - n,
            "rows": len(rows),
            "duplicate rows": sum(c - 1 for c in Counter(rows).values()),
        }


def finished_rerun() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        argv = [str(VOXEVAL), "run", "--model", "faster-whisper", "--tasks", "demo-asr"]
        argv += ["--output-dir", tmp]
        start = time.perf_counter()
        subprocess.run(argv, env=ENV, check=True, capture_output=True)
        first = time.perf_counter() - start
        files = {p: p.read_bytes() for p in Path(tmp).rglob("*") if p.is_file()}
        start = time.perf_counter()
        again = subprocess.run(argv, env=ENV, check=True, capture_output=True, text=True)
        second = time.perf_counter() - start
        unchanged = files == {p: p.read_bytes() for p in Path(tmp).rglob("*") if p.is_file()}
        return {
            "first run (s)": round(first, 2),
            "re-run (s)": round(second, 2),
            "share": round(second / first, 3),
            "said already finished": "already finished" in again.stderr,
            "files unchanged": unchanged,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[4, 64])
    args = parser.parse_args()
    for concurrency in args.concurrency:
        result = killed_and_resumed(args.samples, concurrency)
        print(f"SIGKILL + resume, concurrency {concurrency}: {result}", flush=True)
    for wait in (False, True):
        result = two_processes(args.samples, wait)
        print(f"two processes on one run{' (--wait)' if wait else ''}: {result}", flush=True)
    print(f"finished faster-whisper demo run, same command again: {finished_rerun()}")


if __name__ == "__main__":
    main()
