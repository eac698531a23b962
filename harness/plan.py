"""What a run is before any model loads: its config, its tasks' samples, its fingerprint."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import secrets
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from voxeval.adapter import Adapter
from voxeval.errors import VoxevalError
from voxeval.judge_config import JudgeConfig
from voxeval.results import DatasetIdentity
from voxeval.secrets import redact
from voxeval.task import TASKS, Task, expand_task_names
from voxeval.types import Sample
from voxeval.workspace import safe_name


@dataclass
class RunConfig:
    """Everything that defines a run; equal configs resume the same run folder."""

    model: str
    tasks: list[str]
    model_args: dict[str, Any] = field(default_factory=dict)
    limit: int | None = None
    data_dir: Path | None = None
    task_args: dict[str, Any] = field(default_factory=dict)  # --task-args, for every task
    # A suite's per-task args, merged over task_args for that task only (task name → args).
    task_args_by_task: dict[str, dict[str, Any]] = field(default_factory=dict)
    output_dir: Path = Path("runs")
    judge: JudgeConfig | None = None  # scoring only: not part of the run's fingerprint
    wait: bool = False  # queue behind another process on the same run instead of stopping
    rerun: bool = False  # evaluate again even if this configuration already finished
    # Where inference runs; none of these changes a prediction, so none is in the fingerprint.
    executor: str = "local"  # "local": this process; "ray": shards on Ray workers
    shards: int = 1  # with ray: workers per model, each loading it once
    ray_address: str | None = None  # with ray: the cluster (None: start a local one)
    resources: dict[str, float] | None = None  # with ray: num_cpus / num_gpus per worker


@dataclass
class PlannedTask:
    """A task instance with its (possibly limited) sample list and dataset identity."""

    task: Task
    samples: list[Sample]
    dataset: DatasetIdentity


def plan_tasks(config: RunConfig) -> list[PlannedTask]:
    """Instantiate tasks, list their samples and identify their data (fails before any model)."""
    planned = []
    names = expand_task_names(config.tasks)
    if not names:
        raise VoxevalError("No task given: name at least one with --tasks (voxeval list tasks).")
    classes = [TASKS.get(name) for name in names]
    unused = set(config.task_args) - {f for c in classes for f in c.Options.model_fields}
    if unused:
        raise VoxevalError(
            f"--task-args {', '.join(sorted(unused))}: no selected task takes "
            f"{'it' if len(unused) == 1 else 'them'} ({', '.join(names)})."
        )
    _check_task_args_by_task(config.task_args_by_task, names, classes)
    for cls in classes:
        options = {**config.task_args, **config.task_args_by_task.get(cls.name, {})}
        planned.append(plan_instance(cls(config.data_dir, options), config.limit))
    return planned


def _check_task_args_by_task(
    by_task: dict[str, dict[str, Any]], names: list[str], classes: list[type[Task]]
) -> None:
    """Refuse per-task args for a task not in the run, or that the task does not take."""
    options = {cls.name: cls.Options.model_fields for cls in classes}
    for name, args in by_task.items():
        if name not in options:
            raise VoxevalError(
                f"Task args for {name!r}: it is not among this run's tasks ({', '.join(names)})."
            )
        unused = sorted(set(args) - set(options[name]))
        if unused:
            takes = ", ".join(options[name]) or "no options"
            raise VoxevalError(
                f"Task args for {name!r}: it does not take {', '.join(unused)} (it takes: "
                f"{takes}); see `voxeval list tasks {name}`."
            )


_LOCAL_PATH = re.compile(r"(?<![\w.:])(?:~|\.{1,2})?/[^\s;,]+")


def shareable_source(source: str | None) -> str | None:
    """Where data came from, without this machine's paths: each local path becomes
    "local:<its last name>" (the content hash identifies the data); hub ids stay."""
    if not source:
        return source
    return _LOCAL_PATH.sub(lambda m: f"local:{Path(m.group()).name}", source)


def checked_ids(task: str, samples: list[Sample]) -> list[Sample]:
    """Samples with string ids, refusing empty or repeated ones (1 and "1" are the same)."""
    out = [s if isinstance(s.id, str) else replace(s, id=str(s.id)) for s in samples]
    empty = sum(1 for s in out if not s.id.strip())
    if empty:
        raise VoxevalError(f"Task {task!r}: {empty} sample(s) have an empty id; fix the data.")
    repeated = [sid for sid, n in Counter(s.id for s in out).items() if n > 1]
    if repeated:
        shown = ", ".join(repr(sid) for sid in repeated[:5])
        raise VoxevalError(
            f"Task {task!r}: sample id(s) {shown} occur more than once in the data (ids "
            'are compared as text, so 1 and "1" clash). Each sample needs its own id, or '
            "results would be mixed up; fix the data."
        )
    return out


def check_compatible(adapter_cls: type[Adapter], planned: list[PlannedTask]) -> None:
    """Refuse a task whose kind the adapter cannot serve, naming what it can."""
    for p in planned:
        if p.task.kind not in adapter_cls.supports:
            raise VoxevalError(
                f"Model {adapter_cls.name!r} cannot run task {p.task.name!r}: the task is of kind "
                f"{p.task.kind!r} and the model supports {', '.join(sorted(adapter_cls.supports))}."
            )


def fingerprint(config: RunConfig, adapter: Adapter, planned: list[PlannedTask]) -> str:
    """Hash of what makes results comparable: model, args that change predictions, tasks +
    versions + data, limit. Speed arguments (batch size, concurrency…) are left out."""
    payload = {
        "model": config.model,
        "args": redact(adapter.prediction_args()),
        "limit": config.limit,
        "task_args": prediction_task_args(config.task_args, planned),
        **_by_task_payload(config.task_args_by_task),
        "tasks": [
            {"name": p.task.name, "version": p.task.version, "data": p.dataset.model_dump()}
            for p in planned
        ],
    }
    blob = json.dumps(payload, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()


def _by_task_payload(by_task: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per-task args for the fingerprint; absent when none, so older runs keep theirs.

    Unlike shared task_args, scoring options stay in: run.json records only the shared
    task_args, so a finished run could not be re-scored with other per-task scoring options;
    a changed one makes a new run instead of reporting stale scores.
    """
    given = {name: redact(args) for name, args in sorted(by_task.items()) if args}
    return {"task_args_by_task": given} if given else {}


