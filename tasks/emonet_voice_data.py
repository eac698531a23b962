"""EmoNet-Voice Bench data: label cells parsed to ratings, and the bench read from disk or the hub.

`label` holds a Python-literal list of `{rater: {emotion: intensity}}` with intensity 0 (absent),
1 (mild) or 2 (intense); names may be URL-encoded or a part of a compound name ("Surprise" for
"Astonishment/Surprise"). Arousal/Authenticity/Valence ratings are not among the 40 emotions:
left out and counted in the dataset warnings.

Local layout (--data-dir, or its `emonet-voice-bench/` sub-folder), first match wins:
  labels.parquet | labels.jsonl | labels.csv with columns audioId (a file name under audio/
      or the folder itself) and label, plus any scalar metadata columns;
  *.parquet or data/*.parquet of a hub snapshot (audioId embedded as {bytes, path});
  a `datasets.save_to_disk` folder.
Embedded audio is written once to a cache folder (Options.audio_cache) so samples stay paths.
Without --data-dir the hub copy is read through `datasets` at Options.revision.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import json
import os
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from pydantic import Field

from voxeval.errors import DataNotFoundError, VoxevalError
from voxeval.hub import ensure_hub_reachable
from voxeval.task import DatasetInfo, TaskOptions, hash_files

HUB_ID = "t1a5anu-anon/emonet-voice-bench"
AUDIO, LABEL = "audioId", "label"
TABLES = ("labels.parquet", "labels.jsonl", "labels.csv")
DISK_MARKERS = ("dataset_dict.json", "state.json", "dataset_info.json")
EMOTIONS: tuple[str, ...] = (
    "Amusement", "Elation", "Pleasure/Ecstasy", "Contentment", "Thankfulness/Gratitude",
    "Affection", "Infatuation", "Hope/Enthusiasm/Optimism", "Triumph", "Pride", "Interest",
    "Awe", "Astonishment/Surprise", "Concentration", "Contemplation", "Relief", "Longing",
    "Teasing", "Impatience and Irritability", "Sexual Lust", "Doubt", "Fear", "Distress",
    "Confusion", "Embarrassment", "Shame", "Disappointment", "Sadness", "Bitterness",
    "Contempt", "Disgust", "Anger", "Malevolence/Malice", "Sourness", "Pain", "Helplessness",
    "Fatigue/Exhaustion", "Emotional Numbness", "Intoxication/Altered States of Consciousness",
    "Jealousy & Envy",
)  # fmt: skip
# Rated in the release but not emotions of the 40-name taxonomy: skipped and counted.
ATTRIBUTES = frozenset({"arousal", "authenticity", "valence"})
INTENSITY_TO_SCALE = {0: 0.0, 1: 5.0, 2: 10.0}


def _norm(name: str) -> str:
    text = urllib.parse.unquote_plus(str(name)).lower().replace("&", " and ")
    return " ".join(re.sub(r"[_\-]", " ", text).split())


def _aliases() -> dict[str, str]:
    """Normalised spellings → canonical name: the full name and each part of a compound."""
    out: dict[str, str] = {}
    for name in EMOTIONS:
        out[_norm(name)] = name
        for part in re.split(r"/| and ", _norm(name)):
            out.setdefault(part.strip(), name)
    return out


ALIASES = _aliases()


def canonical_emotion(name: Any) -> str | None:
    """The canonical emotion for a (possibly URL-encoded or partial) name; None if unknown."""
    return ALIASES.get(_norm(name)) if isinstance(name, str) else None


class LabelError(ValueError):
    """A label cell that cannot be read (counted per row, or fatal with bad_labels=error)."""


def parse_label(raw: Any, where: str) -> tuple[dict[str, list[int]], int]:
    """({emotion: [intensity per rater]}, skipped attribute ratings) from one `label` cell.

    Never `eval`: the cell is parsed with ast.literal_eval. An unknown emotion name is a
    VoxevalError naming `where`; an unreadable or empty cell raises LabelError.
    """
    try:
        raters = ast.literal_eval(raw) if isinstance(raw, str) else raw
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise LabelError("not a Python literal") from None
    raters = [raters] if isinstance(raters, dict) else raters
    if not isinstance(raters, (list, tuple)) or not raters:
        raise LabelError("empty rater list" if raters == [] else "not a list of raters")
    ratings: dict[str, list[int]] = {}
    skipped = 0
    for entry in raters:
        for rater, scores in entry.items() if isinstance(entry, dict) else [(entry, None)]:
            if not isinstance(scores, dict):
                raise LabelError(f"rater {rater!r} has no {{emotion: intensity}} mapping")
            for name, value in scores.items():
                number = isinstance(value, (int, float)) and not isinstance(value, bool)
                if not number or value not in INTENSITY_TO_SCALE:
                    raise LabelError(f"intensity {value!r} for {name!r} is not 0, 1 or 2")
                emotion = canonical_emotion(name)
                if emotion is None and _norm(name) in ATTRIBUTES:
                    skipped += 1
                elif emotion is None:
                    raise VoxevalError(
                        f"{where}: unknown emotion {name!r}. EmoNet-Voice uses the 40 names "
                        f"{', '.join(EMOTIONS)}; fix the label or map the name to one of them."
                    )
                else:
                    ratings.setdefault(emotion, []).append(int(value))
    return ratings, skipped


def reference_scores(ratings: dict[str, list[int]]) -> dict[str, float]:
    """Mean over raters of 0/1/2 mapped to 0/5/10, per rated emotion (canonical order)."""
    return {
        e: sum(INTENSITY_TO_SCALE[i] for i in ratings[e]) / len(ratings[e])
        for e in EMOTIONS
        if ratings.get(e)
    }


@dataclass
class Clip:
    """One clip with the ratings of every row that names it (duplicate rows are pooled)."""

    id: str
    audio: Path
    ratings: dict[str, list[int]] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)


class EmoNetOptions(TaskOptions):
    """--task-args of both EmoNet-Voice tasks."""

    revision: str = Field("main", description="hub revision, used only without --data-dir")
    bad_labels: Literal["skip", "error"] = Field(
        "skip", description="unreadable label cells: skip and count them, or stop"
    )
    audio_cache: str | None = Field(
        None, description="where embedded audio is written; default ~/.cache/voxeval"
    )
    # Scoring protocol (see emonet_voice_scoring); the defaults are voxeval's first protocol,
    # which the paper's text neither confirms nor rules out (docs/protocols.md).
    aggregate: Literal["pooled", "per_emotion"] = Field(
        "pooled",
        description="pooled: each metric over all (clip, emotion) rows; per_emotion: each "
        "metric within each emotion, then the unweighted mean over emotions",
    )
    agreement: Literal["all", "present", "unanimous"] = Field(
        "all",
        description="rated rows to score: all; present: every rater rated the emotion 1 or 2; "
        "unanimous: every rater gave the same intensity",
    )
    min_raters: int = Field(1, ge=1, description="score only rows with at least this many raters")


def load(data_dir: Path | None, options: EmoNetOptions) -> tuple[list[Clip], DatasetInfo]:
    """Clips and the dataset identity: the hub copy without data_dir, else the local folder.

    Hub: id + revision. Local: a hash over the label table (its bytes; names and sizes when
    it embeds the audio) and the audio file names and sizes.
    """
    if data_dir is None:
        return _load_hub(options)
    root = _root(data_dir)
    tables = _tables(root)
    rows = _table_rows(tables) if tables else _dataset_rows(_load_disk(root), root.name)
    cache = _cache_dir(options, str(root.resolve()))
    clips, warnings = _collect(rows, root, cache, options)
    # Label tables are hashed by content unless they embed the audio (hub parquet shards).
    small = bool(tables) and sum(p.stat().st_size for p in tables) < 64 << 20
    files = {str(p.relative_to(root)): p for p in tables or root.rglob("*") if p.is_file()}
    audio = {f"{c.id}{c.audio.suffix}": c.audio for c in clips if c.audio.is_file()}
    parts = hash_files(files, contents=small) + hash_files(audio, contents=False)
    what = "label table bytes" if small else "data file names and sizes"
    return clips, DatasetInfo(
        id=HUB_ID,
        split="train",
        content_hash=hashlib.sha256(parts.encode()).hexdigest(),
        hash_method=f"sha256({what} + audio file names and sizes)",
        source=str(root),
        warnings=tuple(warnings),
    )


def _root(data_dir: Path) -> Path:
    """The folder holding the label table or save_to_disk files (or its emonet-voice-bench/)."""
    for candidate in (data_dir / "emonet-voice-bench", data_dir):
        disk = any((candidate / marker).is_file() for marker in DISK_MARKERS)
        if candidate.is_dir() and (disk or _tables(candidate)):
            return candidate
    raise DataNotFoundError(
        f"No EmoNet-Voice data in {data_dir} (or {data_dir / 'emonet-voice-bench'}). Put there "
        f"{' | '.join(TABLES)} with columns {AUDIO} (file name under audio/) and {LABEL} (the "
        f"rater list) plus the audio/ folder, a hub snapshot's parquet files (huggingface-cli "
        f"download {HUB_ID} --repo-type dataset --local-dir DIR) or a datasets.save_to_disk folder."
    )


def _tables(root: Path) -> list[Path]:
    """labels.* (first found), else a hub snapshot's parquet shards."""
    for name in TABLES:
        if (root / name).is_file():
            return [root / name]
    return sorted(root.glob("*.parquet")) or sorted(root.glob("data/*.parquet"))


