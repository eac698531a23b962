"""`voxeval publish` (validated copy of a finished run into results/) and `voxeval leaderboard`.

A run goes to results/<layer>/<model>/<run_id>/: `runs` when it passes every gate of
voxeval.publish_gates (full official split, few errors, a model card), `unofficial` when
its data is not the official data its tasks declare, `demo` when any task ran on demo data.
Every copied file is scanned for secrets first. `voxeval publish --check` (publish_check.py)
validates the runs already in a results folder.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

# streamlit_command is re-exported: callers import it from here.
from voxeval.board_server import DEFAULT_PORT, cmd_leaderboard, streamlit_command  # noqa: F401
from voxeval.errors import VoxevalError
from voxeval.publish_gates import DEFAULT_MAX_ERROR_RATE, LAYERS, gate_problems, layer_of
from voxeval.secrets import MIN_SECRET_LENGTH, find_secret

DEFAULT_RESULTS = Path("results")
SECRET_ENV_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD", re.I)
MAX_PUBLISHED_FILE = 2**30  # one samples file; far above 100k records
RUN_FILE = "run.json"  # voxeval.results.RUN_FILE, without importing pydantic for --help
CARD_FILE = "card.json"


class PublishError(VoxevalError):
    """A run that must not be published, and why."""


@dataclass
class PublishOutcome:
    """Where a run was published and what happened."""

    dest: Path
    action: Literal["published", "unchanged", "replaced"]
    layer: str = "runs"
    reasons: tuple[str, ...] = ()  # why the run is unofficial

    @property
    def message(self) -> str:
        """What happened, and why the run is unofficial when it is."""
        line = f"{self.action} {self.dest}"
        if self.action == "unchanged":
            line = f"already published at {self.dest}: nothing to do"
        if self.layer != "unofficial":
            return line
        why = "".join(f"\n  - {reason}" for reason in self.reasons)
        return f"{line}\nunofficial (shown apart from the ranked results) because:{why}"


def add_leaderboard_commands(sub: Any) -> None:
    """Register `publish` and `leaderboard` on an argparse subparsers object."""
    from voxeval.cli import count_arg, fraction_arg, path_arg

    pub = sub.add_parser("publish", help="validate a finished run and copy it into results/")
    pub.add_argument(
        "run_dir",
        nargs="*",
        type=path_arg,
        metavar="RUN_DIR",
        help="a run folder (holding run.json); with --check, published folders to check "
        "(default: everything under --results-dir)",
    )
    pub.add_argument("--results-dir", type=path_arg, default=DEFAULT_RESULTS)
    pub.add_argument("--card", type=path_arg, help="model card JSON (licence, open_weights, …)")
    pub.add_argument("--replace", action="store_true", help="overwrite a changed earlier copy")
    pub.add_argument(
        "--max-error-rate",
        type=fraction_arg,
        default=DEFAULT_MAX_ERROR_RATE,
        help="largest share of failed samples per task (default 0.01)",
    )
    pub.add_argument(
        "--check",
        action="store_true",
        help="validate the runs already under --results-dir against the gates; writes nothing",
    )
    pub.set_defaults(handler=cmd_publish)

    board = sub.add_parser("leaderboard", help="serve the leaderboard app over results/")
    board.add_argument("--results-dir", type=path_arg, default=DEFAULT_RESULTS)
    board.add_argument("--port", type=count_arg(1, 65535), default=DEFAULT_PORT)
    board.add_argument("--host", default="127.0.0.1", help="address to listen on")
    board.add_argument(
        "--static",
        type=path_arg,
        metavar="OUT",
        help="write a self-contained static site to OUT (OUT/index.html) instead of serving",
    )
    board.set_defaults(handler=cmd_leaderboard)


def cmd_publish(args: argparse.Namespace) -> int:
    """Publish one run and print where it went (or, with --check, validate results/)."""
    if args.check:
        if args.card or args.replace:
            raise VoxevalError("--check only reads: it takes no --card or --replace.")
        from voxeval.publish_check import cmd_check

        return cmd_check(args.results_dir, args.run_dir, args.max_error_rate)
    if len(args.run_dir) != 1:
        raise VoxevalError(
            "voxeval publish takes one run folder (voxeval publish RUN_DIR), or --check."
        )
    outcome = publish_run(
        args.run_dir[0], args.results_dir, args.card, args.replace, args.max_error_rate
    )
    print(f"voxeval: {outcome.message}")
    return 0


def load_card(path: Path) -> dict[str, Any]:
    """Read and validate a model card; returns its normalised JSON dict."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise PublishError(f"Cannot read model card {path}: {exc.strerror or exc}.") from None
    return parse_card(data, path)


