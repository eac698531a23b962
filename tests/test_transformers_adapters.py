"""The hf-* transformers adapters on tiny random models built offline (tests/tiny_models.py).

Random weights make the outputs meaningless, so the checks are structural: one well-typed
response per input, batched results equal to one-by-one results (padding and masks are
right), label mapping, errors a user can act on, and one end-to-end run.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import DEMO_DATA
from tests.tiny_models import BUILDERS, audeering_style_class, build_wav2vec2_regressor
from voxeval.adapter import ADAPTERS, TaskContext
from voxeval.adapters.hf_common import HFAdapter, import_backend
from voxeval.adapters.hf_labels import find_label, parse_label_map, parse_scores
from voxeval.errors import VoxevalError
from voxeval.results import read_run
from voxeval.runner import RunConfig, run_evaluation
from voxeval.types import ModelInput, Response

pytest.importorskip("torch")
pytest.importorskip("transformers")

ASR = TaskContext(name="asr-task", kind="asr")
EMOTIONS = ["anger", "joy", "sadness", "neutral"]


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every tiny model, built once per session."""
    root = tmp_path_factory.mktemp("tiny-models")
    return {name: build(root / name) for name, build in BUILDERS.items()}


@pytest.fixture(scope="session")
def clips() -> list[np.ndarray]:
    """Three bundled TTS clips of different lengths (16 kHz mono float32)."""
    out = []
    for name in ("demo-001", "demo-002", "demo-003"):
        audio, sr = sf.read(DEMO_DATA / "audio" / f"{name}.flac", dtype="float32")
        assert sr == 16000
        out.append(audio)
    assert len({len(a) for a in out}) == 3
    return out


@pytest.fixture(scope="session")
def adapter(tiny: dict[str, Path]) -> Callable[..., HFAdapter]:
    """Load (and cache) an adapter by registered name, tiny model and extra args."""
    cache: dict[str, HFAdapter] = {}

    def make(name: str, model: str, **args: object) -> HFAdapter:
        key = json.dumps([name, model, args], sort_keys=True, default=str)
        if key not in cache:
            cls = ADAPTERS.get(name)
            cache[key] = cls.from_args({"model": str(tiny[model]), **args})
            cache[key].load()
        return cache[key]

    return make


def inputs(clips: list[np.ndarray], **fields: str | None) -> list[ModelInput]:
    return [ModelInput(f"s{i}", audio, 16000, **fields) for i, audio in enumerate(clips)]


def batched_and_single(
    model: HFAdapter, items: list[ModelInput], task: TaskContext
) -> tuple[list[Response], list[Response]]:
    batched = model.predict(items, task)
    single = [model.predict([item], task)[0] for item in items]
    assert len(batched) == len(items) and all(isinstance(r, Response) for r in batched)
    return batched, single


def assert_close(a: dict[str, float], b: dict[str, float], tol: float = 1e-4) -> None:
    assert list(a) == list(b)
    assert np.allclose(list(a.values()), list(b.values()), atol=tol), (a, b)


# -- registration and arguments ------------------------------------------------------------


def test_adapters_are_registered_with_their_task_kinds():
    assert ADAPTERS.get("hf-asr").supports == {"asr"}
    assert ADAPTERS.get("hf-audio-classifier").supports == {"classification"}
    assert ADAPTERS.get("hf-regressor").supports == {"regression"}
    assert ADAPTERS.get("hf-audio-chat").supports == {
        "asr",
        "dialogue",
        "classification",
        "emotion_intensity",
    }


def test_importing_the_module_does_not_import_torch():
    code = (
        "import sys, voxeval.adapters.transformers_adapters; "
        "sys.exit(('torch' in sys.modules) + 2 * ('transformers' in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"model": "x", "beam": 2}, "beam"),
        ({"model": "x", "dtype": "float64"}, "dtype"),
        ({"model": "x", "device": "tpu"}, "device"),
        ({}, "model"),
    ],
)
def test_bad_arguments_are_a_voxeval_error(args, needle):
    with pytest.raises(VoxevalError, match=needle):
        ADAPTERS.get("hf-asr").from_args(args)


def test_bad_label_map_is_a_voxeval_error():
    with pytest.raises(VoxevalError, match="label_map"):
        ADAPTERS.get("hf-audio-classifier").from_args({"model": "x", "label_map": "ang-anger"})


def test_unavailable_device_is_a_voxeval_error(tiny):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is present")
    model = ADAPTERS.get("hf-asr").from_args({"model": str(tiny["ctc"]), "device": "cuda"})
    with pytest.raises(VoxevalError, match="cuda"):
        model.load()


