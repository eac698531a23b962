"""empathic-insight-voice: LAION's Empathic Insight Voice (the EmoNet-Voice paper's own model).

Released as two pieces (laion/Empathic-Insight-Voice-Small and -Large on the hub):
  - a fine-tuned Whisper encoder, named by the model card (Small: mkrausio/EmoWhisper-AnS-
    Small-v0.1; laion/BUD-E-Whisper is paired with the heads too) → `encoder=`;
  - one MLP head per emotion or attribute, model_<Dimension>_best.pth (40 emotions plus
    attributes such as Valence, Arousal, Submissive_vs._Dominant, Age, Gender) → `model=`.
Audio is padded or cut to Whisper's 30-s window; the encoder runs once per clip and every
head reads the same output, flattened (no pooling: 1500 frames × 768), see seed_heads.

Output scales are not on the model cards. The heads were trained on LLM-generated scores
(the BUD-E-Whisper card: "40-dimensional emotion scores (0-4 scale)"), so emotions are
mapped from 0–4 onto EmoNet-Voice's 0–10 by default. Attribute ranges come from third-party
code that uses the release (Arousal 0–4, Valence and Submissive_vs._Dominant −3…+3): an
assumption, recorded as such in run.json; override with `scales=` or keep raw outputs with
`raw=true`. Values are clipped to the task's scale (emonet-voice drops numbers outside 0–10).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar, Literal

from pydantic import Field

from voxeval.adapter import Adapter, AdapterArgs, TaskContext
from voxeval.adapters.encoder_slices import encoder_slice
from voxeval.adapters.hf_common import (
    describe_load_error,
    import_backend,
    resolve_device,
    to_mono_arrays,
)
from voxeval.adapters.hf_labels import parse_label_map
from voxeval.adapters.seed_files import (
    Snapshot,
    checked_file,
    folder_fingerprint,
    parse_named_ranges,
    parse_range,
    resolve_folder,
)
from voxeval.adapters.seed_heads import (
    build_bank,
    dimension_key,
    find_heads,
    head_spec,
    input_kind,
    match_dimensions,
    read_state,
)
from voxeval.errors import VoxevalError
from voxeval.types import ModelInput, Response, TaskKind

SAMPLING_RATE = 16000
HEAD_PATTERNS = ["model_*.pth", "model_*.pt", "model_*.safetensors"]
ENCODER_FILES = ("config.json", "preprocessor_config.json", "model.safetensors")
ENCODER_PATTERNS = [*ENCODER_FILES, "model-*.safetensors", "model.safetensors.index.json"]
# The task's declared scale per kind: EmoNet-Voice 0–10, adv-regression 0–1.
TARGETS: dict[str, tuple[float, float]] = {"emotion_intensity": (0.0, 10.0), "regression": (0, 1)}
ASSUMED = "assumed (not on the model card)"
ATTRIBUTE_SCALES = {
    "arousal": (0.0, 4.0),
    "valence": (-3.0, 3.0),
    "submissive vs dominant": (-3.0, 3.0),
}


class EIVArgs(AdapterArgs):
    """--model-args of empathic-insight-voice."""

    model: str = Field(
        "laion/Empathic-Insight-Voice-Small",
        description="folder or hub id holding the heads, model_<Dimension>_best.pth",
    )
    revision: str | None = Field(None, description="hub revision of the heads; recorded")
    encoder: str = Field(
        "mkrausio/EmoWhisper-AnS-Small-v0.1",
        description="Whisper checkpoint (folder or hub id) the heads were trained on",
    )
    encoder_revision: str | None = Field(None, description="hub revision of the encoder")
    label_map: str | dict[str, str] | None = Field(
        None, description="Head_Name:task dimension;... where the names differ"
    )
    emotion_scale: str = Field(
        "0:4", description="output range of the emotion heads, mapped onto the task's 0-10"
    )
    scales: str | dict[str, str] | None = Field(
        None, description="Head_Name=LOW:HIGH;... output ranges overriding the defaults"
    )
    raw: bool = Field(False, description="report raw head outputs, no rescaling or clipping")
    clip: bool = Field(True, description="clip rescaled values into the task's scale")
    device: Literal["auto", "cpu", "cuda", "mps"] = Field(
        "auto", description="torch device; auto picks cuda, then mps, then cpu"
    )
    dtype: Literal["float32", "float16", "bfloat16"] = Field(
        "float32", description="dtype of encoder and heads (heads: ~0.3 GB each in float32)"
    )
    batch_size: int = Field(
        8, ge=1, le=100_000, description="clips per predict call; the heads run once per call"
    )
    encoder_batch_size: int = Field(
        0, ge=0, le=100_000, description="clips per encoder pass; 0: 1 on a CPU, all else"
    )


@dataclass
class _Plan:
    """What one task needs: its dimensions' heads, their bank and their output ranges."""

    mapping: dict[str, str]  # task dimension → head
    bank: Any
    ranges: dict[str, tuple[float, float]]  # head → output range (empty when raw)
    sources: dict[str, str]  # head → where its range comes from
    target: tuple[float, float]
    clipped: int = 0


