"""`voxeval compare` and `voxeval check`: paired comparisons and a CI regression gate."""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import asdict
from typing import Any

from voxeval.errors import VoxevalError

EXIT_PASS, EXIT_REGRESSED, EXIT_UNUSABLE = 0, 1, 2
DEFAULT_MIN_SHARED = 10  # fewer shared samples than this: too few to gate on


def add_gate_commands(sub: Any) -> None:
    """Register `compare` and `check`."""
    from voxeval.cli import count_arg, path_arg

    compare = sub.add_parser("compare", help="paired differences between two runs (B − A)")
    compare.add_argument("run_a", type=path_arg)
    compare.add_argument("run_b", type=path_arg)
    compare.add_argument("--json", action="store_true", help="machine-readable output")
    compare.add_argument("--min-shared", type=count_arg(), default=DEFAULT_MIN_SHARED)
    compare.set_defaults(handler=cmd_compare)

    check = sub.add_parser(
        "check", help="exit 1 if RUN regressed against BASELINE (0 ok, 2 unusable input)"
    )
    check.add_argument("--baseline", type=path_arg, required=True)
    check.add_argument("--run", type=path_arg, required=True)
    check.add_argument(
        "--tolerance",
        action="append",
        default=[],
        metavar="METRIC=DELTA",
        help="allowed worsening per metric (e.g. wer=0.01); default 0",
    )
    check.add_argument("--min-shared", type=count_arg(), default=DEFAULT_MIN_SHARED)
    check.set_defaults(handler=cmd_check)


def cmd_compare(args: argparse.Namespace) -> int:
    """Print the paired comparison table (or JSON)."""
    from voxeval.cli import say
    from voxeval.compare import compare_runs

    _, _, comparisons = compare_runs(args.run_a, args.run_b, args.min_shared, say=say)
    if args.json:
        print(json.dumps([asdict(c) for c in comparisons], indent=2, default=str))
    else:
        print(_table(comparisons, tolerances={}))
    return EXIT_PASS


def cmd_check(args: argparse.Namespace) -> int:
    """The CI gate: 0 pass, 1 regression, 2 unusable input — never a silent pass."""
    from voxeval.cli import say
    from voxeval.compare import compare_runs, is_worse

    try:
        tolerances = _parse_tolerances(args.tolerance)
        _, _, comparisons = compare_runs(args.baseline, args.run, args.min_shared, say=say)
    except VoxevalError as exc:
        print(f"voxeval check: unusable input: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    problems = [c for c in comparisons if c.problem]
    print(_table(comparisons, tolerances))
    if problems or not comparisons:
        reasons = "; ".join(c.problem or "" for c in problems) or "the baseline has no tasks"
        print(f"voxeval check: unusable input: {reasons}", file=sys.stderr)
        return EXIT_UNUSABLE
    unknown = set(tolerances) - {m.metric for c in comparisons for m in c.metrics}
    if unknown:
        print(
            f"voxeval check: --tolerance names unknown metric(s): {', '.join(unknown)}",
            file=sys.stderr,
        )
        return EXIT_UNUSABLE
    regressed = [
        (c.task, m.metric)
        for c in comparisons
        for m in c.metrics
        if is_worse(m, tolerances.get(m.metric, 0.0))
    ]
    if regressed:
        names = ", ".join(f"{t}/{m}" for t, m in regressed)
        print(f"voxeval check: REGRESSION in {names}", file=sys.stderr)
        return EXIT_REGRESSED
    print("voxeval check: no significant regression")
    return EXIT_PASS


def format_p(p: float | None) -> str:
    """A p-value as people read it: "< 0.001" below what 1,000 resamples resolve."""
    if p is None:
        return "-"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _parse_tolerances(items: list[str]) -> dict[str, float]:
    out = {}
    for item in items:
        metric, _, value = item.partition("=")
        try:
            delta = float(value)
        except ValueError:
            delta = math.nan
        if not metric.strip() or not math.isfinite(delta) or delta < 0:
            raise VoxevalError(
                f"Bad --tolerance {item!r}: write METRIC=DELTA with a DELTA of 0 or more, "
                "e.g. wer=0.01"
            )
        out[metric.strip()] = delta
    return out


def _table(comparisons: list[Any], tolerances: dict[str, float]) -> str:
    from voxeval.summary import format_table

    rows = []
    for c in comparisons:
        if c.problem:
            rows.append({"task": c.task, "metric": "-", "verdict": f"INCOMPARABLE: {c.problem}"})
            continue
        for m in c.metrics:
            rows.append(_row(c, m, tolerances.get(m.metric, 0.0)))
    return format_table(rows)


def _row(c: Any, m: Any, tolerance: float) -> dict[str, Any]:
    from voxeval.compare import is_better, is_worse

    def num(x: float | None) -> str:
        return "-" if x is None else f"{x:.4f}"

    verdict = "worse" if is_worse(m, tolerance) else "better" if is_better(m) else "no sig. change"
    if verdict == "no sig. change" and is_worse(m, 0.0):
        verdict = f"worse, within tolerance {tolerance:g}"
    return {
        "task": c.task,
        "metric": f"{'↑' if m.higher_is_better else '↓'} {m.metric}",
        "A": num(m.value_a),
        "B": num(m.value_b),
        "B−A": num(m.delta),
        "95% CI": f"[{num(m.ci_low)}, {num(m.ci_high)}]",
        "p": format_p(m.p_value),
        "n": c.n_shared,
        "verdict": verdict,
    }
