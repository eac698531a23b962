"""`voxeval leaderboard`: serve the Streamlit app over a results folder (no telemetry)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from voxeval.errors import VoxevalError

DEFAULT_PORT = 8501


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
        # A served board is not edited: no source watching, no magic rewriting of pages.
        "--server.fileWatcherType", "none",
        "--runner.magicEnabled", "false",
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
    if getattr(args, "static", None) is not None:
        return write_static(Path(args.results_dir), Path(args.static))
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


def write_static(results_dir: Path, out: Path) -> int:
    """`voxeval leaderboard --static OUT`: write the static site and say where it is."""
    from voxeval.leaderboard.static_site import write_site

    index = write_site(results_dir, out)
    print(f"voxeval: wrote the static leaderboard: {index} (open it, or host {out} anywhere)")
    return 0