class EmpathicInsightVoiceAdapter(Adapter):
    """Whisper encoder once per clip, then every per-dimension head on its output."""

    name: ClassVar[str] = "empathic-insight-voice"
    description: ClassVar[str] = (
        "LAION Empathic Insight Voice: Whisper encoder + per-dimension MLP heads "
        "(tasks: emonet-voice, adv-regression)"
    )
    supports: ClassVar[frozenset[TaskKind]] = frozenset({"emotion_intensity", "regression"})
    Args: ClassVar[type[AdapterArgs]] = EIVArgs
    speed_args: ClassVar[frozenset[str]] = frozenset({"batch_size", "encoder_batch_size"})
    args: EIVArgs

    def __init__(self, args: EIVArgs) -> None:
        super().__init__(args)
        self.encoder: Any = None
        self.extractor: Any = None
        self.device: Any = None
        self.dtype: Any = None
        self.heads: dict[str, Any] = {}  # head name → file
        self.heads_snapshot: Snapshot | None = None
        self.plans: dict[tuple[str, ...], _Plan] = {}
        self.info: dict[str, Any] = {}
        self.truncated: set[str] = set()
        self.user_map = parse_label_map(args.label_map)
        self.emotion_range = parse_range(args.emotion_scale, "emotion_scale")
        self.user_ranges = {
            dimension_key(k): v for k, v in parse_named_ranges(args.scales, "scales").items()
        }

    # -- loading -------------------------------------------------------------------------
    def load(self) -> None:
        """Index the head files and load the encoder; heads load per task (see `plan`)."""
        if self.encoder is not None:
            return
        torch, _ = import_backend()
        self.device = resolve_device(torch, self.args.device)
        self.dtype = getattr(torch, self.args.dtype)
        snap = resolve_folder(self.args.model, self.args.revision, HEAD_PATTERNS, "heads")
        self.heads = find_heads(snap.path, snap.root)
        heads_hash, method = folder_fingerprint(self.heads)
        self.heads_snapshot = snap
        self.info.update(heads_hash=heads_hash, heads_hash_method=method)
        self._load_encoder()

    def _load_encoder(self) -> None:
        from transformers import WhisperFeatureExtractor, WhisperModel

        args = self.args
        snap = resolve_folder(args.encoder, args.encoder_revision, ENCODER_PATTERNS, "encoder")
        with self._loading(args.encoder, args.encoder_revision):
            self.extractor = WhisperFeatureExtractor.from_pretrained(str(snap.path))
            whisper, loading = WhisperModel.from_pretrained(
                str(snap.path), dtype=self.dtype, output_loading_info=True
            )
        missing = [k for k in loading.get("missing_keys") or [] if k.startswith("encoder.")]
        if missing:
            raise VoxevalError(
                f"The encoder {args.encoder!r} has no weights for {len(missing)} encoder "
                f"parameters ({', '.join(missing[:3])} ...): it is not a Whisper checkpoint."
            )
        self.encoder = whisper.get_encoder().to(self.device).eval()  # decoder dropped
        files = {n: snap.path / n for n in ENCODER_FILES if (snap.path / n).exists()}
        digest, method = folder_fingerprint(
            {n: checked_file(p, snap.root) for n, p in files.items()}
        )
        self.info.update(
            encoder_revision=args.encoder_revision or snap.commit,
            encoder_hash=digest,
            encoder_hash_method=method,
        )

    @contextlib.contextmanager
    def _loading(self, source: str, revision: str | None) -> Any:
        try:
            yield
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise VoxevalError(describe_load_error(source, revision, "encoder", exc)) from exc

    def plan(self, task: TaskContext) -> _Plan:
        """The heads `task` asks for, loaded into one bank (cached per dimension list)."""
        key = (task.kind, *(task.labels or ()))
        if key not in self.plans:
            mapping = match_dimensions(self.heads, task.labels, self.user_map)
            frames = int(self.encoder.config.max_source_positions)
            width = int(self.encoder.config.d_model)
            entries = []
            for head in dict.fromkeys(mapping.values()):
                path = self.heads[head]
                spec = head_spec(path, read_state(path))
                kind = input_kind(spec, frames, width, path)
                entries.append((head, spec, kind, partial(read_state, path)))
            bank = build_bank(entries, self.dtype, self.device)
            found = {} if self.args.raw else {h: self._range(h, task) for h in bank.names}
            ranges = {h: r for h, (r, _) in found.items()}
            sources = {h: s for h, (_, s) in found.items()}
            target = TARGETS.get(task.kind, (0.0, 10.0))
            self.plans[key] = _Plan(mapping, bank, ranges, sources, target)
            self._record(task, self.plans[key])
        return self.plans[key]

    def _range(self, head: str, task: TaskContext) -> tuple[tuple[float, float], str]:
        """(output range of a head, where it comes from)."""
        key = dimension_key(head)
        if key in self.user_ranges:
            return self.user_ranges[key], "scales argument"
        if task.kind == "emotion_intensity":
            given = "emotion_scale" in self.args.model_fields_set
            return self.emotion_range, "emotion_scale argument" if given else ASSUMED
        if key in ATTRIBUTE_SCALES:
            return ATTRIBUTE_SCALES[key], ASSUMED
        raise VoxevalError(
            f"The output range of head {head!r} is not known (the release does not document "
            f"it); pass scales='{head}=LOW:HIGH' or raw=true."
        )

    def _record(self, task: TaskContext, plan: _Plan) -> None:
        """Mapping, pooling and rescaling of a task, for model_info."""
        rescaling: Any = "none (raw=true)"
        if not self.args.raw:
            rescaling = {
                "to": list(plan.target),
                "formula": "to_low + (x - low) / (high - low) * (to_high - to_low)",
                "clip": self.args.clip,
                "from": {
                    h: {"range": list(r), "source": plan.sources[h]} for h, r in plan.ranges.items()
                },
            }
        self.info.setdefault("tasks", {})[task.name] = {
            "dimensions": plan.mapping,
            "pooling": {h: _POOLING[k] for h, k in plan.bank.kinds.items()},
            "rescaling": rescaling,
        }

    # -- running -------------------------------------------------------------------------
    def predict(self, batch: list[ModelInput], task: TaskContext) -> list[Response]:
        """scores (emotion_intensity) or values (regression) per clip, on the task's scale."""
        import torch

        self.load()
        plan = self.plan(task)
        audio = to_mono_arrays(batch, SAMPLING_RATE)
        limit = int(self.extractor.n_samples)
        self.truncated.update(
            x.sample_id for x, a in zip(batch, audio, strict=True) if len(a) > limit
        )
        size = encoder_slice(self.device.type, self.args.encoder_batch_size) or len(audio)
        with torch.inference_mode():
            hidden = torch.cat(
                [self.embed(audio[i : i + size]) for i in range(0, len(audio), size)]
            )
            outputs = {h: v.float().cpu().numpy() for h, v in plan.bank(hidden).items()}
        field = "scores" if task.kind == "emotion_intensity" else "values"
        rows = [
            {d: self._scale(plan, h, float(outputs[h][i])) for d, h in plan.mapping.items()}
            for i in range(len(batch))
        ]
        return [Response(**{field: row}) for row in rows]

    def embed(self, audio: list[Any]) -> Any:
        """The encoder's output sequence (clips, frames, width) for 16-kHz arrays."""
        features = self.extractor(audio, sampling_rate=SAMPLING_RATE, return_tensors="pt")
        mel = features.input_features.to(self.device, self.dtype)
        return self.encoder(mel).last_hidden_state

    def _scale(self, plan: _Plan, head: str, value: float) -> float:
        if head not in plan.ranges:
            return value
        (low, high), (t_low, t_high) = plan.ranges[head], plan.target
        scaled = t_low + (value - low) / (high - low) * (t_high - t_low)
        if self.args.clip and not t_low <= scaled <= t_high:
            plan.clipped += 1
            scaled = min(max(scaled, t_low), t_high)
        return scaled

    def warmup(self, example: ModelInput, task: TaskContext) -> None:
        """Load the task's heads and run one clip, so timed batches exclude set-up."""
        self.predict([example], task)

    # -- identity ------------------------------------------------------------------------
    def model_info(self) -> dict[str, Any]:
        """Heads and encoder identity, sizes, pooling and rescaling per task."""
        info: dict[str, Any] = {"model": self.args.model, "encoder": self.args.encoder}
        if self.encoder is None:
            return {**info, "revision": self.args.revision}
        import torch
        import transformers

        banks = list({id(p.bank): p.bank for p in self.plans.values()}.values())
        head_params = sum(b.parameters for b in banks)
        encoder_params = sum(p.numel() for p in self.encoder.parameters())
        snap = self.heads_snapshot
        info.update(
            revision=self.args.revision or (snap.commit if snap else None),
            architecture="WhisperEncoder + per-dimension FullEmbeddingMLP heads",
            heads_available=sorted(self.heads),
            heads_loaded=sorted({n for b in banks for n in b.names}),
            parameters=encoder_params + head_params,
            encoder_parameters=encoder_params,
            head_parameters=head_params,
            window_s=float(self.extractor.chunk_length),
            truncated_clips=len(self.truncated),
            clipped_values=sum(p.clipped for p in self.plans.values()),
            dtype=self.args.dtype,
            device=str(self.device),
            encoder_batch_size=encoder_slice(self.device.type, self.args.encoder_batch_size)
            or "batch",
            torch=torch.__version__,
            transformers=transformers.__version__,
            **self.info,
        )
        return info

    def close(self) -> None:
        """Drop the encoder and every loaded head."""
        self.encoder, self.plans = None, {}


_POOLING = {
    "flatten": "none: the encoder's whole output (frames × width) flattened",
    "stats": "mean, min, max and std over frames, concatenated",
}
