"""Compare two models on their shared tasks with voxeval's paired bootstrap (B − A)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from voxeval.leaderboard.units import to_display, unit_of

COLUMNS = [
    "task",
    "metric",
    "direction",
    "A",
    "B",
    "B − A",
    "ci_low",
    "ci_high",
    "p_value",
    "verdict",
    "n_shared",
    "unit",
    "problem",
]


def _run_paths(tidy: pd.DataFrame, model: str) -> dict[str, str]:
    rows = tidy[tidy["model"] == model].drop_duplicates("task")
    return dict(zip(rows["task"], rows["path"], strict=True))


def _verdict(result: object) -> str:
    from voxeval.compare import is_better, is_worse

    if is_better(result):
        return "B significantly better"
    if is_worse(result):
        return "A significantly better"
    return "no significant difference"


def _rows(comparison: object) -> list[dict[str, object]]:
    if comparison.problem:
        return [{"task": comparison.task, "problem": comparison.problem}]
    out = []
    for r in comparison.metrics:

        def scaled(x: float | None, metric: str = r.metric) -> float | None:
            return to_display(metric, x)

        out.append(
            {
                "task": comparison.task,
                "metric": r.metric,
                "direction": "↑" if r.higher_is_better else "↓",
                "A": scaled(r.value_a),
                "B": scaled(r.value_b),
                "B − A": scaled(r.delta),
                "ci_low": scaled(r.ci_low),
                "ci_high": scaled(r.ci_high),
                "p_value": r.p_value,
                "n_shared": r.n,
                "verdict": _verdict(r),
                "unit": unit_of(r.metric).unit,
            }
        )
    return out


def shared_runs(tidy: pd.DataFrame, model_a: str, model_b: str) -> tuple[tuple[str, str, str], ...]:
    """(task, run folder of A, run folder of B) for every task both models have."""
    runs_a, runs_b = _run_paths(tidy, model_a), _run_paths(tidy, model_b)
    return tuple((t, runs_a[t], runs_b[t]) for t in sorted(set(runs_a) & set(runs_b)))


def compare_paths(
    root: Path, shared: tuple[tuple[str, str, str], ...], min_shared: int = 10
) -> pd.DataFrame:
    """Paired differences per shared task and metric, with CI, p-value and a verdict.

    Uses voxeval.compare.compare_runs per pair of run folders; a task that cannot be
    compared (other data, plugin not installed) carries its reason, sparing the others.
    """
    from voxeval.compare import compare_runs
    from voxeval.errors import VoxevalError

    pairs: dict[tuple[str, str], list[str]] = {}
    for task, path_a, path_b in shared:
        pairs.setdefault((path_a, path_b), []).append(task)
    rows: list[dict[str, object]] = []
    for (path_a, path_b), tasks in pairs.items():
        try:
            _, _, found = compare_runs(Path(root) / path_a, Path(root) / path_b, min_shared)
        except VoxevalError as exc:  # unreadable run folders: say so for each task
            rows.extend({"task": t, "problem": str(exc)} for t in tasks)
            continue
        rows.extend(row for c in found if c.task in tasks for row in _rows(c))
    return pd.DataFrame(rows, columns=COLUMNS)


def compare_models(
    root: Path, tidy: pd.DataFrame, model_a: str, model_b: str, min_shared: int = 10
) -> pd.DataFrame:
    """Paired comparison of two shown models on every task both have."""
    return compare_paths(root, shared_runs(tidy, model_a, model_b), min_shared)


class PairedVerdicts:
    """Significance of two models' difference on a task from the paired bootstrap.

    Called as (task, model_a, model_b) → +1 (A significantly better), -1, 0, or None when
    the runs cannot be paired (other data, too few shared samples, no samples file, plugin
    missing): the board then falls back to CI overlap. Each pair of run folders is compared
    once.
    """

    def __init__(self, root: Path, tidy: pd.DataFrame, min_shared: int = 10) -> None:
        self.root, self.min_shared = Path(root), min_shared
        rows = tidy.drop_duplicates(["model", "task"])
        self.paths = {(r.model, r.task): r.path for r in rows.itertuples()}
        firsts = tidy[tidy["metric_order"] == 0].drop_duplicates(["model", "task"])
        self.primary = {(r.model, r.task): r.metric for r in firsts.itertuples()}
        self.found: dict[tuple[str, str], dict[str, object]] = {}

    def _compared(self, path_a: str, path_b: str) -> dict[str, object]:
        from voxeval.compare import compare_runs
        from voxeval.errors import VoxevalError

        if (path_a, path_b) not in self.found:
            if not self._has_samples(path_a) or not self._has_samples(path_b):
                self.found[(path_a, path_b)] = {}
                return {}
            try:
                _, _, found = compare_runs(self.root / path_a, self.root / path_b, self.min_shared)
            except VoxevalError:
                found = []
            self.found[(path_a, path_b)] = {c.task: c for c in found if not c.problem}
        return self.found[(path_a, path_b)]

    def _has_samples(self, path: str) -> bool:
        """Any samples file in the run folder (none: nothing to pair, skip the plugin work)."""
        return any((self.root / path).glob("samples-*.jsonl"))

    def __call__(self, task: str, model_a: str, model_b: str) -> int | None:
        """+1/-1/0 from the paired bootstrap of the task's primary metric, else None."""
        from voxeval.compare import is_better, is_worse

        path_a, path_b = self.paths.get((model_a, task)), self.paths.get((model_b, task))
        if path_a is None or path_b is None or path_a == path_b:
            return None
        # One comparison per unordered pair: (B, A) is the negated verdict of (A, B).
        sign = 1 if path_a < path_b else -1
        first, second = sorted((path_a, path_b))
        comparison = self._compared(first, second).get(task)
        metric = self.primary.get((model_a, task))
        result = next((r for r in getattr(comparison, "metrics", []) if r.metric == metric), None)
        if result is None or result.ci_low is None or result.ci_high is None:
            return None
        return sign * (-1 if is_better(result) else 1 if is_worse(result) else 0)
