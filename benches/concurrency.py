"""Hosted-adapter throughput: 1,000 chat requests to a local server with 100 ms latency.

The server (benches/lean_server.py: asyncio streams, a canned reply) runs in its own
process and does almost no work per request, so the client's own cost is what is measured.
Efficiency = ideal time / actual time, where ideal = requests × latency / concurrency.
Printed for voxeval's `openai` adapter (aiohttp, one event loop) and, from the same run,
for the official openai client (AsyncOpenAI under a semaphore). Target for voxeval: >= 0.90.

    .venv/bin/python benches/concurrency.py [--requests 1000] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("VOXEVAL_PLUGINS", "")


def start_server(latency_s: float) -> tuple[subprocess.Popen, str]:
    """The fake server in a child process, and its base URL."""
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "benches" / "lean_server.py"), "--latency", str(latency_s)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    base_url = proc.stdout.readline().strip()
    if not base_url.startswith("http"):
        proc.kill()
        raise SystemExit("the fake server did not start")
    return proc, base_url


def time_voxeval(base_url: str, requests: int, concurrency: int) -> float:
    """One predict() call over all inputs, as the runner would make with a large batch."""
    from voxeval.adapter import ADAPTERS, TaskContext
    from voxeval.types import ModelInput

    args = {"model": "bench", "base_url": base_url, "concurrency": concurrency}
    adapter = ADAPTERS.get("openai").from_args({**args, "batch_size": requests})
    adapter.load()
    inputs = [ModelInput(f"s{i}", None, None, text=f"hello {i}") for i in range(requests)]
    context = TaskContext(name="bench", kind="dialogue")
    start = time.perf_counter()
    responses = adapter.predict(inputs, context)
    elapsed = time.perf_counter() - start
    failed = sum(1 for r in responses if r.error)
    if failed:
        raise SystemExit(f"voxeval: {failed} requests failed")
    return elapsed


def time_openai_client(base_url: str, requests: int, concurrency: int) -> float:
    """The official client: AsyncOpenAI, one shared client, a semaphore of `concurrency`."""
    from openai import AsyncOpenAI

    async def main() -> float:
        # Default connection pool (larger than the semaphore); retries off, as in a clean run.
        client = AsyncOpenAI(base_url=base_url, api_key="unused", max_retries=0)
        gate = asyncio.Semaphore(concurrency)

        async def one(i: int) -> None:
            async with gate:
                await client.chat.completions.create(
                    model="bench", messages=[{"role": "user", "content": f"hello {i}"}]
                )

        start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(requests)))
        elapsed = time.perf_counter() - start
        await client.close()
        return elapsed

    return asyncio.run(main())


def main() -> None:
    """Time both clients against the same server and print their efficiencies."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    ideal = args.requests * args.latency / args.concurrency
    proc, base_url = start_server(args.latency)
    try:
        results = {"voxeval openai adapter (aiohttp)": [], "official openai client (async)": []}
        for _ in range(args.repeats):
            for label, fn in zip(results, (time_voxeval, time_openai_client), strict=True):
                results[label].append(fn(base_url, args.requests, args.concurrency))
    finally:
        proc.kill()
    print(
        f"{args.requests} requests, {args.latency * 1000:.0f} ms latency, concurrency "
        f"{args.concurrency}: ideal {ideal:.3f} s (best of {args.repeats})"
    )
    for label, times in results.items():
        best = min(times)
        print(f"  {label:<36} {best:.3f} s  efficiency {ideal / best:.2f}")
    print("  target for voxeval: efficiency >= 0.90")


if __name__ == "__main__":
    main()
