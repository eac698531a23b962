"""Baselines every leaderboard needs: majority class, label prior, training mean, echo."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import ClassVar, Literal

from pydantic import Field

from voxeval.adapter import Adapter, AdapterArgs, TaskContext
from voxeval.errors import VoxevalError
from voxeval.hookspecs import hookimpl
from voxeval.types import ModelInput, Response, TaskKind


class MajorityArgs(AdapterArgs):
    """`label` overrides the task's training prior; `mode=prior` samples from the prior."""

    label: str | None = Field(None, description="always answer this label; None: the prior")
    mode: Literal["majority", "prior"] = Field(
        "majority", description="most frequent label, or a draw from the prior"
    )
    seed: int = Field(0, ge=0, le=2**63 - 1, description="seeds the draws of mode=prior")
    batch_size: int = Field(256, ge=1, le=100_000, description="inputs per predict call")


class MajorityAdapter(Adapter):
    """Always the most frequent training label (or a draw from the label prior)."""

    name: ClassVar[str] = "majority"
    description: ClassVar[str] = "baseline: majority class or label prior of the training split"
    supports: ClassVar[frozenset[TaskKind]] = frozenset({"classification"})
    needs_audio: ClassVar[bool] = False
    Args: ClassVar[type[AdapterArgs]] = MajorityArgs
    args: MajorityArgs

    def __init__(self, args: MajorityArgs) -> None:
        super().__init__(args)
        self._rng = random.Random(args.seed)

    def predict(self, batch: list[ModelInput], task: TaskContext) -> list[Response]:
        """One label per input, from the prior (never from the audio)."""
        prior = self._prior(task)
        if self.args.mode == "majority":
            label = max(prior, key=lambda k: (prior[k], k))
            return [Response(label=label, scores=prior) for _ in batch]
        labels, weights = zip(*prior.items(), strict=True)
        return [Response(label=self._rng.choices(labels, weights)[0], scores=prior) for _ in batch]

    def _prior(self, task: TaskContext) -> dict[str, float]:
        if self.args.label is not None:
            return {self.args.label: 1.0}
        if not task.label_prior:
            raise VoxevalError(
                f"Task {task.name!r} gives no training label distribution; pass "
                "--model-args label=NAME for a fixed-label baseline."
            )
        return task.label_prior


class MeanArgs(AdapterArgs):
    """`values` overrides the task's training means, e.g. "arousal=0.5;valence=0.4"."""

    values: str | None = Field(
        None, description="fixed values, e.g. arousal=0.5;valence=0.4; None: training means"
    )
    batch_size: int = Field(256, ge=1, le=100_000, description="inputs per predict call")


class MeanAdapter(Adapter):
    """Always the training mean of each regression dimension."""

    name: ClassVar[str] = "mean"
    description: ClassVar[str] = "baseline: training-split mean for regression tasks"
    supports: ClassVar[frozenset[TaskKind]] = frozenset({"regression"})
    needs_audio: ClassVar[bool] = False
    Args: ClassVar[type[AdapterArgs]] = MeanArgs
    args: MeanArgs

    def predict(self, batch: list[ModelInput], task: TaskContext) -> list[Response]:
        """The same values for every input."""
        values = _parse_values(self.args.values) if self.args.values else task.value_means
        if not values:
            raise VoxevalError(
                f"Task {task.name!r} gives no training means; pass "
                "--model-args 'values=arousal=0.5;valence=0.5'."
            )
        return [Response(values=dict(values)) for _ in batch]


class EchoAdapter(Adapter):
    """Replies with the user's own words: the floor any dialogue model must beat."""

    name: ClassVar[str] = "echo"
    description: ClassVar[str] = "baseline: repeat the transcript (dialogue tasks)"
    supports: ClassVar[frozenset[TaskKind]] = frozenset({"dialogue"})
    needs_audio: ClassVar[bool] = False

    def predict(self, batch: list[ModelInput], task: TaskContext) -> list[Response]:
        """The transcript, else the text input; an error when the task has neither."""
        out = []
        for item in batch:
            words = item.transcript or item.text
            out.append(
                Response(text=words)
                if words is not None
                else Response(error="echo: the sample has no transcript or text to repeat")
            )
        return out


def _parse_values(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for piece in filter(None, (p.strip() for p in text.split(";"))):
        key, _, value = piece.partition("=")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            raise VoxevalError(f"Bad value {piece!r} in values=; write name=number;...") from None
    return out


@hookimpl
def register_adapters(register: Callable[..., None]) -> None:
    """Register the baselines."""
    for adapter in (MajorityAdapter, MeanAdapter, EchoAdapter):
        register(adapter)
