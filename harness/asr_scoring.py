"""ASR tasks' scoring options: the text normaliser and compound merging for WER and CER.

They change only how transcripts are scored, never what the model is asked, so they are
"scoring options": left out of the run's fingerprint, and a finished run asked again with
other values is re-scored from its samples file instead of re-run (`voxeval score RUN
--task-args normalizer=oasr` does the same).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from voxeval.normalizers import normalizer_names
from voxeval.task import MetricSpec, TaskOptions

DEFAULT_NORMALIZER = "whisper_english"


class AsrScoringOptions(TaskOptions):
    """--task-args that choose how WER and CER read transcripts."""

    normalizer: str = Field(
        DEFAULT_NORMALIZER,
        description="text normaliser before alignment: whisper_english (default), oasr (Open "
        "ASR Leaderboard since April 2026), whisper_basic, none",
    )
    compounds: Literal["none", "merge"] = Field(
        "none",
        description="merge: Open ASR Leaderboard's alignment that joins split compounds (WER)",
    )

    @field_validator("normalizer")
    @classmethod
    def _known(cls, value: str) -> str:
        names = normalizer_names()
        if value not in names:
            raise ValueError(f"unknown normaliser {value!r}; choose {', '.join(names)}")
        return value


class AsrScoring:
    """Mixin for ASR tasks whose Options derive from AsrScoringOptions: WER and CER specs."""

    scoring_options: ClassVar[frozenset[str]] = frozenset(AsrScoringOptions.model_fields)
    options: Any

    def metric_specs(self) -> tuple[MetricSpec, ...]:
        """WER with the chosen normaliser and alignment; CER with the normaliser."""
        norm = {"normalizer": self.options.normalizer}
        return (
            MetricSpec("wer", {**norm, "compounds": self.options.compounds}),
            MetricSpec("cer", norm),
        )
