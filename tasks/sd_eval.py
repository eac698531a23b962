"""SD-Eval (amphion/SD-Eval, CC BY-NC 4.0): reply to speech whose emotion, accent, age or
background sound should shape the answer; one task per test subset plus the `sd-eval` group.

Local layout (--data-dir DIR, or DIR/sd-eval): the manifests `DIR/<subset>.json` (or
`DIR/data/<subset>.json`, as in the GitHub repo) and the audio under `DIR/audio_data/`, joined
with each entry's `wav_path` (RAVDESS-Speech/, JL_corpus/, MEAD/MEAD_wav/, VCTK/,
common_voice/, myst/, test-env/ ...). With `--task-args hub=true` the manifest comes from
the hub at a pinned revision instead; the audio is still read from DIR/audio_data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from voxeval.errors import DataNotFoundError, VoxevalError
from voxeval.hookspecs import hookimpl
from voxeval.hub import ensure_hub_reachable
from voxeval.task import DatasetInfo, MetricSpec, OfficialData, Task, TaskGroup, TaskOptions
from voxeval.types import Sample, TaskKind

REPO_ID = "amphion/SD-Eval"
# The dataset repo's head commit ("Update README.md"); its manifests are the first commit's.
REVISION = "8b9fe6c0becc8efef3d73568bdd6546baee252f4"
AUDIO_DIR = "audio_data"
N_REFERENCES = 5
REQUIRED_KEYS = ("utt_id", "wav_path", "transcript", "target", "info")
LISTED_IDS = 5  # ids named in a warning before "…"

HUB_PAGE = f"https://huggingface.co/datasets/{REPO_ID}"
GITHUB_DATA = "https://github.com/amphionspace/SD-Eval/tree/main/data"
AUDIO_SOURCES = {
    "test-emo": "RAVDESS speech (kaggle.com/datasets/uwrfkaggler/ravdess-emotional-speech-audio)"
    " as RAVDESS-Speech/, JL Corpus (kaggle.com/datasets/tli725/jl-corpus) as JL_corpus/, "
    "MEAD (wywu.github.io/projects/MEAD/MEAD.html, its m4a converted to 16 kHz wav) as "
    "MEAD/MEAD_wav/",
    "test-acc": "VCTK (datashare.ed.ac.uk/handle/10283/2651) as VCTK/ and Common Voice 16.1 "
    "English (commonvoice.mozilla.org/en/datasets) as common_voice/",
    "test-age": "MyST children's speech (boulderlearning.com/resources/request-the-myst-corpus) "
    f"as myst/, and the synthesized adult speech from {HUB_PAGE}/tree/main/archive as adult/",
    "test-env": f"the synthesized clips from {HUB_PAGE}/tree/main/archive as test-env/",
}

PROMPT = (
    "Someone is talking to you, a voice assistant, in a live conversation. Answer them "
    "directly, in one to three natural sentences, as a considerate person would. Take in how "
    "they sound as well as what they say: their mood, their age, their accent or the place "
    "they seem to be in may call for a different tone or different advice. Give only your "
    "reply, with no labels, notes or transcription."
)


class SdEvalOptions(TaskOptions):
    """--task-args: `hub=true` reads the manifest from the hub at `revision`."""

    hub: bool = Field(False, description="read the manifest from the hub, not from --data-dir")
    revision: str = Field(REVISION, description="hub revision of the manifest")


@dataclass(frozen=True)
class Entry:
    """One validated manifest entry."""

    utt_id: str
    wav_path: str
    transcript: str
    references: tuple[str, ...]
    info: str
    dataset_name: str


@dataclass(frozen=True)
class Loaded:
    """A subset's manifest, where its audio lives, and the data problems found."""

    manifest: Path
    audio_root: Path
    entries: tuple[Entry, ...]
    warnings: tuple[str, ...]
    source: str


