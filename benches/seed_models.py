"""Time per clip of the seed papers' models at their full released sizes, random weights, CPU.

  eiv-small  Empathic Insight Voice Small: a Whisper-small-shaped encoder (d_model 768, 12
             layers, 12 heads, FFN 3072, 30-s window of 1500 frames) + 40 emotion heads of
             LAION's FullEmbeddingMLP (1500·768 → 64 → 64 → 32 → 16 → 1: 73.7 M parameters,
             0.29 GB each in float32), as emonet-voice loads them
  eiv-large  the same encoder + 40 Large heads (→ 128 → 128 → 64 → 32 → 1: 147.5 M each)
  wav2small  the released Wav2Small (13 channels, 26 mel bands, ~16 K parameters)

The EIV adapters run their real predict() path (features, one encoder pass per clip, all
heads stacked into one bank over the batch); only the weights are random and built in
memory instead of read from files. The heads are memory-bound: one batch reads every head
weight once, so their cost per clip falls with the batch size, while the encoder's does not.
Heads that do not fit in --max-gb are not all built: the bank holds as many as fit and its
time is scaled to 40 heads (linear in the number of heads), which the table marks.
One run each, after a one-clip warm-up; a shared machine is noisy (load average printed).

    .venv/bin/python benches/seed_models.py [--models eiv-small,eiv-large,wav2small]
        [--clips 8] [--max-gb 12]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("VOXEVAL_PLUGINS", "")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # for tests.seed_replicas

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402

from voxeval.adapter import TaskContext  # noqa: E402
from voxeval.adapters.empathic_insight import EmpathicInsightVoiceAdapter, _Plan  # noqa: E402
from voxeval.adapters.seed_heads import HeadSpec, build_bank  # noqa: E402
from voxeval.types import ModelInput  # noqa: E402

DEMO = REPO / "tasks" / "demo_asr" / "data" / "audio"
WHISPER_SMALL = {
    "d_model": 768,
    "encoder_layers": 12,
    "encoder_attention_heads": 12,
    "encoder_ffn_dim": 3072,
    "num_mel_bins": 80,
    "max_source_positions": 1500,
}
HEADS = {"eiv-small": (64, (64, 32, 16)), "eiv-large": (128, (128, 64, 32))}
N_EMOTIONS = 40


def demo_clips(n: int) -> list[ModelInput]:
    """The bundled demo clips (16 kHz), cycled to n inputs."""
    paths = sorted(DEMO.glob("*.flac"))
    audio = [sf.read(p, dtype="float32")[0] for p in paths]
    return [ModelInput(f"c{i}", audio[i % len(audio)], 16000) for i in range(n)]


def random_head(spec: HeadSpec) -> dict[str, Any]:
    """A head's state dict with random values (built only while copied into the bank)."""
    import torch

    sizes = [(spec.proj, spec.in_dim), *spec.layers]
    names = ["proj", *(f"mlp.{2 + 3 * i}" for i in range(len(spec.layers)))]
    state = {}
    for name, (out, inp) in zip(names, sizes, strict=True):
        state[f"{name}.weight"] = torch.empty(out, inp).uniform_(-1, 1).mul_(inp**-0.5)
        state[f"{name}.bias"] = torch.zeros(out)
    return state


