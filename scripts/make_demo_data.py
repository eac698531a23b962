"""Build voxeval's bundled English demo sets: demo-asr and demo-dialogue.

demo-asr is 30 short everyday sentences; demo-dialogue is 12 things a person might say to
a voice assistant, each with the emotion its words express and three reference replies.
Both are synthesised with three offline TTS engines (festival, flite and espeak-ng),
converted to 16 kHz mono 16-bit audio with sox and stored as FLAC next to a
``manifest.jsonl`` and a ``README.md``.

The output is DEMO data for exercising the harness end to end; it is not a benchmark.
All texts were written for this project and are released under CC0.

The script is deterministic (same sentences, order, engine and voice assignment every
run) and idempotent (it replaces the FLAC files, manifest and README in the output
folder). It needs the Debian tools ``text2wave`` (festival with the kal diphone voice),
``flite``, ``espeak-ng`` and ``sox`` on PATH.

Usage::

    python scripts/make_demo_data.py [--set asr|dialogue] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

import numpy as np
import soundfile as sf
from demo_texts import DIALOGUE, SENTENCES  # the texts, beside this script

SAMPLE_RATE = 16_000
TASKS_DIR = Path(__file__).resolve().parent.parent / "tasks"
DEFAULT_OUT = TASKS_DIR / "demo_asr" / "data"
REQUIRED_TOOLS = {  # tool on PATH -> Debian package(s) that provide it
    "text2wave": "festival festvox-kallpc16k",
    "flite": "flite",
    "espeak-ng": "espeak-ng",
    "sox": "sox",
}

ENGINES: tuple[str, ...] = ("festival", "flite", "espeak-ng")
FLITE_VOICES: tuple[str, ...] = ("slt", "kal16", "awb", "rms")
# (espeak-ng voice, pitch 0-99, speed in words per minute)
ESPEAK_SETTINGS: tuple[tuple[str, int, int], ...] = (
    ("en-us", 50, 150),
    ("en-gb", 35, 140),
    ("en-us", 75, 165),
    ("en-gb", 60, 175),
    ("en-us", 40, 130),
    ("en-gb", 70, 155),
    ("en-us", 30, 145),
    ("en-gb", 45, 170),
    ("en-us", 65, 180),
    ("en-gb", 55, 135),
)


class ManifestRow(TypedDict, total=False):
    """One line of manifest.jsonl (emotion and references: demo-dialogue only)."""

    id: str
    audio: str
    text: str
    emotion: str
    references: list[str]
    tts: str
    voice: str
    duration_s: float


@dataclass(frozen=True)
class Clip:
    """One demo utterance and how it is synthesised."""

    clip_id: str
    text: str
    tts: str
    voice: str
    args: tuple[str, ...]
    extra: tuple[tuple[str, object], ...] = ()  # more manifest fields (emotion, references)


def build_plan(which: str = "asr") -> list[Clip]:
    """Assign every text an id, an engine (round robin) and a voice."""
    if which == "asr":
        items = [(text, ()) for text in SENTENCES]
        prefix = "demo"
    else:
        items = [
            (text, (("emotion", emotion), ("references", list(replies))))
            for text, emotion, replies in DIALOGUE
        ]
        prefix = "dlg"
    clips: list[Clip] = []
    for index, (text, extra) in enumerate(items):
        tts = ENGINES[index % len(ENGINES)]
        nth = index // len(ENGINES)
        voice, args = _voice_for(tts, nth)
        clips.append(Clip(f"{prefix}-{index + 1:03d}", text, tts, voice, args, extra))
    return clips


def _voice_for(tts: str, nth: int) -> tuple[str, tuple[str, ...]]:
    """Return the manifest voice label and the engine arguments for the nth use of tts."""
    if tts == "festival":
        return "kal_diphone (kal16)", ("-eval", "(voice_kal_diphone)")
    if tts == "flite":
        name = FLITE_VOICES[nth % len(FLITE_VOICES)]
        return name, ("-voice", name)
    lang, pitch, speed = ESPEAK_SETTINGS[nth % len(ESPEAK_SETTINGS)]
    return f"{lang} p{pitch} s{speed}", ("-v", lang, "-p", str(pitch), "-s", str(speed))


def check_tools() -> None:
    """Exit with a clear message if any external tool is missing."""
    missing = [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]
    if missing:
        packages = " ".join(REQUIRED_TOOLS[tool] for tool in missing)
        sys.exit(
            f"make_demo_data: required tool(s) not found on PATH: {', '.join(missing)}\n"
            f"install them, e.g. on Debian: apt-get install {packages}"
        )


def run_tool(cmd: Sequence[str]) -> None:
    """Run an external command; exit with its stderr if it fails."""
    result = subprocess.run(list(cmd), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(
            f"make_demo_data: command failed ({result.returncode}): {' '.join(cmd)}\n"
            f"{result.stderr.strip()}"
        )


def synthesize(clip: Clip, text_file: Path, raw_wav: Path) -> None:
    """Write the engine's native WAV output for clip to raw_wav."""
    if clip.tts == "festival":
        cmd = ["text2wave", *clip.args, "-o", str(raw_wav), str(text_file)]
    elif clip.tts == "flite":
        cmd = ["flite", *clip.args, "-f", str(text_file), "-o", str(raw_wav)]
    else:
        cmd = ["espeak-ng", *clip.args, "-f", str(text_file), "-w", str(raw_wav)]
    run_tool(cmd)


