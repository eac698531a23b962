"""The Python API: `voxeval.evaluate(models, tasks)` from a notebook or a script.

Names and instances go through the runner that `voxeval run` uses, so a notebook and the
command line share run folders: the same lock, resume, fingerprint and results.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from voxeval.errors import VoxevalError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from voxeval.adapter import Adapter
    from voxeval.judge_config import JudgeConfig
    from voxeval.results import RunResult
    from voxeval.task import Task

    # A name, a (name, args) pair, a {"name": ..., "args": {...}} dict, or an instance.
    ModelSpec = str | tuple[str, Mapping[str, Any]] | Mapping[str, Any] | Adapter
    TaskSpec = str | tuple[str, Mapping[str, Any]] | Mapping[str, Any] | Task

__all__ = ["Evaluation", "evaluate"]

MODELS_HELP = (
    "a model name, a (name, args) pair, a {'name': ..., 'args': {...}} dict or an Adapter "
    "instance, or a list of these"
)
TASKS_HELP = (
    "a task name, a (name, args) pair, a {'name': ..., 'args': {...}} dict or a Task "
    "instance, or a list of these"
)


@dataclass(frozen=True)
class Evaluation:
    """One model's run: its run.json (`run`) and folder, with shortcuts for notebooks."""

    run: RunResult
    run_dir: Path

    @property
    def model(self) -> str:
        """The model's name (its run folder is output_dir/<model>/<run id>)."""
        return self.run.model.name

    @property
    def metrics(self) -> dict[str, dict[str, float | None]]:
        """{task: {metric: value}}; a value is None when undefined (e.g. nothing scored)."""
        return {
            task: {name: m.value for name, m in result.metrics.items()}
            for task, result in self.run.tasks.items()
        }

    def rows(self) -> list[dict[str, Any]]:
        """One row per task and metric, with its CI and n (e.g. for pandas.DataFrame)."""
        return [
            {"model": self.model, "task": task, "metric": name, "value": m.value,
             "ci_low": m.ci_low, "ci_high": m.ci_high, "n": m.n, "errors": result.n_errors}
            for task, result in self.run.tasks.items()
            for name, m in result.metrics.items()
        ]  # fmt: skip

    def samples(self, task: str) -> list[dict[str, Any]]:
        """A task's per-sample records (prediction, references, error), as saved."""
        from voxeval.results import open_run

        if task not in self.run.tasks:
            have = ", ".join(self.run.tasks)
            raise VoxevalError(f"This run has no task {task!r}; it has {have}.")
        return list(open_run(self.run_dir).samples(task).latest.values())

    def table(self) -> str:
        """The summary `voxeval run` prints: identity, then one row per task and metric."""
        from voxeval.summary import format_run

        return format_run(self.run, self.run_dir)

    def __repr__(self) -> str:
        where = str(self.run_dir)
        return f"Evaluation(model={self.model!r}, run_dir={where!r}, metrics={self.metrics})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # IPython and Jupyter show the summary table instead of the one-line repr.
        printer.text(repr(self) if cycle else self.table())


@dataclass(frozen=True)
class _Model:
    """A model to run: a registered name with its args, or an instance made in Python."""

    name: str
    args: dict[str, Any]
    resources: dict[str, float] | None = None
    instance: Adapter | None = None


