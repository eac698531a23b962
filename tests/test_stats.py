"""Seeded percentile bootstrap: determinism, interval width, undefined intervals, chunking."""

from __future__ import annotations

import numpy as np
import pytest

from voxeval import stats


def _mean(stacked: np.ndarray) -> np.ndarray:
    """Aggregate (b × n × 1) resamples to their means."""
    return stacked[..., 0].mean(axis=-1)


def _bernoulli(n: int, p: float = 0.3, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).random(n) < p).astype(float)[:, None]


def test_distribution_is_deterministic_for_a_seed() -> None:
    data = _bernoulli(200)
    a = stats.bootstrap_distribution(data, _mean, 300, seed=5)
    b = stats.bootstrap_distribution(data, _mean, 300, seed=5)
    c = stats.bootstrap_distribution(data, _mean, 300, seed=6)
    assert a.shape == (300,)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_resamples_draw_rows_of_the_data() -> None:
    # Every resample mean lies within the data's range and is a multiple of 1/n.
    data = np.array([[0.0], [1.0], [2.0], [10.0]])
    dist = stats.bootstrap_distribution(data, _mean, 200, seed=0)
    assert dist.min() >= 0.0 and dist.max() <= 10.0
    np.testing.assert_allclose(dist * 4, np.round(dist * 4))
    assert len(np.unique(dist)) > 5


def test_interval_narrows_as_n_grows() -> None:
    small = _bernoulli(50, seed=1)
    large = _bernoulli(5000, seed=1)
    lo_s, hi_s = stats.percentile_interval(stats.bootstrap_distribution(small, _mean, 1000, 0))
    lo_l, hi_l = stats.percentile_interval(stats.bootstrap_distribution(large, _mean, 1000, 0))
    assert None not in (lo_s, hi_s, lo_l, hi_l)
    assert hi_l - lo_l < hi_s - lo_s
    # Width of a 95% CI for p=0.3, n=5000 is about 2 * 1.96 * sqrt(.21/5000) ≈ 0.025.
    assert 0.015 < hi_l - lo_l < 0.04
    assert lo_l <= 0.3 <= hi_l
    assert lo_l <= large.mean() <= hi_l


def test_percentile_interval_matches_quantiles() -> None:
    values = np.arange(1001, dtype=float)
    low, high = stats.percentile_interval(values, 0.9)
    assert low == pytest.approx(50.0)
    assert high == pytest.approx(950.0)


def test_percentile_interval_ignores_a_few_nans() -> None:
    values = np.concatenate([np.arange(100, dtype=float), np.full(10, np.nan)])
    low, high = stats.percentile_interval(values, 0.95)
    assert low is not None and high is not None
    assert np.isfinite(low) and np.isfinite(high)


def test_percentile_interval_undefined_when_mostly_nan() -> None:
    values = np.concatenate([np.arange(10, dtype=float), np.full(90, np.nan)])
    assert stats.percentile_interval(values) == (None, None)
    assert stats.percentile_interval(np.full(5, np.nan)) == (None, None)
    assert stats.percentile_interval(np.empty(0)) == (None, None)
    assert stats.percentile_interval(np.array([np.inf, -np.inf, 1.0])) == (None, None)


def test_chunking_still_gives_all_resamples() -> None:
    # 5000 × 4 = 20,000 elements → per_chunk = 8,000,000 // 20,000 = 400 < 1000 resamples.
    n, k, n_resamples = 5000, 4, 1000
    data = np.random.default_rng(0).random((n, k))
    assert stats._CHUNK_ELEMENTS // data.size < n_resamples
    calls: list[int] = []

    def aggregate(stacked: np.ndarray) -> np.ndarray:
        calls.append(stacked.shape[0])
        assert stacked.shape[1:] == (n, k)
        return stacked[..., 0].mean(axis=-1)

    dist = stats.bootstrap_distribution(data, aggregate, n_resamples, seed=3)
    assert dist.shape == (n_resamples,)
    assert np.isfinite(dist).all()
    assert len(calls) > 1
    assert sum(calls) == n_resamples
    again = stats.bootstrap_distribution(data, _mean, n_resamples, seed=3)
    np.testing.assert_array_equal(dist, again)


