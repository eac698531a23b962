"""A tiny BERSt-shaped parquet dataset with TTS audio, built at test time (never committed).

Same columns and `audio` struct {bytes, path} as the hub's shards. Test clips are festival
speech with sox effects that roughly imitate the placement (reverb and level for distance,
low-pass for bags, pockets and walls) and, for shouted rows, a higher, faster, louder voice.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Any

COLUMNS = ("audio", "user_id", "age", "current_language", "first_language", "gender",
           "phone_model", "audio_id", "affect", "last_modified", "phone_position", "script",
           "shout_level")  # fmt: skip
SHOUT = ("pitch", "250", "tempo", "1.1")
# Placement → sox effects (fixture only: a rough imitation of distance and obstruction).
EFFECTS = {
    "near": (),
    "mid": ("reverb", "30", "gain", "-4"),
    "far": ("reverb", "70", "gain", "-10"),
    "bag": ("lowpass", "1500", "gain", "-4"),
    "pocket": ("lowpass", "2200"),
    "covered": ("lowpass", "1200", "gain", "-6"),
    "wall": ("lowpass", "700", "reverb", "50", "gain", "-8"),
}
# audio_id, script, affect, phone_position, shout_level, effect
TEST_ROWS = [
    ("t01", "The cat sat on the warm mat.", "joy",
     "In hand, close to mouth 1/19", "no-shout", "near"),
    ("t02", "Please bring the red box to the kitchen.", "anger",
     "On a table about 2 m away 5/19", "shout", "mid"),
    ("t03", "We will meet again next week.", "sadness",
     "Across the room 8/19", "no-shout", "far"),
    ("t04", "Turn off the lights before you leave.", "fear",
     "In a backpack on the floor 12/19", "shout", "bag"),
    ("t05", "The green train leaves at noon.", "surprise",
     "In another room, door closed 17/19", "no-shout", "wall"),
    ("t06", "Open the window a little wider.", "neutral",
     "In front pocket 10/19", "n/a", "pocket"),
    ("t07", "My brother plays the piano every day.", "disgust",
     "Under a pillow on the couch 14/19", "shout", "covered"),
    ("t08", "She sells fresh bread at the market.", "joy",
     "Balanced somewhere odd 19/19", "no-shout", "near"),
]  # fmt: skip
# Train prior: joy 3, anger 2, fear 1 → the majority baseline answers "joy".
TRAIN_ROWS = [("r1", "joy"), ("r2", "joy"), ("r3", "anger"), ("r4", "fear"), ("r5", "joy"),
              ("r6", "anger")]  # fmt: skip
VALIDATION_ROWS = [("v1", "neutral"), ("v2", "sadness")]


def speak(text: str, engine: str = "festival", effects: tuple[str, ...] = ()) -> bytes:
    """16 kHz mono 16-bit WAV bytes of `text` (festival or flite), passed through sox effects."""
    with tempfile.TemporaryDirectory() as tmp:
        raw, out = Path(tmp) / "raw.wav", Path(tmp) / "out.wav"
        if engine == "festival":
            subprocess.run(["text2wave", "-o", str(raw)], input=text.encode(), check=True)
        else:
            subprocess.run(["flite", "-voice", "slt", "-t", text, "-o", str(raw)], check=True)
        sox = ["sox", "-D", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out), *effects]
        subprocess.run(sox, check=True)
        return out.read_bytes()


def make_row(audio_id: str, script: str, affect: str, position: str, shout: str,
             audio: bytes, user: str = "u01") -> dict[str, Any]:  # fmt: skip
    """One row with every BERSt column; audio as the hub's struct."""
    return {
        "audio": {"bytes": audio, "path": f"{audio_id}.wav"},
        "user_id": user,
        "age": 30,
        "current_language": "English",
        "first_language": "English",
        "gender": "female",
        "phone_model": "TestPhone 1",
        "audio_id": audio_id,
        "affect": affect,
        "last_modified": "2024-01-01T00:00:00",
        "phone_position": position,
        "script": script,
        "shout_level": shout,
    }


def write_split(root: Path, split: str, rows: list[dict[str, Any]], layout: str = "hub",
                drop: tuple[str, ...] = ()) -> Path:  # fmt: skip
    """Write rows as one shard: data/<split>-00000-of-00001.parquet, or <split>/part-0.parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    audio = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    fields = [(c, audio if c == "audio" else pa.int64() if c == "age" else pa.string())
              for c in COLUMNS if c not in drop]  # fmt: skip
    table = pa.Table.from_pylist(
        [{k: v for k, v in r.items() if k not in drop} for r in rows], schema=pa.schema(fields)
    )
    path = (
        root / "data" / f"{split}-00000-of-00001.parquet"
        if layout == "hub"
        else root / split / "part-0.parquet"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def eval_rows() -> list[dict[str, Any]]:
    """The 8 test-split rows with festival audio, shouts and placement effects applied."""
    rows = []
    for audio_id, script, affect, position, shout, effect in TEST_ROWS:
        effects = (*SHOUT, *EFFECTS[effect]) if shout == "shout" else EFFECTS[effect]
        audio = speak(script, "festival", effects)
        rows.append(make_row(audio_id, script, affect, position, shout, audio))
    return rows


def build(root: Path, layout: str = "hub") -> Path:
    """The whole fixture (train 6, validation 2, test 8 rows) under `root`."""
    short = speak("Hello there.", "flite")  # train/validation audio is never listened to
    for split, rows in (("train", TRAIN_ROWS), ("validation", VALIDATION_ROWS)):
        made = [make_row(i, "Hello there.", a, "On a desk 4/19", "no-shout", short, "u09")
                for i, a in rows]  # fmt: skip
        write_split(root, split, made, layout)
    write_split(root, "test", eval_rows(), layout)
    return root
