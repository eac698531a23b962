"""`voxeval publish --check`: validate the run folders already in a results folder.

Each run is held to the gates of the layer it sits in (voxeval.publish_gates): one in runs/
must pass every gate, one in unofficial/ all but the official-data gate, one in demo/ the
status check; every copied file is scanned for secrets, and the tree must hold only what
`voxeval publish` writes. Meant for a pull request that adds results: it reports every
problem, one line each, and reads only (nothing is written, not even an index).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voxeval.errors import VoxevalError
from voxeval.publish_gates import DEFAULT_MAX_ERROR_RATE, LAYERS, Problem, gate_problems

RUN_DEPTH = 3  # <layer>/<model>/<run_id>


@dataclass
class CheckReport:
    """What --check found: the run folders checked and each problem with its folder."""

    runs: list[Path] = field(default_factory=list)
    problems: list[tuple[Path, Problem]] = field(default_factory=list)

    def add(self, path: Path, gate: str, message: str) -> None:
        """Record one problem of `path`."""
        self.problems.append((path, Problem(gate, message)))


def cmd_check(results_dir: Path, paths: list[Path], max_error_rate: float) -> int:
    """Print one line per problem; 1 if there is any, else 0 with the count of runs checked."""
    report = check_results(results_dir, paths, max_error_rate)
    for path, problem in report.problems:
        print(f"{path}: {problem.gate}: {' '.join(problem.message.split())}")
    bad = len({path for path, _ in report.problems})
    if report.problems:
        print(
            f"voxeval: {len(report.problems)} problem(s) in {bad} folder(s); "
            f"{len(report.runs)} run folder(s) checked under {results_dir}."
        )
        return 1
    print(f"voxeval: {len(report.runs)} run folder(s) under {results_dir} pass every gate.")
    return 0


def check_results(
    results_dir: Path,
    paths: list[Path] | tuple[Path, ...] = (),
    max_error_rate: float = DEFAULT_MAX_ERROR_RATE,
) -> CheckReport:
    """Check every run folder under `results_dir`, or only those at or under `paths`."""
    from voxeval.publish_gates import installed_tasks

    root = Path(results_dir)
    if not root.is_dir():
        raise VoxevalError(f"No results folder {root}; pass --results-dir.")
    report = CheckReport()
    targets: dict[Path, str] = {}
    for path in paths or [root]:
        _collect(root, Path(path), targets, report)
    tasks = installed_tasks()
    seen: dict[str, list[Path]] = {}
    for run_dir, layer in targets.items():
        report.runs.append(run_dir)
        run_id = _check_run(run_dir, layer, tasks, max_error_rate, report)
        if run_id is not None:
            seen.setdefault(run_id, []).append(run_dir)
    for run_id, copies in seen.items():
        for copy in copies[1:]:
            report.add(copy, "duplicate", f"run {run_id} is also published at {copies[0]}.")
    return report


def _collect(root: Path, path: Path, targets: dict[Path, str], report: CheckReport) -> None:
    """Add the run folders at or under `path` (inside `root`) to `targets`, by layer."""
    try:
        rel = Path(os.path.abspath(path)).relative_to(os.path.abspath(root))
    except ValueError:
        report.add(path, "folder", f"is not inside the results folder {root}; pass --results-dir.")
        return
    parts = rel.parts[:RUN_DEPTH]  # a file inside a run folder: check that run
    for depth in range(1, len(parts) + 1):
        here = root.joinpath(*parts[:depth])
        if here.is_symlink():
            report.add(here, "folder", "is a symbolic link; published results are plain files.")
            return
    if not root.joinpath(*parts).exists():
        report.add(path, "folder", "does not exist.")
        return
    _walk(root, parts, targets, report)


def _walk(
    root: Path, parts: tuple[str, ...], targets: dict[Path, str], report: CheckReport
) -> None:
    """Descend to run folders, reporting anything publish would not have written."""
    path = root.joinpath(*parts)
    if parts and parts[0] not in LAYERS:
        _outside_layers(path, parts, report)
        return
    if len(parts) == RUN_DEPTH:
        targets[path] = parts[0]
        return
    if not path.is_dir():
        report.add(path, "folder", "unexpected file: publish writes only run folders here.")
        return
    for child in sorted(path.iterdir()):
        if child.name.startswith("."):  # the board skips hidden entries (publish's temp dirs)
            continue
        if not parts and not child.is_dir():  # a README or .gitattributes beside the layers
            continue
        if child.is_symlink():
            report.add(child, "folder", "is a symbolic link; published results are plain files.")
            continue
        _walk(root, (*parts, child.name), targets, report)


def _outside_layers(path: Path, parts: tuple[str, ...], report: CheckReport) -> None:
    """A folder beside the layers is fine unless it holds run folders the board would show."""
    top = path if len(parts) == 1 else path.parents[len(parts) - 2]
    if not top.is_dir():
        return
    # The board reads <root>/<model>/<run_id>/ as a plain run folder and shows it as official.
    for run_dir in sorted(p.parent for p in top.glob("*/run.json")):
        report.add(
            run_dir,
            "layer",
            "is a run folder outside runs/, unofficial/ and demo/; the board would show it "
            "ungated. Publish it with `voxeval publish RUN_DIR`.",
        )


def _check_run(
    run_dir: Path, layer: str, tasks: dict[str, Any], max_error_rate: float, report: CheckReport
) -> str | None:
    """Check one published run folder against its layer's gates; its run id if readable."""
    from voxeval.results import open_run

    try:
        folder = open_run(run_dir)
    except VoxevalError as exc:
        report.add(run_dir, "schema", str(exc))
        return None
    card, card_ok = _card(folder, report)
    texts = _files(folder, report)
    if (run_dir / "card.json").is_file():
        texts.update(_card_text(folder))
    _secrets(folder, texts, report)
    for problem in gate_problems(folder.run, card, layer, tasks, max_error_rate):
        if card_ok or problem.gate != "card":  # an unreadable card is reported once
            report.problems.append((run_dir, problem))
    return folder.run.run_id