class SdEvalTask(Task):
    """Base of the four SD-Eval subsets: reply to the utterance, scored against 5 references."""

    subset: ClassVar[str]
    aspect: ClassVar[str]  # the paralinguistic cue, as the judge rubrics name it
    version: ClassVar[str] = "1"
    kind: ClassVar[TaskKind] = "dialogue"
    board: ClassVar[str] = "spoken-dialogue"
    metrics: ClassVar[tuple[MetricSpec, ...]] = (
        MetricSpec("bleu", reference="references"),
        MetricSpec("rouge_l", reference="references"),
        MetricSpec("meteor", reference="references"),
    )
    breakdowns: ClassVar[tuple[str, ...]] = ("info", "dataset_name")
    protocol_doc: ClassVar[str | None] = "docs/protocols.md#sd-eval"
    prompt: ClassVar[str | None] = PROMPT
    Options: ClassVar[type[BaseModel]] = SdEvalOptions
    options: SdEvalOptions

    def __init__(self, data_dir: Path | None = None, options: dict[str, Any] | None = None) -> None:
        super().__init__(data_dir, options)
        self._loaded: Loaded | None = None

    def dataset(self) -> DatasetInfo:
        """The manifest's hash (+ audio names and sizes when the audio folder exists)."""
        loaded = self._load()
        digest, method = identity_hash(loaded)
        return DatasetInfo(
            id=REPO_ID,
            split=self.subset,
            revision=self.options.revision if self.options.hub else None,
            content_hash=digest,
            hash_method=method,
            source=loaded.source,
            warnings=loaded.warnings,
        )

    def samples(self) -> Iterator[Sample]:
        """One sample per manifest entry, in manifest order; audio is a path."""
        loaded = self._load()
        for entry in loaded.entries:
            yield Sample(
                id=entry.utt_id,
                audio=loaded.audio_root / entry.wav_path,
                transcript=entry.transcript,
                references=entry.references,
                labels={self.aspect: entry.info},
                # The transcript rides along so that the judge can quote the user's words.
                metadata={
                    "info": entry.info,
                    "dataset_name": entry.dataset_name,
                    "transcript": entry.transcript,
                },
            )

    @classmethod
    def judge_prompt_key(cls) -> str:
        """The subset's name, as SD-Eval's own prompt files key their prompts."""
        return cls.subset

    @classmethod
    def judge_item(cls, record: dict[str, Any]) -> dict[str, Any]:
        """statement = the transcript, label = the subset's paralinguistic label."""
        meta = record.get("metadata") or {}
        return {
            "statement": meta.get("transcript") or "",
            "label": meta.get("info") or "",
            "response": (record.get("prediction") or {}).get("text") or "",
        }

    def _load(self) -> Loaded:
        if self._loaded is None:
            manifest, root, source = self._locate()
            entries = read_manifest(manifest)
            audio_root = root / AUDIO_DIR
            warnings = reference_warnings(entries) + audio_warnings(entries, audio_root)
            self._loaded = Loaded(manifest, audio_root, entries, warnings, source)
        return self._loaded

    def _locate(self) -> tuple[Path, Path, str]:
        """(manifest, folder holding audio_data/, source) from --data-dir or the hub."""
        if self.options.hub:
            manifest = self._download()
            roots = self._roots() if self.data_dir is not None else [manifest.parent]
            root = next((r for r in roots if (r / AUDIO_DIR).is_dir()), roots[0])
            return manifest, root, f"hf://datasets/{REPO_ID}@{self.options.revision}"
        for root in self._roots():
            for manifest in (root / f"{self.subset}.json", root / "data" / f"{self.subset}.json"):
                if manifest.is_file():
                    return manifest, root, str(manifest)
        raise DataNotFoundError(
            f"No {self.subset}.json in {self.data_dir} (looked for DIR/{self.subset}.json and "
            f"DIR/data/{self.subset}.json, also under DIR/sd-eval/). {self._how_to_get()}"
        )

    def _roots(self) -> list[Path]:
        if self.data_dir is None:
            raise DataNotFoundError(f"{self.name} needs --data-dir. {self._how_to_get()}")
        if not self.data_dir.is_dir():
            raise DataNotFoundError(
                f"Data folder {self.data_dir} does not exist. {self._how_to_get()}"
            )
        nested = self.data_dir / "sd-eval"
        return [self.data_dir, nested] if nested.is_dir() else [self.data_dir]

    def _download(self) -> Path:
        name, revision = f"{self.subset}.json", self.options.revision
        hint = f"Drop hub=true and use a local copy. {self._how_to_get()}"
        ensure_hub_reachable(
            REPO_ID, "dataset", revision=revision, hint=hint, error=DataNotFoundError
        )
        from huggingface_hub import hf_hub_download

        try:
            path = hf_hub_download(REPO_ID, name, repo_type="dataset", revision=revision)
        except Exception as exc:  # offline, unknown revision, no access: all mean "not here"
            raise DataNotFoundError(
                f"Could not fetch {name} of {REPO_ID} at revision {revision} from the Hugging "
                f"Face hub ({type(exc).__name__}: {exc}). Check the network and HF_HUB_OFFLINE. "
                f"{hint}"
            ) from None
        return Path(path)

    def _how_to_get(self) -> str:
        others = ", ".join(t.name for t in SUBSETS if t.name != self.name)
        return (
            f"Download {self.subset}.json from {HUB_PAGE} (revision {REVISION[:7]}) or "
            f"{GITHUB_DATA} into DIR/, put the audio under DIR/{AUDIO_DIR}/ in the official "
            f"layout ({AUDIO_SOURCES[self.subset]}), and pass --data-dir DIR. Other subsets "
            f"run on their own: {others}."
        )


