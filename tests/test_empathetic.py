"""EmpatheticDialogues tasks on a tiny official-format CSV: parsing, runs, spoken audio, judge."""

from __future__ import annotations

import json
import re

import pytest

from tests import empathetic_fixture as fx
from tests.fake_openai import FakeOpenAI, user_text
from tests.helpers import sine, write_wav
from voxeval import tts
from voxeval.errors import DataNotFoundError, VoxevalError
from voxeval.judge import JudgeConfig
from voxeval.runner import RunConfig, run_evaluation
from voxeval.tasks import empathetic as ed
from voxeval.tasks import empathetic_data as edata
from voxeval.types import Response

TEXT, SPOKEN = "empathetic-dialogues", "empathetic-dialogues-spoken"
EXPECTED = fx.listener_turns()


@pytest.fixture
def data(tmp_path):
    fx.write_split(tmp_path / "data")
    return tmp_path / "data"


def run(tmp_path, model, task, data_dir, out="runs", judge=None, **task_args):
    config = RunConfig(
        model=model,
        tasks=[task],
        data_dir=data_dir,
        task_args=task_args,
        output_dir=tmp_path / out,
        judge=judge,
    )
    result, run_dir = run_evaluation(config)
    return result.tasks[task], run_dir


def records(run_dir, task):
    lines = (run_dir / f"samples-{task}.jsonl").read_text().splitlines()
    return {r["sample_id"]: r for r in map(json.loads, lines)}


# ---------------------------------------------------------------- loading


def test_parsing_grouping_and_decoding(data):
    task = ed.EmpatheticDialogues(data, {})
    samples = list(task.samples())
    assert [(s.id, s.metadata["turn"], s.metadata["emotion"]) for s in samples] == [
        (sid, turn, emotion) for sid, turn, emotion, _ in EXPECTED
    ]
    assert [s.references[0] for s in samples] == [ref for *_, ref in EXPECTED]
    first, second = samples[0], samples[1]
    assert first.text == f"Speaker: {fx.CONVERSATIONS[0][3][0]}"
    assert "," in first.text and "_comma_" not in first.text
    _, _, _, turns = fx.CONVERSATIONS[0]
    assert second.text.splitlines() == [
        f"Speaker: {turns[0]}",
        f"Listener: {turns[1]}",
        f"Speaker: {turns[2]}",
    ]
    assert second.transcript == turns[2] and second.labels == {"emotion": "sentimental"}
    assert second.metadata["conv_id"] == "hit:0_conv:1"
    # conv 3: rows stored out of order, a repaired raw comma, a leading double quote
    last = samples[-1]
    assert last.id == "hit:2_conv:3_4"
    assert last.transcript == '"Thanks" is all I could say, I cried.'
    assert "Listener: Congratulations, that is wonderful news" in last.text
    info = task.dataset()
    assert info.split == "test" and len(info.content_hash) == 64 and not info.demo
    assert any("repaired" in w and "line" in w for w in info.warnings)
    malformed = len(fx.csv_lines())  # the last line of the file
    assert any("malformed" in w and str(malformed) in w for w in info.warnings)


def test_flat_layout_and_validation_alias(tmp_path):
    fx.write_split(tmp_path, split="valid", nested=False)
    task = ed.EmpatheticDialogues(tmp_path, {"split": "validation"})
    assert len(list(task.samples())) == len(EXPECTED) and task.dataset().split == "valid"


def test_repair_rules():
    ok = ["c", "2", "sad", "a", "b", "7", "hi", "there", "5|5|5_2|2|5", ""]
    assert edata.repair(ok) == ["c", "2", "sad", "a,b", "7", "hi,there", "5|5|5_2|2|5", ""]
    assert edata.repair(["c", "2", "sad", "a", "7", "hi", "5|5"]) == [
        *["c", "2", "sad", "a", "7", "hi", "5|5"],
        "",
    ]
    ambiguous = ["c", "2", "sad", "a", "7", "I was", "5", "then", "5|5|5_2|2|5", ""]
    assert edata.repair(ambiguous) is None
    assert edata.repair(["c", "2", "sad"]) is None


