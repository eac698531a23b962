"""SD-Eval tasks: the real manifests, a TTS fixture end to end (echo, judge, cascade, audio LLM),
and bad input."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
import soundfile as sf

import voxeval.tasks.sd_eval as sd_eval
from tests.fake_openai import FakeOpenAI, user_text
from tests.sd_eval_fixture import CLIPS, build_sd_eval, entry, write_manifest
from voxeval.errors import DataNotFoundError, VoxevalError
from voxeval.judge import JudgeConfig
from voxeval.runner import RunConfig, run_evaluation
from voxeval.task import TASKS, expand_task_names
from voxeval.types import Response

REAL = Path("/work/shared/data/sd-eval")
SUBSET_TASKS = {"test-emo": "sd-eval-emo", "test-acc": "sd-eval-acc"}
SUBSET_TASKS |= {"test-age": "sd-eval-age", "test-env": "sd-eval-env"}
ASPECTS = {"sd-eval-emo": "emotion", "sd-eval-acc": "accent"}
ASPECTS |= {"sd-eval-age": "age", "sd-eval-env": "environment"}
EMO_COUNTS = {"happy": 325, "sad": 292, "angry": 267, "disgust": 218, "fear": 187}
ANGRY = r"entry 1 \(utt_id 'female2_angry_5a_1'\)"
needs_real = pytest.mark.skipif(
    not REAL.is_dir(), reason=f"real SD-Eval manifests not present at {REAL}"
)


@pytest.fixture(scope="session")
def fixture_dir(tmp_path_factory) -> Path:
    """All four subsets with espeak-ng audio in the official layout (built once)."""
    root = tmp_path_factory.mktemp("sd-eval")
    build_sd_eval(root)
    return root


def run(tmp_path: Path, model: str, tasks: list[str], data_dir: Path, **kw):
    config = RunConfig(model=model, tasks=tasks, data_dir=data_dir, output_dir=tmp_path, **kw)
    return run_evaluation(config)


def run_json(run_dir: Path) -> dict:
    return json.loads((run_dir / "run.json").read_text())


def records(run_dir: Path, task: str) -> list[dict]:
    lines = (run_dir / f"samples-{task}.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


# --- the real manifests -------------------------------------------------------------------


@needs_real
@pytest.mark.parametrize(
    ("task", "n", "labels"),
    [
        ("sd-eval-emo", 1289, EMO_COUNTS),
        ("sd-eval-age", 1014, {"child": 507, "adult": 507}),
        ("sd-eval-env", 690, None),
    ],
)
def test_real_manifests(task, n, labels):
    loader = TASKS.get(task)(REAL)
    samples = list(loader.samples())
    assert len(samples) == n and len({s.id for s in samples}) == n
    assert all(len(s.references) == 5 and s.transcript for s in samples)
    counts = Counter(s.metadata["info"] for s in samples)
    if labels:
        assert counts == labels
    else:  # test-env: seven background sounds
        assert len(counts) == 7 and sum(counts.values()) == 690
    info = loader.dataset()
    assert info.id == "amphion/SD-Eval" and info.split == loader.subset
    assert len(info.content_hash) == 64 and "no audio folder" in info.hash_method
    assert not any("fewer than" in w for w in info.warnings)
    assert any("no audio folder" in w for w in info.warnings)  # audio is not shipped here


@needs_real
def test_real_manifests_lack_test_acc():
    with pytest.raises(DataNotFoundError, match=r"test-acc\.json.*VCTK.*sd-eval-emo"):
        TASKS.get("sd-eval-acc")(REAL).dataset()


# --- registration and the fixture loader -------------------------------------------------


def test_group_and_task_attributes():
    assert expand_task_names(["sd-eval"]) == list(SUBSET_TASKS.values())
    for task_name, aspect in ASPECTS.items():
        cls = TASKS.get(task_name)
        assert cls.kind == "dialogue" and cls.judge_rubric == f"sd-eval-{aspect}"
        assert cls.metric_names() == ["bleu", "rouge_l", "meteor"]
        assert cls.breakdowns == ("info", "dataset_name") and cls.prompt


def test_fixture_samples(fixture_dir):
    for subset, task_name in SUBSET_TASKS.items():
        samples = list(TASKS.get(task_name)(fixture_dir).samples())
        clips = CLIPS[subset]
        assert [s.id for s in samples] == [c.utt_id for c in clips]
        first = samples[0]
        assert first.audio == fixture_dir / "audio_data" / clips[0].wav_path
        assert Path(first.audio).is_file() and len(first.references) == 5
        assert first.metadata["info"] == clips[0].info
        assert first.metadata["dataset_name"] == clips[0].dataset_name
        assert first.transcript == clips[0].transcript


def test_identity_hash_and_layouts(fixture_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(fixture_dir, copy)
    info = TASKS.get("sd-eval-emo")(copy).dataset()
    assert info.hash_method == "sha256(manifest bytes + audio file names and sizes)"
    assert info.warnings == () and info.revision is None
    assert TASKS.get("sd-eval-emo")(fixture_dir).dataset().content_hash == info.content_hash
    # the GitHub layout (data/<subset>.json), and DIR/sd-eval/, read the same data
    (copy / "data").mkdir()
    (copy / "test-emo.json").rename(copy / "data" / "test-emo.json")
    assert TASKS.get("sd-eval-emo")(copy).dataset().content_hash == info.content_hash
    nested = tmp_path / "all"
    shutil.copytree(copy, nested / "sd-eval")
    assert TASKS.get("sd-eval-emo")(nested).dataset().content_hash == info.content_hash
    # a changed audio file (size) or manifest is different data
    wav = copy / "audio_data" / CLIPS["test-emo"][0].wav_path
    data, sr = sf.read(wav)
    sf.write(wav, data[:-100], sr, subtype="PCM_16")
    changed = TASKS.get("sd-eval-emo")(copy).dataset().content_hash
    assert changed != info.content_hash
    manifest = copy / "data" / "test-emo.json"
    manifest.write_text(manifest.read_text() + "\n")
    assert TASKS.get("sd-eval-emo")(copy).dataset().content_hash not in {changed, info.content_hash}


# --- end to end on the fixture -----------------------------------------------------------


def test_group_with_echo_baseline(fixture_dir, tmp_path):
    result, run_dir = run(tmp_path, "echo", ["sd-eval"], fixture_dir)
    saved = run_json(run_dir)
    assert result.status == "success" and list(saved["tasks"]) == list(SUBSET_TASKS.values())
    for subset, task_name in SUBSET_TASKS.items():
        task = saved["tasks"][task_name]
        assert task["task_version"] == "1" and task["kind"] == "dialogue"
        assert task["dataset"]["id"] == "amphion/SD-Eval" and task["dataset"]["split"] == subset
        assert len(task["dataset"]["content_hash"]) == 64 and task["dataset"]["n"] == 3
        assert task["n_scored"] == 3 and task["n_errors"] == 0
        for metric in ("bleu", "rouge_l", "meteor"):
            assert 0 < task["metrics"][metric]["value"] < 1  # the replies quote the transcript
        by_info = task["breakdowns"]["info"]
        assert set(by_info) == {c.info for c in CLIPS[subset]}
        assert sum(group["rouge_l"]["n"] for group in by_info.values()) == 3
        assert set(task["breakdowns"]["dataset_name"]) == {c.dataset_name for c in CLIPS[subset]}
    first = records(run_dir, "sd-eval-emo")[0]
    assert first["prediction"]["text"] == CLIPS["test-emo"][0].transcript
    assert len(first["references"]) == 5 and first["metadata"]["info"] == "sad"


def grading_judge(body: dict) -> str:
    """Rates 7, except that it cannot decide about the door statement."""
    text = user_text(body)
    if "Kids are talking by the door" in text:
        return "The reply is hard to assess."
    return "It addresses the user. Rating: [[7]]"


def test_judge_on_the_fake_server(fixture_dir, tmp_path):
    with FakeOpenAI(reply=grading_judge) as server:
        judge = JudgeConfig("openai", {"model": "judge", "base_url": server.base_url, "seed": 1337})
        _, run_dir = run(tmp_path, "echo", ["sd-eval"], fixture_dir, judge=judge)
    assert len(server.seen) == 12
    sent = user_text(server.seen[0].body)
    assert "Kids are talking by the door" in sent and "emotion: sad" in sent
    assert server.seen[0].body["seed"] == 1337 and server.seen[0].body["model"] == "judge"
    saved = run_json(run_dir)["tasks"]
    for task_name, aspect in ASPECTS.items():
        judged = saved[task_name]["metrics"]["judge"]
        assert judged["params"]["rubric"] == f"sd-eval-{aspect}"
        assert judged["params"]["rubric_version"] == "2"
        assert judged["params"]["judge"]["args"]["model"] == "judge"
        assert judged["value"] == 7.0
    emo = saved["sd-eval-emo"]
    judged = emo["metrics"]["judge"]
    assert judged["n"] == 2 and judged["details"]["n_unparseable"] == 1  # counted, not fatal
    assert emo["breakdowns"]["info"]["happy"]["judge"]["value"] == 7.0
    assert emo["breakdowns"]["info"]["sad"]["judge"]["n"] == 0
    rows = (run_dir / "judge-sd-eval-emo.jsonl").read_text().splitlines()
    assert json.loads(rows[0])["score"] is None and json.loads(rows[1])["score"] == 7.0


def test_cascade_asr_then_text_model(fixture_dir, tmp_path, mock_model):
    mock_model.default = staticmethod(lambda item: Response(text=f"heard {item.sample_id}"))
    with FakeOpenAI(reply=lambda body: "Oh no, I am sorry to hear that.") as server:
        args = {"asr": "mock", "llm": "openai", "llm.model": "m", "llm.base_url": server.base_url}
        result, run_dir = run(tmp_path, "cascade", ["sd-eval-emo"], fixture_dir, model_args=args)
    assert len(mock_model.history) == 3 and mock_model.history[0].audio is not None
    sent = user_text(server.seen[0].body)
    assert sd_eval.PROMPT in sent and "heard 03-01-04-02-01-01-01" in sent
    assert all(seen.audio == [] for seen in server.seen)
    task = result.tasks["sd-eval-emo"]
    assert task.n_errors == 0 and task.metrics["rouge_l"].value > 0
    assert records(run_dir, "sd-eval-emo")[0]["prediction"]["text"].startswith("Oh no")


def test_audio_llm_hears_the_utterance(fixture_dir, tmp_path):
    with FakeOpenAI(reply=lambda body: "That sounds lovely, tell me more!") as server:
        args = {"model": "audio-llm", "base_url": server.base_url}
        result, _ = run(tmp_path, "openai", ["sd-eval-acc"], fixture_dir, model_args=args)
    assert result.tasks["sd-eval-acc"].n_errors == 0 and len(server.seen) == 3
    by_length = sorted(len(seen.audio[0][0]) for seen in server.seen)
    clips = [fixture_dir / "audio_data" / c.wav_path for c in CLIPS["test-acc"]]
    expected = sorted(sf.info(p).frames for p in clips)  # written at 16 kHz: no resampling
    assert all(abs(a - b) <= 1152 for a, b in zip(by_length, expected, strict=True))  # mp3 pad
    assert all(seen.audio[0][1] == 16000 for seen in server.seen)
    assert sd_eval.PROMPT in user_text(server.seen[0].body)


@pytest.mark.parametrize("reply", [Response(text=""), Response(text="   "), Response()])
def test_empty_replies_score_zero(fixture_dir, tmp_path, mock_model, reply):
    mock_model.default = staticmethod(lambda item: reply)
    result, _ = run(tmp_path, "mock", ["sd-eval-age"], fixture_dir)
    task = result.tasks["sd-eval-age"]
    assert task.n_errors == 0 and task.n_scored == 3
    for metric in ("bleu", "rouge_l", "meteor"):
        assert task.metrics[metric].value == 0.0
    item = sd_eval.SdEvalAge.judge_item({"prediction": reply.prediction(), "metadata": {}})
    assert item["statement"] == item["label"] == "" and not item["response"].strip()


# --- bad input ---------------------------------------------------------------------------


def test_missing_audio_is_counted_per_sample(fixture_dir, tmp_path, mock_model):
    copy = tmp_path / "data"
    shutil.copytree(fixture_dir, copy)
    gone = CLIPS["test-env"][1].wav_path
    (copy / "audio_data" / gone).unlink()
    mock_model.default = staticmethod(lambda item: Response(text="Stay dry out there."))
    result, run_dir = run(tmp_path / "out", "mock", ["sd-eval-env"], copy)
    task = result.tasks["sd-eval-env"]
    assert task.n_errors == 1 and task.errors_by_kind == {"decode": 1} and task.n_scored == 2
    failed = [r for r in records(run_dir, "sd-eval-env") if r["error"]]
    assert gone in failed[0]["error"]["message"]
    assert task.dataset.warnings == [
        f"1 of 3 audio files are missing under {copy / 'audio_data'}: {gone} "
        "(those samples fail as decode errors)"
    ]


def emo_entries() -> list[dict]:
    return [entry(clip, "test-emo") for clip in CLIPS["test-emo"]]


def test_fewer_than_five_references_load_with_a_warning(tmp_path):
    entries = emo_entries()
    entries[0]["target"] = entries[0]["target"][:3]
    entries[2]["target"][1]["reply"] = "  "  # an empty reply is no reference
    write_manifest(tmp_path, "test-emo", entries)
    loader = TASKS.get("sd-eval-emo")(tmp_path)
    samples = list(loader.samples())
    assert [len(s.references) for s in samples] == [3, 5, 4]
    ids = f"{CLIPS['test-emo'][0].utt_id}, {CLIPS['test-emo'][2].utt_id}"
    assert loader.dataset().warnings[0] == (
        f"2 entries have fewer than 5 references: {ids} (scored against the references they have)"
    )


def test_many_short_entries_are_listed_briefly(tmp_path):
    base = emo_entries()[0]
    entries = [{**base, "utt_id": f"u{i}", "target": base["target"][:2]} for i in range(7)]
    write_manifest(tmp_path, "test-emo", entries)
    warning = TASKS.get("sd-eval-emo")(tmp_path).dataset().warnings[0]
    assert warning.startswith("7 entries have fewer than 5 references: u0, u1, u2, u3, u4, …")
    write_manifest(tmp_path, "test-emo", entries[:1])
    warning = TASKS.get("sd-eval-emo")(tmp_path).dataset().warnings[0]
    assert warning.startswith("1 entry has fewer than 5 references: u0 (")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e: e.update(target=[]), ANGRY + ": no reference"),
        (lambda e: e.update(target=[{"reply": ""}]), ANGRY + ": no reference"),
        (lambda e: e.pop("transcript"), ANGRY + r": missing key\(s\) transcript"),
        (lambda e: e.pop("utt_id"), r"entry 1 \(utt_id None\): missing key\(s\) utt_id"),
        (lambda e: e.update(target="hello"), r"entry 1 .*target must be a list"),
        (lambda e: e.update(target=[{"text": "x"}]), r"entry 1 .*target\[0\] has no text `reply`"),
        (lambda e: e.update(info=3), r"entry 1 .*info must be text"),
    ],
)
def test_bad_entries_name_file_index_and_id(tmp_path, change, message):
    entries = emo_entries()
    change(entries[1])
    path = write_manifest(tmp_path, "test-emo", entries)
    with pytest.raises(VoxevalError, match=re.escape(f"{path}, ") + message):
        TASKS.get("sd-eval-emo")(tmp_path).dataset()


def test_duplicate_ids_and_non_list_manifests(tmp_path):
    entries = emo_entries()
    entries[2]["utt_id"] = entries[0]["utt_id"]
    path = write_manifest(tmp_path, "test-emo", entries)
    with pytest.raises(VoxevalError, match=r"entry 2: utt_id .* repeats entry 0"):
        list(TASKS.get("sd-eval-emo")(tmp_path).samples())
    path.write_text(json.dumps({"utt_id": "x"}))
    with pytest.raises(VoxevalError, match="expected a JSON list of entries, found a dict"):
        list(TASKS.get("sd-eval-emo")(tmp_path).samples())


def test_invalid_json_names_the_file(tmp_path):
    path = write_manifest(tmp_path, "test-age", [])
    path.write_text('[{"utt_id": "a",')
    with pytest.raises(VoxevalError, match=re.escape(f"{path}: not a valid JSON manifest")):
        TASKS.get("sd-eval-age")(tmp_path).dataset()


def test_missing_data_says_what_to_download(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"needs --data-dir.*huggingface.co/datasets"):
        TASKS.get("sd-eval-env")(None).dataset()
    with pytest.raises(DataNotFoundError, match=r"does not exist"):
        TASKS.get("sd-eval-env")(tmp_path / "nope").dataset()
    with pytest.raises(DataNotFoundError, match=r"No test-age\.json.*audio_data.*MyST"):
        TASKS.get("sd-eval-age")(tmp_path).dataset()
    # the group fails before any model runs when one subset is absent
    write_manifest(tmp_path, "test-emo", emo_entries())
    with pytest.raises(DataNotFoundError, match=r"No test-acc\.json"):
        run(tmp_path / "out", "echo", ["sd-eval"], tmp_path)


def test_hub_manifest_offline_is_a_clear_error(tmp_path):
    loader = TASKS.get("sd-eval-emo")(None, {"hub": True, "revision": "abc123"})
    with pytest.raises(DataNotFoundError, match=r"amphion/SD-Eval at revision abc123"):
        loader.dataset()
    with pytest.raises(VoxevalError, match="hub"):
        TASKS.get("sd-eval-emo")(None, {"hub": "maybe"})
