"""Tiny EmoNet-Voice and A/D/V data sets built at test time (espeak-ng prosody variants)."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from voxeval.tasks.emonet_voice import EMOTIONS

# (pitch 0-99, speed in words per minute, amplitude 0-200): one prosody variant per clip.
VARIANTS = [(15, 110, 60), (50, 175, 100), (90, 250, 190), (35, 140, 150), (70, 210, 80)]
SENTENCES = [
    "I cannot believe you did that again.",
    "What a lovely surprise this is.",
    "Please leave me alone for a while.",
    "We finally made it to the top.",
    "I am so tired of waiting here.",
]
CLIPS = [f"clip-{c}" for c in "abcde"]


def _all_forty(rater: int) -> dict[str, int]:
    """Every emotion rated, intensities varying with the emotion and the rater."""
    return {name: (i * (rater + 2)) % 3 for i, name in enumerate(EMOTIONS)}


# Rater lists per clip: multiple raters, URL-encoded names, aliases, one attribute rating.
LABELS: dict[str, list[dict[str, dict[str, int]]]] = {
    "clip-a": [{"human-1": _all_forty(1)}, {"human-2": _all_forty(2)}],
    "clip-b": [
        {"human-1": {"Impatience%20and%20Irritability": 2}},
        {"human-3": {"Impatience%20and%20Irritability": 1}},
    ],
    "clip-c": [
        {"human-2": {"Surprise": 0}},
        {"human-4": {"Astonishment%2FSurprise": 1}},
        {"human-5": {"Fatigue": 2}},
    ],
    "clip-d": [
        {"human-1": {"Jealousy & Envy": 2, "Sadness": 1}, "human-2": {"jealousy_and_envy": 2}}
    ],
    "clip-e": [{"human-1": {"Arousal": 2}}, {"human-2": {"Shame": 1}}],
}
# The references the task must derive (mean over raters of 0/5/10), by hand.
EXPECTED: dict[str, dict[str, float]] = {
    "clip-a": {e: (5.0 * _all_forty(1)[e] + 5.0 * _all_forty(2)[e]) / 2 for e in EMOTIONS},
    "clip-b": {"Impatience and Irritability": 7.5},
    "clip-c": {"Astonishment/Surprise": 2.5, "Fatigue/Exhaustion": 10.0},
    "clip-d": {"Jealousy & Envy": 10.0, "Sadness": 5.0},
    "clip-e": {"Shame": 5.0},
}


def espeak_clip(path: Path, text: str, pitch: int, speed: int, amplitude: int) -> Path:
    """Synthesize `text` with espeak-ng at the given pitch, speed and amplitude (22.05 kHz WAV)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    args = ["-p", str(pitch), "-s", str(speed), "-a", str(amplitude), "-w", str(path), text]
    subprocess.run(["espeak-ng", *args], check=True, capture_output=True)
    return path


def make_clips(folder: Path, n: int = len(CLIPS)) -> list[Path]:
    """The first n prosody-variant clips as folder/<clip>.wav."""
    return [
        espeak_clip(folder / f"{CLIPS[i]}.wav", SENTENCES[i % 5], *VARIANTS[i % 5])
        for i in range(n)
    ]


def copy_clips(source: Path, audio_dir: Path, names: dict[str, str] | None = None) -> None:
    """Copy generated clips into a data set's audio folder (optionally renamed)."""
    audio_dir.mkdir(parents=True, exist_ok=True)
    for wav in sorted(source.glob("*.wav")):
        shutil.copy(wav, audio_dir / (names or {}).get(wav.stem, wav.name))


def emonet_rows(labels: dict[str, Any] | None = None) -> list[dict[str, str]]:
    """Table rows: audioId = "<clip>.wav", label = the Python repr of the rater list."""
    labels = LABELS if labels is None else labels
    return [
        {"audioId": f"{clip}.wav", "label": v if isinstance(v, str) else repr(v)}
        for clip, v in labels.items()
    ]


def write_emonet(
    root: Path, clips: Path, fmt: str = "csv", rows: list[dict[str, Any]] | None = None
) -> Path:
    """An EmoNet-Voice folder: labels.<fmt> (csv, jsonl, parquet) plus audio/."""
    rows = emonet_rows() if rows is None else rows
    copy_clips(clips, root / "audio")
    path = root / f"labels.{fmt}"
    if fmt == "csv":
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    elif fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), path)
    return root


def write_emonet_embedded(root: Path, clips: Path, kind: str = "parquet") -> Path:
    """Audio embedded as {bytes, path}: a hub-snapshot parquet shard or a save_to_disk folder."""
    rows = emonet_rows()
    for row in rows:
        row["audioId"] = {"bytes": (clips / row["audioId"]).read_bytes(), "path": row["audioId"]}
    if kind == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        (root / "data").mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows), root / "data" / "train-00000-of-00001.parquet")
        return root
    from datasets import Audio, Dataset, Features, Value

    features = Features({"audioId": Audio(decode=False), "label": Value("string")})
    Dataset.from_list(rows, features=features).save_to_disk(str(root))
    return root


# A/D/V rows: (file, arousal, dominance, valence, split, gender), values on 1-7 (MSP).
ADV_ROWS = [
    ("clip-a.wav", 5.2, 4.8, 2.0, "Test1", "Female"),
    ("clip-b.wav", 3.0, 3.4, 5.6, "Test1", "Male"),
    ("clip-c.wav", 6.4, 5.0, 3.2, "Test1", "Female"),
    ("clip-d.wav", 2.2, 2.6, 6.0, "Test1", "Male"),
    ("clip-e.wav", 4.0, 4.2, 4.4, "Test1", "Female"),
    ("train-1.wav", 4.0, 4.0, 4.0, "Train", "Male"),
    ("train-2.wav", 5.5, 3.0, 2.5, "Train", "Female"),
    ("dev-1.wav", 1.0, 7.0, 4.0, "Development", "Male"),
    ("test2-1.wav", 3.3, 3.3, 3.3, "Test2", "Female"),
]


def write_adv(root: Path, clips: Path, schema: str = "msp", rows: list | None = None) -> Path:
    """An A/D/V folder: MSP-Podcast layout (1-7) or the simple one (values mapped to 0-1)."""
    rows = ADV_ROWS if rows is None else rows
    msp = schema == "msp"
    header = (
        ["FileName", "EmoAct", "EmoDom", "EmoVal", "Split_Set", "Gender"]
        if msp
        else ["file", "arousal", "dominance", "valence", "split", "gender"]
    )
    path = root / ("Labels/labels_consensus.csv" if msp else "labels.csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for file, a, d, v, split, gender in rows:
            values = [a, d, v] if msp else [round((x - 1) / 6, 6) for x in (a, d, v)]
            writer.writerow([file, *values, split.lower() if not msp else split, gender])
    copy_clips(clips, root / ("Audios" if msp else "audio"))
    return root
