"""EmpatheticDialogues (Rashkin et al., 2019): reply as an empathetic listener, name the emotion.

One sample per listener turn (utterance_idx 2, 4, ...): the turns before it are the context and
the listener's real utterance is the reference. `empathetic-dialogues` gives the context as a
tagged transcript; `empathetic-dialogues-spoken` gives the speaker's last turn as audio (supplied
WAVs or TTS on request, cached on disk) and the earlier turns as text.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, field_validator

from voxeval.errors import DataNotFoundError, VoxevalError
from voxeval.hookspecs import hookimpl
from voxeval.task import DatasetInfo, MetricSpec, Task, hash_files
from voxeval.types import Sample, TaskKind

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
# Other words for the 32 labels that a model may use; each maps to exactly one label.
SYNONYMS = {
    "fear": "afraid", "scared": "afraid", "frightened": "afraid", "fearful": "afraid",
    "anger": "angry", "mad": "angry", "annoyance": "annoyed", "irritated": "annoyed",
    "frustrated": "annoyed", "anticipation": "anticipating", "looking forward": "anticipating",
    "eager": "anticipating", "anxiety": "anxious", "worried": "anxious", "nervous": "anxious",
    "apprehension": "apprehensive", "uneasy": "apprehensive", "shame": "ashamed",
    "care": "caring", "compassionate": "caring", "compassion": "caring",
    "confidence": "confident", "contentment": "content", "satisfied": "content",
    "devastation": "devastated", "heartbroken": "devastated", "crushed": "devastated",
    "disappointment": "disappointed", "disgust": "disgusted", "grossed": "disgusted",
    "embarrassment": "embarrassed", "excitement": "excited", "faith": "faithful",
    "loyal": "faithful", "fury": "furious", "enraged": "furious", "livid": "furious",
    "gratitude": "grateful", "thankful": "grateful", "guilt": "guilty", "hope": "hopeful",
    "optimistic": "hopeful", "jealousy": "jealous", "envious": "jealous", "envy": "jealous",
    "joy": "joyful", "happy": "joyful", "happiness": "joyful", "loneliness": "lonely",
    "nostalgia": "nostalgic", "ready": "prepared", "preparedness": "prepared",
    "pride": "proud", "sadness": "sad", "unhappy": "sad", "sorrow": "sad",
    "sentiment": "sentimental", "surprise": "surprised", "shocked": "surprised",
    "terror": "terrified", "horrified": "terrified", "trust": "trusting",
}  # fmt: skip


def decode(text: str) -> str:
    """Undo the release's comma escaping."""
    return text.replace("_comma_", ",")


