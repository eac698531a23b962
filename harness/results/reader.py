"""The one reader of results: run folders, samples and judge files, cards. It never writes.

`open_run` validates run.json (schema, known version, finite bounded numbers, each metric
inside its declared range) and hands out the folder's other files only by the bare names
run.json gives, without following links. Every command and the leaderboard read here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from voxeval.errors import VoxevalError
from voxeval.results.files import (
    UnboundedNumberError,
    UnsafeResultsError,
    check_folder,
    read_bytes,
    strict_json,
)
from voxeval.results.records import (
    JUDGE_ROW,
    BadLine,
    RecordIndex,
    RecordScan,
    index_jsonl,
    read_jsonl,
)
from voxeval.results.schema import RUN_FILE, MetricValue, RunResult

CARD_FILE = "card.json"
RANGE_SLACK = 1e-9  # float rounding (a CCC of 1.0000000000000002 is 1)
JUDGE_SCALE_LIMIT = 1000


class InvalidRunError(VoxevalError):
    """A run folder whose run.json is missing, malformed or out of bounds."""


class CorruptRecordsError(VoxevalError):
    """A samples or judge file with bad lines, where the reader needs every record."""


@dataclass(frozen=True)
class RunFolder:
    """A validated, read-only view of one run folder."""

    path: Path
    run: RunResult
    raw: dict[str, Any]  # run.json as parsed, equal to `run` (for readers that want a dict)

    def samples_name(self, task: str) -> str:
        """The samples file name run.json gives for `task` (already checked to be bare)."""
        return self.run.tasks[task].samples_file

    def samples(self, task: str, strict: bool = True) -> RecordScan:
        """Every valid record of a task; with `strict`, any bad line is an error."""
        scan = read_jsonl(self.path, self.samples_name(task))
        if strict:
            self._refuse_bad(task, scan.bad)
        return scan

    def sample_index(self, task: str) -> RecordIndex:
        """Offsets of a task's valid records, for reading them one at a time; bad lines refuse."""
        index = index_jsonl(self.path, self.samples_name(task))
        self._refuse_bad(task, index.bad)
        return index

    def _refuse_bad(self, task: str, bad: list[BadLine]) -> None:
        if bad:
            raise CorruptRecordsError(
                f"{RecordScan(bad=bad).problem(self.path / self.samples_name(task))}. Nothing "
                "was changed. Run the same `voxeval run` command again: it moves bad lines to "
                "a .corrupt file beside it and redoes only those samples."
            )

    def judge_rows(self, task: str) -> RecordScan:
        """The judge file of a task, if any (bad lines are listed in the scan, not raised)."""
        from voxeval.workspace import safe_name

        return read_jsonl(self.path, f"judge-{safe_name(task)}.jsonl", JUDGE_ROW)

    def card(self) -> dict[str, Any] | None:
        """The model card beside a published run (validated), or None."""
        from voxeval.leaderboard.card import ModelCard

        try:
            raw = read_bytes(self.path, CARD_FILE, what="model card")
        except FileNotFoundError:
            return None
        try:
            return ModelCard.model_validate(strict_json(raw)).model_dump(exclude_none=True)
        except (ValueError, ValidationError) as exc:
            raise InvalidRunError(f"{self.path / CARD_FILE} is not a valid card: {exc}") from None


def open_run(run_dir: Path) -> RunFolder:
    """Read and validate a run folder; errors name the file and the field."""
    run_dir = check_folder(Path(run_dir))
    path = run_dir / RUN_FILE
    try:
        raw = read_bytes(run_dir, RUN_FILE, what="run file")
    except FileNotFoundError:
        raise InvalidRunError(f"{run_dir} is not a run folder: it has no {RUN_FILE}.") from None
    try:
        data = strict_json(raw)
        run = RunResult.model_validate(data)
    except ValueError as exc:
        raise InvalidRunError(f"{path} is not a valid run: {_describe(exc)}") from None
    problems = out_of_range(run)
    if problems:
        raise InvalidRunError(f"{path} is not a valid run: {'; '.join(problems[:3])}")
    return RunFolder(run_dir, run, data)


def read_run(run_dir: Path) -> RunResult:
    """The validated RunResult of a run folder (see `open_run`)."""
    return open_run(run_dir).run


