"""BERSt tasks on a tiny same-schema parquet fixture: loader, mappings, real ASR, SER scoring."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests import berst_fixture as fx
from voxeval.errors import DataNotFoundError, VoxevalError
from voxeval.runner import RunConfig, run_evaluation
from voxeval.tasks import berst
from voxeval.tasks.berst import BerstAsr, BerstSer
from voxeval.tasks.berst_mapping import (
    AFFECTS,
    label_from_classifier,
    label_from_text,
    placement_classes,
)
from voxeval.types import Response

TEST_FILE = "data/test-00000-of-00001.parquet"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture dataset in the hub's layout (TTS made once per module)."""
    return fx.build(tmp_path_factory.mktemp("berst"))


@pytest.fixture(scope="module")
def rows(root: Path) -> list[dict]:
    """The test split's rows, audio included, for building broken variants."""
    import pyarrow.parquet as pq

    return pq.read_table(root / TEST_FILE).to_pylist()


def variant(tmp_path: Path, rows: list[dict], drop: tuple[str, ...] = (), **changes) -> Path:
    """A copy of the test split with some fields of the first row changed or columns dropped."""
    rows = [dict(r) for r in rows]
    rows[0].update(changes)
    fx.write_split(tmp_path, "test", rows, drop=drop)
    return tmp_path


def run(tmp_path: Path, model: str, task: str, data: Path, **model_args):
    config = RunConfig(
        model=model, tasks=[task], model_args=model_args, output_dir=tmp_path, data_dir=data
    )
    result, run_dir = run_evaluation(config)
    lines = (run_dir / f"samples-{task}.jsonl").read_text().splitlines()
    return result.tasks[task], [json.loads(x) for x in lines]


# ---------------------------------------------------------------- mappings
@pytest.mark.parametrize(
    ("position", "distance", "obstruction"),
    [
        ("In hand, close to mouth 1/19", "near", "none"),
        ("Held at arm's length (3/19)", "near", "none"),
        ("On a table about 2 m away 5/19", "mid", "none"),
        ("On the floor, 6 feet away", "mid", "none"),
        ("On a shelf 12 ft away", "far", "none"),
        ("50 cm from the face", "near", "none"),
        ("On the couch", "mid", "none"),
        ("Across the room 8/19", "far", "none"),
        ("In a backpack on the floor 12/19", "mid", "bag"),
        ("In a backpack across the room", "far", "bag"),
        ("In front pocket 10/19", "near", "pocket"),
        ("Under a pillow on the couch 14/19", "mid", "covered"),
        ("Face down on the desk", "mid", "covered"),
        ("In another room, door closed 17/19", "other_room", "wall"),
        ("Next room, door open", "other_room", "wall"),
        ("In a bag", "unknown", "bag"),
        ("Balanced somewhere odd 19/19", "unknown", "unknown"),
        ("", "unknown", "unknown"),
        (None, "unknown", "unknown"),
    ],
)
def test_placement_classes(position, distance, obstruction):
    assert placement_classes(position) == (distance, obstruction)


@pytest.mark.parametrize(
    ("answer", "label"),
    [
        ("anger", "anger"),
        ("The emotion is: Anger.", "anger"),
        ("ANGRY", "anger"),
        ("I'd say the speaker is mad", "anger"),
        ("Happy!", "joy"),
        ("joyful", "joy"),
        ("Sad.", "sadness"),
        ("They sound scared", "fear"),
        ("afraid", "fear"),
        ("disgusted", "disgust"),
        ("Surprised!!", "surprise"),
        ("calm", "neutral"),
        ("neutral", "neutral"),
        ("unhappy", "sadness"),
        ("Not sad, they are angry.", "anger"),
        ("It isn't joy; it's surprise", "surprise"),
        ("The speaker does not sound happy", None),  # only a negated mention
        ("anger or fear", None),  # ambiguous: several labels
        ("happy surprise", None),
        ("No, it's anger.", "anger"),  # the negator is in another clause
        ("I cannot tell from this audio.", None),
        ("Surprisingly calm", "neutral"),  # "surprisingly" is not a synonym
        ("", None),
        (None, None),
    ],
)
def test_label_from_text(answer, label):
    assert label_from_text(answer) == label


@pytest.mark.parametrize(
    ("label", "expected"),
    [("anger", "anger"), ("ANGRY", "anger"), (" Neutral ", "neutral"), ("hap", "joy"),
     ("Sadness", "sadness"), ("other", None), ("ang", "anger")],
)  # fmt: skip
def test_label_from_classifier(label, expected):
    assert label_from_classifier(label) == expected