def read_manifest(path: Path) -> tuple[Entry, ...]:
    """Parse and validate a subset manifest; a VoxevalError names the file and the entry."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise VoxevalError(
            f"{path}: not a valid JSON manifest ({exc}). Re-download it from {HUB_PAGE}."
        ) from None
    if not isinstance(data, list):
        raise VoxevalError(
            f"{path}: expected a JSON list of entries, found a {type(data).__name__}."
        )
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(data):
        entry = parse_entry(path, index, raw)
        if entry.utt_id in seen:
            raise VoxevalError(
                f"{path}, entry {index}: utt_id {entry.utt_id!r} repeats entry "
                f"{seen[entry.utt_id]}; every utt_id must be unique."
            )
        seen[entry.utt_id] = index
        entries.append(entry)
    return tuple(entries)


def parse_entry(path: Path, index: int, raw: Any) -> Entry:
    """One manifest entry, checked: required keys, string fields, at least one reference."""
    if not isinstance(raw, dict):
        raise VoxevalError(
            f"{path}, entry {index}: expected an object, found a {type(raw).__name__}."
        )
    where = f"{path}, entry {index} (utt_id {raw.get('utt_id')!r})"
    missing = [key for key in REQUIRED_KEYS if raw.get(key) is None]
    if missing:
        raise VoxevalError(
            f"{where}: missing key(s) {', '.join(missing)}; every entry needs "
            f"{', '.join(REQUIRED_KEYS)}. Fix the entry or re-download the manifest."
        )
    wrong = [k for k in ("wav_path", "transcript", "info") if not isinstance(raw[k], str)]
    if wrong or not isinstance(raw["utt_id"], (str, int)):
        raise VoxevalError(f"{where}: {', '.join(wrong) or 'utt_id'} must be text.")
    return Entry(
        utt_id=str(raw["utt_id"]),
        wav_path=raw["wav_path"],
        transcript=raw["transcript"],
        references=parse_references(where, raw["target"]),
        info=raw["info"],
        dataset_name=str(raw.get("dataset_name") or "unknown"),
    )


def parse_references(where: str, target: Any) -> tuple[str, ...]:
    """The non-empty `reply` texts of an entry's `target` list (at least one)."""
    if not isinstance(target, list):
        raise VoxevalError(
            f"{where}: target must be a list of {{reply, reply_emotion}} objects, found a "
            f"{type(target).__name__}."
        )
    replies = []
    for k, item in enumerate(target):
        reply = item.get("reply") if isinstance(item, dict) else None
        if not isinstance(reply, str):
            raise VoxevalError(f"{where}: target[{k}] has no text `reply`.")
        if reply.strip():  # an empty reference would only add noise to every metric
            replies.append(reply)
    if not replies:
        raise VoxevalError(
            f"{where}: no reference replies (target is empty); SD-Eval entries carry "
            f"{N_REFERENCES}. Fix the entry or re-download the manifest."
        )
    return tuple(replies)


def reference_warnings(entries: tuple[Entry, ...]) -> tuple[str, ...]:
    """A counted warning for entries with fewer than the official 5 references."""
    short = [e.utt_id for e in entries if len(e.references) < N_REFERENCES]
    if not short:
        return ()
    return (
        f"{len(short)} {'entry has' if len(short) == 1 else 'entries have'} fewer than "
        f"{N_REFERENCES} references: {_some(short)} "
        "(scored against the references they have)",
    )


def audio_warnings(entries: tuple[Entry, ...], audio_root: Path) -> tuple[str, ...]:
    """A counted warning when the audio folder or some of its files are absent."""
    if not audio_root.is_dir():
        return (
            f"no audio folder {audio_root}: all {len(entries)} samples will fail as missing "
            "audio for models that listen (text baselines still run)",
        )
    missing = [e.wav_path for e in entries if not (audio_root / e.wav_path).is_file()]
    if not missing:
        return ()
    return (
        f"{len(missing)} of {len(entries)} audio files are missing under {audio_root}: "
        f"{_some(missing)} (those samples fail as decode errors)",
    )


