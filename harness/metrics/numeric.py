"""Numeric metrics: CCC, Pearson, Spearman, MAE and RMSE over paired numbers.

Predictions and references are numbers (or numeric strings). A pair in which either side is
None, NaN or ±inf is dropped: the row stays in the statistics (so that rows still line up
with samples, for breakdowns and paired comparisons) but contributes nothing, and the result's
details record `n_valid` and `n_dropped`. `n` in results counts all samples, dropped included;
the bootstrap resamples all of them, so the number of valid pairs varies between resamples.

CCC, Pearson, MAE and RMSE depend only on column sums, so their bootstrap is one matrix
product. To keep the sums free of cancellation, values are shifted by a value taken from the
data (the middle element of the sorted values) before squaring; CCC shifts both sides by the
same value, which leaves it unchanged. Spearman re-ranks every resample: its value ranks by
counting codes (`resample_ranks`); its bootstrap ranks from how often each row was drawn,
with cumulative sums over the rows pre-sorted once (`CountedSpearman`), bit for bit the same.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from voxeval.hookspecs import hookimpl
from voxeval.metrics import Metric
from voxeval.stats import CountAggregate

# A variance below this share of the second moment about the shift is rounding noise:
# the values are constant and the correlation is undefined.
_REL_TOL = 1e-12
MISSING = "pair dropped when either side is None, NaN or inf"
# Ranking from counts is exact while every sum stays below 2**53. The largest,
# S = Σ count · 2·rank_x · 2·rank_y, is at most 4·m³ for m draws (m ≤ rows): 4e15 at 100,000
# rows, under 2**53 ≈ 9.007e15. Larger data falls back to gathering every resample.
COUNTED_RANK_ROWS = 100_000


def to_numbers(values: Sequence[Any], side: str, metric: str) -> np.ndarray:
    """Values as float64; None becomes NaN. Non-numeric values raise ValueError."""
    try:
        out = np.asarray(list(values), dtype=float)
        if out.ndim == 1:
            return out
    except (TypeError, ValueError):
        pass
    out = np.empty(len(values))
    for i, value in enumerate(values):
        try:
            out[i] = np.nan if value is None else float(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"{metric}: {side} {i} ({value!r}) is not a number; map answers that cannot "
                "be parsed to None so that the pair is dropped"
            ) from None
    return out


def paired_numbers(
    predictions: Sequence[Any], references: Sequence[Any], metric: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Predictions, references (0 where dropped) and the validity mask of each pair."""
    x = to_numbers(predictions, "prediction", metric)
    y = to_numbers(references, "reference", metric)
    if x.shape != y.shape:
        raise ValueError(f"{metric}: {len(x)} predictions but {len(y)} references")
    valid = np.isfinite(x) & np.isfinite(y)
    return np.where(valid, x, 0.0), np.where(valid, y, 0.0), valid


