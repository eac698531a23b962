"""Sample and judge records (JSON lines) as untrusted input: one schema, problems per line.

A samples file is append-only: the newline ends a record, so a line without one was cut by
a crash. Readers skip or refuse bad lines and never change the file; only the runner,
holding the run's lock, repairs it (`voxeval.checkpoint`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError
from typing_extensions import Required, TypedDict

from voxeval.results.files import (
    MAX_LINE_BYTES,
    UnboundedNumberError,
    UnsafeResultsError,
    offset_lines,
    open_in,
    strict_json,
)
from voxeval.results.offsets import OffsetBuilder, OffsetTable, same_hash
from voxeval.results.schema import Count, Seconds

_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)
SampleId = Annotated[str, StringConstraints(min_length=1, max_length=512)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
LOOKUP_BATCH = 1024  # ids hashed and looked up at once (numpy per batch, not per id)


class Prediction(TypedDict, total=False):
    """What a model answered: the fields of `Response.prediction()`."""

    __pydantic_config__ = _STRICT  # type: ignore[misc]
    text: str | None
    label: str | None
    scores: dict[str, Finite | None] | None
    values: dict[str, Any] | None


class RecordError(TypedDict):
    """Why a sample failed: kind (adapter, decode, missing…) and message."""

    __pydantic_config__ = _STRICT  # type: ignore[misc]
    kind: str
    message: str


class RecordUsage(TypedDict, total=False):
    """Tokens and cost of one response."""

    __pydantic_config__ = _STRICT  # type: ignore[misc]
    input_tokens: Count
    output_tokens: Count
    cost_usd: Annotated[float, Field(ge=0)] | None


class SampleRecord(TypedDict, total=False):
    """One line of samples-<task>.jsonl."""

    __pydantic_config__ = _STRICT  # type: ignore[misc]
    sample_id: Required[SampleId]
    task: str
    references: list[str]
    labels: dict[str, Any]
    metadata: dict[str, Any]
    prediction: Prediction
    audio_s: Seconds
    model_s: Seconds
    usage: RecordUsage | None
    error: RecordError | None


ShortText = Annotated[str, StringConstraints(max_length=400)]


class JudgeProvenance(TypedDict, total=False):
    """What shaped a row's ratings: judge model, sampling, protocol, rubric and parse rule."""

    __pydantic_config__ = _STRICT  # type: ignore[misc]
    model: ShortText | None
    revision: ShortText | None
    seed: int | None
    temperature: Finite | None
    protocol: ShortText
    rubric: ShortText
    rubric_version: ShortText
    prompt_hash: ShortText
    parse: ShortText


class JudgeRow(TypedDict, total=False):
    """One line of judge-<task>.jsonl: an item's mean rating, its ratings and the replies.

    `served_models` (per rating: the model and build the server says answered) and `judge`
    are written since judge protocols became selectable; older rows lack them.
    """

    __pydantic_config__ = _STRICT  # type: ignore[misc]
    sample_id: Required[SampleId]
    score: Required[Finite | None]
    ratings: Required[list[Finite | None]]
    replies: Required[list[str | None]]
    served_models: list[ShortText | None]
    judge: JudgeProvenance


SAMPLE_RECORD = TypeAdapter(SampleRecord)
JUDGE_ROW = TypeAdapter(JudgeRow)
PREDICTION = TypeAdapter(Prediction)


@dataclass(frozen=True)
class BadLine:
    """A line that is not a valid record: its number, why, and its bytes (for the side file)."""

    number: int
    reason: str
    raw: bytes = field(repr=False)


@dataclass
class RecordScan:
    """A JSON-lines file read through: the latest valid record per id, and every bad line."""

    latest: dict[str, dict[str, Any]] = field(default_factory=dict)
    bad: list[BadLine] = field(default_factory=list)
    valid_lines: int = 0

    def problem(self, path: Path) -> str:
        """One message naming the file and its bad lines (the first few)."""
        shown = "; ".join(f"line {b.number}: {b.reason}" for b in self.bad[:3])
        more = f" (and {len(self.bad) - 3} more)" if len(self.bad) > 3 else ""
        return f"{path} has {len(self.bad)} bad line(s): {shown}{more}"


def validation_reason(exc: ValidationError) -> str:
    """The first problem of a pydantic error as "field: message"."""
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "record"
    return f"{where}: {err['msg']}"


