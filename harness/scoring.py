"""Turn a task's sample records into metrics and breakdowns (no model needed)."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from voxeval.metrics import MetricResult, compute
from voxeval.results import MetricValue
from voxeval.task import MetricSpec, Task


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
    specs: tuple[MetricSpec, ...], records: list[dict[str, Any]]
) -> dict[str, MetricValue]:
    """Compute each metric spec over the given (successful) records."""
    out = {}
    for spec in specs:
        preds = [field_value(r, spec.prediction) for r in records]
        refs = [field_value(r, spec.reference) for r in records]
        out[spec.result_name] = to_value(compute(spec.metric, preds, refs, **spec.params))
    return out


def to_value(result: MetricResult) -> MetricValue:
    """Convert a MetricResult into its run.json form."""
    return MetricValue(
        value=result.value,
        ci_low=result.ci_low,
        ci_high=result.ci_high,
        n=result.n,
        higher_is_better=result.higher_is_better,
        params=result.params,
        details=result.details,
    )


def score_task(task: type[Task], records: list[dict[str, Any]]) -> dict[str, Any]:
    """Metrics overall and per breakdown group, plus error counts, for one task."""
    ok = [r for r in records if not r.get("error")]
    failed = [r for r in records if r.get("error")]
    breakdowns: dict[str, dict[str, dict[str, MetricValue]]] = {}
    for field in task.breakdowns:
        groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for record in ok:
            groups[str((record.get("metadata") or {}).get(field, "unknown"))].append(record)
        breakdowns[field] = {g: score_metrics(task.metrics, rs) for g, rs in sorted(groups.items())}
    return {
        "metrics": score_metrics(task.metrics, ok),
        "breakdowns": breakdowns,
        "n_samples": len(records),
        "n_scored": len(ok),
        "n_errors": len(failed),
        "errors_by_kind": dict(Counter(r["error"]["kind"] for r in failed)),
    }