# ---------------------------------------------------------------- loading


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
    try:
        import datasets

        data = datasets.load_dataset(hub_id, revision=revision, split=HUB_SPLITS[split])
    except Exception as exc:  # offline, unknown repo, script refused: all mean "not here"
        raise DataNotFoundError(
            f"Could not load {hub_id}@{revision} ({HUB_SPLITS[split]}) from the Hugging Face "
            f"hub: {type(exc).__name__}: {exc}. Download the official {TARBALL.rsplit('/')[-1]} "
            f"from {TARBALL}, extract it and pass --data-dir (the folder holding "
            "empatheticdialogues/), or set --task-args hub_id=...,revision=... to a parquet copy."
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


def transcript(rows: list[Row]) -> str:
    """The turns as lines tagged Speaker (odd utterance_idx) or Listener (even)."""
    return "\n".join(f"{'Listener' if r.idx % 2 == 0 else 'Speaker'}: {r.utterance}" for r in rows)


# ---------------------------------------------------------------- answers

_EMOTION_LINE = re.compile(
    r"^[\s*_#>`-]*(?:the\s+)?(?:speaker'?s\s+)?emotion(?:\s+label)?[\s*_`]*[:=\u2013\u2014-]\s*"
    r"(?P<value>.*)$",
    re.IGNORECASE,
)
_INLINE_REPLY = re.compile(r"\b(?:reply|response)[\s*_`]*:", re.IGNORECASE)
_REPLY_PREFIX = re.compile(r"^[\s*_#>`-]*(?:reply|response|listener)[\s*_`]*:[\s*_`]*", re.I)


def match_emotion(value: str) -> str | None:
    """The first of the 32 labels (or a synonym) named in `value`; None if there is none."""
    words = re.findall(r"[a-z]+", decode(value).lower())
    for i, word in enumerate(words):
        if i and words[i - 1] in {"not", "no", "never"}:
            continue
        pair = " ".join(words[i : i + 2])
        for candidate in (pair, word):
            if candidate in EMOTIONS:
                return candidate
            if candidate in SYNONYMS:
                return SYNONYMS[candidate]
    return None


def parse_answer(answer: str | None) -> tuple[str | None, str]:
    """(emotion or None, reply): an `Emotion: <label>` line anywhere, the rest is the reply."""
    text = decode(answer or "")
    lines = text.splitlines()
    for i, line in enumerate(lines):
        found = _EMOTION_LINE.match(line)
        if not found:
            continue
        value, inline = found["value"], []
        split = _INLINE_REPLY.search(value)
        if split:  # "Emotion: sad  Reply: ..." on one line
            value, inline = value[: split.start()], [value[split.end() :]]
        reply = "\n".join([*lines[:i], *inline, *lines[i + 1 :]]).strip()
        return match_emotion(value), _REPLY_PREFIX.sub("", reply, count=1).strip()
    return None, text.strip()


# ---------------------------------------------------------------- TTS

TTS_DEFAULT_VOICES = {"espeak-ng": "en-us", "flite": "slt", "festival": "kal_diphone"}
_TTS_PROGRAMS = {"espeak-ng": "espeak-ng", "flite": "flite", "festival": "text2wave"}
_TTS_VERSION_COMMANDS = {
    "espeak-ng": ["espeak-ng", "--version"],
    "flite": ["flite", "--version"],
    "festival": ["festival", "--version"],
}


def run_tts(command: list[str]) -> None:
    """Run one synthesis command (the single place speech is made; tests count the calls)."""
    subprocess.run(command, check=True, capture_output=True, timeout=120)


@dataclass
class TtsCache:
    """WAVs on disk keyed by engine, engine version, voice and text; reused across runs."""

    engine: str
    voice: str
    root: Path
    version: str = field(init=False)

    def __post_init__(self) -> None:
        program = _TTS_PROGRAMS[self.engine]
        if shutil.which(program) is None:
            raise VoxevalError(
                f"tts={self.engine} needs the `{program}` program; install it (Debian: "
                f"apt-get install {self.engine})."
            )
        if not re.fullmatch(r"[A-Za-z0-9_+\-]+", self.voice):
            raise VoxevalError(f"tts_voice={self.voice!r}: use a plain voice name, e.g. en-us.")
        if self.engine == "flite":  # flite falls back to another voice without a word
            listed = subprocess.run(["flite", "-lv"], capture_output=True, text=True).stdout
            if self.voice not in listed.split():
                raise VoxevalError(f"tts_voice={self.voice!r} is not a flite voice: {listed}")
        out = subprocess.run(_TTS_VERSION_COMMANDS[self.engine], capture_output=True, text=True)
        found = re.search(r"\d+\.\d+(?:\.\d+)?", out.stdout + out.stderr)
        self.version = found.group(0) if found else "unknown"

    @property
    def identity(self) -> str:
        """Engine, version and voice: recorded with the dataset identity."""
        return f"{self.engine} {self.version} voice {self.voice}"

    def path(self, text: str) -> Path:
        """Where the audio of `text` is (or will be) cached."""
        key = json.dumps([self.engine, self.version, self.voice, text])
        return self.root / self.engine / f"{hashlib.sha256(key.encode()).hexdigest()}.wav"

    def ensure(self, texts: list[str]) -> dict[str, Path]:
        """Synthesise every text not yet cached (in parallel: each call is a subprocess)."""
        paths = {text: self.path(text) for text in dict.fromkeys(texts)}
        todo = [text for text, path in paths.items() if not path.is_file()]
        if todo:
            (self.root / self.engine).mkdir(parents=True, exist_ok=True)
            with ThreadPoolExecutor(max(1, min(8, os.cpu_count() or 1))) as pool:
                list(pool.map(lambda t: self._synthesise(t, paths[t]), todo))
        return paths

    def _synthesise(self, text: str, target: Path) -> None:
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            text_file, wav = Path(tmp) / "text.txt", Path(tmp) / "out.wav"
            if self.engine != "espeak-ng":  # flite and festival read Latin text only
                text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
            text_file.write_text(text + "\n", encoding="utf-8")
            try:
                run_tts(self._command(text_file, wav))
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
                raise VoxevalError(f"tts={self.engine} failed on {text[:60]!r}: {exc}") from None
            if not wav.is_file() or wav.stat().st_size == 0:  # e.g. festival, unknown voice
                raise VoxevalError(
                    f"tts={self.engine} (voice {self.voice}) made no audio for {text[:60]!r}; "
                    "check tts_voice."
                )
            os.replace(wav, target)  # atomic: a crash never leaves half a cached file

    def _command(self, text_file: Path, wav: Path) -> list[str]:
        if self.engine == "espeak-ng":
            return ["espeak-ng", "-v", self.voice, "-w", str(wav), "-f", str(text_file)]
        if self.engine == "flite":
            return ["flite", "-voice", self.voice, "-f", str(text_file), "-o", str(wav)]
        return ["text2wave", "-eval", f"(voice_{self.voice})", "-o", str(wav), str(text_file)]


# ---------------------------------------------------------------- tasks

_FORMAT = (
    "Also decide which feeling the Speaker is expressing, choosing exactly one of these "
    f"labels: {', '.join(EMOTIONS)}.\n"
    "Answer in exactly two lines:\nEmotion: <one label from the list>\n"
    "Reply: <your message to the Speaker>"
)
PROMPT_TEXT = (
    "Here is a conversation in which a Speaker tells a Listener about something that happened "
    "to them. You are the Listener: write your next message to the Speaker, one to three "
    "natural sentences that respond to what they said and show you understand how they "
    "feel.\n" + _FORMAT
)
PROMPT_SPOKEN = (
    "A Speaker is telling a Listener about something that happened to them. The Speaker's "
    "latest message is the audio; any earlier turns of the conversation are given as text. "
    "You are the Listener: write your next message to the Speaker, one to three natural "
    "sentences that respond to what they said and show you understand how they feel.\n" + _FORMAT
)


class EDOptions(BaseModel):
    """--task-args: split, and the hub copy used when no --data-dir is given."""

    split: Literal["train", "valid", "test"] = "test"
    hub_id: str = "facebook/empathetic_dialogues"
    revision: str = "refs/convert/parquet"  # the hub's parquet export of the script dataset

    @field_validator("split", mode="before")
    @classmethod
    def _alias(cls, value: Any) -> Any:
        return "valid" if value == "validation" else value


class SpokenOptions(EDOptions):
    """Plus where the audio comes from: supplied WAVs or TTS on request."""

    tts: Literal["espeak-ng", "flite", "festival"] | None = None
    tts_voice: str | None = None
    tts_cache: Path | None = None  # default: $VOXEVAL_CACHE_DIR/tts or ~/.cache/voxeval/tts
    audio_dir: Path | None = None  # default: audio/ beside the CSV files, or in --data-dir


@dataclass
class Loaded:
    """Parsed turns and where they came from."""

    turns: list[Turn]
    info: DatasetInfo
    folder: Path | None  # the folder holding the CSV files (local data only)


class EmpatheticDialogues(Task):
    """Text: the dialogue so far as a tagged transcript; reply and name the emotion."""

    name: ClassVar[str] = "empathetic-dialogues"
    version: ClassVar[str] = "1"
    kind: ClassVar[TaskKind] = "dialogue"
    description: ClassVar[str] = "EmpatheticDialogues: empathetic reply + emotion (32), text"
    metrics: ClassVar[tuple[MetricSpec, ...]] = (
        MetricSpec("bleu"),
        MetricSpec("rouge_l"),
        MetricSpec("distinct_1"),
        MetricSpec("distinct_2"),
        MetricSpec(
            "accuracy",
            {"labels": list(EMOTIONS)},
            "label",
            "labels.emotion",
            key="emotion_accuracy",
        ),
        MetricSpec(
            "macro_f1",
            {"labels": list(EMOTIONS)},
            "label",
            "labels.emotion",
            key="emotion_macro_f1",
        ),
        MetricSpec("refusal_rate", prediction="values.no_emotion", key="no_emotion_rate"),
    )
    breakdowns: ClassVar[tuple[str, ...]] = ("emotion",)
    prompt: ClassVar[str | None] = PROMPT_TEXT
    judge_rubric: ClassVar[str | None] = "empathy"
    Options: ClassVar[type[BaseModel]] = EDOptions

    _loaded: Loaded | None = None

    def load(self) -> Loaded:
        """Read and group the split once (local CSV with --data-dir, else the hub copy)."""
        if self._loaded is None:
            self._loaded = self._load_local() if self.data_dir else self._load_hub()
        return self._loaded

    def _load_local(self) -> Loaded:
        split = self.options.split
        assert self.data_dir is not None
        candidates = [
            self.data_dir / "empatheticdialogues" / f"{split}.csv",
            self.data_dir / f"{split}.csv",
        ]
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            raise DataNotFoundError(
                f"No {split}.csv for {self.name}: looked for {' and '.join(map(str, candidates))}. "
                f"Download the official empatheticdialogues.tar.gz from {TARBALL} (the "
                "facebookresearch/EmpatheticDialogues repo), extract it into --data-dir so "
                f"that DIR/empatheticdialogues/{split}.csv exists."
            )
        rows, warnings = read_csv_split(path)
        turns, more = listener_turns(rows)
        info = DatasetInfo(
            id="facebookresearch/EmpatheticDialogues",
            split=split,
            content_hash=hash_files({path.name: path}, contents=True),
            hash_method=f"sha256({split}.csv bytes)",
            source=str(path),
            warnings=tuple(warnings + more),
        )
        return Loaded(turns, info, path.parent)

    def _load_hub(self) -> Loaded:
        opts = self.options
        rows, sha = read_hub_split(opts.hub_id, opts.revision, opts.split)
        turns, warnings = listener_turns(rows)
        blob = json.dumps([r.__dict__ for r in rows], sort_keys=True).encode()
        info = DatasetInfo(
            id=opts.hub_id,
            split=HUB_SPLITS[opts.split],
            revision=sha,
            content_hash=hashlib.sha256(blob).hexdigest(),
            hash_method="sha256(rows as read from the hub)",
            source=f"hub:{opts.hub_id}@{opts.revision}",
            warnings=tuple(warnings),
        )
        return Loaded(turns, info, None)

    def dataset(self) -> DatasetInfo:
        """Identity of the split read (file hash, or hub id + commit)."""
        return self.load().info

    def samples(self) -> Iterator[Sample]:
        """One sample per listener turn, in file order."""
        for turn in self.load().turns:
            yield Sample(
                id=_sid(turn),
                text=transcript(turn.history),
                transcript=turn.history[-1].utterance,  # what the echo baseline repeats
                references=(turn.reference,),
                labels={"emotion": turn.emotion},
                metadata=self._metadata(turn),
            )

    @staticmethod
    def _metadata(turn: Turn) -> dict[str, Any]:
        # "dialogue" is what the judge reads as the conversation so far.
        return {
            "emotion": turn.emotion,
            "conv_id": turn.conv_id,
            "turn": turn.idx,
            "dialogue": transcript(turn.history),
        }

    def adapter_context(self) -> dict[str, Any]:
        """The 32 emotion labels."""
        return {"labels": list(EMOTIONS)}

    @classmethod
    def scoring_rows(cls, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Split each answer into the emotion (label) and the reply (text)."""
        rows = []
        for record in records:
            emotion, reply = parse_answer((record.get("prediction") or {}).get("text"))
            prediction = {
                "text": reply,
                "label": emotion,
                "values": {"no_emotion": float(emotion is None)},
            }
            rows.append({**record, "prediction": prediction})
        return rows

    @classmethod
    def judge_item(cls, record: dict[str, Any]) -> dict[str, Any]:
        """The dialogue so far and the parsed reply (without the emotion line)."""
        _, reply = parse_answer((record.get("prediction") or {}).get("text"))
        return {"context": (record.get("metadata") or {}).get("dialogue", ""), "response": reply}


@dataclass
class Audio:
    """Speaker-turn audio per sample id and its identity."""

    paths: dict[str, Path]
    digest: str  # hash of file names + sizes, or of the TTS identity
    method: str
    source: str
    warnings: list[str] = field(default_factory=list)


class EmpatheticDialoguesSpoken(EmpatheticDialogues):
    """Spoken: the speaker's last turn as audio (supplied or TTS), earlier turns as text."""

    name: ClassVar[str] = "empathetic-dialogues-spoken"
    description: ClassVar[str] = "EmpatheticDialogues: last speaker turn as audio (WAV or TTS)"
    prompt: ClassVar[str | None] = PROMPT_SPOKEN
    Options: ClassVar[type[BaseModel]] = SpokenOptions

    _audio: Audio | None = None

    def audio(self) -> Audio:
        """The speaker-turn audio: synthesised (cached) with tts=..., else supplied WAVs."""
        if self._audio is None:
            self._audio = self._tts_audio() if self.options.tts else self._supplied_audio()
        return self._audio

    def _tts_audio(self) -> Audio:
        from voxeval.judge import cache_dir

        opts = self.options
        voice = opts.tts_voice or TTS_DEFAULT_VOICES[opts.tts]
        cache = TtsCache(opts.tts, voice, Path(opts.tts_cache or cache_dir() / "tts"))
        turns = self.load().turns
        paths = cache.ensure([t.history[-1].utterance for t in turns])
        return Audio(
            {_sid(t): paths[t.history[-1].utterance] for t in turns},
            hashlib.sha256(cache.identity.encode()).hexdigest(),
            f"TTS {cache.identity}",
            f"TTS {cache.identity}, cached in {cache.root}",
        )

    def _supplied_audio(self) -> Audio:
        folder = self._audio_dir()
        turns = self.load().turns
        paths = {_sid(t): folder / f"{t.conv_id}_{t.idx - 1}.wav" for t in turns}
        present = {p.name: p for p in paths.values() if p.is_file()}
        if turns and not present:
            raise DataNotFoundError(
                f"{self.name} found no speaker-turn audio in {folder} (expected files named "
                "<conv_id>_<utterance_idx>.wav, e.g. "
                f"{turns[0].conv_id}_{turns[0].idx - 1}.wav). Supply them (or point "
                "--task-args audio_dir=... at them), or synthesise them with --task-args "
                "tts=espeak-ng (or tts=flite, tts=festival)."
            )
        missing = len(paths) - len(present)
        return Audio(
            paths,
            hash_files(present, contents=False),
            "supplied WAVs (file names + sizes)",
            f"audio from {folder}",
            [f"{missing} speaker-turn audio file(s) missing in {folder}"] if missing else [],
        )

    def _audio_dir(self) -> Path:
        if self.options.audio_dir:
            return Path(self.options.audio_dir)
        folders = [f / "audio" for f in (self.load().folder, self.data_dir) if f is not None]
        return next((f for f in folders if f.is_dir()), folders[0] if folders else Path("audio"))

    def dataset(self) -> DatasetInfo:
        """The text identity combined with the audio's."""
        base, audio = self.load().info, self.audio()
        combined = hashlib.sha256(f"{base.content_hash}\0{audio.digest}".encode()).hexdigest()
        return DatasetInfo(
            id=base.id,
            split=base.split,
            revision=base.revision,
            content_hash=combined,
            hash_method=f"{base.hash_method} + audio: {audio.method}",
            source=f"{base.source}; {audio.source}",
            warnings=(*base.warnings, *audio.warnings),
        )

    def samples(self) -> Iterator[Sample]:
        """Earlier turns as text, the last speaker turn as audio with its transcript."""
        paths = self.audio().paths
        for turn in self.load().turns:
            earlier = turn.history[:-1]
            yield Sample(
                id=_sid(turn),
                audio=paths[_sid(turn)],
                text=transcript(earlier) if earlier else None,
                transcript=turn.history[-1].utterance,
                references=(turn.reference,),
                labels={"emotion": turn.emotion},
                metadata=self._metadata(turn),
            )


def _sid(turn: Turn) -> str:
    return f"{turn.conv_id}_{turn.idx}"


@hookimpl
def register_tasks(register: Callable[..., None]) -> None:
    """Register the text and spoken EmpatheticDialogues tasks."""
    register(EmpatheticDialogues)
    register(EmpatheticDialoguesSpoken)
