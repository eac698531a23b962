"""A server child process: start it in its own process group, wait until healthy, stop it.

The child's stdout and stderr go to a log file. It runs in a new session, so a Ctrl-C at the
terminal reaches only voxeval, which then stops the whole group (the server and any workers
it spawned): SIGTERM, a grace period, then SIGKILL. On Linux the child also gets SIGTERM if
voxeval itself is killed. `stop` runs at interpreter exit too and is
safe to call twice. Errors quote the tail of the log (secrets masked) and name the log file.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from voxeval.errors import VoxevalError
from voxeval.secrets import scrub

TAIL_LINES = 25
TAIL_BYTES = 16_384


class ServerExitedError(VoxevalError):
    """The server process exited while it was needed."""


class ServerProcess:
    """One server child; `start`, `wait_until`, `exit_code`, `log_tail`, `stop`."""

    def __init__(
        self,
        command: list[str],
        log_path: Path,
        what: str = "server",
        env: dict[str, str] | None = None,
        grace_s: float = 20.0,
    ) -> None:
        self.command = list(command)
        self.log_path = Path(log_path)
        self.what = what
        self.grace_s = grace_s
        self._env = env
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._code: int | None = None

    @property
    def pid(self) -> int | None:
        """The child's process id (also its process group id), once started."""
        return self._proc.pid if self._proc else None

    def start(self) -> None:
        """Launch the command; its output is appended to the log after a header line."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
        header = f"# voxeval {stamp}: starting {' '.join(self.command)}\n"
        self._log.write(scrub(header).encode())
        self._log.flush()
        try:
            self._proc = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env=self._env,
                start_new_session=True,  # its own group: killed as one, spared our Ctrl-C
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        except OSError as exc:
            self._log.close()
            raise VoxevalError(f"Cannot start the {self.what} ({self.command[0]}): {exc}") from None
        atexit.register(self.stop)

    def wait_until(self, ready: Callable[[], bool], timeout_s: float, poll_s: float = 0.25) -> None:
        """Poll `ready()` until True; stop the child and raise if it exits or time runs out."""
        deadline = time.monotonic() + timeout_s
        try:
            while not ready():
                if self.exit_code() is not None:
                    raise ServerExitedError(self.exited_message("before it was ready"))
                if time.monotonic() >= deadline:
                    raise VoxevalError(
                        f"The {self.what} did not become ready within {timeout_s:g} s "
                        f"(raise startup_timeout_s if it needs longer). It was stopped; its "
                        f"log is {self.log_path}.{self._quoted_tail()}"
                    )
                time.sleep(poll_s)
        except BaseException:  # a timeout, an exit or Ctrl-C: never leave the child behind
            self.stop()
            raise

    def exit_code(self) -> int | None:
        """The child's exit status once it has exited (negative: killed by that signal)."""
        return self._code if self._proc is None else _exit_status(self._proc)

    def exited_message(self, when: str, hint: str = "") -> str:
        """'The server exited with code N <when>', where its log is, `hint`, the log's tail."""
        return (
            f"The {self.what} exited with code {self.exit_code()} {when}. Full log: "
            f"{self.log_path}.{f' {hint}' if hint else ''}{self._quoted_tail()}"
        )

    def log_tail(self) -> str:
        """The last lines of the log, secrets masked."""
        try:
            with self.log_path.open("rb") as fh:
                fh.seek(max(0, self.log_path.stat().st_size - TAIL_BYTES))
                text = fh.read().decode("utf-8", errors="replace")
        except OSError:
            return ""
        return scrub("\n".join(text.rstrip().splitlines()[-TAIL_LINES:]))

    def _quoted_tail(self) -> str:
        tail = self.log_tail()
        return f"\nLast lines of the log:\n{tail}" if tail else ""

    def stop(self) -> None:
        """Stop the process group (SIGTERM, then SIGKILL after the grace period); idempotent."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        atexit.unregister(self.stop)
        try:
            if _exit_status(proc) is None:
                _signal_group(proc.pid, signal.SIGTERM)
                deadline = time.monotonic() + self.grace_s
                while _exit_status(proc) is None and time.monotonic() < deadline:
                    time.sleep(0.05)
        finally:
            # Also after a clean exit (workers it left behind share its group) and after a
            # second Ctrl-C during the grace period.
            _signal_group(proc.pid, signal.SIGKILL)
            self._code = proc.wait()
            if self._log is not None:
                self._log.close()


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM it when voxeval dies, even by SIGKILL (Linux only).

    atexit and `finally` do not run when voxeval is killed; this way `docker stop`, a
    scheduler's SIGKILL or an OOM kill cannot leave a server holding the GPUs.
    """
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG


def _exit_status(proc: subprocess.Popen[bytes]) -> int | None:
    """The exit status if `proc` has exited, without reaping it where the OS allows."""
    if proc.returncode is not None:
        return proc.returncode
    waitid = getattr(os, "waitid", None)
    if waitid is None:
        return proc.poll()
    # WNOWAIT leaves the zombie unreaped: its pid, our group id, cannot be reused by an
    # unrelated process before `stop` signals the group.
    try:
        info = waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return proc.poll()
    if info is None:
        return None
    return info.si_status if info.si_code == os.CLD_EXITED else -info.si_status


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on `host` now (the server binds it moments later)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def get_json(url: str, timeout_s: float = 2.0, headers: dict[str, str] | None = None) -> Any:
    """GET `url` and parse JSON; None on any failure (connection refused, non-200, not JSON)."""
    import http.client
    import json
    import urllib.request

    # No proxy: the server is on 127.0.0.1 and an http_proxy variable must not reroute it.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with opener.open(request, timeout=timeout_s) as resp:
            if resp.status != 200:
                return None
            raw = resp.read()
    except (OSError, ValueError, http.client.HTTPException):
        return None
    try:
        return json.loads(raw) if raw.strip() else {}
    except ValueError:
        return None