def test_uncached_hub_id_is_a_clear_error():
    model = ADAPTERS.get("hf-asr").from_args({"model": "voxeval-tests/no-such-model"})
    with pytest.raises(VoxevalError) as info:
        model.load()
    message = str(info.value)
    assert "voxeval-tests/no-such-model" in message
    assert "HF_HUB_OFFLINE" in message and "local folder" in message


def test_missing_local_folder_is_a_clear_error(tmp_path):
    model = ADAPTERS.get("hf-audio-chat").from_args({"model": str(tmp_path / "nothing")})
    with pytest.raises(VoxevalError, match="does not exist"):
        model.load()


def test_missing_torch_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(VoxevalError, match=r"voxeval\[local\]"):
        import_backend()


def test_model_info_reports_size_revision_dtype_device(tiny):
    model = ADAPTERS.get("hf-regressor").from_args(
        {"model": str(tiny["regressor"]), "revision": "v1.0"}
    )
    assert model.model_info() == {"model": str(tiny["regressor"]), "revision": "v1.0"}
    model.load()
    info = model.model_info()
    assert info["revision"] == "v1.0" and info["model"] == str(tiny["regressor"])
    assert isinstance(info["parameters"], int) and 10_000 < info["parameters"] < 100_000
    assert info["dtype"] == "float32" and info["device"] == "cpu"
    assert info["architecture"] == "Wav2Vec2ForSequenceClassification"
    json.dumps(info)


# -- hf-asr -------------------------------------------------------------------------------


@pytest.mark.parametrize("model_name", ["whisper", "ctc"])
def test_asr_batches_equal_single_clips(adapter, clips, model_name):
    # encoder_batch_size=8: one padded pass, so that padding and masks are exercised
    model = adapter("hf-asr", model_name, max_new_tokens=12, encoder_batch_size=8)
    batched, single = batched_and_single(model, inputs(clips), ASR)
    assert all(isinstance(r.text, str) and r.error is None for r in batched)
    assert [r.text for r in batched] == [r.text for r in single]
    assert len({r.text for r in batched}) > 1, "a random model should still depend on its input"
    assert model.model_info()["family"] == model_name


def test_whisper_multilingual_takes_language_and_task(adapter, clips):
    model = adapter("hf-asr", "whisper-multilingual", language="de", max_new_tokens=8)
    assert all(isinstance(r.text, str) for r in model.predict(inputs(clips[:2]), ASR))
    info = model.model_info()
    assert info["multilingual"] and info["language"] == "de" and info["task"] == "transcribe"


def test_english_only_whisper_refuses_another_language(tiny):
    model = ADAPTERS.get("hf-asr").from_args({"model": str(tiny["whisper"]), "language": "de"})
    with pytest.raises(VoxevalError, match="English-only"):
        model.load()


def test_whisper_long_clip_goes_long_form_in_the_same_batch(adapter, clips):
    model = adapter("hf-asr", "whisper", max_new_tokens=12)
    long = np.concatenate(clips * 3)  # ~34 s: beyond Whisper's 30 s window
    out = model.predict(inputs([clips[1], long]), ASR)
    assert [type(r.text) for r in out] == [str, str]
    assert out[0].text == model.predict(inputs([clips[1]]), ASR)[0].text


def test_asr_refuses_a_classifier_checkpoint(tiny):
    model = ADAPTERS.get("hf-asr").from_args({"model": str(tiny["classifier"])})
    with pytest.raises(VoxevalError, match="not a speech recognition model"):
        model.load()


@pytest.mark.parametrize(
    ("name", "model_name", "kind"),
    [
        ("hf-asr", "ctc", "asr"),
        ("hf-audio-classifier", "classifier", "classification"),
        ("hf-regressor", "regressor", "regression"),
    ],
)
def test_encoder_only_models_take_one_clip_per_pass_on_a_cpu(
    adapter, clips, name, model_name, kind
):
    model = adapter(name, model_name)
    seen: list[tuple[int, ...]] = []
    hook = model.model.register_forward_hook(lambda m, i, o: seen.append(tuple(o.logits.shape)))
    try:
        labels = EMOTIONS if kind == "classification" else None
        out = model.predict(inputs(clips), TaskContext(name="t", kind=kind, labels=labels))
    finally:
        hook.remove()
    assert len(out) == 3 and [shape[0] for shape in seen] == [1, 1, 1]
    assert model.model_info()["encoder_batch_size"] == 1


# -- hf-audio-classifier -----------------------------------------------------------------------


