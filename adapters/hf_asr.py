"""hf-asr: speech recognition with transformers: Whisper (seq2seq) or wav2vec2-style CTC.

The model family is chosen from the checkpoint's config:
  whisper            WhisperForConditionalGeneration.generate, greedy by default; `language`
                     and `task` are passed only to multilingual checkpoints. Clips up to 30 s are
                     padded to Whisper's fixed 30 s window and batched, one decoding pass each;
                     longer ones go through transformers' long-form (sequential, timestamped)
                     decoding, batched too.
  CTC models         AutoModelForCTC (wav2vec2, HuBERT, WavLM, ...): one padded forward pass per
                     batch with the attention mask when the feature extractor asks for one;
                     frame-wise argmax cut to each clip's own length, then CTC collapse.
  other seq2seq      AutoModelForSpeechSeq2Seq + its processor, `generate` on the features.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from voxeval.adapter import AdapterArgs, TaskContext
from voxeval.adapters.encoder_slices import slice_batches
from voxeval.adapters.hf_common import HFAdapter, HFArgs, to_mono_arrays
from voxeval.errors import VoxevalError
from voxeval.types import ModelInput, Response, TaskKind

ENGLISH = {"en", "english", "<|en|>"}


class HFAsrArgs(HFArgs):
    """Options of hf-asr."""

    language: str | None = Field(
        None, description="multilingual Whisper only: en, german...; None detects it"
    )
    task: Literal["transcribe", "translate"] = Field(
        "transcribe", description="multilingual Whisper only: translate gives English text"
    )
    num_beams: int = Field(1, ge=1, le=1000, description="beam search width; 1 = greedy")
    max_new_tokens: int | None = Field(
        None,
        ge=1,
        le=1_000_000,
        description="seq2seq only: tokens per clip; None keeps the model's limit",
    )


class HFAsrAdapter(HFAdapter):
    """Whisper or CTC speech recognition through transformers, batched with padding."""

    name: ClassVar[str] = "hf-asr"
    description: ClassVar[str] = "transformers ASR: Whisper (generate) or wav2vec2-style CTC"
    supports: ClassVar[frozenset[TaskKind]] = frozenset({"asr"})
    Args: ClassVar[type[AdapterArgs]] = HFAsrArgs
    args: HFAsrArgs

    def __init__(self, args: HFAsrArgs) -> None:
        super().__init__(args)
        self.family: str | None = None
        self.processor: Any = None
        self.generation_config: Any = None

    def _load(self) -> None:
        from transformers import (
            AutoModelForCTC,
            AutoModelForSpeechSeq2Seq,
            AutoProcessor,
            WhisperForConditionalGeneration,
        )
        from transformers.models.auto.modeling_auto import (
            MODEL_FOR_CTC_MAPPING_NAMES,
            MODEL_FOR_SPEECH_SEQ_2_SEQ_MAPPING_NAMES,
        )

        config = self.load_config()
        kind = getattr(config, "model_type", None)
        architectures = getattr(config, "architectures", None) or []
        heads = ("ForCTC", "ForConditionalGeneration", "ForSpeechSeq2Seq")
        asr_head = not architectures or any(a.endswith(heads) for a in architectures)
        if kind == "whisper" and asr_head:
            self.family, loader = "whisper", WhisperForConditionalGeneration
        elif any(a.endswith("ForCTC") for a in architectures) or (
            not architectures and kind in MODEL_FOR_CTC_MAPPING_NAMES
        ):
            self.family, loader = "ctc", AutoModelForCTC
        elif kind in MODEL_FOR_SPEECH_SEQ_2_SEQ_MAPPING_NAMES and asr_head:
            self.family, loader = "seq2seq", AutoModelForSpeechSeq2Seq
        else:
            raise VoxevalError(
                f"{self.args.model!r} (model_type {kind!r}, {', '.join(architectures) or 'no'} "
                "architecture) is not a speech recognition model hf-asr knows: it takes Whisper, "
                "CTC models (wav2vec2, HuBERT, WavLM...) and transformers' speech seq2seq models."
            )
        self.processor = self.load_processor(AutoProcessor)
        self.model = self.load_model(loader, config=config, strict=True)
        extractor = self._extractor()
        self.sampling_rate = int(getattr(extractor, "sampling_rate", 16000))
        self.extra_info["family"] = self.family
        if self.family == "whisper":
            slice_batches(self.model.model.encoder, self.encoder_slice())
        if self.family != "ctc":
            self.generation_config = self._generation_config()

    def _extractor(self) -> Any:
        return getattr(self.processor, "feature_extractor", self.processor)

    def _tokenizer(self) -> Any:
        return getattr(self.processor, "tokenizer", self.processor)

    def _generation_config(self) -> Any:
        gen = copy.deepcopy(self.model.generation_config)
        gen.num_beams = self.args.num_beams
        gen.do_sample = False
        if self.args.max_new_tokens is not None:
            gen.max_new_tokens = self.args.max_new_tokens
            gen.max_length = None
        multilingual = bool(getattr(gen, "is_multilingual", False))
        if self.family == "whisper":
            self.extra_info["multilingual"] = multilingual
            language = self.args.language or None  # "" from the command line: detect
            if multilingual:
                gen.language = language
                gen.task = self.args.task
                self.extra_info.update(language=language, task=self.args.task)
            elif self.args.task == "translate" or (language and language.lower() not in ENGLISH):
                raise VoxevalError(
                    f"{self.args.model!r} is an English-only Whisper: it cannot take "
                    f"language={self.args.language!r} task={self.args.task!r}. Use a "
                    "multilingual checkpoint, or leave language and task out."
                )
        self.extra_info["generation"] = {
            "num_beams": gen.num_beams,
            "do_sample": False,
            "max_new_tokens": gen.max_new_tokens,
        }
        return gen

    def predict(self, batch: list[ModelInput], task: TaskContext) -> list[Response]:
        """Transcribe a batch in one padded pass (Whisper: one generate call per window kind)."""
        self.load()
        import torch

        audio = to_mono_arrays(batch, self.sampling_rate)
        run: Callable[[list[np.ndarray]], list[str]] = {
            "whisper": self._whisper,
            "ctc": self._ctc,
            "seq2seq": self._seq2seq,
        }[self.family or ""]
        with torch.inference_mode():
            texts = run(audio)
        return [Response(text=text.strip()) for text in texts]

    def _whisper(self, audio: list[np.ndarray]) -> list[str]:
        extractor = self._extractor()
        window = int(getattr(extractor, "n_samples", 30 * self.sampling_rate))
        texts: list[str] = [""] * len(audio)
        short = [i for i, a in enumerate(audio) if len(a) <= window]
        long = [i for i, a in enumerate(audio) if len(a) > window]
        for indices, long_form in ((short, False), (long, True)):
            if not indices:
                continue
            extra = {"truncation": False, "padding": "longest"} if long_form else {}
            features = extractor(
                [audio[i] for i in indices],
                sampling_rate=self.sampling_rate,
                return_tensors="pt",
                return_attention_mask=True,
                **extra,
            )
            gen = copy.deepcopy(self.generation_config)
            if long_form:
                gen.return_timestamps = True
                gen.condition_on_prev_tokens = False
            else:
                # One decoding pass per 30 s window, as in short-form Whisper: without this,
                # transformers 5 re-decodes from any timestamp token the model emits.
                gen.force_unique_generate_call = True
            out = self.model.generate(
                features.input_features.to(self.device, self.torch_dtype),
                attention_mask=features.attention_mask.to(self.device),
                generation_config=gen,
            )
            sequences = out if hasattr(out, "shape") else out["sequences"]
            decoded = self._tokenizer().batch_decode(sequences, skip_special_tokens=True)
            for i, text in zip(indices, decoded, strict=True):
                texts[i] = text
        return texts

    def _ctc(self, audio: list[np.ndarray]) -> list[str]:
        # The whole model is the encoder: on a CPU, padding a batch only adds work.
        return [text for part in self.slices(len(audio)) for text in self._ctc_pass(audio[part])]

    def _ctc_pass(self, audio: list[np.ndarray]) -> list[str]:
        extractor = self._extractor()
        use_mask = bool(getattr(extractor, "return_attention_mask", False))
        inputs = extractor(
            audio,
            sampling_rate=self.sampling_rate,
            padding=True,
            return_tensors="pt",
            return_attention_mask=use_mask,
        )
        values = inputs.input_values.to(self.device, self.torch_dtype)
        mask = inputs.get("attention_mask")
        if mask is not None:
            logits = self.model(values, attention_mask=mask.to(self.device)).logits
        else:
            logits = self.model(values).logits
        lengths = self.model._get_feat_extract_output_lengths(
            self._as_long([len(a) for a in audio])
        ).tolist()
        ids = logits.argmax(dim=-1).cpu()
        tokens = [ids[i, : int(n)].tolist() for i, n in enumerate(lengths)]
        return self._tokenizer().batch_decode(tokens)

    def _seq2seq(self, audio: list[np.ndarray]) -> list[str]:
        extractor = self._extractor()
        inputs = extractor(
            audio,
            sampling_rate=self.sampling_rate,
            padding=True,
            return_tensors="pt",
            return_attention_mask=True,
        )
        moved = {
            k: v.to(self.device, self.torch_dtype) if v.is_floating_point() else v.to(self.device)
            for k, v in inputs.items()
        }
        out = self.model.generate(**moved, generation_config=self.generation_config)
        return self._tokenizer().batch_decode(out, skip_special_tokens=True)

    @staticmethod
    def _as_long(values: list[int]) -> Any:
        import torch

        return torch.tensor(values, dtype=torch.long)
