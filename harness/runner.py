"""Run an evaluation: resolve plugins, find or start the run folder, infer, score, write."""

from __future__ import annotations

import hashlib
import itertools
import json
import platform
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from voxeval import __version__
from voxeval.adapter import ADAPTERS, Adapter, TaskContext
from voxeval.checkpoint import RETRYABLE_ERROR_KINDS, SamplesFile
from voxeval.errors import VoxevalError
from voxeval.inference import run_task_inference
from voxeval.judge import JudgeConfig
from voxeval.results import (
    RUN_FILE,
    DatasetIdentity,
    ModelRecord,
    RunResult,
    TaskResult,
    read_run,
    redact,
    write_run,
)
from voxeval.scoring import score_task
from voxeval.task import TASKS, Task, expand_task_names
from voxeval.workspace import git_sha, hardware, prepare_output_dir, safe_name

Progress = Callable[[str, int, int], Callable[[int], None]]


@dataclass
class RunConfig:
    """Everything that defines a run; equal configs resume the same run folder."""

    model: str
    tasks: list[str]
    model_args: dict[str, Any] = field(default_factory=dict)
    limit: int | None = None
    data_dir: Path | None = None
    task_args: dict[str, Any] = field(default_factory=dict)  # --task-args, for every task
    output_dir: Path = Path("runs")
    judge: JudgeConfig | None = None  # scoring only: not part of the run's fingerprint


@dataclass
class PlannedTask:
    """A task instance with its (possibly limited) sample list and dataset identity."""

    task: Task
    samples: list
    dataset: DatasetIdentity


def plan_tasks(config: RunConfig) -> list[PlannedTask]:
    """Instantiate tasks, list their samples and identify their data (fails before any model)."""
    planned = []
    names = expand_task_names(config.tasks)
    classes = [TASKS.get(name) for name in names]
    unused = set(config.task_args) - {f for c in classes for f in c.Options.model_fields}
    if unused:
        raise VoxevalError(
            f"--task-args {', '.join(sorted(unused))}: no selected task takes "
            f"{'it' if len(unused) == 1 else 'them'} ({', '.join(names)})."
        )
    for cls in classes:
        task = cls(config.data_dir, config.task_args)
        everything = task.samples()
        samples = list(itertools.islice(everything, config.limit) if config.limit else everything)
        info = task.dataset()
        available = task.count() if config.limit else len(samples)
        dataset = DatasetIdentity(**asdict(info), n=len(samples), n_available=available)
        planned.append(PlannedTask(task, samples, dataset))
    return planned


def check_compatible(adapter_cls: type[Adapter], planned: list[PlannedTask]) -> None:
    """Refuse a task whose kind the adapter cannot serve, naming what it can."""
    for p in planned:
        if p.task.kind not in adapter_cls.supports:
            raise VoxevalError(
                f"Model {adapter_cls.name!r} cannot run task {p.task.name!r}: the task is of kind "
                f"{p.task.kind!r} and the model supports {', '.join(sorted(adapter_cls.supports))}."
            )


