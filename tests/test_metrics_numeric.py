"""CCC, Pearson, Spearman, MAE, RMSE: agreement with numpy/scipy, dropped pairs, edges, CI."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.stats

from voxeval import stats
from voxeval.metrics import compute, get_metric, numeric, summarize
from voxeval.paired import delta_distribution

SEEDS = [0, 1, 2, 3, 7]
ALL = ["ccc", "pearson", "spearman", "mae", "rmse"]


def ccc_reference(x: np.ndarray, y: np.ndarray) -> float:
    """CCC written out directly from the definition (population statistics)."""
    cov = np.mean((x - x.mean()) * (y - y.mean()))
    return 2 * cov / (x.var() + y.var() + (x.mean() - y.mean()) ** 2)


def references(name: str, x: np.ndarray, y: np.ndarray) -> float:
    """The reference implementation of each metric."""
    if name == "ccc":
        return ccc_reference(x, y)
    if name == "pearson":
        return float(scipy.stats.pearsonr(x, y)[0])
    if name == "spearman":
        return float(scipy.stats.spearmanr(x, y)[0])
    if name == "mae":
        return float(np.mean(np.abs(x - y)))
    return float(np.sqrt(np.mean((x - y) ** 2)))


def _scores(seed: int, n: int = 200, loc: float = 5.0) -> tuple[np.ndarray, np.ndarray]:
    """Correlated predictions and references; rounded so that ranks have ties."""
    rng = np.random.default_rng(seed)
    y = np.round(rng.normal(loc, 2.0, n), 1)
    x = np.round(0.7 * y + rng.normal(0, 1.5, n) + 1.0, 1)
    return x, y


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("seed", SEEDS)
def test_matches_reference_on_random_data(name: str, seed: int) -> None:
    x, y = _scores(seed)
    result = compute(name, list(x), list(y), n_resamples=0)
    assert result.value == pytest.approx(references(name, x, y), abs=1e-9)
    assert result.n == len(x)
    assert result.details == {"n_valid": len(x), "n_dropped": 0}


@pytest.mark.parametrize("name", ALL)
def test_large_offset_keeps_precision(name: str) -> None:
    # Values near 1e6 with unit spread: raw sums of squares would cancel catastrophically.
    x, y = _scores(5, loc=0.0)
    x, y = x + 1e6, y + 1e6
    result = compute(name, x.tolist(), y.tolist(), n_resamples=0)
    assert result.value == pytest.approx(references(name, x, y), abs=1e-9)


def test_higher_is_better_flags() -> None:
    assert [get_metric(n).higher_is_better for n in ALL] == [True, True, True, False, False]


@pytest.mark.parametrize("name", ALL)
def test_none_and_nan_pairs_are_dropped(name: str) -> None:
    x, y = _scores(11, n=80)
    preds: list[object] = list(x)
    refs: list[object] = list(y)
    preds[3], refs[10], preds[20], refs[20], preds[40] = None, float("nan"), None, None, np.inf
    keep = np.ones(len(x), bool)
    keep[[3, 10, 20, 40]] = False
    result = compute(name, preds, refs, n_resamples=200)
    assert result.value == pytest.approx(references(name, x[keep], y[keep]), abs=1e-9)
    assert result.n == 80
    assert result.details == {"n_valid": 76, "n_dropped": 4}
    assert result.ci_low is not None and result.ci_high is not None
    assert result.ci_low <= result.value <= result.ci_high


@pytest.mark.parametrize("name", ALL)
def test_all_dropped_is_undefined(name: str) -> None:
    result = compute(name, [None, 1.0, float("nan")], [2.0, None, 3.0])
    assert result.value is None
    assert result.ci_low is None and result.ci_high is None
    assert result.details == {"n_valid": 0, "n_dropped": 3}


@pytest.mark.parametrize("name", ALL)
def test_empty(name: str) -> None:
    result = compute(name, [], [])
    assert (result.n, result.value, result.ci_low, result.ci_high) == (0, None, None, None)


@pytest.mark.parametrize(("name", "expected"), [("mae", 1.5), ("rmse", 1.5)])
def test_single_pair_errors_defined(name: str, expected: float) -> None:
    result = compute(name, [2.5], [1.0])
    assert result.value == pytest.approx(expected)
    assert result.ci_low is None and result.ci_high is None


@pytest.mark.parametrize("name", ["ccc", "pearson", "spearman"])
def test_single_pair_correlation_undefined(name: str) -> None:
    assert compute(name, [2.5], [1.0]).value is None


def test_two_pairs() -> None:
    x, y = np.array([1.0, 3.0]), np.array([2.0, 7.0])
    assert compute("ccc", list(x), list(y)).value == pytest.approx(ccc_reference(x, y), abs=1e-12)
    assert compute("pearson", [1, 3], [2, 7]).value == pytest.approx(1.0)
    assert compute("pearson", [1, 3], [7, 2]).value == pytest.approx(-1.0)
    assert compute("spearman", [1, 3], [7, 2]).value == pytest.approx(-1.0)
    assert compute("rmse", [1, 3], [2, 7]).value == pytest.approx(np.sqrt((1 + 16) / 2))


def test_constant_predictions() -> None:
    refs = [0.0, 5.0, 10.0, 5.0, 2.5]
    preds = [0.1] * 5  # 0.1 is inexact in binary: the mean of copies is not exactly 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(scipy.stats.pearsonr(preds, refs)[0])
        assert np.isnan(scipy.stats.spearmanr(preds, refs)[0])
    assert compute("pearson", preds, refs).value is None
    assert compute("spearman", preds, refs).value is None
    ccc = compute("ccc", preds, refs)
    assert ccc.value == pytest.approx(ccc_reference(np.array(preds), np.array(refs)), abs=1e-12)
    assert ccc.value == pytest.approx(0.0, abs=1e-12)
    assert compute("mae", preds, refs).value == pytest.approx(np.mean(np.abs(0.1 - np.array(refs))))


def test_ccc_zero_denominator_and_perfect_agreement() -> None:
    assert compute("ccc", [0.3, 0.3, 0.3], [0.3, 0.3, 0.3]).value is None
    assert compute("ccc", [1.0, 2.0, 4.0], [1.0, 2.0, 4.0]).value == pytest.approx(1.0)
    # Constant but different: CCC is 0, not undefined.
    assert compute("ccc", [1.0, 1.0, 1.0], [2.0, 2.0, 2.0]).value == pytest.approx(0.0)
    # Shifted copy: perfectly correlated, not concordant.
    shifted = compute("ccc", [2.0, 3.0, 5.0], [1.0, 2.0, 4.0]).value
    assert shifted is not None and shifted < 1.0
    assert compute("pearson", [2.0, 3.0, 5.0], [1.0, 2.0, 4.0]).value == pytest.approx(1.0)


def test_numeric_strings_accepted_and_garbage_rejected() -> None:
    assert compute("mae", ["1.5", 2, None], [1.0, "3", 9.0]).value == pytest.approx(0.75)
    with pytest.raises(ValueError, match=r"prediction 1 \('high'\) is not a number"):
        compute("mae", [1.0, "high"], [1.0, 2.0])
    with pytest.raises(ValueError, match="reference 0"):
        compute("ccc", [1.0, 2.0], [[1.0, 2.0], 3.0])


def test_params_recorded() -> None:
    assert compute("ccc", [1, 2], [1, 3]).params["ddof"] == 0
    assert compute("spearman", [1, 2], [1, 3]).params["ties"] == "average"
    assert "None, NaN" in compute("mae", [1, 2], [1, 3]).params["missing"]


@pytest.mark.parametrize("name", ALL)
def test_ci_contains_value_and_narrows(name: str) -> None:
    small_x, small_y = _scores(21, n=60)
    large_x, large_y = _scores(21, n=3000)
    small = compute(name, list(small_x), list(small_y), n_resamples=500)
    large = compute(name, list(large_x), list(large_y), n_resamples=500)
    for result in (small, large):
        assert result.ci_low is not None and result.ci_high is not None
        assert result.ci_low <= result.value <= result.ci_high
    assert large.ci_high - large.ci_low < 0.5 * (small.ci_high - small.ci_low)


@pytest.mark.parametrize("name", ALL)
def test_ci_is_seeded(name: str) -> None:
    x, y = _scores(4, n=100)
    a = compute(name, list(x), list(y), seed=9, n_resamples=300)
    b = compute(name, list(x), list(y), seed=9, n_resamples=300)
    c = compute(name, list(x), list(y), seed=10, n_resamples=300)
    assert (a.ci_low, a.ci_high) == (b.ci_low, b.ci_high)
    assert (a.ci_low, a.ci_high) != (c.ci_low, c.ci_high)


@pytest.mark.parametrize("name", ["ccc", "pearson", "mae", "rmse"])
def test_sum_path_equals_resampled_reference(name: str) -> None:
    # The matmul bootstrap must give, resample by resample, the metric of the resampled pairs.
    x, y = _scores(8, n=40)
    x[[2, 9]] = np.nan
    metric = get_metric(name)
    assert metric.sum_decomposable
    sample_stats = metric.sample_stats(list(x), list(y))
    dist = stats.bootstrap_sum_distribution(sample_stats, metric.aggregate_sums, 50, seed=2)
    idx = np.random.default_rng(2).integers(0, len(x), size=(50, len(x)))
    for value, rows in zip(dist, idx, strict=True):
        keep = rows[~np.isnan(x[rows])]
        assert value == pytest.approx(references(name, x[keep], y[keep]), abs=1e-9)


@pytest.mark.parametrize("path", ["counted", "gathered"])
def test_spearman_ranks_each_resample(path: str) -> None:
    x, y = _scores(9, n=30)
    x[5] = np.nan
    metric = get_metric("spearman")
    sample_stats = metric.sample_stats(list(x), list(y))
    if path == "counted":
        dist = metric.bootstrap_distribution(sample_stats, 40, seed=1)
    else:
        dist = stats.bootstrap_distribution(sample_stats, metric.aggregate, 40, seed=1)
    idx = np.random.default_rng(1).integers(0, len(x), size=(40, len(x)))
    for value, rows in zip(dist, idx, strict=True):
        keep = rows[~np.isnan(x[rows])]
        assert value == pytest.approx(references("spearman", x[keep], y[keep]), abs=1e-9)


def _spearman_cases() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Data that exercises every branch of ranking by counts."""
    rng = np.random.default_rng(12)
    y = rng.normal(0, 1, 400)
    x = y + rng.normal(0, 1, 400)
    dropped = x.copy()
    dropped[rng.random(400) < 0.2] = np.nan
    return {
        "continuous": (x, y),
        "dropped": (dropped, y),
        "ties in x": (np.round(x), y),
        "ties in y": (x, np.round(y * 2)),
        "repeated pairs": (np.clip(np.round(x + 5), 0, 10), np.round(y * 2) / 2),
        "constant x": (np.full(400, 3.0), y),
        "tiny": (x[:3], y[:3]),
        "all dropped but one": (np.where(np.arange(400) == 7, 1.0, np.nan), y),
    }


