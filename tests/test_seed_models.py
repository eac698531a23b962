"""The seed papers' own models: empathic-insight-voice and wav2small on tiny replicas.

Replicas (tests/seed_replicas.py) use the released file layouts with random weights. Every
output is compared with a direct reference computation from the same files, written
independently of the adapters (transformers' Whisper encoder + one rebuilt module per head;
Wav2Small's forward pass in torch.nn.functional), and forward hooks count encoder calls.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import DEMO_DATA
from tests.seed_replicas import (
    ATTRIBUTE_FILES,
    EMOTION_FILES,
    build_eiv,
    build_wav2small,
    count_calls,
    reference_eiv,
    reference_wav2small,
    write_adv_data,
    write_emonet_data,
)
from voxeval.adapter import ADAPTERS, TaskContext
from voxeval.adapters.empathic_insight import ASSUMED, EmpathicInsightVoiceAdapter
from voxeval.adapters.seed_heads import HeadSpec
from voxeval.errors import VoxevalError
from voxeval.results import read_run
from voxeval.runner import RunConfig, run_evaluation
from voxeval.tasks.emonet_voice_data import EMOTIONS
from voxeval.types import ModelInput

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

CLIP_FILES = [DEMO_DATA / "audio" / f"demo-00{i}.flac" for i in (1, 2, 3)]
EMONET = TaskContext(name="emonet-voice", kind="emotion_intensity", labels=list(EMOTIONS))
ADV = TaskContext(
    name="adv-regression", kind="regression", labels=["arousal", "dominance", "valence"]
)


@pytest.fixture(scope="session")
def eiv(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The Small replica: 55 head files and a 4-s-window Whisper encoder."""
    return build_eiv(tmp_path_factory.mktemp("eiv"))


@pytest.fixture(scope="session")
def clips() -> list[np.ndarray]:
    """Three demo clips (4.5, 3.4, 3.6 s): the first is longer than the replica's window."""
    return [sf.read(path, dtype="float32")[0] for path in CLIP_FILES]


def inputs(clips: list[np.ndarray]) -> list[ModelInput]:
    return [ModelInput(f"s{i}", audio, 16000) for i, audio in enumerate(clips)]


def eiv_adapter(eiv: dict[str, Path], **args: object) -> EmpathicInsightVoiceAdapter:
    raw = {"model": str(eiv["heads"]), "encoder": str(eiv["encoder"]), **args}
    adapter = ADAPTERS.get("empathic-insight-voice").from_args(raw)
    adapter.load()
    return adapter


@pytest.fixture(scope="session")
def raw_eiv(eiv: dict[str, Path]) -> EmpathicInsightVoiceAdapter:
    """The replica with raw head outputs (shared: loading heads is the slow part)."""
    return eiv_adapter(eiv, raw=True)


@pytest.fixture(scope="session")
def scaled_eiv(eiv: dict[str, Path]) -> EmpathicInsightVoiceAdapter:
    """The replica with the default rescaling."""
    return eiv_adapter(eiv)


# -- registration --------------------------------------------------------------------------