def parse_card(data: bytes, path: Path) -> dict[str, Any]:
    """Validate a model card's bytes (`path` names it in errors); its normalised JSON dict."""
    from pydantic import ValidationError

    from voxeval.leaderboard.card import ModelCard
    from voxeval.results.files import strict_json

    try:
        card = ModelCard.model_validate(strict_json(data))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'card'}: {e['msg']}" for e in exc.errors()
        )
        raise PublishError(f"Model card {path} is not valid: {problems}.") from None
    except ValueError as exc:
        raise PublishError(f"Model card {path} is not valid JSON: {exc}.") from None
    return card.model_dump(exclude_none=True)


def published_files(folder: Any) -> dict[str, bytes]:
    """run.json, every task's samples file (all lines valid) and its judge file if any."""
    from voxeval.results import CorruptRecordsError
    from voxeval.results.files import read_bytes
    from voxeval.workspace import safe_name

    names = [RUN_FILE]
    for name, task in folder.run.tasks.items():
        try:
            folder.samples(name)
        except CorruptRecordsError as exc:
            raise PublishError(f"Refusing to publish: {exc}") from None
        names.append(task.samples_file)
        judge = folder.judge_rows(name)
        if judge.bad:
            raise PublishError(f"Refusing to publish: {judge.problem(folder.path)}.")
        if judge.valid_lines:
            names.append(f"judge-{safe_name(name)}.jsonl")
    out = {}
    for name in dict.fromkeys(names):
        try:
            out[name] = read_bytes(folder.path, name, MAX_PUBLISHED_FILE)
        except FileNotFoundError:
            raise PublishError(
                f"{folder.path}: {name} is named in {RUN_FILE} but is not in the run folder; "
                "publish the complete run folder."
            ) from None
    return out


def exact_secrets(run: Any) -> dict[str, str]:
    """Values of secret-named variables and of every variable a run's `*api_key_env` names."""
    named = {name for name in os.environ if SECRET_ENV_NAME.search(name)}
    named |= {v for v in _api_key_envs(run.model_dump(mode="json")) if v in os.environ}
    return {
        f"the value of environment variable {name}": os.environ[name]
        for name in sorted(named)
        if len(os.environ[name].strip()) >= MIN_SECRET_LENGTH
    }


def _api_key_envs(data: Any) -> list[str]:
    """Every string under a key ending in api_key_env, anywhere (model, stages, judge)."""
    if isinstance(data, dict):
        found = [
            v for k, v in data.items() if str(k).endswith("api_key_env") and isinstance(v, str)
        ]
        return found + [x for v in data.values() for x in _api_key_envs(v)]
    if isinstance(data, list):
        return [x for v in data for x in _api_key_envs(v)]
    return []


def secret_problems(files: dict[str, str], exact: dict[str, str] | None = None) -> list[str]:
    """The first secret-looking string of each text, as "NAME line N contains WHAT"."""
    exact = exact if exact is not None else {}
    found = []
    for name, text in files.items():
        for lineno, line in enumerate(text.splitlines(), 1):
            what = find_secret(line, exact)
            if what:
                found.append(f"{name} line {lineno} contains {what}")
                break
    return found


def scan_for_secrets(files: dict[str, str], exact: dict[str, str] | None = None) -> None:
    """Refuse (naming the file and line) if any text holds a secret-looking string."""
    for problem in secret_problems(files, exact)[:1]:
        raise PublishError(
            f"Refusing to publish: {problem}. Remove it (run.json redacts adapter arguments; "
            "check prompts, replies and files), then publish again."
        )


def validate_run(run_dir: Path) -> Any:
    """The run folder if it can be published: valid, status success, at least one task."""
    from voxeval.results import open_run

    folder = open_run(run_dir)
    run = folder.run
    if run.status != "success":
        hint = (
            " Resume it with the same `voxeval run` command first."
            if run.status in ("started", "cancelled")
            else ""
        )
        raise PublishError(
            f"{run_dir} has status {run.status!r}; only finished, successful runs can be "
            f"published.{hint}"
        )
    if not run.tasks:
        raise PublishError(f"{run_dir} has no task results to publish.")
    return folder


def destination(run: Any, results_dir: Path, layer: str) -> Path:
    """results/<layer>/<model>/<run_id> (layer: runs, unofficial or demo).

    Every part is one safe path component, and the result is checked to lie inside
    `results_dir` with no symbolic link on the way.
    """
    from voxeval.leaderboard.identity import model_key
    from voxeval.results.files import check_bare_name
    from voxeval.workspace import safe_name

    raw = run.model_dump(mode="json")
    model = check_bare_name(safe_name(model_key(raw["model"]))[:200], "model folder")
    dest = Path(results_dir) / layer / model / check_bare_name(run.run_id, "run id")
    _inside(dest, Path(results_dir))
    return dest


