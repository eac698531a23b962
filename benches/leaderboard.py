"""Leaderboard load + aggregate time over 10,000 synthetic run files (valid run.json schema).

Writes N run folders (default 10,000: 200 models × 50 runs, 1–3 tasks each, with breakdowns)
into a temporary results folder, then times `load_results` + `select_latest` + `build_boards`
(CI-overlap significance; paired verdicts read samples files and are not part of this):
  cold   no index yet: every run.json is parsed and the parquet index written
  warm   index up to date (a fresh load, as a new app session does): the number the < 1 s
         target applies to
  fresh  the same in a new Python process (imports not timed, first parquet read is)
  touch  one run.json rewritten: the index re-parses that folder only
Warm is the best of --repeats loads (VM noise is one-sided); the others run once.

    .venv/bin/python benches/leaderboard.py [--runs 10000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # for tests.leaderboard_fixtures

from tests.leaderboard_fixtures import T0, TASKS, run_record, task_result, write_run  # noqa: E402
from voxeval.leaderboard import boards, data  # noqa: E402
from voxeval.leaderboard.index import index_path  # noqa: E402

TARGET_S = 1.0


def primary_value(task: str, rng: random.Random) -> float:
    """A plausible headline value: a rate or correlation, or a judge rating on its 1-10 scale
    (the results reader refuses a rating outside its rubric's scale)."""
    x = round(rng.uniform(0.05, 0.9), 4)
    return round(1 + 9 * x, 4) if task == "dialogue" else x


def generate(root: Path, n_runs: int, n_models: int = 200, seed: int = 0) -> int:
    """Write n_runs synthetic run folders; returns the bytes written."""
    rng = random.Random(seed)
    names = list(TASKS)
    total = 0
    for i in range(n_runs):
        model = {
            "name": "synthetic",
            "adapter": "SyntheticAdapter",
            "args": {"model": f"org/model-{i % n_models:04d}"},
        }
        chosen = rng.sample(names, rng.randint(1, 3))
        tasks = {t: task_result(t, primary_value(t, rng)) for t in chosen}
        when = T0 + timedelta(minutes=i)
        run = run_record(model, tasks, when, run_id=f"{when:%Y%m%dT%H%M%SZ}-{i:06d}")
        total += (write_run(root, run) / "run.json").stat().st_size
    return total


def load_and_aggregate(root: Path) -> tuple[float, int, int]:
    """Seconds for load + latest + board, and the board's shape."""
    start = time.perf_counter()
    rows = data.load_results(root)
    tidy = data.select_latest(rows)
    board = boards.build_boards(tidy)[-1]  # the all-tasks board: every model and task
    return time.perf_counter() - start, len(board.table), len(board.columns)


def best_of(root: Path, repeats: int) -> float:
    """Fastest of `repeats` fresh loads."""
    return min(load_and_aggregate(root)[0] for _ in range(repeats))


def fresh_process(root: Path) -> float:
    """Warm load + aggregate timed inside a new interpreter (its imports excluded)."""
    code = (
        "import sys, time; from pathlib import Path; "
        "from voxeval.leaderboard import data; "
        f"sys.path.insert(0, {str(REPO)!r}); "
        "from benches.leaderboard import load_and_aggregate; "
        f"print(load_and_aggregate(Path({str(root)!r}))[0])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Generate, then print cold, warm and one-file-changed times."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="voxeval-lb-bench-") as tmp:
        root = Path(tmp) / "results"
        start = time.perf_counter()
        size = generate(root, args.runs)
        print(
            f"generated {args.runs} run folders ({size / 1e6:.0f} MB of run.json) in "
            f"{time.perf_counter() - start:.1f} s"
        )
        cold, models, tasks = load_and_aggregate(root)
        print(
            f"cold  (parse all, write index): {cold:.3f} s -> board {models} models x {tasks} tasks"
        )
        print(f"index file: {index_path(root).stat().st_size / 1e6:.1f} MB")
        warm = best_of(root, args.repeats)
        print(
            f"warm  (index up to date):       {warm:.3f} s   target < {TARGET_S:.1f} s: "
            f"{'met' if warm < TARGET_S else 'MISSED'}"
        )
        print(f"fresh (new process, index ok):  {fresh_process(root):.3f} s")
        victim = next(root.glob("runs/*/*/run.json"))
        victim.write_text(json.dumps(json.loads(victim.read_text())))
        os.utime(victim, ns=(time.time_ns(), time.time_ns()))
        touched = load_and_aggregate(root)[0]
        print(f"touch (1 run.json changed):     {touched:.3f} s")
        print(f"cpu cores: {os.cpu_count()}")


if __name__ == "__main__":
    main()