def test_both_adapters_are_listed_with_their_tasks_and_import_light(capsys):
    from voxeval.cli import main

    eiv = ADAPTERS.get("empathic-insight-voice")
    assert eiv.supports == {"emotion_intensity", "regression"}
    assert ADAPTERS.get("wav2small").supports == {"regression"}
    assert main(["list", "models"]) == 0
    listed = capsys.readouterr().out
    assert "empathic-insight-voice" in listed and "wav2small" in listed
    assert "emonet-voice" in eiv.description and "adv-regression" in eiv.description
    code = (
        "import sys, voxeval.adapters.empathic_insight, voxeval.adapters.wav2small; "
        "sys.exit(bool({'torch', 'transformers', 'safetensors'} & set(sys.modules)))"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


# -- empathic-insight-voice ----------------------------------------------------------------


def test_eiv_encodes_each_clip_once_and_equals_the_reference(eiv, raw_eiv, clips):
    with count_calls(raw_eiv.encoder) as encoder_calls:
        responses = raw_eiv.predict(inputs(clips), EMONET)
    assert encoder_calls == [1, 1, 1]  # one clip per encoder pass, 40 heads read each
    assert len(raw_eiv.plan(EMONET).bank.names) == 40
    reference = reference_eiv(eiv, clips)
    for emotion, head in zip(EMOTIONS, EMOTION_FILES, strict=True):
        got = [r.scores[emotion] for r in responses]
        np.testing.assert_allclose(got, reference[head], rtol=1e-4, atol=1e-5)
    spread = np.std([[r.scores[e] for e in EMOTIONS] for r in responses], axis=0)
    assert (spread > 1e-3).all()  # outputs depend on the audio: the comparison can fail
    batched = eiv_adapter(eiv, raw=True, encoder_batch_size=3)
    with count_calls(batched.encoder) as calls:
        again = batched.predict(inputs(clips), EMONET)
    assert calls == [3]
    for a, b in zip(again, responses, strict=True):
        np.testing.assert_allclose(list(a.scores.values()), list(b.scores.values()), atol=1e-4)


def test_eiv_rescales_onto_each_task_scale_and_records_it(eiv, raw_eiv, scaled_eiv, clips):
    raw, scaled = raw_eiv, scaled_eiv
    clipped_before = scaled.model_info()["clipped_values"]
    raw_out, out = raw.predict(inputs(clips), EMONET), scaled.predict(inputs(clips), EMONET)
    values = np.array([[r.scores[e] for e in EMOTIONS] for r in raw_out])
    expected = np.clip(values * 10 / 4, 0, 10)  # 0-4 → 0-10, clipped
    np.testing.assert_allclose([[r.scores[e] for e in EMOTIONS] for r in out], expected, atol=1e-5)
    raw_adv = {
        k: np.array([r.values[k] for r in raw.predict(inputs(clips), ADV)]) for k in ADV.labels
    }
    adv = scaled.predict(inputs(clips), ADV)
    want = {
        "arousal": raw_adv["arousal"] / 4,
        "dominance": (raw_adv["dominance"] + 3) / 6,  # from Submissive_vs._Dominant, -3..3
        "valence": (raw_adv["valence"] + 3) / 6,
    }
    for dim, values_ in want.items():
        np.testing.assert_allclose([r.values[dim] for r in adv], np.clip(values_, 0, 1), atol=1e-6)
    info = scaled.model_info()
    record = info["tasks"]["adv-regression"]
    assert record["dimensions"]["dominance"] == "Submissive_vs._Dominant"
    assert record["rescaling"]["from"]["Valence"] == {"range": [-3.0, 3.0], "source": ASSUMED}
    assert info["tasks"]["emonet-voice"]["rescaling"]["to"] == [0.0, 10.0]
    outside = int(((values * 2.5 < 0) | (values * 2.5 > 10)).sum())
    outside += sum(int(((v < 0) | (v > 1)).sum()) for v in want.values())
    assert info["clipped_values"] - clipped_before == outside
    custom = eiv_adapter(eiv, emotion_scale="-1:9", scales="Valence=0:1", clip=False)
    record = custom.predict(inputs(clips[:1]), EMONET)[0].scores["Anger"]
    assert record == pytest.approx((values[0][EMOTIONS.index("Anger")] + 1), rel=1e-5)


def test_eiv_model_info_records_size_revision_pooling_and_hashes(eiv, scaled_eiv, clips, tmp_path):
    scaled_eiv.predict(inputs(clips), EMONET)
    info = json.loads(json.dumps(scaled_eiv.model_info()))
    spec = HeadSpec(200 * 8, 16, ((16, 16), (8, 16), (4, 8), (1, 4)))
    assert info["head_parameters"] == len(info["heads_loaded"]) * spec.parameters
    assert info["parameters"] == info["encoder_parameters"] + info["head_parameters"]
    assert len(info["heads_available"]) == 55 and len(info["heads_loaded"]) >= 40
    assert info["tasks"]["emonet-voice"]["pooling"]["Anger"].startswith("none: ")
    assert info["window_s"] == 4.0 and info["truncated_clips"] == 1
    assert info["heads_hash_method"] == "zip-crc32" and len(info["encoder_hash"]) == 64
    copy = tmp_path / "heads"
    shutil.copytree(eiv["heads"], copy)
    state = torch.load(copy / "model_Anger_best.pth", weights_only=True)
    key = next(k for k in state if k.endswith("proj.bias"))  # "_orig_mod." or not
    state[key] = state[key] + 1
    torch.save(state, copy / "model_Anger_best.pth")
    other = ADAPTERS.get("empathic-insight-voice").from_args(
        {"model": str(copy), "encoder": str(eiv["encoder"])}
    )
    other.load()
    assert other.model_info()["heads_hash"] != info["heads_hash"]


def _folder(eiv: dict[str, Path], root: Path, names: tuple[str, ...]) -> Path:
    root.mkdir()
    for name in names:
        shutil.copy(eiv["heads"] / f"model_{name}_best.pth", root / f"model_{name}_best.pth")
    return root


def _bad_state(path: Path, change: str) -> None:
    state = torch.load(path, weights_only=True)
    state = {k.removeprefix("_orig_mod."): v for k, v in state.items()}
    if change == "shape":
        state["proj.weight"] = state["proj.weight"][:, :100].clone()
    elif change == "keys":
        state["norm.weight"] = torch.ones(3)
    elif change == "pickle":
        state["note"] = Path("not a tensor")
    torch.save(state, path)


@pytest.mark.parametrize(
    ("case", "needle"),
    [
        ("missing", "No head for 'Fear'"),
        ("shape", "model_Anger_best.pth: its projection takes 100 inputs"),
        ("keys", "model_Anger_best.pth: unexpected keys ['norm.weight']"),
        ("pickle", "model_Anger_best.pth does not load as plain tensors"),
        ("empty", "No head files in"),
        ("symlink", "outside the model folder"),
        ("label_map", "label_map names heads 'Nope'"),
        ("attribute", "The output range of head 'Age' is not known"),
    ],
)
def test_eiv_bad_folders_fail_clearly_naming_the_file(eiv, clips, tmp_path, case, needle):
    task = TaskContext(name="t", kind="emotion_intensity", labels=["Anger", "Fear"])
    names = ("Anger",) if case == "missing" else ("Anger", "Fear", "Age")
    folder = _folder(eiv, tmp_path / "heads", () if case == "empty" else names)
    args: dict[str, object] = {}
    if case in ("shape", "keys", "pickle"):
        _bad_state(folder / "model_Anger_best.pth", case)
    elif case == "symlink":
        outside = tmp_path / "elsewhere.pth"
        shutil.move(folder / "model_Fear_best.pth", outside)
        os.symlink(outside, folder / "model_Fear_best.pth")
    elif case == "label_map":
        args["label_map"] = "Nope:Anger"
    elif case == "attribute":
        task = TaskContext(name="t", kind="regression", labels=["age"])
    with pytest.raises(VoxevalError) as err:
        eiv_adapter({"heads": folder, "encoder": eiv["encoder"]}, **args).predict(
            inputs(clips[:1]), task
        )
    assert needle in str(err.value), str(err.value)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"emotion_scale": "4:0"}, "Bad emotion_scale '4:0'"),
        ({"scales": "Valence"}, "Bad scales piece 'Valence'"),
        ({"model": "nobody/no-such-heads"}, "HF_HUB_OFFLINE is set"),
        ({"encoder": "/no/such/folder"}, "No encoder folder '/no/such/folder'"),
    ],
)
def test_eiv_bad_arguments_are_refused(eiv, args, needle):
    with pytest.raises(VoxevalError) as err:
        eiv_adapter(eiv, **args)
    assert needle in str(err.value), str(err.value)


