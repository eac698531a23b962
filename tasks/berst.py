"""BERSt (Rosie-Lab): distanced, emotional and shouted smartphone speech; ASR and 7-way SER.

Data: HF `Rosie-Lab/BERSt` (CC BY 4.0), parquet shards whose `audio` column is the hub's
struct {bytes, path}. Read from a local copy in the hub's layout (--data-dir) or, without
one, from the hub through `datasets` at a pinned revision. Audio bytes are handed to the
runner undecoded.

Placements: `phone_position` is one of 19 free-text placements, mapped to distance and
obstruction classes by the keyword rules of berst_mapping (`placement_classes`); a placement
the rules cannot place is "unknown" and counted in the dataset warnings. Model answers are
mapped onto the 7 affects there too (`map_prediction`).

Bad rows: a missing column stops loading (naming the file and column); an empty `script` is
left out of berst-asr and counted; an affect outside the 7 labels stops berst-ser (it cannot
be scored) and is kept as a breakdown value, counted, in berst-asr.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from voxeval.asr_scoring import AsrScoring, AsrScoringOptions
from voxeval.errors import DataNotFoundError, VoxevalError
from voxeval.hookspecs import hookimpl
from voxeval.hub import ensure_hub_reachable
from voxeval.task import DatasetInfo, MetricSpec, OfficialData, Task, TaskOptions, hash_files
from voxeval.tasks.berst_mapping import AFFECTS, map_prediction, placement_classes
from voxeval.types import AudioSource, Sample, TaskKind

HUB_ID = "Rosie-Lab/BERSt"
# A commit of the dataset repo (its README at this sha is public); pass revision=... to change.
HUB_REVISION = "f58e505fb0f7b0de84087935b8379411bb19b2dd"
SHOUT_LEVELS = ("shout", "no-shout", "n/a")
BASE_COLUMNS = ("audio", "audio_id", "affect", "phone_position", "shout_level")
EXTRA_META = ("user_id", "gender", "phone_model")  # copied into metadata when present
SPLIT_PATTERNS = ("data/{s}-*.parquet", "data/{s}/*.parquet", "{s}/*.parquet", "{s}-*.parquet")
DOWNLOAD_HINT = (
    f"Download it with `huggingface-cli download {HUB_ID} --repo-type dataset --revision "
    f"{HUB_REVISION} --local-dir DIR` and pass --data-dir DIR."
)


# ---------------------------------------------------------------- data source
class BerstOptions(TaskOptions):
    """--task-args of the BERSt tasks."""

    split: str = Field("test", description="split to score")
    revision: str = Field(
        HUB_REVISION, description="hub revision; a local --data-dir is identified by its hash"
    )


@dataclass
class Shard:
    """One parquet shard (or the hub split as one table): a name for errors and a reader."""

    name: str
    columns: list[str]
    read: Callable[[list[str]], Any]  # column names → pyarrow.Table


@dataclass
class Row:
    """Metadata of one row (no audio), with where it came from."""

    shard: int
    index: int
    values: dict[str, Any]
    distance: str
    obstruction: str
    excluded: bool = False
    id: str = ""


def _audio(value: Any, root: Path | None) -> AudioSource:
    """The hub's audio struct → bytes (or a path); nothing usable → b"" (a per-sample error)."""
    if isinstance(value, dict):
        if value.get("bytes"):
            return bytes(value["bytes"])
        value = value.get("path")
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str) and value:
        return root / value if root and (root / value).is_file() else Path(value)
    return b""


def _norm(value: Any) -> str:
    return "" if value is None else str(value).strip().casefold()