def _middle(values: np.ndarray) -> float:
    """An element of `values` near their median (0 when empty)."""
    return float(np.partition(values, len(values) // 2)[len(values) // 2]) if len(values) else 0.0


def _variance(s1: np.ndarray, s2: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Population variance from the sum and the sum of squares; 0 where it is rounding noise."""
    var = np.maximum(s2 / m - (s1 / m) ** 2, 0.0)
    return np.where(var <= _REL_TOL * (s2 / m), 0.0, var)


class _NumericMetric(Metric):
    """Shared parsing, validity column (column 0) and details for the numeric metrics."""

    def resolved_params(self, **_: Any) -> dict[str, Any]:
        """Record how missing values are handled."""
        return {"missing": MISSING}

    def details(self, stats: np.ndarray) -> dict[str, Any]:
        """How many pairs were used and how many dropped."""
        n_valid = int(self._valid(stats).sum())
        return {"n_valid": n_valid, "n_dropped": int(stats.shape[0]) - n_valid}

    def _valid(self, stats: np.ndarray) -> np.ndarray:
        return stats[:, 0] > 0


class _MomentMetric(_NumericMetric):
    """Columns: valid, x, y, x², y², xy (x, y shifted; zeros where dropped)."""

    value_range: ClassVar[tuple[float, float]] = (-1.0, 1.0)

    sum_decomposable: ClassVar[bool] = True
    higher_is_better: ClassVar[bool] = True
    shared_shift: ClassVar[bool]

    def sample_stats(
        self, predictions: Sequence[Any], references: Sequence[Any], **_: Any
    ) -> np.ndarray:
        """Per-sample validity and shifted first and second moments."""
        x, y, valid = paired_numbers(predictions, references, self.name)
        if self.shared_shift:
            cx = cy = _middle(np.concatenate([x[valid], y[valid]]))
        else:
            cx, cy = _middle(x[valid]), _middle(y[valid])
        x = np.where(valid, x - cx, 0.0)
        y = np.where(valid, y - cy, 0.0)
        return np.column_stack([valid.astype(float), x, y, x * x, y * y, x * y])

    def _moments(
        self, sums: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Count, means, variances and covariance from column sums (NaN count below 2)."""
        m = np.where(sums[..., 0] >= 2, sums[..., 0], np.nan)
        mx, my = sums[..., 1] / m, sums[..., 2] / m
        vx = _variance(sums[..., 1], sums[..., 3], m)
        vy = _variance(sums[..., 2], sums[..., 4], m)
        cov = sums[..., 5] / m - mx * my
        return m, mx, my, vx, vy, cov


class ConcordanceCorrelation(_MomentMetric):
    """Lin's concordance correlation coefficient (population statistics)."""

    name: ClassVar[str] = "ccc"
    description: ClassVar[str] = "concordance correlation coefficient, ddof 0"
    shared_shift: ClassVar[bool] = True

    def aggregate_sums(self, sums: np.ndarray, n: int) -> np.ndarray:
        """2·cov / (var x + var y + (mean x − mean y)²); NaN when the denominator is 0."""
        with np.errstate(divide="ignore", invalid="ignore"):
            m, mx, my, vx, vy, cov = self._moments(sums)
            denom = vx + vy + (mx - my) ** 2
            scale = (sums[..., 3] + sums[..., 4]) / m
            ok = denom > _REL_TOL * scale
            return np.clip(np.where(ok, 2 * cov / np.where(ok, denom, 1.0), np.nan), -1, 1)

    def resolved_params(self, **_: Any) -> dict[str, Any]:
        """Record population statistics and how missing values are handled."""
        return {"ddof": 0, "missing": MISSING}


class PearsonCorrelation(_MomentMetric):
    """Pearson's r; undefined (None) when either side is constant."""

    name: ClassVar[str] = "pearson"
    description: ClassVar[str] = "Pearson correlation coefficient"
    shared_shift: ClassVar[bool] = False

    def aggregate_sums(self, sums: np.ndarray, n: int) -> np.ndarray:
        """cov / sqrt(var x · var y); NaN when either variance is 0."""
        with np.errstate(divide="ignore", invalid="ignore"):
            _, _, _, vx, vy, cov = self._moments(sums)
            ok = (vx > 0) & (vy > 0)
            r = cov / np.sqrt(np.where(ok, vx * vy, 1.0))
            return np.clip(np.where(ok, r, np.nan), -1, 1)


def weighted_pearson(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Pearson r along the last axis over entries with weight 1 (two-pass); NaN if undefined."""
    with np.errstate(divide="ignore", invalid="ignore"):
        m = weights.sum(axis=-1)
        m = np.where(m >= 2, m, np.nan)
        dx = (x - (x * weights).sum(axis=-1, keepdims=True) / m[..., None]) * weights
        dy = (y - (y * weights).sum(axis=-1, keepdims=True) / m[..., None]) * weights
        sxx, syy = (dx * dx).sum(axis=-1), (dy * dy).sum(axis=-1)
        ok = (sxx > 0) & (syy > 0)
        r = (dx * dy).sum(axis=-1) / np.sqrt(np.where(ok, sxx * syy, 1.0))
        return np.clip(np.where(ok & np.isfinite(m), r, np.nan), -1, 1)


def resample_ranks(codes: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Average ranks (1-based, ties averaged) of dense integer codes along the last axis.

    Counting instead of sorting: per row, the count of each code and their running total give
    every tie group's rank range. Entries where `valid` is False are left out of the ranking
    (their returned rank is meaningless).
    """
    b = int(np.prod(codes.shape[:-1]))
    flat_codes = np.where(valid, codes, 0).astype(np.int64).reshape(b, -1)
    g = int(flat_codes.max(initial=0)) + 1
    offsets = flat_codes + (np.arange(b) * g)[:, None]
    counts = np.bincount(offsets[valid.reshape(b, -1)], minlength=b * g)
    # A tie group of c values after s others holds ranks s+1..s+c: average s + (c+1)/2.
    average = np.cumsum(counts.reshape(b, g), axis=1, dtype=float).ravel()
    average -= 0.5 * counts
    average += 0.5
    return average[offsets].reshape(codes.shape)


class _RankSide:
    """One side's codes in sorted order, and its tie groups, for ranking cells by counts."""

    def __init__(self, sorted_codes: np.ndarray) -> None:
        starts = np.flatnonzero(np.diff(sorted_codes, prepend=-1))
        # Last position of each tie group and each position's group; None when nothing ties.
        ties = len(starts) < len(sorted_codes)
        self.ends = np.append(starts[1:] - 1, len(sorted_codes) - 1) if ties else None
        self.groups = np.cumsum(np.diff(sorted_codes, prepend=sorted_codes[:1]) > 0)

    def ranks(self, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """2·rank − 1 of each cell from counts in sorted order (b × c), and tie-group sizes.

        A tie group drawn t times after s smaller draws holds ranks s+1..s+t: twice their
        average, less one, is 2s + t = E + E′, E and E′ the running totals at this group's end
        and the previous one's.
        """
        if self.ends is None:
            doubled = np.empty_like(counts)
            doubled[:, 0] = counts[:, 0]
            np.add(counts[:, 1:], counts[:, :-1], out=doubled[:, 1:])
            return np.cumsum(doubled, axis=1, out=doubled), counts
        ends = np.take(np.cumsum(counts, axis=1), self.ends, axis=1)
        sizes = np.diff(ends, axis=1, prepend=0)
        return np.take(2 * ends - sizes, self.groups, axis=1), sizes


def _dense(values: np.ndarray) -> np.ndarray:
    return np.unique(values, return_inverse=True)[1].astype(np.int64)


class CountedSpearman:
    """Spearman's rho of resamples given as per-row counts (b × n) → (b,).

    Rows with the same pair of values are interchangeable, so they are counted together as
    one cell, in (x, y) order. With m valid draws, mean rank μ = (m+1)/2 and tie groups of t
    draws (a row drawn twice ties with itself): Σ(r − μ)² = (m³ − Σt³)/12 on each side and
    Σ(rx − μ)(ry − μ) = (S − m(m+1)²)/4, S = Σ count · 2rx · 2ry. These are integers or
    quarters below 2**53 (`COUNTED_RANK_ROWS`), hence exact; so are `weighted_pearson`'s
    two-pass sums on the same ranks, in any order. Equal sums, then the same final
    arithmetic: equal values.
    """

    def __init__(self, stats: np.ndarray) -> None:
        rows = np.flatnonzero(~np.isnan(stats[:, 0]))
        x, y = _dense(stats[rows, 0]), _dense(stats[rows, 1])
        width = int(y.max(initial=0)) + 1
        cells, cell = np.unique(x * width + y, return_inverse=True)
        order = np.argsort(cell, kind="stable")
        self.rows = rows[order]  # valid rows, cell by cell
        first = np.flatnonzero(np.diff(cell[order], prepend=-1))
        self.merge = first if len(cells) < len(rows) else None
        self.x = _RankSide(cells // width)
        self.y_order = np.argsort(cells % width, kind="stable")
        self.y = _RankSide(cells[self.y_order] % width)
        self.y_back = np.argsort(self.y_order)  # each cell's place in y order

    def __call__(self, counts: np.ndarray) -> np.ndarray:
        """Spearman's rho of each resample (row of counts)."""
        if not len(self.rows):
            return np.full(len(counts), np.nan)
        drawn = np.take(counts, self.rows, axis=1)
        if self.merge is not None:
            drawn = np.add.reduceat(drawn, self.merge, axis=1)
        rx, ties_x = self.x.ranks(drawn)
        ry, ties_y = self.y.ranks(np.take(drawn, self.y_order, axis=1))
        cubes_x = _cube_sums(ties_x)
        # Without ties on either side each cell is its own group on both: the same cubes.
        no_ties = self.x.ends is None and self.y.ends is None
        cubes_y = cubes_x if no_ties else _cube_sums(ties_y)
        m = drawn.sum(axis=1)
        # Σ count · (2rx − 1)(2ry − 1) = S − 2m² − m, as Σ count · 2r = m(m + 1) on each side.
        s = np.einsum("ij,ij,ij->i", drawn, rx, np.take(ry, self.y_back, axis=1))
        s += 2 * m * m + m
        with np.errstate(divide="ignore", invalid="ignore"):
            m3 = m * m * m
            sxx, syy = (m3 - cubes_x) / 12, (m3 - cubes_y) / 12
            sxy = (s - m * (m + 1) * (m + 1)) / 4
            # As in weighted_pearson, from here on.
            ok = (m >= 2) & (sxx > 0) & (syy > 0)
            r = sxy / np.sqrt(np.where(ok, sxx * syy, 1.0))
            return np.clip(np.where(ok, r, np.nan), -1, 1)


def _cube_sums(sizes: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij,ij->i", sizes, sizes, sizes)


class SpearmanCorrelation(_NumericMetric):
    """Spearman's rho: Pearson on average ranks, every bootstrap resample re-ranked."""

    name: ClassVar[str] = "spearman"
    value_range: ClassVar[tuple[float, float]] = (-1.0, 1.0)
    description: ClassVar[str] = "Spearman rank correlation, average ranks for ties"
    higher_is_better: ClassVar[bool] = True

    def sample_stats(
        self, predictions: Sequence[Any], references: Sequence[Any], **_: Any
    ) -> np.ndarray:
        """Columns: dense rank codes of x and y among the valid pairs; NaN where dropped.

        Dense codes keep the order and the ties of the values, which is all ranking needs, and
        let every resample be ranked by counting.
        """
        x, y, valid = paired_numbers(predictions, references, self.name)
        codes = np.full((len(x), 2), np.nan)
        codes[valid, 0] = np.unique(x[valid], return_inverse=True)[1]
        codes[valid, 1] = np.unique(y[valid], return_inverse=True)[1]
        return codes

    def aggregate(self, stats: np.ndarray) -> np.ndarray:
        """Rank each resample's valid pairs (ties averaged) and correlate the ranks."""
        valid = ~np.isnan(stats[..., 0])
        rx = resample_ranks(stats[..., 0], valid)
        ry = resample_ranks(stats[..., 1], valid)
        return weighted_pearson(rx, ry, valid.astype(float))

    def count_aggregate(self, stats: np.ndarray) -> CountAggregate | None:
        """Values of resamples given as per-row counts; None where counting could round."""
        return CountedSpearman(stats) if len(stats) <= COUNTED_RANK_ROWS else None

    def resolved_params(self, **_: Any) -> dict[str, Any]:
        """Record the tie rule and how missing values are handled."""
        return {"ties": "average", "missing": MISSING}

    def _valid(self, stats: np.ndarray) -> np.ndarray:
        return ~np.isnan(stats[:, 0])


class _ErrorMetric(_NumericMetric):
    """Columns: valid, |error|, error² (zeros where dropped)."""

    sum_decomposable: ClassVar[bool] = True
    higher_is_better: ClassVar[bool] = False
    value_range: ClassVar[tuple[float, float]] = (0.0, math.inf)

    def sample_stats(
        self, predictions: Sequence[Any], references: Sequence[Any], **_: Any
    ) -> np.ndarray:
        """Per-sample validity, absolute and squared error."""
        x, y, valid = paired_numbers(predictions, references, self.name)
        err = x - y
        return np.column_stack([valid.astype(float), np.abs(err), err * err])

    def _mean(self, sums: np.ndarray, column: int) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            m = sums[..., 0]
            return np.where(m > 0, sums[..., column] / np.where(m > 0, m, 1.0), np.nan)


class MeanAbsoluteError(_ErrorMetric):
    """Mean absolute error over valid pairs."""

    name: ClassVar[str] = "mae"
    description: ClassVar[str] = "mean absolute error"

    def aggregate_sums(self, sums: np.ndarray, n: int) -> np.ndarray:
        """Summed |error| over the number of valid pairs."""
        return self._mean(sums, 1)


class RootMeanSquaredError(_ErrorMetric):
    """Root of the mean squared error over valid pairs."""

    name: ClassVar[str] = "rmse"
    description: ClassVar[str] = "root mean squared error"

    def aggregate_sums(self, sums: np.ndarray, n: int) -> np.ndarray:
        """sqrt(summed squared error / number of valid pairs)."""
        return np.sqrt(self._mean(sums, 2))


NUMERIC_METRICS: tuple[type[Metric], ...] = (
    ConcordanceCorrelation,
    PearsonCorrelation,
    SpearmanCorrelation,
    MeanAbsoluteError,
    RootMeanSquaredError,
)


@hookimpl
def register_metrics(register: Callable[..., None]) -> None:
    """Register ccc, pearson, spearman, mae and rmse."""
    for metric in NUMERIC_METRICS:
        register(metric())