def evaluate(
    models: ModelSpec | Sequence[ModelSpec],
    tasks: TaskSpec | Sequence[TaskSpec],
    *,
    limit: int | None = None,
    output_dir: str | Path = "runs",
    data_dir: str | Path | None = None,
    task_args: Mapping[str, Any] | None = None,
    judge: str | Mapping[str, Any] | JudgeConfig | None = None,
    rerun: bool = False,
    wait: bool = False,
    progress: bool = False,
    executor: str = "local",
    shards: int = 1,
    ray_address: str | None = None,
) -> list[Evaluation]:
    """Evaluate each model on the tasks, as `voxeval run` would; one Evaluation per model.

    A finished run of the same configuration is returned without calling the model, an
    interrupted one resumes (`rerun=True`: a fresh run). Instances are closed at the end of
    their run, as the command line closes its adapters; a later call loads them again.
    """
    from voxeval.plan import RunConfig
    from voxeval.runner import run_evaluation
    from voxeval.suite import cli_values

    chosen, (named, instances, by_task) = _models(models), _tasks(tasks)
    _check_options(limit, executor, shards, task_args, named)
    common = {  # what `voxeval run` puts in every model's RunConfig
        "tasks": named,
        "limit": limit,
        "data_dir": Path(data_dir).expanduser() if data_dir else None,
        "task_args": cli_values(_plain(dict(task_args or {}))),
        "task_args_by_task": by_task,
        "output_dir": Path(output_dir).expanduser(),
        "judge": _judge(judge),
        "wait": wait,
        "rerun": rerun,
        "executor": executor,
        "shards": shards,
        "ray_address": ray_address,
    }
    show, say = _reporters(progress)
    results = []
    for m in chosen:
        config = RunConfig(model=m.name, model_args=m.args, resources=m.resources, **common)
        run, run_dir = run_evaluation(config, show, say, adapter=m.instance, tasks=instances)
        results.append(Evaluation(run, run_dir))
    return results


def _models(models: Any) -> list[_Model]:
    """Each model entry checked: names exist and their args are valid (before any runs)."""
    from voxeval.adapter import ADAPTERS, Adapter
    from voxeval.suite import ModelEntry, cli_values

    out = []
    for where, item in _entries(models, "models", MODELS_HELP):
        if isinstance(item, Adapter):
            out.append(_Model(_checked_adapter(item), item.args.model_dump(), instance=item))
            continue
        _refuse_class(item, Adapter, where, "MyAdapter.from_args({...})")
        entry = _validated(ModelEntry, item, where, MODELS_HELP)
        args = cli_values(entry.args)
        try:  # now, not after the first model's run
            ADAPTERS.get(entry.name).from_args(args)
        except VoxevalError as exc:
            raise VoxevalError(str(exc).replace("--model-args", "model args", 1)) from None
        res = entry.resources.model_dump(exclude_none=True) if entry.resources else None
        out.append(_Model(entry.name, args, res))
    return out


def _tasks(tasks: Any) -> tuple[list[str], list[Task], dict[str, dict[str, Any]]]:
    """(task names, Task instances, per-task args by name): names checked, instances too."""
    from voxeval.suite import TaskEntry, per_task_args
    from voxeval.task import Task, expand_task_names

    entries, instances = [], []
    for where, item in _entries(tasks, "tasks", TASKS_HELP):
        if isinstance(item, Task):
            instances.append(_checked_task(item))
            continue
        _refuse_class(item, Task, where, "MyTask() or MyTask(options={...})")
        entries.append(_validated(TaskEntry, item, where, TASKS_HELP))
    names = [e.name for e in entries]
    expand_task_names(names)  # unknown names: "did you mean", before anything runs
    return names, instances, per_task_args(entries)


def _entries(value: Any, what: str, shapes: str) -> list[tuple[str, Any]]:
    """(where, entry) for one entry or a list (a (name, args) pair is one entry, not two)."""
    listed = isinstance(value, list) or (isinstance(value, tuple) and not _is_pair(value))
    items = list(value) if listed else [value]
    if not items:
        raise VoxevalError(f"evaluate(): {what} is empty; give {shapes}.")
    return [
        (f"{what}[{i}]" if listed else what, _pair_entry(item) if _is_pair(item) else item)
        for i, item in enumerate(items)
    ]


def _is_pair(value: Any) -> bool:
    return (
        isinstance(value, tuple)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], Mapping)
    )


def _pair_entry(pair: tuple[str, Mapping[str, Any]]) -> dict[str, Any]:
    return {"name": pair[0], "args": dict(pair[1])}


def _validated(schema: Any, item: Any, where: str, shapes: str) -> Any:
    """A suite entry (the schema `voxeval run --config` reads) from a str, pair or dict."""
    from pydantic import ValidationError

    if not isinstance(item, (str, Mapping)):
        raise VoxevalError(f"evaluate(): {where} is {type(item).__name__} {item!r}; give {shapes}.")
    try:
        return schema.model_validate(_plain(item))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, [where, *e['loc']]))}: {e['msg']}" for e in exc.errors()
        )
        raise VoxevalError(f"evaluate(): {problems}.") from None