class _Berst(Task):
    """Shared loader for the BERSt tasks."""

    version: ClassVar[str] = "1"
    Options: ClassVar[type[BaseModel]] = BerstOptions
    options: BerstOptions
    columns: ClassVar[tuple[str, ...]] = BASE_COLUMNS
    # Official: the test split of the hub copy at the pinned commit. A local --data-dir copy
    # is identified by a hash of its parquet shards, which is not pinned here yet, so runs on
    # it are published as unofficial.
    official_data: ClassVar[tuple[OfficialData, ...]] = (
        OfficialData(HUB_ID, "test", revision=HUB_REVISION),
    )
    _hub: Any = None  # the hub's Dataset, when read from the hub

    # ---- where the data is
    def _root(self) -> Path:
        assert self.data_dir is not None
        if not self.data_dir.is_dir():
            raise DataNotFoundError(f"Data folder {self.data_dir} does not exist. {DOWNLOAD_HINT}")
        for candidate in (self.data_dir, self.data_dir / "BERSt", self.data_dir / "berst"):
            if any(candidate.glob("data/*.parquet")) or any(candidate.glob("*/*.parquet")):
                return candidate
        raise DataNotFoundError(
            f"No BERSt parquet shards under {self.data_dir} (looked for data/<split>-*.parquet "
            f"and <split>/*.parquet, also in BERSt/). {DOWNLOAD_HINT}"
        )

    def _missing_split(self, root: Path) -> DataNotFoundError:
        found = {p.name.split("-")[0] for p in root.glob("data/*.parquet")}
        found |= {p.parent.name for p in root.glob("*/*.parquet") if p.parent.name != "data"}
        return DataNotFoundError(
            f"BERSt split {self.options.split!r} has no parquet shards in {root} (looked for "
            f"data/{self.options.split}-*.parquet and {self.options.split}/*.parquet). Splits "
            f"found: {', '.join(sorted(found)) or 'none'}. Pass --task-args split=NAME."
        )

    def _local_shards(self, split: str, required: bool = True) -> list[Shard]:
        import pyarrow.parquet as pq

        root = self._root()
        files = sorted({p for pat in SPLIT_PATTERNS for p in root.glob(pat.format(s=split))})
        if not files and required:
            raise self._missing_split(root)
        return [
            Shard(str(f), pq.read_schema(f).names, lambda cols, f=f: pq.read_table(f, columns=cols))
            for f in files
        ]

    def _hub_dataset(self, split: str) -> Any:
        revision = self.options.revision
        ensure_hub_reachable(
            HUB_ID, "dataset", revision=revision, hint=DOWNLOAD_HINT, error=DataNotFoundError
        )
        try:
            from datasets import Audio, load_dataset

            ds = load_dataset(HUB_ID, revision=revision, split=split)
            return ds.cast_column("audio", Audio(decode=False))
        except ImportError:
            raise VoxevalError("Reading BERSt from the hub needs `pip install datasets`.") from None
        except Exception as exc:
            raise DataNotFoundError(
                f"Could not load {HUB_ID} (revision {revision}, split {split}) "
                f"from the Hugging Face hub: {type(exc).__name__}: {exc}. {DOWNLOAD_HINT}"
            ) from None

    @cached_property
    def _shards(self) -> list[Shard]:
        if self.data_dir is not None:
            return self._local_shards(self.options.split)
        self._hub = self._hub_dataset(self.options.split)
        table = self._hub.with_format("arrow")[:]  # arrow format: no audio decoding
        name = f"{HUB_ID}@{self.options.revision} split {self.options.split}"
        return [Shard(name, list(table.column_names), lambda cols: table.select(cols))]

    # ---- reading and checking rows
    @cached_property
    def _rows(self) -> list[Row]:
        rows: list[Row] = []
        for number, shard in enumerate(self._shards):
            missing = [c for c in self.columns if c not in shard.columns]
            if missing:
                raise VoxevalError(
                    f"{shard.name}: missing column(s) {', '.join(missing)} (needed by "
                    f"{self.name}; columns present: {', '.join(shard.columns)}). Use the "
                    f"unmodified parquet files of {HUB_ID}. {DOWNLOAD_HINT}"
                )
            keep = {*self.columns, "script", *EXTRA_META} - {"audio"}
            wanted = [c for c in shard.columns if c in keep]
            for index, values in enumerate(shard.read(wanted).to_pylist()):
                distance, obstruction = placement_classes(values.get("phone_position"))
                row = Row(number, index, values, distance, obstruction)
                row.excluded = self._check(row, f"{shard.name} row {index}")
                rows.append(row)
        self._assign_ids(rows)
        return rows

    def _check(self, row: Row, where: str) -> bool:
        """Validate one row; True leaves it out (counted in warnings)."""
        return False

    def _assign_ids(self, rows: list[Row]) -> None:
        """Sample ids: audio_id; user_id/audio_id if audio_ids repeat; else a clear error."""
        for make in (lambda v: str(v["audio_id"]), lambda v: f"{v.get('user_id')}/{v['audio_id']}"):
            seen: dict[str, Row] = {}
            for row in rows:
                row.id = make(row.values)
                first = seen.setdefault(row.id, row)
                if first is not row:
                    break
            else:
                return
        raise VoxevalError(
            f"Duplicate clip id {row.id!r}: {self._shards[first.shard].name} row {first.index} "
            f"and {self._shards[row.shard].name} row {row.index}. Each BERSt clip needs its own "
            "audio_id (per user_id); re-download the split."
        )

    def _warnings(self) -> list[str]:
        rows = self._rows
        out = []
        for field in ("distance", "obstruction"):
            odd = Counter(str(r.values.get("phone_position")) for r in rows
                          if getattr(r, field) == "unknown")  # fmt: skip
            if odd:
                shown = ", ".join(repr(p) for p, _ in odd.most_common(5))
                out.append(
                    f"phone_position: {sum(odd.values())} of {len(rows)} rows have {field} "
                    f"'unknown' (no keyword rule matched; e.g. {shown})"
                )
        shouts = Counter(_norm(r.values.get("shout_level")) for r in rows)
        odd_shouts = {k: v for k, v in shouts.items() if k not in SHOUT_LEVELS}
        if odd_shouts:
            out.append(f"shout_level: unexpected values kept as they are: {odd_shouts}")
        if rows and rows[0].id != str(rows[0].values["audio_id"]):
            out.append("audio_id repeats across speakers: sample ids are user_id/audio_id")
        return out

    # ---- Task API
    def dataset(self) -> DatasetInfo:
        """Identity: the hub id + revision, or a SHA-256 over the split's parquet shards."""
        shards = self._shards
        warnings = tuple(self._warnings())
        if self.data_dir is None:
            return DatasetInfo(
                id=HUB_ID, split=self.options.split, revision=self.options.revision,
                content_hash=getattr(self._hub, "_fingerprint", None),
                hash_method="datasets fingerprint", source=f"hub:{HUB_ID}", warnings=warnings,
            )  # fmt: skip
        root = self._root()
        files = {str(Path(s.name).relative_to(root)): Path(s.name) for s in shards}
        return DatasetInfo(
            id=HUB_ID, split=self.options.split, content_hash=hash_files(files, contents=True),
            hash_method="sha256(parquet shard names + bytes)", source=str(root),
            warnings=warnings,
        )  # fmt: skip

    def samples(self) -> Iterator[Sample]:
        """One sample per row, in shard order; audio stays encoded bytes."""
        rows = self._rows
        root = self._root() if self.data_dir is not None else None
        by_shard: dict[int, list[Row]] = {}
        for row in rows:
            by_shard.setdefault(row.shard, []).append(row)
        for number, shard in enumerate(self._shards):
            audio = shard.read(["audio"]).column("audio").to_pylist()
            for row in by_shard.get(number, []):
                if not row.excluded:
                    yield self._sample(row, _audio(audio[row.index], root))

    def _metadata(self, row: Row) -> dict[str, Any]:
        meta = {
            "affect": _norm(row.values.get("affect")),
            "shout_level": _norm(row.values.get("shout_level")) or "unknown",
            "distance": row.distance,
            "obstruction": row.obstruction,
            "phone_position": row.values.get("phone_position"),
        }
        meta.update({k: str(row.values[k]) for k in EXTRA_META if row.values.get(k) is not None})
        return meta

    def _sample(self, row: Row, audio: AudioSource) -> Sample:
        raise NotImplementedError


