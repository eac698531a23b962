"""The run.json schema (pydantic): everything a reported number needs to be trusted."""

from __future__ import annotations

import os
import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from voxeval.errors import VoxevalError

SCHEMA_VERSION = 1
RUN_FILE = "run.json"
_SECRET_KEY = re.compile(r"(api[_-]?key|token|secret|password|passwd|authorization|bearer)", re.I)
_SECRET_VALUE = re.compile(r"^(sk-|hf_|Bearer\s)", re.I)
REDACTED = "***redacted***"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="null")


class MetricValue(_Model):
    """One metric's value; `value` is None when undefined (e.g. no reference words)."""

    value: float | None = Field(description="the metric over all scored samples")
    ci_low: float | None = Field(None, description="lower bound of the bootstrap CI")
    ci_high: float | None = Field(None, description="upper bound of the bootstrap CI")
    n: int = Field(description="samples the value is computed over")
    higher_is_better: bool
    params: dict[str, Any] = Field(default_factory=dict, description="normaliser, CI method…")
    details: dict[str, Any] = Field(default_factory=dict, description="edit counts etc.")


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
    n: int = Field(description="samples evaluated (after --limit)")
    n_available: int | None = Field(None, description="samples in the split")


class Timing(_Model):
    """Where the time went; RTFx = audio seconds / model seconds (after warm-up)."""

    wall_s: float = 0.0
    model_s: float = 0.0
    audio_s: float = 0.0
    rtfx: float | None = None
    load_s: float = 0.0


class UsageTotals(_Model):
    """Tokens and cost summed over responses that reported them."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None


class TaskResult(_Model):
    """One task's results inside a run."""

    task: str
    task_version: str
    kind: str
    dataset: DatasetIdentity
    samples_file: str = Field(description="per-sample JSONL, relative to the run folder")
    metrics: dict[str, MetricValue] = Field(default_factory=dict)
    breakdowns: dict[str, dict[str, dict[str, MetricValue]]] = Field(
        default_factory=dict, description="field → group → metric → value"
    )
    n_samples: int = 0
    n_scored: int = 0
    n_errors: int = 0
    errors_by_kind: dict[str, int] = Field(default_factory=dict)
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
    run_id: str
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
    limit: int | None = None
    data_dir: str | None = None
    task_args: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    resumed: int = Field(0, description="how many times this run was resumed")


def redact(args: dict[str, Any]) -> dict[str, Any]:
    """Replace values of secret-looking keys or values with a marker (nested dicts too)."""
    out: dict[str, Any] = {}
    for key, value in args.items():
        if isinstance(value, dict):
            out[key] = redact(value)
            continue
        # "*_env" arguments name an environment variable; the name is not the secret. A number
        # under a "token" key is a count (max_new_tokens), never a credential.
        secret_key = _SECRET_KEY.search(str(key)) and not str(key).endswith("_env")
        counted = isinstance(value, int | float) or value is None
        secret_value = isinstance(value, str) and _SECRET_VALUE.match(value)
        out[key] = REDACTED if (secret_key and not counted) or secret_value else value
    return out


def write_run(run: RunResult, run_dir: Path) -> Path:
    """Atomically write run.json (temp file + rename) so a crash never leaves half a file."""
    path = run_dir / RUN_FILE
    fd, tmp = tempfile.mkstemp(dir=run_dir, prefix=".run.", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(run.model_dump_json(indent=2))
    os.chmod(tmp, 0o644)  # mkstemp makes 0600; results are meant to be shared
    os.replace(tmp, path)
    return path


def read_run(run_dir: Path) -> RunResult:
    """Load and validate a run folder's run.json."""
    path = Path(run_dir) / RUN_FILE
    if not path.is_file():
        raise VoxevalError(f"{run_dir} is not a run folder: it has no {RUN_FILE}.")
    try:
        return RunResult.model_validate_json(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise VoxevalError(f"{path} does not match the run schema: {exc}") from None
