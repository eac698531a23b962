"""`voxeval score`: re-score a run folder, or score predictions made elsewhere."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from voxeval.errors import VoxevalError


def add_score_command(sub: Any) -> None:
    """Register `voxeval score`."""
    from voxeval.cli import path_arg

    score = sub.add_parser(
        "score", help="re-score a run folder, or score a predictions file for a task"
    )
    score.add_argument("run_dir", nargs="?", type=path_arg, help="run folder to re-score")
    score.add_argument("--task", help="task to score --predictions against")
    score.add_argument("--predictions", type=path_arg, help="JSONL: {id, prediction|text|label}")
    score.add_argument("--data-dir", type=path_arg, help="the task's local data folder")
    score.add_argument("--output-dir", type=path_arg, default=Path("runs"))
    score.add_argument("--model-name", default="external", help="name for the predictions' model")
    from voxeval.commands import add_judge_arguments

    add_judge_arguments(score)
    score.add_argument(
        "--task-args",
        default="",
        help="scoring options to change, k=v,k=v (e.g. normalizer=oasr); see `voxeval list tasks "
        "NAME`",
    )
    score.add_argument(
        "--wait", action="store_true", help="if a run is using the folder, wait for it to end"
    )
    score.set_defaults(handler=cmd_score)


def cmd_score(args: argparse.Namespace) -> int:
    """Dispatch to re-scoring a run or scoring external predictions."""
    from voxeval.summary import format_run

    if args.run_dir and not (args.task or args.predictions):
        from voxeval.cli import parse_kv, say
        from voxeval.commands import judge_from_args

        task_args = parse_kv(args.task_args, "--task-args") or None
        judge = judge_from_args(args)
        run = rescore_run(args.run_dir, judge, wait=args.wait, say=say, task_args=task_args)
        print(format_run(run, args.run_dir))
        return 0
    if args.task and args.predictions and not args.run_dir:
        run, run_dir = score_predictions(
            args.task, args.predictions, args.data_dir, args.output_dir, args.model_name
        )
        print(format_run(run, run_dir))
        return 0
    raise VoxevalError("Use `voxeval score RUN_DIR` or `voxeval score --task T --predictions F`.")


def rescore_run(
    run_dir: Path,
    judge: Any = None,
    wait: bool = False,
    say: Callable[[str], None] | None = None,
    task_args: dict[str, Any] | None = None,
) -> Any:
    """Recompute every task's metrics from its samples file; no model is loaded.

    `task_args` change scoring options (e.g. the normaliser) and are recorded in the run;
    an argument that would change what the model is asked is refused.
    With a judge, judge scores are (re)computed; cached judge replies make no calls. The
    new numbers are saved under the run's lock; in a folder that cannot be written (a
    read-only copy) they are computed and returned, and nothing is changed.
    """
    from voxeval.checkpoint import write_judge_rows
    from voxeval.lock import ReadOnlyRunError, run_lock
    from voxeval.results import open_run, write_run

    say = say or (lambda text: None)
    folder = open_run(run_dir)
    try:
        with run_lock(folder.path, wait=wait, say=say):
            folder = open_run(folder.path)  # as it is now that this process holds it
            run, judged = _rescored(folder, judge, task_args)
            for name, rows in judged.items():
                write_judge_rows(folder.path, name, rows)
            write_run(run, folder.path)
            return run
    except ReadOnlyRunError as exc:
        run, _ = _rescored(folder, judge, task_args)
        say(f"voxeval: {exc} The scores were computed but not saved; nothing was changed.")
        return run


def _rescored(
    folder: Any, judge: Any, task_args: dict[str, Any] | None = None
) -> tuple[Any, dict[str, list[dict[str, Any]]]]:
    """A copy of the run with every task scored again, and the judge rows per task."""
    from voxeval.scoring import score_records
    from voxeval.secrets import redact
    from voxeval.task import TASKS

    run = folder.run.model_copy(deep=True)
    classes = {name: TASKS.get(name) for name in folder.run.tasks}
    if task_args:
        _check_scoring_only(task_args, run.task_args, classes)
        run.task_args = redact({**run.task_args, **task_args})
    judged = {}
    for name, old in folder.run.tasks.items():
        task = classes[name](None, run.task_args)
        if task.version != old.task_version:
            raise VoxevalError(
                f"Task {name!r} is now version {task.version} but the run used "
                f"{old.task_version}; re-run the model instead of re-scoring."
            )
        index = folder.sample_index(name)
        # ids None: every id in the file's order, without a list of 100k id strings
        new, rows = score_records(task, old.dataset, index, None, old.samples_file, judge)
        new.timing.wall_s, new.timing.load_s = old.timing.wall_s, old.timing.load_s
        if judge is None:
            _keep_judge_scores(old, new)
        if rows is not None:
            judged[name] = rows
        run.tasks[name] = new
    return run, judged


def _check_scoring_only(
    given: dict[str, Any], recorded: dict[str, Any], classes: dict[str, Any]
) -> None:
    """Refuse a changed --task-args value that is not a scoring option of the run's tasks."""
    known = {k for cls in classes.values() for k in cls.Options.model_fields}
    scoring = {k for cls in classes.values() for k in cls.scoring_options}
    for key, value in given.items():
        if key not in known:
            raise VoxevalError(
                f"--task-args {key!r}: no task of this run ({', '.join(classes)}) takes it."
            )
        if key not in scoring and str(recorded.get(key)) != str(value):
            raise VoxevalError(
                f"--task-args {key!r} changes what the model is asked, so the samples cannot be "
                f"re-scored with it; run `voxeval run` with it instead. Scoring options of this "
                f"run's tasks: {', '.join(sorted(scoring)) or 'none'}."
            )