def _check_columns(where: str, names: Any) -> None:
    """A clear error naming the file when audioId or label is missing."""
    missing = [c for c in (AUDIO, LABEL) if c not in names]
    if missing:
        raise VoxevalError(
            f"{where}: missing column(s) {', '.join(missing)} (found: {', '.join(map(str, names))}"
            f"). EmoNet-Voice needs {AUDIO} (audio file name or embedded audio) and {LABEL}."
        )


def _table_rows(paths: list[Path]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, row) from parquet (in batches: embedded audio can be large), JSONL or CSV."""
    for path in paths:
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            table = pq.ParquetFile(path)
            _check_columns(str(path), table.schema_arrow.names)
            rows = (r for batch in table.iter_batches(batch_size=64) for r in batch.to_pylist())
            yield from ((f"{path} row {n}", r) for n, r in enumerate(rows, 1))
        elif path.suffix == ".jsonl":
            lines = path.read_text(encoding="utf-8").splitlines()
            for lineno, line in ((n, x) for n, x in enumerate(lines, 1) if x.strip()):
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise VoxevalError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from None
                _check_columns(f"{path}:{lineno}", row)
                yield f"{path}:{lineno}", row
        else:
            with path.open(newline="", encoding="utf-8") as fh:
                reader = csv.DictReader(fh)
                _check_columns(str(path), reader.fieldnames or [])
                yield from ((f"{path}:{reader.line_num}", row) for row in reader)


def _load_disk(root: Path) -> Any:
    """The save_to_disk dataset (its train split, else its first, for a DatasetDict)."""
    from datasets import DatasetDict, load_from_disk

    data = load_from_disk(str(root))
    return (
        data["train" if "train" in data else next(iter(data))]
        if isinstance(data, DatasetDict)
        else data
    )


def _dataset_rows(data: Any, name: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, row) from a `datasets.Dataset`, audio left undecoded ({bytes, path})."""
    from datasets import Audio

    _check_columns(name, data.column_names)
    if isinstance(data.features[AUDIO], Audio):
        data = data.cast_column(AUDIO, Audio(decode=False))
    yield from ((f"{name} row {n}", row) for n, row in enumerate(data, 1))