def parse_line(raw: bytes, schema: TypeAdapter = SAMPLE_RECORD) -> tuple[Any, str | None]:
    """(record, None) for a valid line, (None, reason) for anything else."""
    if raw == b"\0too long":
        return None, "longer than the line limit"
    if not raw.endswith(b"\n"):
        return None, "cut off (no line end: the write was interrupted)"
    try:
        data = strict_json(raw)
    except UnboundedNumberError as exc:
        return None, str(exc)[:120]
    except ValueError as exc:  # bad JSON, or a line cut inside a UTF-8 character
        return None, f"not valid JSON ({str(exc)[:80]})"
    try:
        return schema.validate_python(data), None
    except ValidationError as exc:
        return None, validation_reason(exc)


def valid_records(
    numbered: Iterable[tuple[int, int, bytes]], schema: TypeAdapter, bad: list[BadLine]
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(byte offset, record) of each valid line; each bad line is added to `bad` instead."""
    for number, offset, raw in numbered:
        record, reason = parse_line(raw, schema)
        if reason is None:
            yield offset, record
        else:
            bad.append(BadLine(number, reason, raw))


def scan_lines(numbered: Iterable[tuple[int, int, bytes]], schema: TypeAdapter) -> RecordScan:
    """Read numbered raw lines into a RecordScan (latest record per sample id wins)."""
    scan = RecordScan()
    for _, record in valid_records(numbered, schema, scan.bad):
        scan.latest[record["sample_id"]] = record
        scan.valid_lines += 1
    return scan


@dataclass
class RecordIndex:
    """Where each id's latest valid record starts in a JSON-lines file, and every bad line.

    Memory is 24 bytes per id (`voxeval.results.offsets`), not the records nor even the ids:
    `records` reads them back one at a time, so a 100k-sample file is scored without
    holding it.
    """

    folder: Path
    name: str
    schema: TypeAdapter = SAMPLE_RECORD
    table: OffsetTable = field(default_factory=OffsetTable)
    bad: list[BadLine] = field(default_factory=list)
    valid_lines: int = 0

    def __len__(self) -> int:
        return len(self.table)

    def records(self, ids: Iterable[str] | None = None) -> Iterator[dict[str, Any]]:
        """The latest record of each id in `ids` that has one, in that order.

        Without `ids`: every id's latest record, in the order of each id's first line.
        """
        with open_in(self.folder, self.name, "samples file") as fh:
            if ids is None:
                for offset in self.table.in_order.tolist():
                    yield self._read(fh, offset, None)
                return
            left = iter(ids)
            while batch := list(islice(left, LOOKUP_BATCH)):
                for sample_id, offset in zip(batch, self.table.candidates(batch), strict=True):
                    record = None if offset is None else self._read(fh, offset, sample_id)
                    # A different id of the same hash: this one has no record.
                    if record is not None and record["sample_id"] == sample_id:
                        yield record

    def _read(self, fh: IO[bytes], offset: int, sample_id: str | None) -> dict[str, Any]:
        """The valid record at `offset`; the file changed under us if there is none."""
        fh.seek(offset)
        record, reason = parse_line(fh.readline(MAX_LINE_BYTES + 1), self.schema)
        if reason is None and (sample_id is None or same_hash(record["sample_id"], sample_id)):
            return record
        # Refuse, never guess: a line changed, or it now holds an id of another hash.
        what = "a record" if sample_id is None else f"the record of {sample_id!r}"
        raise UnsafeResultsError(
            f"{self.folder / self.name}: {what} changed while it was being scored "
            f"({reason or 'another sample id'}). Nothing was written; run the same command "
            "again once no other process is writing the run."
        )


def index_jsonl(folder: Path, name: str, schema: TypeAdapter = SAMPLE_RECORD) -> RecordIndex:
    """Index folder/name read-only: one pass, every line validated, nothing kept but offsets."""
    index = RecordIndex(Path(folder), name, schema)
    try:
        fh = open_in(folder, name, "samples file")
    except FileNotFoundError:
        return index
    builder = OffsetBuilder()
    with fh:
        for offset, record in valid_records(offset_lines(fh), schema, index.bad):
            builder.add(record["sample_id"], offset)
            index.valid_lines += 1
        index.table = builder.build(lambda offset: index._read(fh, offset, None)["sample_id"])
    return index


def read_jsonl(folder: Path, name: str, schema: TypeAdapter = SAMPLE_RECORD) -> RecordScan:
    """Scan folder/name read-only (a bare name, no symlink); a missing file scans empty."""
    try:
        fh = open_in(folder, name, "samples file")
    except FileNotFoundError:
        return RecordScan()
    with fh:
        return scan_lines(offset_lines(fh), schema)
