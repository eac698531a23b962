"""A bigger synthetic results folder (default 40 models × 12 tasks) for timing the leaderboard.

Built from the fixture helpers: each of the 12 tasks is a renamed copy of one of the five
fixture task shapes (ASR, classification, regression, dialogue), so units and directions are
realistic. Every seventh model misses a few tasks (listed unranked), and CIs come from
varied sample counts so some differences are significant and some are not. No samples
files: significance falls back to CI overlap, as for runs that share no samples.
"""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

from tests.leaderboard_fixtures import T0, run_record, task_result, write_run

SHAPES = ("asr-clean", "asr-far", "emotion-cls", "emotion-ccc", "dialogue")
BOARD_OF_SHAPE = {
    "asr-clean": "asr",
    "asr-far": "asr",
    "emotion-cls": "speech-emotion",
    "emotion-ccc": "emotion-dimensions",
    "dialogue": "spoken-dialogue",
}
# Primary value range per shape (fractions for rates, rating for judge); the fixture scales
# breakdown groups up to ×1.4 and the reader refuses values outside a metric's range.
RANGES = {
    "asr-clean": (0.03, 0.3),
    "asr-far": (0.1, 0.6),
    "emotion-cls": (0.3, 0.65),  # breakdown groups reach ×1.4 of it; must stay ≤ 1
    "emotion-ccc": (0.1, 0.8),
    "dialogue": (3.0, 8.0),
}


def big_tasks(n_tasks: int = 12) -> dict[str, str]:
    """Task name → fixture shape it copies, e.g. "asr-clean-2" → "asr-clean"."""
    return {
        f"{SHAPES[i % len(SHAPES)]}-{i // len(SHAPES)}": SHAPES[i % len(SHAPES)]
        for i in range(n_tasks)
    }


def big_boards(n_tasks: int = 12) -> dict[str, str]:
    """The `declared` mapping (task → board) for `build_big_results`."""
    return {name: BOARD_OF_SHAPE[shape] for name, shape in big_tasks(n_tasks).items()}


def _result(name: str, shape: str, rng: random.Random) -> dict:
    low, high = RANGES[shape]
    result = task_result(shape, round(rng.uniform(low, high), 4), n=rng.choice([60, 200, 800]))
    result["task"], result["samples_file"] = name, f"samples-{name}.jsonl"
    return result


def build_big_results(
    root: Path, n_models: int = 40, n_tasks: int = 12, seed: int = 0, demo_models: int = 2
) -> Path:
    """`n_models` × `n_tasks` official results (plus a few demo ones) under `root`."""
    rng = random.Random(seed)
    tasks = big_tasks(n_tasks)
    for m in range(n_models + demo_models):
        demo = m >= n_models
        model = {"name": f"synthetic-model-{m:02d}", "adapter": "MockAdapter", "args": {}}
        results = {}
        for t, (name, shape) in enumerate(tasks.items()):
            if m % 7 == 3 and t % 4 == 0:
                continue  # this model misses some tasks: listed, not ranked
            results[name] = _result(name, shape, rng)
            results[name]["dataset"]["demo"] = demo
        card = {"display_name": f"Synthetic model {m:02d}", "parameters": f"{1 + m}B"}
        run = run_record(model, results, T0 + timedelta(hours=m))
        write_run(root, run, card, layer="demo" if demo else "runs")
    return root