def test_classifier_maps_synonyms_and_batches(adapter, clips):
    model = adapter("hf-audio-classifier", "classifier", encoder_batch_size=8)
    task = TaskContext(name="ser", kind="classification", labels=EMOTIONS)
    batched, single = batched_and_single(model, inputs(clips), task)
    for b, s in zip(batched, single, strict=True):
        assert b.label in EMOTIONS and b.label == max(b.scores, key=b.scores.get)
        assert list(b.scores) == EMOTIONS and abs(sum(b.scores.values()) - 1) < 1e-6
        assert b.label == s.label
        assert_close(b.scores, s.scores)
    mapping = model.model_info()["label_mapping"]["ser"]
    assert mapping["map"] == {"ang": "anger", "hap": "joy", "sad": "sadness", "neu": "neutral"}
    assert set(mapping["rule"].values()) == {"synonym"}


def test_classifier_without_task_labels_uses_the_model_labels(adapter, clips):
    model = adapter("hf-audio-classifier", "classifier")
    out = model.predict(inputs(clips[:1]), TaskContext(name="free", kind="classification"))
    assert list(out[0].scores) == ["ang", "hap", "sad", "neu"] and out[0].label in out[0].scores


def test_classifier_label_map_sums_probabilities(adapter, clips):
    raw = adapter("hf-audio-classifier", "classifier").predict(
        inputs(clips), TaskContext(name="raw", kind="classification")
    )
    model = adapter(
        "hf-audio-classifier", "classifier", label_map="ang:negative;sad:negative;hap:positive"
    )
    task = TaskContext(
        name="valence", kind="classification", labels=["negative", "positive", "neutral"]
    )
    for r, m in zip(raw, model.predict(inputs(clips), task), strict=True):
        assert m.scores["negative"] == pytest.approx(r.scores["ang"] + r.scores["sad"], abs=1e-6)
        assert m.scores["positive"] == pytest.approx(r.scores["hap"], abs=1e-6)
        assert m.scores["neutral"] == pytest.approx(r.scores["neu"], abs=1e-6)  # exact match
    assert model.model_info()["label_mapping"]["valence"]["rule"]["ang"] == "label_map"


def test_classifier_reports_unmapped_labels(adapter, clips, caplog):
    model = adapter("hf-audio-classifier", "classifier")
    task = TaskContext(name="sd-eval-emo", kind="classification", labels=["angry", "happy", "sad"])
    with caplog.at_level(logging.WARNING, logger="voxeval.adapters.hf"):
        out = model.predict(inputs(clips[:2]), task)
    assert all(r.label in {"angry", "happy", "sad"} for r in out)
    assert "neu" in caplog.text and "sd-eval-emo" in caplog.text
    mapping = model.model_info()["label_mapping"]["sd-eval-emo"]
    assert mapping["unmapped_model_labels"] == ["neu"]
    assert sum(out[0].scores.values()) < 1  # the unmapped label's probability is left out


def test_classifier_with_no_mappable_label_is_an_error(adapter, clips):
    model = adapter("hf-audio-classifier", "classifier")
    task = TaskContext(name="age", kind="classification", labels=["child", "adult"])
    with pytest.raises(VoxevalError, match="label_map"):
        model.predict(inputs(clips[:1]), task)


@pytest.mark.parametrize(
    ("label_map", "needle"), [("xyz:anger", "does not have"), ("ang:rage", "not a label")]
)
def test_classifier_label_map_mistakes_are_errors(adapter, clips, label_map, needle):
    model = adapter("hf-audio-classifier", "classifier", label_map=label_map)
    task = TaskContext(name="ser", kind="classification", labels=EMOTIONS)
    with pytest.raises(VoxevalError, match=needle):
        model.predict(inputs(clips[:1]), task)


# -- hf-regressor ---------------------------------------------------------------------------


def test_regressor_returns_named_values_and_batches(adapter, clips):
    model = adapter("hf-regressor", "regressor", encoder_batch_size=8)
    batched, single = batched_and_single(
        model, inputs(clips), TaskContext(name="adv", kind="regression")
    )
    for b, s in zip(batched, single, strict=True):
        assert list(b.values) == ["arousal", "dominance", "valence"]
        assert all(isinstance(v, float) for v in b.values.values())
        assert_close(b.values, s.values)
    assert len({b.values["arousal"] for b in batched}) == 3


