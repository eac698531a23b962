"""One writer per run folder: an OS file lock (filelock), and who holds it, for the message.

The lock is the kernel's (flock), so a killed process releases it at once; the holder note it
leaves behind is how the next process tells the user that it took over from a dead run.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

from voxeval.errors import VoxevalError
from voxeval.secrets import scrub

LOCK_FILE = ".voxeval.lock"
HOLDER_FILE = ".voxeval.lock.holder"
POLL_S = 0.2


class RunLockedError(VoxevalError):
    """Another process holds the run folder."""


class ReadOnlyRunError(VoxevalError):
    """The run folder cannot be written, so it cannot be locked for writing."""


def _holder() -> dict[str, object]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": scrub(" ".join(["voxeval", *sys.argv[1:]]))[:300],
    }


def read_holder(run_dir: Path) -> dict[str, object] | None:
    """The note left by the process that holds (or last held) the lock, if readable."""
    try:
        with open(Path(run_dir) / HOLDER_FILE, "rb", opener=_no_follow) as fh:
            note = json.loads(fh.read(4096))
    except (OSError, ValueError):
        return None
    return note if isinstance(note, dict) else None


def _no_follow(path: str, flags: int) -> int:
    return os.open(path, flags | os.O_NOFOLLOW)


def describe(note: dict[str, object] | None) -> str:
    """ "pid 123 on host h since 2026-… (voxeval run …)", or "another process"."""
    if not note:
        return "another process"
    return (
        f"pid {note.get('pid')} on host {note.get('host')} since {note.get('since')} "
        f"({note.get('command')})"
    )


def _alive(note: dict[str, object]) -> bool:
    if note.get("host") != socket.gethostname() or not isinstance(note.get("pid"), int):
        return True  # cannot tell for another machine: assume it is
    try:
        os.kill(int(note["pid"]), 0)  # type: ignore[arg-type]
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def run_lock(
    run_dir: Path, wait: bool = False, say: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the run folder's lock for the block; busy: RunLockedError, or wait with `wait`.

    `say` (e.g. print to stderr) hears when this process waits, or takes over from a process
    that died holding the folder.
    """
    from filelock import FileLock, Timeout

    say = say or (lambda text: None)
    lock = FileLock(Path(run_dir) / LOCK_FILE, timeout=0, poll_interval=POLL_S)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        holder = read_holder(run_dir)
        if not wait:
            raise RunLockedError(
                f"Run folder {run_dir} is in use by {describe(holder)}. Wait for it to finish "
                "(or pass --wait to queue behind it); two processes on one run would pay for "
                "every sample twice."
            ) from None
        say(f"voxeval: waiting for {describe(holder)} to release {run_dir}")
        lock.acquire(timeout=-1)
    except OSError as exc:
        raise ReadOnlyRunError(
            f"Cannot lock {run_dir} for writing: {exc.strerror or exc}."
        ) from None
    try:
        previous = read_holder(run_dir)
        if previous and not _alive(previous):
            say(f"voxeval: {describe(previous)} ended without releasing {run_dir}; taking over")
        _write_holder(run_dir)
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(Path(run_dir) / HOLDER_FILE)
        lock.release()


@contextlib.contextmanager
def planning_lock(model_dir: Path) -> Iterator[None]:
    """Serialise finding-or-creating run folders in one model folder (held for milliseconds)."""
    from filelock import FileLock

    with FileLock(Path(model_dir) / LOCK_FILE, poll_interval=0.05):
        yield


def _write_holder(run_dir: Path) -> None:
    path = Path(run_dir) / HOLDER_FILE
    with contextlib.suppress(OSError):
        path.unlink()
    with contextlib.suppress(OSError), open(path, "x", encoding="utf-8") as fh:
        json.dump(_holder(), fh)
