"""Browser bench: navigation start → first ranking row visible, static export vs Streamlit.

Builds 40 models × 12 tasks (tests/leaderboard_big.py) on four boards with partial coverage
(tests/board_plugin.py declares them to the Streamlit server as an installed plugin would),
exports the static site and serves it with http.server, starts `voxeval leaderboard`'s
Streamlit command, and loads both, interleaved, in Debian's chromium (Playwright):
  empty cache  a new browser context (its own, empty HTTP cache) opens the page
  warm         the same context reloads it after that first load
The time is the page's own clock (performance.now(), 0 = navigation start) at the first
animation frame in which the first ranking row is laid out on screen: static, the first row
of the first board table; Streamlit, the first board's grid holding the first ranked model.
Each server answers one load first (not counted). Traffic comes from the DevTools protocol
(HTTP bytes on the wire and websocket payloads, which carry Streamlit's data).

    .venv/bin/python benches/leaderboard_browser.py [--runs 5] [--models 40] [--tasks 12]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # for tests.*
os.environ["VOXEVAL_PLUGINS"] = ""  # this process: built-ins only; the server gets the plugin

from tests import board_plugin  # noqa: E402
from tests.browser_helpers import (  # noqa: E402
    CHROMIUM,
    STATIC_ROW,
    TABLE,
    idle,
    launch,
    static_server,
    streamlit_server,
)
from tests.leaderboard_big import big_boards, build_big_results  # noqa: E402

TARGETS_S = {"static": 0.5, "streamlit": 1.5}  # warm; what the numbers are held against
VIEWPORT = {"width": 1720, "height": 860}
# Runs before any page script: marks the first frame in which the first row is on screen.
FIRST_ROW_JS = """
(() => {
  const spec = %s;
  const onScreen = el => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.top < innerHeight && r.bottom > 0;
  };
  const found = () => {
    const el = document.querySelector(spec.selector);
    return el && onScreen(el) && (!spec.text || el.textContent.includes(spec.text));
  };
  const tick = () => {
    if (found()) window.__vxFirstRow = performance.now();
    else requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();
"""


@dataclass
class Load:
    """One page load: time to the first row, and what crossed the wire until it settled."""

    seconds: float
    loaded: float  # the load event: the page's own scripts and styles are in
    requests: int
    cached: int
    http_bytes: int
    ws_bytes: int


class Traffic:
    """Counts a page's requests and bytes through the DevTools protocol."""

    def __init__(self, context: Any, page: Any) -> None:
        self.session = context.new_cdp_session(page)
        self.session.send("Network.enable")
        self.reset()
        self.session.on("Network.requestWillBeSent", self._sent)
        self.session.on("Network.requestServedFromCache", self._cached)
        self.session.on("Network.loadingFinished", self._finished)
        self.session.on("Network.webSocketFrameReceived", self._frame)
        self.session.on("Network.webSocketFrameSent", self._frame)

    def reset(self) -> None:
        """Start counting a new load."""
        self.requests = self.cached = self.http_bytes = self.ws_bytes = 0

    def _sent(self, event: dict) -> None:
        self.requests += not event["request"]["url"].startswith("data:")

    def _cached(self, _: dict) -> None:
        self.cached += 1

    def _finished(self, event: dict) -> None:
        self.http_bytes += int(event.get("encodedDataLength", 0))

    def _frame(self, event: dict) -> None:
        frame = event["response"]
        payload = frame.get("payloadData", "")
        # Binary frames (Streamlit's protobuf messages) arrive base64-encoded.
        self.ws_bytes += (
            len(base64.b64decode(payload)) if frame.get("opcode") == 2 else len(payload)
        )


@dataclass
class Surface:
    """A served leaderboard and how to tell its first ranking row."""

    name: str
    url: str
    selector: str
    text: str = ""  # the first ranked model, for the Streamlit grid

    def settle(self, page: Any) -> None:
        """Wait until the load is complete, so its traffic is all counted."""
        if self.name == "streamlit":
            idle(page, timeout_ms=120_000)
        page.wait_for_load_state("load")
        page.wait_for_timeout(300)


def timed(page: Any, surface: Surface, traffic: Traffic, navigate: Any) -> Load:
    """Navigate (goto or reload) and return the page's own time to the first row."""
    traffic.reset()
    navigate()
    handle = page.wait_for_function("() => window.__vxFirstRow", timeout=120_000)
    seconds = handle.json_value() / 1000
    surface.settle(page)
    loaded = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd") / 1000
    counts = (traffic.requests, traffic.cached, traffic.http_bytes, traffic.ws_bytes)
    return Load(seconds, loaded, *counts)


def empty_then_warm(browser: Any, surface: Surface) -> tuple[Load, Load]:
    """A first load in a new context (empty cache), then a reload in it (warm)."""
    context = browser.new_context(viewport=VIEWPORT)
    spec = {"selector": surface.selector, "text": surface.text}
    context.add_init_script(script=FIRST_ROW_JS % json.dumps(spec))
    try:
        page = context.new_page()
        traffic = Traffic(context, page)
        empty = timed(page, surface, traffic, lambda: page.goto(surface.url, wait_until="commit"))
        warm = timed(page, surface, traffic, lambda: page.reload(wait_until="commit"))
        return empty, warm
    finally:
        context.close()


def first_ranked(results: Path, declared: dict[str, str]) -> tuple[str, list[str]]:
    """The first board's first ranked model, and every board's coverage line."""
    from voxeval.leaderboard import boards, data

    tidy = data.select_latest(data.load_results(results), "official")
    found = boards.build_boards(tidy, declared)
    lines = [f"{b.name}: {len(b.tasks)} tasks, {b.n_ranked}/{len(b.table)} ranked" for b in found]
    return str(found[0].table[boards.MODEL_COL].iloc[0]), lines


def machine() -> str:
    """Cores, CPU model and the load average now."""
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        "unknown CPU",
    )  # fmt: skip
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores ({model}); load average {load} (1, 5, 15 min)"


def report(loads: dict[str, dict[str, list[Load]]], first: dict[str, float]) -> None:
    """The timing table, then traffic per load."""
    print(f"\n{'surface':<10} {'load':<12} {'best':>7} {'median':>7}  {'target':<10} runs (s)")
    for name, kinds in loads.items():
        for kind, runs in kinds.items():
            times = [r.seconds for r in runs]
            target = f"≤ {TARGETS_S[name]} s" if kind == "warm" else ""
            print(
                f"{name:<10} {kind:<12} {min(times):>6.3f}s {statistics.median(times):>6.3f}s  "
                f"{target:<10} {' '.join(f'{t:.3f}' for t in times)}"
            )
    print("first load on a fresh server (not counted): "
          + ", ".join(f"{k} {v:.3f} s" for k, v in first.items()))  # fmt: skip
    print("\nper load until it settled (medians): load event; traffic")
    for name, kinds in loads.items():
        for kind, runs in kinds.items():
            med = {f: statistics.median(getattr(r, f) for r in runs) for f in Load.__annotations__}
            print(
                f"  {name:<10} {kind:<12} {med['loaded']:6.3f} s; {med['requests']:>4.0f} requests "
                f"({med['cached']:.0f} from cache), {med['http_bytes'] / 1e3:8.1f} kB HTTP, "
                f"{med['ws_bytes'] / 1e3:7.1f} kB websocket"
            )


def measure(browser: Any, surfaces: list[Surface], runs: int) -> dict[str, dict[str, list]]:
    """`runs` empty-cache + warm pairs per surface, interleaved so both see the same load."""
    loads: dict[str, dict[str, list]] = {s.name: {"empty cache": [], "warm": []} for s in surfaces}
    for _ in range(runs):
        for surface in surfaces:
            empty, warm = empty_then_warm(browser, surface)
            loads[surface.name]["empty cache"].append(empty)
            loads[surface.name]["warm"].append(warm)
    return loads


def run(args: argparse.Namespace, tmp: Path) -> None:
    """Build, export, serve, measure, print."""
    from playwright.sync_api import sync_playwright

    from voxeval.leaderboard.static_site import write_site

    print(f"machine: {machine()}")
    os.environ["VOXEVAL_CACHE_DIR"] = str(tmp / "cache")  # the index, never ~/.cache
    results = build_big_results(tmp / "results", n_models=args.models, n_tasks=args.tasks)
    declared = big_boards(args.tasks)
    start = time.perf_counter()
    index = write_site(results, tmp / "site", declared=declared)
    took, size = time.perf_counter() - start, index.stat().st_size / 1e3
    print(f"results: {args.models} models × {args.tasks} tasks; static export {took:.1f} s, "
          f"index.html {size:.0f} kB")  # fmt: skip
    model, lines = first_ranked(results, declared)
    print(f"boards: {'; '.join(lines)}\nfirst ranked model: {model}")
    env = board_plugin.install(tmp / "plugin-site")
    env["VOXEVAL_CACHE_DIR"] = str(tmp / "server-cache")
    with (
        static_server(tmp / "site") as static_url,
        streamlit_server(results, env, tmp / "streamlit.log") as app_url,
        sync_playwright() as p,
    ):
        browser = launch(p)
        print(f"chromium {browser.version}, {args.runs} runs, viewport {VIEWPORT}")
        surfaces = [
            Surface("static", f"{static_url}/index.html", STATIC_ROW),
            Surface("streamlit", app_url, TABLE, text=model),
        ]
        first = {s.name: empty_then_warm(browser, s)[0].seconds for s in surfaces}
        report(measure(browser, surfaces, args.runs), first)
        browser.close()
    print(f"\nmachine at the end: {machine()}")


def main() -> int:
    """Parse the options and run the bench in a temporary folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="empty-cache + warm pairs (5)")
    parser.add_argument("--models", type=int, default=40)
    parser.add_argument("--tasks", type=int, default=12)
    args = parser.parse_args()
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing (apt-get install chromium)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="voxeval-browser-bench-") as tmp:
        run(args, Path(tmp))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