def run_task(tmp_path: Path, adapter: str, task: str, data: Path, **model_args: object):
    config = RunConfig(
        model=adapter,
        tasks=[task],
        model_args=model_args,
        data_dir=data,
        output_dir=tmp_path / "runs",
    )
    _, run_dir = run_evaluation(config)
    return read_run(run_dir), run_dir


def test_eiv_runs_emonet_voice_end_to_end_one_encoder_pass_per_clip(eiv, tmp_path, monkeypatch):
    embedded: list[int] = []
    original = EmpathicInsightVoiceAdapter.embed

    def counting(self, audio):
        embedded.append(len(audio))
        return original(self, audio)

    monkeypatch.setattr(EmpathicInsightVoiceAdapter, "embed", counting)
    data = write_emonet_data(tmp_path / "emonet", CLIP_FILES)
    args = {"model": str(eiv["heads"]), "encoder": str(eiv["encoder"])}
    run, run_dir = run_task(tmp_path, "empathic-insight-voice", "emonet-voice", data, **args)
    result = run.tasks["emonet-voice"]
    assert run.status == "success" and result.n_errors == 0
    assert result.metrics["mae"].n == 3 * 40 and result.metrics["refusal_rate"].value == 0
    assert embedded == [1, 1, 1, 1]  # warm-up + three clips, each encoded once for 40 heads
    records = [
        json.loads(x) for x in (run_dir / "samples-emonet-voice.jsonl").read_text().splitlines()
    ]
    assert all(len(r["prediction"]["scores"]) == 40 for r in records)
    info = run.model.info
    assert info["tasks"]["emonet-voice"]["rescaling"]["to"] == [0.0, 10.0]
    assert info["parameters"] > 0 and info["heads_hash"]


def test_eiv_runs_adv_regression_end_to_end(eiv, tmp_path):
    data = write_adv_data(tmp_path / "adv", CLIP_FILES)
    args = {"model": str(eiv["heads"]), "encoder": str(eiv["encoder"])}
    run, _ = run_task(tmp_path, "empathic-insight-voice", "adv-regression", data, **args)
    result = run.tasks["adv-regression"]
    assert run.status == "success" and result.n_errors == 0
    assert {"ccc_arousal", "ccc_dominance", "ccc_valence", "ccc_mean"} <= set(result.metrics)
    assert run.model.info["heads_loaded"] == ["Arousal", "Submissive_vs._Dominant", "Valence"]


