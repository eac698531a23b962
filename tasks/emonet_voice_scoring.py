"""EmoNet-Voice scoring protocol: which rated rows count, and how rows become one number.

Agreement filter (Options.agreement, Options.min_raters), applied to each rated (clip, emotion)
row before any sample is made, so filtered rows are never asked:
  all        every row with at least min_raters raters (default; today's behaviour)
  present    and every rater rated the emotion present (intensity 1 or 2): the paper's
             "unanimous agreement on presence"
  unanimous  and every rater gave the same intensity (0/0/0, 1/1/1 or 2/2/2)
One rater always agrees with itself: raise min_raters (the paper's consensus needs 3) to
require agreement between people.

Aggregation (Options.aggregate), carried in each sample's labels so that `voxeval score`
reproduces it: `pooled` scores every metric over all (clip, emotion) rows at once;
`per_emotion` scores it within each emotion and reports the unweighted mean over the
emotions where it is defined (details.n_emotions). The `emotion_*` metrics below do both,
reading the mode and the emotion from each row's reference {value, emotion, aggregate}.
Their bootstrap resamples rows, as every voxeval metric does; on the released bench each clip
is rated for one emotion, so a row is a clip (several rated emotions per clip would need a
clustered bootstrap in voxeval.stats).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np

from voxeval.errors import VoxevalError
from voxeval.metrics import Metric, numeric
from voxeval.metrics.numeric import (
    CountedSpearman,
    MeanAbsoluteError,
    PearsonCorrelation,
    RootMeanSquaredError,
    SpearmanCorrelation,
    paired_numbers,
    resample_ranks,
)
from voxeval.stats import CountAggregate
from voxeval.task import DatasetInfo
from voxeval.tasks.emonet_voice_data import Clip, EmoNetOptions

AGGREGATES: tuple[str, ...] = ("pooled", "per_emotion")
AGREEMENT_RULES = {
    "all": "every rated row",
    "present": "every rater rated the emotion present (1 or 2)",
    "unanimous": "every rater gave the same intensity",
}
REFERENCE_RULE = "mean over raters of intensity 0/1/2 mapped to 0/5/10"


def agrees(intensities: Sequence[int], rule: str, min_raters: int = 1) -> bool:
    """Whether one row's rater intensities pass the agreement rule (see the module doc)."""
    if len(intensities) < min_raters or not intensities:
        return False
    if rule == "present":
        return all(i >= 1 for i in intensities)
    if rule == "unanimous":
        return len(set(intensities)) == 1
    return True


def select_rows(
    clips: list[Clip], info: DatasetInfo, options: EmoNetOptions
) -> tuple[list[Clip], DatasetInfo]:
    """Clips with only their agreeing rows; the protocol and counts in info.preprocessing."""
    rule, least = options.agreement, options.min_raters
    kept: list[Clip] = []
    n_rows = 0
    for clip in clips:
        n_rows += len(clip.ratings)
        ratings = {e: v for e, v in clip.ratings.items() if agrees(v, rule, least)}
        if ratings:
            kept.append(replace(clip, ratings=ratings))
    n_kept = sum(len(c.ratings) for c in kept)
    if not kept:
        raise VoxevalError(
            f"agreement={rule} with min_raters={least} leaves none of the {n_rows} rated "
            "(clip, emotion) rows; loosen the filter (agreement=all, a smaller min_raters)."
        )
    protocol = {
        "reference": REFERENCE_RULE,
        "agreement": rule,
        "agreement_rule": AGREEMENT_RULES[rule],
        "min_raters": least,
        "aggregate": options.aggregate,
        "rated_rows": n_rows,
        "rows_kept": n_kept,
        "clips_kept": len(kept),
    }
    return kept, replace(info, preprocessing={**info.preprocessing, **protocol})


def scored_reference(value: Any, emotion: str | None, aggregate: Any) -> dict[str, Any]:
    """A row's reference for the emotion_* metrics; old records without a mode are pooled."""
    mode = aggregate or "pooled"
    if mode not in AGGREGATES:
        raise VoxevalError(f"aggregate {mode!r} in a record; voxeval knows {', '.join(AGGREGATES)}")
    return {"value": value, "emotion": emotion, "aggregate": mode}