def test_scoring_rows_prefer_the_classifier_label_and_flag_unmappable():
    records = [
        {"prediction": {"label": "Happy", "text": "anger"}, "labels": {"affect": "joy"}},
        {"prediction": {"text": "The emotion is: Fear."}, "labels": {"affect": "fear"}},
        {"prediction": {"text": "no idea"}, "labels": {"affect": "fear"}},
    ]
    rows = BerstSer.scoring_rows(records)
    assert [r["prediction"]["label"] for r in rows] == ["joy", "fear", None]
    assert [r["prediction"]["values"]["unmappable"] for r in rows] == [False, False, True]
    assert records[0]["prediction"] == {"label": "Happy", "text": "anger"}  # not mutated


# ---------------------------------------------------------------- loader
def test_loader_reads_the_hub_layout_without_decoding(root):
    task = BerstAsr(root)
    samples = list(task.samples())
    assert [s.id for s in samples] == [r[0] for r in fx.TEST_ROWS]
    first = samples[0]
    assert isinstance(first.audio, bytes) and first.audio[:4] == b"RIFF"
    assert first.references == ("The cat sat on the warm mat.",) == (first.transcript,)
    assert first.metadata["distance"] == "near" and first.metadata["shout_level"] == "no-shout"
    info = task.dataset()
    assert info.id == "Rosie-Lab/BERSt" and info.split == "test" and len(info.content_hash) == 64
    assert info.content_hash == BerstAsr(root).dataset().content_hash  # stable
    assert len(info.warnings) == 2 and all("'Balanced somewhere odd" in w for w in info.warnings)


def test_split_folder_layout_gives_the_same_samples(root, tmp_path):
    for split in ("train", "test"):
        (tmp_path / split).mkdir()
        shutil.copy(root / f"data/{split}-00000-of-00001.parquet", tmp_path / split / "p.parquet")
    ours = [(s.id, s.audio, s.labels) for s in BerstSer(tmp_path).samples()]
    assert ours == [(s.id, s.audio, s.labels) for s in BerstSer(root).samples()]
    assert BerstSer(tmp_path, {"split": "test"}).adapter_context()["label_prior"]["joy"] == 0.5


def test_ser_context_reads_the_train_prior_and_is_empty_without_train(root, tmp_path):
    context = BerstSer(root).adapter_context()
    assert context["labels"] == list(AFFECTS)
    expected = {a: 0.0 for a in AFFECTS} | {"anger": 2 / 6, "fear": 1 / 6, "joy": 3 / 6}
    assert context["label_prior"] == pytest.approx(expected)
    (tmp_path / "data").mkdir()
    shutil.copy(root / TEST_FILE, tmp_path / TEST_FILE)
    assert "label_prior" not in BerstSer(tmp_path).adapter_context()


def test_hub_path_uses_the_pinned_revision_and_no_decoding(root, tmp_path, monkeypatch):
    import datasets

    calls = []

    def fake_load(name, revision=None, split=None):
        calls.append((name, revision, split))
        files = str(root / f"data/{split}-00000-of-00001.parquet")
        return real_load("parquet", data_files=files, split="train", cache_dir=str(tmp_path))

    real_load = datasets.load_dataset
    monkeypatch.setattr(datasets, "load_dataset", fake_load)
    task = BerstSer(None)
    samples = list(task.samples())
    assert len(samples) == 8 and isinstance(samples[0].audio, bytes)
    assert samples[0].audio == next(iter(BerstSer(root).samples())).audio
    info = task.dataset()
    assert (info.revision, info.source) == (berst.HUB_REVISION, "hub:Rosie-Lab/BERSt")
    assert task.adapter_context()["label_prior"]["joy"] == 0.5
    assert calls[0] == ("Rosie-Lab/BERSt", berst.HUB_REVISION, "test")


def test_hub_unreachable_names_what_to_download():
    with pytest.raises(DataNotFoundError, match=r"Rosie-Lab/BERSt.*--local-dir DIR"):
        list(BerstAsr(None, {"revision": "main"}).samples())


# ---------------------------------------------------------------- bad input
def test_missing_column_names_the_file_and_column(rows, tmp_path):
    data = variant(tmp_path, rows, drop=("script",))
    missing = r"test-00000-of-00001\.parquet: missing column\(s\) script"
    with pytest.raises(VoxevalError, match=missing):
        list(BerstAsr(data).samples())
    assert len(list(BerstSer(data).samples())) == 8  # SER does not need the transcript


def test_unknown_affect_stops_ser_and_is_counted_by_asr(rows, tmp_path):
    data = variant(tmp_path, rows, affect="Bored")
    with pytest.raises(VoxevalError, match=r"parquet row 0: affect 'Bored' is not one of"):
        list(BerstSer(data).samples())
    asr = BerstAsr(data)
    assert next(iter(asr.samples())).metadata["affect"] == "bored"
    assert any("affect" in w and "'bored': 1" in w for w in asr.dataset().warnings)


