"""The served leaderboard and the static export in a real browser (Playwright, Debian chromium).

Serves the fixture results with Streamlit on a free 127.0.0.1 port (tests/board_plugin.py
declares the fixture tasks' boards, as an installed plugin would), checks the overview's
boards, navigates by URL and back, and opens every page of the app (each layer, the hostile
model selected) and every HTML file of the static export under a guard: no dialog, no
request outside the server, no console error. Timing lives in benches/leaderboard_browser.py.
With VOXEVAL_UPDATE_SCREENSHOT=1 it refreshes the screenshots under docs/.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests import board_plugin
from tests.browser_helpers import (
    CHROMIUM,
    TABLE,
    Guard,
    idle,
    launch,
    static_server,
    streamlit_server,
    table_shows,
)
from tests.conftest import REPO
from tests.leaderboard_fixtures import HOSTILE, add_demo_runs, build_results
from voxeval.testing import mock_adapter

# The committed screenshots are refreshed only on request, so a test run leaves the tree clean.
SHOTS = (
    REPO / "docs"
    if os.environ.get("VOXEVAL_UPDATE_SCREENSHOT")
    else Path(tempfile.gettempdir()) / "voxeval-screenshots"
)
DESKTOP = {"width": 1720, "height": 860}
PHONE = {"width": 390, "height": 844}
ASR_BOARD = ["AudioChat Large", "Whisper small (CT2)", "pocketsphinx", "Acme Audio-LM 7B"]
# speech-emotion: two ranked models sharing rank band 1–2, the cascade below them (1/2 tasks).
EMOTION_BOARD = ["Acme Audio-LM 7B", "AudioChat Large", "cascade (asr=faster-whisper, llm=openai)"]
HEADINGS = {
    "overview": "voxeval leaderboard",
    "task": "Per task",
    "model": "Per model",
    "compare": "Compare two models",
    "samples": "Sample browser",
}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is missing (apt-get install chromium); CI installs it",
    ),
]


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    """The fixture results: benchmark runs plus two published demo runs."""
    root = build_results(tmp_path_factory.mktemp("browser") / "results")
    with mock_adapter() as mock:
        add_demo_runs(root, tmp_path_factory.mktemp("work"), mock)
    return root


@pytest.fixture(scope="module")
def server(results, tmp_path_factory) -> Iterator[str]:
    """The Streamlit app over `results`, with the fixture boards' plugin installed."""
    env = board_plugin.install(tmp_path_factory.mktemp("site"))
    env["VOXEVAL_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    with streamlit_server(results, env, tmp_path_factory.mktemp("log") / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="module")
def site(results, tmp_path_factory) -> Path:
    """The static export of `results`, with the same boards as the served app."""
    from voxeval.leaderboard.static_site import write_site

    out = tmp_path_factory.mktemp("static") / "site"
    write_site(results, out, declared=board_plugin.FIXTURE_BOARDS)
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright  # a test dependency ([test] extra)

    with sync_playwright() as p:
        chromium = launch(p)
        try:
            yield chromium
        finally:
            chromium.close()


def some_table_shows(page, name: str, timeout_ms: int = 60_000) -> None:
    """Wait until any dataframe on the page holds `name`."""
    page.wait_for_function(
        """name => [...document.querySelectorAll("[data-testid='stDataFrame']")]
            .some(grid => grid.textContent.includes(name))""",
        arg=name,
        timeout=timeout_ms,
    )


def shoot(page, name: str) -> Path:
    """Save a screenshot as SHOTS/<name>.png once the page has settled."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(500)  # let the grids' canvases paint
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    assert 20_000 < path.stat().st_size < 400_000, f"{path}: {path.stat().st_size} bytes"
    return path


def test_guard_catches_dialog_outside_request_and_console_error(browser):
    """The guard used below is not blind: a page that does all three is caught."""
    page = browser.new_page()
    guard = Guard(page, "http://127.0.0.1:1")
    try:
        page.set_content(
            "<script>alert(1); console.error('boom'); fetch('http://192.0.2.1/x').catch(() => 0)"
            "</script>"
        )
        page.wait_for_function("() => true")  # the listeners have run once the script has
        page.wait_for_timeout(300)
    finally:
        page.close()
    assert guard.dialogs == ["alert: 1"]
    assert guard.outside == ["http://192.0.2.1/x"]
    assert any("boom" in e for e in guard.errors)


def test_overview_boards_navigation_and_screenshots(server, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport=DESKTOP)
    page.set_default_timeout(60_000)
    guard = Guard(page, server)
    try:
        page.goto(server, wait_until="domcontentloaded")
        table_shows(page, ASR_BOARD)  # the first board's tab: speech recognition
        page.wait_for_url(lambda url: "board=asr" in url)
        idle(page)
        shoot(page, "leaderboard-overview")
        page.get_by_role("tab", name="Every board").click()  # a tab switch reruns the page
        some_table_shows(page, HOSTILE)  # the dialogue board, as text
        for title in ("Speech recognition", "Speech emotion recognition", "All tasks"):
            page.get_by_role("heading", name=title).wait_for()
        page.wait_for_url(lambda url: "board=every+board" in url or "board=every%20board" in url)

        page.goto(f"{server}/?page=task&task=asr-far", wait_until="domcontentloaded")
        page.get_by_role("heading", name="Per task").wait_for()
        expect(page.get_by_role("combobox", name="Task", exact=True)).to_have_value("asr-far")
        # The link is completed in place with every view parameter, defaults included; that
        # write is one history entry (Streamlit has no replaceState), so back goes to the
        # link as opened (the same view), and once more to the overview.
        page.wait_for_url(lambda url: "metric=wer" in url and "layer=official" in url)
        assert "task=asr-far" in page.url
        page.go_back(wait_until="commit")
        page.wait_for_url(lambda url: url.endswith("/?page=task&task=asr-far"))
        page.go_back(wait_until="domcontentloaded")
        table_shows(page, ASR_BOARD)
    finally:
        page.close()
    assert not guard.problems(console=False)


def test_board_screenshots_desktop_and_phone(server, browser):
    """One board with partial coverage: a shared rank band, the unranked model below."""
    # The grid renders only the columns in view: on a phone, the pinned Rank and Model.
    shown = {"leaderboard-board": ["1–2", "1/2 tasks"], "leaderboard-phone": ["1–2"]}
    for viewport, name in ((DESKTOP, "leaderboard-board"), (PHONE, "leaderboard-phone")):
        page = browser.new_page(viewport=viewport)
        page.set_default_timeout(60_000)
        guard = Guard(page, server)
        try:
            page.goto(f"{server}/?board=speech-emotion", wait_until="domcontentloaded")
            table_shows(page, [*EMOTION_BOARD, *shown[name]])
            assert page.locator(TABLE).count() == 1  # the board (the long table is on request)
            idle(page)
            # On a phone the rules fill the first screen: bring the board to the top.
            heading = page.get_by_role("heading", name="Speech emotion recognition")
            heading.evaluate("el => el.scrollIntoView({block: 'start'})")
            shoot(page, name)
        finally:
            page.close()
        assert not guard.problems(console=False)


def app_pages() -> list[dict[str, str | list[str]]]:
    """Every page of the app, in each layer with results, the hostile model selected."""
    hostile_pair = {"a": HOSTILE, "b": "Acme Audio-LM 7B"}
    pages: list[dict[str, str | list[str]]] = [
        {"page": "overview"},
        {"page": "overview", "board": "speech-emotion", "ci": "true"},
        {"page": "task", "task": "dialogue"},
        {"page": "model", "model": HOSTILE},
        {"page": "model", "model": "Whisper small (CT2)"},
        {"page": "compare", **hostile_pair},
        {"page": "compare", "a": "AudioChat Large", "b": "Whisper small (CT2)"},
        {"page": "samples", "task": "dialogue", "models": [HOSTILE, "Acme Audio-LM 7B"]},
        {"page": "samples", "task": "asr-clean"},
    ]
    demo = [{"page": p, "layer": "demo"} for p in HEADINGS]
    return pages + demo + [{"page": "overview", "layer": "unofficial"}]


def test_every_app_page_is_guarded(server, browser):
    """No dialog, no request outside the server, no console or Python error on any page."""
    failures = []
    for params in app_pages():
        page = browser.new_page(viewport=DESKTOP)
        page.set_default_timeout(60_000)
        guard = Guard(page, server)
        url = f"{server}/?{urlencode(params, doseq=True)}"
        try:
            page.goto(url, wait_until="domcontentloaded")
            page.get_by_role("heading", name=HEADINGS[str(params["page"])]).wait_for()
            idle(page)
            page.wait_for_timeout(300)  # late requests (media, fonts) would show here
            crashed = page.locator("[data-testid='stException']").count()
            failures += [f"{url}: {p}" for p in guard.problems()]
            failures += [f"{url}: a Python exception on the page"] * bool(crashed)
            # Every value the link names is on offer: an error would mean a fallback view.
            errors = page.locator("[data-testid='stAlertContentError']").all_text_contents()
            failures += [f"{url}: error shown: {e}" for e in errors]
            if HOSTILE in str(params):  # a link naming the hostile model shows it, as text
                page.get_by_text(HOSTILE).first.wait_for(timeout=20_000)
        finally:
            page.close()
    assert not failures, "\n".join(failures)


def test_every_static_page_is_guarded(site, browser):
    """Each HTML file of the export: no dialog, no outside request, no console error."""
    files = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    assert {"index.html", "demo.html", "unofficial.html"} <= set(files)
    assert any(f.startswith("models/script-alert") for f in files)
    failures = []
    with static_server(site) as origin:
        page = browser.new_page(viewport=DESKTOP)
        guard = Guard(page, origin)
        try:
            for rel in files:
                page.goto(f"{origin}/{rel}", wait_until="load")
                page.locator("h1").first.wait_for()
                failures += [f"{rel}: {p}" for p in guard.problems()]
                if rel.startswith("models/script-alert"):  # the hostile name, as text
                    failures += [f"{rel}: no {HOSTILE}"] * (not page.get_by_text(HOSTILE).count())
                guard.clear()
            page.goto(f"{origin}/index.html", wait_until="load")
            page.locator("table.board tbody tr").first.wait_for()
            shoot(page, "leaderboard-static")
        finally:
            page.close()
    assert not failures, "\n".join(failures)
    assert len(files) >= 12  # index, two layers, 5 tasks, 6 models (plus demo pages)


def test_static_header_sorts_numerically(site, browser):
    """The export's sort button orders a board's numbers as numbers, ranked rows apart."""
    with static_server(site) as origin:
        page = browser.new_page(viewport=DESKTOP)
        guard = Guard(page, origin)
        try:
            page.goto(f"{origin}/index.html", wait_until="load")
            board = page.locator("table.board").first
            read = "body => [...body.rows].map(r => r.cells[4].dataset.value)"
            before = board.locator("tbody").first.evaluate(read)
            board.locator("th", has_text="asr-clean").get_by_role("button").click()
            after = board.locator("tbody").first.evaluate(read)
        finally:
            page.close()
    # WER 6.2, 4.8, 21 (%): as text "21" would come first.
    assert before == ["6.2", "4.8", "21"], before
    assert after == ["4.8", "6.2", "21"], after
    assert not guard.problems()


def column_x(page, grid, column: int) -> float:
    """The x of a grid column's middle: the grid is a canvas, so probe its first row."""
    box = grid.bounding_box()
    hits: list[int] = []
    for x in range(int(box["x"]) + 8, int(box["x"] + box["width"]), 30):
        page.mouse.click(x, box["y"] + 52)  # the first data row, under the 35 px header
        page.wait_for_timeout(100)  # the grid marks the selected cell after a render
        selected = grid.locator("td[aria-selected='true']")
        index = int(selected.first.get_attribute("aria-colindex")) if selected.count() else 0
        if index == column:
            hits.append(x)
        elif index > column:
            break
    assert hits, f"column {column} not found in the grid"
    return (hits[0] + hits[-1]) / 2


COLUMN_TEXT = """([grid, column]) => [...grid.querySelectorAll(`td[aria-colindex='${column}']`)]
    .map(cell => cell.textContent).join(" ")"""


def test_app_header_click_sorts_numerically(server, browser):
    """Clicking a board's task column header orders the numbers as numbers, not as text."""
    page = browser.new_page(viewport=DESKTOP)
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{server}/?board=asr", wait_until="domcontentloaded")
        table_shows(page, ASR_BOARD)
        idle(page)
        grid = page.locator(TABLE).first
        headers = grid.locator("th").all_text_contents()
        column = next(i for i, h in enumerate(headers, 1) if h.startswith("asr-clean"))
        target = [grid.element_handle(), column]
        before = page.evaluate(COLUMN_TEXT, target)
        page.mouse.click(column_x(page, grid, column), grid.bounding_box()["y"] + 17)
        page.wait_for_function(f"a => ({COLUMN_TEXT})(a) !== {before!r}", arg=target)
        after = page.evaluate(COLUMN_TEXT, target)
        models = page.evaluate(COLUMN_TEXT, [grid.element_handle(), 2])
    finally:
        page.close()
    # WER (%) 6.2, 4.8, 21.0, 9.1: sorted as text, 21.0 would come first.
    assert [float(v) for v in before.split()] == [6.2, 4.8, 21.0, 9.1], before
    assert [float(v) for v in after.split()] == [4.8, 6.2, 9.1, 21.0], (after, models)