def identity_hash(loaded: Loaded) -> tuple[str, str]:
    """SHA-256 of the manifest bytes, plus each audio file's name and size if audio exists."""
    digest = hashlib.sha256(b"manifest\0" + loaded.manifest.read_bytes())
    if not loaded.audio_root.is_dir():
        return digest.hexdigest(), "sha256(manifest bytes); no audio folder"
    for wav_path in sorted({e.wav_path for e in loaded.entries}):
        path = loaded.audio_root / wav_path
        size = str(path.stat().st_size) if path.is_file() else "missing"
        digest.update(f"\0{wav_path}\0{size}".encode())
    return digest.hexdigest(), "sha256(manifest bytes + audio file names and sizes)"


def _some(items: list[str]) -> str:
    shown = ", ".join(items[:LISTED_IDS])
    return shown + (", …" if len(items) > LISTED_IDS else "")


class SdEvalEmo(SdEvalTask):
    """test-emo: five emotions (RAVDESS, JL Corpus, MEAD)."""

    name: ClassVar[str] = "sd-eval-emo"
    subset: ClassVar[str] = "test-emo"
    # Official: the subset's manifest from the hub at REVISION (hub=true; the audio stays
    # local). A local manifest is hashed together with the audio's names and sizes, so
    # no official hash can be pinned: runs without hub=true are unofficial.
    official_data: ClassVar[tuple[OfficialData, ...]] = (
        OfficialData(REPO_ID, "test-emo", revision=REVISION),
    )
    aspect: ClassVar[str] = "emotion"
    judge_rubric: ClassVar[str | None] = "sd-eval-emotion"
    judge_protocols: ClassVar[dict[str, str]] = {"official": "sd-eval-official-emotion"}
    description: ClassVar[str] = "SD-Eval test-emo: reply fitting the speaker's emotion (5 refs)"


class SdEvalAcc(SdEvalTask):
    """test-acc: accents (VCTK, Common Voice)."""

    name: ClassVar[str] = "sd-eval-acc"
    subset: ClassVar[str] = "test-acc"
    # Official: the manifest from the hub at REVISION (see SdEvalEmo).
    official_data: ClassVar[tuple[OfficialData, ...]] = (
        OfficialData(REPO_ID, "test-acc", revision=REVISION),
    )
    aspect: ClassVar[str] = "accent"
    judge_rubric: ClassVar[str | None] = "sd-eval-accent"
    judge_protocols: ClassVar[dict[str, str]] = {"official": "sd-eval-official-accent"}
    description: ClassVar[str] = "SD-Eval test-acc: reply fitting the speaker's accent (5 refs)"


class SdEvalAge(SdEvalTask):
    """test-age: child (MyST) or adult (synthesized) speakers."""

    name: ClassVar[str] = "sd-eval-age"
    subset: ClassVar[str] = "test-age"
    # Official: the manifest from the hub at REVISION (see SdEvalEmo).
    official_data: ClassVar[tuple[OfficialData, ...]] = (
        OfficialData(REPO_ID, "test-age", revision=REVISION),
    )
    aspect: ClassVar[str] = "age"
    judge_rubric: ClassVar[str | None] = "sd-eval-age"
    judge_protocols: ClassVar[dict[str, str]] = {"official": "sd-eval-official-age"}
    description: ClassVar[str] = "SD-Eval test-age: reply fitting a child or adult speaker (5 refs)"


class SdEvalEnv(SdEvalTask):
    """test-env: seven background sounds (synthesized)."""

    name: ClassVar[str] = "sd-eval-env"
    subset: ClassVar[str] = "test-env"
    # Official: the manifest from the hub at REVISION (see SdEvalEmo).
    official_data: ClassVar[tuple[OfficialData, ...]] = (
        OfficialData(REPO_ID, "test-env", revision=REVISION),
    )
    aspect: ClassVar[str] = "environment"
    judge_rubric: ClassVar[str | None] = "sd-eval-environment"
    judge_protocols: ClassVar[dict[str, str]] = {"official": "sd-eval-official-environment"}
    description: ClassVar[str] = "SD-Eval test-env: reply fitting the background sound (5 refs)"


SUBSETS: tuple[type[SdEvalTask], ...] = (SdEvalEmo, SdEvalAcc, SdEvalAge, SdEvalEnv)
GROUP = TaskGroup(
    "sd-eval",
    tuple(t.name for t in SUBSETS),
    "SD-Eval: all four subsets (emotion, accent, age, environment)",
)


@hookimpl
def register_tasks(register: Callable[..., None]) -> None:
    """Register the four SD-Eval subsets and the `sd-eval` group."""
    for task in SUBSETS:
        register(task)
    register(GROUP)
