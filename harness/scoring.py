"""Turn a task's sample records into metrics and breakdowns (no model needed)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from voxeval.metrics import MetricResult, summarize
from voxeval.results import DatasetIdentity, MetricValue, TaskResult
from voxeval.results.records import RecordIndex
from voxeval.streaming import SpecColumn, TaskScorer, chunks, field_value
from voxeval.task import Task

__all__ = ["field_value", "score_records", "score_task", "to_value"]

if TYPE_CHECKING:
    from voxeval.judge_config import JudgeConfig


def summarize_columns(
    columns: list[SpecColumn], groups: dict[str, np.ndarray]
) -> tuple[dict[str, MetricValue], dict[str, dict[str, MetricValue]]]:
    """Values and intervals from each column's statistics, overall and per group."""
    overall: dict[str, MetricValue] = {}
    by_group: dict[str, dict[str, MetricValue]] = {g: {} for g in groups}
    for column in columns:
        spec, metric = column.spec, column.metric
        params = metric.resolved_params(**spec.params)
        stats = column.stats()
        overall[spec.result_name] = to_value(summarize(metric, stats, params))
        for group, rows in groups.items():
            subset = None if stats is None else stats[rows]
            by_group[group][spec.result_name] = to_value(summarize(metric, subset, params))
    return overall, by_group


def to_value(result: MetricResult) -> MetricValue:
    """Convert a MetricResult into its run.json form."""
    return MetricValue(
        value=result.value,
        ci_low=result.ci_low,
        ci_high=result.ci_high,
        n=result.n,
        higher_is_better=result.higher_is_better,
        metric=result.name,
        params=result.params,
        details=result.details,
    )


def score_task(
    task: Task | type[Task], records: Iterable[dict[str, Any]], judge: JudgeConfig | None = None
) -> dict[str, Any]:
    """Metrics overall and per breakdown group, plus error counts, for one task.

    Records are read once, in order, a chunk at a time (`voxeval.streaming`). With a judge
    and a task rubric, adds the `judge` metric; its per-sample ratings and replies come back
    under "judge_rows" for the caller to save.
    """
    return _scored(_fed(TaskScorer(task, judge), records), judge)


def _fed(scorer: TaskScorer, records: Iterable[dict[str, Any]]) -> TaskScorer:
    for chunk in chunks(records):
        scorer.add(chunk)
    return scorer


def _scored(scorer: TaskScorer, judge: JudgeConfig | None) -> dict[str, Any]:
    metrics, by_group = summarize_columns(scorer.columns, scorer.row_groups.as_arrays())
    judge_rows = None
    if scorer.judging and judge is not None:
        groups = scorer.judge_groups.as_lists()
        judge_rows = _score_with_judge(scorer.task, scorer.judged, judge, groups, metrics, by_group)
    breakdowns: dict[str, dict[str, dict[str, MetricValue]]] = defaultdict(dict)
    for key in sorted(by_group):
        field, value = key.split("\0")
        breakdowns[field][value] = by_group[key]
    return {
        "metrics": metrics,
        "breakdowns": dict(breakdowns),
        "n_samples": scorer.n_samples,
        "n_scored": scorer.n_ok,
        "n_errors": sum(scorer.errors.values()),
        "errors_by_kind": dict(scorer.errors),
        "judge_rows": judge_rows,
    }


def _score_with_judge(
    task: Task | type[Task],
    ok: list[dict[str, Any]],
    judge: JudgeConfig,
    groups: dict[str, list[int]],
    metrics: dict[str, MetricValue],
    by_group: dict[str, dict[str, MetricValue]],
) -> list[dict[str, Any]]:
    from voxeval.judge import JudgeOutcome, judge_metric, judge_provenance, run_judge

    rubric = judge.rubric_for(task)
    outcome = run_judge(rubric, [task.judge_item(r) for r in ok], judge)
    metrics["judge"] = to_value(judge_metric(rubric, judge, outcome))
    for group, rows in groups.items():
        part = JudgeOutcome(
            [outcome.scores[i] for i in rows],
            [outcome.ratings[i] for i in rows],
            [outcome.replies[i] for i in rows],
        )
        by_group.setdefault(group, {})["judge"] = to_value(judge_metric(rubric, judge, part))
    provenance = judge_provenance(rubric, judge)
    return [
        {
            "sample_id": r["sample_id"],
            "score": score,
            "ratings": ratings,
            "replies": replies,
            "served_models": served,
            "judge": provenance,
        }
        for r, score, ratings, replies, served in zip(
            ok,
            outcome.scores,
            outcome.ratings,
            outcome.replies,
            outcome.served_models,
            strict=True,
        )
    ]


def score_records(
    task: Task | type[Task],
    dataset: DatasetIdentity,
    records: dict[str, dict[str, Any]] | RecordIndex,
    ids: list[str] | None,
    samples_file: str,
    judge: JudgeConfig | None = None,
) -> tuple[TaskResult, list[dict[str, Any]] | None]:
    """Score the records of `ids` into a TaskResult (timing and usage from the records).

    `records` is a dict of records, or a RecordIndex whose records are read back one chunk
    at a time, so memory does not grow with the number of samples. `ids` None scores every
    record, in the order of each id's first line (the dict's order). Pure: nothing is
    written. With a judge, its per-sample rows come back for the caller, who holds the
    run's lock, to save as judge-<task>.jsonl.
    """
    if isinstance(records, RecordIndex):
        ordered: Iterable[dict[str, Any]] = records.records(ids)
    elif ids is None:
        ordered = records.values()
    else:
        ordered = (records[i] for i in ids if i in records)
    scorer = _fed(TaskScorer(task, judge), ordered)
    scored = _scored(scorer, judge)
    judge_rows = scored.pop("judge_rows")
    result = TaskResult(
        task=task.name,
        task_version=task.version,
        kind=task.kind,
        dataset=dataset,
        samples_file=samples_file,
        **scored,
    )
    result.timing.model_s, result.timing.audio_s = scorer.model_s, scorer.audio_s
    if result.timing.model_s > 0:
        result.timing.rtfx = result.timing.audio_s / result.timing.model_s
    result.usage.input_tokens, result.usage.output_tokens = scorer.tokens
    result.usage.cost_usd = sum(scorer.costs) if scorer.costs else None
    return result, judge_rows
