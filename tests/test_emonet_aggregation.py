"""EmoNet-Voice scoring protocol: pooled vs per-emotion aggregation and the agreement filter."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from tests import emotion_fixtures as fx
from voxeval import stats as voxeval_stats
from voxeval.compare import compare_runs
from voxeval.errors import VoxevalError
from voxeval.metrics import compute, get_metric, numeric
from voxeval.paired import compare_predictions
from voxeval.rescore import rescore_run
from voxeval.runner import RunConfig, run_evaluation
from voxeval.scoring import score_task
from voxeval.task import DatasetInfo
from voxeval.tasks import emonet_voice as ev
from voxeval.tasks import emonet_voice_scoring as ev_scoring
from voxeval.tasks.emonet_voice_data import Clip
from voxeval.tasks.emonet_voice_scoring import agrees, select_rows
from voxeval.types import Response

BASES = ("spearman", "pearson", "mae", "rmse")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    clips = tmp_path_factory.mktemp("emonet-agg-clips")
    fx.make_clips(clips)
    return fx.write_emonet(tmp_path_factory.mktemp("emonet-agg") / "data", clips)


# --- a synthetic, realistic set of rows (no audio: scoring only) ------------------------


def synthetic_rows(seed: int = 3) -> list[tuple[str, str, float | None, float]]:
    """(clip, emotion, prediction, reference): unequal emotion sizes, emotion-specific bias
    (which is what makes pooling differ from per-emotion means), ties, refusals, one emotion
    refused throughout and one with constant predictions (both undefined per emotion)."""
    rng = np.random.default_rng(seed)
    sizes = {"Anger": 40, "Fear": 25, "Shame": 12, "Awe": 18, "Pain": 6, "Sadness": 9}
    bias = {"Anger": 3.0, "Fear": -2.0, "Shame": 0.5, "Awe": 1.0, "Pain": 0.0, "Sadness": 2.0}
    rows = []
    for emotion, size in sizes.items():
        for i in range(size):
            ref = float(rng.choice([0.0, 2.5, 5.0, 5.0, 7.5, 10.0, 10 / 3, 20 / 3]))
            pred = float(np.clip(round(0.4 * ref + bias[emotion] + rng.normal(0, 2)), 0, 10))
            if emotion == "Pain" or (i % 7 == 3):
                pred = None  # refused
            if emotion == "Sadness":
                pred = 4.0
            rows.append((f"{emotion[:2]}-{i}", emotion, pred, ref))
    return rows


def prompted_records(rows, aggregate: str | None) -> list[dict]:
    """Sample records as emonet-voice-prompted writes them (labels carry the mode)."""
    out = []
    for clip, emotion, pred, ref in rows:
        labels = {"intensity": ref, "emotion": emotion}
        if aggregate is not None:
            labels["aggregate"] = aggregate
        text = "I cannot determine emotions from audio." if pred is None else str(pred)
        out.append(
            {
                "sample_id": f"{clip}::{emotion}",
                "prediction": {"text": text},
                "labels": labels,
                "metadata": {"clip": clip},
            }
        )
    return out


def scipy_value(metric: str, pairs: list[tuple[float, float]]) -> float:
    """The metric over (prediction, reference) pairs computed with scipy/numpy directly."""
    x, y = np.array(pairs, dtype=float).T if pairs else (np.empty(0), np.empty(0))
    if metric in ("spearman", "pearson"):
        if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
            return math.nan
        fn = scipy_stats.spearmanr if metric == "spearman" else scipy_stats.pearsonr
        return float(fn(x, y)[0])
    if not len(x):
        return math.nan
    err = x - y
    return float(np.abs(err).mean() if metric == "mae" else math.sqrt((err**2).mean()))


def expected(rows, metric: str) -> tuple[float, float, int]:
    """(pooled value, per-emotion mean, number of emotions with a value), independently."""
    valid = [(e, p, r) for _, e, p, r in rows if p is not None]
    pooled = scipy_value(metric, [(p, r) for _, p, r in valid])
    emotions = sorted({e for _, e, _, _ in rows})
    per = [scipy_value(metric, [(p, r) for e2, p, r in valid if e2 == e]) for e in emotions]
    defined = [v for v in per if not math.isnan(v)]
    return pooled, float(np.mean(defined)), len(defined)


@pytest.mark.parametrize("metric", BASES)
def test_same_predictions_scored_both_ways(metric):
    rows = synthetic_rows()
    pooled, per_emotion, n_emotions = expected(rows, metric)
    both = {}
    for mode in ("pooled", "per_emotion"):
        scored = score_task(ev.EmoNetVoicePrompted, prompted_records(rows, mode))
        both[mode] = scored["metrics"][metric]
    assert both["pooled"].value == pytest.approx(pooled, rel=1e-9)
    assert both["per_emotion"].value == pytest.approx(per_emotion, rel=1e-9)
    assert abs(pooled - per_emotion) > 1e-3  # the two protocols really differ on these rows
    assert both["per_emotion"].details["aggregate"] == "per_emotion"
    assert both["pooled"].details["aggregate"] == "pooled"
    # Pain (all refused) is never defined; Sadness (constant answers) only for errors.
    assert both["per_emotion"].details["n_emotions"] == n_emotions
    assert n_emotions == (4 if metric in ("spearman", "pearson") else 5)
    assert both["per_emotion"].details["n_emotions_rated"] == 6
    assert both["per_emotion"].n == both["pooled"].n == len(rows)
    for value in both.values():
        assert value.metric == f"emotion_{metric}"
        assert value.ci_low <= value.value <= value.ci_high


def test_breakdowns_do_not_depend_on_the_mode():
    rows = synthetic_rows()
    pooled = score_task(ev.EmoNetVoicePrompted, prompted_records(rows, "pooled"))
    per = score_task(ev.EmoNetVoicePrompted, prompted_records(rows, "per_emotion"))
    anger = [(p, r) for _, e, p, r in rows if e == "Anger" and p is not None]
    for scored in (pooled, per):
        group = scored["breakdowns"]["emotion"]["Anger"]
        assert group["spearman"].value == pytest.approx(scipy_value("spearman", anger))
        assert group["mae"].value == pytest.approx(scipy_value("mae", anger))
    refusals = sum(p is None for *_, p, _ in rows)
    assert per["metrics"]["refusal_rate"].value == pytest.approx(refusals / len(rows))
    assert pooled["metrics"]["refusal_rate"].value == per["metrics"]["refusal_rate"].value


def test_direct_task_scores_per_emotion_from_its_labels():
    rows = synthetic_rows()
    by_clip: dict[str, list] = {}
    for clip, emotion, pred, ref in rows:
        by_clip.setdefault(clip, []).append((emotion, pred, ref))
    records = [
        {
            "sample_id": clip,
            "prediction": {"scores": {e: p for e, p, _ in items if p is not None}},
            "labels": {"intensity": {e: r for e, _, r in items}, "aggregate": "per_emotion"},
            "metadata": {},
        }
        for clip, items in by_clip.items()
    ]
    metrics = score_task(ev.EmoNetVoice, records)["metrics"]
    assert metrics["spearman"].value == pytest.approx(expected(rows, "spearman")[1])
    assert metrics["rmse"].value == pytest.approx(expected(rows, "rmse")[1])


@pytest.mark.parametrize("metric", BASES)
def test_pooled_is_the_plain_metric_bit_for_bit(metric):
    """The default protocol is what voxeval scored before the option existed, CI included."""
    rows = synthetic_rows()
    preds = [p for _, _, p, _ in rows]
    refs = [{"value": r, "emotion": e, "aggregate": "pooled"} for _, e, _, r in rows]
    new = compute(f"emotion_{metric}", preds, refs)
    old = compute(metric, preds, [r for *_, r in rows])
    assert (new.value, new.ci_low, new.ci_high) == (old.value, old.ci_low, old.ci_high)


def test_records_without_a_mode_score_pooled():
    rows = synthetic_rows()
    old = score_task(ev.EmoNetVoicePrompted, prompted_records(rows, None))["metrics"]
    assert old["pearson"].value == pytest.approx(expected(rows, "pearson")[0])
    assert old["pearson"].details["aggregate"] == "pooled"


def test_an_unknown_mode_in_a_record_is_an_error():
    records = prompted_records(synthetic_rows()[:3], "macro")
    with pytest.raises(VoxevalError, match=r"aggregate 'macro' in a record"):
        score_task(ev.EmoNetVoicePrompted, records)


@pytest.mark.parametrize("metric", BASES)
def test_per_emotion_bootstrap_equals_brute_force(metric):
    """Each resample of rows, scored per emotion with scipy, is what the bootstrap returns."""
    rows = [r for r in synthetic_rows() if r[1] in ("Anger", "Fear", "Shame")]
    preds = [p for _, _, p, _ in rows]
    refs = [{"value": r, "emotion": e, "aggregate": "per_emotion"} for _, e, _, r in rows]
    m = get_metric(f"emotion_{metric}")
    dist = m.bootstrap_distribution(m.sample_stats(preds, refs), 12, seed=5)
    idx = np.random.default_rng(5).integers(0, len(rows), size=(12, len(rows)))
    for value, draw in zip(dist, idx, strict=True):
        _, per_emotion, _ = expected([rows[i] for i in draw], metric)
        assert value == pytest.approx(per_emotion, rel=1e-9)


def _spearman_stats(mode: str, seed: int, rows: int) -> np.ndarray:
    """emotion_spearman statistics of `rows` synthetic rows cycled with new noise."""
    base = synthetic_rows(seed)
    rng = np.random.default_rng(seed)
    picked = [base[i] for i in rng.integers(0, len(base), rows)]
    preds = [None if p is None else p + float(rng.choice([0.0, 0.5])) for _, _, p, _ in picked]
    refs = [{"value": r, "emotion": e, "aggregate": mode} for _, e, _, r in picked]
    return get_metric("emotion_spearman").sample_stats(preds, refs)


@pytest.mark.parametrize("mode", ["pooled", "per_emotion"])
@pytest.mark.parametrize("rows", [3, 110, 600])
@pytest.mark.parametrize("subset", [False, True])
def test_spearman_counted_bootstrap_equals_reranking_bit_for_bit(mode, rows, subset):
    # Counting draws must give exactly what gathering the rows and re-ranking them gave.
    metric = get_metric("emotion_spearman")
    sample_stats = _spearman_stats(mode, rows, rows)
    if subset:  # a breakdown: codes with gaps, emotions with no rows left
        sample_stats = sample_stats[np.arange(rows) % 3 != 1]
    assert metric.count_aggregate(sample_stats) is not None
    counted = metric.bootstrap_distribution(sample_stats, 300, seed=4)
    gathered = voxeval_stats.bootstrap_distribution(sample_stats, metric.aggregate, 300, seed=4)
    assert np.isfinite(gathered).any() or rows == 3  # 3 rows: mostly undefined
    np.testing.assert_array_equal(counted, gathered)


def test_spearman_per_emotion_values_from_counts_equal_gathered_per_emotion():
    # Per emotion, not only their mean: undefined emotions stay NaN in the same places.
    metric = get_metric("emotion_spearman")
    sample_stats = _spearman_stats("per_emotion", 9, 300)
    counts = np.stack([np.bincount(d, minlength=300) for d in _draws(300, 40)]).astype(float)
    per_emotion = ev_scoring.CountedEmotionSpearman(sample_stats)(counts)
    gathered = metric.per_emotion(sample_stats[_draws(300, 40)])
    assert np.isnan(gathered).any() and np.isfinite(gathered).any()
    np.testing.assert_array_equal(per_emotion, gathered)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["Anger", "Awe", "Fear", "Pain"]),
            st.one_of(st.none(), st.integers(0, 4).map(float)),
            st.integers(0, 3).map(lambda v: v * 10 / 3),
        ),
        max_size=40,
    ),
    mode=st.sampled_from(["pooled", "per_emotion"]),
    seed=st.integers(0, 2**16),
)
def test_spearman_counts_equal_gathering_on_any_rows(rows, mode, seed):
    # Few distinct values, so ties, whole emotions dropped and tiny groups are common.
    metric = get_metric("emotion_spearman")
    refs = [{"value": r, "emotion": e, "aggregate": mode} for e, _, r in rows]
    sample_stats = metric.sample_stats([p for _, p, _ in rows], refs)
    counted = metric.bootstrap_distribution(sample_stats, 40, seed=seed)
    gathered = voxeval_stats.bootstrap_distribution(sample_stats, metric.aggregate, 40, seed)
    np.testing.assert_array_equal(counted, gathered)


def _draws(n: int, b: int) -> np.ndarray:
    return np.random.default_rng(1).integers(0, n, size=(b, n))


def test_spearman_gathers_above_the_exact_size(monkeypatch):
    metric = get_metric("emotion_spearman")
    sample_stats = _spearman_stats("per_emotion", 5, 50)
    monkeypatch.setattr(numeric, "COUNTED_RANK_ROWS", 49)
    assert metric.count_aggregate(sample_stats) is None
    dist = metric.bootstrap_distribution(sample_stats, 20, seed=2)
    gathered = voxeval_stats.bootstrap_distribution(sample_stats, metric.aggregate, 20, 2)
    np.testing.assert_array_equal(dist, gathered)


def test_paired_spearman_counts_equal_gathered_differences(monkeypatch):
    rows = [r for r in synthetic_rows(6) if r[2] is not None]
    refs = [{"value": r, "emotion": e, "aggregate": "per_emotion"} for _, e, _, r in rows]
    a = [p for _, _, p, _ in rows]
    b = [round(0.5 * p + 0.5 * r) for _, _, p, r in rows]
    counted = compare_predictions("emotion_spearman", a, b, refs, n_resamples=300)
    monkeypatch.setattr(ev_scoring.EmotionSpearman, "count_aggregate", lambda self, s: None)
    gathered = compare_predictions("emotion_spearman", a, b, refs, n_resamples=300)
    assert counted == gathered


def test_paired_comparison_uses_the_per_emotion_values():
    rows = [r for r in synthetic_rows() if r[2] is not None and r[1] != "Sadness"]
    refs = [{"value": r, "emotion": e, "aggregate": "per_emotion"} for _, e, _, r in rows]
    a = [p for _, _, p, _ in rows]
    b = [r for *_, r in rows]  # a perfect model
    result = compare_predictions("emotion_spearman", a, b, refs, n_resamples=200)
    assert result.value_a == pytest.approx(expected(rows, "spearman")[1])
    assert result.value_b == pytest.approx(1.0)
    assert result.ci_low > 0


def test_mixed_modes_in_one_call_are_refused():
    refs = [{"value": 1.0, "emotion": "Anger", "aggregate": m} for m in ("pooled", "per_emotion")]
    with pytest.raises(ValueError, match="rows disagree on or misname the aggregate"):
        compute("emotion_mae", [1.0, 2.0], refs)


# --- the agreement filter ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("intensities", "rule", "min_raters", "kept"),
    [
        ([2, 1], "all", 1, True),
        ([2, 1], "all", 3, False),
        ([1, 2, 2], "present", 3, True),
        ([1, 2, 0], "present", 1, False),
        ([0, 0, 0], "present", 1, False),
        ([0, 0, 0], "unanimous", 3, True),
        ([2, 2, 1], "unanimous", 1, False),
        ([2], "unanimous", 1, True),  # one rater agrees with itself...
        ([2], "unanimous", 2, False),  # ...unless two are required
        ([], "all", 1, False),
    ],
)
def test_agreement_rules(intensities, rule, min_raters, kept):
    assert agrees(intensities, rule, min_raters) is kept


def test_select_rows_drops_exactly_the_disagreeing_rows():
    clips = [
        Clip("c1", Path("c1.wav"), {"Anger": [2, 2, 1], "Fear": [0, 0]}),
        Clip("c2", Path("c2.wav"), {"Shame": [1, 0, 1]}),
        Clip("c3", Path("c3.wav"), {"Pain": [2, 2, 2]}),
    ]
    info = DatasetInfo("hub/x", preprocessing={"kept": "earlier entries"})
    options = ev.EmoNetOptions(agreement="unanimous", min_raters=3)
    kept, new_info = select_rows(clips, info, options)
    assert [(c.id, c.ratings) for c in kept] == [("c3", {"Pain": [2, 2, 2]})]
    assert clips[0].ratings == {"Anger": [2, 2, 1], "Fear": [0, 0]}  # input left as it was
    assert new_info.preprocessing == {
        "kept": "earlier entries",
        "reference": "mean over raters of intensity 0/1/2 mapped to 0/5/10",
        "agreement": "unanimous",
        "agreement_rule": "every rater gave the same intensity",
        "min_raters": 3,
        "aggregate": "pooled",
        "rated_rows": 4,
        "rows_kept": 1,
        "clips_kept": 1,
    }


# The fixture's rated pairs: clip-a's two raters gave (0, i % 3) to emotion i; the rest are
# clip-b Impatience (2, 1), clip-c Surprise (0, 1) and Fatigue (2), clip-d Jealousy (2, 2)
# and Sadness (1), clip-e Shame (1).
ALL = {(c, e) for c, refs in fx.EXPECTED.items() for e in refs}
ONE_RATER = {("clip-c", "Fatigue/Exhaustion"), ("clip-d", "Sadness"), ("clip-e", "Shame")}
IMPATIENCE, JEALOUSY = ("clip-b", "Impatience and Irritability"), ("clip-d", "Jealousy & Envy")
UNANIMOUS_A = {("clip-a", e) for i, e in enumerate(ev.EMOTIONS) if i % 3 == 0}  # (0, 0)


@pytest.mark.parametrize(
    ("agreement", "min_raters", "pairs"),
    [
        ("present", 1, ONE_RATER | {IMPATIENCE, JEALOUSY}),
        ("present", 2, {IMPATIENCE, JEALOUSY}),
        ("unanimous", 1, UNANIMOUS_A | ONE_RATER | {JEALOUSY}),
        ("unanimous", 2, UNANIMOUS_A | {JEALOUSY}),
        ("all", 2, ALL - ONE_RATER),
    ],
)
def test_filter_keeps_exactly_the_agreeing_pairs(data, agreement, min_raters, pairs):
    options = {"agreement": agreement, "min_raters": min_raters}
    prompted = list(ev.EmoNetVoicePrompted(data, options).samples())
    assert {tuple(s.id.split("::")) for s in prompted} == pairs
    direct = list(ev.EmoNetVoice(data, options).samples())
    assert {(s.id, e) for s in direct for e in s.labels["intensity"]} == pairs
    for sample in direct:  # references are still the full rater means
        assert sample.labels["intensity"].items() <= fx.EXPECTED[sample.id].items()
    pre = ev.EmoNetVoice(data, options).dataset().preprocessing
    assert (pre["rated_rows"], pre["rows_kept"]) == (46, len(pairs))


def test_a_filter_that_leaves_nothing_says_so(data):
    task = ev.EmoNetVoice(data, {"agreement": "present", "min_raters": 4})
    with pytest.raises(VoxevalError, match=r"leaves none of the 46 rated \(clip, emotion\) rows"):
        list(task.samples())


def test_options_arrive_as_text_from_the_command_line(data):
    task = ev.EmoNetVoice(data, {"aggregate": "per_emotion", "min_raters": "2"})
    assert (task.options.aggregate, task.options.min_raters) == ("per_emotion", 2)
    assert all(s.labels["aggregate"] == "per_emotion" for s in task.samples())


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        ({"aggregate": "macro"}, r"aggregate: Input should be 'pooled' or 'per_emotion'"),
        ({"agreement": "majority"}, r"agreement: Input should be 'all', 'present' or 'unanimous'"),
        ({"min_raters": 0}, r"min_raters: Input should be greater than or equal to 1"),
        ({"min_raters": "three"}, r"min_raters: Input should be a valid integer"),
    ],
)
def test_bad_option_values_are_clear_errors(data, args, problem):
    with pytest.raises(VoxevalError, match=r"Bad --task-args for 'emonet-voice': " + problem):
        ev.EmoNetVoice(data, args)


# --- end to end: the options are recorded and survive rescoring ---------------------------


def fake_scores(clip: str) -> dict[str, float]:
    """Deterministic 0-10 scores per clip and emotion."""
    rng = np.random.default_rng(sum(map(ord, clip)))
    return {e: float(rng.integers(0, 11)) for e in ev.EMOTIONS}


def test_options_are_recorded_in_the_run_and_survive_rescoring(tmp_path, data, mock_model):
    mock_model.default = staticmethod(lambda item: Response(scores=fake_scores(item.sample_id)))
    args = {"aggregate": "per_emotion", "agreement": "all", "min_raters": 1}
    config = RunConfig(
        model="mock",
        tasks=["emonet-voice"],
        data_dir=data,
        task_args=args,
        output_dir=tmp_path / "runs",
    )
    result, run_dir = run_evaluation(config)
    task = result.tasks["emonet-voice"]
    assert result.task_args == args
    pre = task.dataset.preprocessing
    assert (pre["aggregate"], pre["agreement"], pre["min_raters"]) == ("per_emotion", "all", 1)
    spearman = task.metrics["spearman"]
    assert spearman.metric == "emotion_spearman" and spearman.details["aggregate"] == "per_emotion"
    pairs = {}
    for clip, refs in fx.EXPECTED.items():
        scores = fake_scores(clip)
        for emotion, ref in refs.items():
            pairs.setdefault(emotion, []).append((scores[emotion], ref))
    per = [scipy_value("spearman", p) for p in pairs.values()]
    assert spearman.value == pytest.approx(np.nanmean(per))
    assert spearman.details["n_emotions"] == int(np.isfinite(per).sum())
    lines = (run_dir / "samples-emonet-voice.jsonl").read_text().splitlines()
    assert all(json.loads(x)["labels"]["aggregate"] == "per_emotion" for x in lines)
    again = rescore_run(run_dir).tasks["emonet-voice"].metrics["spearman"]
    assert (again.value, again.details) == (spearman.value, spearman.details)


def test_runs_with_different_modes_are_not_compared(tmp_path, data, mock_model):
    mock_model.default = staticmethod(lambda item: Response(scores=fake_scores(item.sample_id)))
    dirs = []
    for mode in ("pooled", "per_emotion", "per_emotion"):
        config = RunConfig(
            model="mock",
            tasks=["emonet-voice"],
            data_dir=data,
            task_args={"aggregate": mode},
            output_dir=tmp_path / mode,
        )
        dirs.append(run_evaluation(config)[1])
    _, _, (mixed,) = compare_runs(dirs[0], dirs[1], min_shared=1)
    assert mixed.problem == "emonet-voice: the two runs have different references"
    _, _, (same,) = compare_runs(dirs[1], dirs[2], min_shared=1)
    assert same.problem is None and same.metrics[0].delta == 0.0
