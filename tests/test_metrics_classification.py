"""Accuracy, UAR, macro-F1, refusal rate: hand cases, numpy references, invalid answers, CI."""

from __future__ import annotations

import numpy as np
import pytest

from voxeval import stats
from voxeval.metrics import compute, get_metric, summarize

SEEDS = [0, 1, 2, 3, 7]
LABELS = ["angry", "happy", "neutral", "sad"]


def confusion(true: list[str], pred: list[object], labels: list[str]) -> np.ndarray:
    """Confusion matrix by counting; predictions outside `labels` are left out."""
    matrix = np.zeros((len(labels), len(labels)), dtype=int)
    for t, p in zip(true, pred, strict=True):
        if p in labels:
            matrix[labels.index(t), labels.index(p)] += 1
    return matrix


def balanced_accuracy(true: list[str], pred: list[object], labels: list[str]) -> float:
    """sklearn's balanced_accuracy_score: mean recall over classes present in `true`."""
    recalls = []
    for label in labels:
        support = sum(t == label for t in true)
        if support:
            hits = sum(t == label and p == label for t, p in zip(true, pred, strict=True))
            recalls.append(hits / support)
    return float(np.mean(recalls))


def macro_f1(true: list[str], pred: list[object], labels: list[str]) -> float:
    """Mean F1 over classes with a true or predicted sample; 0/0 precision or recall is 0."""
    scores = []
    for label in labels:
        tp = sum(t == label and p == label for t, p in zip(true, pred, strict=True))
        fp = sum(t != label and p == label for t, p in zip(true, pred, strict=True))
        fn = sum(t == label and p != label for t, p in zip(true, pred, strict=True))
        if tp + fp + fn == 0:
            continue
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if tp else 0.0)
    return float(np.mean(scores))


def _labels(seed: int, n: int = 150) -> tuple[list[str], list[object]]:
    """References skewed across classes; predictions right ~60%, else random or invalid."""
    rng = np.random.default_rng(seed)
    true = list(rng.choice(LABELS, size=n, p=[0.1, 0.2, 0.5, 0.2]))
    pred: list[object] = []
    for t in true:
        r = rng.random()
        pred.append(
            t if r < 0.6 else None if r < 0.65 else "bored" if r < 0.7 else rng.choice(LABELS)
        )
    return [str(t) for t in true], [p if p is None else str(p) for p in pred]


# Hand example: 3 classes, one unmappable answer (None) and one out-of-set label ("x").
HAND_REFS = ["a", "b", "c", "a", "b", "a"]
HAND_PREDS: list[object] = ["a", "c", "c", None, "b", "x"]


def test_hand_example_values_and_confusion() -> None:
    labels = ["a", "b", "c"]
    acc = compute("accuracy", HAND_PREDS, HAND_REFS, labels=labels)
    uar = compute("uar", HAND_PREDS, HAND_REFS, labels=labels)
    f1 = compute("macro_f1", HAND_PREDS, HAND_REFS, labels=labels)
    assert acc.value == pytest.approx(3 / 6)
    assert uar.value == pytest.approx((1 / 3 + 1 / 2 + 1) / 3)
    # F1: a 2·1/(3+1), b 2·1/(2+1), c 2·1/(1+2).
    assert f1.value == pytest.approx((2 / 4 + 2 / 3 + 2 / 3) / 3)
    for result in (acc, uar, f1):
        assert result.details["labels"] == labels
        assert result.details["confusion_matrix"] == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
        assert result.details["invalid_predictions"] == 2
        assert result.details["correct"] == 3
        assert result.params["labels"] == labels
    assert uar.details["per_class_recall"] == pytest.approx({"a": 1 / 3, "b": 0.5, "c": 1.0})
    assert f1.details["per_class_f1"] == pytest.approx({"a": 0.5, "b": 2 / 3, "c": 2 / 3})