def _load_hub(options: EmoNetOptions) -> tuple[list[Clip], DatasetInfo]:
    """The hub copy at options.revision (needs network; recorded as given: pin a commit sha)."""
    hint = (
        f"Download it (huggingface-cli download {HUB_ID} --repo-type dataset --local-dir DIR) "
        "and pass --data-dir DIR."
    )
    ensure_hub_reachable(
        HUB_ID, "dataset", revision=options.revision, hint=hint, error=DataNotFoundError
    )
    try:
        from datasets import load_dataset

        data = load_dataset(HUB_ID, split="train", revision=options.revision)
    except Exception as exc:
        raise DataNotFoundError(
            f"Could not read {HUB_ID} (revision {options.revision}) from the Hugging Face hub "
            f"({type(exc).__name__}: {exc}). {hint}"
        ) from None
    cache = _cache_dir(options, f"{HUB_ID}@{options.revision}")
    clips, warnings = _collect(_dataset_rows(data, HUB_ID), Path("."), cache, options)
    source = f"hf://datasets/{HUB_ID}"
    info = DatasetInfo(HUB_ID, "train", options.revision, source=source, warnings=tuple(warnings))
    return clips, info


def _cache_dir(options: EmoNetOptions, key: str) -> Path:
    """Where embedded audio goes: Options.audio_cache, else one folder per data source."""
    if options.audio_cache:
        return Path(options.audio_cache)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "voxeval" / "emonet-voice-bench" / hashlib.sha1(key.encode()).hexdigest()[:12]