def _unpack(references: Sequence[Any], metric: str) -> tuple[list[Any], np.ndarray, bool]:
    """Reference values, dense emotion codes and whether to average per emotion."""
    refs = [r if isinstance(r, dict) else {"value": r} for r in references]
    modes = {r.get("aggregate") or "pooled" for r in refs}
    if len(modes) > 1 or not modes <= set(AGGREGATES):
        raise ValueError(f"{metric}: rows disagree on or misname the aggregate: {sorted(modes)}")
    emotions = [str(r.get("emotion")) for r in refs]
    codes = np.unique(emotions, return_inverse=True)[1] if refs else np.empty(0, int)
    return [r.get("value") for r in refs], codes.astype(float), modes == {"per_emotion"}


def mean_over_emotions(per_emotion: np.ndarray) -> np.ndarray:
    """Unweighted mean over the last axis, ignoring undefined (NaN) emotions."""
    defined = np.isfinite(per_emotion)
    count = defined.sum(axis=-1)
    total = np.where(defined, per_emotion, 0.0).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


class _EmotionAggregate(Metric):
    """Column 0: 1 per row when averaging per emotion, else 0; the base metric's columns follow."""

    base: ClassVar[Metric]

    def resolved_params(self, **params: Any) -> dict[str, Any]:
        """The base metric's parameters and how rows are combined."""
        how = "pooled rows, or the unweighted mean of per-emotion values (details.aggregate)"
        return {**self.base.resolved_params(**params), "aggregate": how}

    def per_emotion(self, stats: np.ndarray) -> np.ndarray:
        """Stacked statistics (b × n × k) → the base metric in each emotion (b × emotions)."""
        raise NotImplementedError

    def details(self, stats: np.ndarray) -> dict[str, Any]:
        """Valid and dropped pairs; with per_emotion, how many emotions had a value."""
        split = _per_emotion(stats)
        out: dict[str, Any] = {"aggregate": "per_emotion" if split else "pooled"}
        out.update(self.base.details(self._base_rows(stats)))
        if split:
            values = self.per_emotion(stats[None])[0]
            out.update(n_emotions=int(np.isfinite(values).sum()), n_emotions_rated=len(values))
        return out

    def _base_rows(self, stats: np.ndarray) -> np.ndarray:
        """Row statistics in the base metric's own layout (for its details)."""
        raise NotImplementedError


def _per_emotion(stats: np.ndarray) -> bool:
    """The mode flag in column 0 (the same for every row of one run)."""
    return bool(stats.size) and bool(np.max(stats[..., 0]) > 0)


class _SumAggregate(_EmotionAggregate):
    """Sum-decomposable bases: per_emotion rows hold the base columns in their emotion's block."""

    sum_decomposable: ClassVar[bool] = True
    width: ClassVar[int]  # the base metric's statistics columns

    def sample_stats(
        self, predictions: Sequence[Any], references: Sequence[Any], **params: Any
    ) -> np.ndarray:
        """[mode, base columns] pooled; [mode, one block of base columns per emotion] else."""
        values, codes, split = _unpack(references, self.name)
        rows = self.base.sample_stats(predictions, values, **params)
        if not split:
            return np.column_stack([np.zeros(len(rows)), rows])
        n = len(rows)
        blocks = np.zeros((n, int(codes.max(initial=0)) + 1, self.width))
        blocks[np.arange(n), codes.astype(int)] = rows
        return np.column_stack([np.ones(n), blocks.reshape(n, -1)])

    def aggregate_sums(self, sums: np.ndarray, n: int) -> np.ndarray:
        """The base metric from the summed columns, pooled or per emotion block."""
        if not _per_emotion(sums):
            return self.base.aggregate_sums(sums[..., 1:], n)
        return mean_over_emotions(self._block_values(sums, n))

    def per_emotion(self, stats: np.ndarray) -> np.ndarray:
        """The base metric in each emotion block of the summed rows."""
        return self._block_values(stats.sum(axis=-2), stats.shape[-2])

    def _block_values(self, sums: np.ndarray, n: int) -> np.ndarray:
        blocks = sums[..., 1:].reshape(*sums.shape[:-1], -1, self.width)
        return self.base.aggregate_sums(blocks, n)

    def _base_rows(self, stats: np.ndarray) -> np.ndarray:
        if not _per_emotion(stats):
            return stats[:, 1:]
        return stats[:, 1:].reshape(len(stats), -1, self.width).sum(axis=1)


