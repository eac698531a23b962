"""EmpatheticDialogues data: the release's CSV (and hub copies) parsed into listener turns.

The release never quotes fields and escapes commas as `_comma_`; rows whose free text held a raw
comma are repaired when exactly one split fits, and turns are grouped by conv_id.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voxeval.errors import DataNotFoundError, VoxevalError
from voxeval.hub import ensure_hub_reachable

TARBALL = "https://dl.fbaipublicfiles.com/parlai/empatheticdialogues/empatheticdialogues.tar.gz"
COLUMNS = ("conv_id", "utterance_idx", "context", "prompt", "speaker_idx", "utterance",
           "selfeval", "tags")  # fmt: skip
HUB_SPLITS = {"train": "train", "valid": "validation", "test": "test"}
EMOTIONS = (
    "afraid", "angry", "annoyed", "anticipating", "anxious", "apprehensive", "ashamed",
    "caring", "confident", "content", "devastated", "disappointed", "disgusted", "embarrassed",
    "excited", "faithful", "furious", "grateful", "guilty", "hopeful", "impressed", "jealous",
    "joyful", "lonely", "nostalgic", "prepared", "proud", "sad", "sentimental", "surprised",
    "terrified", "trusting",
)  # fmt: skip


def decode(text: str) -> str:
    """Undo the release's comma escaping."""
    return text.replace("_comma_", ",")


@dataclass(frozen=True)
class Row:
    """One utterance of the release."""

    conv_id: str
    idx: int
    emotion: str
    utterance: str


@dataclass
class Turn:
    """One listener turn to reply to: the turns before it and the real reply."""

    conv_id: str
    idx: int
    emotion: str
    history: list[Row]
    reference: str


def _is_selfeval(text: str) -> bool:
    return re.fullmatch(r"[\d|_ ]*", text) is not None


def repair(fields: list[str]) -> list[str] | None:
    """Official-order fields of a row whose free text held raw commas; None if ambiguous.

    The release never quotes, so a stray comma splits a field. conv_id, utterance_idx and
    context are fixed on the left; speaker_idx is a number and selfeval looks like "5|5|5_2|2|5"
    (or is empty), which pins prompt, utterance and tags when exactly one split fits.
    """
    n = len(fields)
    if n == len(COLUMNS) - 1:
        return [*fields, ""]  # the trailing empty tags column was dropped
    fits = [
        (i, j)
        for i in range(4, n - 2)
        for j in range(i + 2, n - 1)  # tags (at least one field) follow selfeval
        if fields[i].strip().isdigit() and _is_selfeval(fields[j])
    ]
    if n < len(COLUMNS) or len(fits) != 1:
        return None
    i, j = fits[0]
    prompt, utterance = ",".join(fields[3:i]), ",".join(fields[i + 1 : j])
    return [*fields[:3], prompt, fields[i], utterance, fields[j], ",".join(fields[j + 1 :])]


def _row(record: dict[str, Any]) -> Row | None:
    try:
        idx = int(str(record["utterance_idx"]).strip())
    except ValueError:
        return None
    conv = str(record["conv_id"]).strip()
    emotion = decode(str(record["context"])).strip().lower()
    return Row(conv, idx, emotion, decode(str(record["utterance"])).strip())


def find_split(data_dir: Path, split: str, task: str) -> Path:
    """DIR/empatheticdialogues/<split>.csv or DIR/<split>.csv; a download hint if neither."""
    candidates = [data_dir / "empatheticdialogues" / f"{split}.csv", data_dir / f"{split}.csv"]
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        raise DataNotFoundError(
            f"No {split}.csv for {task}: looked for {' and '.join(map(str, candidates))}. "
            f"Download the official empatheticdialogues.tar.gz from {TARBALL} (the "
            "facebookresearch/EmpatheticDialogues repo), extract it into --data-dir so "
            f"that DIR/empatheticdialogues/{split}.csv exists."
        )
    return path