@pytest.mark.parametrize(
    ("answer", "emotion", "reply"),
    [
        ("Emotion: sad\nReply: I'm so sorry.", "sad", "I'm so sorry."),
        ("**Emotion:** Terrified\n\n**Reply:** Awful!", "terrified", "Awful!"),
        ("emotion - The speaker feels SCARED.\nOh no!", "afraid", "Oh no!"),
        ("Emotion: joy. Reply: How wonderful!", "joyful", "How wonderful!"),
        ("Emotion: not angry, just annoyed\nReply: Ugh.", "annoyed", "Ugh."),
        ("Reply: Wow.\nEmotion: impressed", "impressed", "Wow."),
        ("Emotion: looking forward to it\nReply: Nice", "anticipating", "Nice"),
        ("Emotion: ???\nReply: Hmm_comma_ tell me more.", None, "Hmm, tell me more."),
        ("That must have been hard for you.", None, "That must have been hard for you."),
        ("", None, ""),
        (None, None, ""),
    ],
)
def test_parse_answer(answer, emotion, reply):
    assert ed.parse_answer(answer) == (emotion, reply)


# ---------------------------------------------------------------- runs


def test_echo_baseline(tmp_path, data):
    result, run_dir = run(tmp_path, "echo", TEXT, data)
    assert result.n_errors == 0 and result.n_scored == len(EXPECTED)
    m = result.metrics
    assert m["no_emotion_rate"].value == 1.0 and m["emotion_accuracy"].value == 0.0
    assert m["emotion_accuracy"].details["invalid_predictions"] == len(EXPECTED)
    assert m["emotion_accuracy"].params["labels"] == list(ed.EMOTIONS)
    assert 0.0 <= m["bleu"].value < 1.0 and 0.0 < m["distinct_1"].value <= 1.0
    assert set(result.breakdowns["emotion"]) == {"sentimental", "afraid", "proud"}
    echoed = records(run_dir, TEXT)["hit:0_conv:1_4"]["prediction"]["text"]
    assert echoed == fx.CONVERSATIONS[0][3][2]  # the speaker's last turn, repeated


def test_mock_answers_in_the_format(tmp_path, data, mock_model):
    refs = {sid: (emotion, ref) for sid, _, emotion, ref in EXPECTED}
    wrong, unformatted = EXPECTED[1][0], EXPECTED[2][0]

    def answer(item):
        emotion, ref = refs[item.sample_id]
        if item.sample_id == unformatted:
            return Response(text=ref)
        label = "furious" if item.sample_id == wrong else emotion.upper()
        return Response(text=f"Emotion: {label}\nReply: {ref}")

    mock_model.default = staticmethod(answer)
    result, run_dir = run(tmp_path, "mock", TEXT, data)
    m = result.metrics
    assert m["bleu"].value == pytest.approx(1.0) and m["rouge_l"].value == pytest.approx(1.0)
    assert m["emotion_accuracy"].value == pytest.approx(3 / 5)
    assert m["no_emotion_rate"].value == pytest.approx(1 / 5)
    assert m["no_emotion_rate"].details["refusals"] == 1
    assert 0 < m["emotion_macro_f1"].value < 1
    assert result.breakdowns["emotion"]["afraid"]["emotion_accuracy"].value == 0.0  # no label
    assert result.breakdowns["emotion"]["proud"]["emotion_accuracy"].value == 1.0
    seen = mock_model.history[0]
    assert seen.prompt == ed.PROMPT_TEXT and "Emotion: <" in seen.prompt
    assert seen.audio is None and seen.text.startswith("Speaker: ")
    assert "sentimental" not in seen.text  # the label never reaches the model
    raw = records(run_dir, TEXT)[EXPECTED[0][0]]["prediction"]["text"]
    assert raw.startswith("Emotion: SENTIMENTAL")  # the samples file keeps the raw answer


# ---------------------------------------------------------------- spoken


