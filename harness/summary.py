"""Plain-text rendering of runs and lists for the terminal (fits its width, 100 if piped)."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path
from typing import Any

from voxeval.results import MetricValue, ModelRecord, RunResult

MIN_COLUMN = 10  # a wrapped column is never narrower than this


def terminal_width() -> int:
    """Columns of the terminal (COLUMNS wins); 100 when output is not a terminal."""
    return shutil.get_terminal_size((100, 24)).columns


def natural_width(rows: list[dict[str, Any]]) -> int:
    """Characters per line of `format_table(rows)` before any wrapping."""
    headers = list(rows[0]) if rows else []
    widths = [max(len(h), *(len(str(r.get(h, ""))) for r in rows)) for h in headers]
    return sum(widths) + 2 * max(0, len(headers) - 1)


def format_table(
    rows: list[dict[str, Any]], width: int | None = None, keep: tuple[str, ...] = ()
) -> str:
    """Left-aligned columns from same-keyed dicts; the widest text columns wrap to fit
    (never the columns named in `keep`, such as a value with its interval)."""
    if not rows:
        return "(none)"
    headers = list(rows[0])
    cells = [[str(row.get(h, "")) for h in headers] for row in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    room = (width or terminal_width()) - 2 * (len(headers) - 1)
    _narrow(widths, headers, cells, room, {headers.index(k) for k in keep if k in headers})
    lines = [_line([h[:w] for h, w in zip(headers, widths, strict=True)], widths)]
    lines.append("  ".join("-" * w for w in widths))
    for row in cells:
        wrapped = [textwrap.wrap(c, w) or [""] for c, w in zip(row, widths, strict=True)]
        for k in range(max(map(len, wrapped))):
            lines.append(_line([part[k] if k < len(part) else "" for part in wrapped], widths))
    return "\n".join(lines)


def _narrow(
    widths: list[int], headers: list[str], cells: list[list[str]], room: int, kept: set[int]
) -> None:
    """Shrink columns until the table fits `room`: text columns first (they wrap at spaces,
    never below their longest word), then any other, never below MIN_COLUMN."""
    free = set(range(len(headers))) - kept
    text = {i for i in free if any(" " in row[i] for row in cells)}

    def floor(i: int, by_words: bool) -> int:
        longest = max((len(w) for row in cells for w in row[i].split()), default=0)
        return max(MIN_COLUMN, len(headers[i]), min(longest, 30) if by_words else 0)

    for pool, by_words in ((text, True), (free, False)):
        while sum(widths) > room:
            candidates = [i for i in pool if widths[i] > floor(i, by_words)]
            if not candidates:
                break
            widths[max(candidates, key=widths.__getitem__)] -= 1


def _line(cells: list[str], widths: list[int]) -> str:
    return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()


def format_metric(m: MetricValue) -> str:
    """Value with its CI, e.g. "0.132 [0.081, 0.190]"."""
    if m.value is None:
        return "undefined"
    both = m.ci_low is not None and m.ci_high is not None
    ci = f" [{m.ci_low:.3f}, {m.ci_high:.3f}]" if both else ""
    return f"{m.value:.4f}{ci}"


def changed_args(model: ModelRecord) -> dict[str, Any]:
    """The arguments that differ from the adapter's defaults (all when it is not installed)."""
    from voxeval.adapter import ADAPTERS
    from voxeval.errors import VoxevalError

    try:
        fields = ADAPTERS.get(model.name).Args.model_fields
    except VoxevalError:
        return dict(model.args)
    return {k: v for k, v in model.args.items() if not _is_default(fields.get(k), v)}


def _is_default(field: Any, value: Any) -> bool:
    if field is None or field.is_required():
        return False
    return field.get_default(call_default_factory=True) == value


def format_run(run: RunResult, run_dir: Path) -> str:
    """A short human summary: identity, each task's data, then one row per task and metric."""
    args = changed_args(run.model)
    head = [
        f"run      {run.run_id}  ({run.status}{', resumed' if run.resumed else ''})",
        f"model    {run.model.name}  {args or '(default arguments)'}",
        f"folder   {run_dir}",
    ]
    rows = []
    for name, task in run.tasks.items():
        data = task.dataset
        ident = data.revision or (data.content_hash or "")[:12]
        demo = " (demo)" if data.demo else ""
        head.append(f"task     {name} v{task.task_version}{demo}  data {data.id}@{ident}")
        for metric, value in task.metrics.items():
            rows.append(
                {
                    "task": name,
                    "metric": f"{'↑' if value.higher_is_better else '↓'} {metric}",
                    "value [95% CI]": format_metric(value),
                    "n": value.n,
                    "errors": task.n_errors,
                    "RTFx": format_rtfx(task.timing.rtfx),
                }
            )
    table = format_table(rows, keep=("value [95% CI]",))
    return "\n".join(head) + "\n\n" + table + _format_breakdowns(run)


def format_rtfx(rtfx: float | None) -> str:
    """Real-time factor, short: "10.3", "1250", "2.4e+05" (an instant adapter)."""
    if not rtfx:
        return "-"
    return f"{rtfx:.1f}" if rtfx < 1000 else f"{rtfx:.0f}" if rtfx < 100_000 else f"{rtfx:.2g}"


def _format_breakdowns(run: RunResult) -> str:
    """Breakdowns: one column per metric when that fits the terminal, else one row each."""
    wide, long = [], []
    for name, task in run.tasks.items():
        for field, groups in task.breakdowns.items():
            for group, metrics in groups.items():
                n = next(iter(metrics.values())).n if metrics else 0
                row = {"task": name, "by": field, "group": group}
                wide.append({**row, **{m: format_metric(v) for m, v in metrics.items()}, "n": n})
                long += [
                    {**row, "metric": m, "value [95% CI]": format_metric(v), "n": v.n}
                    for m, v in metrics.items()
                ]
    if not wide:
        return ""
    fits = natural_width(wide) <= terminal_width() and len({tuple(r) for r in wide}) == 1
    return "\n\nbreakdowns\n" + format_table(wide if fits else long, keep=("value [95% CI]",))