class BerstAsrOptions(BerstOptions, AsrScoringOptions):
    """--task-args of berst-asr: the split and revision, and how transcripts are scored."""


class BerstAsr(AsrScoring, _Berst):
    """Transcribe BERSt phrases; WER/CER with breakdowns by distance, obstruction, shout, affect."""

    name: ClassVar[str] = "berst-asr"
    board: ClassVar[str] = "asr"
    kind: ClassVar[TaskKind] = "asr"
    description: ClassVar[str] = "BERSt: ASR on distanced, emotional and shouted phone speech"
    columns: ClassVar[tuple[str, ...]] = (*BASE_COLUMNS, "script")
    metrics: ClassVar[tuple[MetricSpec, ...]] = (
        MetricSpec("wer", {"normalizer": "whisper_english"}),
        MetricSpec("cer", {"normalizer": "whisper_english"}),
    )
    breakdowns: ClassVar[tuple[str, ...]] = ("distance", "obstruction", "shout_level", "affect")
    protocol_doc: ClassVar[str | None] = "docs/protocols.md#asr"
    Options: ClassVar[type[BaseModel]] = BerstAsrOptions
    options: BerstAsrOptions
    prompt: ClassVar[str | None] = (
        "Write down, word for word, what the person in this recording says. The phrase may "
        "be nonsensical on purpose: write the words you hear, not what would make sense. "
        "Give only the words, with no comments."
    )

    def _check(self, row: Row, where: str) -> bool:
        # An empty script is a missing annotation, not silence: scoring a model's words
        # as insertions against it would be unfair, so the row is left out and counted.
        return not str(row.values.get("script") or "").strip()

    def _warnings(self) -> list[str]:
        out = super()._warnings()
        empty = [r for r in self._rows if r.excluded]
        if empty:
            where = "; ".join(f"{self._shards[r.shard].name} row {r.index}" for r in empty[:5])
            out.append(
                f"script: {len(empty)} row(s) with an empty transcript left out (nothing to "
                f"score against): {where}{' …' if len(empty) > 5 else ''}"
            )
        odd = Counter(a for r in self._rows if (a := _norm(r.values.get("affect"))) not in AFFECTS)
        if odd:
            out.append(f"affect: values outside the 7 labels kept for breakdowns: {dict(odd)}")
        return out

    def _sample(self, row: Row, audio: AudioSource) -> Sample:
        script = str(row.values["script"]).strip()
        return Sample(
            id=row.id, audio=audio, transcript=script,
            references=(script,), metadata=self._metadata(row),
        )  # fmt: skip


