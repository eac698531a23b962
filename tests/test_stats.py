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
