"""Core value types that flow one way: Sample → ModelInput → Response → record → metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union

import numpy as np

TaskKind = Literal["asr", "classification", "regression", "dialogue", "emotion_intensity"]

# Audio as a task hands it over: a file path, encoded bytes, or (waveform, sampling rate).
AudioSource = Union[str, Path, bytes, "tuple[np.ndarray, int]"]


@dataclass(frozen=True)
class Sample:
    """One benchmark item as a task yields it; audio stays undecoded until the runner needs it."""

    id: str
    audio: AudioSource | None = None
    text: str | None = None
    transcript: str | None = None  # what is said in the audio, when the dataset knows it
    references: tuple[str, ...] = ()
    labels: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelInput:
    """What an adapter sees: decoded audio and the task's prompt, never the references."""

    sample_id: str
    audio: np.ndarray | None
    sampling_rate: int | None
    text: str | None = None
    prompt: str | None = None
    system: str | None = None  # instructions for a chat model's system message (judges)
    # The dataset's transcript of the audio: for text baselines and oracle cascades only;
    # an audio model that reads it is not evaluated on listening.
    transcript: str | None = None

    @property
    def duration_s(self) -> float:
        """Length of the audio in seconds (0 without audio)."""
        if self.audio is None or not self.sampling_rate:
            return 0.0
        return len(self.audio) / self.sampling_rate


@dataclass
class Usage:
    """Tokens and cost an adapter reports for one response."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None


@dataclass
class Response:
    """An adapter's answer for one input; `error` set means the sample failed."""

    text: str | None = None
    label: str | None = None
    scores: dict[str, float] | None = None
    values: dict[str, float] | None = None
    latency_s: float | None = None
    usage: Usage | None = None
    error: str | None = None
    served_model: str | None = None  # the model (and build) a server says answered

    def prediction(self) -> dict[str, Any]:
        """The model-output fields that are set, for the samples file."""
        out = {"text": self.text, "label": self.label, "scores": self.scores}
        out["values"] = self.values
        return {k: v for k, v in out.items() if v is not None}
