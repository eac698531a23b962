"""File-system helpers: writable output folders, safe names, the git revision."""

from __future__ import annotations

import functools
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


FINGERPRINT_SAMPLE = 2**20  # bytes read from each end of a large file


@functools.lru_cache(maxsize=256)  # fingerprints are read once per process
def describe_path(value: str) -> str:
    """A local path as what identifies it off this machine (results are shared).

    Inside an installed package: "dist==version/place/in/it". Elsewhere: the file or
    folder name and a content fingerprint ("name@sha256:…"). Anything that is not an
    existing path (a hub id, a size name) comes back unchanged.
    """
    try:
        path = Path(value).expanduser()
        if not path.exists():
            return value
        path = path.resolve()
    except (OSError, ValueError):
        return value
    return _installed_place(path) or f"{path.name}@sha256:{content_fingerprint(path)}"


def _installed_place(path: Path) -> str | None:
    import site
    import sysconfig
    from importlib import metadata

    roots = {*site.getsitepackages(), *(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))}
    for root in map(Path, roots):
        root = root.resolve()
        if path.is_relative_to(root) and path != root:
            rel = path.relative_to(root)
            dists = metadata.packages_distributions().get(rel.parts[0])
            if dists:
                return f"{dists[0]}=={metadata.version(dists[0])}/{rel.as_posix()}"
    return None


def content_fingerprint(path: Path, limit_files: int = 10_000) -> str:
    """Short sha256 over a file or folder: relative names, sizes, and the bytes of small
    files (large ones by their first and last MiB, so multi-GB weights hash in a moment)."""
    import hashlib

    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files[:limit_files]:
        size = file.stat().st_size
        digest.update(
            f"{file.relative_to(path).as_posix() if file != path else ''}\0{size}\0".encode()
        )
        with open(file, "rb") as fh:
            digest.update(fh.read(FINGERPRINT_SAMPLE))
            if size > 2 * FINGERPRINT_SAMPLE:
                fh.seek(-FINGERPRINT_SAMPLE, 2)
                digest.update(fh.read())
            elif size > FINGERPRINT_SAMPLE:
                digest.update(fh.read())
    return digest.hexdigest()[:16]


def describe_paths(data: object) -> object:
    """`data` (dicts and lists, nested) with every existing local path described."""
    if isinstance(data, dict):
        return {k: describe_paths(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [describe_paths(v) for v in data]
    if isinstance(data, str) and _looks_like_path(data):
        return describe_path(data)
    return data


def _looks_like_path(text: str) -> bool:
    return text.startswith(("/", "~", "./", "../")) or ("/" in text and Path(text).exists())


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