def test_spoken_tts_on_request_is_cached(tmp_path, data, mock_model, monkeypatch):
    calls = []
    real = tts.run_tts
    monkeypatch.setattr(tts, "run_tts", lambda cmd: (calls.append(cmd), real(cmd))[1])
    cache = tmp_path / "tts"
    first, run_dir = run(tmp_path, "mock", SPOKEN, data, out="a", tts="espeak-ng", tts_cache=cache)
    assert first.n_errors == 0 and len(calls) == len(EXPECTED)
    assert all(cmd[0] == "espeak-ng" for cmd in calls)
    wavs = sorted((cache / "espeak-ng").glob("*.wav"))
    stamps = [p.stat().st_mtime_ns for p in wavs]
    assert len(wavs) == len(EXPECTED)
    second, _ = run(tmp_path, "mock", SPOKEN, data, out="b", tts="espeak-ng", tts_cache=cache)
    assert len(calls) == len(EXPECTED) and second.n_errors == 0  # nothing synthesised again
    assert [p.stat().st_mtime_ns for p in wavs] == stamps
    by_id = {item.sample_id: item for item in mock_model.history}
    opening, later = by_id[EXPECTED[0][0]], by_id[EXPECTED[1][0]]
    assert opening.text is None and opening.audio is not None and opening.duration_s > 0.5
    assert later.transcript == fx.CONVERSATIONS[0][3][2] and later.prompt == ed.PROMPT_SPOKEN
    assert later.text == "\n".join(
        [f"Speaker: {fx.CONVERSATIONS[0][3][0]}", f"Listener: {fx.CONVERSATIONS[0][3][1]}"]
    )
    dataset = json.loads((run_dir / "run.json").read_text())["tasks"][SPOKEN]["dataset"]
    assert re.search(r"TTS espeak-ng \d+\.\d+", dataset["hash_method"])
    assert f"local:{cache.name}" in dataset["source"]  # no path of this machine
    assert str(cache) not in json.dumps(dataset)


def test_spoken_limit_synthesises_only_what_it_runs(tmp_path, data, mock_model, monkeypatch):
    calls = []
    real = tts.run_tts
    monkeypatch.setattr(tts, "run_tts", lambda cmd: (calls.append(cmd), real(cmd))[1])
    config = RunConfig(
        model="mock",
        tasks=[SPOKEN],
        data_dir=data,
        task_args={"tts": "espeak-ng", "tts_cache": tmp_path / "tts"},
        output_dir=tmp_path / "runs",
        limit=1,
    )
    result, run_dir = run_evaluation(config)
    assert result.tasks[SPOKEN].n_errors == 0 and len(mock_model.history) == 1
    assert len(calls) == 1  # only the one turn that runs is synthesised
    assert ed.EmpatheticDialoguesSpoken(data, {"tts": "espeak-ng"}).count() == len(EXPECTED)
    dataset = json.loads((run_dir / "run.json").read_text())["tasks"][SPOKEN]["dataset"]
    assert dataset["n"] == 1 and dataset["n_available"] == len(EXPECTED)
    assert len(calls) == 1 and len(list((tmp_path / "tts").rglob("*.wav"))) == 1


def supply_audio(folder, skip=()):
    for sid, *_ in EXPECTED:
        conv_id, idx, _ = fx.speaker_turn(sid)
        if sid not in skip:
            write_wav(folder / f"{conv_id}_{idx}.wav", sine(0.5, 16000), 16000)


def test_spoken_with_supplied_audio(tmp_path, data, mock_model):
    supply_audio(data / "empatheticdialogues" / "audio", skip={EXPECTED[-1][0]})
    result, _ = run(tmp_path, "mock", SPOKEN, data)
    assert result.n_scored == len(EXPECTED) - 1 and result.errors_by_kind == {"decode": 1}
    assert any("1 speaker-turn audio file(s) missing" in w for w in result.dataset.warnings)
    assert "file names + sizes" in result.dataset.hash_method
    assert mock_model.history[0].duration_s == pytest.approx(0.5)
    # The echo baseline needs no audio: it repeats the transcript of the speaker's turn.
    echo, run_dir = run(tmp_path, "echo", SPOKEN, data, out="echo")
    assert echo.n_errors == 0
    echoed = records(run_dir, SPOKEN)[EXPECTED[0][0]]["prediction"]["text"]
    assert echoed == fx.CONVERSATIONS[0][3][0]


