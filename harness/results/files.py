"""Files of a run folder as untrusted input: bare names, no symlinks, read-only, bounded, strict.

Every reader of results goes through here. A name from run.json must be one path component;
a file is opened with O_NOFOLLOW (a symlink is refused, not followed) and must be a regular
file (a FIFO would hang the reader); JSON must be strict (no NaN or Infinity, no number
that overflows) and no larger than a bound.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from voxeval.errors import VoxevalError

MAX_JSON_BYTES = 64 * 2**20  # run.json, card.json
MAX_LINE_BYTES = 16 * 2**20  # one JSON line of a samples or judge file
MAX_INT = 10**18
_BARE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


class UnsafeResultsError(VoxevalError):
    """A results file or name that voxeval refuses to read or write."""


class UnboundedNumberError(ValueError):
    """Valid JSON holding NaN, an infinity or an integer too large to be a real count."""


def check_bare_name(name: object, what: str) -> str:
    """`name` if it is one safe path component (letters, digits, . _ -; no leading dot)."""
    if not isinstance(name, str) or not _BARE_NAME.match(name) or ".." in name:
        raise UnsafeResultsError(
            f"{what} {name!r} is not a bare file name inside the folder (allowed: letters, "
            "digits, '.', '_' and '-', not starting with a dot); refusing to follow it."
        )
    return name


def check_folder(path: Path, what: str = "run folder") -> Path:
    """`path` if it is a real folder, not a symbolic link to one."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise UnsafeResultsError(f"{path} does not exist.") from None
    except OSError as exc:
        raise UnsafeResultsError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    if stat.S_ISLNK(info.st_mode):
        raise UnsafeResultsError(
            f"{path} is a symbolic link; voxeval does not follow links in results. Pass the "
            f"{what} itself."
        )
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafeResultsError(f"{path} is not a folder.")
    return Path(path)


def open_in(folder: Path, name: str, what: str = "file") -> IO[bytes]:
    """Open folder/name read-only: a bare name, never through a symlink, a regular file."""
    path = os.path.join(folder, check_bare_name(name, what))
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeResultsError(
                f"{path} is a symbolic link; voxeval does not follow links in results."
            ) from None
        raise UnsafeResultsError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UnsafeResultsError(f"{path} is not a regular file; refusing to read it.")
    return os.fdopen(fd, "rb")


def read_bytes(folder: Path, name: str, limit: int = MAX_JSON_BYTES, what: str = "file") -> bytes:
    """The whole file, refused when it is larger than `limit` bytes."""
    with open_in(folder, name, what) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise UnsafeResultsError(
            f"{Path(folder) / name} is larger than {limit // 2**20} MiB; refusing to read it."
        )
    return data


def lines(fh: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """(line number, raw bytes) of each line; an over-long line comes back cut, to be refused."""
    for number, _, raw in offset_lines(fh):
        yield number, raw


def offset_lines(fh: IO[bytes]) -> Iterator[tuple[int, int, bytes]]:
    """(line number, byte offset, raw bytes) of each line, over-long lines cut as in `lines`."""
    number, offset = 0, fh.tell()
    while True:
        raw = fh.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number, start = number + 1, offset
        offset += len(raw)
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):  # skip the rest of the long line
                raw = fh.readline(MAX_LINE_BYTES)
                offset += len(raw)
            yield number, start, b"\0too long"
            continue
        yield number, start, raw


def strict_json(raw: bytes | str) -> Any:
    """Parse JSON, refusing NaN, Infinity, floats that overflow and absurdly large integers.

    Raises ValueError naming where the bad number is (e.g. `tasks.x.n_samples`), or why the
    text is not JSON (deep nesting included). The parser's number hooks only note that
    something is wrong; the slower walk that finds where runs only then.
    """
    bad: list[str] = []

    def number(text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            bad.append(text)
        return value

    def integer(text: str) -> int:
        value = int(text)
        if abs(value) > MAX_INT:
            bad.append(text)
        return value

    try:
        data = json.loads(raw, parse_float=number, parse_int=integer, parse_constant=number)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if bad:
        raise UnboundedNumberError(_first_unbounded(data) or f"{bad[0][:12]} is out of range")
    return data


def _first_unbounded(data: Any) -> str | None:
    """ "path: value is not a finite number" for the first bad number, walking iteratively."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            stack.extend((f"{path}.{k}" if path else str(k), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", v) for i, v in enumerate(value))
        elif isinstance(value, float) and not math.isfinite(value):
            return f"{path or 'value'}: {value} is not a finite number"
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
            return f"{path or 'value'}: integer {str(value)[:12]}… is out of range"
    return None
