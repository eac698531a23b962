"""adv-regression: arousal, dominance and valence from speech, scored by CCC (MSP-Podcast style).

MSP-Podcast is licensed, so the data is read from a local folder only (--data-dir, or its
`msp-podcast/` or `adv-regression/` sub-folder):
  labels.csv, or MSP-Podcast's own Labels/labels_consensus.csv (or Options.labels_file)
  audio/ or Audios/ holding the clips named in the file column
Columns, in either naming: file | FileName, arousal | EmoAct, dominance | EmoDom,
valence | EmoVal, split | Split_Set; optional gender | Gender, speaker | SpkrID.

Options.split (default "test") is matched case-insensitively; "test" also selects
MSP-Podcast's "Test1" (the set Dawn and Wav2Small report on) and "dev"/"validation" its
"Development". Options.scale declares the label scale: "1-7" maps x to (x − 1)/6 in 0–1
(MSP-Podcast's 7-point ratings), "0-1" keeps values, "auto" (default) means 1-7 with MSP
column names and 0-1 otherwise; a value outside the declared scale is an error naming the row.
The scale rule is recorded in run.json (dataset.preprocessing: scale, transform and source
columns) and in each sample's metadata.

Metrics: Lin's CCC per dimension (ccc_arousal, ccc_dominance, ccc_valence; population
statistics) and ccc_mean, exactly the arithmetic mean of those three CCCs (metric registered
below; its bootstrap resamples clips once for all three dimensions; undefined when any of
the three is). adapter_context gives the three dimension names and, when the labels file has
a Train split, its means (for the `mean` baseline).
Published: MSP-Podcast valence CCC .638 (Dawn of the transformer era), .676 (Wav2Small
teacher, Test 1).
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, Field

from voxeval.errors import DataNotFoundError, VoxevalError
from voxeval.hookspecs import hookimpl
from voxeval.metrics import Metric
from voxeval.metrics.numeric import MISSING, ConcordanceCorrelation
from voxeval.task import DatasetInfo, MetricSpec, OfficialData, Task, TaskOptions, hash_files
from voxeval.types import Sample, TaskKind

DIMS: tuple[str, ...] = ("arousal", "dominance", "valence")
# Our name → (simple name, MSP-Podcast name).
COLUMNS = {
    "file": ("file", "FileName"),
    "arousal": ("arousal", "EmoAct"),
    "dominance": ("dominance", "EmoDom"),
    "valence": ("valence", "EmoVal"),
    "split": ("split", "Split_Set"),
}
OPTIONAL_COLUMNS = {"gender": ("gender", "Gender"), "speaker": ("speaker", "SpkrID")}
LABEL_FILES = ("labels.csv", "Labels/labels_consensus.csv", "labels_consensus.csv")
AUDIO_DIRS = ("audio", "Audios")
SUBFOLDERS = ("msp-podcast", "adv-regression")
SPLIT_ALIASES = {"test": "test1", "dev": "development", "validation": "development"}
SCALES = {"1-7": (1.0, 7.0), "0-1": (0.0, 1.0)}


class MeanCCC(Metric):
    """Arithmetic mean of per-dimension CCCs; predictions/references are {dimension: value}."""

    name: ClassVar[str] = "ccc_mean"
    value_range: ClassVar[tuple[float, float]] = (-1.0, 1.0)
    description: ClassVar[str] = "mean of per-dimension concordance correlations (e.g. A/D/V)"
    higher_is_better: ClassVar[bool] = True
    sum_decomposable: ClassVar[bool] = True
    _ccc = ConcordanceCorrelation()
    _width = 6  # statistics columns of one CCC

    def sample_stats(
        self, predictions: Sequence[Any], references: Sequence[Any], **params: Any
    ) -> np.ndarray:
        """The CCC statistics of each dimension, side by side."""
        dims = params.get("dims", DIMS)
        ccc = self._ccc.sample_stats
        return np.hstack(
            [ccc([_get(p, d) for p in predictions], [_get(r, d) for r in references]) for d in dims]
        )

    def aggregate_sums(self, sums: np.ndarray, n: int) -> np.ndarray:
        """Each dimension's CCC from its columns, then their mean (NaN if any is NaN)."""
        w = self._width
        k = sums.shape[-1] // w
        per_dim = [self._ccc.aggregate_sums(sums[..., i * w : (i + 1) * w], n) for i in range(k)]
        return np.mean(np.stack(per_dim, axis=-1), axis=-1)

    def resolved_params(self, **params: Any) -> dict[str, Any]:
        """Record the dimensions, the averaging and how missing values are handled."""
        mean = "arithmetic mean of the per-dimension CCCs"
        return {"dims": list(params.get("dims", DIMS)), "mean": mean, "ddof": 0, "missing": MISSING}

    def details(self, stats: np.ndarray) -> dict[str, Any]:
        """Valid pairs per dimension (column 0 of each block)."""
        valid = stats[:, :: self._width].sum(axis=0)
        return {"n_valid_per_dim": [int(v) for v in valid]}


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else None


