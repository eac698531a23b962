"""Breakdowns (field → group → metric) of the shown runs, read from their run.json on demand."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from voxeval.leaderboard.units import apply_units

COLUMNS = ["model", "field", "group", "metric", "value", "ci_low", "ci_high", "n"]


def _rows(run_dir: Path, task: str, model: str) -> list[dict[str, object]]:
    from voxeval.errors import VoxevalError
    from voxeval.results import open_run

    try:
        result = open_run(run_dir).run.tasks.get(task)
    except VoxevalError:  # listed among the unreadable runs on the overview
        return []
    out = []
    for field, groups in (result.breakdowns if result else {}).items():
        for group, metrics in groups.items():
            for metric, v in metrics.items():
                out.append(
                    {
                        "model": model,
                        "field": field,
                        "group": group,
                        "metric": metric,
                        "value": v.value,
                        "ci_low": v.ci_low,
                        "ci_high": v.ci_high,
                        "n": v.n,
                    }
                )
    return out


def shown_runs(tidy: pd.DataFrame, task: str) -> tuple[tuple[str, str], ...]:
    """(model, run folder) of every shown model's latest run of `task`."""
    runs = tidy[tidy["task"] == task].drop_duplicates("model")
    return tuple(zip(runs["model"], runs["path"], strict=True))


def load(root: Path, runs: tuple[tuple[str, str], ...], task: str) -> pd.DataFrame:
    """Breakdown rows (display units) of the given (model, run folder) pairs for `task`."""
    rows = []
    for model, path in runs:
        rows.extend(_rows(Path(root) / path, task, model))
    if not rows:
        return pd.DataFrame(columns=COLUMNS)
    frame = apply_units(pd.DataFrame(rows, columns=COLUMNS))
    return frame[[*COLUMNS, "unit"]]