def test_spoken_without_audio_names_the_tts_option(data):
    task = ed.EmpatheticDialoguesSpoken(data, {})
    with pytest.raises(DataNotFoundError, match=r"tts=espeak-ng") as err:
        list(task.samples())
    assert "hit:0_conv:1_1.wav" in str(err.value)


# ---------------------------------------------------------------- judge


def test_judge_rates_the_reply_in_context(tmp_path, data, mock_model):
    mock_model.default = staticmethod(
        lambda item: Response(text="Emotion: sad\nReply: That must be hard.")
    )
    with FakeOpenAI(reply=lambda body: "Caring. Rating: [[4]]") as server:
        judge = JudgeConfig("openai", {"model": "judge-model", "base_url": server.base_url})
        result, run_dir = run(tmp_path, "mock", TEXT, data, judge=judge)
        sent = [user_text(s.body) for s in server.seen]
    judged = result.metrics["judge"]
    assert judged.value == 4.0 and judged.n == len(EXPECTED)
    assert judged.params["rubric"] == "empathy" and judged.params["rubric_version"] == "2"
    assert result.breakdowns["emotion"]["sentimental"]["judge"].n == 2
    assert all("That must be hard." in text and "Emotion: sad" not in text for text in sent)
    assert any(fx.CONVERSATIONS[1][3][0] in text for text in sent)  # the dialogue so far
    saved = json.loads((run_dir / "run.json").read_text())["tasks"][TEXT]["metrics"]["judge"]
    assert saved["params"]["rubric"] == "empathy"


# ---------------------------------------------------------------- bad input


def test_missing_columns(tmp_path):
    folder = tmp_path / "empatheticdialogues"
    folder.mkdir()
    (folder / "test.csv").write_text("conv_id,utterance_idx,context,utterance\nc,1,sad,hi\n")
    with pytest.raises(VoxevalError, match=r"test\.csv.*prompt, speaker_idx, selfeval, tags"):
        list(ed.EmpatheticDialogues(tmp_path, {}).samples())


def test_missing_split_file(tmp_path, data):
    with pytest.raises(DataNotFoundError, match=r"train\.csv") as err:
        ed.EmpatheticDialogues(data, {"split": "train"}).dataset()
    assert "empatheticdialogues.tar.gz" in str(err.value) and "dl.fbaipublicfiles" in str(err.value)
    with pytest.raises(DataNotFoundError, match=r"empatheticdialogues\.tar\.gz"):
        ed.EmpatheticDialogues(tmp_path / "nowhere", {}).dataset()


def test_bad_options_and_offline_hub(data):
    with pytest.raises(VoxevalError, match="split"):
        ed.EmpatheticDialogues(data, {"split": "dev"})
    with pytest.raises(VoxevalError, match="tts"):
        ed.EmpatheticDialoguesSpoken(data, {"tts": "say"})
    with pytest.raises(DataNotFoundError, match=r"facebook/empathetic_dialogues.*tar\.gz"):
        ed.EmpatheticDialogues(None, {}).dataset()  # HF_HUB_OFFLINE=1 in tests


def test_hub_copy_is_read_through_datasets(monkeypatch):
    import datasets

    header = fx.HEADER.split(",")
    lines = [line.split(",") for line in fx.csv_lines()[1:] if len(line.split(",")) == 8]
    table = datasets.Dataset.from_list([dict(zip(header, row, strict=True)) for row in lines])
    asked = []

    def fake_load(hub_id, revision, split):
        asked.append((hub_id, revision, split))
        return table

    monkeypatch.setattr(datasets, "load_dataset", fake_load)
    task = ed.EmpatheticDialogues(None, {"split": "valid", "hub_id": "me/ed", "revision": "abc"})
    samples = list(task.samples())
    assert asked == [("me/ed", "abc", "validation")]
    assert [s.id for s in samples] == [sid for sid, *_ in EXPECTED if sid != "hit:2_conv:3_2"]
    assert "," in samples[0].references[0]  # _comma_ decoded here too
    info = task.dataset()
    assert (info.id, info.revision, info.split) == ("me/ed", "abc", "validation")
    assert info.source == "hub:me/ed@abc" and len(info.content_hash) == 64
