"""Paired bootstrap: compare two runs scored on the same samples, in the same order.

Both runs are resampled with the same indices, so per-sample difficulty cancels and the
interval is for the difference itself: `delta = value_b − value_a` (positive means B scored
higher, which is an improvement only when the metric's `higher_is_better`).

p-value (two-sided): with `d*` the finite resampled deltas (B of them),
`p = min(1, 2 · min(#{d* ≤ 0}, #{d* ≥ 0}) / B)`, floored at `1 / (B + 1)` because a finite
bootstrap cannot resolve smaller values. It inverts the percentile interval: p < 1 − confidence
exactly when that percentile interval (up to quantile interpolation) excludes 0. Resamples
where either value is undefined are left out, and with fewer than half of them defined
there is no interval and no p-value, as in `voxeval.stats.percentile_interval`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from voxeval import stats
from voxeval.metrics import Metric, as_float, get_metric


@dataclass(frozen=True)
class PairedResult:
    """Difference B − A of one metric with its paired-bootstrap interval and p-value."""

    metric: str
    delta: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    n: int
    higher_is_better: bool
    value_a: float | None = None
    value_b: float | None = None
    params: dict[str, Any] = field(default_factory=dict)


def delta_distribution(
    metric: Metric,
    stats_a: np.ndarray,
    stats_b: np.ndarray,
    n_resamples: int = stats.DEFAULT_RESAMPLES,
    seed: int = stats.DEFAULT_SEED,
) -> np.ndarray:
    """Resampled value_b − value_a, both runs resampled with the same row indices."""
    counted = _count_aggregates(metric, stats_a, stats_b)
    if counted is not None:
        count_a, count_b = counted

        def diff_counts(counts: np.ndarray) -> np.ndarray:
            return count_b(counts) - count_a(counts)

        return stats.bootstrap_count_distribution(len(stats_a), diff_counts, n_resamples, seed)
    # Side by side, one resample of the rows is the same resample of both runs.
    k = stats_a.shape[1]
    both = np.hstack([stats_a, stats_b])
    if metric.sum_decomposable:

        def diff_sums(sums: np.ndarray, n: int) -> np.ndarray:
            return metric.aggregate_sums(sums[..., k:], n) - metric.aggregate_sums(sums[..., :k], n)

        return stats.bootstrap_sum_distribution(both, diff_sums, n_resamples, seed)

    def diff(stacked: np.ndarray) -> np.ndarray:
        return metric.aggregate(stacked[..., k:]) - metric.aggregate(stacked[..., :k])

    return stats.bootstrap_distribution(both, diff, n_resamples, seed)


def _count_aggregates(
    metric: Metric, stats_a: np.ndarray, stats_b: np.ndarray
) -> tuple[stats.CountAggregate, stats.CountAggregate] | None:
    """Both runs' count aggregates, for metrics that score resamples from counts (Spearman)."""
    count_a, count_b = metric.count_aggregate(stats_a), metric.count_aggregate(stats_b)
    return None if count_a is None or count_b is None else (count_a, count_b)


def bootstrap_p_value(deltas: np.ndarray) -> float | None:
    """Two-sided p-value for "no difference" from resampled deltas (see the module doc)."""
    finite = deltas[np.isfinite(deltas)]
    if finite.size == 0:
        return None
    other_side = min(int((finite <= 0).sum()), int((finite >= 0).sum()))
    p = min(1.0, 2 * other_side / finite.size)
    return max(p, 1 / (finite.size + 1))


def paired_bootstrap(
    metric_name: str,
    stats_a: np.ndarray,
    stats_b: np.ndarray,
    n_resamples: int = stats.DEFAULT_RESAMPLES,
    seed: int = stats.DEFAULT_SEED,
    confidence: float = stats.DEFAULT_CONFIDENCE,
) -> PairedResult:
    """Compare per-sample statistics of runs A and B (same samples, same order)."""
    metric = get_metric(metric_name)
    a = np.asarray(stats_a, dtype=float)
    b = np.asarray(stats_b, dtype=float)
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"{metric_name}: statistics must be (n, k) arrays")
    if len(a) != len(b):
        raise ValueError(f"{metric_name}: {len(a)} samples in run A but {len(b)} in run B")
    n = len(a)
    params = {
        "method": "paired_percentile_bootstrap",
        "resamples": n_resamples,
        "confidence": confidence,
        "seed": seed,
        "p_value": "two-sided, 2 x share of resampled deltas beyond 0, floor 1/(B+1)",
    }
    if n == 0:
        empty = (None, None, None, None, 0, metric.higher_is_better)
        return PairedResult(metric.name, *empty, params=params)
    value_a = as_float(metric.aggregate(a[None])[0])
    value_b = as_float(metric.aggregate(b[None])[0])
    delta = None if value_a is None or value_b is None else value_b - value_a
    low = high = p_value = None
    if delta is not None and n_resamples > 0 and n > 1:
        deltas = delta_distribution(metric, a, b, n_resamples, seed)
        low, high = stats.percentile_interval(deltas, confidence)
        if low is not None:
            p_value = bootstrap_p_value(deltas)
    return PairedResult(
        metric=metric.name,
        delta=delta,
        ci_low=low,
        ci_high=high,
        p_value=p_value,
        n=n,
        higher_is_better=metric.higher_is_better,
        value_a=value_a,
        value_b=value_b,
        params=params,
    )


def compare_predictions(
    metric_name: str,
    preds_a: Sequence[Any],
    preds_b: Sequence[Any],
    references: Sequence[Any],
    *,
    n_resamples: int = stats.DEFAULT_RESAMPLES,
    seed: int = stats.DEFAULT_SEED,
    confidence: float = stats.DEFAULT_CONFIDENCE,
    **params: Any,
) -> PairedResult:
    """Score two runs' predictions against the same references and compare them."""
    if not len(preds_a) == len(preds_b) == len(references):
        raise ValueError(
            f"{metric_name}: {len(preds_a)} predictions in run A, {len(preds_b)} in run B, "
            f"{len(references)} references"
        )
    metric = get_metric(metric_name)
    if len(references):
        stats_a = metric.sample_stats(preds_a, references, **params)
        stats_b = metric.sample_stats(preds_b, references, **params)
    else:
        stats_a = stats_b = np.empty((0, 1))
    result = paired_bootstrap(metric_name, stats_a, stats_b, n_resamples, seed, confidence)
    return replace(result, params={**metric.resolved_params(**params), **result.params})
