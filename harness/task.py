"""The Task base class: what a benchmark plugin declares and provides."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from voxeval.errors import VoxevalError
from voxeval.plugins import Registry
from voxeval.types import Sample, TaskKind


@dataclass(frozen=True)
class MetricSpec:
    """One metric a task reports, and which record fields feed it.

    `prediction` is "text", "label" or "values.<key>"; `reference` is "reference" (the first
    reference), "references" (all of them) or "labels.<key>".
    """

    metric: str
    params: dict[str, Any] = field(default_factory=dict)
    prediction: str = "text"
    reference: str = "reference"
    key: str | None = None  # name in results; defaults to the metric name

    @property
    def result_name(self) -> str:
        """The name this metric has in run.json."""
        return self.key or self.metric


@dataclass(frozen=True)
class DatasetInfo:
    """Identity of the data a task ran on: hub id + revision, or a content hash."""

    id: str
    split: str | None = None
    revision: str | None = None
    content_hash: str | None = None
    hash_method: str | None = None
    demo: bool = False
    source: str | None = None  # where it was read from (hub or local path)
    warnings: tuple[str, ...] = ()  # data problems that did not stop loading, counted
    preprocessing: dict[str, Any] = field(default_factory=dict)  # e.g. label scale mapping


@dataclass(frozen=True)
class OfficialData:
    """The data identity a task's published, ranked results must have (`voxeval publish`).

    A run's dataset matches when its id and split are these and its revision or content hash
    equals the one given here. An entry with neither names the official dataset but pins no
    identity yet: it matches nothing, so such runs are published as unofficial.
    """

    id: str
    split: str
    revision: str | None = None
    content_hash: str | None = None

    @property
    def pinned(self) -> bool:
        """Whether a run can match this entry (a revision or a content hash is declared)."""
        return bool(self.revision or self.content_hash)


class Task:
    """Base class for benchmark tasks; subclasses set the class attributes and two methods."""

    name: ClassVar[str]
    version: ClassVar[str]
    kind: ClassVar[TaskKind]
    description: ClassVar[str]
    metrics: ClassVar[tuple[MetricSpec, ...]]
    breakdowns: ClassVar[tuple[str, ...]] = ()
    prompt: ClassVar[str | None] = None
    judge_rubric: ClassVar[str | None] = None  # scored by an LLM judge when one is given
    # Options that change only how records are scored (not what the model is asked): left
    # out of the run's fingerprint, so changing one re-scores a finished run.
    scoring_options: ClassVar[frozenset[str]] = frozenset()
    # Where the benchmark's own protocol and voxeval's options for it are explained.
    protocol_doc: ClassVar[str | None] = None
    # Other judging protocols the task follows on request (--judge-args protocol=NAME).
    judge_protocols: ClassVar[dict[str, str]] = {}
    # The leaderboard board this task is ranked on: a board's tasks form its fixed suite, so
    # a model is ranked there only with a result on every one (voxeval.leaderboard.boards).
    board: ClassVar[str] = "other"
    # The data a result must come from to be ranked on the public board (voxeval.publish_gates);
    # runs of a task that declares none are published as unofficial.
    official_data: ClassVar[tuple[OfficialData, ...]] = ()

    Options: ClassVar[type[BaseModel]]  # set below: no options

    def __init__(self, data_dir: Path | None = None, options: dict[str, Any] | None = None) -> None:
        self.data_dir = Path(data_dir) if data_dir else None
        known = {k: v for k, v in (options or {}).items() if k in self.Options.model_fields}
        try:
            self.options = self.Options(**known)
        except ValidationError as exc:
            problems = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())
            raise VoxevalError(f"Bad --task-args for {self.name!r}: {problems}.") from None

    def dataset(self) -> DatasetInfo:
        """Identity of the data this task instance reads."""
        raise NotImplementedError

    def samples(self) -> Iterator[Sample]:
        """Yield the samples in a stable order; audio stays undecoded."""
        raise NotImplementedError

    def count(self) -> int:
        """How many samples the split has (override when iterating samples is costly)."""
        return sum(1 for _ in self.samples())

    def adapter_context(self) -> dict[str, Any]:
        """Extra TaskContext fields for adapters: labels, label_prior, value_means."""
        return {}

    @classmethod
    def scoring_rows(cls, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Rows the metrics score, from successful records (default: the records).

        Override to interpret free text (map an answer to a label, parse a number) or to
        expand one record into several rows (e.g. one per emotion); runs at scoring time,
        so `voxeval score` applies a changed interpretation without re-running the model.
        It is called on consecutive chunks of records (voxeval.streaming), so each record
        must be interpreted on its own.
        """
        return records

    @classmethod
    def judge_item(cls, record: dict[str, Any]) -> dict[str, Any]:
        """The judge rubric's fields for one sample record (override per task)."""
        return {"response": (record.get("prediction") or {}).get("text") or ""}

    def metric_specs(self) -> tuple[MetricSpec, ...]:
        """The metrics this instance reports (the class's, unless options change them)."""
        return self.metrics

    @classmethod
    def judge_prompt_key(cls) -> str:
        """Which entry of a user's judge prompt file is this task's (default: its name)."""
        return cls.name

    @classmethod
    def metric_names(cls) -> list[str]:
        """Names of the metrics this task reports."""
        return [spec.result_name for spec in cls.metrics]


def hash_files(files: dict[str, Path], contents: bool) -> str:
    """SHA-256 over names (as the manifest gives them) plus contents, or sizes for big data."""
    digest = hashlib.sha256()
    for name in sorted(files):
        path = files[name]
        digest.update(name.encode() + b"\0")
        digest.update(path.read_bytes() if contents else str(path.stat().st_size).encode())
        digest.update(b"\0")
    return digest.hexdigest()


class TaskOptions(BaseModel):
    """Base for a task's --task-args (any pydantic model works): the validator is built on
    first use, so a run does not build the options of every installed task at start-up."""

    model_config = ConfigDict(defer_build=True)


class NoOptions(TaskOptions):
    """A task without --task-args."""


Task.Options = NoOptions


@dataclass(frozen=True)
class TaskGroup:
    """A name that stands for several tasks (e.g. all SD-Eval subsets)."""

    name: str
    members: tuple[str, ...]
    description: str
    kind: str = "group"
    version: str = "-"

    def metric_names(self) -> list[str]:
        """Groups report their members' metrics."""
        return []


TASKS: Registry = Registry("task", "register_tasks", lambda cls: cls.name)


def expand_task_names(names: list[str]) -> list[str]:
    """Replace group names by their members (recursively), keeping order, dropping repeats."""
    out: list[str] = []
    for name in names:
        entry = TASKS.get(name)
        members = expand_task_names(list(entry.members)) if isinstance(entry, TaskGroup) else [name]
        out.extend(m for m in members if m not in out)
    return out
