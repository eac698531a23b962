"""Built-in sub-commands: run, list, show, score, plugins."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from voxeval.cli import (
    EXIT_OK,
    EXIT_TOO_MANY_SAMPLE_ERRORS,
    EXIT_USAGE,
    count_arg,
    fraction_arg,
    parse_kv,
    path_arg,
    say,
)


def add_builtin_commands(sub: Any) -> None:
    """Register the built-in sub-commands on an argparse subparsers object."""
    run = sub.add_parser("run", help="evaluate a model on tasks (resumes an unfinished run)")
    run.add_argument("--model", required=True, help="registered model name (voxeval list models)")
    run.add_argument("--model-args", default="", help="adapter arguments: k=v,k=v")
    run.add_argument("--tasks", required=True, help="comma-separated task names")
    run.add_argument(
        "--limit", type=count_arg(), help="evaluate only the first N samples of each task"
    )
    run.add_argument("--data-dir", type=path_arg, help="local data folder (official layout)")
    run.add_argument("--task-args", default="", help="task options k=v,k=v (see list tasks)")
    run.add_argument("--output-dir", type=path_arg, default=Path("runs"), help="default: runs/")
    run.add_argument(
        "--max-error-rate",
        type=fraction_arg,
        default=0.0,
        help="exit with code 3 when a task's failed-sample fraction exceeds this (default 0)",
    )
    run.add_argument(
        "--wait", action="store_true", help="if another process runs this, wait for it to end"
    )
    run.add_argument(
        "--rerun", action="store_true", help="evaluate again even if this run already finished"
    )
    add_judge_arguments(run)
    run.set_defaults(handler=cmd_run)

    lister = sub.add_parser("list", help="list registered tasks, models or metrics")
    lister.add_argument("what", choices=["tasks", "models", "metrics"])
    lister.add_argument(
        "name", nargs="?", metavar="NAME", help="one model or task: its --model-args/--task-args"
    )
    lister.add_argument("--json", action="store_true", help="machine-readable output")
    lister.set_defaults(handler=cmd_list)

    show = sub.add_parser("show", help="summarise a run folder")
    show.add_argument("run_dir", type=path_arg)
    show.add_argument("--json", action="store_true", help="print run.json")
    show.set_defaults(handler=cmd_show)

    from voxeval.gate import add_gate_commands
    from voxeval.rescore import add_score_command

    add_score_command(sub)
    add_gate_commands(sub)

    from voxeval.publish import add_leaderboard_commands

    add_leaderboard_commands(sub)

    plugins = sub.add_parser("plugins", help="list loaded plugins and their hooks")
    plugins.set_defaults(handler=cmd_plugins)


def add_judge_arguments(parser: argparse.ArgumentParser) -> None:
    """--judge, --judge-args and --judge-samples, shared by run and score."""
    parser.add_argument("--judge", help="registered text model that judges (e.g. openai)")
    parser.add_argument("--judge-args", default="", help="judge arguments: k=v,k=v")
    parser.add_argument(
        "--judge-samples", type=count_arg(1, 100), default=1, help="ratings per item"
    )


def judge_from_args(args: argparse.Namespace) -> Any:
    """A JudgeConfig from the judge flags, or None without --judge."""
    if not args.judge:
        return None
    from voxeval.judge import JudgeConfig

    return JudgeConfig(args.judge, parse_kv(args.judge_args, "--judge-args"), args.judge_samples)


def cmd_run(args: argparse.Namespace) -> int:
    """Run or resume an evaluation, then print its summary."""
    from voxeval.errors import VoxevalError
    from voxeval.runner import RunConfig, run_evaluation

    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    if not tasks:
        raise VoxevalError("--tasks is empty: name at least one task (voxeval list tasks).")
    config = RunConfig(
        model=args.model,
        tasks=tasks,
        model_args=parse_kv(args.model_args, "--model-args"),
        limit=args.limit,
        data_dir=args.data_dir,
        task_args=parse_kv(args.task_args, "--task-args"),
        output_dir=args.output_dir,
        judge=judge_from_args(args),
        wait=args.wait,
        rerun=args.rerun,
    )
    run, run_dir = run_evaluation(config, progress=_tqdm_progress, say=say)
    from voxeval.summary import format_run

    print(format_run(run, run_dir))
    worst = max((t.n_errors / max(1, t.n_samples) for t in run.tasks.values()), default=0.0)
    if worst > args.max_error_rate:
        print(
            f"voxeval: {worst:.1%} of a task's samples failed (threshold "
            f"{args.max_error_rate:.1%}); see the error column above.",
            file=sys.stderr,
        )
        return EXIT_TOO_MANY_SAMPLE_ERRORS
    return EXIT_OK


def _tqdm_progress(task: str, total: int, done: int) -> Any:
    from tqdm import tqdm

    # The finished bar stays on screen with its totals (samples, time, rate).
    bar = tqdm(total=total, initial=done, desc=task, unit="sample", file=sys.stderr, leave=True)

    def tick(n: int) -> None:
        bar.update(n)
        if bar.n >= bar.total:
            bar.close()

    if done >= total:
        bar.close()
    return tick


def cmd_list(args: argparse.Namespace) -> int:
    """List tasks, models or metrics with a one-line description each (or describe one)."""
    if args.name is not None:
        return _describe_one(args)
    rows = _list_rows(args.what)
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    from voxeval.summary import format_table

    for row in rows:  # the table names voxeval's own modules briefly (--json keeps them)
        if "plugin" in row:
            row["plugin"] = _plugin_label(row["plugin"])
    print(format_table(rows))
    return EXIT_OK


def _describe_one(args: argparse.Namespace) -> int:
    """`list models NAME` / `list tasks NAME`: the description and an argument table."""
    if args.what == "metrics":
        print(
            "voxeval list: error: metrics take no arguments, so NAME is for models and tasks "
            "only; run `voxeval list metrics`.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from voxeval.describe import argument_rows, format_details

    if args.what == "models":
        from voxeval.adapter import ADAPTERS, AdapterArgs

        cls = ADAPTERS.get(args.name)
        info: dict[str, Any] = {
            "name": args.name,
            "description": cls.description,
            "supports": sorted(cls.supports),
            "plugin": ADAPTERS.owners()[args.name],
            **cls.details(),
            "args": argument_rows(cls.Args, last=AdapterArgs.model_fields),
        }
        flag: str | None = "--model-args"
    else:
        from voxeval.task import TASKS

        cls = TASKS.get(args.name)
        info = {
            "name": args.name,
            "description": cls.description,
            "kind": cls.kind,
            "version": cls.version,
            "metrics": _metrics_text(cls),
            **_protocol_text(cls),
            "plugin": TASKS.owners()[args.name],
            "args": argument_rows(cls.Options) if getattr(cls, "Options", None) else [],
        }
        flag = None if getattr(cls, "members", None) else "--task-args"  # groups: none own
    print(json.dumps(info, indent=2) if args.json else format_details(info, flag))
    return EXIT_OK


def _plugin_label(owner: str) -> str:
    """ "built-in" for voxeval's own modules, else the plugin's entry-point name."""
    from voxeval.plugins import BUILTIN_MODULES

    return "built-in" if owner in BUILTIN_MODULES else owner


def _list_rows(what: str) -> list[dict[str, Any]]:
    if what == "tasks":
        from voxeval.task import TASKS

        owners = TASKS.owners()
        return [
            {
                "name": name,
                "kind": cls.kind,
                "version": cls.version,
                "metrics": _metrics_text(cls),
                "description": cls.description,
                "plugin": owners[name],
            }
            for name, cls in sorted(TASKS.items().items())
        ]
    if what == "models":
        from voxeval.adapter import ADAPTERS

        owners = ADAPTERS.owners()
        return [
            {
                "name": name,
                "supports": ", ".join(sorted(cls.supports)),
                "description": cls.description,
                "plugin": owners[name],
            }
            for name, cls in sorted(ADAPTERS.items().items())
        ]
    from voxeval.metrics import METRICS

    return [
        {
            "name": name,
            "direction": "higher is better" if m.higher_is_better else "lower is better",
            "description": m.description,
        }
        for name, m in sorted(METRICS.items().items())
    ]


def _protocol_text(task: Any) -> dict[str, str]:
    """Where the task's protocol choices are explained, and its judge protocols."""
    out = {}
    if getattr(task, "protocol_doc", None):
        out["protocol"] = f"{task.protocol_doc} (what the authors did, options, differences)"
    others = getattr(task, "judge_protocols", None) or {}
    if getattr(task, "judge_rubric", None) and others:
        names = ", ".join(["voxeval (default)", *others])
        out["judge"] = f"protocols {names}: --judge-args protocol=NAME"
    return out


def _metrics_text(task: Any) -> str:
    members = getattr(task, "members", None)
    if members:
        return "runs: " + ", ".join(members)
    names = ", ".join(task.metric_names())
    rubric = getattr(task, "judge_rubric", None)
    return f"{names}, judge:{rubric} (with --judge)" if rubric else names


def cmd_show(args: argparse.Namespace) -> int:
    """Print a run's summary (or its run.json)."""
    from voxeval.results import find_run
    from voxeval.summary import format_run

    folder = find_run(args.run_dir, say)
    print(
        folder.run.model_dump_json(indent=2) if args.json else format_run(folder.run, folder.path)
    )
    return EXIT_OK


def cmd_plugins(args: argparse.Namespace) -> int:
    """Print the loaded plugins as JSON."""
    from voxeval.plugins import plugin_names

    print(json.dumps(plugin_names(), indent=2))
    return EXIT_OK