def _inside(dest: Path, root: Path) -> None:
    """Refuse a destination outside `root` or reached through a symbolic link."""
    top = root.resolve()
    here = top
    for part in dest.relative_to(root).parts:
        here = here / part
        if here.is_symlink():
            raise PublishError(
                f"{here} is a symbolic link; publish never writes through links. Remove it."
            )
    if not dest.resolve().is_relative_to(top):
        raise PublishError(f"{dest} would lie outside the results folder {root}; refusing.")


def _same(dest: Path, contents: dict[str, bytes]) -> bool:
    from voxeval.results.files import read_bytes

    present = {p.name for p in dest.iterdir()} if dest.is_dir() else set()
    if present != set(contents):
        return False
    try:
        return all(
            read_bytes(dest, name, MAX_PUBLISHED_FILE) == data for name, data in contents.items()
        )
    except VoxevalError:
        return False


def _existing_card(dest: Path) -> bytes | None:
    from voxeval.results.files import read_bytes

    try:
        return read_bytes(dest, CARD_FILE, what="model card")
    except (FileNotFoundError, NotADirectoryError):
        return None


def _other_copies(dest: Path, root: Path) -> list[Path]:
    """The same model/run folder in the other layers (a run is published in one layer)."""
    model, run_id = dest.parent.name, dest.name
    others = [root / layer / model / run_id for layer in LAYERS if layer != dest.parent.parent.name]
    found = [p for p in others if p.exists() or p.is_symlink()]
    for path in found:  # its card is read and the folder removed: never through a link
        _inside(path, root)
    return found


def _card(card: Path | None, copies: list[Path]) -> tuple[bytes | None, dict[str, Any] | None]:
    """The card to store (from --card, else the one already published) and its fields."""
    if card is not None:
        fields = load_card(card)
        return (json.dumps(fields, indent=2) + "\n").encode(), fields
    for copy in copies:  # publishing again (or moving to another layer) keeps the card
        kept = _existing_card(copy)
        if kept is not None:
            return kept, parse_card(kept, copy / CARD_FILE)
    return None, None


def publish_run(
    run_dir: Path,
    results_dir: Path = DEFAULT_RESULTS,
    card: Path | None = None,
    replace: bool = False,
    max_error_rate: float = DEFAULT_MAX_ERROR_RATE,
) -> PublishOutcome:
    """Validate a run, gate it, scan it for secrets and copy it (with its card) into its layer."""
    from voxeval.publish_gates import installed_tasks

    folder = validate_run(Path(run_dir))
    contents = published_files(folder)
    tasks = installed_tasks()
    layer, reasons = layer_of(folder.run, tasks)
    dest = destination(folder.run, results_dir, layer)
    others = _other_copies(dest, Path(results_dir))
    card_bytes, fields = _card(card, [dest, *others])
    if card_bytes is not None:
        contents[CARD_FILE] = card_bytes
    texts = {n: d.decode("utf-8", errors="replace") for n, d in contents.items()}
    scan_for_secrets(texts, exact_secrets(folder.run))
    problems = gate_problems(folder.run, fields, layer, tasks, max_error_rate)
    if problems:
        listed = "".join(f"\n  - {p}" for p in problems)
        raise PublishError(f"Refusing to publish {run_dir} to {layer}/:{listed}")
    if others and not replace:
        raise PublishError(
            f"Run {folder.run.run_id} is already published at {others[0]}; it now belongs in "
            f"{layer}/. Pass --replace to move it."
        )
    if not others and (dest.resolve() == folder.path.resolve() or _same(dest, contents)):
        return PublishOutcome(dest, "unchanged", layer, tuple(reasons))
    if dest.exists() and not replace:
        raise PublishError(
            f"{dest} already holds a different copy of run {folder.run.run_id} (re-scored, "
            "resumed or another card?). Pass --replace to overwrite it."
        )
    existed = dest.exists() or bool(others)
    _install(dest, contents, Path(results_dir))
    for other in others:  # moved to its new layer: the old copy goes
        shutil.rmtree(other)
    return PublishOutcome(dest, "replaced" if existed else "published", layer, tuple(reasons))


def _install(dest: Path, contents: dict[str, bytes], root: Path) -> None:
    """Write a hidden temporary folder beside `dest`, then swap it into place by renames.

    A replaced copy is renamed aside and removed only after the new one is in place; every
    path touched is inside the results folder (checked again after the folders exist).
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    _inside(dest, root)
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.new-"))
    old = None
    try:
        for name, data in contents.items():
            (tmp / name).write_bytes(data)
            os.chmod(tmp / name, 0o644)
        os.chmod(tmp, 0o755)
        if dest.exists():
            old = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.old-"))
            os.replace(dest, old / dest.name)
        os.replace(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
