"""The audio-LLM families hf-audio-chat knows: one small record per family, nothing else.

Every family goes through the same path (adapters/hf_chat.py): chat messages with the audio
inside, the processor's own `apply_chat_template(tokenize=True, return_dict=True)`, one
left-padded `generate`, the new tokens decoded. A recipe holds only what a family changes:
which class generates text, how the chat carries audio, whether its template has a system
role, and which extra package it needs. Model types without a recipe take the generic one.
"""

from __future__ import annotations

import base64
import importlib.util
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from voxeval.errors import VoxevalError

TEXT_PADDING = MappingProxyType({"processor_kwargs": {"text_kwargs": {"padding": True}}})
# What a family's test shows; `voxeval list models hf-audio-chat` prints it.
TESTED = "tested: tiny random model, batched == one by one"


@dataclass(frozen=True)
class Recipe:
    """How one audio-LLM family differs from the common processor-driven path."""

    family: str  # the name users see, e.g. "qwen2-audio"
    model_types: tuple[str, ...]  # config.model_type values it covers
    model_class: str  # transformers class that generates text
    example: str  # a hub id of the family, for the listing
    status: str = TESTED
    system_role: bool = True  # False: the system text goes before the first user text
    audio_as: Literal["array", "base64-wav"] = "array"  # how the chat carries the audio
    own_renderer: bool = False  # True: the tokenizer renders chats itself, no Jinja template
    # Extra apply_chat_template arguments. Padding goes to the text alone: as a plain keyword
    # it reaches the feature extractor too and undoes Whisper-style 30 s windows.
    template: Mapping[str, Any] = field(default_factory=lambda: TEXT_PADDING)
    vision_stub: bool = False  # without timm, load a weightless stand-in for the vision tower
    # Most clips per generate call: 1 where the audio encoder has no working padding mask, so
    # a clip padded in a batch would be heard differently than alone.
    max_batch: int | None = None
    config_part: str | None = None  # load the text generator alone (an omni model's thinker)
    processor_class: str | None = None  # loaded without its video part if torchvision is missing
    slice_encoder: bool = True  # False: the encoder takes packed clips, not a batch dimension
    trim_to: int = 1  # cut each clip to a multiple of this many samples (feature hop)
    lora: tuple[str, str] | None = None  # (adapter name, checkpoint subfolder) loaded with peft
    requires: tuple[tuple[str, str], ...] = ()  # (module, how to install it)
    note: str = ""

    def check_requirements(self, model: str) -> None:
        """A VoxevalError naming each missing extra package and how to get it."""
        missing = [(m, how) for m, how in self.requires if importlib.util.find_spec(m) is None]
        if missing:
            needs = "; ".join(f"{m} ({how})" for m, how in missing)
            raise VoxevalError(
                f"{model!r} is a {self.family} model, whose processor needs {needs}."
            )


GENERIC = Recipe(
    family="generic",
    model_types=(),
    model_class="",  # chosen from the config: multimodal LM, seq2seq or causal LM
    example="any processor with audio and a chat template",
    status="untested: no recipe for this model type; tried on the common path",
)

