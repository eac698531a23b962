"""Run an evaluation: claim the run folder under its lock, infer what is missing, score, write.

One configuration (its fingerprint) maps to one run folder. A second process on it stops
with a message naming the holder, or waits (`wait`); a finished run is reported, not paid
for again, unless `rerun` asks for a fresh one.
"""

from __future__ import annotations

import contextlib
import platform
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path

from voxeval import __version__
from voxeval.adapter import ADAPTERS, Adapter, TaskContext
from voxeval.checkpoint import RETRYABLE_ERROR_KINDS, SamplesFile, finished_ids, write_judge_rows
from voxeval.errors import VoxevalError
from voxeval.inference import run_task_inference
from voxeval.judge_config import JudgeConfig
from voxeval.lock import RunLockedError, planning_lock, run_lock
from voxeval.plan import (
    PlannedTask,
    RunConfig,
    check_compatible,
    fingerprint,
    new_run_id,
    plan_run,
    plan_tasks,
    samples_file_name,
    with_instance_options,
)
from voxeval.plugins import UnknownNameError
from voxeval.results import RUN_FILE, ModelRecord, RunResult, read_run, write_run
from voxeval.scoring import score_records
from voxeval.secrets import redact, scrub
from voxeval.task import Task
from voxeval.workspace import describe_paths, git_sha, hardware, prepare_output_dir, safe_name

Progress = Callable[[str, int, int], Callable[[int], None]]
Say = Callable[[str], None]

__all__ = ["PlannedTask", "RunConfig", "is_complete", "plan_tasks", "run_evaluation"]


def is_complete(run: RunResult) -> bool:
    """Finished, with no failures that another attempt could fix (adapter errors)."""
    retryable = (k for t in run.tasks.values() for k in t.errors_by_kind)
    return run.status == "success" and not any(k in RETRYABLE_ERROR_KINDS for k in retryable)


def latest_with_fingerprint(model_dir: Path, print_: str) -> Path | None:
    """The newest run folder of this configuration (unreadable folders are passed over)."""
    candidates = []
    for run_file in model_dir.glob(f"*/{RUN_FILE}"):
        try:
            run = read_run(run_file.parent)
        except VoxevalError:
            continue
        if run.fingerprint == print_:
            candidates.append((run.created_at, run_file.parent))
    return max(candidates)[1] if candidates else None


def run_evaluation(
    config: RunConfig,
    progress: Progress | None = None,
    say: Say | None = None,
    adapter: Adapter | None = None,
    tasks: Sequence[Task] = (),
) -> tuple[RunResult, Path]:
    """Run, resume, or report an already finished evaluation; return its result and folder.

    `adapter` and `tasks` are instances made in Python (voxeval.evaluate): the adapter is used
    instead of building config.model by name, the tasks run after config.tasks.
    """
    say = say or (lambda text: None)
    if adapter is None:
        adapter = ADAPTERS.get(config.model).from_args(config.model_args)
    elif adapter.name != config.model:  # the run folder and run.json are named by config.model
        raise VoxevalError(f"The adapter is {adapter.name!r} but config.model is {config.model!r}.")
    planned = plan_run(config, list(tasks))
    check_compatible(type(adapter), planned)
    print_ = fingerprint(with_instance_options(config, list(tasks)), adapter, planned)
    model_dir = prepare_output_dir(Path(config.output_dir) / safe_name(config.model))
    with _claim(model_dir, print_, config, adapter, say) as (run, run_dir, fresh):
        if not fresh and is_complete(run):
            adapter.close()
            return _finished(run, run_dir, config, say)
        if not fresh:
            run.status, run.error, run.resumed = "started", None, run.resumed + 1
            run.task_args = redact(config.task_args)  # only scoring options can differ
        _evaluate(on_executor(adapter, config), planned, run, run_dir, progress, config.judge, say)
    return run, run_dir


def on_executor(adapter: Adapter, config: RunConfig) -> Adapter:
    """The adapter itself, or with executor "ray" a proxy running it on Ray workers."""
    if config.executor != "ray":
        return adapter
    from voxeval.ray_pool import RayPoolAdapter, RayResources

    resources = RayResources(**(config.resources or {}))
    return RayPoolAdapter(adapter, config.shards, resources, config.ray_address)