def prediction_task_args(task_args: dict[str, Any], planned: list[PlannedTask]) -> dict[str, Any]:
    """The --task-args that can change what a model is asked: scoring options left out.

    An argument is a scoring option when every planned task that takes it says so.
    """

    def scoring_only(key: str) -> bool:
        takers = [p.task for p in planned if key in p.task.Options.model_fields]
        return bool(takers) and all(key in t.scoring_options for t in takers)

    return {k: v for k, v in task_args.items() if not scoring_only(k)}


def new_run_id() -> str:
    """Sortable and unique: UTC time plus random hex (identity lives in run.json)."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def samples_file_name(task_name: str) -> str:
    """File name of a task's per-sample JSONL inside the run folder."""
    return f"samples-{safe_name(task_name)}.jsonl"


def plan_instance(task: Task, limit: int | None) -> PlannedTask:
    """Plan one task instance: its (possibly limited) samples and its data's identity."""
    everything = task.samples()
    samples = list(itertools.islice(everything, limit) if limit else everything)
    samples = checked_ids(task.name, samples)
    info = task.dataset()
    available = task.count() if limit else len(samples)
    fields = {**asdict(info), "source": shareable_source(info.source)}
    dataset = DatasetIdentity(**fields, n=len(samples), n_available=available)
    return PlannedTask(task, samples, dataset)


def plan_run(config: RunConfig, instances: list[Task]) -> list[PlannedTask]:
    """The named tasks (plan_tasks), then task instances made in Python; each name once."""
    if not instances:
        return plan_tasks(config)
    if not config.tasks and (config.task_args or config.task_args_by_task):
        raise VoxevalError(
            "Task args apply to tasks given by name; give a Task instance its options when "
            "you create it (e.g. DemoAsr(options={'normalizer': 'oasr'}))."
        )
    every = expand_task_names(config.tasks) + [t.name for t in instances]
    repeated = sorted({name for name in every if every.count(name) > 1})
    if repeated:  # each task's samples file and results entry are named after it
        raise VoxevalError(f"Task {repeated[0]!r} is given twice; a run holds each task once.")
    named = plan_tasks(config) if config.tasks else []
    return named + [plan_instance(task, config.limit) for task in instances]


def with_instance_options(config: RunConfig, instances: list[Task]) -> RunConfig:
    """The config to fingerprint: each task instance's options as its per-task args, so other
    options make another run, and an instance with none given matches its name's run."""
    given = {t.name: _options_given(t) for t in instances}
    given = {name: args for name, args in given.items() if args}
    if not given:
        return config
    return replace(config, task_args_by_task={**config.task_args_by_task, **given})


def _options_given(task: Task) -> dict[str, Any]:
    """The options set when the instance was made (defaults left out), as the CLI writes them."""
    from pydantic import BaseModel

    from voxeval.suite import cli_values

    options = getattr(task, "options", None)
    if not isinstance(options, BaseModel):
        return {}
    return cli_values(options.model_dump(mode="json", exclude_unset=True))
