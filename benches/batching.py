"""Batching gain of the transformers adapters: batch_size 1 vs 16 on randomly initialised models
of real checkpoints' shapes, on the CPU (or --device cuda).

Two models, each built offline in a temp folder, each fed the bundled demo TTS clips (cycled
to --clips) through its adapter's predict():
  whisper  hf-asr on a Whisper with whisper-tiny.en's shape: d_model 384, 4+4 layers, 6 heads,
           FFN 1536, 51,864-token vocabulary (filler tokens pad a small trained BPE): 37.6 M
           parameters, as the real checkpoint
  chat     hf-audio-chat on a small Qwen2-Audio-style audio LLM: a whisper-tiny-shaped audio
           encoder (128 mel bins) and a Qwen2 decoder with SmolLM2-135M's dimensions (hidden
           576, 30 layers, 9 heads, 3 KV heads, FFN 1536, 49,152 tokens, tied embeddings),
           answering a spoken-dialogue prompt, as SD-Eval and empathetic-response tasks do

Equal work: greedy decoding with min_new_tokens = max_new_tokens (--tokens), so every input
generates exactly that many tokens whatever the random weights prefer (counted, and checked).
Each setting is timed best of --repeats, settings alternating so that both see the same
background load, after a warm-up. The time is split into a fixed part (the same predict() with
one new token: features, audio encoder, prompt prefill, one step) and the rest (decoding).

Target: speed-up >= 3x. On a 2-core CPU the audio encoder is compute-bound: it costs the same
per clip at any batch size (Whisper always encodes a full 30 s window), so batching gains
only where decoding dominates: memory-bound steps that read every weight once per step,
whatever the batch. Timings on a shared machine are noisy: the load average is printed.

    .venv/bin/python benches/batching.py [--models whisper,chat] [--batch 16] [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("VOXEVAL_PLUGINS", "")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # for tests.tiny_models

import soundfile as sf  # noqa: E402

from tests.tiny_models import build_qwen2_audio, build_whisper  # noqa: E402
from voxeval.adapter import TaskContext  # noqa: E402
from voxeval.adapters.hf_asr import HFAsrAdapter  # noqa: E402
from voxeval.adapters.hf_chat import HFAudioChatAdapter  # noqa: E402
from voxeval.adapters.hf_common import HFAdapter  # noqa: E402
from voxeval.types import ModelInput  # noqa: E402

DEMO = REPO / "tasks" / "demo_asr" / "data" / "audio"
TINY = {"d_model": 384, "encoder_layers": 4, "encoder_attention_heads": 6, "encoder_ffn_dim": 1536}
SMOLLM2_135M = {
    "hidden_size": 576,
    "intermediate_size": 1536,
    "num_hidden_layers": 30,
    "num_attention_heads": 9,
    "num_key_value_heads": 3,
    "tie_word_embeddings": True,
    "initializer_range": 0.02,
}
DIALOGUE_PROMPT = "Listen to the speaker and reply to them briefly and kindly."


@dataclass
class Spec:
    """One model of the bench: how to build it, which adapter runs it, the default workload."""

    title: str
    build: Callable[[Path], Path]
    adapter: type[HFAdapter]
    kind: str
    clips: int
    tokens: int
    prompt: str | None = None


SPECS = {
    "whisper": Spec(
        "hf-asr, random Whisper of whisper-tiny.en's shape",
        lambda out: build_whisper(
            out, d_model=384, layers=4, heads=6, ffn=1536, init_std=0.02, vocab_size=51864
        ),
        HFAsrAdapter,
        "asr",
        clips=32,
        tokens=32,
    ),
    "chat": Spec(
        "hf-audio-chat, random Qwen2-Audio-style LLM (whisper-tiny encoder, SmolLM2-135M decoder)",
        lambda out: build_qwen2_audio(
            out, audio=TINY | {"init_std": 0.02}, text=SMOLLM2_135M, vocab_size=49152
        ),
        HFAudioChatAdapter,
        "dialogue",
        clips=16,
        tokens=64,
        prompt=DIALOGUE_PROMPT,
    ),
}


def clips(n: int, prompt: str | None) -> list[ModelInput]:
    """The demo clips, cycled to n inputs."""
    files = sorted(DEMO.glob("*.flac"))
    audio = [sf.read(f, dtype="float32")[0] for f in files]
    return [ModelInput(f"c{i}", audio[i % len(audio)], 16000, prompt=prompt) for i in range(n)]


class TokenCounter:
    """Wraps GenerationMixin.generate to record how many tokens each input generated."""

    def __init__(self) -> None:
        from transformers.generation.utils import GenerationMixin

        self.lengths: list[int] = []
        self.model: Any = None
        original = GenerationMixin.generate

        def counting(model: Any, *args: Any, **kwargs: Any) -> Any:
            out = original(model, *args, **kwargs)
            if model is self.model:
                sequences = getattr(out, "sequences", out)
                prompt = kwargs.get("decoder_input_ids", kwargs.get("input_ids"))
                new = sequences.shape[-1] - prompt.shape[-1]
                self.lengths.extend([int(new)] * int(sequences.shape[0]))
            return out

        # Whisper's generate() calls GenerationMixin.generate once per decoding pass: count there.
        GenerationMixin.generate = counting  # type: ignore[method-assign]


def set_tokens(adapter: HFAdapter, tokens: int) -> None:
    """Make every input generate exactly `tokens` new tokens (no early end of sequence)."""
    adapter.generation_config.max_new_tokens = tokens
    adapter.generation_config.min_new_tokens = tokens


def time_run(adapter: HFAdapter, items: list[ModelInput], batch_size: int, kind: str) -> float:
    """Seconds to run every item through predict() in batches of batch_size."""
    task = TaskContext(name="bench", kind=kind)
    start = time.perf_counter()
    for i in range(0, len(items), batch_size):
        out = adapter.predict(items[i : i + batch_size], task)
        assert len(out) == len(items[i : i + batch_size])
    return time.perf_counter() - start


def measure(spec: Spec, args: argparse.Namespace, counter: TokenCounter) -> dict[str, Any]:
    """Build one model, time batch 1 and --batch (full and one-token runs), best of N."""
    n_clips, tokens = args.clips or spec.clips, args.tokens or spec.tokens
    items = clips(n_clips, spec.prompt)
    sizes = (1, args.batch)
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = spec.build(Path(tmp) / "model")
        adapter = spec.adapter.from_args(
            {"model": str(model_dir), "batch_size": args.batch, "device": args.device}
        )
        adapter.load()
        counter.model = adapter.model
        for size in sizes:
            set_tokens(adapter, tokens)
            time_run(adapter, items[:size], size, spec.kind)  # warm-up
        counter.lengths.clear()
        load_before = os.getloadavg()[0]
        totals: dict[int, list[float]] = {size: [] for size in sizes}
        fixed: dict[int, list[float]] = {size: [] for size in sizes}
        for _ in range(args.repeats):
            for size in sizes:
                set_tokens(adapter, tokens)
                totals[size].append(time_run(adapter, items, size, spec.kind))
                set_tokens(adapter, 1)
                fixed[size].append(time_run(adapter, items, size, spec.kind))
        decoded = sorted(set(counter.lengths))
        assert decoded == [1, tokens], f"unequal generation lengths: {decoded}"
        info = adapter.model_info()
        adapter.close()
    return {
        "spec": spec,
        "clips": n_clips,
        "tokens": tokens,
        "audio_s": sum(x.duration_s for x in items),
        "info": info,
        "load": (load_before, os.getloadavg()[0]),
        "times": {size: (min(totals[size]), min(fixed[size])) for size in sizes},
    }


def report(result: dict[str, Any], batch: int) -> None:
    """Print one model's figures."""
    info, (before, after) = result["info"], result["load"]
    print(
        f"{result['spec'].title}: {info['parameters'] / 1e6:.1f} M parameters, "
        f"{result['clips']} demo clips ({result['audio_s']:.0f} s audio), greedy, exactly "
        f"{result['tokens']} new tokens per clip, on {info['device']}; "
        f"1-min load average {before:.1f} before, {after:.1f} after"
    )
    for size, (total, fixed) in result["times"].items():
        print(
            f"  batch_size={size:<3} {result['clips'] / total:6.2f} clips/s  total {total:7.2f} s"
            f"  = fixed part {fixed:6.2f} s + decoding {total - fixed:7.2f} s"
        )
    (t1, f1), (tb, fb) = result["times"][1], result["times"][batch]
    verdict = "met" if t1 / tb >= 3 else "missed"
    print(f"  speed-up batch {batch} vs 1: {t1 / tb:.2f}x  (target >= 3x: {verdict})")
    print(
        f"  of which decoding {(t1 - f1) / max(tb - fb, 1e-9):.2f}x, fixed part "
        f"(features, encoder, prefill, first step) {f1 / fb:.2f}x; ceiling were decoding "
        f"free: {t1 / fb:.2f}x"
    )


def main() -> None:
    """Time each chosen model at batch 1 and --batch and print the speed-ups."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="whisper,chat", help="comma-separated: whisper,chat")
    parser.add_argument("--clips", type=int, default=0, help="0: the model's default")
    parser.add_argument("--tokens", type=int, default=0, help="0: the model's default")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    args = parser.parse_args()
    unknown = set(args.models.split(",")) - set(SPECS)
    if unknown:
        parser.error(f"unknown model(s) {sorted(unknown)}; choose from {sorted(SPECS)}")

    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # generate()'s per-call notes
    hf_logging.disable_progress_bar()
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs; "
        f"best of {args.repeats}, settings alternated"
    )
    counter = TokenCounter()
    for name in args.models.split(","):
        report(measure(SPECS[name], args, counter), args.batch)


if __name__ == "__main__":
    main()