RECIPES: tuple[Recipe, ...] = (
    Recipe(
        family="qwen2-audio",
        model_types=("qwen2_audio",),
        model_class="Qwen2AudioForConditionalGeneration",
        example="Qwen/Qwen2-Audio-7B-Instruct",
    ),
    Recipe(
        family="qwen2.5-omni",
        model_types=("qwen2_5_omni",),
        model_class="Qwen2_5OmniThinkerForConditionalGeneration",
        example="Qwen/Qwen2.5-Omni-7B",
        config_part="thinker_config",  # text out: the talker is never loaded
        processor_class="Qwen2_5OmniProcessor",
        slice_encoder=False,
        note="the thinker alone (no speech output); audio padded to 300 s by its processor",
    ),
    Recipe(
        family="qwen3-omni",
        model_types=("qwen3_omni_moe",),
        model_class="Qwen3OmniMoeThinkerForConditionalGeneration",
        example="Qwen/Qwen3-Omni-30B-A3B-Instruct",
        config_part="thinker_config",
        processor_class="Qwen3OmniMoeProcessor",
        slice_encoder=False,
        # Whisper's extractor counts a clip's last partial frame in a batch but not alone;
        # cutting clips to whole 10 ms hops (< 10 ms lost) makes both the same.
        trim_to=160,
        note="the thinker alone (no speech output); clips cut to whole 10 ms frames",
    ),
    Recipe(
        family="voxtral",
        model_types=("voxtral",),
        model_class="VoxtralForConditionalGeneration",
        example="mistralai/Voxtral-Mini-3B-2507",
        system_role=False,  # the model card: system prompts are not supported yet
        audio_as="base64-wav",  # mistral-common's template takes no arrays
        own_renderer=True,  # mistral-common builds the prompt
        template=MappingProxyType({}),  # it pads (left) on its own and warns at padding=
        requires=(("mistral_common", "pip install 'mistral-common[audio]'"),),
        note="every clip is padded to a multiple of 30 s (375 audio tokens each)",
    ),
    Recipe(
        family="gemma-3n",
        model_types=("gemma3n",),
        model_class="Gemma3nForConditionalGeneration",
        example="google/gemma-3n-E4B-it",
        # Every clip padded to the 30 s window its 188 audio tokens stand for: padded only to
        # the batch's longest, a short clip can gain an audio frame and answer differently
        # in a batch. Longer clips are cut at 30 s by Gemma-3n's own feature extractor.
        template=MappingProxyType(
            {
                "processor_kwargs": {
                    "text_kwargs": {"padding": True},
                    "audio_kwargs": {"padding": "max_length", "max_length": 480_000},
                }
            }
        ),
        vision_stub=True,
        note="audio over 30 s is cut by its processor; images need timm",
    ),
    Recipe(
        family="phi-4-multimodal",
        model_types=("phi4_multimodal",),
        model_class="Phi4MultimodalForCausalLM",
        example="microsoft/Phi-4-multimodal-instruct",
        status="tested: tiny random model, one clip per generate",
        max_batch=1,  # its conformer adds the pad mask as 0/1, not -inf: padding leaks in
        lora=("speech", "speech-lora"),  # its speech skill, in the official checkpoint
        note="one clip per call (padding leaks into its audio encoder); speech-lora/ loaded "
        "with peft",
    ),
    Recipe(
        family="granite-speech",
        model_types=("granite_speech",),
        model_class="GraniteSpeechForConditionalGeneration",
        example="ibm-granite/granite-speech-3.3-2b",
        status="needs torchaudio; tested on a GPU machine with torch 2.11 + torchaudio 2.11",
        max_batch=1,  # its encoder has no padding mask
        requires=(
            (
                "torchaudio",
                "pip install torchaudio==<your torch version>; PyPI's newest torchaudio is "
                "2.11, so with a newer torch install torch==2.11.* and torchaudio==2.11.* "
                "together",
            ),
        ),
        note="one clip per call (no padding mask in its encoder); its LoRA needs peft",
    ),
    Recipe(
        family="audio-flamingo-3",
        model_types=("audioflamingo3",),
        model_class="AudioFlamingo3ForConditionalGeneration",
        example="nvidia/audio-flamingo-3-hf",
    ),
    Recipe(
        family="glm-asr",
        model_types=("glmasr",),
        model_class="GlmAsrForConditionalGeneration",
        example="zai-org/GLM-ASR-Nano-2512",
    ),
)


def recipe_for(model_type: str | None) -> Recipe:
    """The recipe of a config's model_type, or GENERIC."""
    for recipe in RECIPES:
        if model_type in recipe.model_types:
            return recipe
    return GENERIC


def family_lines() -> list[str]:
    """One line per known family, for `voxeval list models hf-audio-chat`."""
    return [
        f"{r.family} ({r.example}): {r.status}" + (f"; {r.note}" if r.note else "") for r in RECIPES
    ]


def conversation(
    recipe: Recipe, audio: Any, rate: int, text: str, system: str | None
) -> list[dict[str, Any]]:
    """Chat messages for one input: system (if any), then the user turn, audio first."""
    content: list[dict[str, Any]] = []
    if audio is not None:
        content.append(audio_block(recipe, audio, rate))
    if system and not recipe.system_role:
        text = f"{system}\n\n{text}" if text else system
    if text:
        content.append({"type": "text", "text": text})
    messages: list[dict[str, Any]] = []
    if system and recipe.system_role:
        messages.append({"role": "system", "content": [{"type": "text", "text": system}]})
    messages.append({"role": "user", "content": content})
    return messages


def audio_block(recipe: Recipe, audio: Any, rate: int) -> dict[str, Any]:
    """The chat content part that carries one clip (mono float32 at `rate`)."""
    if recipe.audio_as == "array":
        # an array, never a path: a string would be fetched as a file, URL or base64
        return {"type": "audio", "audio": audio}
    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, audio, rate, format="WAV", subtype="FLOAT")  # lossless, no resampling
    return {"type": "audio", "base64": base64.b64encode(buffer.getvalue()).decode("ascii")}


def trim(audio: Any, multiple: int) -> Any:
    """The clip cut to a whole number of `multiple` samples (never below one multiple)."""
    keep = max(multiple, len(audio) - len(audio) % multiple)
    return audio[:keep] if multiple > 1 else audio


def text_ids(output: Any) -> Any:
    """The token ids of `generate`'s output: thinker/talker models return (text, audio)."""
    if isinstance(output, tuple | list):
        output = output[0]
    return getattr(output, "sequences", output)
