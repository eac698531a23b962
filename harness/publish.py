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

DEFAULT_RESULTS = Path("results")
DEFAULT_PORT = 8501
SECRET_PATTERNS = {
    "an OpenAI-style key (sk-…)": re.compile(r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{16,}"),
    "a Hugging Face token (hf_…)": re.compile(r"(?<![A-Za-z0-9])hf_[A-Za-z0-9]{20,}"),
    "a bearer token (Bearer …)": re.compile(r"Bearer\s+[A-Za-z0-9._~+/=-]{12,}"),
}
SECRET_ENV_NAME = re.compile(r"KEY|TOKEN|SECRET", re.I)
MIN_ENV_SECRET = 8  # shorter env values ("1", "true") would match everywhere


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
    from voxeval.cli import path_arg

    pub = sub.add_parser("publish", help="validate a finished run and copy it into results/")
    pub.add_argument("run_dir", type=path_arg, help="a run folder (holding run.json)")
    pub.add_argument("--results-dir", type=path_arg, default=DEFAULT_RESULTS)
    pub.add_argument("--card", type=path_arg, help="model card JSON (display_name, licence, …)")
    pub.add_argument("--replace", action="store_true", help="overwrite a changed earlier copy")
    pub.set_defaults(handler=cmd_publish)

    board = sub.add_parser("leaderboard", help="serve the leaderboard app over results/")
    board.add_argument("--results-dir", type=path_arg, default=DEFAULT_RESULTS)
    board.add_argument("--port", type=int, default=DEFAULT_PORT)
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

    try:
        card = ModelCard.model_validate_json(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise PublishError(f"Cannot read model card {path}: {exc.strerror or exc}.") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'card'}: {e['msg']}" for e in exc.errors()
        )
        raise PublishError(f"Model card {path} is not valid: {problems}.") from None
    return card.model_dump(exclude_none=True)


def _files_to_copy(run: Any, run_dir: Path) -> list[Path]:
    """run.json, every task's samples JSONL and any judge JSONL beside it."""
    files = [run_dir / "run.json"]
    for task in run.tasks.values():
        samples = run_dir / task.samples_file
        if Path(task.samples_file).name != task.samples_file or not samples.is_file():
            raise PublishError(
                f"{run_dir}: task {task.task!r} names samples file {task.samples_file!r}, "
                "which is not in the run folder; publish the complete run folder."
            )
        files.append(samples)
    files.extend(sorted(run_dir.glob("judge-*.jsonl")))
    return list(dict.fromkeys(files))


def _env_secrets() -> dict[str, str]:
    return {
        name: value
        for name, value in os.environ.items()
        if SECRET_ENV_NAME.search(name) and len(value.strip()) >= MIN_ENV_SECRET
    }


def find_secret(text: str, env: dict[str, str]) -> str | None:
    """What secret-looking thing `text` holds (never the secret itself), or None."""
    for what, pattern in SECRET_PATTERNS.items():
        if pattern.search(text):
            return what
    for name, value in env.items():
        if value in text:
            return f"the value of environment variable {name}"
    return None


def scan_for_secrets(files: dict[str, str]) -> None:
    """Refuse (naming the file and line) if any text holds a secret-looking string."""
    env = _env_secrets()
    for name, text in files.items():
        for lineno, line in enumerate(text.splitlines(), 1):
            what = find_secret(line, env)
            if what:
                raise PublishError(
                    f"Refusing to publish: {name} line {lineno} contains {what}. Remove it "
                    "(run.json redacts adapter arguments; check prompts, replies and files), "
                    "then publish again."
                )


def validate_run(run_dir: Path) -> Any:
    """The run if it can be published: valid schema, status success, at least one task."""
    from voxeval.results import read_run

    run = read_run(run_dir)
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
    return run


def destination(run: Any, results_dir: Path) -> Path:
    """results/runs/<model>/<run_id>, or results/demo/… when any task ran on demo data."""
    from voxeval.leaderboard.identity import is_demo_run, model_key
    from voxeval.workspace import safe_name

    raw = run.model_dump(mode="json")
    layer = "demo" if is_demo_run(raw) else "runs"
    return Path(results_dir) / layer / safe_name(model_key(raw["model"])) / run.run_id


def _same(dest: Path, contents: dict[str, bytes]) -> bool:
    present = {p.name for p in dest.iterdir()} if dest.is_dir() else set()
    if present != set(contents):
        return False
    return all((dest / name).read_bytes() == data for name, data in contents.items())


def publish_run(
    run_dir: Path,
    results_dir: Path = DEFAULT_RESULTS,
    card: Path | None = None,
    replace: bool = False,
) -> PublishOutcome:
    """Validate a run, scan it for secrets and copy it (with its card) into `results_dir`."""
    run_dir = Path(run_dir)
    run = validate_run(run_dir)
    contents = {p.name: p.read_bytes() for p in _files_to_copy(run, run_dir)}
    dest = destination(run, results_dir)
    if card is not None:
        contents["card.json"] = (json.dumps(load_card(card), indent=2) + "\n").encode()
    elif (dest / "card.json").is_file():  # publishing again without --card keeps the card
        contents["card.json"] = (dest / "card.json").read_bytes()
    scan_for_secrets({n: d.decode("utf-8", errors="replace") for n, d in contents.items()})
    if dest.resolve() == run_dir.resolve() or _same(dest, contents):
        return PublishOutcome(dest, "unchanged")
    if dest.exists() and not replace:
        raise PublishError(
            f"{dest} already holds a different copy of run {run.run_id} (re-scored, resumed "
            "or another card?). Pass --replace to overwrite it."
        )
    existed = dest.exists()
    _install(dest, contents)
    return PublishOutcome(dest, "replaced" if existed else "published")


def _install(dest: Path, contents: dict[str, bytes]) -> None:
    """Write into a hidden temporary folder beside `dest`, then rename it into place."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}."))
    try:
        for name, data in contents.items():
            (tmp / name).write_bytes(data)
            os.chmod(tmp / name, 0o644)
        os.chmod(tmp, 0o755)
        old = None
        if dest.exists():
            old = dest.with_name(f".{dest.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(dest, old)
        os.replace(tmp, dest)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


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
    print(f"voxeval: serving {args.results_dir} at http://{args.host}:{args.port}", flush=True)
    try:
        return subprocess.run(
            streamlit_command(args.results_dir, args.port, args.host), env=env
        ).returncode
    except KeyboardInterrupt:
        return 0
