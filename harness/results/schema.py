"""The run.json schema (pydantic): everything a reported number needs to be trusted.

Validation is strict because run folders are input, from this machine or a stranger's: every
float is finite, every count is bounded, names that become file names are bare and safe, and
only schema versions this release knows are read (see `voxeval.results.reader`).
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

SCHEMA_VERSION = 2
# 1: the first release; 2 adds MetricValue.metric (the registered metric behind a result).
READABLE_SCHEMA_VERSIONS = (1, 2)
RUN_FILE = "run.json"
MAX_COUNT = 10**12  # samples, tokens, resumes: far above any real run, far below overflow
MAX_SECONDS = 10**9

Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
Seconds = Annotated[float, Field(ge=0, le=MAX_SECONDS)]
# A name that becomes one path component: no separators, no leading dot, no "..".
SAFE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$"
SafeName = Annotated[str, StringConstraints(pattern=SAFE_NAME_PATTERN)]
JsonlName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}\.jsonl$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="null", allow_inf_nan=False)


class MetricValue(_Model):
    """One metric's value; `value` is None when undefined (e.g. no reference words)."""

    value: float | None = Field(description="the metric over all scored samples")
    ci_low: float | None = Field(None, description="lower bound of the bootstrap CI")
    ci_high: float | None = Field(None, description="upper bound of the bootstrap CI")
    n: Count = Field(description="samples the value is computed over")
    higher_is_better: bool
    metric: str | None = Field(
        None, description="the registered metric behind this result (e.g. ccc for ccc_valence)"
    )
    params: dict[str, Any] = Field(default_factory=dict, description="normaliser, CI method…")
    details: dict[str, Any] = Field(default_factory=dict, description="edit counts etc.")

    @model_validator(mode="after")
    def _ordered_interval(self) -> MetricValue:
        if (self.ci_low is None) != (self.ci_high is None):
            raise ValueError("ci_low and ci_high must be given together (or both be null)")
        if self.ci_low is not None and self.ci_high is not None and self.ci_low > self.ci_high:
            raise ValueError(f"ci_low {self.ci_low} is above ci_high {self.ci_high}")
        return self


class DatasetIdentity(_Model):
    """Which data: hub id + revision, or a content hash, plus split and size."""

    id: str
    split: str | None = None
    revision: str | None = None
    content_hash: str | None = None
    hash_method: str | None = None
    source: str | None = None
    demo: bool = Field(False, description="demo or fixture data, never a benchmark result")
    warnings: list[str] = Field(default_factory=list, description="data problems, counted")
    preprocessing: dict[str, Any] = Field(
        default_factory=dict, description="declared label/data transforms, e.g. 1-7 → 0-1"
    )
    n: Count = Field(description="samples evaluated (after --limit)")
    n_available: Count | None = Field(None, description="samples in the split")


class Timing(_Model):
    """Where the time went; RTFx = audio seconds / model seconds (after warm-up)."""

    wall_s: Seconds = 0.0
    model_s: Seconds = 0.0
    audio_s: Seconds = 0.0
    rtfx: Annotated[float, Field(ge=0)] | None = None
    load_s: Seconds = 0.0


class UsageTotals(_Model):
    """Tokens and cost summed over responses that reported them."""

    input_tokens: Count = 0
    output_tokens: Count = 0
    cost_usd: Annotated[float, Field(ge=0)] | None = None


class TaskResult(_Model):
    """One task's results inside a run."""

    task: str
    task_version: str
    kind: str
    dataset: DatasetIdentity
    samples_file: JsonlName = Field(description="per-sample JSONL: a file in the run folder")
    metrics: dict[str, MetricValue] = Field(default_factory=dict)
    breakdowns: dict[str, dict[str, dict[str, MetricValue]]] = Field(
        default_factory=dict, description="field → group → metric → value"
    )
    n_samples: Count = 0
    n_scored: Count = 0
    n_errors: Count = 0
    errors_by_kind: dict[str, Count] = Field(default_factory=dict)
    error_policy: str = "failed samples are excluded from metrics and counted in n_errors"
    timing: Timing = Field(default_factory=Timing)
    usage: UsageTotals = Field(default_factory=UsageTotals)


class ModelRecord(_Model):
    """The model: registered name, adapter arguments (secrets redacted) and identity."""

    name: str
    adapter: str
    adapter_plugin: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    revision: str | None = Field(None, description="weights revision/version, when known")
    info: dict[str, Any] = Field(default_factory=dict, description="what the adapter reports")


class RunResult(_Model):
    """A whole run; written at start (status "started") and rewritten when it ends."""

    schema_version: int = SCHEMA_VERSION
    run_id: SafeName
    status: Literal["started", "success", "error", "cancelled"]
    fingerprint: str = Field(description="hash of model, args, tasks, data, limit: resume key")
    created_at: datetime
    finished_at: datetime | None = None
    voxeval_version: str
    git_sha: str | None = None
    python: str | None = None
    platform: str | None = None
    hardware: dict[str, Any] = Field(default_factory=dict, description="CPU, cores, memory")
    model: ModelRecord
    tasks: dict[str, TaskResult] = Field(default_factory=dict)
    limit: Annotated[int, Field(ge=1, le=MAX_COUNT)] | None = None
    data_dir: str | None = None
    task_args: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    resumed: Count = Field(0, description="how many times this run was resumed")

    @model_validator(mode="before")
    @classmethod
    def _known_version(cls, data: Any) -> Any:
        # Checked first, so a future file gets this message instead of field errors.
        version = data.get("schema_version", SCHEMA_VERSION) if isinstance(data, dict) else None
        if version not in READABLE_SCHEMA_VERSIONS or isinstance(version, bool):
            readable = ", ".join(map(str, READABLE_SCHEMA_VERSIONS))
            raise ValueError(
                f"schema_version {version!r} is not one this voxeval reads (it reads "
                f"{readable}); upgrade voxeval to read newer results"
            )
        return data

    @model_validator(mode="after")
    def _task_keys_match(self) -> RunResult:
        for key, task in self.tasks.items():
            if key != task.task:
                raise ValueError(f"tasks[{key!r}] holds the results of task {task.task!r}")
        return self


def write_run(run: RunResult, run_dir: Path) -> Path:
    """Atomically write run.json (temp file + rename) so a crash never leaves half a file."""
    path = run_dir / RUN_FILE
    run.schema_version = SCHEMA_VERSION  # what this release writes, even into an older run
    fd, tmp = tempfile.mkstemp(dir=run_dir, prefix=".run.", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(run.model_dump_json(indent=2))
    os.chmod(tmp, 0o644)  # mkstemp makes 0600; results are meant to be shared
    os.replace(tmp, path)
    return path
