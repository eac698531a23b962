"""hf-audio-chat on every audio-LLM family: time per clip, batched vs one by one, same answers.

Each family's tiny random model is built offline (tests/tiny_audio_llms/, real processor and
tokenizer classes) and fed the bundled demo clips through the adapter's predict(), first one
clip per call, then --batch clips per call, best of --repeats after a warm-up. Greedy answers
of the two settings must be identical; the table says whether they are.

Tiny models time the processor and the adapter's own path (features, chat template, padding,
generate's loop), not a real model's arithmetic: for that, --device cuda on a GPU machine.

    .venv/bin/python benches/audio_llm_families.py [--families a,b] [--clips 8] [--batch 8]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("VOXEVAL_PLUGINS", "")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # for tests.tiny_audio_llms

import soundfile as sf  # noqa: E402

from tests.test_audio_llm_families import FAMILIES  # noqa: E402
from voxeval.adapter import TaskContext  # noqa: E402
from voxeval.adapters.hf_chat import HFAudioChatAdapter  # noqa: E402
from voxeval.types import ModelInput  # noqa: E402

DEMO = REPO / "tasks" / "demo_asr" / "data" / "audio"
TASK = TaskContext(name="demo-dialogue", kind="dialogue")


def clips(n: int) -> list[ModelInput]:
    """The first n demo clips as chat inputs."""
    files = sorted(DEMO.glob("*.flac"))[:n]
    return [
        ModelInput(f.stem, sf.read(f, dtype="float32")[0], 16000, prompt="Reply briefly.")
        for f in files
    ]


def timed(model: HFAudioChatAdapter, items: list[ModelInput], batch: int) -> tuple[float, list]:
    """Seconds for all items at `batch` per predict call, and the answers."""
    start = time.perf_counter()
    answers = []
    for i in range(0, len(items), batch):
        answers += [r.text for r in model.predict(items[i : i + batch], TASK)]
    return time.perf_counter() - start, answers


def bench(family: str, folder: Path, args: argparse.Namespace) -> str:
    """One table row: ms per clip at batch 1 and at --batch, and whether answers agree."""
    model = HFAudioChatAdapter.from_args(
        {"model": str(folder), "device": args.device, "max_new_tokens": args.tokens}
    )
    model.load()
    items = clips(args.clips)
    model.predict(items[:2], TASK)  # warm-up
    best: dict[int, float] = {}
    answers: dict[int, list] = {}
    for _ in range(args.repeats):
        for batch in (1, args.batch):
            seconds, answers[batch] = timed(model, items, batch)
            best[batch] = min(best.get(batch, seconds), seconds)
    same = "yes" if answers[1] == answers[args.batch] else "NO"
    one, many = (1000 * best[b] / len(items) for b in (1, args.batch))
    info = model.model_info()
    model.close()
    return (
        f"| {family} | {info['parameters']:,} | {one:.0f} | {many:.0f} | {one / many:.2f}x "
        f"| {same} |"
    )


def main() -> None:
    """Build each family, time it, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    print(f"{args.clips} demo clips, {args.tokens} new tokens at most, device {args.device}")
    print(f"| family | parameters | ms/clip, batch 1 | ms/clip, batch {args.batch} | gain | same |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for family in args.families.split(","):
            try:
                folder = FAMILIES[family](Path(tmp) / family)
                print(bench(family, folder, args), flush=True)
            except Exception as exc:  # one family's failure must not hide the others' rows
                print(f"| {family} | failed: {type(exc).__name__}: {exc} | | | | |", flush=True)


if __name__ == "__main__":
    main()