def test_the_replica_has_the_released_file_names(eiv):
    names = sorted(p.name for p in eiv["heads"].iterdir())
    assert len(names) == len(EMOTION_FILES) + len(ATTRIBUTE_FILES) == 55
    assert "model_Jealousy_&_Envy_best.pth" in names
    assert (eiv["encoder"] / "preprocessor_config.json").is_file()


# -- wav2small -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def w2s(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The real-size replica (13 channels, 26 mel bands) and a smaller one (5, 10)."""
    root = tmp_path_factory.mktemp("w2s")
    return {"real": build_wav2small(root / "real"), "small": build_wav2small(root / "small", 5, 10)}


def w2s_adapter(folder: Path, **args: object):
    adapter = ADAPTERS.get("wav2small").from_args({"model": str(folder), **args})
    adapter.load()
    return adapter


@pytest.mark.parametrize("size", ["real", "small"])
def test_wav2small_equals_the_reference_once_per_clip(w2s, clips, size):
    from safetensors.torch import load_file

    short = [c[: 16000 if size == "real" else None] for c in clips]  # real size: 1 s each
    adapter = w2s_adapter(w2s[size])
    with count_calls(adapter.net) as calls:
        responses = adapter.predict(inputs(short), ADV)
    assert calls == [1, 1, 1]
    state = load_file(str(w2s[size] / "model.safetensors"))
    for audio, response in zip(short, responses, strict=True):
        with torch.no_grad():
            want = reference_wav2small(state, audio).numpy()
        got = [response.values[d] for d in ("arousal", "dominance", "valence")]
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    info = adapter.model_info()
    params = {"real": 15979, "small": 6267}[size]  # the release is "17K params" at real size
    assert info["parameters"] == params and info["format"].startswith("safetensors")
    assert info["dims"]["channels"] == {"real": 13, "small": 5}[size]
    assert info["rescaling"]["identity"] is True and len(info["content_hash"]) == 64


def test_wav2small_maps_its_output_scale_and_order(w2s, clips):
    plain = w2s_adapter(w2s["small"]).predict(inputs(clips), ADV)
    mapped = w2s_adapter(w2s["small"], output_scale="-200:200", clip=True)
    got = mapped.predict(inputs(clips), ADV)
    for a, b in zip(plain, got, strict=True):
        for dim in ADV.labels:
            assert b.values[dim] == pytest.approx(min(max((a.values[dim] + 200) / 400, 0), 1))
    swapped = w2s_adapter(w2s["small"], output_order="valence,dominance,arousal")
    first = swapped.predict(inputs(clips[:1]), ADV)[0].values
    assert first["valence"] == pytest.approx(plain[0].values["arousal"])


def test_wav2small_runs_adv_regression_end_to_end(w2s, tmp_path):
    data = write_adv_data(tmp_path / "adv", CLIP_FILES)
    run, _ = run_task(tmp_path, "wav2small", "adv-regression", data, model=str(w2s["small"]))
    result = run.tasks["adv-regression"]
    assert run.status == "success" and result.n_errors == 0 and result.metrics["ccc_mean"].n == 3
    assert run.model.info["parameters"] == 6267 and run.model.info["hop_source"] == "config.json"


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ("no-weights", "No model.safetensors in"),
        ("no-key", "lacks vgg7.l1.conv.weight"),
        ("adv-shape", "adv.weight takes 40 features"),
        ("order", "The model has 3 outputs but output_order names 2"),
        ("hub", "HF_HUB_OFFLINE is set"),
    ],
)
def test_wav2small_bad_input_fails_clearly(w2s, tmp_path, change, needle):
    from safetensors.torch import load_file, save_file

    folder = tmp_path / "model"
    shutil.copytree(w2s["small"], folder)
    state = load_file(str(folder / "model.safetensors"))
    args: dict[str, object] = {"model": str(folder)}
    if change == "no-weights":
        (folder / "model.safetensors").unlink()
    elif change == "no-key":
        state.pop("vgg7.l1.conv.weight")
    elif change == "adv-shape":
        state["adv.weight"] = state["adv.weight"][:, :40].contiguous()
    elif change == "order":
        args["output_order"] = "arousal,valence"
    elif change == "hub":
        args["model"] = "nobody/no-such-wav2small"
    if change in ("no-key", "adv-shape"):
        save_file(state, str(folder / "model.safetensors"))
    with pytest.raises(VoxevalError) as err:
        w2s_adapter(Path(str(args.pop("model"))), **args)
    assert needle in str(err.value), str(err.value)
