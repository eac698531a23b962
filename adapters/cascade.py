"""cascade: any ASR adapter feeding any text model (e.g. faster-whisper → a vLLM chat model).

Arguments of the two stages are prefixed: `--model-args asr=faster-whisper,asr.beam_size=5,
llm=openai,llm.model=gpt-4o-mini,llm.base_url=http://localhost:8000/v1`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import ConfigDict, Field

from voxeval.adapter import ADAPTERS, Adapter, AdapterArgs, Emit, TaskContext, prefixed_args
from voxeval.errors import VoxevalError
from voxeval.hookspecs import hookimpl
from voxeval.types import ModelInput, Response, TaskKind, Usage


class CascadeArgs(AdapterArgs):
    """`asr` and `llm` name registered adapters; `asr.*` / `llm.*` keys are their arguments."""

    model_config = ConfigDict(extra="allow")

    asr: str = Field(
        "faster-whisper",
        description="ASR stage: a registered adapter; its arguments go as asr.KEY=VALUE",
    )
    llm: str = Field(
        description="text model stage: a registered adapter; its arguments go as llm.KEY=VALUE"
    )
    batch_size: int = Field(
        16, ge=1, le=100_000, description="inputs per predict call, for both stages"
    )


class CascadeAdapter(Adapter):
    """Transcribe with the ASR stage, then let the text model answer the transcript."""

    name: ClassVar[str] = "cascade"
    description: ClassVar[str] = "ASR adapter → text model (asr=..., llm=..., asr.*/llm.* args)"
    supports: ClassVar[frozenset[TaskKind]] = frozenset(
        {"dialogue", "classification", "emotion_intensity"}
    )
    Args: ClassVar[type[AdapterArgs]] = CascadeArgs
    args: CascadeArgs

    def __init__(self, args: CascadeArgs) -> None:
        super().__init__(args)
        extra = dict(args.model_extra or {})
        stray = [k for k in extra if not k.startswith(("asr.", "llm."))]
        if stray:
            raise VoxevalError(
                f"Bad --model-args for 'cascade': {', '.join(stray)}. Stage arguments take a "
                "prefix, e.g. asr.beam_size=5 or llm.model=gpt-4o-mini."
            )
        self.asr = _stage(args.asr, "asr", extra, needs="asr")
        self.llm = _stage(args.llm, "llm", extra, needs="dialogue")
        self.sampling_rate = self.asr.sampling_rate  # type: ignore[misc]

    def load(self) -> None:
        """Load both stages."""
        self.asr.load()
        self.llm.load()

    def model_info(self) -> dict[str, Any]:
        """Both stages' identities."""
        return {
            "asr": {"adapter": self.asr.name, **self.asr.model_info()},
            "llm": {"adapter": self.llm.name, **self.llm.model_info()},
            "architecture": "cascade",
        }

    def prediction_args(self) -> dict[str, Any]:
        """Own and both stages' arguments, less each stage's speed arguments."""
        own = super().prediction_args()
        for prefix, stage in (("asr", self.asr), ("llm", self.llm)):
            for key in stage.speed_args:
                own.pop(f"{prefix}.{key}", None)
        return own

    def predict_stream(self, batch: list[ModelInput], task: TaskContext, emit: Emit) -> None:
        """Transcribe the batch, emit its failures, then stream the text model's answers."""
        heard = self.asr.predict(batch, TaskContext(name=task.name, kind="asr"))
        ok = [i for i, r in enumerate(heard) if not r.error and r.text is not None]
        for i in sorted(set(range(len(batch))) - set(ok)):
            emit(i, _combine(heard[i], None))
        texts = [
            ModelInput(
                batch[i].sample_id,
                None,
                None,
                text="\n".join(filter(None, [batch[i].text, heard[i].text])),
                prompt=batch[i].prompt,
                system=batch[i].system,
            )
            for i in ok
        ]
        if texts:
            self.llm.predict_stream(
                texts, task, lambda j, answer: emit(ok[j], _combine(heard[ok[j]], answer))
            )


def _stage(name: str, prefix: str, extra: dict[str, Any], needs: str) -> Adapter:
    cls = ADAPTERS.get(name)
    if needs not in cls.supports:
        raise VoxevalError(
            f"cascade: {prefix}={name!r} cannot serve as the {prefix.upper()} stage (it "
            f"supports {', '.join(sorted(cls.supports))})."
        )
    return cls.from_args(prefixed_args(extra, prefix))


def _combine(heard: Response, answer: Response | None) -> Response:
    if answer is None:
        return Response(error=f"asr stage: {heard.error or 'no transcript'}")
    usage = None
    if heard.usage or answer.usage:
        parts = [u for u in (heard.usage, answer.usage) if u]
        costs = [u.cost_usd for u in parts if u.cost_usd is not None]
        usage = Usage(
            input_tokens=sum(u.input_tokens for u in parts),
            output_tokens=sum(u.output_tokens for u in parts),
            cost_usd=sum(costs) if costs else None,
        )
    latency = (heard.latency_s or 0.0) + (answer.latency_s or 0.0) or None
    return Response(
        text=answer.text,
        label=answer.label,
        scores=answer.scores,
        values=answer.values,
        usage=usage,
        error=answer.error,
        latency_s=latency,
    )


@hookimpl
def register_adapters(register: Callable[..., None]) -> None:
    """Register the cascade adapter."""
    register(CascadeAdapter)