def _plain(value: Any) -> Any:
    """Notebook values as the suite schema reads them: paths as text, tuples as lists."""
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _refuse_class(item: Any, base: type, where: str, example: str) -> None:
    if isinstance(item, type) and issubclass(item, base):
        raise VoxevalError(
            f"evaluate(): {where} is the class {item.__name__}; pass an instance: {example}."
        )


def _checked_adapter(adapter: Adapter) -> str:
    """The name of an adapter instance, refusing one the runner could not record or run."""
    from voxeval.adapter import AdapterArgs

    kind = type(adapter).__name__
    _need(adapter, ("name", "supports"), f"Adapter {kind}")
    if not isinstance(getattr(adapter, "args", None), AdapterArgs):
        raise VoxevalError(
            f"Adapter {kind} has no AdapterArgs in .args; build it with {kind}.from_args({{...}}) "
            "or call super().__init__(args) in its __init__."
        )
    return adapter.name


def _checked_task(task: Task) -> Task:
    """A task instance with what the runner reads: name, version, kind and metrics."""
    _need(task, ("name", "version", "kind", "metrics"), f"Task {type(task).__name__}")
    return task


def _need(obj: Any, attributes: tuple[str, ...], what: str) -> None:
    missing = [a for a in attributes if getattr(obj, a, None) in (None, "")]
    if missing:
        raise VoxevalError(
            f"{what} sets no {', '.join(missing)}: set {'them' if len(missing) > 1 else 'it'} "
            "as class attributes (see voxeval.adapter.Adapter and voxeval.task.Task)."
        )


def _check_options(
    limit: Any, executor: Any, shards: Any, task_args: Any, named: list[str]
) -> None:
    """Refuse values the command line's parser would refuse."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise VoxevalError(f"evaluate(): limit must be a whole number ≥ 1 or None, not {limit!r}.")
    if executor not in ("local", "ray"):
        raise VoxevalError(f"evaluate(): executor must be 'local' or 'ray', not {executor!r}.")
    if isinstance(shards, bool) or not isinstance(shards, int) or shards < 1:
        raise VoxevalError(f"evaluate(): shards must be a whole number ≥ 1, not {shards!r}.")
    if task_args is not None and not isinstance(task_args, Mapping):
        raise VoxevalError(f"evaluate(): task_args must be a dict, not {type(task_args).__name__}.")
    if task_args and not named:
        raise VoxevalError(
            "evaluate(): task_args apply to tasks given by name; give a Task instance its "
            "options when you create it (e.g. DemoAsr(options={'normalizer': 'oasr'}))."
        )


def _judge(judge: Any) -> JudgeConfig | None:
    """A judge name, a {'name', 'args', 'samples'} dict or a JudgeConfig, checked now."""
    from voxeval.adapter import ADAPTERS
    from voxeval.judge_config import JudgeConfig
    from voxeval.suite import JudgeEntry, judge_config

    if judge is None or isinstance(judge, JudgeConfig):
        config = judge
    else:
        shapes = "a judge model name, a {'name', 'args', 'samples'} dict or a JudgeConfig"
        config = judge_config(_validated(JudgeEntry, judge, "judge", shapes))
    if config is not None:
        try:
            ADAPTERS.get(config.adapter).from_args(config.args)
        except VoxevalError as exc:
            raise VoxevalError(str(exc).replace("--model-args", "judge args", 1)) from None
    return config


def _reporters(progress: bool) -> tuple[Any, Callable[[str], None] | None]:
    """Progress bars (tqdm.auto: widgets in Jupyter) and status lines on stderr, or neither."""
    if not progress:
        return None, None

    def bars(task: str, total: int, done: int) -> Callable[[int], None]:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, initial=done, desc=task, unit="sample", leave=True)
        if done >= total:
            bar.close()

        def tick(n: int) -> None:
            bar.update(n)
            if bar.n >= bar.total:
                bar.close()

        return tick

    return bars, lambda text: print(text, file=sys.stderr)
