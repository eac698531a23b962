"""Builders for small on-disk datasets in the demo-asr layout."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import soundfile as sf

from tests.conftest import DEMO_DATA


def run_folders(model_dir: Path) -> list[Path]:
    """The run folders in a model's output folder (hidden lock files left out)."""
    return sorted(p.parent for p in Path(model_dir).glob("*/run.json"))


def copy_demo(dest: Path, n: int | None = None) -> Path:
    """Copy the first n demo clips and their manifest lines into `dest`."""
    lines = (DEMO_DATA / "manifest.jsonl").read_text().splitlines()[:n]
    (dest / "audio").mkdir(parents=True, exist_ok=True)
    for line in lines:
        entry = json.loads(line)
        shutil.copy(DEMO_DATA / entry["audio"], dest / entry["audio"])
    (dest / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    return dest


def add_clip(root: Path, clip_id: str, text: str, audio_name: str) -> None:
    """Append a manifest entry pointing at audio/<audio_name> (file written by the caller)."""
    entry = {"id": clip_id, "audio": f"audio/{audio_name}", "text": text, "tts": "test"}
    with (root / "manifest.jsonl").open("a") as fh:
        fh.write(json.dumps(entry) + "\n")


def sine(seconds: float, sr: int, channels: int = 1, freq: float = 440.0) -> np.ndarray:
    """A sine tone, (frames,) or (frames, channels)."""
    t = np.arange(int(seconds * sr)) / sr
    wave = 0.3 * np.sin(2 * np.pi * freq * t).astype(np.float32)
    return wave if channels == 1 else np.stack([wave] * channels, axis=1)


def write_wav(path: Path, data: np.ndarray, sr: int) -> None:
    """Write a 16-bit WAV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, data, sr, subtype="PCM_16")
