"""Model folders of the seed-paper adapters (empathic-insight-voice, wav2small): where, what, which.

A model is a local folder or a hub id. Hub ids go through `huggingface_hub.snapshot_download`
(offline or with the hub unreachable: the local cache only, else a quick error, see
voxeval.hub), so a snapshot's commit hash is its revision. Files are fingerprinted cheaply,
so run.json can tell two copies of a model apart without reading gigabytes: a torch zip
checkpoint (`.pth` from torch.save) by the CRC-32 of every record in its central directory
(a content checksum the file already carries), other files up to 64 MiB by their SHA-256,
larger ones by size plus the SHA-256 of their first and last 4 MiB.
A symlink is followed only when it stays inside the model's folder (a hub cache repo keeps
its files as links into its own blobs/ folder); anything else is refused, not followed.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from voxeval.adapters.hf_common import describe_load_error, looks_like_path
from voxeval.errors import VoxevalError
from voxeval.hub import default_hint, ensure_hub_reachable

FULL_HASH_LIMIT = 64 * 2**20
SAMPLE_BYTES = 4 * 2**20
_RANGE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(?:-|:|to|\.\.)\s*(-?\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class Snapshot:
    """A resolved model folder: its path, the root its symlinks may point into, its commit."""

    path: Path
    root: Path
    commit: str | None


def resolve_folder(source: str, revision: str | None, patterns: list[str], what: str) -> Snapshot:
    """A local folder as it is, or a hub id fetched (or found in the cache) at `revision`."""
    if looks_like_path(source):
        path = Path(source).expanduser()
        if not path.is_dir():
            raise VoxevalError(f"No {what} folder {source!r}: the path does not exist.")
        return Snapshot(path, path, None)
    arg = "encoder" if what == "encoder" else "model"  # the --model-args key that names it
    ensure_hub_reachable(source, revision=revision, hint=default_hint(source, "model", arg))
    try:
        from huggingface_hub import snapshot_download

        path = Path(snapshot_download(source, revision=revision, allow_patterns=patterns))
    except Exception as exc:  # hub errors come in many classes; all mean "not available"
        raise VoxevalError(describe_load_error(source, revision, what, exc)) from exc
    # <cache>/models--org--name/snapshots/<commit>: links point into <...>/blobs
    return Snapshot(path, path.parents[1], path.name)


def checked_file(path: Path, root: Path) -> Path:
    """`path` resolved: a regular file, reached through no symlink that leaves `root`."""
    real = path.resolve()
    if path.is_symlink() and not real.is_relative_to(root.resolve()):
        raise VoxevalError(
            f"{path} is a symlink to {real}, outside the model folder {root}: refused. "
            "Copy the file into the folder instead of linking it."
        )
    if not real.is_file():
        raise VoxevalError(f"{path} is not a regular file.")
    return real


def file_fingerprint(path: Path) -> tuple[str, str]:
    """(sha256 hex, method) of one file, cheap for big torch checkpoints (see module doc)."""
    digest = hashlib.sha256()
    size = path.stat().st_size
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                digest.update(f"{info.filename}\0{info.CRC:08x}\0{info.file_size}\n".encode())
        return digest.hexdigest(), "zip-crc32"
    with path.open("rb") as fh:
        if size <= FULL_HASH_LIMIT:
            digest.update(fh.read())
            return digest.hexdigest(), "sha256"
        digest.update(str(size).encode() + fh.read(SAMPLE_BYTES))
        fh.seek(size - SAMPLE_BYTES)
        digest.update(fh.read(SAMPLE_BYTES))
    return digest.hexdigest(), "size+head+tail"


def folder_fingerprint(files: dict[str, Path]) -> tuple[str, str]:
    """(sha256 hex, methods used) over named files' fingerprints, in name order."""
    digest, methods = hashlib.sha256(), set()
    for name in sorted(files):
        value, method = file_fingerprint(files[name])
        digest.update(f"{name}\0{value}\n".encode())
        methods.add(method)
    return digest.hexdigest(), "+".join(sorted(methods))


def parse_range(text: str, what: str) -> tuple[float, float]:
    """ "0-4", "0:4", "-3:3" or "-3 to 3" → (low, high); anything else is an error naming `what`."""
    match = _RANGE.match(str(text))
    low, high = (float(match.group(1)), float(match.group(2))) if match else (0.0, 0.0)
    if not match or not low < high:
        raise VoxevalError(
            f"Bad {what} {text!r}: write LOW:HIGH with LOW < HIGH (e.g. 0:4 or -3:3)."
        )
    return low, high


def parse_named_ranges(spec: str | dict[str, str] | None, what: str) -> dict[str, tuple]:
    """ "Name=LOW:HIGH;Other=LOW:HIGH" (or a dict) → {name: (low, high)}."""
    if spec is None:
        return {}
    pairs = spec.items() if isinstance(spec, dict) else _pieces(spec, what)
    return {str(k).strip(): parse_range(str(v), f"{what} for {k}") for k, v in pairs}


def _pieces(spec: str, what: str) -> list[tuple[str, str]]:
    out = []
    for piece in filter(None, (p.strip() for p in spec.split(";"))):
        name, sep, value = piece.partition("=")
        if not sep or not name.strip():
            raise VoxevalError(f"Bad {what} piece {piece!r}: write Name=LOW:HIGH;Other=LOW:HIGH.")
        out.append((name, value))
    return out