@pytest.mark.parametrize("case", list(_spearman_cases()))
@pytest.mark.parametrize("subset", [False, True])
def test_spearman_counted_bootstrap_equals_reranking_bit_for_bit(case: str, subset: bool) -> None:
    # Counting must give exactly what gathering and re-ranking gave: same seed, same bits.
    x, y = _spearman_cases()[case]
    metric = get_metric("spearman")
    sample_stats = metric.sample_stats(list(x), list(y))
    if subset:  # a breakdown: codes with gaps
        sample_stats = sample_stats[np.arange(len(x)) % 3 != 1]
    assert metric.count_aggregate(sample_stats) is not None
    counted = metric.bootstrap_distribution(sample_stats, 300, seed=4)
    gathered = stats.bootstrap_distribution(sample_stats, metric.aggregate, 300, seed=4)
    np.testing.assert_array_equal(counted, gathered)
    np.testing.assert_array_equal(np.signbit(counted), np.signbit(gathered))


def test_spearman_interval_is_unchanged_bit_for_bit() -> None:
    x, y = _scores(14, n=2000)
    x[::17] = np.nan
    result = compute("spearman", list(x), list(y), seed=3)
    metric = get_metric("spearman")
    gathered = stats.bootstrap_distribution(
        metric.sample_stats(list(x), list(y)), metric.aggregate, 1000, 3
    )
    assert (result.ci_low, result.ci_high) == stats.percentile_interval(gathered)