def fingerprint(config: RunConfig, adapter_args: dict[str, Any], planned: list[PlannedTask]) -> str:
    """Hash of what makes results comparable: model, args, tasks + versions + data, limit."""
    payload = {
        "model": config.model,
        "args": redact(adapter_args),
        "limit": config.limit,
        "task_args": config.task_args,
        "tasks": [
            {"name": p.task.name, "version": p.task.version, "data": p.dataset.model_dump()}
            for p in planned
        ],
    }
    blob = json.dumps(payload, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()


def is_complete(run: RunResult) -> bool:
    """Finished, with no failures that another attempt could fix (adapter errors)."""
    retryable = (k for t in run.tasks.values() for k in t.errors_by_kind)
    return run.status == "success" and not any(k in RETRYABLE_ERROR_KINDS for k in retryable)


def find_resumable(model_dir: Path, print_: str) -> Path | None:
    """The newest incomplete run folder with this fingerprint, if any."""
    candidates = []
    for run_file in model_dir.glob(f"*/{RUN_FILE}"):
        try:
            run = read_run(run_file.parent)
        except VoxevalError:
            continue
        if run.fingerprint == print_ and not is_complete(run):
            candidates.append((run.created_at, run_file.parent))
    return max(candidates)[1] if candidates else None


def new_run_id() -> str:
    """Sortable and unique: UTC time plus random hex (identity lives in run.json)."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def samples_file_name(task_name: str) -> str:
    """File name of a task's per-sample JSONL inside the run folder."""
    return f"samples-{safe_name(task_name)}.jsonl"


def run_evaluation(config: RunConfig, progress: Progress | None = None) -> tuple[RunResult, Path]:
    """Run (or resume) an evaluation and return its result and folder."""
    adapter_cls = ADAPTERS.get(config.model)
    adapter = adapter_cls.from_args(config.model_args)
    planned = plan_tasks(config)
    check_compatible(adapter_cls, planned)
    args = adapter.args.model_dump()
    print_ = fingerprint(config, args, planned)
    model_dir = prepare_output_dir(Path(config.output_dir) / safe_name(config.model))
    run_dir = find_resumable(model_dir, print_)
    run = _start_or_resume(config, adapter, run_dir, print_)
    run_dir = model_dir / run.run_id
    run_dir.mkdir(exist_ok=True)
    write_run(run, run_dir)
    try:
        _infer_and_score(adapter, planned, run, run_dir, progress, config.judge)
        run.status = "success"
    except KeyboardInterrupt:
        run.status, run.error = "cancelled", "interrupted by the user"
        raise
    except Exception as exc:
        run.status, run.error = "error", f"{type(exc).__name__}: {exc}"
        raise
    finally:
        run.finished_at = datetime.now(timezone.utc)
        write_run(run, run_dir)
        adapter.close()
    return run, run_dir


def _start_or_resume(
    config: RunConfig, adapter: Adapter, run_dir: Path | None, print_: str
) -> RunResult:
    if run_dir is not None:
        run = read_run(run_dir)
        run.status, run.error, run.resumed = "started", None, run.resumed + 1
        return run
    return RunResult(
        run_id=new_run_id(),
        status="started",
        fingerprint=print_,
        created_at=datetime.now(timezone.utc),
        voxeval_version=__version__,
        git_sha=git_sha(),
        python=platform.python_version(),
        platform=platform.platform(),
        hardware=hardware(),
        model=ModelRecord(
            name=config.model,
            adapter=type(adapter).__name__,
            adapter_plugin=ADAPTERS.owners().get(config.model),
            args=redact(adapter.args.model_dump()),
        ),
        limit=config.limit,
        data_dir=str(config.data_dir) if config.data_dir else None,
        task_args=redact(config.task_args),
    )


def _infer_and_score(
    adapter: Adapter,
    planned: list[PlannedTask],
    run: RunResult,
    run_dir: Path,
    progress: Progress | None,
    judge: JudgeConfig | None = None,
) -> None:
    loaded = False
    for p in planned:
        checkpoint = SamplesFile(run_dir / samples_file_name(p.task.name))
        done = checkpoint.finished_ids()
        pending = [s for s in p.samples if s.id not in done]
        wall = time.perf_counter()
        load_s = 0.0
        if pending and not loaded:
            adapter.load()
            load_s, loaded = time.perf_counter() - wall, True
            run.model.info = adapter.model_info()
            run.model.revision = run.model.info.get("revision")
        tick = (
            progress(p.task.name, len(p.samples), len(p.samples) - len(pending))
            if progress
            else None
        )
        context = TaskContext(name=p.task.name, kind=p.task.kind, **p.task.adapter_context())
        try:
            run_task_inference(adapter, pending, context, checkpoint, p.task.prompt, tick)
        finally:
            checkpoint.close()
        if loaded:  # adapters learn things while predicting (e.g. how labels were mapped)
            run.model.info = adapter.model_info()
        previous = run.tasks.get(p.task.name)
        ids = [s.id for s in p.samples]
        result = score_records(p.task, p.dataset, checkpoint, ids, judge)
        result.timing.wall_s = (
            time.perf_counter() - wall + (previous.timing.wall_s if previous else 0)
        )
        result.timing.load_s = load_s + (previous.timing.load_s if previous else 0)
        run.tasks[p.task.name] = result
        write_run(run, run_dir)


def score_records(
    task: Task | type[Task],
    dataset: DatasetIdentity,
    checkpoint: SamplesFile,
    ids: list[str],
    judge: JudgeConfig | None = None,
) -> TaskResult:
    """Score the records of `ids` in a samples file into a TaskResult (timing from records).

    Judge ratings and replies, when a judge ran, go to judge-<task>.jsonl beside it.
    """
    records = checkpoint.read()
    ordered = [records[i] for i in ids if i in records]
    scored = score_task(type(task) if isinstance(task, Task) else task, ordered, judge)
    judge_rows = scored.pop("judge_rows")
    if judge_rows is not None:
        _write_jsonl(checkpoint.path.with_name(f"judge-{safe_name(task.name)}.jsonl"), judge_rows)
    result = TaskResult(
        task=task.name,
        task_version=task.version,
        kind=task.kind,
        dataset=dataset,
        samples_file=checkpoint.path.name,
        **scored,
    )
    ok = [r for r in ordered if not r.get("error")]
    result.timing.model_s = sum(r.get("model_s") or 0.0 for r in ok)
    result.timing.audio_s = sum(r.get("audio_s") or 0.0 for r in ok)
    if result.timing.model_s > 0:
        result.timing.rtfx = result.timing.audio_s / result.timing.model_s
    _sum_usage(result, ok)
    return result


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def _sum_usage(result: TaskResult, records: list[dict[str, Any]]) -> None:
    usages = [r["usage"] for r in records if r.get("usage")]
    result.usage.input_tokens = sum(u.get("input_tokens") or 0 for u in usages)
    result.usage.output_tokens = sum(u.get("output_tokens") or 0 for u in usages)
    costs = [u["cost_usd"] for u in usages if u.get("cost_usd") is not None]
    result.usage.cost_usd = sum(costs) if costs else None
