"""An example third-party voxeval plugin: the `example-counter` ASR adapter.

It loads no model. Each answer is derived from the audio alone (one "the" per second of
audio), so results are deterministic, and every model call can be appended to a log file,
which makes it a precise counter of model calls, even across processes (crash and resume).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar

from voxeval.adapter import Adapter, AdapterArgs, TaskContext
from voxeval.hookspecs import hookimpl
from voxeval.types import ModelInput, Response, TaskKind


class CounterArgs(AdapterArgs):
    """`--model-args` of example-counter (unknown keys are rejected by voxeval)."""

    calls_log: str | None = None  # append one sample id per model call to this file
    delay_s: float = 0.0  # pretend each call takes this long


class CounterAdapter(Adapter):
    """Answers "the the ..." (one word per second of audio) and logs each call."""

    name: ClassVar[str] = "example-counter"
    description: ClassVar[str] = "example plugin: deterministic dummy ASR that counts its calls"
    supports: ClassVar[frozenset[TaskKind]] = frozenset({"asr"})
    sampling_rate: ClassVar[int | None] = 16000
    Args: ClassVar[type[AdapterArgs]] = CounterArgs
    args: CounterArgs

    def model_info(self) -> dict[str, Any]:
        """Identity recorded in run.json."""
        return {"model_name": "example-counter", "revision": "0.1.0"}

    def predict(self, batch: list[ModelInput], task: TaskContext) -> list[Response]:
        """One Response per input, in order."""
        return [self._predict_one(item) for item in batch]

    def _predict_one(self, item: ModelInput) -> Response:
        if self.args.delay_s > 0:
            time.sleep(self.args.delay_s)
        if self.args.calls_log:
            # Append mode + one short write per call: lines from several processes never mix.
            with open(self.args.calls_log, "a", encoding="utf-8") as fh:
                fh.write(item.sample_id + "\n")
                fh.flush()
        words = max(1, round(item.duration_s))
        return Response(text=" ".join(["the"] * words))


@hookimpl
def register_adapters(register: Callable[..., None]) -> None:
    """Register example-counter with voxeval."""
    register(CounterAdapter)
