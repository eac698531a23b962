"""Classification metrics over label strings: accuracy, UAR, macro-F1, and the refusal rate.

`labels` (the task's classes, in the order used for the confusion matrix) is optional; when
absent, the sorted union of the references and the predictions is used. Labels match exactly
(mapping free-text answers onto labels is the task's job). A prediction outside the label set,
None included (an answer that could not be mapped), is wrong for every metric and counted in
details as `invalid_predictions`; with inferred labels only None is invalid, because every
other predicted string becomes a class. A reference outside `labels`, or None, is an error.

All three are sum-decomposable. Per-sample statistics are the true and predicted class indices
(the predicted one is -1 when invalid), then for UAR and macro-F1 one-hot blocks of the true
class, the predicted class and the correctly predicted class, whose column sums are the
per-class support, predicted count and true positives. The arrays carry their label order
(`LabelledStats`) so that details can name the confusion matrix's rows and columns.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, ClassVar

import numpy as np

from voxeval.hookspecs import hookimpl
from voxeval.metrics import Metric

TRUE, PRED = 0, 1  # columns of the class indices; one-hot blocks follow for UAR / macro-F1
INVALID = -1


class LabelledStats(np.ndarray):
    """Per-sample statistics that carry their label order through slicing and row selection."""

    labels: tuple[Any, ...] | None

    def __array_finalize__(self, obj: Any) -> None:
        """Keep the parent's labels on views and copies."""
        self.labels = getattr(obj, "labels", None)


def with_labels(stats: np.ndarray, labels: Sequence[Any]) -> LabelledStats:
    """Attach the label order to a statistics array."""
    out = stats.view(LabelledStats)
    out.labels = tuple(labels)
    return out


def resolve_labels(
    predictions: Sequence[Any], references: Sequence[Any], labels: Sequence[Any] | None
) -> list[Any]:
    """The given labels (checked for duplicates) or the sorted union of refs and predictions."""
    if labels is not None:
        labels = list(labels)
        if len(set(labels)) != len(labels):
            raise ValueError(f"labels contain duplicates: {labels}")
        return labels
    seen = {r for r in references if r is not None and isinstance(r, Hashable)}
    seen.update(p for p in predictions if p is not None and isinstance(p, Hashable))
    try:
        return sorted(seen)
    except TypeError:
        return sorted(seen, key=str)


def encode(
    predictions: Sequence[Any],
    references: Sequence[Any],
    labels: Sequence[Any] | None,
    metric: str,
) -> tuple[list[Any], np.ndarray, np.ndarray]:
    """Label order, true class indices and predicted class indices (-1 when invalid)."""
    order = resolve_labels(predictions, references, labels)
    index = {label: i for i, label in enumerate(order)}
    true = np.empty(len(references), dtype=np.int64)
    for row, ref in enumerate(references):
        found = index.get(ref) if isinstance(ref, Hashable) else None
        if found is None:
            raise ValueError(
                f"{metric}: reference {row} ({ref!r}) is not one of the labels {order}"
            )
        true[row] = found
    pred = np.fromiter(
        (index.get(p, INVALID) if isinstance(p, Hashable) else INVALID for p in predictions),
        dtype=np.int64,
        count=len(predictions),
    )
    return order, true, pred


class _LabelMetric(Metric):
    """Shared encoding, parameters and confusion-matrix details."""

    higher_is_better: ClassVar[bool] = True
    value_range: ClassVar[tuple[float, float]] = (0.0, 1.0)
    sum_decomposable: ClassVar[bool] = True

    def sample_stats(
        self,
        predictions: Sequence[Any],
        references: Sequence[Any],
        labels: Sequence[Any] | None = None,
        **_: Any,
    ) -> np.ndarray:
        """True and predicted class indices, then the metric's own columns."""
        order, true, pred = encode(predictions, references, labels, self.name)
        columns = [true[:, None], pred[:, None], self._columns(true, pred, len(order))]
        return with_labels(np.hstack(columns).astype(float), order)

    def _columns(self, true: np.ndarray, pred: np.ndarray, k: int) -> np.ndarray:
        raise NotImplementedError

    def resolved_params(self, labels: Sequence[Any] | None = None, **_: Any) -> dict[str, Any]:
        """Record the label set (or that it was inferred) and the invalid-prediction rule."""
        return {
            "labels": list(labels) if labels is not None else "inferred",
            "invalid_predictions": "counted as wrong",
        }

    def details(self, stats: np.ndarray) -> dict[str, Any]:
        """Confusion matrix (rows true, columns predicted, in label order) and invalid count."""
        labels = list(getattr(stats, "labels", None) or [])
        true = np.asarray(stats[:, TRUE], dtype=np.int64)
        pred = np.asarray(stats[:, PRED], dtype=np.int64)
        k = max(len(labels), int(true.max(initial=-1)) + 1, int(pred.max(initial=-1)) + 1)
        ok = pred != INVALID
        matrix = np.bincount(true[ok] * k + pred[ok], minlength=k * k).reshape(k, k)
        return {
            "labels": labels or [str(i) for i in range(k)],
            "confusion_matrix": matrix.tolist(),
            "correct": int(np.trace(matrix)),
            "invalid_predictions": int((~ok).sum()),
        }


class Accuracy(_LabelMetric):
    """Share of samples whose predicted label equals the reference."""

    name: ClassVar[str] = "accuracy"
    description: ClassVar[str] = "accuracy; invalid predictions count as wrong"

    def _columns(self, true: np.ndarray, pred: np.ndarray, k: int) -> np.ndarray:
        return (true == pred)[:, None]

    def aggregate_sums(self, sums: np.ndarray, n: int) -> np.ndarray:
        """Correct over all samples."""
        return sums[..., 2] / n if n else np.full(sums.shape[:-1], np.nan)


