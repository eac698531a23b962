"""Seeded, vectorised percentile bootstrap over per-sample sufficient statistics."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

DEFAULT_RESAMPLES = 1000
DEFAULT_CONFIDENCE = 0.95
DEFAULT_SEED = 0
# Bound the (resamples × n × k) gather so memory stays near this many float64s per chunk.
_CHUNK_ELEMENTS = 8_000_000

Aggregate = Callable[[np.ndarray], np.ndarray]


def bootstrap_distribution(
    stats: np.ndarray,
    aggregate: Aggregate,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> np.ndarray:
    """Metric values over `n_resamples` resamples of the rows of `stats` (n × k).

    `aggregate` maps stacked resamples (b × n × k) to b metric values.
    """
    n = stats.shape[0]
    rng = np.random.default_rng(seed)
    per_chunk = max(1, _CHUNK_ELEMENTS // max(1, stats.size))
    values = []
    for start in range(0, n_resamples, per_chunk):
        b = min(per_chunk, n_resamples - start)
        idx = rng.integers(0, n, size=(b, n))
        values.append(aggregate(stats[idx]))
    return np.concatenate(values) if values else np.empty(0)


def bootstrap_sum_distribution(
    stats: np.ndarray,
    aggregate_sums: Callable[[np.ndarray, int], np.ndarray],
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> np.ndarray:
    """Like `bootstrap_distribution`, for metrics that depend on column sums only.

    The same resample indices are drawn, but turned into per-row counts so that each
    resample's column sums are one matrix product instead of a (b × n × k) gather.
    """
    n = stats.shape[0]
    rng = np.random.default_rng(seed)
    per_chunk = max(1, _CHUNK_ELEMENTS // max(1, n))
    values = []
    for start in range(0, n_resamples, per_chunk):
        b = min(per_chunk, n_resamples - start)
        idx = rng.integers(0, n, size=(b, n))
        counts = np.empty((b, n))  # float64, so the product below takes the BLAS path
        for row in range(b):
            counts[row] = np.bincount(idx[row], minlength=n)
        values.append(aggregate_sums(counts @ stats, n))
    return np.concatenate(values) if values else np.empty(0)


def percentile_interval(
    values: np.ndarray, confidence: float = DEFAULT_CONFIDENCE
) -> tuple[float | None, float | None]:
    """Percentile interval of a bootstrap distribution; None when it is undefined."""
    finite = values[np.isfinite(values)]
    # A CI from a handful of defined resamples would be misleading; report none.
    if finite.size < 0.5 * max(1, values.size) or finite.size == 0:
        return None, None
    alpha = (1 - confidence) / 2
    low, high = np.quantile(finite, [alpha, 1 - alpha])
    return float(low), float(high)