def test_regressor_follows_task_dimension_names(adapter, clips):
    model = adapter("hf-regressor", "regressor")
    task = TaskContext(name="vad", kind="regression", labels=["Valence", "arousal"])
    out = model.predict(inputs(clips[:1]), task)[0]
    full = model.predict(inputs(clips[:1]), TaskContext(name="all", kind="regression"))[0]
    assert list(out.values) == ["Valence", "arousal"]
    assert out.values["Valence"] == pytest.approx(full.values["valence"])
    with pytest.raises(VoxevalError, match="pleasure"):
        model.predict(
            inputs(clips[:1]), TaskContext(name="x", kind="regression", labels=["pleasure"])
        )


def test_regressor_with_unnamed_outputs_maps_by_position(tmp_path, clips):
    path = build_wav2vec2_regressor(tmp_path / "unnamed", names=("LABEL_0", "LABEL_1", "LABEL_2"))
    model = ADAPTERS.get("hf-regressor").from_args({"model": str(path)})
    task = TaskContext(name="adv", kind="regression", labels=["arousal", "dominance", "valence"])
    assert list(model.predict(inputs(clips[:1]), task)[0].values) == task.labels
    assert model.model_info()["positional_dimensions"]["LABEL_2"] == "valence"


def test_audeering_style_head_matches_the_model_card_code(adapter, tiny, clips):
    import torch
    from transformers import AutoFeatureExtractor

    model = adapter("hf-regressor", "audeering-style")
    assert model.model_info()["head"] == "dense-tanh"
    batched, single = batched_and_single(
        model, inputs(clips), TaskContext(name="a", kind="regression")
    )
    reference = audeering_style_class().from_pretrained(tiny["audeering-style"]).eval()
    extractor = AutoFeatureExtractor.from_pretrained(tiny["audeering-style"])
    for audio, b, s in zip(clips, batched, single, strict=True):
        with torch.no_grad():
            features = extractor(audio, sampling_rate=16000, return_tensors="pt")
            expected = reference(features.input_values)[1][0].tolist()
        assert np.allclose(list(s.values.values()), expected, atol=1e-5)
        assert_close(b.values, s.values)


def test_classifier_refuses_a_regression_checkpoint(tiny):
    model = ADAPTERS.get("hf-audio-classifier").from_args({"model": str(tiny["regressor"])})
    with pytest.raises(VoxevalError, match="hf-regressor"):
        model.load()
    assert model.model is None


def test_speech_classification_checkpoint_with_the_wrong_head_is_refused(tiny):
    model = ADAPTERS.get("hf-regressor").from_args(
        {"model": str(tiny["audeering-style"]), "head": "transformers"}
    )
    with pytest.raises(VoxevalError, match="head=dense-tanh"):
        model.load()


# -- hf-audio-chat ----------------------------------------------------------------------------


def test_chat_batches_equal_single_and_count_tokens(adapter, clips):
    model = adapter("hf-audio-chat", "qwen2-audio", max_new_tokens=8)
    items = inputs(clips, prompt="What is said?")
    batched, single = batched_and_single(model, items, ASR)
    assert [r.text for r in batched] == [r.text for r in single]
    assert all(isinstance(r.text, str) for r in batched)
    for b, s in zip(batched, single, strict=True):
        assert b.usage.input_tokens == s.usage.input_tokens > 20
        assert 1 <= b.usage.output_tokens <= 8
    # longer audio → more audio tokens in the prompt
    assert batched[0].usage.input_tokens > batched[1].usage.input_tokens


@pytest.mark.parametrize(
    ("name", "model_name", "tower"),
    [
        ("hf-asr", "whisper", lambda a: a.model.model.encoder),
        ("hf-audio-chat", "qwen2-audio", lambda a: a.model.model.audio_tower),
    ],
)
def test_audio_encoder_runs_in_slices_with_unchanged_results(
    adapter, clips, name, model_name, tower
):
    items = inputs(clips, prompt="What is said?")
    sliced = adapter(name, model_name, max_new_tokens=8, encoder_batch_size=1)
    whole = adapter(name, model_name, max_new_tokens=8, encoder_batch_size=8)
    seen: list[int] = []
    hook = tower(sliced).conv1.register_forward_hook(lambda m, i, o: seen.append(i[0].shape[0]))
    try:
        out = sliced.predict(items, ASR)
    finally:
        hook.remove()
    assert seen == [1, 1, 1]
    assert [r.text for r in out] == [r.text for r in whole.predict(items, ASR)]
    torch = pytest.importorskip("torch")
    features = torch.randn(3, tower(whole).config.num_mel_bins, 3000)
    with torch.inference_mode():
        joined, one_call = tower(sliced)(features), tower(whole)(features)
    assert type(joined) is type(one_call)
    assert np.allclose(joined.last_hidden_state, one_call.last_hidden_state, atol=1e-5)
    assert sliced.model_info()["encoder_batch_size"] == 1
    assert whole.model_info()["encoder_batch_size"] == 8


