"""Metrics: plugins that turn predictions and references into a value with a bootstrap CI.

Every metric is defined by per-sample sufficient statistics and an aggregate over them, so
one vectorised bootstrap serves corpus-level metrics (WER from summed edits) and means alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from voxeval import stats
from voxeval.plugins import Registry


@dataclass
class MetricResult:
    """A metric's value with its confidence interval, sample count and provenance."""

    name: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    higher_is_better: bool
    params: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


class Metric:
    """Base class: subclasses turn pairs into an (n × k) array and aggregate stacked arrays."""

    name: ClassVar[str]
    description: ClassVar[str]
    higher_is_better: ClassVar[bool]
    # Every value (and CI bound) the metric can take; readers refuse results outside it.
    value_range: ClassVar[tuple[float, float]] = (-math.inf, math.inf)

    def sample_stats(
        self, predictions: Sequence[Any], references: Sequence[Any], **params: Any
    ) -> np.ndarray:
        """Per-sample sufficient statistics, shape (n, k)."""
        raise NotImplementedError

    # True when a sample's statistics depend on that sample alone (edit or n-gram counts,
    # moments), not on the others (ranks, an inferred label set): then the scorer computes
    # them a chunk of records at a time and keeps no records (voxeval.streaming).
    chunkable: ClassVar[bool] = False

    # True when the value depends only on column sums of the statistics (WER, accuracy,
    # CCC…): then subclasses implement `aggregate_sums` and the bootstrap is a matmul.
    sum_decomposable: ClassVar[bool] = False

    def aggregate(self, stats: np.ndarray) -> np.ndarray:
        """Metric values for stacked statistics of shape (b, n, k) → (b,)."""
        if self.sum_decomposable:
            return self.aggregate_sums(stats.sum(axis=-2), stats.shape[-2])
        raise NotImplementedError

    def aggregate_sums(self, sums: np.ndarray, n: int) -> np.ndarray:
        """Metric values from column sums (b, k) over n samples → (b,)."""
        raise NotImplementedError

    def count_aggregate(self, sample_stats: np.ndarray) -> stats.CountAggregate | None:
        """Values of resamples given as per-row draw counts (b × n) → (b,), or None.

        Metrics that re-rank every resample (Spearman) score it from how often each row was
        drawn, exactly as `aggregate` would on the gathered rows; None where they cannot.
        """
        return None

    def bootstrap_distribution(
        self, sample_stats: np.ndarray, n_resamples: int, seed: int
    ) -> np.ndarray:
        """Bootstrap values of the metric; override for metrics that resample differently."""
        counted = self.count_aggregate(sample_stats)
        if counted is not None:
            return stats.bootstrap_count_distribution(len(sample_stats), counted, n_resamples, seed)
        if self.sum_decomposable:
            return stats.bootstrap_sum_distribution(
                sample_stats, self.aggregate_sums, n_resamples, seed
            )
        return stats.bootstrap_distribution(sample_stats, self.aggregate, n_resamples, seed)

    def resolved_params(self, **params: Any) -> dict[str, Any]:
        """The parameters as recorded in results (defaults filled in, versions named)."""
        return dict(params)

    def details(self, stats: np.ndarray) -> dict[str, Any]:
        """Extra figures for the result (e.g. edit counts)."""
        return {}


METRICS: Registry[Metric] = Registry("metric", "register_metrics", lambda m: m.name)


def get_metric(name: str) -> Metric:
    """Look up a registered metric by name."""
    return METRICS.get(name)


def compute(
    name: str,
    predictions: Sequence[Any],
    references: Sequence[Any],
    *,
    n_resamples: int = stats.DEFAULT_RESAMPLES,
    confidence: float = stats.DEFAULT_CONFIDENCE,
    seed: int = stats.DEFAULT_SEED,
    **params: Any,
) -> MetricResult:
    """Compute metric `name` with a percentile-bootstrap CI resampled at the sample level."""
    if len(predictions) != len(references):
        raise ValueError(f"{name}: {len(predictions)} predictions but {len(references)} references")
    metric = get_metric(name)
    sample_stats = (
        metric.sample_stats(predictions, references, **params) if len(predictions) else None
    )
    ci = {"n_resamples": n_resamples, "confidence": confidence, "seed": seed}
    return summarize(metric, sample_stats, metric.resolved_params(**params), **ci)


def summarize(
    metric: Metric,
    sample_stats: np.ndarray | None,
    params: dict[str, Any],
    *,
    n_resamples: int = stats.DEFAULT_RESAMPLES,
    confidence: float = stats.DEFAULT_CONFIDENCE,
    seed: int = stats.DEFAULT_SEED,
) -> MetricResult:
    """Value, CI and details from per-sample statistics (any subset of rows works)."""
    recorded = dict(params)
    recorded["ci"] = {"method": "percentile_bootstrap", "resamples": n_resamples}
    recorded["ci"].update(confidence=confidence, seed=seed)
    n = 0 if sample_stats is None else len(sample_stats)
    if n == 0:
        return MetricResult(metric.name, None, None, None, 0, metric.higher_is_better, recorded)
    value = as_float(metric.aggregate(sample_stats[None])[0])
    low = high = None
    if value is not None and n_resamples > 0 and n > 1:
        dist = metric.bootstrap_distribution(sample_stats, n_resamples, seed)
        low, high = stats.percentile_interval(dist, confidence)
    return MetricResult(
        name=metric.name,
        value=value,
        ci_low=low,
        ci_high=high,
        n=n,
        higher_is_better=metric.higher_is_better,
        params=recorded,
        details=metric.details(sample_stats),
    )


def as_float(x: Any) -> float | None:
    """A finite float, or None for NaN and infinities (undefined metric values)."""
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else x