def test_empty_script_is_left_out_of_asr_and_counted(rows, tmp_path):
    data = variant(tmp_path, rows, script="  ")
    asr = BerstAsr(data)
    assert next(s.id for s in asr.samples()) == "t02"
    assert any("1 row(s) with an empty transcript" in w and "row 0" in w
               for w in asr.dataset().warnings)  # fmt: skip
    assert len(list(BerstSer(data).samples())) == 8  # emotion labels do not need it


def test_missing_split_and_missing_folder(root, tmp_path):
    with pytest.raises(DataNotFoundError, match=r"split 'dev'.*Splits found: test, train, valid"):
        list(BerstAsr(root, {"split": "dev"}).samples())
    with pytest.raises(DataNotFoundError, match="does not exist"):
        list(BerstAsr(tmp_path / "nope").samples())
    with pytest.raises(DataNotFoundError, match="No BERSt parquet shards"):
        list(BerstAsr(tmp_path).samples())


def test_duplicate_ids_fall_back_to_user_then_fail(rows, tmp_path):
    data = variant(tmp_path / "a", rows, audio_id="t02", user_id="u02")
    ids = [s.id for s in BerstAsr(data).samples()]
    assert ids[:2] == ["u02/t02", "u01/t02"]
    data = variant(tmp_path / "b", rows, audio_id="t02")
    with pytest.raises(VoxevalError, match=r"Duplicate clip id 'u01/t02'.*row 0 and .*row 1"):
        list(BerstAsr(data).samples())


def test_undecodable_audio_is_a_per_sample_error(rows, tmp_path, mock_model):
    data = variant(tmp_path / "d", rows, audio={"bytes": None, "path": None})
    task, records = run(tmp_path / "r", "mock", "berst-asr", data)
    assert task.n_errors == 1 and records[0]["error"]["kind"] == "decode"


# ---------------------------------------------------------------- end to end
@pytest.mark.slow
def test_asr_end_to_end_with_real_whisper(root, tmp_path):
    task, records = run(tmp_path, "faster-whisper", "berst-asr", root)
    wer = task.metrics["wer"]
    print("\nberst-asr WER", round(wer.value, 3), "CER", round(task.metrics["cer"].value, 3))
    for field, groups in task.breakdowns.items():
        print(field, {g: (round(m["wer"].value, 3), m["wer"].n) for g, m in groups.items()})
    # Whisper tiny.en on festival speech with mild effects: a real, imperfect transcript.
    assert task.n_errors == 0 and wer.n == 8 and 0 < wer.value < 0.6
    assert set(task.breakdowns) == {"distance", "obstruction", "shout_level", "affect"}
    assert set(task.breakdowns["distance"]) == {"near", "mid", "far", "other_room", "unknown"}
    assert task.breakdowns["shout_level"]["shout"]["wer"].n == 3
    assert task.dataset.warnings and records[0]["metadata"]["obstruction"] == "none"
    near = task.breakdowns["distance"]["near"]["wer"]
    assert near.value < 0.3  # clean festival speech in hand


def test_ser_majority_baseline(root, tmp_path):
    task, records = run(tmp_path, "majority", "berst-ser", root)
    assert {r["prediction"]["label"] for r in records} == {"joy"}
    accuracy = task.metrics["accuracy"]
    assert accuracy.value == pytest.approx(2 / 8) and accuracy.params["labels"] == list(AFFECTS)
    assert task.metrics["uar"].value == pytest.approx(1 / 7)
    assert len(accuracy.details["confusion_matrix"]) == 7
    assert task.metrics["unmappable_rate"].value == 0


def test_ser_free_text_answers_with_unmappable_ones(root, tmp_path, mock_model):
    answers = {
        "t01": "The emotion is: Joy.",  # right
        "t02": "angry",  # right
        "t03": "I think they sound sad",  # right
        "t04": "Fear or surprise, hard to say",  # ambiguous → unmappable
        "t05": "SURPRISED!",  # right
        "t06": "I'm sorry, I can't identify emotions.",  # unmappable
        "t07": "happy",  # wrong
        "t08": "",  # unmappable
    }
    mock_model.default = staticmethod(lambda item: Response(text=answers[item.sample_id]))
    task, records = run(tmp_path, "mock", "berst-ser", root)
    assert "one of: anger, disgust, fear, joy, neutral, sadness, surprise" in (
        mock_model.history[0].prompt
    )
    assert task.n_errors == 0 and task.n_scored == 8
    accuracy = task.metrics["accuracy"]
    assert accuracy.value == pytest.approx(4 / 8)
    assert accuracy.details["invalid_predictions"] == 3
    assert task.metrics["unmappable_rate"].value == pytest.approx(3 / 8)
    assert task.metrics["unmappable_rate"].details["refusals"] == 3
    assert records[3]["prediction"] == {"text": answers["t04"]}  # raw answer kept as given
    assert set(task.breakdowns) == {"distance", "obstruction", "shout_level"}
