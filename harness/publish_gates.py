"""Publish's gates: which layer of results/ a run belongs in, and what keeps it out.

Layers: `runs` holds official benchmark results (ranked on the board); `unofficial` holds
full, clean runs on other data than the task declares official (shown apart); `demo` holds
runs on demo or fixture data. Every gate is a pure function over a validated run
(`voxeval.results.RunResult`) that returns named problems, so `voxeval publish --check` can
report all of them at once. Only stdlib imports here: `voxeval --help` loads publish.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LAYERS = ("runs", "unofficial", "demo")
DEFAULT_MAX_ERROR_RATE = 0.01
SHORT = 12  # characters of a revision or hash shown in messages


@dataclass(frozen=True)
class Problem:
    """One reason a run may not sit in a layer: the gate's name and what to do."""

    gate: str
    message: str

    def __str__(self) -> str:
        return f"{self.gate}: {self.message}"


def is_demo(run: Any) -> bool:
    """Demo/fixture data: any task ran on a demo dataset (as leaderboard.identity says)."""
    return any(task.dataset.demo for task in run.tasks.values())


def status_problems(run: Any) -> list[Problem]:
    """The run finished successfully and holds at least one task."""
    problems = []
    if run.status != "success":
        hint = (
            " Resume it with the same `voxeval run` command first."
            if run.status in ("started", "cancelled")
            else ""
        )
        message = f"status {run.status!r}: only finished, successful runs are published."
        problems.append(Problem("status", message + hint))
    if not run.tasks:
        problems.append(Problem("status", "the run holds no task results."))
    return problems


def split_problems(run: Any) -> list[Problem]:
    """The whole split was evaluated: no --limit, and n equals n_available where known."""
    problems = []
    if run.limit is not None:
        problems.append(
            Problem(
                "limit",
                f"the run used --limit {run.limit}; a partial split is not a result. Run the "
                "task again without --limit.",
            )
        )
    for name, task in run.tasks.items():
        data = task.dataset
        if data.n_available is not None and data.n != data.n_available:
            problems.append(
                Problem(
                    "full-split",
                    f"{name}: {data.n} of the {data.n_available} samples of split "
                    f"{data.split} were evaluated; evaluate the whole split.",
                )
            )
    return problems


def error_rate_problems(run: Any, max_error_rate: float) -> list[Problem]:
    """Each task's failed samples are at most `max_error_rate` of its samples."""
    problems = []
    for name, task in run.tasks.items():
        if task.n_samples == 0:
            problems.append(Problem("error-rate", f"{name}: no samples were evaluated."))
            continue
        rate = task.n_errors / task.n_samples
        if rate > max_error_rate:
            problems.append(
                Problem(
                    "error-rate",
                    f"{name}: {task.n_errors} of {task.n_samples} samples failed ({rate:.1%}, "
                    f"above the {max_error_rate:.1%} allowed). Fix the cause and resume the "
                    "run with the same `voxeval run` command (adapter errors are retried), "
                    "or pass --max-error-rate if the failures are the model's own.",
                )
            )
    return problems


def card_problems(card: Mapping[str, Any] | None) -> list[Problem]:
    """A model card saying the model's licence and whether its weights are open."""
    if card is None:
        return [
            Problem(
                "card",
                'no model card: give one with at least "licence" and "open_weights" '
                "(voxeval publish --card card.json; see docs/leaderboard.md).",
            )
        ]
    problems = []
    if not card.get("licence"):
        problems.append(
            Problem("card", 'the model card has no licence: add "licence" (e.g. "MIT").')
        )
    if not isinstance(card.get("open_weights"), bool):
        problems.append(
            Problem(
                "card",
                'the model card does not say whether the weights are open: add "open_weights"'
                " (true or false).",
            )
        )
    return problems


def _short(value: str) -> str:
    return value if len(value) <= SHORT else value[:SHORT] + "…"


def _matches(official: Any, data: Any) -> bool:
    if (official.id, official.split) != (data.id, data.split):
        return False
    same_revision = bool(official.revision) and data.revision == official.revision
    same_hash = bool(official.content_hash) and data.content_hash == official.content_hash
    return same_revision or same_hash


def _mismatch(kind: str, got: str | None, wanted: list[str]) -> str:
    want = " or ".join(_short(w) for w in wanted)
    if got is None:
        return f"it records no {kind}; the official {kind} is {want}"
    return f"{kind} {_short(got)} is not the official {want}"


def identity_reason(name: str, data: Any, task: Any) -> str | None:
    """Why a task's data is not the official data the task declares; None when it is."""
    if task is None:
        return f"{name}: the task is not installed here, so its official data is unknown"
    declared = tuple(getattr(task, "official_data", ()))
    if not declared:
        return f"{name}: the task declares no official data"
    if any(_matches(o, data) for o in declared):
        return None
    same_id = [o for o in declared if o.id == data.id]
    if not same_id:
        ids = " or ".join(dict.fromkeys(o.id for o in declared))
        return f"{name}: dataset {data.id} is not the official {ids}"
    same_split = [o for o in same_id if o.split == data.split]
    if not same_split:
        splits = " or ".join(dict.fromkeys(o.split for o in same_id))
        return f"{name}: split {data.split} is not the official {splits}"
    revisions = [o.revision for o in same_split if o.revision]
    hashes = [o.content_hash for o in same_split if o.content_hash]
    if not revisions and not hashes:
        return f"{name}: no official revision or content hash of {data.id} is pinned yet"
    parts = [_mismatch("revision", data.revision, revisions)] if revisions else []
    parts += [_mismatch("content hash", data.content_hash, hashes)] if hashes else []
    return f"{name}: {'; '.join(parts)}"


def unofficial_reasons(run: Any, tasks: Mapping[str, Any]) -> list[str]:
    """Why the run's data is not official, one line per task that is not (empty: official)."""
    reasons = (identity_reason(n, t.dataset, tasks.get(n)) for n, t in run.tasks.items())
    return [r for r in reasons if r]


def layer_of(run: Any, tasks: Mapping[str, Any]) -> tuple[str, list[str]]:
    """The layer a run is published to, and why it is not `runs` (demo data, other data)."""
    if is_demo(run):
        return "demo", []
    reasons = unofficial_reasons(run, tasks)
    return ("unofficial" if reasons else "runs"), reasons


def gate_problems(
    run: Any,
    card: Mapping[str, Any] | None,
    layer: str,
    tasks: Mapping[str, Any],
    max_error_rate: float = DEFAULT_MAX_ERROR_RATE,
) -> list[Problem]:
    """Every problem keeping the run out of `layer` (runs: all gates; demo: status only)."""
    problems = status_problems(run)
    if layer == "demo":  # demo runs are never ranked: a --limit smoke run is fine there
        return problems
    if is_demo(run):  # the one fix is its layer: the other gates do not apply to demo data
        return [*problems, Problem("layer", f"demo data is published to demo/, not {layer}/.")]
    problems += split_problems(run) + error_rate_problems(run, max_error_rate)
    problems += card_problems(card)
    if layer == "runs":
        problems += [
            Problem("official-data", f"{reason}; it belongs in unofficial/.")
            for reason in unofficial_reasons(run, tasks)
        ]
    return problems


def installed_tasks() -> dict[str, Any]:
    """The task classes registered here (built-ins and plugins), by name; groups left out."""
    from voxeval.task import TASKS

    return {n: t for n, t in TASKS.items().items() if hasattr(t, "official_data")}