class EmotionSpearman(_EmotionAggregate):
    """Spearman's rho pooled, or per emotion (ranks within the emotion) and averaged."""

    name: ClassVar[str] = "emotion_spearman"
    description: ClassVar[str] = "Spearman rho over (clip, emotion) rows, or its mean per emotion"
    higher_is_better: ClassVar[bool] = True
    value_range: ClassVar[tuple[float, float]] = (-1.0, 1.0)
    base: ClassVar[Metric] = SpearmanCorrelation()

    def sample_stats(
        self, predictions: Sequence[Any], references: Sequence[Any], **_: Any
    ) -> np.ndarray:
        """[mode, emotion, x code, y code]: per_emotion codes order (emotion, value) pairs.

        Ranking a resample by those codes puts each emotion's rows in one contiguous block,
        so subtracting the block's start gives ranks within the emotion.
        """
        values, codes, split = _unpack(references, self.name)
        x, y, valid = paired_numbers(predictions, values, self.name)
        out = np.full((len(x), 4), np.nan)
        out[:, 0], out[:, 1] = float(split), codes
        group = codes[valid] if split else np.zeros(int(valid.sum()))
        out[valid, 2] = _dense_pairs(group, x[valid])
        out[valid, 3] = _dense_pairs(group, y[valid])
        return out

    def aggregate(self, stats: np.ndarray) -> np.ndarray:
        """Spearman over all rows, or the mean over emotions of the within-emotion values."""
        if _per_emotion(stats):
            return mean_over_emotions(self.per_emotion(stats))
        return self.base.aggregate(stats[..., 2:])

    def per_emotion(self, stats: np.ndarray) -> np.ndarray:
        """Pearson on within-emotion average ranks, one value per emotion and resample."""
        valid = ~np.isnan(stats[..., 2])
        group = stats[..., 1].astype(int)
        n_groups = int(group.max(initial=0)) + 1
        b = stats.shape[0]
        index = np.arange(b)[:, None] * n_groups + group
        count = np.bincount(index[valid], minlength=b * n_groups).reshape(b, n_groups)
        start = np.take_along_axis(np.cumsum(count, axis=1) - count, group, axis=1)
        rx = resample_ranks(stats[..., 2], valid) - start
        ry = resample_ranks(stats[..., 3], valid) - start
        columns = (np.ones_like(rx), rx, ry, rx * rx, ry * ry, rx * ry)
        sums = np.stack([_group_sums(c, valid, index, b * n_groups) for c in columns], axis=-1)
        return _PEARSON.aggregate_sums(sums.reshape(b, n_groups, 6), stats.shape[1])

    def count_aggregate(self, sample_stats: np.ndarray) -> CountAggregate | None:
        """Values of resamples given as per-row counts; None where counting could round."""
        if len(sample_stats) > numeric.COUNTED_RANK_ROWS:
            return None
        if not _per_emotion(sample_stats):
            return CountedSpearman(sample_stats[:, 2:])
        per_emotion = CountedEmotionSpearman(sample_stats)
        return lambda counts: mean_over_emotions(per_emotion(counts))

    def _base_rows(self, stats: np.ndarray) -> np.ndarray:
        return stats[:, 2:]


_PEARSON = PearsonCorrelation()