def _audio(value: Any, root: Path, cache: Path, n: int, where: str) -> tuple[str, Path]:
    """(clip id, audio path): a file name under audio/ (or root), or embedded bytes cached."""
    if isinstance(value, dict) and value.get("bytes"):
        name = PurePosixPath(str(value.get("path") or f"row-{n:05d}.wav")).name
        target = cache / name
        if not (target.is_file() and target.stat().st_size == len(value["bytes"])):
            cache.mkdir(parents=True, exist_ok=True)
            target.write_bytes(value["bytes"])
        return PurePosixPath(name).stem, target
    rel = str((value.get("path") if isinstance(value, dict) else value) or "")
    if not rel:
        raise VoxevalError(f"{where}: empty {AUDIO}; every row needs its audio file name.")
    path = next(
        (p for p in (root / "audio" / rel, root / rel) if p.is_file()), root / "audio" / rel
    )
    return str(PurePosixPath(rel).with_suffix("")), path


def _collect(
    rows: Iterator[tuple[str, dict[str, Any]]], root: Path, cache: Path, options: EmoNetOptions
) -> tuple[list[Clip], list[str]]:
    """Clips with pooled ratings, and warnings for left-out rows and ratings."""
    clips: dict[str, Clip] = {}
    bad: list[str] = []
    skipped = pooled = 0
    for n, (where, row) in enumerate(rows, 1):
        try:
            ratings, skip = parse_label(row.get(LABEL), where)
        except LabelError as exc:
            if options.bad_labels == "error":
                raise VoxevalError(
                    f"{where}: unreadable {LABEL} ({exc}). Fix the row, or pass --task-args "
                    "bad_labels=skip to leave such rows out and count them."
                ) from None
            bad.append(f"{where}: {exc}")
            continue
        clip_id, audio = _audio(row.get(AUDIO), root, cache, n, where)
        pooled += clip_id in clips
        meta = {
            k: v
            for k, v in row.items()
            if k not in (AUDIO, LABEL) and isinstance(v, (str, int, float))
        }
        clip = clips.setdefault(clip_id, Clip(clip_id, audio, metadata=meta))
        for emotion, values in ratings.items():
            clip.ratings.setdefault(emotion, []).extend(values)
        skipped += skip
    kept = [c for c in clips.values() if c.ratings]
    empty = len(clips) - len(kept)
    warnings = []
    if bad:
        more = f"; and {len(bad) - 5} more" if len(bad) > 5 else ""
        warnings.append(
            f"{len(bad)} row(s) with unreadable labels left out: {'; '.join(bad[:5])}{more}"
        )
    if skipped:
        warnings.append(
            f"{skipped} rating(s) of {'/'.join(sorted(ATTRIBUTES))} (not among the 40 emotions) "
            f"left out" + (f"; {empty} clip(s) with no other rating not evaluated" if empty else "")
        )
    if pooled:
        warnings.append(f"{pooled} row(s) repeat an earlier clip's {AUDIO}; ratings pooled")
    if not kept:
        raise VoxevalError(
            f"No usable EmoNet-Voice rows in {root}: {'; '.join(warnings) or 'empty'}."
        )
    return kept, warnings
