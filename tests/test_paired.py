"""Paired bootstrap: real and null differences, shared resamples, p-value estimator, edges."""

from __future__ import annotations

import numpy as np
import pytest

from voxeval.metrics import compute, get_metric
from voxeval.paired import (
    bootstrap_p_value,
    compare_predictions,
    delta_distribution,
    paired_bootstrap,
)

N = 500


def _answers(wrong: range | list[int], n: int = N) -> list[str]:
    """Label answers to references "yes"/"no" (alternating), wrong at the given rows."""
    refs = _refs(n)
    bad = set(wrong)
    return [("no" if r == "yes" else "yes") if i in bad else r for i, r in enumerate(refs)]


def _refs(n: int = N) -> list[str]:
    return ["yes" if i % 2 else "no" for i in range(n)]


def test_real_difference_is_found() -> None:
    rng = np.random.default_rng(0)
    order = rng.permutation(N)
    preds_a = _answers(order[:200].tolist())  # accuracy 0.6
    preds_b = _answers(order[:50].tolist())  # accuracy 0.9
    result = compare_predictions("accuracy", preds_a, preds_b, _refs())
    assert result.value_a == pytest.approx(0.6)
    assert result.value_b == pytest.approx(0.9)
    assert result.delta == pytest.approx(0.3)
    assert result.p_value is not None and result.p_value < 0.01
    assert result.ci_low is not None and result.ci_high is not None
    assert 0 < result.ci_low <= result.delta <= result.ci_high
    assert result.n == N and result.higher_is_better is True
    assert result.params["labels"] == "inferred"
    assert result.params["resamples"] == 1000


def test_null_difference_is_not_significant() -> None:
    # Same accuracy (0.8), different errors.
    preds_a = _answers(range(0, 100))
    preds_b = _answers(range(100, 200))
    result = compare_predictions("accuracy", preds_a, preds_b, _refs())
    assert result.delta == pytest.approx(0.0)
    assert result.ci_low is not None and result.ci_high is not None
    assert result.ci_low < 0 < result.ci_high
    assert result.p_value is not None and result.p_value > 0.05


def test_pairing_detects_what_separate_intervals_cannot() -> None:
    # B fixes 20 of A's 150 errors and breaks nothing: the separate 95% CIs overlap, but
    # every resample shows B ahead.
    preds_a = _answers(range(150))
    preds_b = _answers(range(20, 150))
    a = compute("accuracy", preds_a, _refs())
    b = compute("accuracy", preds_b, _refs())
    assert a.ci_high is not None and b.ci_low is not None and b.ci_low < a.ci_high
    result = compare_predictions("accuracy", preds_a, preds_b, _refs())
    assert result.ci_low is not None and result.ci_low > 0
    assert result.p_value == pytest.approx(1 / 1001)


def test_identical_runs() -> None:
    preds = _answers(range(0, 500, 7))
    result = compare_predictions("uar", preds, preds, _refs(), n_resamples=200)
    assert result.delta == 0.0
    assert (result.ci_low, result.ci_high) == (0.0, 0.0)
    assert result.p_value == 1.0


def test_deterministic_by_seed() -> None:
    preds_a, preds_b = _answers(range(0, 120)), _answers(range(60, 160))
    a = compare_predictions("macro_f1", preds_a, preds_b, _refs(), seed=5, n_resamples=300)
    b = compare_predictions("macro_f1", preds_a, preds_b, _refs(), seed=5, n_resamples=300)
    c = compare_predictions("macro_f1", preds_a, preds_b, _refs(), seed=6, n_resamples=300)
    assert a == b
    assert (a.ci_low, a.ci_high) != (c.ci_low, c.ci_high)
    assert a.delta == c.delta


