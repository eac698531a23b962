"""hf-audio-chat: audio LLMs through transformers, driven by each model's own processor.

Each input becomes chat messages: an optional system message (ModelInput.system, else the
`system_prompt` arg), then a user turn with the clip and the text (the task's prompt, then the
sample's text). The processor's `apply_chat_template(tokenize=True, return_dict=True)` renders
and encodes a batch, one left-padded `generate` answers it, and only the new tokens are
decoded. Greedy unless do_sample=true. What differs per family (Qwen2-Audio, Qwen Omni,
Voxtral, Gemma-3n, Phi-4, Granite, Audio Flamingo 3, GLM-ASR) is a recipe in
audio_chat_recipes.py. Task kinds: asr and dialogue → text; classification → text plus the
task label the answer names; emotion_intensity → text plus scores read from the answer.
"""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from voxeval.adapter import AdapterArgs, TaskContext
from voxeval.adapters.audio_chat_recipes import (
    GENERIC,
    Recipe,
    conversation,
    family_lines,
    recipe_for,
    text_ids,
    trim,
)
from voxeval.adapters.encoder_slices import slice_batches
from voxeval.adapters.hf_common import HFAdapter, HFArgs, looks_like_path, to_mono_arrays
from voxeval.adapters.hf_labels import find_label, parse_scores
from voxeval.errors import VoxevalError
from voxeval.types import ModelInput, Response, TaskKind, Usage


class HFChatArgs(HFArgs):
    """Options of hf-audio-chat."""

    dtype: Literal["auto", "float32", "float16", "bfloat16"] = Field(
        "auto",
        description="weights' dtype; auto: the checkpoint's own on a GPU (float16 where a "
        "GPU lacks bfloat16), float32 on a CPU",
    )
    max_new_tokens: int = Field(
        256, ge=1, le=1_000_000, description="most tokens generated per reply"
    )
    do_sample: bool = Field(False, description="sample instead of greedy decoding")
    temperature: float | None = Field(
        None, gt=0, le=10, description="only with do_sample; None keeps the model's setting"
    )
    top_p: float | None = Field(
        None,
        gt=0,
        le=1,
        description="nucleus sampling, only with do_sample; None keeps the model's",
    )
    seed: int = Field(0, ge=0, le=2**63 - 1, description="seeds sampling, per batch")
    system_prompt: str | None = Field(
        None, description="system message used when the input carries none"
    )
    batch_size: int = Field(4, ge=1, le=100_000, description="inputs per generate call")


