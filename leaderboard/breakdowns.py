"""Breakdowns (field → group → metric) of the shown runs, read from their run.json on demand."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from voxeval.leaderboard.units import apply_units

COLUMNS = ["model", "field", "group", "metric", "value", "ci_low", "ci_high", "n"]


def _rows(run_file: Path, task: str, model: str) -> list[dict[str, object]]:
    try:
        run = json.loads(run_file.read_bytes())
        fields = run["tasks"][task].get("breakdowns") or {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return []
    out = []
    for field, groups in fields.items():
        for group, metrics in groups.items():
            for metric, v in metrics.items():
                out.append(
                    {
                        "model": model,
                        "field": field,
                        "group": group,
                        "metric": metric,
                        "value": v.get("value"),
                        "ci_low": v.get("ci_low"),
                        "ci_high": v.get("ci_high"),
                        "n": v.get("n"),
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
        rows.extend(_rows(Path(root) / path / "run.json", task, model))
    if not rows:
        return pd.DataFrame(columns=COLUMNS)
    frame = apply_units(pd.DataFrame(rows, columns=COLUMNS))
    return frame[[*COLUMNS, "unit"]]
