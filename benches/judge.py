"""Judge bench: throughput at concurrency 64, and what a SIGKILL in the middle of a pass costs.

1. run_judge over 1,000 items against benches/lean_server.py (100 ms latency, its own
   process) at concurrency 64, each pass with an empty cache: wall time, ideal time
   (items × latency / concurrency) and efficiency = ideal / wall (target >= 0.85). The
   openai adapter alone (the same 1,000 requests, no judge, no cache) is timed beside it, so
   the judge's own share of the cost shows.
2. The same pass in a child process, SIGKILLed once the server has written half of the
   replies, then run again in a new process with the same VOXEVAL_CACHE_DIR. The server
   logs each request's item identity, so items asked twice are counted. The judge commits
   every reply as it arrives, so only requests it had no committed reply for at the kill are
   asked again: those in flight (one per worker, at most the concurrency: unanswered, or
   answered but not yet read) and at most MAX_UNSAVED replies still waiting for the writer.
3. What one commit costs in the judge cache's SQLite modes (why the cache is WAL).

    .venv/bin/python benches/judge.py [--items 1000] [--concurrency 64] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import closing
from pathlib import Path

os.environ.setdefault("VOXEVAL_PLUGINS", "")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from lean_server import spawn

REPLY = "Clear and kind. Rating: [[7]]"
CACHE_FILE = "judge-cache.sqlite"


def items(n: int) -> list[dict[str, str]]:
    """n distinct judge items for the SD-Eval emotion rubric."""
    return [
        {"statement": f"statement {i}", "label": "sad", "response": f"reply number {i}"}
        for i in range(n)
    ]


def judge_pass(base_url: str, n: int, concurrency: int) -> dict[str, int]:
    """One run_judge pass over n items, with the cache $VOXEVAL_CACHE_DIR names."""
    from voxeval.judge import JudgeConfig, run_judge

    config = JudgeConfig(
        "openai", {"model": "bench", "base_url": base_url, "concurrency": concurrency}
    )
    outcome = run_judge("sd-eval-emotion", items(n), config)
    rated = sum(s is not None for s in outcome.scores)
    return {"calls": outcome.calls, "cache_hits": outcome.cache_hits, "rated": rated}


def timed_judge(base_url: str, n: int, concurrency: int) -> float:
    """Wall time of one judge pass with a fresh, empty cache."""
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["VOXEVAL_CACHE_DIR"] = tmp
        start = time.perf_counter()
        done = judge_pass(base_url, n, concurrency)
        elapsed = time.perf_counter() - start
    if done["calls"] != n or done["rated"] != n:
        raise SystemExit(f"judge pass incomplete: {done}")
    return elapsed


def timed_adapter(base_url: str, n: int, concurrency: int) -> float:
    """Wall time of the same requests through the openai adapter alone."""
    from voxeval.adapter import ADAPTERS, TaskContext
    from voxeval.types import ModelInput

    args = {"model": "bench", "base_url": base_url, "concurrency": concurrency}
    adapter = ADAPTERS.get("openai").from_args(args)
    adapter.load()
    inputs = [ModelInput(f"s{i}", None, None, text=f"hello {i}") for i in range(n)]
    start = time.perf_counter()
    responses = adapter.predict(inputs, TaskContext(name="bench", kind="dialogue"))
    elapsed = time.perf_counter() - start
    if any(r.error for r in responses):
        raise SystemExit("adapter: some requests failed")
    return elapsed


def read_log(path: Path) -> list[tuple[str, str, float]]:
    """(event, item, monotonic time) per whole line of the server's log."""
    data = path.read_text()
    lines = data[: data.rfind("\n") + 1].splitlines()
    return [(e, item, float(t)) for e, item, t in (line.split() for line in lines)]


def replies_written(log: Path) -> int:
    """How many replies the server has written so far (cheap enough to poll)."""
    return log.read_bytes().count(b"rep ") if log.exists() else 0


def cached_rows(cache: Path) -> int:
    """Replies committed to the judge cache (what a new process can read)."""
    with closing(sqlite3.connect(cache / CACHE_FILE)) as db:
        return db.execute("SELECT COUNT(*) FROM replies").fetchone()[0]


def child(base_url: str, n: int, concurrency: int, cache: Path) -> subprocess.Popen:
    """A judge pass in its own process (this file, --child)."""
    argv = [sys.executable, __file__, "--child", base_url, "--items", str(n)]
    argv += ["--concurrency", str(concurrency)]
    env = {**os.environ, "VOXEVAL_CACHE_DIR": str(cache)}
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, text=True)