def read_csv_split(path: Path) -> tuple[list[Row], list[str]]:
    """Rows of one split file in the official layout, plus warnings about repaired/bad rows."""
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        reader = csv.reader(fh, quoting=csv.QUOTE_NONE)  # quotes are literal text here
        header = [h.strip() for h in next(reader, [])]
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise VoxevalError(
                f"{path}: the header lacks column(s) {', '.join(missing)}. Expected the official "
                f"header {','.join(COLUMNS)} (from {TARBALL})."
            )
        official = header[: len(COLUMNS)] == list(COLUMNS)
        rows, repaired, bad = [], [], []
        for fields in reader:
            line = reader.line_num
            if not any(f.strip() for f in fields):
                continue
            if len(fields) != len(header):
                fixed = repair(fields) if official and len(header) == len(COLUMNS) else None
                (repaired if fixed else bad).append(line)
                if fixed is None:
                    continue
                fields = fixed
            row = _row(dict(zip(header, fields, strict=True)))
            if row is None:
                bad.append(line)
            else:
                rows.append(row)
    warnings = []
    if repaired:
        warnings.append(
            f"{path.name}: {len(repaired)} row(s) with extra commas in free text repaired "
            f"(lines {_lines(repaired)})"
        )
    if bad:
        warnings.append(
            f"{path.name}: {len(bad)} malformed row(s) skipped (lines {_lines(bad)}): wrong "
            "field count that no single split explains, or a non-numeric utterance_idx"
        )
    return rows, warnings


def _lines(numbers: list[int]) -> str:
    shown = ", ".join(map(str, numbers[:10]))
    return shown + (f" and {len(numbers) - 10} more" if len(numbers) > 10 else "")


def read_hub_split(hub_id: str, revision: str, split: str) -> tuple[list[Row], str]:
    """Rows of a hub copy with the official columns, and the commit actually read."""
    hint = (
        f"Download the official {TARBALL.rsplit('/')[-1]} from {TARBALL}, extract it and pass "
        "--data-dir (the folder holding empatheticdialogues/), or set --task-args "
        "hub_id=...,revision=... to a parquet copy."
    )
    ensure_hub_reachable(hub_id, "dataset", revision=revision, hint=hint, error=DataNotFoundError)
    try:
        import datasets

        data = datasets.load_dataset(hub_id, revision=revision, split=HUB_SPLITS[split])
    except Exception as exc:  # offline, unknown repo, script refused: all mean "not here"
        raise DataNotFoundError(
            f"Could not load {hub_id}@{revision} ({HUB_SPLITS[split]}) from the Hugging Face "
            f"hub: {type(exc).__name__}: {exc}. {hint}"
        ) from None
    missing = [
        c
        for c in ("conv_id", "utterance_idx", "context", "utterance")
        if c not in data.column_names
    ]
    if missing:
        raise VoxevalError(f"{hub_id}: lacks column(s) {', '.join(missing)}; need {COLUMNS}.")
    rows = [_row(r) for r in data]
    return [r for r in rows if r is not None], _resolve_sha(hub_id, revision)


def _resolve_sha(hub_id: str, revision: str) -> str:
    try:
        from huggingface_hub import HfApi

        return HfApi().dataset_info(hub_id, revision=revision).sha or revision
    except Exception:  # offline mirror: the ref name is the best identity we have
        return revision


def listener_turns(rows: list[Row]) -> tuple[list[Turn], list[str]]:
    """Group by conv_id (file order), sort by utterance_idx, one Turn per even index."""
    convs: dict[str, dict[int, Row]] = {}
    dupes, unknown, gaps = 0, set(), 0
    for row in rows:
        conv = convs.setdefault(row.conv_id, {})
        if row.idx in conv:
            dupes += 1
            continue
        conv[row.idx] = row
    turns = []
    for conv_id, by_idx in convs.items():
        ordered = [by_idx[i] for i in sorted(by_idx)]
        for row in ordered:
            if row.idx % 2 or row.idx < 2:
                continue
            if row.emotion not in EMOTIONS:
                unknown.add(row.emotion)
                continue
            if row.idx - 1 not in by_idx:
                gaps += 1  # the speaker turn being answered is missing
                continue
            history = [r for r in ordered if r.idx < row.idx]
            turns.append(Turn(conv_id, row.idx, row.emotion, history, row.utterance))
    warnings = []
    if dupes:
        warnings.append(f"{dupes} repeated (conv_id, utterance_idx) row(s) ignored")
    if gaps:
        warnings.append(f"{gaps} listener turn(s) skipped: the speaker turn before is missing")
    if unknown:
        warnings.append(f"turns with unknown emotion label(s) skipped: {sorted(unknown)}")
    return turns, warnings