@pytest.mark.parametrize("name", ["accuracy", "uar", "macro_f1"])
def test_same_indices_for_both_runs(name: str) -> None:
    # The matmul path gives, resample by resample, value(B[rows]) − value(A[rows]).
    preds_a, preds_b, refs = _answers(range(0, 10)), _answers(range(5, 25)), _refs()
    refs, preds_a, preds_b = refs[:40], preds_a[:40], preds_b[:40]
    metric = get_metric(name)
    stats_a = metric.sample_stats(preds_a, refs)
    stats_b = metric.sample_stats(preds_b, refs)
    deltas = delta_distribution(metric, stats_a, stats_b, 30, seed=4)
    idx = np.random.default_rng(4).integers(0, 40, size=(30, 40))
    for value, rows in zip(deltas, idx, strict=True):
        a = compute(name, [preds_a[i] for i in rows], [refs[i] for i in rows], n_resamples=0)
        b = compute(name, [preds_b[i] for i in rows], [refs[i] for i in rows], n_resamples=0)
        assert a.value is not None and b.value is not None
        assert value == pytest.approx(b.value - a.value, abs=1e-12)


def test_spearman_uses_the_generic_path() -> None:
    rng = np.random.default_rng(3)
    truth = rng.normal(size=300)
    noisy = (truth + rng.normal(scale=1.5, size=300)).tolist()
    close = (truth + rng.normal(scale=0.3, size=300)).tolist()
    result = compare_predictions("spearman", noisy, close, truth.tolist(), n_resamples=300)
    assert not get_metric("spearman").sum_decomposable
    assert result.value_a == pytest.approx(compute("spearman", noisy, truth.tolist()).value)
    assert result.delta is not None and result.delta > 0
    assert result.ci_low is not None and result.ci_low > 0
    assert result.p_value is not None and result.p_value < 0.01


def test_lower_is_better_sign() -> None:
    rng = np.random.default_rng(1)
    truth = rng.normal(5, 2, 400)
    worse = (truth + rng.normal(0, 2.0, 400)).tolist()
    better = (truth + rng.normal(0, 0.5, 400)).tolist()
    result = compare_predictions("mae", worse, better, truth.tolist(), n_resamples=300)
    assert result.higher_is_better is False
    assert result.delta is not None and result.delta < 0  # B's error is lower
    assert result.ci_high is not None and result.ci_high < 0


def test_paired_bootstrap_on_stats_directly() -> None:
    metric = get_metric("accuracy")
    refs = _refs(100)
    stats_a = metric.sample_stats(_answers(range(30), 100), refs)
    stats_b = metric.sample_stats(_answers(range(10), 100), refs)
    result = paired_bootstrap("accuracy", stats_a, stats_b, n_resamples=500, seed=1)
    assert result.delta == pytest.approx(0.2)
    assert result.params["seed"] == 1 and result.params["resamples"] == 500
    with pytest.raises(ValueError, match="100 samples in run A but 99"):
        paired_bootstrap("accuracy", stats_a, stats_b[:99])


def test_edges() -> None:
    empty = compare_predictions("accuracy", [], [], [])
    assert (empty.n, empty.delta, empty.ci_low, empty.p_value) == (0, None, None, None)
    one = compare_predictions("accuracy", ["a"], ["b"], ["a"])
    assert one.delta == -1.0 and one.ci_low is None and one.p_value is None
    undefined = compare_predictions("ccc", [None, None], [1.0, 2.0], [1.0, 3.0])
    assert undefined.delta is None and undefined.p_value is None
    with pytest.raises(ValueError, match="2 predictions in run A, 1 in run B, 2 references"):
        compare_predictions("accuracy", ["a", "b"], ["a"], ["a", "b"])


def test_p_value_estimator() -> None:
    # 2 × min(#≤0, #≥0) / B, floored at 1/(B+1); zeros count on both sides.
    assert bootstrap_p_value(np.array([1.0, 2.0, 3.0, -1.0])) == pytest.approx(0.5)
    assert bootstrap_p_value(np.array([1.0, 2.0, 0.0, 4.0])) == pytest.approx(0.5)
    assert bootstrap_p_value(np.arange(1.0, 100.0)) == pytest.approx(1 / 100)
    assert bootstrap_p_value(np.array([-1.0, 1.0, np.nan])) == 1.0
    assert bootstrap_p_value(np.array([np.nan])) is None
