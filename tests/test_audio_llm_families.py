"""hf-audio-chat on every audio-LLM family it has a recipe for, each a tiny random model.

Each family's model is built offline from its transformers config with its real processor and
tokenizer classes (tests/tiny_audio_llms/). Random weights make answers meaningless, so the
checks are structural: the processor-driven path runs end to end on demo-asr and on a dialogue
task with no per-sample error, and a batch gives exactly the one-by-one answers (greedy).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import DEMO_DATA
from tests.tiny_audio_llms.gemma_flamingo import (
    build_audio_flamingo3,
    build_gemma3n,
    build_glm_asr,
)
from tests.tiny_audio_llms.phi4_granite import build_granite_speech, build_phi4_multimodal
from tests.tiny_audio_llms.qwen_omni import build_qwen2_5_omni, build_qwen3_omni
from tests.tiny_audio_llms.voxtral import build_voxtral
from tests.tiny_models import build_qwen2_audio
from voxeval.adapter import ADAPTERS, TaskContext
from voxeval.adapters.audio_chat_recipes import RECIPES
from voxeval.errors import VoxevalError
from voxeval.results import read_run
from voxeval.runner import RunConfig, run_evaluation
from voxeval.types import ModelInput

pytest.importorskip("torch")
pytest.importorskip("transformers")

FAMILIES: dict[str, Callable[[Path], Path]] = {
    "qwen2-audio": build_qwen2_audio,
    "voxtral": build_voxtral,
    # chunk_length=30: Qwen2.5-Omni's extractor pads every clip to 300 s otherwise (10x work)
    "qwen2.5-omni": lambda out: build_qwen2_5_omni(out, chunk_length=30),
    "qwen3-omni": build_qwen3_omni,
    "gemma-3n": build_gemma3n,
    "audio-flamingo-3": build_audio_flamingo3,
    "glm-asr": build_glm_asr,
    "phi-4-multimodal": build_phi4_multimodal,
    "granite-speech": build_granite_speech,
}
# Families whose processor needs a package that cannot be installed beside this project's
# pinned torch (torchaudio stops at 2.11): their full test runs where it is installed, and
# test_a_family_without_its_package_says_what_to_install runs where it is not.
NEEDS = {r.family: [m for m, _ in r.requires] for r in RECIPES}


def missing(family: str) -> list[str]:
    return [m for m in NEEDS.get(family, []) if importlib.util.find_spec(m) is None]


ASR = TaskContext(name="demo-asr", kind="asr")
CHAT = TaskContext(name="demo-dialogue", kind="dialogue")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Build a family's tiny model once per module, on first use."""
    root = tmp_path_factory.mktemp("audio-llms")
    folders: dict[str, Path] = {}

    def get(family: str) -> Path:
        if family not in folders:
            folders[family] = FAMILIES[family](root / family)
        return folders[family]

    return get


@pytest.fixture(scope="module")
def clips() -> list[np.ndarray]:
    """Three bundled clips of different lengths."""
    return [
        sf.read(DEMO_DATA / "audio" / f"demo-00{i}.flac", dtype="float32")[0] for i in (1, 2, 3)
    ]


def items(clips: list[np.ndarray], **fields: str) -> list[ModelInput]:
    return [ModelInput(f"s{i}", a, 16000, **fields) for i, a in enumerate(clips)]


def test_every_recipe_has_a_family_test():
    assert {r.family for r in RECIPES} == set(FAMILIES)


@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_batched_answers_equal_one_by_one(family, built, clips):
    if missing(family):
        pytest.skip(f"{family} needs {missing(family)}, not installable beside torch 2.13")
    model = ADAPTERS.get("hf-audio-chat").from_args(
        {"model": str(built(family)), "max_new_tokens": 6, "batch_size": 3}
    )
    model.load()
    assert model.model_info()["family"] == family
    for task, fields in (
        (ASR, {"prompt": "Transcribe the audio."}),
        (CHAT, {"prompt": "Reply kindly.", "system": "Be brief."}),
    ):
        batch = items(clips, **fields)
        together = model.predict(batch, task)
        alone = [model.predict([one], task)[0] for one in batch]
        assert [r.text for r in together] == [r.text for r in alone], family
        assert all(r.error is None and isinstance(r.text, str) for r in together)
        assert [r.usage.input_tokens for r in together] == [r.usage.input_tokens for r in alone]
        assert all(1 <= r.usage.output_tokens <= 6 for r in together)
    assert len({r.text for r in together}) > 1, "answers should depend on the audio"


@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_run_on_demo_asr_and_a_dialogue_task(family, built, tmp_path):
    if missing(family):
        pytest.skip(f"{family} needs {missing(family)}, not installable beside torch 2.13")
    config = RunConfig(
        model="hf-audio-chat",
        tasks=["demo-asr", "demo-dialogue"],
        model_args={"model": str(built(family)), "max_new_tokens": 8, "batch_size": 2},
        limit=3,
        output_dir=tmp_path,
    )
    _, run_dir = run_evaluation(config)
    run = read_run(run_dir)
    assert run.status == "success"
    for name in ("demo-asr", "demo-dialogue"):
        assert run.tasks[name].n_errors == 0 and run.tasks[name].n_samples == 3
    info = run.model.info
    assert info["family"] == family and info["dtype"] == "float32"  # tiny models: float32
    assert info["dtype_requested"] == "auto" and info["device"] in ("cpu", "cuda")


