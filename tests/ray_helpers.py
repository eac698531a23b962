"""Adapters for the Ray executor's tests; importable by Ray workers (PYTHONPATH = the repo).

Answers depend only on the input, so a run on any number of workers must save exactly the
records of a one-process run. `die_at` makes the worker process exit (as a killed or
pre-empted node would) the first time it meets that sample; a marker file makes it once.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import ClassVar

from pydantic import Field

from voxeval.adapter import Adapter, AdapterArgs, TaskContext
from voxeval.types import ModelInput, Response, TaskKind


class EchoArgs(AdapterArgs):
    """Options of the deterministic test adapter."""

    flavour: str = Field("a", description="changes the answers: two models, two flavours")
    seconds_per_clip: float = Field(0.0, ge=0, description="CPU-bound work per clip")
    die_at: str = Field("", description="sample id at which the worker process exits once")
    marker: str = Field("", description="file that records the death happened")
    calls_log: str = Field("", description="file each answered sample id is appended to")


class DeterministicAdapter(Adapter):
    """Answers with a hash of the clip's samples and the flavour; optionally burns CPU."""

    name: ClassVar[str] = "deterministic"
    description: ClassVar[str] = "test adapter for the Ray executor"
    supports: ClassVar[frozenset[TaskKind]] = frozenset({"asr", "dialogue"})
    Args: ClassVar[type[AdapterArgs]] = EchoArgs
    speed_args: ClassVar[frozenset[str]] = frozenset(
        {"batch_size", "seconds_per_clip", "die_at", "marker", "calls_log"}
    )
    args: EchoArgs

    def predict(self, batch: list[ModelInput], task: TaskContext) -> list[Response]:
        """One answer per clip; the process exits once at `die_at`."""
        out = []
        for item in batch:
            if item.sample_id == self.args.die_at and not Path(self.args.marker).exists():
                Path(self.args.marker).write_text(str(os.getpid()))
                os._exit(1)  # like a killed node: no cleanup, no exception
            _spin(self.args.seconds_per_clip)
            digest = hashlib.sha256(item.audio.tobytes() if item.audio is not None else b"")
            out.append(Response(text=f"{self.args.flavour} {digest.hexdigest()[:8]} words"))
            if self.args.calls_log:
                with open(self.args.calls_log, "a") as fh:
                    fh.write(item.sample_id + "\n")
        return out


def _spin(seconds: float) -> None:
    """Busy CPU for `seconds` (a model's arithmetic: it holds the core, unlike sleep)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        sum(range(1000))
