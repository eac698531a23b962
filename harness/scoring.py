"""Turn a task's sample records into metrics and breakdowns (no model needed)."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

from voxeval.metrics import MetricResult, get_metric, summarize
from voxeval.results import DatasetIdentity, MetricValue, TaskResult
from voxeval.task import MetricSpec, Task

if TYPE_CHECKING:
    from voxeval.judge import JudgeConfig


def field_value(record: dict[str, Any], path: str) -> Any:
    """Read a MetricSpec field path ("text", "reference", "labels.emotion"…) from a record."""
    if path == "reference":
        refs = record.get("references") or []
        return refs[0] if refs else ""
    if path == "references":
        return tuple(record.get("references") or ())
    head, _, rest = path.partition(".")
    source = record.get("prediction", {}) if head in {"text", "label", "values", "scores"} else {}
    if head == "labels":
        return (record.get("labels") or {}).get(rest)
    value = source.get(head)
    return value.get(rest) if rest and isinstance(value, dict) else value


def score_metrics(
    specs: tuple[MetricSpec, ...], records: list[dict[str, Any]], groups: dict[str, list[int]]
) -> tuple[dict[str, MetricValue], dict[str, dict[str, MetricValue]]]:
    """Each metric overall and per group of record indices; per-sample work is done once."""
    overall: dict[str, MetricValue] = {}
    by_group: dict[str, dict[str, MetricValue]] = {g: {} for g in groups}
    for spec in specs:
        metric = get_metric(spec.metric)
        params = metric.resolved_params(**spec.params)
        preds = [field_value(r, spec.prediction) for r in records]
        refs = [field_value(r, spec.reference) for r in records]
        stats = metric.sample_stats(preds, refs, **spec.params) if records else None
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
    task: Task | type[Task], records: list[dict[str, Any]], judge: JudgeConfig | None = None
) -> dict[str, Any]:
    """Metrics overall and per breakdown group, plus error counts, for one task.

    With a judge and a task rubric, adds the `judge` metric; its per-sample ratings and
    replies come back under "judge_rows" for the caller to save.
    """
    ok = [r for r in records if not r.get("error")]
    failed = [r for r in records if r.get("error")]
    rows = task.scoring_rows(ok)
    specs = task.metric_specs() if isinstance(task, Task) else task.metrics
    metrics, by_group = score_metrics(specs, rows, _groups(task.breakdowns, rows))
    judge_rows = None
    if judge is not None and task.judge_rubric:
        groups = _groups(task.breakdowns, ok)
        judge_rows = _score_with_judge(task, ok, judge, groups, metrics, by_group)
    breakdowns: dict[str, dict[str, dict[str, MetricValue]]] = defaultdict(dict)
    for key in sorted(by_group):
        field, value = key.split("\0")
        breakdowns[field][value] = by_group[key]
    return {
        "metrics": metrics,
        "breakdowns": dict(breakdowns),
        "n_samples": len(records),
        "n_scored": len(ok),
        "n_errors": len(failed),
        "errors_by_kind": dict(Counter(r["error"]["kind"] for r in failed)),
        "judge_rows": judge_rows,
    }


def _groups(fields: tuple[str, ...], rows: list[dict[str, Any]]) -> dict[str, list[int]]:
    """Row indices per "field\\0value" breakdown group (missing values group as "unknown")."""
    groups: dict[str, list[int]] = {}
    for field in fields:
        for index, row in enumerate(rows):
            value = str((row.get("metadata") or {}).get(field, "unknown"))
            groups.setdefault(f"{field}\0{value}", []).append(index)
    return groups


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
    records: dict[str, dict[str, Any]],
    ids: list[str],
    samples_file: str,
    judge: JudgeConfig | None = None,
) -> tuple[TaskResult, list[dict[str, Any]] | None]:
    """Score the records of `ids` into a TaskResult (timing and usage from the records).

    Pure: nothing is written. With a judge, its per-sample rows come back for the caller,
    who holds the run's lock, to save as judge-<task>.jsonl.
    """
    ordered = [records[i] for i in ids if i in records]
    scored = score_task(task, ordered, judge)
    judge_rows = scored.pop("judge_rows")
    result = TaskResult(
        task=task.name,
        task_version=task.version,
        kind=task.kind,
        dataset=dataset,
        samples_file=samples_file,
        **scored,
    )
    ok = [r for r in ordered if not r.get("error")]
    result.timing.model_s = sum(r.get("model_s") or 0.0 for r in ok)
    result.timing.audio_s = sum(r.get("audio_s") or 0.0 for r in ok)
    if result.timing.model_s > 0:
        result.timing.rtfx = result.timing.audio_s / result.timing.model_s
    _sum_usage(result, ok)
    return result, judge_rows


def _sum_usage(result: TaskResult, records: list[dict[str, Any]]) -> None:
    usages = [r["usage"] for r in records if r.get("usage")]
    result.usage.input_tokens = sum(u.get("input_tokens") or 0 for u in usages)
    result.usage.output_tokens = sum(u.get("output_tokens") or 0 for u in usages)
    costs = [u["cost_usd"] for u in usages if u.get("cost_usd") is not None]
    result.usage.cost_usd = sum(costs) if costs else None