class BerstSer(_Berst):
    """Recognise the acted affect (7 classes) of BERSt clips."""

    name: ClassVar[str] = "berst-ser"
    board: ClassVar[str] = "speech-emotion"
    kind: ClassVar[TaskKind] = "classification"
    description: ClassVar[str] = "BERSt: 7-way speech emotion recognition on phone recordings"
    metrics: ClassVar[tuple[MetricSpec, ...]] = (
        *(
            MetricSpec(m, {"labels": list(AFFECTS)}, prediction="label", reference="labels.affect")
            for m in ("accuracy", "uar", "macro_f1")
        ),
        # Share of answers that named no single affect (also in each metric's details).
        MetricSpec("refusal_rate", prediction="values.unmappable", key="unmappable_rate"),
    )
    breakdowns: ClassVar[tuple[str, ...]] = ("distance", "obstruction", "shout_level")
    protocol_doc: ClassVar[str | None] = "docs/protocols.md#other-tasks"
    prompt: ClassVar[str | None] = (
        "Which emotion is the speaker acting out in this recording? Pick exactly one of: "
        f"{', '.join(AFFECTS)}. Reply with that one word only."
    )

    def _check(self, row: Row, where: str) -> bool:
        affect = _norm(row.values.get("affect"))
        if affect not in AFFECTS:
            raise VoxevalError(
                f"{where}: affect {row.values.get('affect')!r} is not one of the BERSt labels "
                f"({', '.join(AFFECTS)}). Fix or drop that row, or re-download {HUB_ID}."
            )
        return False

    def _sample(self, row: Row, audio: AudioSource) -> Sample:
        script = str(row.values.get("script") or "").strip() or None
        return Sample(
            id=row.id, audio=audio, transcript=script,
            labels={"affect": _norm(row.values["affect"])}, metadata=self._metadata(row),
        )  # fmt: skip

    @cached_property
    def _prior(self) -> dict[str, float] | None:
        """Affect shares of the train split, reading only that column; None without it."""
        if self.data_dir is not None:
            shards = self._local_shards("train", required=False)
            tables = [s.read(["affect"]) for s in shards if "affect" in s.columns]
            values = [v for t in tables for v in t.column("affect").to_pylist()]
        else:
            try:
                values = self._hub_dataset("train").select_columns(["affect"])["affect"]
            except VoxevalError:
                return None
        counts = Counter(_norm(v) for v in values if _norm(v) in AFFECTS)
        total = sum(counts.values())
        return {a: counts[a] / total for a in AFFECTS} if total else None

    def adapter_context(self) -> dict[str, Any]:
        """The 7 labels, and the train split's label prior when that split is present."""
        prior = self._prior
        return {"labels": list(AFFECTS), **({"label_prior": prior} if prior else {})}

    @classmethod
    def scoring_rows(cls, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Map each answer onto an affect (None when unmappable) and flag unmappable ones."""
        rows = []
        for record in records:
            prediction = dict(record.get("prediction") or {})
            label = map_prediction(prediction)
            prediction["label"] = label
            prediction["values"] = {**(prediction.get("values") or {}), "unmappable": label is None}
            rows.append({**record, "prediction": prediction})
        return rows


@hookimpl
def register_tasks(register: Callable[..., None]) -> None:
    """Register berst-asr and berst-ser."""
    for task in (BerstAsr, BerstSer):
        register(task)