@contextlib.contextmanager
def _claim(
    model_dir: Path, print_: str, config: RunConfig, adapter: Adapter, say: Say
) -> Iterator[tuple[RunResult, Path, bool]]:
    """Find or create this configuration's run folder; hold its lock unless it is finished.

    Yields (run, folder, fresh). The planning lock makes find-or-create atomic between
    processes; it is let go before queueing behind another process's run lock.
    """
    with contextlib.ExitStack() as held:
        fresh, queued = False, False
        with planning_lock(model_dir):
            found = None if config.rerun else latest_with_fingerprint(model_dir, print_)
            if found is None:
                run = _new_run(config, adapter, print_)
                run_dir, fresh = model_dir / run.run_id, True
                run_dir.mkdir()
                held.enter_context(run_lock(run_dir))
                write_run(run, run_dir)
            else:
                run_dir = found
                if not is_complete(read_run(run_dir)):
                    queued = not _lock_now(held, run_dir, config.wait)
        if queued:
            held.enter_context(run_lock(run_dir, wait=True, say=say))
        # Read under the lock: the process it waited for may have finished the run.
        yield (run if fresh else read_run(run_dir)), run_dir, fresh


def _lock_now(held: contextlib.ExitStack, run_dir: Path, wait: bool) -> bool:
    """Take the run lock if free; busy: error, or False when the caller will wait for it."""
    try:
        held.enter_context(run_lock(run_dir))
    except RunLockedError:
        if not wait:
            raise
        return False
    return True


def _finished(run: RunResult, run_dir: Path, config: RunConfig, say: Say) -> tuple[RunResult, Path]:
    """A finished run of this configuration: no model call; a judge may still score it."""
    say(
        f"voxeval: this evaluation already finished in {run_dir}; nothing was sent to the "
        "model. Pass --rerun to evaluate it again."
    )
    rescoring = redact(config.task_args) != run.task_args  # other scoring options
    if rescoring:
        say("voxeval: scoring options differ from the finished run's; re-scoring its samples.")
    if config.judge is not None or rescoring:
        from voxeval.rescore import rescore_run

        args = config.task_args if rescoring else None
        run = rescore_run(run_dir, config.judge, wait=config.wait, say=say, task_args=args)
    return run, run_dir


def _evaluate(
    adapter: Adapter,
    planned: list[PlannedTask],
    run: RunResult,
    run_dir: Path,
    progress: Progress | None,
    judge: JudgeConfig | None,
    say: Say,
) -> None:
    """Infer and score under the held lock; run.json always ends with the run's status."""
    write_run(run, run_dir)
    try:
        _infer_and_score(adapter, planned, run, run_dir, progress, judge, say)
        run.status = "success"
    except KeyboardInterrupt:
        run.status, run.error = "cancelled", "interrupted by the user"
        raise
    except Exception as exc:
        run.status, run.error = "error", scrub(f"{type(exc).__name__}: {exc}")
        raise
    finally:
        run.finished_at = datetime.now(timezone.utc)
        write_run(run, run_dir)
        adapter.close()


def _new_run(config: RunConfig, adapter: Adapter, print_: str) -> RunResult:
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
            adapter_plugin=_plugin_of(config.model, adapter),
            args=redact(describe_paths(adapter.args.model_dump())),
        ),
        limit=config.limit,
        data_dir=Path(config.data_dir).name if config.data_dir else None,  # not this machine's path
        task_args=redact(config.task_args),
    )


def _infer_and_score(
    adapter: Adapter,
    planned: list[PlannedTask],
    run: RunResult,
    run_dir: Path,
    progress: Progress | None,
    judge: JudgeConfig | None,
    say: Say,
) -> None:
    loaded = False
    for p in planned:
        name = samples_file_name(p.task.name)
        checkpoint = SamplesFile(run_dir / name)
        done = finished_ids(checkpoint.repair())
        pending = [s for s in p.samples if s.id not in done]
        wall = time.perf_counter()
        load_s = 0.0
        if pending and not loaded:
            say(f"voxeval: loading {run.model.name}…")
            adapter.attach_run_dir(run_dir)
            adapter.load()
            load_s, loaded = time.perf_counter() - wall, True
            say(f"voxeval: {run.model.name} loaded in {load_s:.1f} s")
            _record_model(run, adapter)
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
            _record_model(run, adapter)
        previous = run.tasks.get(p.task.name)
        ids = [s.id for s in p.samples]
        result, judge_rows = score_records(p.task, p.dataset, checkpoint.index(), ids, name, judge)
        if judge_rows is not None:
            write_judge_rows(run_dir, p.task.name, judge_rows)
        result.timing.wall_s = (
            time.perf_counter() - wall + (previous.timing.wall_s if previous else 0)
        )
        result.timing.load_s = load_s + (previous.timing.load_s if previous else 0)
        run.tasks[p.task.name] = result
        write_run(run, run_dir)


def _plugin_of(name: str, adapter: Adapter) -> str | None:
    """The plugin that registered the adapter's class; None for a class made in Python."""
    try:
        registered, owner = ADAPTERS.lookup(name)
    except UnknownNameError:
        return None
    return owner if registered is type(adapter) else None


def _record_model(run: RunResult, adapter: Adapter) -> None:
    run.model.info = redact(describe_paths(adapter.model_info()))
    run.model.revision = run.model.info.get("revision")
