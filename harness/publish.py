"""`voxeval publish` (validated copy of a finished run into results/) and `voxeval leaderboard`.

Benchmark runs go to results/runs/<model>/<run_id>/, runs with any demo task to
results/demo/<model>/<run_id>/. Every copied file is scanned for secrets first.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from voxeval.errors import VoxevalError
from voxeval.secrets import MIN_SECRET_LENGTH, find_secret

DEFAULT_RESULTS = Path("results")
DEFAULT_PORT = 8501
SECRET_ENV_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD", re.I)
MAX_PUBLISHED_FILE = 2**30  # one samples file; far above 100k records
RUN_FILE = "run.json"  # voxeval.results.RUN_FILE, without importing pydantic for --help


class PublishError(VoxevalError):
    """A run that must not be published, and why."""


@dataclass
class PublishOutcome:
    """Where a run was published and what happened."""

    dest: Path
    action: Literal["published", "unchanged", "replaced"]

    @property
    def message(self) -> str:
        """One line for the user."""
        if self.action == "unchanged":
            return f"already published at {self.dest}: nothing to do"
        return f"{self.action} {self.dest}"


def add_leaderboard_commands(sub: Any) -> None:
    """Register `publish` and `leaderboard` on an argparse subparsers object."""
    from voxeval.cli import count_arg, path_arg

    pub = sub.add_parser("publish", help="validate a finished run and copy it into results/")
    pub.add_argument("run_dir", type=path_arg, help="a run folder (holding run.json)")
    pub.add_argument("--results-dir", type=path_arg, default=DEFAULT_RESULTS)
    pub.add_argument("--card", type=path_arg, help="model card JSON (display_name, licence, …)")
    pub.add_argument("--replace", action="store_true", help="overwrite a changed earlier copy")
    pub.set_defaults(handler=cmd_publish)

    board = sub.add_parser("leaderboard", help="serve the leaderboard app over results/")
    board.add_argument("--results-dir", type=path_arg, default=DEFAULT_RESULTS)
    board.add_argument("--port", type=count_arg(1, 65535), default=DEFAULT_PORT)
    board.add_argument("--host", default="127.0.0.1", help="address to listen on")
    board.set_defaults(handler=cmd_leaderboard)


def cmd_publish(args: argparse.Namespace) -> int:
    """Publish one run and print where it went."""
    outcome = publish_run(args.run_dir, args.results_dir, args.card, replace=args.replace)
    print(f"voxeval: {outcome.message}")
    return 0


def load_card(path: Path) -> dict[str, Any]:
    """Read and validate a model card; returns its normalised JSON dict."""
    from pydantic import ValidationError

    from voxeval.leaderboard.card import ModelCard
    from voxeval.results.files import strict_json

    try:
        card = ModelCard.model_validate(strict_json(Path(path).read_bytes()))
    except OSError as exc:
        raise PublishError(f"Cannot read model card {path}: {exc.strerror or exc}.") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'card'}: {e['msg']}" for e in exc.errors()
        )
        raise PublishError(f"Model card {path} is not valid: {problems}.") from None
    except ValueError as exc:
        raise PublishError(f"Model card {path} is not valid JSON: {exc}.") from None
    return card.model_dump(exclude_none=True)


def _contents(folder: Any) -> dict[str, bytes]:
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


def _exact_secrets(run: Any) -> dict[str, str]:
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


def scan_for_secrets(files: dict[str, str], exact: dict[str, str] | None = None) -> None:
    """Refuse (naming the file and line) if any text holds a secret-looking string."""
    exact = exact if exact is not None else {}
    for name, text in files.items():
        for lineno, line in enumerate(text.splitlines(), 1):
            what = find_secret(line, exact)
            if what:
                raise PublishError(
                    f"Refusing to publish: {name} line {lineno} contains {what}. Remove it "
                    "(run.json redacts adapter arguments; check prompts, replies and files), "
                    "then publish again."
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


def destination(run: Any, results_dir: Path) -> Path:
    """results/runs/<model>/<run_id>, or results/demo/… when any task ran on demo data.

    Every part is one safe path component, and the result is checked to lie inside
    `results_dir` with no symbolic link on the way.
    """
    from voxeval.leaderboard.identity import is_demo_run, model_key
    from voxeval.results.files import check_bare_name
    from voxeval.workspace import safe_name

    raw = run.model_dump(mode="json")
    layer = "demo" if is_demo_run(raw) else "runs"
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
        return read_bytes(dest, "card.json", what="model card")
    except (FileNotFoundError, NotADirectoryError):
        return None


def publish_run(
    run_dir: Path,
    results_dir: Path = DEFAULT_RESULTS,
    card: Path | None = None,
    replace: bool = False,
) -> PublishOutcome:
    """Validate a run, scan it for secrets and copy it (with its card) into `results_dir`."""
    folder = validate_run(Path(run_dir))
    contents = _contents(folder)
    dest = destination(folder.run, results_dir)
    if card is not None:
        contents["card.json"] = (json.dumps(load_card(card), indent=2) + "\n").encode()
    elif (kept := _existing_card(dest)) is not None:  # publishing again keeps the card
        contents["card.json"] = kept
    texts = {n: d.decode("utf-8", errors="replace") for n, d in contents.items()}
    scan_for_secrets(texts, _exact_secrets(folder.run))
    if dest.resolve() == folder.path.resolve() or _same(dest, contents):
        return PublishOutcome(dest, "unchanged")
    if dest.exists() and not replace:
        raise PublishError(
            f"{dest} already holds a different copy of run {folder.run.run_id} (re-scored, "
            "resumed or another card?). Pass --replace to overwrite it."
        )
    existed = dest.exists()
    _install(dest, contents, Path(results_dir))
    return PublishOutcome(dest, "replaced" if existed else "published")


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


def streamlit_command(results_dir: Path, port: int, host: str) -> list[str]:
    """The `python -m streamlit run` command line that serves the app (no telemetry)."""
    from importlib import resources

    app = Path(str(resources.files("voxeval.leaderboard").joinpath("app.py")))
    return [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", host,
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "viewer",
        "--", "--results-dir", str(Path(results_dir).resolve()),
    ]  # fmt: skip


def cmd_leaderboard(args: argparse.Namespace) -> int:
    """Serve the Streamlit app until interrupted."""
    import importlib.util

    if importlib.util.find_spec("streamlit") is None or importlib.util.find_spec("pandas") is None:
        raise VoxevalError(
            "The leaderboard needs streamlit and pandas: pip install 'voxeval[leaderboard]'."
        )
    if not Path(args.results_dir).is_dir():
        raise VoxevalError(
            f"No results folder {args.results_dir}; publish a run first "
            "(voxeval publish RUN_DIR) or pass --results-dir."
        )
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    command = streamlit_command(args.results_dir, args.port, args.host)
    print(f"voxeval: serving {args.results_dir} at http://{args.host}:{args.port}", flush=True)
    if os.name == "posix":
        # Become the server: one process, so SIGTERM (docker stop, systemd) and SIGINT reach
        # Streamlit itself and no child is left serving after voxeval is gone.
        sys.stderr.flush()
        os.execve(command[0], command, env)
    try:
        return subprocess.run(command, env=env).returncode
    except KeyboardInterrupt:
        return 0
