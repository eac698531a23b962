"""hf-audio-classifier and hf-regressor: audio models with a classification or regression head.

Two heads are understood (arg `head`, "auto" picks from the config's architectures):
  transformers  AutoModelForAudioClassification (Wav2Vec2ForSequenceClassification, HuBERT,
                WavLM, AST, Whisper encoders...): softmax (sigmoid for multi-label) or raw
                regression logits.
  dense-tanh    the "*ForSpeechClassification" head of audeering's A/D/V model and of many
                community SER checkpoints: backbone → pooling over frames (config.pooling_mode,
                mean by default; padding excluded) → dropout/dense/tanh/dropout/out_proj.
Both batch with padding and the attention mask when the feature extractor returns one.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from voxeval.adapter import AdapterArgs, TaskContext
from voxeval.adapters.hf_common import HFAdapter, HFArgs, to_mono_arrays
from voxeval.adapters.hf_labels import LabelMapping, map_labels, parse_label_map
from voxeval.errors import VoxevalError
from voxeval.types import ModelInput, Response, TaskKind

log = logging.getLogger("voxeval.adapters.hf")


class HFHeadArgs(HFArgs):
    """Options of hf-audio-classifier and hf-regressor."""

    label_map: str | dict[str, str] | None = Field(
        None,
        description="model_label:task_label;... (or a dict); an empty target drops a label",
    )
    head: Literal["auto", "transformers", "dense-tanh"] = Field(
        "auto", description="transformers or dense-tanh head; auto picks from the config"
    )


def speech_classifier_class(config: Any) -> Any:
    """A `<Backbone>PreTrainedModel` subclass with the pooled dense-tanh head (built lazily)."""
    import torch
    from torch import nn
    from transformers.modeling_outputs import SequenceClassifierOutput
    from transformers.models.auto.modeling_auto import MODEL_MAPPING

    backbone_cls = MODEL_MAPPING[type(config)]
    pretrained_cls = backbone_cls.__mro__[1]
    prefix = pretrained_cls.base_model_prefix

    class DenseTanhHead(nn.Module):
        def __init__(self, config: Any) -> None:
            super().__init__()
            self.dense = nn.Linear(config.hidden_size, config.hidden_size)
            self.dropout = nn.Dropout(getattr(config, "final_dropout", 0.0))
            self.out_proj = nn.Linear(config.hidden_size, config.num_labels)

        def forward(self, x: Any) -> Any:
            x = torch.tanh(self.dense(self.dropout(x)))
            return self.out_proj(self.dropout(x))

    class SpeechClassifier(pretrained_cls):  # type: ignore[misc, valid-type]
        def __init__(self, config: Any) -> None:
            super().__init__(config)
            setattr(self, prefix, backbone_cls(config))
            self.classifier = DenseTanhHead(config)
            self.post_init()

        def forward(self, input_values: Any, attention_mask: Any = None, **_: Any) -> Any:
            backbone = getattr(self, prefix)
            hidden = backbone(input_values, attention_mask=attention_mask)[0]
            if attention_mask is None:
                frames = torch.ones(hidden.shape[:2], dtype=torch.bool, device=hidden.device)
            else:
                frames = backbone._get_feature_vector_attention_mask(
                    hidden.shape[1], attention_mask
                ).bool()
            weights = frames.unsqueeze(-1).to(hidden.dtype)
            mode = getattr(self.config, "pooling_mode", "mean") or "mean"
            if mode == "max":
                pooled = hidden.masked_fill(~frames.unsqueeze(-1), float("-inf")).amax(dim=1)
            elif mode == "sum":
                pooled = (hidden * weights).sum(dim=1)
            else:
                pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1)
            return SequenceClassifierOutput(logits=self.classifier(pooled))

    SpeechClassifier.__name__ = SpeechClassifier.__qualname__ = "SpeechClassifierDenseTanh"
    return SpeechClassifier


class _HeadAdapter(HFAdapter):
    """Shared loading and forward pass of the two head adapters."""

    Args: ClassVar[type[AdapterArgs]] = HFHeadArgs
    args: HFHeadArgs

    def __init__(self, args: HFHeadArgs) -> None:
        super().__init__(args)
        self.extractor: Any = None
        self.model_labels: list[str] = []
        self.user_map = parse_label_map(args.label_map)
        self._mappings: dict[tuple[str, ...] | None, LabelMapping] = {}
        self._accepts: set[str] = set()

    def _load(self) -> None:
        from transformers import AutoFeatureExtractor, AutoModelForAudioClassification

        config = self.load_config()
        architectures = getattr(config, "architectures", None) or []
        head = self.args.head
        if head == "auto":
            head = (
                "dense-tanh"
                if any(a.endswith("ForSpeechClassification") for a in architectures)
                else "transformers"
            )
        self._configure(config)
        if head == "dense-tanh":
            try:
                loader = speech_classifier_class(config)
            except KeyError:
                raise VoxevalError(
                    f"head=dense-tanh needs a backbone transformers knows; {self.args.model!r} "
                    f"has model_type {config.model_type!r}."
                ) from None
        else:
            loader = AutoModelForAudioClassification
        self.extractor = self.load_processor(AutoFeatureExtractor, "feature extractor")
        self.model = self.load_model(loader, config=config, strict=True)
        self.sampling_rate = int(getattr(self.extractor, "sampling_rate", 16000))
        self.model_labels = [str(config.id2label[i]) for i in range(config.num_labels)]
        self._accepts = set(inspect.signature(self.model.forward).parameters)
        self.extra_info.update(head=head, model_labels=self.model_labels)

    def _configure(self, config: Any) -> None:
        """Adjust the config before the weights load (subclass hook)."""

    def load_model(
        self, loader: Any, config: Any = None, strict: bool = False, hint: str = ""
    ) -> Any:
        """As HFAdapter.load_model, hinting at head=dense-tanh when the head is missing."""
        if self.args.head != "dense-tanh":
            hint = hint or (
                " If its config names a *ForSpeechClassification head, try head=dense-tanh."
            )
        return super().load_model(loader, config=config, strict=strict, hint=hint)

    def _logits(self, batch: list[ModelInput]) -> np.ndarray:
        """Float64 logits of shape (batch, num_labels), in encoder-sized padded passes."""
        # The whole model is the encoder: on a CPU, padding a batch only adds work.
        return np.concatenate([self._logits_pass(batch[part]) for part in self.slices(len(batch))])

    def _logits_pass(self, batch: list[ModelInput]) -> np.ndarray:
        import torch

        audio = to_mono_arrays(batch, self.sampling_rate)
        if hasattr(self.extractor, "nb_max_frames"):  # Whisper-style: fixed 30 s window
            inputs = self.extractor(
                audio, sampling_rate=self.sampling_rate, return_tensors="pt",
                return_attention_mask=True,
            )  # fmt: skip
        else:
            inputs = self.extractor(
                audio,
                sampling_rate=self.sampling_rate,
                padding=True,
                return_tensors="pt",
                return_attention_mask=bool(getattr(self.extractor, "return_attention_mask", 0)),
            )
        feed = {
            k: v.to(self.device, self.torch_dtype) if v.is_floating_point() else v.to(self.device)
            for k, v in inputs.items()
            if k in self._accepts
        }
        with torch.inference_mode():
            logits = self.model(**feed).logits
        return logits.float().cpu().numpy().astype(np.float64)

    def mapping(self, task: TaskContext) -> LabelMapping:
        """The (cached) model-label → task-label mapping for this task, logged once."""
        key = tuple(task.labels) if task.labels else None
        if key not in self._mappings:
            found = map_labels(self.model_labels, task.labels, self._user_map_for(task))
            self._mappings[key] = found
            self.extra_info.setdefault("label_mapping", {})[task.name] = found.report()
            if found.unmapped:
                log.warning(
                    "%s: model labels %s map to no label of task %s; they are ignored.",
                    self.args.model,
                    ", ".join(found.unmapped),
                    task.name,
                )
        return self._mappings[key]

    def _user_map_for(self, task: TaskContext) -> dict[str, str]:
        return self.user_map


class HFAudioClassifierAdapter(_HeadAdapter):
    """Audio classification: the most probable task label and the probability of each."""

    name: ClassVar[str] = "hf-audio-classifier"
    description: ClassVar[str] = (
        "transformers audio classifier (e.g. speech emotion), labels mapped"
    )
    supports: ClassVar[frozenset[TaskKind]] = frozenset({"classification"})

    def _configure(self, config: Any) -> None:
        if getattr(config, "problem_type", None) == "regression":
            raise VoxevalError(
                f"{self.args.model!r} is a regression model (problem_type regression: "
                f"{', '.join(map(str, config.id2label.values()))}); use hf-regressor."
            )

    def predict(self, batch: list[ModelInput], task: TaskContext) -> list[Response]:
        """Probabilities per model label, summed onto the task's labels; argmax → label."""
        self.load()
        mapping = self.mapping(task)
        logits = self._logits(batch)
        if getattr(self.model.config, "problem_type", None) == "multi_label_classification":
            probs = 1.0 / (1.0 + np.exp(-logits))
        else:
            shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
            probs = shifted / shifted.sum(axis=1, keepdims=True)
        out = []
        for row in probs:
            scores = {label: 0.0 for label in mapping.task_labels}
            for model_label, p in zip(self.model_labels, row, strict=True):
                target = mapping.targets.get(model_label)
                if target is not None:
                    scores[target] += float(p)
            reachable = mapping.reachable
            label = max(reachable, key=lambda t: scores[t])
            out.append(Response(label=label, scores=scores))
        return out


