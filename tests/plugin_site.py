"""Install plugin packages into throw-away folders and run `voxeval` subprocesses over them.

Packages are pip-installed with `--target` and put on PYTHONPATH, so entry points are found
exactly as for an installed package while the test environment itself stays clean.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

PLUGIN_SRC = Path(__file__).resolve().parent / "example_plugin"
VOXEVAL = Path(sys.executable).parent / "voxeval"


def pip_install(src: Path, target: Path, workdir: Path) -> Path:
    """Install the package at `src` into `target` (built from a copy: no build/ in the repo)."""
    copy = workdir / f"src-{src.name}"
    shutil.copytree(src, copy, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"),
            *("--no-deps", "--no-build-isolation", "--no-index", "--target", str(target)),
            str(copy),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return target


def write_package(root: Path, files: dict[str, str]) -> Path:
    """Write a package's files (dedented) under `root`."""
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))
    return root


def plugin_env(*sites: Path, plugins: str | None = None) -> dict[str, str]:
    """Environment for a `voxeval` subprocess that sees the plugins installed in `sites`."""
    env = dict(os.environ)
    env.pop("VOXEVAL_PLUGINS", None)  # conftest sets "" for in-process tests
    if plugins is not None:
        env["VOXEVAL_PLUGINS"] = plugins
    env["PYTHONPATH"] = os.pathsep.join(str(s) for s in sites)
    env["HF_HUB_OFFLINE"] = "1"
    return env


def voxeval(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    """Run the installed `voxeval` script."""
    assert VOXEVAL.is_file(), f"no voxeval script next to {sys.executable}"
    return subprocess.run(
        [str(VOXEVAL), *args], env=env, capture_output=True, text=True, timeout=timeout
    )
