"""EmoNet-Voice tasks: label parsing, answer parsing, loaders and end-to-end runs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as scipy_stats

from tests import emotion_fixtures as fx
from tests.fake_openai import FakeOpenAI, user_text
from voxeval.errors import DataNotFoundError, VoxevalError
from voxeval.runner import RunConfig, run_evaluation
from voxeval.tasks import emonet_voice as ev
from voxeval.types import Response


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    """Five espeak-ng clips with different pitch, speed and amplitude."""
    folder = tmp_path_factory.mktemp("emonet-clips")
    fx.make_clips(folder)
    return folder


@pytest.fixture
def data(tmp_path, clips) -> Path:
    return fx.write_emonet(tmp_path / "data", clips, "csv")


def run(tmp_path: Path, data_dir: Path, task: str, **task_args):
    config = RunConfig(
        model="mock",
        tasks=[task],
        data_dir=data_dir,
        task_args=task_args,
        output_dir=tmp_path / "runs",
    )
    return run_evaluation(config)


def read_records(run_dir: Path, task: str) -> list[dict]:
    lines = (run_dir / f"samples-{task}.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


# --- label parsing -----------------------------------------------------------------------


def test_label_maps_intensities_and_averages_raters():
    cell = "[{'human-1': {'Anger': 2, 'Fear': 0}}, {'human-2': {'Anger': 1}}]"
    ratings, skipped = ev.parse_label(cell, "row 1")
    assert ratings == {"Anger": [2, 1], "Fear": [0]} and skipped == 0
    assert ev.reference_scores(ratings) == {"Fear": 0.0, "Anger": 7.5}  # canonical order
    assert ev.reference_scores({"Pain": [2, 2, 1]}) == {"Pain": pytest.approx(25 / 3)}


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("Impatience%20and%20Irritability", "Impatience and Irritability"),
        ("Astonishment%2FSurprise", "Astonishment/Surprise"),
        ("Surprise", "Astonishment/Surprise"),
        ("fatigue", "Fatigue/Exhaustion"),
        ("Jealousy and Envy", "Jealousy & Envy"),
        ("jealousy_%26_envy", "Jealousy & Envy"),
        ("Intoxication", "Intoxication/Altered States of Consciousness"),
        ("Hope%2FEnthusiasm%2FOptimism", "Hope/Enthusiasm/Optimism"),
        ("Sexual+Lust", "Sexual Lust"),
        ("Happiness", None),
    ],
)
def test_emotion_names_decode_and_alias(name, canonical):
    assert ev.canonical_emotion(name) == canonical


def test_all_forty_names_round_trip_url_encoding():
    from urllib.parse import quote

    assert len(ev.EMOTIONS) == 40 == len(set(ev.EMOTIONS))
    assert all(ev.canonical_emotion(quote(e)) == e for e in ev.EMOTIONS)


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        ("[{'human-1': {'Anger': 2}", "not a Python literal"),
        ("__import__('os').system('echo pwned')", "not a Python literal"),
        ("[]", "empty rater list"),
        ("'Anger'", "not a list of raters"),
        ("[{'human-1': 2}]", "no {emotion: intensity} mapping"),
        ("[{'human-1': {'Anger': 3}}]", "not 0, 1 or 2"),
        ("[{'human-1': {'Anger': True}}]", "not 0, 1 or 2"),
        ("[{'human-1': {'Anger': [1]}}]", "not 0, 1 or 2"),
    ],
)
def test_bad_label_cells_raise_label_error(cell, problem):
    with pytest.raises(ev.LabelError, match=problem.replace("{", r"\{").replace("}", r"\}")):
        ev.parse_label(cell, "row 9")


def test_unknown_emotion_names_the_row():
    with pytest.raises(VoxevalError, match=r"labels.csv:7: unknown emotion 'Happiness'"):
        ev.parse_label("[{'h': {'Happiness': 1}}]", "labels.csv:7")


def test_attribute_ratings_are_skipped_and_counted():
    ratings, skipped = ev.parse_label("[{'h': {'Arousal': 2, 'Shame': 1}}]", "row")
    assert ratings == {"Shame": [1]} and skipped == 1


# --- answer parsing ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("7", 7.0),
        (" 7/10 ", 7.0),
        ("7 out of 10", 7.0),
        ("Intensity: 3", 3.0),
        ("I'd rate it 4 on a 0-10 scale.", 4.0),
        ("On a scale from 0 to 10: 6.5", 6.5),
        ("seven", 7.0),
        ("Ten.", 10.0),
        ("11", None),
        ("-2", None),
        ("no idea at all, honestly, sorry", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_intensity(text, value):
    assert ev.parse_intensity(text) == value


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("", True),
        ("   ", True),
        (None, True),
        ("I'm sorry, but I can't determine emotions from a voice recording.", True),
        ("As an AI, I don't perceive feelings.", True),
        ("I cannot reliably assess emotional intensity from audio.", True),
        ("I don\u2019t have the ability to listen to audio.", True),
        ("I must decline to rate this.", True),
        ("7", False),
        ("Intensity: 2/10, the speaker sounds calm.", False),
        ("The anger is unmistakable: 9", False),
    ],
)
def test_refusal_rules(text, refused):
    assert ev.is_refusal(text) is refused


def test_parse_scores_from_scores_json_or_lines():
    assert ev.parse_scores({"scores": {"Anger": 7, "Surprise": 2, "Joy": 5}}) == {
        "Anger": 7.0,
        "Astonishment/Surprise": 2.0,
    }
    text = 'Sure! {"Anger": 3, "Impatience and Irritability": 12, "Fear": 1.5}'
    assert ev.parse_scores({"text": text}) == {"Anger": 3.0, "Fear": 1.5}  # 12 is out of range
    assert ev.parse_scores({"text": "Anger: 4\nSadness = 6"}) == {"Anger": 4.0, "Sadness": 6.0}


# --- loaders -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_label_tables_give_the_same_samples(tmp_path, clips, fmt):
    root = fx.write_emonet(tmp_path / fmt, clips, fmt)
    samples = list(ev.EmoNetVoice(root).samples())
    assert [s.id for s in samples] == fx.CLIPS
    assert {s.id: s.labels["intensity"] for s in samples} == fx.EXPECTED
    assert all(Path(s.audio).is_file() and Path(s.audio).parent == root / "audio" for s in samples)
    info = ev.EmoNetVoice(root).dataset()
    assert info.id == ev.HUB_ID and len(info.content_hash) == 64
    assert any("arousal" in w for w in info.warnings)  # clip-e's Arousal rating


@pytest.mark.parametrize("kind", ["parquet", "disk"])
def test_embedded_audio_is_cached_as_files(tmp_path, clips, kind):
    root = fx.write_emonet_embedded(tmp_path / "data", clips, kind)
    cache = tmp_path / "cache"
    samples = list(ev.EmoNetVoice(root, {"audio_cache": str(cache)}).samples())
    assert [s.id for s in samples] == fx.CLIPS
    assert {s.id: s.labels["intensity"] for s in samples} == fx.EXPECTED
    for sample in samples:
        assert Path(sample.audio).parent == cache
        assert Path(sample.audio).read_bytes() == (clips / f"{sample.id}.wav").read_bytes()


def test_content_hash_follows_the_labels(tmp_path, clips):
    first = fx.write_emonet(tmp_path / "a", clips)
    labels = dict(fx.LABELS, **{"clip-b": [{"human-1": {"Anger": 1}}]})
    second = fx.write_emonet(tmp_path / "b", clips, rows=fx.emonet_rows(labels))
    hashes = [ev.EmoNetVoice(r).dataset().content_hash for r in (first, first, second)]
    assert hashes[0] == hashes[1] != hashes[2]


def test_prompted_samples_one_per_rated_emotion(data):
    samples = list(ev.EmoNetVoicePrompted(data).samples())
    assert len(samples) == sum(len(v) for v in fx.EXPECTED.values()) == 46
    by_id = {s.id: s for s in samples}
    sample = by_id["clip-b::Impatience and Irritability"]
    assert sample.text == "Emotion: Impatience and Irritability"
    assert sample.labels == {
        "intensity": 7.5,
        "emotion": "Impatience and Irritability",
        "aggregate": "pooled",
    }


def test_missing_columns_name_the_file(tmp_path, clips):
    rows = [{"audioId": "clip-a.wav", "labels": "[]"}]
    root = fx.write_emonet(tmp_path / "d", clips, rows=rows)
    with pytest.raises(VoxevalError, match=r"labels.csv: missing column\(s\) label \(found"):
        list(ev.EmoNetVoice(root).samples())


def test_unknown_emotion_in_a_file_names_the_row(tmp_path, clips):
    labels = dict(fx.LABELS, **{"clip-c": [{"h": {"Happiness": 2}}]})
    root = fx.write_emonet(tmp_path / "d", clips, "jsonl", fx.emonet_rows(labels))
    with pytest.raises(VoxevalError, match=r"labels.jsonl:3: unknown emotion 'Happiness'"):
        list(ev.EmoNetVoice(root).samples())


def test_unreadable_labels_are_counted_or_fatal(tmp_path, clips):
    labels = dict(fx.LABELS, **{"clip-b": "[]", "clip-d": "[{'h': {'Anger': 2}"})
    root = fx.write_emonet(tmp_path / "d", clips, rows=fx.emonet_rows(labels))
    task = ev.EmoNetVoice(root)
    assert [s.id for s in task.samples()] == ["clip-a", "clip-c", "clip-e"]
    warning = task.dataset().warnings[0]
    assert warning.startswith("2 row(s) with unreadable labels left out")
    assert "labels.csv:3: empty rater list" in warning and "labels.csv:5: not a Python" in warning
    strict = ev.EmoNetVoice(root, {"bad_labels": "error"})
    with pytest.raises(VoxevalError, match=r"labels.csv:3: unreadable label \(empty rater list\)"):
        list(strict.samples())


def test_no_usable_rows_is_an_error(tmp_path, clips):
    root = fx.write_emonet(tmp_path / "d", clips, rows=fx.emonet_rows({"clip-a": "[]"}))
    with pytest.raises(VoxevalError, match="No usable EmoNet-Voice rows"):
        list(ev.EmoNetVoice(root).samples())


def test_missing_data_says_what_to_download(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"labels.parquet \| labels.jsonl \| labels.csv"):
        list(ev.EmoNetVoice(tmp_path).samples())
    with pytest.raises(DataNotFoundError, match=r"t1a5anu-anon/emonet-voice-bench"):
        list(ev.EmoNetVoice(None, {"revision": "main"}).samples())  # HF_HUB_OFFLINE=1


# --- end to end --------------------------------------------------------------------------


def fake_scores(clip: str) -> dict[str, float]:
    """Deterministic 0-10 scores per clip and emotion."""
    rng = np.random.default_rng(sum(map(ord, clip)))
    return {e: float(rng.integers(0, 11)) for e in ev.EMOTIONS}


def direct_answer(item) -> Response:
    clip = item.sample_id
    if clip == "clip-c":  # an API model: JSON in the text, one alias name
        scores = fake_scores(clip)
        scores["Surprise"] = scores.pop("Astonishment/Surprise")
        return Response(text="Here you go: " + json.dumps(scores))
    if clip == "clip-e":
        return Response(text="As an AI, I cannot determine emotions from a voice.")
    return Response(scores=fake_scores(clip))


def test_direct_run_expands_rows_and_matches_scipy(tmp_path, data, mock_model):
    mock_model.default = staticmethod(direct_answer)
    result, run_dir = run(tmp_path, data, "emonet-voice")
    task = result.tasks["emonet-voice"]
    assert mock_model.history[0].prompt == ev.EmoNetVoice.prompt
    assert "Jealousy & Envy" in mock_model.history[0].prompt
    preds, refs = [], []
    refused = 0
    for clip, expected in fx.EXPECTED.items():
        for emotion, ref in expected.items():
            if clip == "clip-e":
                refused += 1
                continue
            preds.append(fake_scores(clip)[emotion])
            refs.append(ref)
    n_rows = sum(len(v) for v in fx.EXPECTED.values())
    metrics = task.metrics
    assert metrics["spearman"].value == pytest.approx(scipy_stats.spearmanr(preds, refs)[0])
    assert metrics["pearson"].value == pytest.approx(scipy_stats.pearsonr(preds, refs)[0])
    errors = np.subtract(preds, refs)
    assert metrics["mae"].value == pytest.approx(np.abs(errors).mean())
    assert metrics["rmse"].value == pytest.approx(math.sqrt((errors**2).mean()))
    assert metrics["refusal_rate"].value == pytest.approx(refused / n_rows)
    assert metrics["spearman"].n == n_rows and metrics["mae"].details["n_dropped"] == refused
    assert task.n_samples == 5 and task.dataset.n == 5
    assert set(task.breakdowns["emotion"]) == set(ev.EMOTIONS)
    shame = task.breakdowns["emotion"]["Shame"]  # clip-a answered, clip-e refused
    assert shame["refusal_rate"].value == 0.5 and shame["mae"].n == 2
    records = read_records(run_dir, "emonet-voice")
    assert records[0]["labels"]["intensity"] == fx.EXPECTED["clip-a"]


def prompted_answer(item) -> Response:
    """Numbers in several formats; every fifth sample refuses in some way."""
    index = sum(map(ord, item.sample_id)) % 10
    answers = ["7", "7/10", "Intensity: 3", "seven", "I would say 4 on a 0-10 scale."]
    refusals = [
        "I'm sorry, but I can't determine emotions from a voice recording.",
        "",
        "As an AI language model, I do not rate feelings.",
    ]
    if index in (0, 5):
        return Response(text=refusals[index % 3])
    return Response(text=answers[index % 5])


def expected_prompted(sample_id: str) -> float | None:
    index = sum(map(ord, sample_id)) % 10
    return None if index in (0, 5) else [7.0, 7.0, 3.0, 7.0, 4.0][index % 5]


def test_prompted_run_parses_numbers_and_counts_refusals(tmp_path, data, mock_model):
    mock_model.default = staticmethod(prompted_answer)
    result, run_dir = run(tmp_path, data, "emonet-voice-prompted")
    task = result.tasks["emonet-voice-prompted"]
    asked = {item.sample_id: item for item in mock_model.history}
    assert asked["clip-e::Shame"].text == "Emotion: Shame"
    assert asked["clip-e::Shame"].prompt == ev.EmoNetVoicePrompted.prompt
    ids = [f"{c}::{e}" for c, v in fx.EXPECTED.items() for e in v]
    refs = {f"{c}::{e}": r for c, v in fx.EXPECTED.items() for e, r in v.items()}
    values = {i: expected_prompted(i) for i in ids}
    n_refused = sum(v is None for v in values.values())
    assert 0 < n_refused < len(ids)
    assert task.metrics["refusal_rate"].value == n_refused / len(ids)
    assert task.metrics["refusal_rate"].details["refusals"] == n_refused
    kept = [i for i in ids if values[i] is not None]
    mae = np.mean([abs(values[i] - refs[i]) for i in kept])
    assert task.metrics["mae"].value == pytest.approx(mae)
    details = {"aggregate": "pooled", "n_valid": len(kept), "n_dropped": n_refused}
    assert task.metrics["mae"].details == details
    assert task.metrics["spearman"].value == pytest.approx(
        scipy_stats.spearmanr([values[i] for i in kept], [refs[i] for i in kept])[0]
    )
    assert task.breakdowns["emotion"]["Impatience and Irritability"]["mae"].n == 2  # a and b
    assert len(read_records(run_dir, "emonet-voice-prompted")) == len(ids)


def test_direct_run_through_a_real_openai_compatible_server(tmp_path, data):
    def reply(body: dict) -> str:
        assert "Emotions: Amusement; Elation" in user_text(body)
        return json.dumps({e: 5 for e in ev.EMOTIONS})

    with FakeOpenAI(reply=reply) as server:
        config = RunConfig(
            model="openai",
            model_args={"model": "audio-model", "base_url": server.base_url},
            tasks=["emonet-voice"],
            data_dir=data,
            output_dir=tmp_path / "runs",
        )
        result, _ = run_evaluation(config)
        assert len(server.seen) == 5 and server.seen[0].audio
    metrics = result.tasks["emonet-voice"].metrics
    refs = [r for v in fx.EXPECTED.values() for r in v.values()]
    assert metrics["mae"].value == pytest.approx(np.mean(np.abs(np.subtract(5.0, refs))))
    assert metrics["refusal_rate"].value == 0.0
    assert metrics["spearman"].value is None  # constant predictions: undefined
