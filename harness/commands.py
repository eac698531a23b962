"""Built-in sub-commands: run, list, show, score, plugins."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from voxeval.cli import (
    EXIT_ERROR,
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
    run.add_argument(
        "--config", type=path_arg, help="a suite file (YAML/JSON): models × tasks, docs/suites.md"
    )
    run.add_argument("--model", help="registered model name (voxeval list models)")
    run.add_argument("--model-args", help='adapter arguments: k=v,k=v (k="a, b" for commas)')
    run.add_argument("--tasks", help="comma-separated task names")
    run.add_argument(
        "--limit", type=count_arg(), help="evaluate only the first N samples of each task"
    )
    run.add_argument("--data-dir", type=path_arg, help="local data folder (official layout)")
    run.add_argument("--task-args", help="task options k=v,k=v (see list tasks)")
    run.add_argument("--output-dir", type=path_arg, help="default: runs/")
    run.add_argument(
        "--max-error-rate",
        type=fraction_arg,
        help="exit with code 3 when a task's failed-sample fraction exceeds this (default 0)",
    )
    run.add_argument(
        "--wait", action="store_true", help="if another process runs this, wait for it to end"
    )
    run.add_argument(
        "--rerun", action="store_true", help="evaluate again even if this run already finished"
    )
    run.add_argument(
        "--executor",
        choices=["local", "ray"],
        help="local: this process (default); ray: each model's shards on Ray workers",
    )
    run.add_argument(
        "--shards", type=count_arg(1, 100_000), help="with ray: workers (shards) per model"
    )
    run.add_argument("--ray-address", help="with ray: the cluster (default: start a local one)")
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
    """A JudgeConfig from the judge flags, or None without --judge (checked before any run)."""
    if not args.judge:
        return None
    from voxeval.adapter import ADAPTERS
    from voxeval.errors import VoxevalError
    from voxeval.judge_config import JudgeConfig

    config = JudgeConfig(args.judge, parse_kv(args.judge_args, "--judge-args"), args.judge_samples)
    try:  # now, not after inference; and named as the flag the user typed
        ADAPTERS.get(config.adapter).from_args(config.args)
    except VoxevalError as exc:
        raise VoxevalError(str(exc).replace("Bad --model-args", "Bad --judge-args", 1)) from None
    return config


def cmd_run(args: argparse.Namespace) -> int:
    """Run or resume an evaluation (or each model of a suite), then print its summary."""
    from voxeval.suite import run_configs

    if args.config is not None:
        mixed = [f for f in _QUICK_FLAGS if getattr(args, f[2:].replace("-", "_")) is not None]
        if mixed:
            return _usage(
                f"--config cannot be combined with {', '.join(mixed)}: the suite file lists "
                "models, tasks and their args; edit it, or run without --config."
            )
        if not args.judge and (args.judge_args or args.judge_samples != 1):
            return _usage("--judge-args and --judge-samples need --judge (it replaces the file's).")
        suite = _suite_from_file(args)
    elif args.model is None or args.tasks is None:
        return _usage("name a model and tasks (--model M --tasks T1,T2), or a suite (--config F).")
    else:
        suite = _suite_from_flags(args)
    configs = run_configs(suite)
    if len(configs) == 1:  # errors reach main() as they always have
        return _run_one(configs[0], suite.max_error_rate)
    return _run_suite(configs, suite.max_error_rate)


_QUICK_FLAGS = ("--model", "--tasks", "--model-args", "--task-args")
_SUITE_ERROR_ORDER = (EXIT_OK, EXIT_TOO_MANY_SAMPLE_ERRORS, EXIT_ERROR)  # worst last


def _usage(message: str) -> int:
    print(f"voxeval run: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _suite_from_flags(args: argparse.Namespace) -> Any:
    """The quick path: one model, its tasks and args, as a Suite (the same schema as files)."""
    from voxeval.errors import VoxevalError
    from voxeval.suite import validate_suite

    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    if not tasks:
        raise VoxevalError("--tasks is empty: name at least one task (voxeval list tasks).")
    flags = {
        "models": [{"name": args.model, "args": parse_kv(args.model_args or "", "--model-args")}],
        "tasks": [{"name": t} for t in tasks],
        "task_args": parse_kv(args.task_args or "", "--task-args"),
        "judge": _judge_entry(args),
    }
    return validate_suite({**flags, **_overrides(args)}, "The run flags")


def _judge_entry(args: argparse.Namespace) -> dict[str, Any] | None:
    """The judge flags as a suite's judge entry (checked now, naming --judge-args)."""
    if judge_from_args(args) is None:
        return None
    kv = parse_kv(args.judge_args, "--judge-args")
    return {"name": args.judge, "args": kv, "samples": args.judge_samples}


def _suite_from_file(args: argparse.Namespace) -> Any:
    """A suite file with the run flags given on the command line laid over it."""
    from voxeval.suite import JudgeEntry, load_suite

    suite = load_suite(args.config)
    update = _overrides(args)
    judge = _judge_entry(args)
    if judge is not None:  # the flags name a whole judge: it replaces the file's
        update["judge"] = JudgeEntry(**judge)
    return suite.model_copy(update=update)


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The run flags that were given (a suite file's values give way to them)."""
    given = {
        "limit": args.limit,
        "data_dir": args.data_dir and str(args.data_dir),
        "output_dir": args.output_dir and str(args.output_dir),
        "max_error_rate": args.max_error_rate,
        "wait": args.wait or None,
        "rerun": args.rerun or None,
        "executor": args.executor,
        "shards": args.shards,
        "ray_address": args.ray_address,
    }
    return {k: v for k, v in given.items() if v is not None}


def _run_one(config: Any, max_error_rate: float) -> int:
    """Run one model's evaluation, print its summary; the exit code follows its errors."""
    from voxeval.runner import run_evaluation
    from voxeval.summary import format_run

    run, run_dir = run_evaluation(config, progress=_tqdm_progress, say=say)
    print(format_run(run, run_dir))
    worst = max((t.n_errors / max(1, t.n_samples) for t in run.tasks.values()), default=0.0)
    if worst > max_error_rate:
        print(
            f"voxeval: {worst:.1%} of a task's samples failed (threshold "
            f"{max_error_rate:.1%}); see the error column above.",
            file=sys.stderr,
        )
        return EXIT_TOO_MANY_SAMPLE_ERRORS
    return EXIT_OK


def _run_suite(configs: list[Any], max_error_rate: float) -> int:
    """Each model in turn; one that fails is reported and the next still runs."""
    from voxeval.errors import VoxevalError
    from voxeval.secrets import scrub

    codes = []
    for i, config in enumerate(configs, 1):
        say(f"voxeval: suite model {i}/{len(configs)}: {config.model}")
        try:
            codes.append(_run_one(config, max_error_rate))
        except VoxevalError as exc:
            print(f"voxeval: error: {scrub(str(exc))}", file=sys.stderr)
            codes.append(EXIT_ERROR)
    names = {EXIT_OK: "ok", EXIT_ERROR: "error", EXIT_TOO_MANY_SAMPLE_ERRORS: "too many errors"}
    say(
        "voxeval: suite: "
        + ", ".join(f"{c.model} {names[k]}" for c, k in zip(configs, codes, strict=True))
    )
    return max(codes, key=_SUITE_ERROR_ORDER.index)


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