class CountedEmotionSpearman(CountedSpearman):
    """Within-emotion Spearman of resamples given as per-row counts (b × n) → (b × emotions).

    Cells of equal (x, y) codes are counted together as in `CountedSpearman`. The codes order
    rows by emotion first, so each emotion is one run of cells on both sides, and a draw's
    rank within its emotion is its overall rank A less the draws of earlier emotions, s.
    `per_emotion`'s sums of within-emotion ranks follow from Σc·D, Σc·D² and Σc·Dx·Dy per
    emotion, D = 2A − 1: integers or quarters below 2**53 (`COUNTED_RANK_ROWS`), so exact
    whichever way they are summed, and then the same Pearson arithmetic: equal values.
    """

    def __init__(self, stats: np.ndarray) -> None:
        super().__init__(stats[:, 2:])
        self.n_emotions = int(stats[:, 1].max(initial=0)) + 1
        cells = self.rows if self.merge is None else self.rows[self.merge]
        self.emotions, self.starts = np.unique(stats[cells, 1].astype(int), return_index=True)

    def __call__(self, counts: np.ndarray) -> np.ndarray:
        """Spearman's rho within each emotion (NaN where undefined), per resample."""
        sums = np.zeros((len(counts), self.n_emotions, 6))
        if len(self.rows):
            sums[:, self.emotions] = self._rank_sums(counts)
        return _PEARSON.aggregate_sums(sums, counts.shape[1])

    def _rank_sums(self, counts: np.ndarray) -> np.ndarray:
        """Per emotion: draws m, Σrx, Σry, Σrx², Σry², Σrx·ry of within-emotion ranks."""
        drawn = np.take(counts, self.rows, axis=1)
        if self.merge is not None:
            drawn = np.add.reduceat(drawn, self.merge, axis=1)
        dx = self.x.ranks(drawn)[0]
        dy = np.take(self.y.ranks(np.take(drawn, self.y_order, axis=1))[0], self.y_back, axis=1)
        cdx = drawn * dx
        m, sdx, sdy, sxx, syy, sxy = (
            np.add.reduceat(v, self.starts, axis=1)
            for v in (drawn, cdx, drawn * dy, cdx * dx, drawn * dy * dy, cdx * dy)
        )
        s = np.cumsum(m, axis=1) - m  # draws of earlier emotions
        # Overall rank A = (D + 1)/2; within the emotion, A − s.
        ax, ay = (sdx + m) / 2, (sdy + m) / 2
        axx, ayy = (sxx + 2 * sdx + m) / 4, (syy + 2 * sdy + m) / 4
        axy = (sxy + sdx + sdy + m) / 4
        ssm = s * s * m
        within = (
            m,
            ax - s * m,
            ay - s * m,
            axx - 2 * s * ax + ssm,
            ayy - 2 * s * ay + ssm,
            axy - s * (ax + ay) + ssm,
        )
        return np.stack(within, axis=-1)


def _dense_pairs(group: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Dense codes of (group, value) pairs in lexicographic order (ties keep one code)."""
    if not len(values):
        return np.empty(0)
    order = np.unique(values, return_inverse=True)[1]
    return np.unique(group * (order.max() + 1) + order, return_inverse=True)[1].astype(float)


def _group_sums(column: np.ndarray, valid: np.ndarray, index: np.ndarray, size: int) -> np.ndarray:
    return np.bincount(index[valid], weights=column[valid], minlength=size)


class EmotionPearson(_SumAggregate):
    """Pearson's r pooled, or per emotion and averaged."""

    name: ClassVar[str] = "emotion_pearson"
    description: ClassVar[str] = "Pearson r over (clip, emotion) rows, or its mean per emotion"
    higher_is_better: ClassVar[bool] = True
    value_range: ClassVar[tuple[float, float]] = (-1.0, 1.0)
    base: ClassVar[Metric] = PearsonCorrelation()
    width: ClassVar[int] = 6


class EmotionMAE(_SumAggregate):
    """Mean absolute error pooled, or per emotion and averaged."""

    name: ClassVar[str] = "emotion_mae"
    description: ClassVar[str] = "MAE over (clip, emotion) rows, or its mean per emotion"
    higher_is_better: ClassVar[bool] = False
    value_range: ClassVar[tuple[float, float]] = (0.0, float("inf"))
    base: ClassVar[Metric] = MeanAbsoluteError()
    width: ClassVar[int] = 3


class EmotionRMSE(_SumAggregate):
    """Root mean squared error pooled, or per emotion and averaged."""

    name: ClassVar[str] = "emotion_rmse"
    description: ClassVar[str] = "RMSE over (clip, emotion) rows, or its mean per emotion"
    higher_is_better: ClassVar[bool] = False
    value_range: ClassVar[tuple[float, float]] = (0.0, float("inf"))
    base: ClassVar[Metric] = RootMeanSquaredError()
    width: ClassVar[int] = 3


EMOTION_METRICS: tuple[type[Metric], ...] = (
    EmotionSpearman,
    EmotionPearson,
    EmotionMAE,
    EmotionRMSE,
)


def register_emotion_metrics(register: Callable[..., None]) -> None:
    """Register emotion_spearman, emotion_pearson, emotion_mae and emotion_rmse."""
    for metric in EMOTION_METRICS:
        register(metric())
