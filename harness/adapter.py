"""The Adapter base class: how a model backend plugs into the runner."""

from __future__ import annotations

import types
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from voxeval.errors import VoxevalError
from voxeval.plugins import Registry
from voxeval.types import ModelInput, Response, TaskKind


class AdapterArgs(BaseModel):
    """Base for an adapter's `--model-args`; unknown keys are an error, values are coerced."""

    model_config = ConfigDict(
        extra="forbid", protected_namespaces=(), allow_inf_nan=False, defer_build=True
    )

    batch_size: int = Field(
        1, ge=1, le=100_000, description="inputs handed to the adapter per predict call"
    )

    @model_validator(mode="before")
    @classmethod
    def _none_words(cls, data: Any) -> Any:
        # `--model-args` values are strings: "none", "null" or nothing unsets an optional one.
        if not isinstance(data, dict):
            return data
        return {
            key: None if _is_none_word(value) and _optional(cls, key) else value
            for key, value in data.items()
        }


def _is_none_word(value: Any) -> bool:
    return isinstance(value, str) and value.strip().lower() in ("", "none", "null")


def _optional(args: type[BaseModel], key: str) -> bool:
    """True if the field `key` accepts None."""
    field = args.model_fields.get(key)
    if field is None:
        return False
    union = get_origin(field.annotation) in (Union, types.UnionType)
    return field.annotation is None or (union and type(None) in get_args(field.annotation))


def prefixed_args(raw: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The `PREFIX.KEY=VALUE` entries of flat `--model-args`, keyed by KEY."""
    dotted = f"{prefix}."
    return {str(k).removeprefix(dotted): v for k, v in raw.items() if str(k).startswith(dotted)}


class TaskContext(BaseModel):
    """What an adapter may know about the task it serves (never the references)."""

    name: str
    kind: str
    labels: list[str] | None = Field(None, description="classes, or regression dimensions")
    label_prior: dict[str, float] | None = Field(None, description="from a training split")
    value_means: dict[str, float] | None = Field(None, description="from a training split")


Emit = Callable[[int, Response], None]


class Adapter:
    """Base class for model adapters; subclasses set the class attributes and `predict`.

    An adapter that finishes inputs one at a time (a pool of HTTP requests) overrides
    `predict_stream` too, so each answer is saved the moment it exists and a crash re-pays
    only the requests in flight.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    supports: ClassVar[frozenset[TaskKind]]
    sampling_rate: ClassVar[int | None] = 16000
    needs_audio: ClassVar[bool] = True  # False: the runner skips decoding (text baselines)
    Args: ClassVar[type[AdapterArgs]] = AdapterArgs
    # Arguments that change speed, never predictions: left out of the resume fingerprint, so
    # a crashed run resumes on another machine with another batch size.
    speed_args: ClassVar[frozenset[str]] = frozenset({"batch_size"})
    # The run folder, when the runner has one (`attach_run_dir`); None when used from Python.
    run_dir: Path | None = None

    def __init__(self, args: AdapterArgs) -> None:
        self.args = args

    @classmethod
    def from_args(cls, raw: dict[str, Any]) -> Adapter:
        """Validate raw `--model-args` and build the adapter; errors name the bad argument."""
        try:
            args = cls.Args(**raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'args'}: {err['msg']}"
                for err in exc.errors()
            )
            allowed = ", ".join(cls.Args.model_fields)
            raise VoxevalError(
                f"Bad --model-args for {cls.name!r}: {problems}. Allowed: {allowed}."
            ) from None
        return cls(args)

    @property
    def batch_size(self) -> int:
        """How many inputs the runner hands to `predict` at once."""
        return max(1, self.args.batch_size)

    @classmethod
    def details(cls) -> dict[str, Any]:
        """Extra facts for `voxeval list models NAME` (e.g. the model families it knows)."""
        return {}

    def model_info(self) -> dict[str, Any]:
        """Identity of the loaded model (e.g. path, revision, size); recorded in run.json."""
        return {}

    def attach_run_dir(self, run_dir: Path) -> None:
        """Tell the adapter its run folder (for files kept beside the run); before `load`."""
        self.run_dir = Path(run_dir)

    def load(self) -> None:
        """Load weights; called once before the first batch (not counted as model time)."""

    def warmup(self, example: ModelInput, task: TaskContext) -> None:
        """Prepare for timed calls (e.g. one throw-away prediction); default: nothing."""

    def predict(self, batch: list[ModelInput], task: TaskContext) -> list[Response]:
        """Return one Response per input, in order (collected from `predict_stream` when an
        adapter implements only that)."""
        if type(self).predict_stream is Adapter.predict_stream:
            raise NotImplementedError(f"{type(self).__name__} implements no predict")
        results = [Response(error="not answered")] * len(batch)

        def keep(index: int, response: Response) -> None:
            results[index] = response

        self.predict_stream(batch, task, keep)
        return results

    def predict_stream(self, batch: list[ModelInput], task: TaskContext, emit: Emit) -> None:
        """Call `emit(index, response)` once per input as soon as its answer exists.

        The default calls `predict` and emits its answers in order; an exception from `emit`
        (the runner could not save) must propagate, never be taken for a model failure.
        """
        responses = self.predict(batch, task)
        if not isinstance(responses, list) or len(responses) != len(batch):
            got = len(responses) if isinstance(responses, list) else type(responses).__name__
            raise VoxevalError(
                f"Adapter {self.name!r} returned {got} responses for {len(batch)} inputs; "
                "predict() must return one Response per input, in order."
            )
        for index, response in enumerate(responses):
            emit(index, response)

    def prediction_args(self) -> dict[str, Any]:
        """The arguments that can change predictions: all but `speed_args` (fingerprint)."""
        return {k: v for k, v in self.args.model_dump().items() if k not in self.speed_args}

    def close(self) -> None:
        """Release resources."""


ADAPTERS: Registry = Registry("model", "register_adapters", lambda cls: cls.name)
