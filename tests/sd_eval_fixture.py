"""Build a tiny SD-Eval copy (all four subsets, official layout) with espeak-ng speech.

Same schema as the real manifests: a JSON list of {wav_path, transcript, utt_id, target: five
{reply[, reply_emotion]}, info, dataset_name}; audio under audio_data/<wav_path> as wav, flac
or mp3. Prosody (pitch, rate, loudness) and voice stand in for emotion, age and accent;
test-env clips get a synthetic background (noise or hum). Made at test time, never committed.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from voxeval.audio import resample

SR = 16000
SUBSET_NAMES = ("test-emo", "test-acc", "test-age", "test-env")


@dataclass(frozen=True)
class Clip:
    """One fixture utterance and how to speak it."""

    utt_id: str
    wav_path: str
    transcript: str
    info: str
    dataset_name: str
    voice: str = "en-us"
    pitch: int = 50
    speed: int = 165
    amplitude: int = 100
    background: str | None = None  # "noise" or "hum" for test-env
    extra: dict[str, Any] = field(default_factory=dict)


CLIPS: dict[str, tuple[Clip, ...]] = {
    "test-emo": (
        Clip(
            "03-01-04-02-01-01-01",
            "RAVDESS-Speech/Actor_01/03-01-04-02-01-01-01.wav",
            "Kids are talking by the door",
            "sad",
            "RAVDESS-Speech",
            pitch=25,
            speed=115,
            amplitude=60,
        ),
        Clip(
            "female2_angry_5a_1",
            "JL_corpus/female2_angry_5a_1.wav",
            "I told you to close the gate",
            "angry",
            "JL_corpus",
            pitch=70,
            speed=200,
            amplitude=190,
        ),
        Clip(
            "M019_happy_level_3_010",
            "MEAD/MEAD_wav/M019/audio/happy/level_3/010.wav",
            "We won the match last night",
            "happy",
            "MEAD",
            pitch=85,
            speed=185,
        ),
    ),
    "test-acc": (
        Clip(
            "p234_005",
            "VCTK/p234_005.flac",
            "Please call Stella and ask her to bring these things",
            "Scottish",
            "VCTK",
            voice="en-gb-scotland",
        ),
        Clip(
            "common_voice_en_100001",
            "common_voice/common_voice_en_100001.mp3",
            "Where is the nearest train station",
            "United States English",
            "common_voice",
            voice="en-us",
        ),
        Clip(
            "p245_010",
            "VCTK/p245_010.flac",
            "The rainbow is a division of white light",
            "English",
            "VCTK",
            voice="en-gb-x-rp",
        ),
    ),
    "test-age": (
        Clip(
            "myst_002116_LS_1.1_025",
            "myst/myst_002116_LS_1.1_025.flac",
            "The light blue shows the wetlands and the green shows the forests",
            "child",
            "myst",
            pitch=99,
            speed=150,
        ),
        Clip(
            "myst_007077_EE_2.1_009",
            "adult/myst_007077_EE_2.1_009.wav",
            "The bulb lights up when the circuit is closed",
            "adult",
            "synthesized",
            pitch=30,
        ),
        Clip(
            "myst_012201_EE_4.1_002",
            "myst/myst_012201_EE_4.1_002.flac",
            "Magnets stick to the fridge but not to the table",
            "child",
            "myst",
            pitch=95,
            speed=140,
        ),
    ),
    "test-env": (
        Clip(
            "0_0",
            "test-env/0_0.wav",
            "How can I entertain my kids during a long drive",
            "driving",
            "synthesized",
            background="hum",
        ),
        Clip(
            "61_0",
            "test-env/61_0.wav",
            "Should I take the dog for a walk now",
            "raining or thundering",
            "synthesized",
            background="noise",
        ),
        Clip(
            "2300-131720-0011-gym",
            "test-env/2300-131720-0011-gym.wav",
            "How many sets should I do before I rest",
            "sports center",
            "synthesized",
            background="noise",
        ),
    ),
}

REPLY_EMOTIONS = ("sadness", "anger", "neutral", "fear", "joy")


def replies(clip: Clip, subset: str) -> list[dict[str, str]]:
    """Five distinct reference replies in the manifest's {reply[, reply_emotion]} form."""
    topic = clip.transcript.lower()
    texts = [
        f"I hear you. You said {topic}, so let us work out what to do next.",
        f"Thanks for telling me that {topic}. How can I help right now?",
        f"That sounds important. Since {topic}, would you like a suggestion?",
        f"Okay, {topic}. I am here if you want to talk it through.",
        f"Got it: {topic}. Let me know how you feel about it.",
    ]
    out = [{"reply": text} for text in texts]
    if subset == "test-emo":  # only test-emo carries reply emotions
        for item, emotion in zip(out, REPLY_EMOTIONS, strict=True):
            item["reply_emotion"] = emotion
    return out


def entry(clip: Clip, subset: str) -> dict[str, Any]:
    """The manifest entry for one clip."""
    return {
        "wav_path": clip.wav_path,
        "transcript": clip.transcript,
        "utt_id": clip.utt_id,
        "target": replies(clip, subset),
        "info": clip.info,
        "dataset_name": clip.dataset_name,
    }


def speak(clip: Clip) -> np.ndarray:
    """espeak-ng speech at 16 kHz, with the clip's background mixed in."""
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "tts.wav"
        cmd = ["espeak-ng", "-v", clip.voice, "-p", str(clip.pitch), "-s", str(clip.speed)]
        cmd += ["-a", str(clip.amplitude), "-w", str(wav), clip.transcript]
        subprocess.run(cmd, check=True, capture_output=True)
        audio, sr = sf.read(wav, dtype="float32")
    audio = resample(audio, sr, SR)
    if clip.background:
        audio = audio + background(clip.background, len(audio), seed=len(clip.utt_id))
    return np.clip(audio, -1.0, 1.0).astype(np.float32)


def background(kind: str, n: int, seed: int) -> np.ndarray:
    """A quiet synthetic scene: broadband noise (rain, crowd) or a low hum (engine)."""
    if kind == "noise":
        return (0.05 * np.random.default_rng(seed).standard_normal(n)).astype(np.float32)
    t = np.arange(n) / SR
    return (0.08 * np.sin(2 * np.pi * 90 * t)).astype(np.float32)


def write_audio(path: Path, audio: np.ndarray) -> None:
    """Write in the format the extension names (wav as 16-bit PCM, flac, mp3)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subtype = "PCM_16" if path.suffix == ".wav" else None
    sf.write(path, audio, SR, subtype=subtype)


def write_manifest(root: Path, subset: str, entries: list[Any], layout: str = "flat") -> Path:
    """Write <subset>.json at root (flat) or root/data (the GitHub repo's layout)."""
    folder = root / "data" if layout == "data" else root
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{subset}.json"
    path.write_text(json.dumps(entries, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def build_sd_eval(
    root: Path, subsets: tuple[str, ...] = SUBSET_NAMES, layout: str = "flat"
) -> dict[str, list[dict[str, Any]]]:
    """Write manifests and audio_data/ for `subsets` under root; returns the manifests."""
    manifests = {}
    for subset in subsets:
        entries = [entry(clip, subset) for clip in CLIPS[subset]]
        for clip in CLIPS[subset]:
            write_audio(root / "audio_data" / clip.wav_path, speak(clip))
        write_manifest(root, subset, entries, layout)
        manifests[subset] = entries
    return manifests