class HFRegressorAdapter(_HeadAdapter):
    """Audio regression (e.g. arousal/dominance/valence): the head's raw outputs by name."""

    name: ClassVar[str] = "hf-regressor"
    description: ClassVar[str] = "transformers audio regression head (e.g. A/D/V), raw outputs"
    supports: ClassVar[frozenset[TaskKind]] = frozenset({"regression"})

    def _configure(self, config: Any) -> None:
        self.extra_info["problem_type"] = getattr(config, "problem_type", None)
        config.problem_type = "regression"  # outputs are taken raw whatever the config says

    def _user_map_for(self, task: TaskContext) -> dict[str, str]:
        """The user's label_map, or task names by position for unnamed (LABEL_i) outputs."""
        generic = all(m == f"LABEL_{i}" for i, m in enumerate(self.model_labels))
        if not (task.labels and generic and not self.user_map):
            return self.user_map
        if len(task.labels) != len(self.model_labels):
            raise VoxevalError(
                f"{self.args.model!r} has {len(self.model_labels)} unnamed outputs but task "
                f"{task.name!r} wants {len(task.labels)} ({', '.join(task.labels)}); name them "
                "with label_map='LABEL_0:arousal;...'."
            )
        pairs = dict(zip(self.model_labels, task.labels, strict=True))
        self.extra_info["positional_dimensions"] = pairs
        return pairs

    def mapping(self, task: TaskContext) -> LabelMapping:
        """Output → dimension name: by name (label_map first), positional for LABEL_i names."""
        found = super().mapping(task)
        missing = [t for t in found.task_labels if t not in found.reachable]
        if task.labels and missing:
            raise VoxevalError(
                f"Task {task.name!r} wants dimensions {', '.join(missing)} that no output of "
                f"{self.args.model!r} ({', '.join(self.model_labels)}) maps to; add "
                "label_map='model_name:task_name;...'."
            )
        return found

    def predict(self, batch: list[ModelInput], task: TaskContext) -> list[Response]:
        """values {dimension: raw output} for each clip."""
        self.load()
        mapping = self.mapping(task)
        logits = self._logits(batch)
        out = []
        for row in logits:
            by_name = {
                mapping.targets[m]: float(v)
                for m, v in zip(self.model_labels, row, strict=True)
                if m in mapping.targets
            }
            out.append(Response(values={t: by_name[t] for t in mapping.task_labels}))
        return out