def test_hand_example_inferred_labels() -> None:
    # Inferred labels include predicted strings: "x" becomes a class (F1 0); None stays invalid.
    f1 = compute("macro_f1", HAND_PREDS, HAND_REFS)
    assert f1.details["labels"] == ["a", "b", "c", "x"]
    assert f1.details["invalid_predictions"] == 1
    assert f1.details["confusion_matrix"][0] == [1, 0, 0, 1]
    assert f1.value == pytest.approx((2 / 4 + 2 / 3 + 2 / 3 + 0) / 4)
    assert f1.params["labels"] == "inferred"
    # UAR only averages classes present in the references.
    uar = compute("uar", HAND_PREDS, HAND_REFS)
    assert uar.value == pytest.approx((1 / 3 + 1 / 2 + 1) / 3)
    assert uar.details["per_class_recall"]["x"] is None


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("inferred", [False, True])
def test_matches_references_on_random_data(seed: int, inferred: bool) -> None:
    true, pred = _labels(seed)
    params = {} if inferred else {"labels": LABELS}
    labels = sorted({*true, *(p for p in pred if p is not None)}) if inferred else LABELS
    acc = compute("accuracy", pred, true, n_resamples=0, **params)
    uar = compute("uar", pred, true, n_resamples=0, **params)
    f1 = compute("macro_f1", pred, true, n_resamples=0, **params)
    correct = [t == p for t, p in zip(true, pred, strict=True)]
    assert acc.value == pytest.approx(np.mean(correct), abs=1e-9)
    assert uar.value == pytest.approx(balanced_accuracy(true, pred, labels), abs=1e-9)
    assert f1.value == pytest.approx(macro_f1(true, pred, labels), abs=1e-9)
    expected_invalid = sum(p not in labels for p in pred)
    assert expected_invalid > 0
    for result in (acc, uar, f1):
        assert result.details["labels"] == labels
        assert result.details["confusion_matrix"] == confusion(true, pred, labels).tolist()
        assert result.details["invalid_predictions"] == expected_invalid


def test_uar_is_not_accuracy_on_imbalanced_data() -> None:
    # Always answering the majority class: accuracy 0.9, UAR 0.5, macro-F1 well below.
    true = ["neutral"] * 90 + ["angry"] * 10
    pred = ["neutral"] * 100
    assert compute("accuracy", pred, true).value == pytest.approx(0.9)
    assert compute("uar", pred, true).value == pytest.approx(0.5)
    assert compute("macro_f1", pred, true).value == pytest.approx((2 * 90 / 190 + 0) / 2)


def test_class_without_samples_is_excluded() -> None:
    # "sad" is a label nobody said or predicted: it does not drag the macro averages down.
    true, pred = ["angry", "happy", "happy"], ["angry", "happy", "angry"]
    with_extra = compute("macro_f1", pred, true, labels=["angry", "happy", "sad"])
    without = compute("macro_f1", pred, true, labels=["angry", "happy"])
    assert with_extra.value == pytest.approx(without.value)
    assert with_extra.value == pytest.approx((2 / 3 + 2 / 3) / 2)
    assert with_extra.details["per_class_f1"]["sad"] is None
    assert compute("uar", pred, true, labels=["angry", "happy", "sad"]).value == pytest.approx(0.75)


def test_all_predictions_invalid() -> None:
    true = ["a", "b", "a"]
    for name in ("accuracy", "uar", "macro_f1"):
        result = compute(name, [None, "zzz", None], true, labels=["a", "b"])
        assert result.value == 0.0
        assert result.details["invalid_predictions"] == 3
        assert result.details["confusion_matrix"] == [[0, 0], [0, 0]]


def test_bad_references_and_labels_raise() -> None:
    with pytest.raises(ValueError, match=r"reference 1 \('calm'\) is not one of the labels"):
        compute("accuracy", ["a", "a"], ["a", "calm"], labels=["a", "b"])
    with pytest.raises(ValueError, match="reference 0"):
        compute("uar", ["a"], [None])
    with pytest.raises(ValueError, match="duplicates"):
        compute("macro_f1", ["a"], ["a"], labels=["a", "a"])


@pytest.mark.parametrize("name", ["accuracy", "uar", "macro_f1"])
def test_single_and_empty(name: str) -> None:
    one = compute(name, ["a"], ["a"])
    assert one.value == 1.0 and one.n == 1
    assert one.ci_low is None and one.ci_high is None
    empty = compute(name, [], [])
    assert (empty.n, empty.value, empty.ci_low) == (0, None, None)