def eiv_adapter(variant: str, max_gb: float) -> tuple[EmpathicInsightVoiceAdapter, int, str]:
    """The adapter with a random full-size encoder and as many heads as fit in max_gb."""
    import torch
    from transformers import WhisperConfig, WhisperFeatureExtractor
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    from voxeval.tasks.emonet_voice_data import EMOTIONS

    adapter = EmpathicInsightVoiceAdapter.from_args({"model": variant, "encoder": "random"})
    adapter.device, adapter.dtype = torch.device("cpu"), torch.float32
    adapter.extractor = WhisperFeatureExtractor()
    adapter.encoder = WhisperEncoder(WhisperConfig(**WHISPER_SMALL)).eval()
    proj, hidden = HEADS[variant]
    layers = tuple(zip((*hidden, 1), (proj, *hidden), strict=True))
    spec = HeadSpec(1500 * 768, proj, layers)
    fit = max(1, min(N_EMOTIONS, int(max_gb * 2**30 // (4 * spec.parameters))))
    names = list(EMOTIONS[:fit])
    entries = [(n, spec, "flatten", lambda: random_head(spec)) for n in names]
    bank = build_bank(entries, torch.float32, torch.device("cpu"))
    mapping = {n: n for n in names}
    ranges = {n: (0.0, 4.0) for n in names}
    task = TaskContext(name="emonet-voice", kind="emotion_intensity", labels=names)
    adapter.plans[(task.kind, *names)] = _Plan(mapping, bank, ranges, {}, (0.0, 10.0))
    return adapter, fit, f"{spec.parameters / 1e6:.1f} M/head"


def time_eiv(variant: str, clips: int, max_gb: float) -> dict[str, Any]:
    """Seconds per clip at batch `clips` and at batch 1, split into encoder and heads."""
    adapter, fit, per_head = eiv_adapter(variant, max_gb)
    names = next(iter(adapter.plans.values())).bank.names
    task = TaskContext(name="emonet-voice", kind="emotion_intensity", labels=names)
    spent = {"encoder": 0.0}
    embed = adapter.embed

    def timed_embed(audio: list[Any]) -> Any:
        start = time.perf_counter()
        out = embed(audio)
        spent["encoder"] += time.perf_counter() - start
        return out

    adapter.embed = timed_embed  # type: ignore[method-assign]
    batch = demo_clips(clips)
    adapter.predict(batch[:1], task)  # warm-up
    rows = {}
    for size in (clips, 1):
        spent["encoder"] = 0.0
        start = time.perf_counter()
        adapter.predict(batch[:size], task)
        total = time.perf_counter() - start
        heads = (total - spent["encoder"]) * N_EMOTIONS / fit  # scaled to 40 heads
        rows[size] = (spent["encoder"] + heads) / size, spent["encoder"] / size, heads
    encoder = sum(p.numel() for p in adapter.encoder.parameters())
    head_params = N_EMOTIONS * next(iter(adapter.plans.values())).bank.parameters // fit
    del adapter.embed  # the timing wrapper closes a cycle; drop it so the heads are freed now
    adapter.close()
    return {"rows": rows, "fit": fit, "params": encoder + head_params, "per_head": per_head}


def time_wav2small(clips: int, folder: Path) -> dict[str, Any]:
    """Seconds per clip of the released-size Wav2Small, one clip per pass."""
    from tests.seed_replicas import build_wav2small
    from voxeval.adapters.wav2small import Wav2SmallAdapter

    adapter = Wav2SmallAdapter.from_args({"model": str(build_wav2small(folder))})
    adapter.load()
    task = TaskContext(name="adv-regression", kind="regression")
    batch = demo_clips(clips)
    adapter.predict(batch[:1], task)
    start = time.perf_counter()
    adapter.predict(batch, task)
    seconds = (time.perf_counter() - start) / clips
    audio_s = np.mean([len(x.audio) / 16000 for x in batch])
    return {"seconds": seconds, "audio_s": audio_s, "params": adapter.model_info()["parameters"]}


def main() -> None:
    """Time the chosen models and print one table."""
    import tempfile

    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="eiv-small,eiv-large,wav2small")
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--max-gb", type=float, default=12.0)
    opts = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load {os.getloadavg()}")
    print("| model | parameters | heads built | batch | s/clip | encoder s/clip | heads s/batch |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for model in opts.models.split(","):
        if model == "wav2small":
            with tempfile.TemporaryDirectory() as tmp:
                r = time_wav2small(opts.clips, Path(tmp))
            note = f"{r['audio_s']:.1f}-s clips, RTF {r['seconds'] / r['audio_s']:.3f}"
            print(f"| wav2small | {r['params']:,} | — | 1 | {r['seconds']:.3f} | ({note}) | — |")
            continue
        r = time_eiv(model, opts.clips, opts.max_gb)
        gc.collect()  # free one model's heads (up to --max-gb) before the next is built
        built = f"{r['fit']} of 40" + (" (heads ×40/fit)" if r["fit"] < N_EMOTIONS else "")
        for size, (per_clip, encoder, heads) in r["rows"].items():
            print(
                f"| {model} | {r['params'] / 1e9:.2f} B ({r['per_head']}) | {built} | {size} "
                f"| {per_clip:.2f} | {encoder:.2f} | {heads:.2f} |"
            )


if __name__ == "__main__":
    main()