def test_chunking_with_non_divisible_resample_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stats, "_CHUNK_ELEMENTS", 7 * 10)  # 10 × 1 data → 7 per chunk
    data = np.arange(10, dtype=float)[:, None]
    dist = stats.bootstrap_distribution(data, _mean, 25, seed=0)
    assert dist.shape == (25,)


def test_zero_resamples_is_empty() -> None:
    assert stats.bootstrap_distribution(_bernoulli(10), _mean, 0, seed=0).shape == (0,)


# Count-based paths: the same draws as the gather path, whatever the chunking.


def _draws(n: int, n_resamples: int, seed: int) -> np.ndarray:
    """The bootstrap's indices drawn in one call: what every path must reproduce."""
    return np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))


def _counts(idx: np.ndarray) -> np.ndarray:
    return np.stack([np.bincount(row, minlength=idx.shape[1]) for row in idx])


@pytest.mark.parametrize("n", [1, 2, 7, 10, 9_999])
def test_draws_do_not_depend_on_how_they_are_split(n: int) -> None:
    # The seed semantics of every path rest on this property of numpy's generator.
    rng = np.random.default_rng(4)
    parts = [rng.integers(0, n, size=(b, n)) for b in (1, 3, 1, 8, 2)]
    np.testing.assert_array_equal(np.concatenate(parts), _draws(n, 15, 4))


@pytest.mark.parametrize(("n", "rows", "elements"), [(10, 4, 20), (37, 5, 74), (500, 64, 10**6)])
def test_resample_counts_count_the_drawn_rows(
    monkeypatch: pytest.MonkeyPatch, n: int, rows: int, elements: int
) -> None:
    monkeypatch.setattr(stats, "_COUNT_ELEMENTS", elements)  # blocks of 2 draws when small
    chunks = list(stats.resample_counts(n, 23, seed=6, rows=rows))
    assert [len(c) for c in chunks[:-1]] == [rows] * (len(chunks) - 1)
    assert all(c.dtype == np.float64 for c in chunks)
    np.testing.assert_array_equal(np.concatenate(chunks), _counts(_draws(n, 23, 6)))


@pytest.mark.parametrize(("n", "per_chunk"), [(3, 1000), (1000, 1000), (3001, 37), (3001, 400)])
def test_sum_distribution_is_the_chunked_product_bit_for_bit(
    monkeypatch: pytest.MonkeyPatch, n: int, per_chunk: int
) -> None:
    # The counts of the drawn rows times the statistics, one chunk of resamples per product
    # (BLAS rounds a row differently by its place in the call, e.g. in a 37-row product).
    monkeypatch.setattr(stats, "_SUM_ELEMENTS", n * per_chunk)
    data = np.random.default_rng(1).normal(0, 3.3, (n, 6))
    counts = _counts(_draws(n, 1000, 8)).astype(float)
    expected = np.concatenate([counts[s : s + per_chunk] @ data for s in range(0, 1000, per_chunk)])
    dist = stats.bootstrap_sum_distribution(data, lambda sums, _: sums[:, 0] - sums[:, 5], 1000, 8)
    np.testing.assert_array_equal(dist, expected[:, 0] - expected[:, 5])


def test_sum_distribution_equals_gathered_sums_for_integer_statistics() -> None:
    # Integer sums are exact in any order: the matmul path equals gathering the rows.
    data = np.random.default_rng(2).integers(0, 5, (300, 3)).astype(float)
    dist = stats.bootstrap_sum_distribution(data, lambda sums, n: sums[:, 1] / n, 200, 3)
    brute = stats.bootstrap_distribution(data, lambda st: st[..., 1].sum(-1) / 300, 200, 3)
    np.testing.assert_array_equal(dist, brute)


def test_count_distribution_sees_every_resample_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stats, "_COUNT_ELEMENTS", 3 * 50)  # 3 resamples per chunk
    seen: list[np.ndarray] = []

    def aggregate(counts: np.ndarray) -> np.ndarray:
        seen.append(counts)
        return counts[:, 0]

    dist = stats.bootstrap_count_distribution(50, aggregate, 10, seed=9)
    expected = _counts(_draws(50, 10, 9))
    assert [len(c) for c in seen] == [3, 3, 3, 1]
    np.testing.assert_array_equal(np.concatenate(seen), expected)
    np.testing.assert_array_equal(dist, expected[:, 0])
    assert stats.bootstrap_count_distribution(50, aggregate, 0, seed=9).shape == (0,)
