"""Stream one task's pending samples through an adapter, writing each record as it finishes."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from typing import Any, TypeVar

from voxeval.adapter import Adapter, TaskContext
from voxeval.audio import load_audio
from voxeval.checkpoint import SamplesFile
from voxeval.errors import SampleError, VoxevalError
from voxeval.secrets import scrub
from voxeval.types import ModelInput, Response, Sample

T = TypeVar("T")
Decoded = tuple[Sample, "ModelInput | SampleError"]
# Decoding runs in background threads (libsndfile and scipy release the GIL), so it
# overlaps inference and, on several cores, runs in parallel; order is preserved.
DECODE_WORKERS = max(1, min(4, os.cpu_count() or 1))
# Samples decoded per background job: large enough that thread hand-offs (and GIL
# convoys) stay rare when the model is fast, small enough to bound memory.
DECODE_CHUNK = 32


def prepare(
    sample: Sample, sampling_rate: int | None, prompt: str | None, decode: bool = True
) -> ModelInput:
    """Decode a sample's audio into the adapter's input; SampleError on bad audio."""
    audio, sr = (None, None)
    if decode and sample.audio is not None:
        audio, sr = load_audio(sample.audio, sampling_rate)
    return ModelInput(
        sample.id, audio, sr, text=sample.text, prompt=prompt, transcript=sample.transcript
    )


def decoded_batches(
    samples: Iterable[Sample], batch_size: int, decode: Callable[[Sample], ModelInput]
) -> Iterator[list[Decoded]]:
    """Yield batches of (sample, input-or-error), decoding in a background thread ahead."""

    def decode_batch(batch: list[Sample]) -> list[Decoded]:
        out: list[Decoded] = []
        for sample in batch:
            try:
                out.append((sample, decode(sample)))
            except SampleError as exc:
                out.append((sample, exc))
        return out

    chunk_size = max(batch_size, DECODE_CHUNK)
    with ThreadPoolExecutor(DECODE_WORKERS, thread_name_prefix="voxeval-decode") as pool:
        pending = []
        for chunk in _chunks(samples, chunk_size):
            pending.append(pool.submit(decode_batch, chunk))
            if len(pending) > DECODE_WORKERS + 1:
                yield from _chunks(pending.pop(0).result(), batch_size)
        for future in pending:
            yield from _chunks(future.result(), batch_size)


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def base_record(sample: Sample, task_name: str) -> dict[str, Any]:
    """The record fields that come from the sample itself."""
    return {
        "sample_id": sample.id,
        "task": task_name,
        "references": list(sample.references),
        "labels": sample.labels,
        "metadata": sample.metadata,
    }


def run_task_inference(
    adapter: Adapter,
    samples: Iterable[Sample],
    context: TaskContext,
    checkpoint: SamplesFile,
    prompt: str | None = None,
    on_done: Callable[[int], None] | None = None,
) -> None:
    """Run every sample through the adapter, appending one record per finished sample."""
    warmed = False
    for batch in decoded_batches(
        samples,
        adapter.batch_size,
        lambda s: prepare(s, adapter.sampling_rate, prompt, adapter.needs_audio),
    ):
        ready = [(s, x) for s, x in batch if isinstance(x, ModelInput)]
        for sample, error in ((s, x) for s, x in batch if isinstance(x, SampleError)):
            record = base_record(sample, context.name)
            record.update(prediction={}, audio_s=0.0, model_s=0.0, usage=None)
            record["error"] = {"kind": error.kind, "message": str(error)}
            checkpoint.append(record)
        if on_done and len(ready) < len(batch):
            on_done(len(batch) - len(ready))
        if ready and not warmed:
            adapter.warmup(ready[0][1], context)
            warmed = True
        if ready:
            _run_ready(adapter, ready, context, checkpoint, on_done)


class _SaveFailed(VoxevalError):
    """Writing a record failed: fatal, never mistaken for a model failure to retry."""


def _run_ready(
    adapter: Adapter,
    ready: list[tuple[Sample, ModelInput]],
    context: TaskContext,
    checkpoint: SamplesFile,
    on_done: Callable[[int], None] | None = None,
) -> None:
    """Stream a batch through the adapter, saving each answer the moment it arrives.

    If the adapter raises, the inputs it has not answered are retried one by one so that
    only the culprit fails; answers already saved are never asked for again.
    """
    start, saved = time.perf_counter(), set()
    first_emit: list[float] = []

    def emit(index: int, response: Response) -> None:
        if not isinstance(index, int) or not 0 <= index < len(ready) or index in saved:
            raise VoxevalError(
                f"Adapter {adapter.name!r} emitted index {index!r} for a batch of {len(ready)} "
                "(each input exactly once, by its position)."
            )
        if not isinstance(response, Response):
            raise VoxevalError(
                f"Adapter {adapter.name!r} emitted a {type(response).__name__}, not a Response."
            )
        if not first_emit:  # answers of a list-returning predict arrive together at its end
            first_emit.append((time.perf_counter() - start) / len(ready))
        record = _record(*ready[index], context, response, first_emit[0])
        try:
            checkpoint.append(record)
        except Exception as exc:
            raise _SaveFailed(f"Cannot save a result to {checkpoint.path}: {exc}") from exc
        saved.add(index)
        if on_done:
            on_done(1)

    try:
        adapter.predict_stream([x for _, x in ready], context, emit)
    except VoxevalError:
        raise
    except Exception as exc:
        missing = [ready[i] for i in range(len(ready)) if i not in saved]
        if len(ready) == 1:
            if not saved:  # an adapter that raised after answering keeps its answer
                message = scrub(f"{type(exc).__name__}: {exc}")
                emit(0, Response(error=message, latency_s=time.perf_counter() - start))
            return
        for item in missing:
            _run_ready(adapter, [item], context, checkpoint, on_done)
        return
    if len(saved) != len(ready):
        raise VoxevalError(
            f"Adapter {adapter.name!r} answered {len(saved)} of {len(ready)} inputs; "
            "predict_stream must emit one response per input."
        )


def _record(
    sample: Sample, item: ModelInput, context: TaskContext, response: Response, share: float
) -> dict[str, Any]:
    record = base_record(sample, context.name)
    record["prediction"] = response.prediction()
    record["audio_s"] = round(item.duration_s, 6)
    record["model_s"] = response.latency_s if response.latency_s is not None else share
    record["usage"] = asdict(response.usage) if response.usage else None
    error = scrub(response.error) if response.error else None
    record["error"] = {"kind": "adapter", "message": error} if error else None
    return record
