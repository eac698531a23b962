"""hf-audio-chat: audio LLMs through transformers (Qwen2-Audio is the tested path).

Each input becomes a conversation rendered by the processor's chat template: an optional
system message (ModelInput.system, else the `system_prompt` arg), then a user turn with the
audio and the text (the task's prompt, then the sample's text). A batch is one left-padded
`generate` call; only the new tokens are decoded. Greedy unless do_sample=true.
Task kinds: asr and dialogue → text; classification → text plus the task label the answer
names; emotion_intensity → text plus scores read from a JSON object or "name: n" lines.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

from pydantic import Field

from voxeval.adapter import AdapterArgs, TaskContext
from voxeval.adapters.encoder_slices import slice_batches
from voxeval.adapters.hf_common import HFAdapter, HFArgs, to_mono_arrays
from voxeval.adapters.hf_labels import find_label, parse_scores
from voxeval.errors import VoxevalError
from voxeval.types import ModelInput, Response, TaskKind, Usage


class HFChatArgs(HFArgs):
    """Options of hf-audio-chat."""

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
    description: ClassVar[str] = "transformers audio LLM (Qwen2-Audio style) via chat template"
    supports: ClassVar[frozenset[TaskKind]] = frozenset(
        {"asr", "dialogue", "classification", "emotion_intensity"}
    )
    Args: ClassVar[type[AdapterArgs]] = HFChatArgs
    args: HFChatArgs

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

    def _load(self) -> None:
        import transformers
        from transformers import AutoProcessor
        from transformers.models.auto import modeling_auto

        # transformers 5 groups audio/vision LLMs (Voxtral, Granite Speech...) here
        multimodal = getattr(modeling_auto, "MODEL_FOR_MULTIMODAL_LM_MAPPING_NAMES", {})
        config = self.load_config()
        kind = getattr(config, "model_type", None)
        if kind == "qwen2_audio":
            loader = transformers.Qwen2AudioForConditionalGeneration
        elif kind in multimodal:
            loader = transformers.AutoModelForMultimodalLM
        elif getattr(config, "is_encoder_decoder", False):
            loader = transformers.AutoModelForSeq2SeqLM
        else:
            loader = transformers.AutoModelForCausalLM
        self.processor = self.load_processor(AutoProcessor)
        self.tokenizer = getattr(self.processor, "tokenizer", None)
        if self.tokenizer is None or not hasattr(self.processor, "feature_extractor"):
            raise VoxevalError(
                f"{self.args.model!r} has no audio processor (a tokenizer plus a feature "
                "extractor): hf-audio-chat needs an audio LLM such as Qwen2-Audio."
            )
        if not (getattr(self.processor, "chat_template", None) or self.tokenizer.chat_template):
            raise VoxevalError(
                f"{self.args.model!r} has no chat template; hf-audio-chat needs one."
            )
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = self.load_model(loader, config=config, strict=True)
        self.sampling_rate = int(getattr(self.processor.feature_extractor, "sampling_rate", 16000))
        self.generation_config = self._generation_config()
        # transformers 5 nests it in .model (Qwen2-Audio, Voxtral); older versions do not
        inner = getattr(self.model, "model", None)
        tower = getattr(self.model, "audio_tower", None) or getattr(inner, "audio_tower", None)
        if tower is not None:
            slice_batches(tower, self.encoder_slice())

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

    def conversation(self, item: ModelInput) -> list[dict[str, Any]]:
        """The chat messages for one input."""
        messages: list[dict[str, Any]] = []
        system = item.system or self.args.system_prompt
        if system:
            messages.append({"role": "system", "content": system})
        content: list[dict[str, Any]] = []
        if item.audio is not None:
            content.append({"type": "audio"})
        text = "\n\n".join(part for part in (item.prompt, item.text) if part)
        if text:
            content.append({"type": "text", "text": text})
        messages.append({"role": "user", "content": content})
        return messages

    def predict(self, batch: list[ModelInput], task: TaskContext) -> list[Response]:
        """One left-padded generate call for the batch; new tokens decoded per input."""
        self.load()
        import torch

        prompts = [
            self.processor.apply_chat_template(
                self.conversation(item), add_generation_prompt=True, tokenize=False
            )
            for item in batch
        ]
        with_audio = [item for item in batch if item.audio is not None]
        kwargs: dict[str, Any] = {"text": prompts, "return_tensors": "pt", "padding": True}
        if with_audio:
            kwargs.update(audio=to_mono_arrays(with_audio, self.sampling_rate))
            kwargs.update(sampling_rate=self.sampling_rate)
        inputs = self.processor(**kwargs)
        feed = {
            k: v.to(self.device, self.torch_dtype) if v.is_floating_point() else v.to(self.device)
            for k, v in inputs.items()
            if hasattr(v, "to")
        }
        with torch.inference_mode():
            if self.args.do_sample:
                torch.manual_seed(self.args.seed)
            out = self.model.generate(**feed, generation_config=self.generation_config)
        new = out[:, feed["input_ids"].shape[1] :].cpu()
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
