"""Serving the leaderboard and driving Debian's chromium: shared by the browser test and bench.

A Streamlit server or a static-site `http.server` on a free 127.0.0.1 port, chromium with
the flags that keep it off the network, waits for a board to show, and `Guard`, which
records every dialog, every request outside the served origin and every console error.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from voxeval.board_server import streamlit_command

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TABLE = "[data-testid='stDataFrame']"
STATIC_ROW = "table.board tbody tr"  # a static board's first ranking row


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout_s: float = 90) -> None:
    """Wait until Streamlit answers its health check; raise with its log if it never does."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"streamlit did not answer within {timeout_s} s:\n{_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


@contextlib.contextmanager
def streamlit_server(root: Path, env: dict[str, str], log: Path) -> Iterator[str]:
    """Serve `root` with `voxeval leaderboard`'s Streamlit command; yield its URL."""
    port = free_port()
    with log.open("w") as out:
        proc = subprocess.Popen(
            streamlit_command(root, port, "127.0.0.1"),
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group: stopped as a whole below
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proc, log)
        yield url
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:  # one line per request would flood the output
        pass


@contextlib.contextmanager
def static_server(folder: Path) -> Iterator[str]:
    """Serve `folder` with `http.server` in a thread on 127.0.0.1; yield its URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def launch(playwright: Any) -> Any:
    """Debian's chromium, headless, with no background traffic of its own."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, timeout=60_000)


def table_shows(page: Any, names: list[str], timeout_ms: int = 60_000) -> None:
    """Wait until the first dataframe is visible and its grid holds every name."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.wait_for_selector(TABLE, state="visible", timeout=timeout_ms)
    try:
        page.wait_for_function(
            """names => {
                const grid = document.querySelector("[data-testid='stDataFrame']");
                return grid && names.every(n => grid.textContent.includes(n));
            }""",
            arg=names,
            timeout=timeout_ms,
        )
    except PlaywrightTimeout:
        shown = page.locator(TABLE).first.text_content()
        raise AssertionError(f"{page.url}: the first table lacks one of {names}: {shown}") from None


def idle(page: Any, timeout_ms: int = 60_000) -> None:
    """Wait until the app has finished its script run."""
    page.wait_for_function(
        "() => !document.querySelector(\"[data-testid='stStatusWidget'] button\")",
        timeout=timeout_ms,
    )


class Guard:
    """Records a page's dialogs, requests outside `origin`, console errors and page errors."""

    def __init__(self, page: Any, origin: str) -> None:
        self.origin = origin
        self.dialogs: list[str] = []
        self.outside: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", self._dialog)
        page.on("request", self._request)
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _request(self, request: Any) -> None:
        # Same origin only: a prefix test alone would let http://127.0.0.1:80 match :8000.
        url = request.url
        if not (url == self.origin or url.startswith((self.origin + "/", "data:", "blob:"))):
            self.outside.append(url)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def clear(self) -> None:
        """Forget what was recorded so far (before the next page)."""
        self.dialogs.clear()
        self.outside.clear()
        self.errors.clear()

    def problems(self, console: bool = True) -> list[str]:
        """Every dialog and outside request (and console error, unless told not to)."""
        found = [f"dialog {d}" for d in self.dialogs]
        found += [f"request outside {self.origin}: {u}" for u in self.outside]
        return found + (self.errors if console else [])