def test_chat_sends_system_prompt_text_and_audio(adapter, clips, monkeypatch):
    model = adapter("hf-audio-chat", "qwen2-audio", max_new_tokens=4)
    seen: list[dict] = []
    generate = model.model.generate

    def spy(**kwargs):
        seen.append(kwargs)
        return generate(**kwargs)

    monkeypatch.setattr(model.model, "generate", spy)
    item = ModelInput(
        "s0", clips[0], 16000, text="I lost my keys.", prompt="Reply kindly.", system="Be brief."
    )
    model.predict([item], TaskContext(name="chat", kind="dialogue"))
    (call,) = seen
    prompt = model.tokenizer.decode(call["input_ids"][0])
    assert "<|im_start|>system\nBe brief.<|im_end|>" in prompt
    assert "Reply kindly.\n\nI lost my keys." in prompt
    assert "<|AUDIO|>" in prompt and "input_features" in call
    assert call["generation_config"].do_sample is False


def test_chat_without_audio_sends_text_only(adapter):
    model = adapter("hf-audio-chat", "qwen2-audio", max_new_tokens=4)
    out = model.predict([ModelInput("t", None, None, prompt="Hello")], ASR)
    assert isinstance(out[0].text, str) and out[0].usage.input_tokens > 3


def test_chat_classification_and_intensity_parse_the_answer(adapter, clips, monkeypatch):
    model = adapter("hf-audio-chat", "qwen2-audio", max_new_tokens=4)
    answers = iter(["I think the speaker sounds Angry.", '{"Anger": 7, "Fear": 2.5}'])
    monkeypatch.setattr(
        model.tokenizer, "batch_decode", lambda ids, **_: [next(answers) for _ in ids]
    )
    task = TaskContext(name="ser", kind="classification", labels=EMOTIONS)
    (label,) = model.predict(inputs(clips[:1]), task)
    assert label.label == "anger" and label.text.endswith("Angry.")
    task = TaskContext(name="emonet", kind="emotion_intensity", labels=["Anger", "Fear", "Joy"])
    (scores,) = model.predict(inputs(clips[:1]), task)
    assert scores.scores == {"Anger": 7.0, "Fear": 2.5}


# -- label helpers --------------------------------------------------------------------------------


def test_label_helpers():
    assert parse_label_map("ang:anger; oth: ;hap:joy") == {"ang": "anger", "oth": "", "hap": "joy"}
    assert parse_label_map(None) == {} and parse_label_map({"a": "b"}) == {"a": "b"}
    assert find_label("Neutral, maybe sad.", EMOTIONS) == "neutral"
    assert find_label("the voice is happy", EMOTIONS) == "joy"
    assert find_label("no idea", EMOTIONS) is None
    assert find_label("Sad.", None) == "sad"
    assert parse_scores("Anger: 3\nfear = 9\nJoy: x", ["Anger", "Fear"]) == {"Anger": 3, "Fear": 9}
    assert parse_scores("Teasing: 4", ["Impatience%20and%20Irritability", "Teasing"]) == {
        "Teasing": 4.0
    }
    assert parse_scores("I cannot rate this.", ["Anger"]) is None


# -- end to end -----------------------------------------------------------------------------


def test_run_evaluation_with_a_tiny_whisper(tmp_path, tiny):
    config = RunConfig(
        model="hf-asr",
        tasks=["demo-asr"],
        model_args={"model": str(tiny["whisper"]), "max_new_tokens": 16, "batch_size": 3},
        limit=3,
        output_dir=tmp_path,
    )
    _, run_dir = run_evaluation(config)
    saved = read_run(run_dir)
    assert (run_dir / "run.json").is_file() and saved.status == "success"
    task = saved.tasks["demo-asr"]
    assert task.n_errors == 0 and task.metrics["wer"].n == 3
    assert saved.model.info["parameters"] > 0 and saved.model.info["family"] == "whisper"
    # Recorded as the folder's name and a content fingerprint, not this machine's path.
    from voxeval.workspace import content_fingerprint

    described = f"whisper@sha256:{content_fingerprint(tiny['whisper'])}"
    assert saved.model.args["model"] == saved.model.info["model"] == described
    assert str(tiny["whisper"]) not in (run_dir / "run.json").read_text()
