"""demo-asr: 30 bundled English TTS clips for a first run with no network (not a benchmark)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import ClassVar

from pydantic import BaseModel

from voxeval.asr_scoring import AsrScoring, AsrScoringOptions
from voxeval.hookspecs import hookimpl
from voxeval.task import MetricSpec
from voxeval.tasks.bundled import BundledDemoTask
from voxeval.types import Sample, TaskKind


class DemoAsr(AsrScoring, BundledDemoTask):
    """Transcribe short TTS sentences; a smoke test of the whole pipeline."""

    name: ClassVar[str] = "demo-asr"
    version: ClassVar[str] = "1"
    kind: ClassVar[TaskKind] = "asr"
    board: ClassVar[str] = "asr"
    description: ClassVar[str] = "DEMO: 30 English TTS sentences (festival, flite, espeak-ng)"
    metrics: ClassVar[tuple[MetricSpec, ...]] = (
        MetricSpec("wer", {"normalizer": "whisper_english"}),
        MetricSpec("cer", {"normalizer": "whisper_english"}),
    )
    breakdowns: ClassVar[tuple[str, ...]] = ("tts",)
    protocol_doc: ClassVar[str | None] = "docs/protocols.md#asr"
    Options: ClassVar[type[BaseModel]] = AsrScoringOptions
    package: ClassVar[str] = __name__
    dataset_id: ClassVar[str] = "voxeval/demo-asr"

    def samples(self) -> Iterator[Sample]:
        """One sample per manifest line; audio is a path decoded later by the runner."""
        root = self.root()
        for entry in self.entries(root):
            meta = {k: entry[k] for k in ("tts", "voice") if k in entry}
            yield Sample(
                id=str(entry["id"]),
                audio=root / entry["audio"],
                references=(entry["text"],),
                metadata=meta,
            )


@hookimpl
def register_tasks(register: Callable[..., None]) -> None:
    """Register demo-asr."""
    register(DemoAsr)