def test_a_missing_family_dependency_names_it_and_the_install(built, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "mistral_common" else real(name, *a),
    )
    model = ADAPTERS.get("hf-audio-chat").from_args({"model": str(built("voxtral"))})
    with pytest.raises(VoxevalError, match=r"voxtral model.*mistral_common.*pip install"):
        model.load()


@pytest.mark.skipif(not missing("granite-speech"), reason="torchaudio is installed here")
def test_a_family_without_its_package_says_what_to_install(built):
    model = ADAPTERS.get("hf-audio-chat").from_args({"model": str(built("granite-speech"))})
    with pytest.raises(VoxevalError, match=r"granite-speech model.*torchaudio.*torch==2\.11"):
        model.load()


# -- dtype=auto and device_map --------------------------------------------------------------


@pytest.mark.parametrize(
    ("saved", "device", "bf16_ok", "expected"),
    [
        ("bfloat16", "cuda", True, "bfloat16"),
        ("bfloat16", "cuda", False, "float16"),  # pre-Ampere GPUs
        ("float16", "cuda", True, "float16"),
        (None, "cuda", True, "float32"),
        ("bfloat16", "cpu", True, "float32"),  # CPU kernels are slow or missing in half
    ],
)
def test_dtype_auto_takes_the_checkpoints_own(built, monkeypatch, saved, device, bf16_ok, expected):
    import torch

    model = ADAPTERS.get("hf-audio-chat").from_args({"model": str(built("qwen2-audio"))})
    config = model.load_config()
    for part in (config, config.text_config):
        part.dtype = saved
    monkeypatch.setattr(model, "load_config", lambda: config)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16_ok)
    model.device = torch.device(device)
    assert model._resolve_dtype(torch) is getattr(torch, expected)


def test_an_explicit_dtype_wins_and_both_are_recorded(built):
    model = ADAPTERS.get("hf-audio-chat").from_args(
        {"model": str(built("qwen2-audio")), "dtype": "bfloat16"}
    )
    model.load()
    info = model.model_info()
    assert info["dtype"] == "bfloat16" and info["dtype_requested"] == "bfloat16"
    assert info["device_map"] is None
    assert next(model.model.parameters()).dtype.is_floating_point


def test_device_map_without_gpus_is_a_clear_error(built):
    model = ADAPTERS.get("hf-audio-chat").from_args(
        {"model": str(built("qwen2-audio")), "device_map": "auto", "device": "cpu"}
    )
    with pytest.raises(VoxevalError, match=r"device_map=auto spreads a model over GPUs"):
        model.load()


@pytest.mark.skipif(
    not importlib.util.find_spec("torch") or not __import__("torch").cuda.is_available(),
    reason="needs a CUDA GPU (run on a GPU machine)",
)
def test_on_a_gpu_auto_dtype_and_device_map_follow_the_checkpoint(built, clips, tmp_path):
    import torch
    from transformers import AutoConfig

    folder = tmp_path / "bf16"
    build_qwen2_audio(folder)
    config = AutoConfig.from_pretrained(folder)
    config.dtype = config.text_config.dtype = "bfloat16"  # as real checkpoints declare
    config.save_pretrained(folder)
    model = ADAPTERS.get("hf-audio-chat").from_args(
        {"model": str(folder), "device_map": "auto", "max_new_tokens": 4}
    )
    model.load()
    info = model.model_info()
    expected = "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    assert info["dtype"] == expected and info["dtype_requested"] == "auto"
    assert info["device_map"] and all(k.startswith(("0", "cuda")) for k in info["device_map"])
    out = model.predict(items(clips, prompt="Transcribe the audio."), ASR)
    assert all(r.error is None and isinstance(r.text, str) for r in out)


# -- LoRA skills (Phi-4-multimodal's speech-lora/) -------------------------------------------


def with_speech_lora(folder: Path, out: Path) -> Path:
    """A copy of a tiny Phi-4 folder with a random (non-zero) LoRA in speech-lora/."""
    import shutil

    peft = pytest.importorskip("peft")
    from transformers import Phi4MultimodalForCausalLM

    shutil.copytree(folder, out)
    base = Phi4MultimodalForCausalLM.from_pretrained(out)
    config = peft.LoraConfig(
        r=4,
        lora_alpha=8,
        target_modules=r".*model\.layers\.\d+\.self_attn\.(qkv_proj|o_proj)",
        init_lora_weights=False,  # random B: the LoRA changes answers, as a trained one does
    )
    peft.get_peft_model(base, config).save_pretrained(out / "speech-lora")
    return out


def test_a_checkpoints_speech_lora_is_loaded_and_recorded(built, clips, tmp_path):
    plain = built("phi-4-multimodal")
    lora = with_speech_lora(plain, tmp_path / "phi4-lora")
    answers = {}
    for name, folder in (("plain", plain), ("lora", lora)):
        model = ADAPTERS.get("hf-audio-chat").from_args({"model": str(folder), "max_new_tokens": 6})
        model.load()
        answers[name] = [r.text for r in model.predict(items(clips, prompt="Hi."), ASR)]
        info = model.model_info()
        expected = "speech-lora" if name == "lora" else "none: the checkpoint has no speech-lora/"
        assert info["lora"] == expected
    assert answers["lora"] != answers["plain"]


def test_a_lora_without_peft_says_what_to_install(built, tmp_path, monkeypatch):
    lora = with_speech_lora(built("phi-4-multimodal"), tmp_path / "phi4-lora")
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "peft" else real(name, *a)
    )
    model = ADAPTERS.get("hf-audio-chat").from_args({"model": str(lora)})
    with pytest.raises(VoxevalError, match=r"speech skill in a LoRA.*pip install peft"):
        model.load()