def test_spearman_gathers_above_the_exact_size(monkeypatch: pytest.MonkeyPatch) -> None:
    x, y = _scores(15, n=50)
    metric = get_metric("spearman")
    sample_stats = metric.sample_stats(list(x), list(y))
    monkeypatch.setattr(numeric, "COUNTED_RANK_ROWS", 49)
    assert metric.count_aggregate(sample_stats) is None
    calls: list[int] = []
    gather = stats.bootstrap_distribution
    monkeypatch.setattr(stats, "bootstrap_distribution", lambda *a: calls.append(1) or gather(*a))
    dist = metric.bootstrap_distribution(sample_stats, 20, seed=2)
    assert calls == [1]
    np.testing.assert_array_equal(dist, gather(sample_stats, metric.aggregate, 20, 2))


def test_paired_spearman_counts_equal_gathered_differences() -> None:
    x, y = _scores(16, n=300)
    b = np.round(0.5 * x + 0.5 * y, 1)
    x[::11] = np.nan
    metric = get_metric("spearman")
    stats_a, stats_b = metric.sample_stats(list(x), list(y)), metric.sample_stats(list(b), list(y))
    deltas = delta_distribution(metric, stats_a, stats_b, 400, seed=5)
    both = np.hstack([stats_a, stats_b])
    gathered = stats.bootstrap_distribution(
        both, lambda st: metric.aggregate(st[..., 2:]) - metric.aggregate(st[..., :2]), 400, 5
    )
    np.testing.assert_array_equal(deltas, gathered)


@pytest.mark.parametrize("name", ALL)
def test_row_subsets_score_like_their_own_data(name: str) -> None:
    # Breakdowns summarise stats[rows]: the shift chosen on all rows must not matter.
    x, y = _scores(13, n=120)
    metric = get_metric(name)
    rows = np.arange(0, 120, 3)
    subset = summarize(metric, metric.sample_stats(list(x), list(y))[rows], {}, n_resamples=0)
    assert subset.value == pytest.approx(references(name, x[rows], y[rows]), abs=1e-9)


def test_resample_ranks_match_rankdata() -> None:
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 6, size=(3, 4, 25)).astype(float)
    valid = rng.random((3, 4, 25)) < 0.8
    ranks = numeric.resample_ranks(codes, valid)
    for i in range(3):
        for j in range(4):
            keep = valid[i, j]
            expected = scipy.stats.rankdata(codes[i, j][keep])
            np.testing.assert_allclose(ranks[i, j][keep], expected, atol=1e-12)