class _PerClassMetric(_LabelMetric):
    """One-hot blocks: true class (k), predicted class (k), correctly predicted class (k)."""

    def _columns(self, true: np.ndarray, pred: np.ndarray, k: int) -> np.ndarray:
        n = len(true)
        blocks = np.zeros((n, 3 * k))
        rows = np.arange(n)
        blocks[rows, true] = 1.0
        ok = pred != INVALID
        blocks[rows[ok], k + pred[ok]] = 1.0
        hit = true == pred
        blocks[rows[hit], 2 * k + true[hit]] = 1.0
        return blocks

    def _counts(self, sums: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-class support, predicted count and true positives from column sums."""
        k = (sums.shape[-1] - 2) // 3
        body = sums[..., 2:]
        return body[..., :k], body[..., k : 2 * k], body[..., 2 * k :]

    def _per_class(self, stats: np.ndarray) -> list[float | None]:
        """Per-class values of the full data (None where the class is excluded)."""
        values = self._class_values(*self._counts(np.asarray(stats).sum(axis=0)))
        return [None if np.isnan(v) else float(v) for v in values]

    def _class_values(self, support: np.ndarray, predicted: np.ndarray, tp: np.ndarray) -> Any:
        raise NotImplementedError

    def aggregate_sums(self, sums: np.ndarray, n: int) -> np.ndarray:
        """Mean of the per-class values over the classes that count."""
        with np.errstate(invalid="ignore"):
            values = self._class_values(*self._counts(sums))
            present = ~np.isnan(values)
            total = np.where(present, values, 0.0).sum(axis=-1)
            count = present.sum(axis=-1)
            return np.where(count > 0, total / np.maximum(count, 1), np.nan)


class UnweightedAverageRecall(_PerClassMetric):
    """Mean per-class recall over classes present in the references (balanced accuracy)."""

    name: ClassVar[str] = "uar"
    description: ClassVar[str] = "unweighted average recall (balanced accuracy)"

    def _class_values(self, support: np.ndarray, predicted: np.ndarray, tp: np.ndarray) -> Any:
        """Recall tp / support; NaN for classes absent from the references."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(support > 0, tp / np.where(support > 0, support, 1.0), np.nan)

    def details(self, stats: np.ndarray) -> dict[str, Any]:
        """Confusion matrix plus per-class recall."""
        out = super().details(stats)
        out["per_class_recall"] = dict(zip(out["labels"], self._per_class(stats), strict=True))
        return out


class MacroF1(_PerClassMetric):
    """Mean per-class F1 over classes with at least one true or predicted sample."""

    name: ClassVar[str] = "macro_f1"
    description: ClassVar[str] = "macro-averaged F1; zero division gives 0"

    def _class_values(self, support: np.ndarray, predicted: np.ndarray, tp: np.ndarray) -> Any:
        """F1 = 2·tp / (support + predicted); NaN (excluded) when both are 0.

        A class that is predicted but never true, or true but never predicted, has precision
        or recall 0/0, taken as 0, so its F1 is 0 (sklearn's zero_division=0).
        """
        with np.errstate(divide="ignore", invalid="ignore"):
            denom = support + predicted
            return np.where(denom > 0, 2 * tp / np.where(denom > 0, denom, 1.0), np.nan)

    def details(self, stats: np.ndarray) -> dict[str, Any]:
        """Confusion matrix plus per-class F1."""
        out = super().details(stats)
        out["per_class_f1"] = dict(zip(out["labels"], self._per_class(stats), strict=True))
        return out


def to_flags(values: Sequence[Any], metric: str) -> np.ndarray:
    """Booleans or 0/1 as floats; anything else (None included) raises ValueError."""
    out = np.empty(len(values))
    for row, value in enumerate(values):
        if isinstance(value, (bool, np.bool_)) or (
            isinstance(value, (int, float, np.integer, np.floating)) and value in (0, 1)
        ):
            out[row] = float(value)
        else:
            raise ValueError(
                f"{metric}: prediction {row} ({value!r}) is not a boolean or 0/1; record "
                "whether the model declined as True/False for every sample"
            )
    return out


class RefusalRate(Metric):
    """Share of samples where the model declined to answer (predictions are booleans)."""

    name: ClassVar[str] = "refusal_rate"
    value_range: ClassVar[tuple[float, float]] = (0.0, 1.0)
    description: ClassVar[str] = "share of samples the model declined; references ignored"
    higher_is_better: ClassVar[bool] = False
    sum_decomposable: ClassVar[bool] = True

    def sample_stats(
        self, predictions: Sequence[Any], references: Sequence[Any], **_: Any
    ) -> np.ndarray:
        """One column: 1 where the model declined."""
        return to_flags(predictions, self.name)[:, None]

    def aggregate_sums(self, sums: np.ndarray, n: int) -> np.ndarray:
        """Refusals over all samples."""
        return sums[..., 0] / n if n else np.full(sums.shape[:-1], np.nan)

    def details(self, stats: np.ndarray) -> dict[str, Any]:
        """The number of refusals."""
        return {"refusals": int(stats[:, 0].sum())}


CLASSIFICATION_METRICS: tuple[type[Metric], ...] = (
    Accuracy,
    UnweightedAverageRecall,
    MacroF1,
    RefusalRate,
)


@hookimpl
def register_metrics(register: Callable[..., None]) -> None:
    """Register accuracy, uar, macro_f1 and refusal_rate."""
    for metric in CLASSIFICATION_METRICS:
        register(metric())
