"""`voxeval score`: re-score a run folder, or score predictions made elsewhere."""

from __future__ import annotations

import argparse
import json
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
    score.set_defaults(handler=cmd_score)


def cmd_score(args: argparse.Namespace) -> int:
    """Dispatch to re-scoring a run or scoring external predictions."""
    from voxeval.summary import format_run

    if args.run_dir and not (args.task or args.predictions):
        from voxeval.commands import judge_from_args

        run = rescore_run(args.run_dir, judge_from_args(args))
        print(format_run(run, args.run_dir))
        return 0
    if args.task and args.predictions and not args.run_dir:
        run, run_dir = score_predictions(
            args.task, args.predictions, args.data_dir, args.output_dir, args.model_name
        )
        print(format_run(run, run_dir))
        return 0
    raise VoxevalError("Use `voxeval score RUN_DIR` or `voxeval score --task T --predictions F`.")


def rescore_run(run_dir: Path, judge: Any = None) -> Any:
    """Recompute every task's metrics from its samples file; no model is loaded.

    With a judge, judge scores are (re)computed; cached judge replies make no calls.
    """
    from voxeval.checkpoint import SamplesFile
    from voxeval.results import read_run, write_run
    from voxeval.runner import score_records
    from voxeval.task import TASKS

    run = read_run(run_dir)
    for name, old in run.tasks.items():
        task = TASKS.get(name)
        if task.version != old.task_version:
            raise VoxevalError(
                f"Task {name!r} is now version {task.version} but the run used "
                f"{old.task_version}; re-run the model instead of re-scoring."
            )
        checkpoint = SamplesFile(Path(run_dir) / old.samples_file)
        ids = list(checkpoint.read())
        new = score_records(task, old.dataset, checkpoint, ids, judge)
        new.timing.wall_s, new.timing.load_s = old.timing.wall_s, old.timing.load_s
        if judge is None:
            _keep_judge_scores(old, new)
        run.tasks[name] = new
    write_run(run, Path(run_dir))
    return run


def _keep_judge_scores(old: Any, new: Any) -> None:
    """Without --judge, earlier judge scores stay: they depend only on unchanged predictions."""
    if "judge" in old.metrics:
        new.metrics["judge"] = old.metrics["judge"]
    for field, groups in old.breakdowns.items():
        for group, metrics in groups.items():
            if "judge" in metrics and group in new.breakdowns.get(field, {}):
                new.breakdowns[field][group]["judge"] = metrics["judge"]


def read_predictions(path: Path) -> dict[str, dict[str, Any]]:
    """Predictions keyed by sample id from JSONL lines {id, prediction|text|label|values}."""
    if not path.is_file():
        raise VoxevalError(f"Predictions file {path} does not exist.")
    out: dict[str, dict[str, Any]] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            sid = str(row["id"])
        except (json.JSONDecodeError, KeyError, TypeError):
            raise VoxevalError(
                f"{path}:{lineno}: expected a JSON object with an 'id' and a 'prediction' "
                "(or 'text' / 'label' / 'values')."
            ) from None
        if "prediction" in row:
            pred = (
                {"text": row["prediction"]}
                if isinstance(row["prediction"], str)
                else row["prediction"]
            )
        else:
            pred = {k: row[k] for k in ("text", "label", "values", "scores") if k in row}
        out[sid] = pred
    return out


def score_predictions(
    task_name: str, path: Path, data_dir: Path | None, output_dir: Path, model_name: str
) -> tuple[Any, Path]:
    """Score external predictions against a task's references, writing a run folder."""
    from voxeval.checkpoint import SamplesFile
    from voxeval.inference import base_record
    from voxeval.runner import RunConfig, new_run_id, plan_tasks, samples_file_name, score_records
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
    checkpoint = SamplesFile(run_dir / samples_file_name(task_name))
    for sample in planned.samples:
        record = base_record(sample, task_name)
        pred = predictions.get(sample.id)
        record.update(prediction=pred or {}, audio_s=0.0, model_s=0.0, usage=None)
        record["error"] = (
            None if pred is not None else {"kind": "missing", "message": "no prediction"}
        )
        checkpoint.append(record)
    checkpoint.close()
    result = score_records(
        planned.task, planned.dataset, checkpoint, [s.id for s in planned.samples]
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