@dataclass
class Row:
    """One labels-file row, values already on the 0–1 scale (None where the cell is empty)."""

    file: str
    split: str
    values: dict[str, float | None]
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """The sample id: the file name without its extension."""
        return str(PurePosixPath(self.file).with_suffix(""))


@dataclass
class Table:
    """The labels file: raw rows with line numbers, column names, layout and scale."""

    path: Path
    raw: list[tuple[int, dict[str, str]]]
    names: dict[str, str]
    msp: bool
    scale: str


class AdvOptions(TaskOptions):
    """--task-args of adv-regression."""

    split: str = Field("test", description="split of the labels file to score")
    scale: Literal["auto", "1-7", "0-1"] = Field(
        "auto", description="scale of the reference values; auto: read from the data"
    )
    labels_file: str | None = Field(
        None, description="a labels CSV (absolute, or relative to the data folder)"
    )
    dataset_id: str | None = Field(
        None, description="recorded dataset id; default msp-podcast with MSP column names"
    )


class AdvRegression(Task):
    """Predict arousal, dominance and valence (0–1) per clip; CCC per dimension and their mean."""

    name: ClassVar[str] = "adv-regression"
    version: ClassVar[str] = "1"
    kind: ClassVar[TaskKind] = "regression"
    board: ClassVar[str] = "emotion-dimensions"
    # MSP-Podcast is licensed and read from a local folder, identified by a hash of its labels
    # file and audio names and sizes; the hash of the release the board uses (Test1) is not
    # pinned yet, so runs are published as unofficial.
    official_data: ClassVar[tuple[OfficialData, ...]] = (OfficialData("msp-podcast", "Test1"),)
    description: ClassVar[str] = "Arousal/dominance/valence regression, CCC (MSP-Podcast layout)"
    metrics: ClassVar[tuple[MetricSpec, ...]] = (
        *(
            MetricSpec("ccc", prediction=f"values.{d}", reference=f"labels.{d}", key=f"ccc_{d}")
            for d in DIMS
        ),
        MetricSpec("ccc_mean", {"dims": DIMS}, prediction="values", reference="labels.dims"),
    )
    breakdowns: ClassVar[tuple[str, ...]] = ("gender",)
    protocol_doc: ClassVar[str | None] = "docs/protocols.md#other-tasks"
    Options: ClassVar[type[BaseModel]] = AdvOptions
    options: AdvOptions

    def dataset(self) -> DatasetInfo:
        """Hash of the labels file and the split's audio names and sizes; scale in preprocessing."""
        t, chosen = self._table, self._split_rows
        audio = {r.file: self._audio_dir / r.file for r in chosen}
        existing = {k: p for k, p in audio.items() if p.is_file()}
        digest = hash_files({t.path.name: t.path}, contents=True) + hash_files(existing, False)
        return DatasetInfo(
            id=self.options.dataset_id or ("msp-podcast" if t.msp else "local/adv-regression"),
            split=chosen[0].split,
            content_hash=hashlib.sha256(digest.encode()).hexdigest(),
            hash_method="sha256(labels file + audio names and sizes)",
            source=str(self._root),
            warnings=tuple(self._warnings),
            preprocessing=_preprocessing(t, self.options.scale),
        )

    def samples(self) -> Iterator[Sample]:
        """One sample per clip of the chosen split; labels are the three 0–1 values."""
        scale = self._table.scale
        for row in self._split_rows:
            yield Sample(
                id=row.id,
                audio=self._audio_dir / row.file,
                labels=dict(row.values),
                metadata={**row.meta, "split": row.split, "scale": scale},
            )

    def adapter_context(self) -> dict[str, Any]:
        """Dimension names, and training-split means when the labels file has a Train split."""
        t = self._table
        names = {(r.get(t.names["split"]) or "").strip() for _, r in t.raw}
        train = [r for name in names if name.lower() == "train" for r in self._rows_of(name)]
        means = {}
        for dim in DIMS:
            values = [r.values[dim] for r in train if r.values[dim] is not None]
            if values:
                means[dim] = float(np.mean(values))
        return {"labels": list(DIMS), "value_means": means or None}

    @classmethod
    def scoring_rows(cls, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Records plus labels.dims ({dimension: value}) for ccc_mean."""
        rows = []
        for record in records:
            labels = record.get("labels") or {}
            rows.append({**record, "labels": {**labels, "dims": {d: labels.get(d) for d in DIMS}}})
        return rows

    @cached_property
    def _root(self) -> Path:
        if self.data_dir is None or not self.data_dir.is_dir():
            raise DataNotFoundError(
                "adv-regression reads licensed data (MSP-Podcast) from a local folder only: "
                f"pass --data-dir DIR holding {' or '.join(LABEL_FILES[:2])} and the audio in "
                f"{' or '.join(AUDIO_DIRS)}/ (request MSP-Podcast from UT Dallas' MSP lab)."
                + (f" {self.data_dir} does not exist." if self.data_dir else "")
            )
        for candidate in (*(self.data_dir / s for s in SUBFOLDERS), self.data_dir):
            if self._labels_in(candidate) is not None:
                return candidate
        raise DataNotFoundError(
            f"No labels file in {self.data_dir} (or its {', '.join(SUBFOLDERS)} sub-folders): "
            f"expected one of {', '.join(LABEL_FILES)}, or pass --task-args labels_file=PATH."
        )

    def _labels_in(self, folder: Path) -> Path | None:
        names = [self.options.labels_file] if self.options.labels_file else LABEL_FILES
        return next((folder / n for n in names if (folder / n).is_file()), None)

    @cached_property
    def _audio_dir(self) -> Path:
        return next((self._root / d for d in AUDIO_DIRS if (self._root / d).is_dir()), self._root)

    @cached_property
    def _table(self) -> Table:
        """The labels file read once; values are parsed per split when needed."""
        path = self._labels_in(self._root)
        assert path is not None  # _root found it
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            names, msp = _resolve_columns(path, reader.fieldnames or [])
            raw = [(reader.line_num, row) for row in reader]
        scale = self.options.scale if self.options.scale != "auto" else ("1-7" if msp else "0-1")
        return Table(path, raw, names, msp, scale)

    def _rows_of(self, split: str) -> list[Row]:
        """Parsed rows of one split (other splits may hold unreleased or odd labels)."""
        t = self._table
        column = t.names["split"]
        chosen = [(n, r) for n, r in t.raw if (r.get(column) or "").strip() == split]
        return [_parse_row(t.path, n, r, t.names, t.scale) for n, r in chosen]

    @cached_property
    def _warnings(self) -> list[str]:
        empty = sum(v is None for r in self._split_rows for v in r.values.values())
        if not empty:
            return []
        return [f"{empty} empty label cell(s) in the split: those pairs are dropped"]

    @cached_property
    def _split_rows(self) -> list[Row]:
        t = self._table
        by_name = {(r.get(t.names["split"]) or "").strip(): None for _, r in t.raw}
        lower = {name.lower(): name for name in by_name}
        wanted = self.options.split.lower()
        chosen = lower.get(wanted) or lower.get(SPLIT_ALIASES.get(wanted, ""))
        if chosen is None:
            raise VoxevalError(
                f"No rows of split {self.options.split!r} in {t.path}; its splits are "
                f"{', '.join(sorted(by_name))}. Pass --task-args split=NAME."
            )
        rows, seen = self._rows_of(chosen), set()
        for row in rows:
            if row.id in seen:
                raise VoxevalError(f"{t.path}: clip {row.id!r} appears twice in split {chosen}.")
            seen.add(row.id)
        return rows


def _preprocessing(table: Table, declared: str) -> dict[str, Any]:
    """The label transform for run.json: scale, formula onto 0–1 and the columns it applies to."""
    low, high = SCALES[table.scale]
    span = high - low
    transform = "none" if (low, span) == (0.0, 1.0) else f"(x-{low:g})/{span:g}"
    return {
        "label_scale": table.scale,
        "scale_option": declared,  # "auto": 1-7 with MSP-Podcast column names, else 0-1
        "transform": transform,
        "target_scale": "0-1",
        "columns": {d: table.names[d] for d in DIMS},
    }


def _resolve_columns(path: Path, header: list[str]) -> tuple[dict[str, str], bool]:
    """Our name → the file's column name, and whether MSP-Podcast names were used."""
    lower = {h.lower(): h for h in header}
    names, missing, msp = {}, [], False
    for ours, options in {**COLUMNS, **OPTIONAL_COLUMNS}.items():
        found = next((lower[o.lower()] for o in options if o.lower() in lower), None)
        if found is None and ours in COLUMNS:
            missing.append(" or ".join(options))
        elif found is not None:
            names[ours] = found
            msp = msp or (found.lower() == options[1].lower() and ours in DIMS)
    if missing:
        raise VoxevalError(
            f"{path}: missing column(s) {'; '.join(missing)} (found: {', '.join(header)})."
        )
    return names, msp


def _parse_row(
    path: Path, line: int, raw: dict[str, str], names: dict[str, str], scale: str
) -> Row:
    """One CSV row → Row, values checked against and mapped from the declared scale."""
    file = (raw.get(names["file"]) or "").strip()
    if not file:
        raise VoxevalError(f"{path}:{line}: empty {names['file']} cell.")
    low, high = SCALES[scale]
    values: dict[str, float | None] = {}
    for dim in DIMS:
        cell = (raw.get(names[dim]) or "").strip()
        try:
            x = float(cell) if cell else None
        except ValueError:
            raise VoxevalError(f"{path}:{line}: {names[dim]} {cell!r} is not a number.") from None
        if x is not None and not low <= x <= high:
            hint = (
                " (the values look 1-7: pass --task-args scale=1-7)"
                if scale == "0-1" and x <= 7
                else ""
            )
            raise VoxevalError(
                f"{path}:{line}: {names[dim]} {x} is outside the declared scale {scale}{hint}."
            )
        values[dim] = None if x is None else (x - low) / (high - low)
    meta = {k: raw[names[k]].strip() for k in OPTIONAL_COLUMNS if k in names and raw.get(names[k])}
    return Row(file, (raw.get(names["split"]) or "").strip(), values, meta)


@hookimpl
def register_tasks(register: Callable[..., None]) -> None:
    """Register adv-regression."""
    register(AdvRegression)


@hookimpl
def register_metrics(register: Callable[..., None]) -> None:
    """Register ccc_mean (mean of per-dimension CCCs)."""
    register(MeanCCC())