def to_16k_mono(raw_wav: Path, out_wav: Path) -> None:
    """Resample to 16 kHz mono 16-bit with sox (repeatable, no dither)."""
    run_tool(
        [
            "sox",
            "-R",
            "-D",
            str(raw_wav),
            "-r",
            str(SAMPLE_RATE),
            "-c",
            "1",
            "-b",
            "16",
            str(out_wav),
        ]
    )


def write_flac(wav: Path, flac: Path) -> float:
    """Copy a 16 kHz mono WAV into a 16-bit FLAC file; return its duration in seconds."""
    samples, rate = sf.read(wav, dtype="int16")
    if rate != SAMPLE_RATE or samples.ndim != 1 or samples.size == 0:
        sys.exit(
            f"make_demo_data: unexpected audio from sox for {wav} ({rate} Hz, {samples.shape})"
        )
    sf.write(flac, np.ascontiguousarray(samples), SAMPLE_RATE, format="FLAC", subtype="PCM_16")
    info = sf.info(flac)
    return info.frames / info.samplerate


def render_clip(clip: Clip, audio_dir: Path, tmp: Path) -> ManifestRow:
    """Synthesise one clip into audio_dir and return its manifest row."""
    text_file = tmp / f"{clip.clip_id}.txt"
    text_file.write_text(clip.text + "\n", encoding="utf-8")
    raw_wav = tmp / f"{clip.clip_id}.raw.wav"
    wav = tmp / f"{clip.clip_id}.wav"
    synthesize(clip, text_file, raw_wav)
    to_16k_mono(raw_wav, wav)
    duration = write_flac(wav, audio_dir / f"{clip.clip_id}.flac")
    return {
        "id": clip.clip_id,
        "audio": f"audio/{clip.clip_id}.flac",
        "text": clip.text,
        **dict(clip.extra),  # type: ignore[typeddict-item]
        "tts": clip.tts,
        "voice": clip.voice,
        "duration_s": round(duration, 3),
    }


def prepare_audio_dir(out: Path) -> Path:
    """Create out/audio and remove FLAC files left from a previous run."""
    audio_dir = out / "audio"
    audio_dir.mkdir(parents=True, exist_ok=True)
    for old in audio_dir.glob("*.flac"):
        old.unlink()
    return audio_dir