def _keep_judge_scores(old: Any, new: Any) -> None:
    """Without --judge, earlier judge scores stay: they depend only on unchanged predictions."""
    if "judge" in old.metrics:
        new.metrics["judge"] = old.metrics["judge"]
    for field, groups in old.breakdowns.items():
        for group, metrics in groups.items():
            if "judge" in metrics and group in new.breakdowns.get(field, {}):
                new.breakdowns[field][group]["judge"] = metrics["judge"]


def read_predictions(path: Path) -> dict[str, dict[str, Any]]:
    """Predictions keyed by sample id from JSONL lines {id, prediction|text|label|values}.

    The file is input: every line must be a valid object, ids (text or whole numbers) must
    be unique as text, and predictions must have the record schema's types.
    """
    from voxeval.results.files import lines

    out: dict[str, dict[str, Any]] = {}
    try:
        with open(path, "rb") as fh:
            for lineno, raw in lines(fh):
                if raw.strip():
                    _add_prediction(out, raw, f"{path}:{lineno}")
    except OSError as exc:
        raise VoxevalError(f"Cannot read predictions file {path}: {exc.strerror or exc}.") from None
    return out


def _add_prediction(out: dict[str, dict[str, Any]], raw: bytes, where: str) -> None:
    from pydantic import ValidationError

    from voxeval.results.files import strict_json
    from voxeval.results.records import PREDICTION, validation_reason

    try:
        row = strict_json(raw)
    except ValueError as exc:
        raise VoxevalError(f"{where}: not valid JSON ({str(exc)[:80]}).") from None
    sid = _prediction_id(row, where)
    if sid in out:
        raise VoxevalError(f'{where}: id {sid!r} occurs twice (1 and "1" are the same id).')
    try:
        out[sid] = PREDICTION.validate_python(_prediction_fields(row))
    except ValidationError as exc:
        raise VoxevalError(f"{where}: {validation_reason(exc)}.") from None


def _prediction_id(row: Any, where: str) -> str:
    sid = row.get("id") if isinstance(row, dict) else None
    if isinstance(sid, bool) or not isinstance(sid, str | int) or not str(sid).strip():
        raise VoxevalError(
            f"{where}: expected a JSON object with an 'id' (text or a whole number) and a "
            "'prediction' (or 'text' / 'label' / 'values')."
        )
    return str(sid)


def _prediction_fields(row: dict[str, Any]) -> Any:
    if "prediction" in row:
        pred = row["prediction"]
        return {"text": pred} if isinstance(pred, str) else pred
    return {k: row[k] for k in ("text", "label", "values", "scores") if k in row}


def score_predictions(
    task_name: str, path: Path, data_dir: Path | None, output_dir: Path, model_name: str
) -> tuple[Any, Path]:
    """Score external predictions against a task's references, writing a run folder."""
    from voxeval.checkpoint import SamplesFile
    from voxeval.inference import base_record
    from voxeval.plan import RunConfig, new_run_id, plan_tasks, samples_file_name
    from voxeval.scoring import score_records
    from voxeval.workspace import prepare_output_dir, safe_name

    predictions = read_predictions(path)
    planned = plan_tasks(RunConfig(model=model_name, tasks=[task_name], data_dir=data_dir))[0]
    known = {s.id for s in planned.samples}
    unknown = sorted(set(predictions) - known)
    if unknown:
        raise VoxevalError(
            f"{len(unknown)} prediction id(s) are not in task {task_name!r}, e.g. "
            f"{', '.join(unknown[:3])}. Check that the ids match the task's sample ids."
        )
    run_dir = prepare_output_dir(Path(output_dir) / safe_name(model_name) / new_run_id())
    name = samples_file_name(task_name)
    checkpoint = SamplesFile(run_dir / name)
    for sample in planned.samples:
        record = base_record(sample, task_name)
        pred = predictions.get(sample.id)
        record.update(prediction=pred or {}, audio_s=0.0, model_s=0.0, usage=None)
        record["error"] = (
            None if pred is not None else {"kind": "missing", "message": "no prediction"}
        )
        checkpoint.append(record)
    checkpoint.close()
    result, _ = score_records(
        planned.task, planned.dataset, checkpoint.read(), [s.id for s in planned.samples], name
    )
    run = _external_run(run_dir, model_name, path, result)
    return run, run_dir


def _external_run(run_dir: Path, model_name: str, path: Path, result: Any) -> Any:
    """A finished RunResult for externally made predictions (fingerprint = file hash)."""
    import hashlib
    import platform
    from datetime import datetime, timezone

    from voxeval import __version__
    from voxeval.results import ModelRecord, RunResult, write_run
    from voxeval.workspace import git_sha

    now = datetime.now(timezone.utc)
    run = RunResult(
        run_id=run_dir.name,
        status="success",
        fingerprint=hashlib.sha256(path.read_bytes()).hexdigest(),
        created_at=now,
        finished_at=now,
        voxeval_version=__version__,
        git_sha=git_sha(),
        python=platform.python_version(),
        platform=platform.platform(),
        model=ModelRecord(
            name=model_name, adapter="external predictions", info={"predictions": str(path)}
        ),
        tasks={result.task: result},
    )
    write_run(run, run_dir)
    return run
