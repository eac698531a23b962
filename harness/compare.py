"""Compare two runs task by task on the samples both scored: paired bootstrap per metric."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from voxeval.errors import VoxevalError
from voxeval.gate import DEFAULT_MIN_SHARED
from voxeval.paired import PairedResult, compare_predictions
from voxeval.results import RunFolder, RunResult, TaskResult, find_run
from voxeval.scoring import field_value
from voxeval.task import TASKS, Task


class IncomparableError(VoxevalError):
    """Two runs that cannot be compared fairly (different data, version or samples)."""


@dataclass
class TaskComparison:
    """One task's paired comparison, or why it could not be made."""

    task: str
    n_shared: int = 0
    metrics: list[PairedResult] = field(default_factory=list)
    problem: str | None = None


def compare_runs(
    dir_a: Path,
    dir_b: Path,
    min_shared: int = DEFAULT_MIN_SHARED,
    seed: int = 0,
    say: Callable[[str], None] | None = None,
) -> tuple[RunResult, RunResult, list[TaskComparison]]:
    """Compare every task of run A that run B also has (B − A, direction in each result).

    Each side is a run folder or a model folder (its latest finished run, told to `say`).
    """
    folder_a, folder_b = find_run(dir_a, say), find_run(dir_b, say)
    out = []
    for name in folder_a.run.tasks:
        if name not in folder_b.run.tasks:
            out.append(TaskComparison(name, problem=f"task {name!r} is missing from run B"))
            continue
        try:
            out.append(_compare_task(name, folder_a, folder_b, min_shared, seed))
        except VoxevalError as exc:  # incomparable, corrupt, or a plugin not installed here
            out.append(TaskComparison(name, problem=str(exc)))
    return folder_a.run, folder_b.run, out


def _compare_task(
    name: str, folder_a: RunFolder, folder_b: RunFolder, min_shared: int, seed: int
) -> TaskComparison:
    _check_same_data(name, folder_a.run.tasks[name], folder_b.run.tasks[name])
    task = TASKS.get(name)
    rows_a, rows_b = _shared_rows(task, folder_a, folder_b)
    if len(rows_a) < min_shared:
        raise IncomparableError(
            f"{name}: only {len(rows_a)} samples were scored in both runs (need {min_shared})"
        )
    comparison = TaskComparison(name, n_shared=len(rows_a))
    for spec in task.metrics:
        refs = [field_value(r, spec.reference) for r in rows_a]
        if refs != [field_value(r, spec.reference) for r in rows_b]:
            raise IncomparableError(f"{name}: the two runs have different references")
        result = compare_predictions(
            spec.metric,
            [field_value(r, spec.prediction) for r in rows_a],
            [field_value(r, spec.prediction) for r in rows_b],
            refs,
            seed=seed,
            **spec.params,
        )
        comparison.metrics.append(replace(result, metric=spec.result_name))
    return comparison


def _check_same_data(name: str, a: TaskResult, b: TaskResult) -> None:
    if a.task_version != b.task_version:
        raise IncomparableError(
            f"{name}: task version {a.task_version} in run A but {b.task_version} in run B"
        )
    ident_a = (a.dataset.id, a.dataset.revision, a.dataset.content_hash, a.dataset.split)
    ident_b = (b.dataset.id, b.dataset.revision, b.dataset.content_hash, b.dataset.split)
    if ident_a != ident_b:
        raise IncomparableError(f"{name}: the runs used different data ({ident_a} vs {ident_b})")


def _shared_rows(
    task: type[Task], folder_a: RunFolder, folder_b: RunFolder
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    records_a = folder_a.samples(task.name).latest  # a bad line anywhere: incomparable
    records_b = folder_b.samples(task.name).latest
    if not records_a or not records_b:
        folder = folder_a if not records_a else folder_b
        missing = folder.path / folder.samples_name(task.name)
        raise IncomparableError(f"{task.name}: no sample records in {missing}")
    shared = [
        sid
        for sid, rec in records_a.items()
        if not rec.get("error") and sid in records_b and not records_b[sid].get("error")
    ]
    rows_a = task.scoring_rows([records_a[s] for s in shared])
    rows_b = task.scoring_rows([records_b[s] for s in shared])
    if len(rows_a) != len(rows_b):
        raise IncomparableError(f"{task.name}: the runs' records expand to different rows")
    return rows_a, rows_b


def is_worse(result: PairedResult, tolerance: float = 0.0) -> bool:
    """A significant change in the bad direction larger than `tolerance` (alpha via CI)."""
    if result.delta is None or result.ci_low is None or result.ci_high is None:
        return False
    worse_by = -result.delta if result.higher_is_better else result.delta
    excludes_zero = result.ci_low > 0 or result.ci_high < 0
    return worse_by > tolerance and excludes_zero


def is_better(result: PairedResult) -> bool:
    """A significant change in the good direction."""
    if result.delta is None or result.ci_low is None or result.ci_high is None:
        return False
    better_by = result.delta if result.higher_is_better else -result.delta
    return better_by > 0 and (result.ci_low > 0 or result.ci_high < 0)