def write_manifest(out: Path, rows: list[ManifestRow]) -> None:
    """Write manifest.jsonl, one JSON object per line."""
    lines = [json.dumps(row, ensure_ascii=False) for row in rows]
    (out / "manifest.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


README_TEXT = """\
# voxeval demo ASR data (English)

This is **demo data**, not a benchmark. It exists so the harness can be run end to end
without downloading anything.

- 30 short everyday English sentences, each synthesised by an offline TTS engine
  (10 festival `kal_diphone`, 10 flite with its built-in voices, 10 espeak-ng with
  varied accent, pitch and speed).
- Audio: `audio/<id>.flac`, 16 kHz, mono, 16-bit FLAC, untrimmed.
- `manifest.jsonl`: one JSON object per line with `id`, `audio` (relative to this
  folder), `text` (the reference transcript: the exact sentence given to the TTS),
  `tts`, `voice` and `duration_s`.

The sentences were written for this project and are released under
[CC0 1.0](https://creativecommons.org/publicdomain/zero/1.0/). The audio is generated
from them by the tools above.

## Regenerating

Needs `festival` (with `festvox-kallpc16k`), `flite`, `espeak-ng` and `sox` on PATH
(Debian: `apt-get install festival festvox-kallpc16k flite espeak-ng sox`), plus
Python with `numpy` and `soundfile`:

```
python scripts/make_demo_data.py            # writes tasks/demo_asr/data/
python scripts/make_demo_data.py --out DIR  # writes elsewhere
```

The script is deterministic and overwrites the audio, manifest and this README.
"""


DIALOGUE_README = """\
# voxeval demo dialogue data (English)

This is **demo data**, not a benchmark. It exists so that the dialogue path (a spoken
prompt, a reply scored against references, and an LLM judge) runs end to end without
downloading anything.

- 12 things a person might say to a voice assistant, each with the emotion its words
  express (`emotion`: happy, sad, angry, fear, surprise or neutral) and three reference
  replies, all written for this project.
- The TTS voices are neutral: the emotion is in the words, not in the voice, so the set
  says nothing about hearing emotion in speech.
- Audio: `audio/<id>.flac`, 16 kHz, mono, 16-bit FLAC (festival, flite and espeak-ng in
  turn).
- `manifest.jsonl`: `id`, `audio` (relative to this folder), `text` (what is said, the
  exact words given to the TTS), `emotion`, `references`, `tts`, `voice`, `duration_s`.

Texts released under [CC0 1.0](https://creativecommons.org/publicdomain/zero/1.0/); the
audio is generated from them by the tools above.

## Regenerating

Needs the same tools as demo-asr (festival with `festvox-kallpc16k`, flite, espeak-ng,
sox), plus Python with `numpy` and `soundfile`:

```
python scripts/make_demo_data.py --set dialogue    # writes tasks/demo_dialogue/data/
```

The script is deterministic and overwrites the audio, manifest and this README.
"""
SETS = {  # --set → (default output folder, README text)
    "asr": (DEFAULT_OUT, README_TEXT),
    "dialogue": (TASKS_DIR / "demo_dialogue" / "data", DIALOGUE_README),
}


def build(out: Path, which: str = "asr") -> list[ManifestRow]:
    """Generate one whole demo set into out and return the manifest rows."""
    check_tools()
    out.mkdir(parents=True, exist_ok=True)
    audio_dir = prepare_audio_dir(out)
    with tempfile.TemporaryDirectory(prefix="voxeval-demo-") as tmp:
        rows = [render_clip(clip, audio_dir, Path(tmp)) for clip in build_plan(which)]
    write_manifest(out, rows)
    (out / "README.md").write_text(SETS[which][1], encoding="utf-8")
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=sorted(SETS), default="asr", help="which demo set")
    parser.add_argument("--out", type=Path, help="output folder (default: the task's data/)")
    args = parser.parse_args(argv)
    args.out = args.out or SETS[args.set][0]
    rows = build(args.out, args.set)
    total = sum(row["duration_s"] for row in rows)
    size = sum(p.stat().st_size for p in (args.out / "audio").glob("*.flac"))
    print(f"wrote {len(rows)} clips ({total:.1f} s, {size / 1e6:.2f} MB) to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
