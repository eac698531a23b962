"""A tiny EmpatheticDialogues split in the official CSV layout, written at test time.

Three conversations (5, 2 and 4 turns; the 4-turn one is stored out of order), `_comma_`
escapes, an utterance that opens with a double quote, one row whose raw comma adds a field
(repairable) and one truncated row (malformed, skipped).
"""

from __future__ import annotations

from pathlib import Path

HEADER = "conv_id,utterance_idx,context,prompt,speaker_idx,utterance,selfeval,tags"
SELFEVAL = "5|5|5_2|2|5"

# conv_id, emotion, situation, utterances (turn 1 first); commas become _comma_ on disk
CONVERSATIONS = [
    (
        "hit:0_conv:1",
        "sentimental",
        "I remember going to the fireworks with my best friend, it felt like only us.",
        [
            "I remember going to see the fireworks with my best friend, it was our first time.",
            "Was this a friend you were in love with, or just a best friend?",
            "This was a best friend. I miss her.",
            "Where has she gone?",
            "We no longer talk.",
        ],
    ),
    (
        "hit:1_conv:2",
        "afraid",
        "I heard a noise downstairs while I was home alone.",
        [
            "I heard a noise downstairs last night, and I was home alone.",
            "Oh no, that sounds scary! Did you check what it was?",
        ],
    ),
    (
        "hit:2_conv:3",
        "proud",
        "My daughter graduated from college.",
        [
            "My daughter just graduated from college!",
            "Congratulations, that is wonderful news",
            '"Thanks" is all I could say, I cried.',
            "You must be so proud of her.",
        ],
    ),
]
REPAIRED = ("hit:2_conv:3", 2)  # written with a raw comma: one field too many
MALFORMED_LINE = "hit:3_conv:4,1,sad"


def encode(text: str) -> str:
    """Escape commas the way the release does."""
    return text.replace(",", "_comma_")


def csv_lines() -> list[str]:
    """The split's lines: header, rows (conv 3's turns 3 and 4 swapped), a malformed row."""
    lines = [HEADER]
    for conv_id, emotion, situation, turns in CONVERSATIONS:
        rows = []
        for idx, text in enumerate(turns, 1):
            body = text if (conv_id, idx) == REPAIRED else encode(text)
            speaker = 100 + idx % 2  # worker ids, not a 0/1 role
            rows.append(
                f"{conv_id},{idx},{emotion},{encode(situation)},{speaker},{body},{SELFEVAL},"
            )
        if conv_id == "hit:2_conv:3":
            rows[2], rows[3] = rows[3], rows[2]
        lines.extend(rows)
    lines.append(MALFORMED_LINE)
    return lines


def write_split(root: Path, split: str = "test", nested: bool = True) -> Path:
    """Write <root>/empatheticdialogues/<split>.csv (or <root>/<split>.csv); return the file."""
    folder = root / "empatheticdialogues" if nested else root
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{split}.csv"
    path.write_text("\n".join(csv_lines()) + "\n", encoding="utf-8")
    return path


def listener_turns() -> list[tuple[str, int, str, str]]:
    """(sample id, turn, emotion, reference) expected, in order."""
    out = []
    for conv_id, emotion, _, turns in CONVERSATIONS:
        for idx in range(2, len(turns) + 1, 2):
            out.append((f"{conv_id}_{idx}", idx, emotion, turns[idx - 1]))
    return out


def speaker_turn(sample_id: str) -> tuple[str, int, str]:
    """(conv_id, utterance_idx, text) of the speaker turn a listener sample answers."""
    conv_id, _, idx = sample_id.rpartition("_")
    turns = next(t for c, _, _, t in CONVERSATIONS if c == conv_id)
    return conv_id, int(idx) - 1, turns[int(idx) - 2]