def find_run(path: Path, say: Callable[[str], None] | None = None) -> RunFolder:
    """A run folder, or a model folder (e.g. <out>/<model>): its latest finished run.

    When a model folder holds several runs, `say` hears which one was taken.
    """
    path = Path(path)
    if (path / RUN_FILE).exists() or (path / RUN_FILE).is_symlink():
        return open_run(path)
    inner = sorted(p.parent for p in path.glob(f"*/{RUN_FILE}") if not p.parent.is_symlink())
    if not inner:
        raise InvalidRunError(f"{path} is neither a run folder nor a model folder (no {RUN_FILE}).")
    finished = []
    for run_dir in inner:
        try:
            folder = open_run(run_dir)
        except VoxevalError:
            continue  # unreadable runs are not candidates; naming one reports why
        if folder.run.status == "success":
            finished.append((folder.run.finished_at or folder.run.created_at, folder))
    if not finished:
        raise InvalidRunError(
            f"{path} holds {len(inner)} run(s) but none finished successfully; name a run "
            "folder, or finish one with its `voxeval run` command."
        )
    chosen = max(finished, key=lambda pair: (pair[0], pair[1].run.run_id))[1]
    if len(inner) > 1 and say is not None:
        say(
            f"voxeval: {path} holds {len(inner)} runs; using the latest finished one, "
            f"{chosen.run.run_id}"
        )
    return chosen


def _describe(exc: ValueError) -> str:
    if isinstance(exc, ValidationError):
        shown = [
            f"{'.'.join(str(p) for p in e['loc']) or 'run'}: {e['msg']}" for e in exc.errors()[:3]
        ]
        more = f" (and {exc.error_count() - 3} more)" if exc.error_count() > 3 else ""
        return "; ".join(shown) + more
    return str(exc) if isinstance(exc, UnboundedNumberError) else f"not valid JSON ({exc})"


def _registered_metrics() -> dict[str, Any]:
    """The registered metrics, looked up once per set of loaded plugins (a hot path)."""
    from voxeval.metrics import METRICS
    from voxeval.plugins import get_plugin_manager

    key = frozenset(id(p) for p in get_plugin_manager().get_plugins())
    if key not in _METRICS_BY_PLUGINS:
        _METRICS_BY_PLUGINS.clear()
        _METRICS_BY_PLUGINS[key] = METRICS.items()
    return _METRICS_BY_PLUGINS[key]


_METRICS_BY_PLUGINS: dict[frozenset[int], dict[str, Any]] = {}


def out_of_range(run: RunResult) -> list[str]:
    """Metric values and CI bounds outside their metric's declared range, field by field."""
    known = _registered_metrics()
    problems, bounds = [], {}
    for name, task in run.tasks.items():
        places = [(f"tasks.{name}.metrics.{m}", m, v) for m, v in task.metrics.items()]
        for field, groups in task.breakdowns.items():
            for group, metrics in groups.items():
                where = f"tasks.{name}.breakdowns.{field}.{group}"
                places += [(f"{where}.{m}", m, v) for m, v in metrics.items()]
        for where, result_name, value in places:
            key = (result_name, value.metric, str(value.params.get("scale")))
            if key not in bounds:  # the same few metrics recur in every breakdown group
                bounds[key] = _bounds(result_name, value, known)
            problem = _range_problem(value, bounds[key])
            if problem:
                problems.append(f"{where}: {problem}")
    return problems


def _range_problem(value: MetricValue, bounds: Any) -> str | None:
    if isinstance(bounds, str):
        return bounds
    low, high = bounds
    slack = RANGE_SLACK * max(1.0, abs(low) if math.isfinite(low) else 1.0)
    for label in ("value", "ci_low", "ci_high"):
        x = getattr(value, label)
        if x is not None and not (low - slack <= x <= high + slack):
            return f"{label} {x} is outside the metric's range [{low}, {high}]"
    return None


def _bounds(result_name: str, value: MetricValue, known: dict[str, Any]) -> Any:
    """(low, high) for a result, or a problem text when its declared scale is itself bad."""
    metric = value.metric or _infer_metric(result_name, known)
    if metric == "judge":
        scale = value.params.get("scale")
        valid = (
            isinstance(scale, list)
            and len(scale) == 2
            and all(isinstance(x, int | float) and not isinstance(x, bool) for x in scale)
            and -JUDGE_SCALE_LIMIT <= scale[0] < scale[1] <= JUDGE_SCALE_LIMIT
        )
        return tuple(scale) if valid else f"judge scale {scale!r} is not [low, high]"
    if metric in known:
        return known[metric].value_range
    return (-math.inf, math.inf)  # a plugin's metric that is not installed here


def _infer_metric(result_name: str, known: dict[str, Any]) -> str | None:
    """Schema-1 files do not name the metric: the result name, or a known prefix or suffix."""
    if result_name in known or result_name == "judge":
        return result_name
    for name in sorted(known, key=len, reverse=True):
        if result_name.startswith(f"{name}_") or result_name.endswith(f"_{name}"):
            return name
    return None


__all__ = [
    "CorruptRecordsError",
    "InvalidRunError",
    "RunFolder",
    "UnsafeResultsError",
    "find_run",
    "open_run",
    "read_run",
]