def killed_and_resumed(n: int, concurrency: int, latency: float) -> dict[str, float]:
    """SIGKILL a judge pass once half the replies are written; resume; count repeats."""
    with tempfile.TemporaryDirectory() as tmp:
        log, cache = Path(tmp) / "server.log", Path(tmp) / "cache"
        server, base_url = spawn(latency, REPLY, log)
        try:
            with child(base_url, n, concurrency, cache) as proc:
                while replies_written(log) < n // 2:
                    if proc.poll() is not None:
                        raise SystemExit("the judge pass ended before it could be killed")
                    time.sleep(0.005)
                killed_at = time.monotonic()  # CLOCK_MONOTONIC: comparable with the server's
                os.kill(proc.pid, signal.SIGKILL)
            at_kill = cached_rows(cache)
            resumed = child(base_url, n, concurrency, cache)
            done = json.loads(resumed.communicate()[0])
        finally:
            server.kill()
            server.wait()
        events = read_log(log)
    asked = Counter(item for e, item, _ in events if e == "req")
    answered_before = {item for e, item, t in events if e == "rep" and t < killed_at}
    repeated = [item for item, count in asked.items() if count > 1]
    lost = sum(item in answered_before for item in repeated)
    return {
        "replies the server had written at the kill": len(answered_before),
        "replies in the judge cache after the kill": at_kill,
        "resumed pass: served from the cache": done["cache_hits"],
        "resumed pass: calls": done["calls"],
        "**items asked twice**": len(repeated),
        "&nbsp; not answered by the server at the kill": len(repeated) - lost,
        "&nbsp; answered, the reply not yet read or committed": lost,
        "items rated in the end": done["rated"],
    }


def commit_cost(commits: int = 100) -> dict[str, float]:
    """Milliseconds per single-reply commit in each SQLite journal/synchronous mode."""
    costs = {}
    for journal, sync in (("DELETE", "FULL"), ("WAL", "FULL"), ("WAL", "NORMAL")):
        with tempfile.TemporaryDirectory() as tmp:
            db = sqlite3.connect(Path(tmp) / CACHE_FILE)
            db.execute(f"PRAGMA journal_mode={journal}")
            db.execute(f"PRAGMA synchronous={sync}")
            db.execute("CREATE TABLE replies (key TEXT PRIMARY KEY, reply TEXT)")
            db.commit()
            start = time.perf_counter()
            for i in range(commits):
                db.execute("INSERT INTO replies VALUES (?, ?)", (f"key {i}", REPLY))
                db.commit()
            costs[f"{journal.lower()}, synchronous={sync.lower()}"] = (
                (time.perf_counter() - start) / commits * 1000
            )
            db.close()
    return costs


def throughput(args: argparse.Namespace) -> dict[str, list[float]]:
    """Wall times of judge passes and adapter-only passes, taken in turn (shared load)."""
    server, base_url = spawn(args.latency, REPLY)
    walls: dict[str, list[float]] = {"run_judge (empty cache)": [], "openai adapter alone": []}
    try:
        import voxeval.judge  # noqa: F401 (imported before the clock, as in a real run)

        timed_adapter(base_url, 64, args.concurrency)  # warm-up: imports, first connections
        for _ in range(args.repeats):
            for label, timed in zip(walls, (timed_judge, timed_adapter), strict=True):
                walls[label].append(timed(base_url, args.items, args.concurrency))
    finally:
        server.kill()
        server.wait()
    return walls


def report(args: argparse.Namespace) -> None:
    """Run the three parts and print them as markdown tables."""
    ideal = args.items * args.latency / args.concurrency
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"\n{args.items} items, {args.latency * 1000:.0f} ms server, concurrency "
        f"{args.concurrency}: ideal {ideal:.3f} s; {os.cpu_count()} CPUs, load {load}\n"
    )
    print("| what | wall per pass (s) | efficiency, median | efficiency, best |")
    print("|---|---|---|---|")
    for label, times in throughput(args).items():
        walls = ", ".join(f"{t:.3f}" for t in times)
        median, best = ideal / statistics.median(times), ideal / min(times)
        print(f"| {label} | {walls} | {median:.2f} | {best:.2f} |")
    print("\ntarget: run_judge efficiency >= 0.85\n")
    print("SIGKILL once the server had written half the replies, then the same pass again:\n")
    print("| count | value |\n|---|---|")
    for label, value in killed_and_resumed(args.items, args.concurrency, args.latency).items():
        print(f"| {label} | {value} |")
    from voxeval.judge_cache import MAX_UNSAVED

    bound = args.concurrency + MAX_UNSAVED
    print(
        f"\nbound: items asked twice <= concurrency ({args.concurrency}) + MAX_UNSAVED "
        f"({MAX_UNSAVED}) = {bound}\n"
    )
    print("| one reply per commit, SQLite mode | ms per commit |\n|---|---|")
    for mode, ms in commit_cost().items():
        print(f"| {mode} | {ms:.3f} |")


def main() -> None:
    """Parse arguments: the report, or one judge pass (--child, used by part 2)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--child", metavar="BASE_URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(judge_pass(args.child, args.items, args.concurrency)))
    else:
        report(args)


if __name__ == "__main__":
    main()
