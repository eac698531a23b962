"""Seeded, vectorised percentile bootstrap over per-sample sufficient statistics.

Every path draws the same resamples for a seed: row indices from
`np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))`, read row by row.
numpy builds each index from one 32-bit output of the bit generator and keeps the spare
half of a 64-bit output in the generator's state, so the indices do not depend on how the
draws are split into calls (tests check this); the paths below split them as suits them.

- `bootstrap_distribution` gathers the drawn rows and aggregates them: any metric.
- `bootstrap_sum_distribution` turns each resample into per-row counts and its column sums
  into one matrix product: metrics that depend on column sums only.
- `bootstrap_count_distribution` hands the counts to the metric: metrics (Spearman) that can
  score a resample from how often each row was drawn, without gathering the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

DEFAULT_RESAMPLES = 1000
DEFAULT_CONFIDENCE = 0.95
DEFAULT_SEED = 0
# Bound the (resamples × n × k) gather so memory stays near this many float64s per chunk.
_CHUNK_ELEMENTS = 8_000_000
# Counts of the resamples whose column sums are one matrix product (8 MB of float64).
_SUM_ELEMENTS = 1_000_000
# Counts handed to a count-based metric at once: small enough that its temporaries stay in
# the CPU cache, large enough that per-call overhead stays small.
_COUNT_ELEMENTS = 131_072

Aggregate = Callable[[np.ndarray], np.ndarray]
CountAggregate = Callable[[np.ndarray], np.ndarray]


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


def resample_counts(n: int, n_resamples: int, seed: int, rows: int) -> Iterator[np.ndarray]:
    """How often each of n rows is drawn in each resample, as float64 (≤ rows × n) chunks.

    Indices are drawn a cache-sized block of resamples at a time (one call to the generator
    costs tens of microseconds, so not one per resample) and counted while still in cache.
    Every chunk is a new array, so callers may keep them.
    """
    rng = np.random.default_rng(seed)
    block = max(1, min(rows, _COUNT_ELEMENTS // max(1, n)))
    for start in range(0, n_resamples, rows):
        # Yielded without a local name, so a caller that drops a chunk frees it before the
        # next one is made: two chunks alive at once would double the peak (+8 MB).
        yield _counted(rng, n, min(rows, n_resamples - start), block)


def _counted(rng: np.random.Generator, n: int, rows: int, block: int) -> np.ndarray:
    """The next `rows` resamples' per-row counts, drawn `block` resamples per call."""
    counts = np.empty((rows, n))
    for first in range(0, rows, block):
        draws = rng.integers(0, n, size=(min(block, rows - first), n))
        for row, drawn in zip(counts[first:], draws, strict=False):
            row[:] = np.bincount(drawn, minlength=n)
    return counts


def _per_chunk(
    chunks: Iterator[np.ndarray], score: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """The scores of every chunk, concatenated; each chunk is let go before the next is made."""
    values = []
    for chunk in chunks:
        values.append(score(chunk))
        del chunk  # else it stays alive while the generator makes the next one
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
    # The counts of a chunk are (rows × n) float64s: bounded by _SUM_ELEMENTS (8 MB) so that
    # scoring's memory does not grow with n. Integer statistics (edit counts, class counts)
    # sum exactly in any order; real-valued ones may differ from a differently shaped
    # product in the last bit, far below any reported digit.
    per_chunk = max(1, _SUM_ELEMENTS // max(1, n))
    chunks = resample_counts(n, n_resamples, seed, per_chunk)
    return _per_chunk(chunks, lambda counts: aggregate_sums(counts @ stats, n))


def bootstrap_count_distribution(
    n: int,
    aggregate_counts: CountAggregate,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> np.ndarray:
    """Metric values of the same resamples, from per-row counts (b × n) → (b,)."""
    rows = max(1, _COUNT_ELEMENTS // max(1, n))
    return _per_chunk(resample_counts(n, n_resamples, seed, rows), aggregate_counts)


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