def _files(folder: Any, report: CheckReport) -> dict[str, str]:
    """The texts publish would copy; reports missing, corrupt and unexpected files."""
    from voxeval.publish import RUN_FILE, published_files
    from voxeval.workspace import safe_name

    expected = {RUN_FILE, "card.json"}
    for name, task in folder.run.tasks.items():
        expected |= {task.samples_file, f"judge-{safe_name(name)}.jsonl"}
    for extra in sorted(p.name for p in folder.path.iterdir() if p.name not in expected):
        report.add(
            folder.path,
            "files",
            f"unexpected {extra}: a published run holds only run.json, samples, judge files "
            "and card.json.",
        )
    try:
        contents = published_files(folder)
    except VoxevalError as exc:
        report.add(folder.path, "samples", str(exc))
        return {}
    return {n: data.decode("utf-8", errors="replace") for n, data in contents.items()}


def _card(folder: Any, report: CheckReport) -> tuple[dict[str, Any] | None, bool]:
    """The folder's model card (None without one) and whether it could be read."""
    try:
        return folder.card(), True
    except VoxevalError as exc:
        report.add(folder.path, "card", str(exc))
        return None, False


def _card_text(folder: Any) -> dict[str, str]:
    from voxeval.results.files import read_bytes

    try:
        return {"card.json": read_bytes(folder.path, "card.json").decode("utf-8", "replace")}
    except VoxevalError:  # already reported by _card
        return {}


def _secrets(folder: Any, texts: dict[str, str], report: CheckReport) -> None:
    from voxeval.publish import exact_secrets, secret_problems

    for problem in secret_problems(texts, exact_secrets(folder.run)):
        report.add(folder.path, "secret", f"{problem}; remove it.")