@pytest.mark.parametrize("name", ["accuracy", "uar", "macro_f1"])
def test_ci_contains_value_narrows_and_is_seeded(name: str) -> None:
    small_true, small_pred = _labels(5, n=80)
    large_true, large_pred = _labels(5, n=4000)
    small = compute(name, small_pred, small_true, labels=LABELS, n_resamples=400, seed=3)
    large = compute(name, large_pred, large_true, labels=LABELS, n_resamples=400, seed=3)
    for result in (small, large):
        assert result.ci_low is not None and result.ci_high is not None
        assert result.ci_low <= result.value <= result.ci_high
    assert large.ci_high - large.ci_low < 0.5 * (small.ci_high - small.ci_low)
    again = compute(name, small_pred, small_true, labels=LABELS, n_resamples=400, seed=3)
    other = compute(name, small_pred, small_true, labels=LABELS, n_resamples=400, seed=4)
    assert (again.ci_low, again.ci_high) == (small.ci_low, small.ci_high)
    assert (other.ci_low, other.ci_high) != (small.ci_low, small.ci_high)


@pytest.mark.parametrize("name", ["accuracy", "uar", "macro_f1"])
def test_sum_path_equals_resampled_reference(name: str) -> None:
    true, pred = _labels(6, n=50)
    metric = get_metric(name)
    assert metric.sum_decomposable
    sample_stats = metric.sample_stats(pred, true, labels=LABELS)
    dist = stats.bootstrap_sum_distribution(sample_stats, metric.aggregate_sums, 40, seed=2)
    idx = np.random.default_rng(2).integers(0, len(true), size=(40, len(true)))
    reference = {"uar": balanced_accuracy, "macro_f1": macro_f1}.get(name)
    for value, rows in zip(dist, idx, strict=True):
        t, p = [true[i] for i in rows], [pred[i] for i in rows]
        if reference is None:
            expected = np.mean([a == b for a, b in zip(t, p, strict=True)])
        else:
            expected = reference(t, p, LABELS)
        assert value == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("name", ["accuracy", "uar", "macro_f1", "refusal_rate"])
def test_bootstrap_equals_gathered_resamples_bit_for_bit(name: str) -> None:
    # Counts are integers, so the counted sums are exact: the same values as gathering the
    # resampled rows and summing them, for the same seed, and so the same interval.
    true, pred = _labels(9, n=900)
    if name == "refusal_rate":
        pred, params = [p is None for p in pred], {}
    else:
        params = {"labels": LABELS}
    metric = get_metric(name)
    sample_stats = metric.sample_stats(pred, true, **params)
    dist = metric.bootstrap_distribution(sample_stats, 500, seed=6)
    gathered = stats.bootstrap_distribution(sample_stats, metric.aggregate, 500, seed=6)
    np.testing.assert_array_equal(dist, gathered)
    result = compute(name, pred, true, n_resamples=500, seed=6, **params)
    assert (result.ci_low, result.ci_high) == stats.percentile_interval(gathered)


def test_row_subsets_keep_label_names() -> None:
    # Breakdowns summarise stats[rows]: the confusion matrix must still be labelled.
    true, pred = _labels(8, n=60)
    metric = get_metric("uar")
    rows = [i for i, t in enumerate(true) if t != "angry"]
    subset = summarize(metric, metric.sample_stats(pred, true, labels=LABELS)[rows], {})
    sub_true, sub_pred = [true[i] for i in rows], [pred[i] for i in rows]
    assert subset.details["labels"] == LABELS
    assert subset.details["confusion_matrix"] == confusion(sub_true, sub_pred, LABELS).tolist()
    assert subset.value == pytest.approx(balanced_accuracy(sub_true, sub_pred, LABELS))


def test_refusal_rate() -> None:
    result = compute("refusal_rate", [True, False, 1, 0, np.True_], [None] * 5)
    assert result.value == pytest.approx(3 / 5)
    assert result.details == {"refusals": 3}
    assert result.higher_is_better is False
    assert compute("refusal_rate", [False, False], ["x", "y"]).value == 0.0
    with pytest.raises(ValueError, match=r"prediction 1 \(None\) is not a boolean"):
        compute("refusal_rate", [True, None], [None, None])
    with pytest.raises(ValueError, match="prediction 0"):
        compute("refusal_rate", [2], [None])
