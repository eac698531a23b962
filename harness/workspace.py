"""File-system helpers: writable output folders, safe names, the git revision."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

from voxeval.errors import VoxevalError


def safe_name(name: str) -> str:
    """A file-system-safe rendering of a model or task name (identity stays in run.json)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "unnamed"


CACHE_ENV = "VOXEVAL_CACHE_DIR"


def cache_dir() -> Path:
    """voxeval's own cache (judge replies, leaderboard index): $VOXEVAL_CACHE_DIR or
    ~/.cache/voxeval."""
    import os

    root = os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "voxeval"
    return Path(root)


def prepare_output_dir(path: Path) -> Path:
    """Create `path` and prove it is writable, before any model is loaded."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise VoxevalError(
            f"Cannot write results to {path}: {exc.strerror or exc}. Choose a writable "
            "folder with --output-dir."
        ) from None
    return path


def hardware() -> dict[str, object]:
    """CPU model, logical cores and memory of this machine (GPUs are the adapter's to report)."""
    import os
    import platform

    cpu = platform.processor() or None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        memory_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        memory_gb = None
    return {"cpu": cpu, "logical_cores": os.cpu_count(), "memory_gb": memory_gb}


def git_sha() -> str | None:
    """The voxeval source checkout's commit, when it is one."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None
