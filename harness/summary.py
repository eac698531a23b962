"""Plain-text rendering of runs and lists for the terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from voxeval.results import MetricValue, RunResult


def format_table(rows: list[dict[str, Any]]) -> str:
    """Left-aligned columns from a list of same-keyed dicts."""
    if not rows:
        return "(none)"
    headers = list(rows[0])
    cells = [[str(row.get(h, "")) for h in headers] for row in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    return "\n".join(lines)


def format_metric(m: MetricValue) -> str:
    """Value with its CI, e.g. "0.132 [0.081, 0.190]"."""
    if m.value is None:
        return "undefined"
    both = m.ci_low is not None and m.ci_high is not None
    ci = f" [{m.ci_low:.3f}, {m.ci_high:.3f}]" if both else ""
    return f"{m.value:.4f}{ci}"


def format_run(run: RunResult, run_dir: Path) -> str:
    """A short human summary: identity, then one row per task and metric."""
    head = [
        f"run      {run.run_id}  ({run.status}{', resumed' if run.resumed else ''})",
        f"model    {run.model.name}  {run.model.args or ''}".rstrip(),
        f"folder   {run_dir}",
    ]
    rows = []
    for name, task in run.tasks.items():
        data = task.dataset
        ident = data.revision or (data.content_hash or "")[:12]
        for metric, value in task.metrics.items():
            arrow = "↑" if value.higher_is_better else "↓"
            rows.append(
                {
                    "task": f"{name} v{task.task_version}{' (demo)' if data.demo else ''}",
                    "metric": f"{arrow} {metric}",
                    "value [95% CI]": format_metric(value),
                    "n": value.n,
                    "errors": task.n_errors,
                    "RTFx": f"{task.timing.rtfx:.1f}" if task.timing.rtfx else "-",
                    "data": f"{data.id}@{ident}",
                }
            )
    return "\n".join(head) + "\n\n" + format_table(rows) + _format_breakdowns(run)


def _format_breakdowns(run: RunResult) -> str:
    rows = []
    for name, task in run.tasks.items():
        for field, groups in task.breakdowns.items():
            for group, metrics in groups.items():
                row = {"task": name, "by": field, "group": group}
                row.update({m: format_metric(v) for m, v in metrics.items()})
                row["n"] = next(iter(metrics.values())).n if metrics else 0
                rows.append(row)
    return "\n\nbreakdowns\n" + format_table(rows) if rows else ""