class HFAudioChatAdapter(HFAdapter):
    """Audio-in, text-out chat models: batched, left-padded greedy generation."""

    name: ClassVar[str] = "hf-audio-chat"
    description: ClassVar[str] = (
        "transformers audio LLMs (Qwen, Voxtral, Phi-4, Gemma-3n…) via their processor"
    )
    supports: ClassVar[frozenset[TaskKind]] = frozenset(
        {"asr", "dialogue", "classification", "emotion_intensity"}
    )
    Args: ClassVar[type[AdapterArgs]] = HFChatArgs
    args: HFChatArgs

    @classmethod
    def details(cls) -> dict[str, Any]:
        """The audio-LLM families with a recipe, and what their tests show."""
        return {"families": family_lines()}

    def prediction_args(self) -> dict[str, Any]:
        """With sampling the seed is drawn per batch, so batch_size then changes answers."""
        args = super().prediction_args()
        if self.args.do_sample:
            args["batch_size"] = self.args.batch_size
        return args

    def __init__(self, args: HFChatArgs) -> None:
        super().__init__(args)
        self.processor: Any = None
        self.tokenizer: Any = None
        self.generation_config: Any = None
        self.recipe: Recipe = GENERIC

    def _load(self) -> None:
        import transformers
        from transformers import AutoProcessor

        config = self.load_config()
        self.recipe = recipe_for(getattr(config, "model_type", None))
        self.recipe.check_requirements(self.args.model)
        self.processor = self._load_processor(AutoProcessor)
        audio = self._check_processor()
        loader = getattr(transformers, self.recipe.model_class or generic_loader(config))
        part = getattr(config, self.recipe.config_part) if self.recipe.config_part else config
        self.model = self._load_weights(loader, part)
        if self.recipe.lora:
            self._load_lora(*self.recipe.lora)
        self.sampling_rate = int(getattr(audio, "sampling_rate", 16000))
        self.generation_config = self._generation_config()
        self.extra_info["family"] = self.recipe.family
        if self.recipe.max_batch:
            self.extra_info["clips_per_generate"] = self.recipe.max_batch
        tower = audio_tower(self.model)
        if tower is not None and self.recipe.slice_encoder:
            slice_batches(tower, self.encoder_slice())

    def _check_processor(self) -> Any:
        """Tokenizer (left padding), chat template and audio processor, or a clear error."""
        self.tokenizer = getattr(self.processor, "tokenizer", None)
        # transformers names it either way (Phi-4 and Granite: audio_processor)
        audio = getattr(self.processor, "audio_processor", None) or getattr(
            self.processor, "feature_extractor", None
        )
        if self.tokenizer is None or audio is None:
            raise VoxevalError(
                f"{self.args.model!r} has no audio processor (a tokenizer plus a feature "
                "extractor): hf-audio-chat needs an audio LLM; `voxeval list models "
                "hf-audio-chat` lists the known families."
            )
        template = getattr(self.processor, "chat_template", None) or getattr(
            self.tokenizer, "chat_template", None
        )
        if template and not getattr(self.processor, "chat_template", None):
            # Phi-4's processor drops chat_template.jinja on load; its tokenizer keeps it
            self.processor.chat_template = template
        if not (template or self.recipe.own_renderer):
            raise VoxevalError(
                f"{self.args.model!r} has no chat template; hf-audio-chat needs one."
            )
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        return audio

    def _load_processor(self, auto: Any) -> Any:
        """AutoProcessor; Qwen Omni's without its video part where torchvision is missing."""
        try:
            return self.load_processor(auto)
        except VoxevalError as exc:
            if not (self.recipe.processor_class and "torchvision" in str(exc.__cause__).lower()):
                raise
        import transformers

        from voxeval.adapters.audio_only import without_video

        self.extra_info["video_processor"] = "not loaded (torchvision missing): audio only"
        return self.load_processor(
            without_video(getattr(transformers, self.recipe.processor_class))
        )

    def _load_weights(self, loader: Any, config: Any) -> Any:
        """The model; a family whose vision tower needs timm loads without it when timm is
        missing (audio evaluation never runs it)."""
        if not self.recipe.vision_stub:
            return self.load_model(loader, config=config, strict=True)
        from voxeval.adapters.audio_only import gemma3n_vision_stub

        with gemma3n_vision_stub() as stubbed:
            model = self.load_model(loader, config=config, strict=True)
        if stubbed:
            self.extra_info["vision_tower"] = "not loaded (timm missing): audio and text only"
        return model

    def _load_lora(self, name: str, subfolder: str) -> None:
        """Load and activate the checkpoint's LoRA in `subfolder` (peft), where it has one."""
        if not self._has_file(f"{subfolder}/adapter_config.json"):
            self.extra_info["lora"] = f"none: the checkpoint has no {subfolder}/"
            return
        if importlib.util.find_spec("peft") is None:
            raise VoxevalError(
                f"{self.args.model!r} keeps its {name} skill in a LoRA ({subfolder}/), which "
                "needs peft: pip install peft (or pip install 'voxeval[local]')."
            )
        from peft import PeftModel

        revision = {"revision": self.args.revision} if self.args.revision else {}
        with self.loading(f"{subfolder} LoRA"):
            wrapped = PeftModel.from_pretrained(
                self.model, self.source, subfolder=subfolder, adapter_name=name, **revision
            )
            # merged into the weights: inference then costs what the base model costs
            self.model = wrapped.merge_and_unload()
        self.extra_info["lora"] = subfolder

    def _has_file(self, name: str) -> bool:
        """Whether the model folder or hub repo holds `name` (hub: one small download)."""
        if looks_like_path(self.args.model):
            return (Path(self.source) / name).is_file()
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import EntryNotFoundError

        try:
            hf_hub_download(self.source, name, revision=self.args.revision)
        except EntryNotFoundError:
            return False
        return True

    def _generation_config(self) -> Any:
        gen = copy.deepcopy(self.model.generation_config)
        gen.max_new_tokens = self.args.max_new_tokens
        gen.max_length = None
        gen.num_beams = 1
        gen.do_sample = self.args.do_sample
        if self.args.do_sample:
            if self.args.temperature is not None:
                gen.temperature = self.args.temperature
            if self.args.top_p is not None:
                gen.top_p = self.args.top_p
        else:
            gen.temperature = gen.top_p = gen.top_k = None
        if gen.pad_token_id is None:
            gen.pad_token_id = self.tokenizer.pad_token_id
        if gen.eos_token_id is None:
            gen.eos_token_id = self.tokenizer.eos_token_id
        self.extra_info["generation"] = {
            k: getattr(gen, k, None)
            for k in ("do_sample", "max_new_tokens", "temperature", "top_p", "top_k")
        } | {"repetition_penalty": getattr(gen, "repetition_penalty", None)}
        return gen

    def conversation(self, item: ModelInput, audio: Any) -> list[dict[str, Any]]:
        """The chat messages for one input (audio already mono at the model's rate)."""
        text = "\n\n".join(part for part in (item.prompt, item.text) if part)
        system = item.system or self.args.system_prompt
        return conversation(self.recipe, audio, self.sampling_rate, text, system)

    def predict(self, batch: list[ModelInput], task: TaskContext) -> list[Response]:
        """Left-padded generate calls (the family's most clips each); new tokens decoded."""
        self.load()
        size = self.recipe.max_batch or len(batch)
        return [
            r for i in range(0, len(batch), size) for r in self._generate(batch[i : i + size], task)
        ]

    def _generate(self, batch: list[ModelInput], task: TaskContext) -> list[Response]:
        import torch

        heard = [i for i in batch if i.audio is not None]
        with_audio = iter(
            trim(a, self.recipe.trim_to) for a in to_mono_arrays(heard, self.sampling_rate)
        )
        chats = [self.conversation(i, None if i.audio is None else next(with_audio)) for i in batch]
        inputs = self.processor.apply_chat_template(
            chats,
            add_generation_prompt=True,
            tokenize=True,
            return_dict=True,
            return_tensors="pt",
            **self.recipe.template,
        )
        feed = {
            k: v.to(self.device, self.torch_dtype) if v.is_floating_point() else v.to(self.device)
            for k, v in inputs.items()
            if hasattr(v, "to")
        }
        with torch.inference_mode():
            if self.args.do_sample:
                torch.manual_seed(self.args.seed)
            out = self.model.generate(**feed, generation_config=self.generation_config)
        new = text_ids(out)[:, feed["input_ids"].shape[1] :].cpu()
        answers = self.tokenizer.batch_decode(new, skip_special_tokens=True)
        n_in = feed["attention_mask"].sum(dim=1).tolist()
        return [
            self._response(answer.strip(), task, Usage(int(i), self._n_out(row.tolist())))
            for answer, i, row in zip(answers, n_in, new, strict=True)
        ]

    def _n_out(self, tokens: list[int]) -> int:
        eos = self.generation_config.eos_token_id
        stops = set(eos if isinstance(eos, list) else [eos])
        for n, token in enumerate(tokens, start=1):
            if token in stops:
                return n
        return len(tokens)

    @staticmethod
    def _response(answer: str, task: TaskContext, usage: Usage) -> Response:
        if task.kind == "classification":
            return Response(text=answer, label=find_label(answer, task.labels), usage=usage)
        if task.kind == "emotion_intensity":
            return Response(text=answer, scores=parse_scores(answer, task.labels), usage=usage)
        return Response(text=answer, usage=usage)


def generic_loader(config: Any) -> str:
    """The Auto class for a model type without a recipe."""
    from transformers.models.auto import modeling_auto

    # transformers 5 groups audio/vision LLMs here
    multimodal = getattr(modeling_auto, "MODEL_FOR_MULTIMODAL_LM_MAPPING_NAMES", {})
    if getattr(config, "model_type", None) in multimodal:
        return "AutoModelForMultimodalLM"
    if getattr(config, "is_encoder_decoder", False):
        return "AutoModelForSeq2SeqLM"
    return "AutoModelForCausalLM"


def audio_tower(model: Any) -> Any:
    """The audio encoder, where the family keeps it (None if not found)."""
    for holder in (model, getattr(model, "model", None), getattr(model, "thinker", None)):
        for name in ("audio_tower", "audio_encoder", "audio_model"):
            tower = getattr(holder, name, None) if holder is not None else None
            if tower is not None:
                return tower
    return None
