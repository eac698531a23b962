"""EmpatheticDialogues (Rashkin et al., 2019): reply as an empathetic listener, name the emotion.

One sample per listener turn (utterance_idx 2, 4, ...): the turns before it are the context and
the listener's real utterance is the reference. `empathetic-dialogues` gives the context as a
tagged transcript; `empathetic-dialogues-spoken` gives the speaker's last turn as audio (supplied
WAVs or TTS on request, cached on disk) and the earlier turns as text.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field, field_validator

from voxeval.errors import DataNotFoundError
from voxeval.hookspecs import hookimpl
from voxeval.task import DatasetInfo, MetricSpec, OfficialData, Task, TaskOptions, hash_files
from voxeval.tasks.empathetic_data import (
    EMOTIONS,
    HUB_SPLITS,
    Row,
    Turn,
    decode,
    find_split,
    listener_turns,
    read_csv_split,
    read_hub_split,
)
from voxeval.tts import Engine, TtsCache, open_cache
from voxeval.types import Sample, TaskKind

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


class EDOptions(TaskOptions):
    """--task-args: split, and the hub copy used when no --data-dir is given."""

    split: Literal["train", "valid", "test"] = Field("test", description="split to score")
    hub_id: str = Field(
        "facebook/empathetic_dialogues", description="hub dataset read without --data-dir"
    )
    revision: str = Field(
        "refs/convert/parquet", description="hub revision: the parquet export of the dataset"
    )

    @field_validator("split", mode="before")
    @classmethod
    def _alias(cls, value: Any) -> Any:
        return "valid" if value == "validation" else value


class SpokenOptions(EDOptions):
    """Plus where the audio comes from: supplied WAVs or TTS on request."""

    tts: Engine | None = Field(None, description="synthesise the prompts' audio with this engine")
    tts_voice: str | None = Field(None, description="voice of the TTS engine; default its own")
    tts_cache: Path | None = Field(
        None, description="TTS audio cache; default $VOXEVAL_CACHE_DIR/tts or ~/.cache/voxeval/tts"
    )
    audio_dir: Path | None = Field(
        None, description="supplied audio; default audio/ beside the CSV files or in --data-dir"
    )


@dataclass
class Loaded:
    """Parsed turns and where they came from."""

    turns: list[Turn]
    info: DatasetInfo
    folder: Path | None  # the folder holding the CSV files (local data only)


class EmpatheticDialogues(Task):
    """Text: the dialogue so far as a tagged transcript; reply and name the emotion."""

    name: ClassVar[str] = "empathetic-dialogues"
    board: ClassVar[str] = "empathy"
    # The test split, from the hub's parquet export or the release's test.csv; neither is
    # pinned: refs/convert/parquet moves (run.json records the commit it resolved to) and
    # test.csv's hash is not known here. Runs stay unofficial until one is pinned.
    official_data: ClassVar[tuple[OfficialData, ...]] = (
        OfficialData("facebook/empathetic_dialogues", "test"),
        OfficialData("facebookresearch/EmpatheticDialogues", "test"),
    )
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
    protocol_doc: ClassVar[str | None] = "docs/protocols.md#other-tasks"
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
        path = find_split(self.data_dir, split, self.name)
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

    def count(self) -> int:
        """The number of listener turns, from the parsed split alone (no audio is made)."""
        return len(self.load().turns)

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
    tts: TtsCache | None = None  # set when the paths are synthesised on demand


class EmpatheticDialoguesSpoken(EmpatheticDialogues):
    """Spoken: the speaker's last turn as audio (supplied or TTS), earlier turns as text."""

    name: ClassVar[str] = "empathetic-dialogues-spoken"
    # No official audio exists (it is synthesised or supplied by the user, and the revision
    # alone does not say which), so spoken runs are always unofficial.
    official_data: ClassVar[tuple[OfficialData, ...]] = ()
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
        opts = self.options
        cache = open_cache(opts.tts, opts.tts_voice, opts.tts_cache)
        turns = self.load().turns  # paths only: samples() synthesises as they are drawn
        return Audio(
            {_sid(t): cache.path(t.history[-1].utterance) for t in turns},
            hashlib.sha256(cache.identity.encode()).hexdigest(),
            f"TTS {cache.identity}",
            f"TTS {cache.identity}, cached in {cache.root}",
            tts=cache,
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
        audio, turns = self.audio(), self.load().turns
        ready = 0
        for i, turn in enumerate(turns):
            if audio.tts and i == ready:  # TTS in doubling batches: --limit N makes < 2N
                ready = min(len(turns), 2 * i + 1)
                audio.tts.ensure([t.history[-1].utterance for t in turns[i:ready]])
            earlier = turn.history[:-1]
            yield Sample(
                id=_sid(turn),
                audio=audio.paths[_sid(turn)],
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
