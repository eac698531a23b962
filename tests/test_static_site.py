"""`write_site`: the static export (boards, task and model pages, downloads) on fixture results."""

from __future__ import annotations

import base64
import csv
import hashlib
import html
import io
import json
import posixpath
import re
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.leaderboard_big import big_boards, build_big_results
from tests.leaderboard_fixtures import (
    HOSTILE,
    T0,
    build_results,
    run_record,
    task_result,
    write_run,
)
from voxeval.leaderboard import boards, data
from voxeval.leaderboard.static_html import safe_url, slug
from voxeval.leaderboard.static_site import MARKER, StaticExportError, write_site

FIXTURE_BOARDS = {
    "asr-clean": "asr",
    "asr-far": "asr",
    "emotion-cls": "speech-emotion",
    "emotion-ccc": 'plugin "board"><img src=x onerror=alert(2)>',  # a plugin names boards
    "dialogue": "spoken-dialogue",
}
CARD_URL = "https://example.org/whisper-small"  # the fixture's one http(s) card link
SNEAKY = '=1+2 "><img src=x onerror=alert(1)>'  # a card display name: formula and markup
VOID = {"meta", "br", "img", "input", "link", "hr", "wbr"}


class Page(HTMLParser):
    """One parsed page: links, ids, tables (tbody class and cell texts) and tag balance."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.tables: list[dict] = []  # {"section": id, "bodies": [(class, [[cell text]])]}
        self.section = ""
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.cell: list[str] | None = None
        self.feed(source)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.links += [v for k, v in attrs if k in ("href", "src") and v is not None]
        if found.get("id"):
            self.ids.add(found["id"])
        if tag == "section":
            self.section = found.get("id") or ""
        elif tag == "table":
            self.tables.append({"section": self.section, "bodies": []})
        elif tag == "tbody":
            self.tables[-1]["bodies"].append((found.get("class") or "", []))
        elif tag == "tr" and self.tables and self.tables[-1]["bodies"]:
            self.tables[-1]["bodies"][-1][1].append([])
        elif tag in ("td", "th") and self.tables and self.tables[-1]["bodies"]:
            self.cell = []
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.problems.append(f"unexpected </{tag}>")
        if tag in ("td", "th") and self.cell is not None:
            self.tables[-1]["bodies"][-1][1][-1].append("".join(self.cell))
            self.cell = None

    def handle_data(self, text: str) -> None:
        if self.cell is not None:
            self.cell.append(text)


def add_extra_runs(root: Path) -> None:
    """A sneaky card (its hardware the results path), demo and unofficial runs, a broken run."""
    card = {"display_name": SNEAKY, "hardware": str(root.resolve()), "licence": "MIT"}
    model = {"name": "sneaky", "adapter": "MockAdapter", "args": {}}
    dialogue = task_result("dialogue", 5.0)
    dialogue["timing"].update(audio_s=0.0, rtfx=None)  # text in, text out: no RTFx
    write_run(root, run_record(model, {"dialogue": dialogue}, T0), card)
    demo = {"name": "demo-only-model", "adapter": "MockAdapter", "args": {}}
    tasks = {"asr-clean": task_result("asr-clean", 0.2, demo=True)}
    write_run(root, run_record(demo, tasks, T0), layer="demo")
    unofficial = {"name": "unofficial-only-model", "adapter": "MockAdapter", "args": {}}
    tasks = {"asr-far": task_result("asr-far", 0.3)}
    write_run(root, run_record(unofficial, tasks, T0), layer="unofficial")
    broken = root / "runs" / "broken" / "20260101T000000Z-broken"
    broken.mkdir(parents=True)
    (broken / "run.json").write_text("{}", encoding="utf-8")


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, Path]:
    """(results folder, export folder) of one export of the fixture results."""
    base = tmp_path_factory.mktemp("static")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VOXEVAL_CACHE_DIR", str(base / "cache"))
        results = build_results(base / "results")
        add_extra_runs(results)
        out = base / "site"
        assert write_site(results, out, declared=FIXTURE_BOARDS) == out / "index.html"
    return results, out


@pytest.fixture(scope="module")
def tidy(exported) -> object:
    return data.select_latest(data.load_results(exported[0], use_cache=False))


def files_of(out: Path) -> dict[str, str]:
    """Every written file (OUT-relative posix path → text)."""
    return {
        p.relative_to(out).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


def html_pages(out: Path) -> dict[str, Page]:
    return {name: Page(text) for name, text in files_of(out).items() if name.endswith(".html")}


def test_index_ranks_every_board_in_bands_with_unranked_models_apart(exported, tidy):
    index = Page((exported[1] / "index.html").read_text(encoding="utf-8"))
    tables = {t["section"]: t for t in index.tables}
    built = boards.build_boards(tidy, FIXTURE_BOARDS)
    assert len(built) == 5
    for board in built:
        found = tables[f"board-{slug(board.name)}"]
        ranked, *rest = found["bodies"]
        shown = [(row[0], row[1]) for row in ranked[1]]
        names = board.table[boards.MODEL_COL]
        expected = list(zip(board.table[boards.RANK_COL], names, strict=True))
        assert shown == expected[: board.n_ranked]
        if board.n_ranked < len(board.table):
            (gap, note), (_, unranked) = rest
            assert gap == "gap" and "not ranked: missing tasks" in note[0][0]
            assert [(r[0], r[1]) for r in unranked] == expected[board.n_ranked :]
            assert {r[0] for r in unranked} == {"—"}
        else:
            assert rest == []
        # ★ exactly where the board says the column's best is significant
        rows = ranked[1] + (rest[-1][1] if rest else [])
        for col, header in enumerate(board.columns, start=4):
            assert ["★" in row[col] for row in rows] == list(board.best[header]), header
    asr = tables[f"board-{slug('asr')}"]
    assert asr["bodies"][0][1][0][0] in {"1", "1–2", "1–3"}  # a band, as text
    text = (exported[1] / "index.html").read_text(encoding="utf-8")
    for rule in (boards.RANK_RULE, data.LATEST_RULE, "Ranks come in bands"):
        assert html.escape(rule, quote=True) in text
    assert "↓ WER (%)" in text and "by voxeval 0.1.0" in text


def test_hostile_text_stays_text_in_every_file(exported):
    files = files_of(exported[1])
    escaped = html.escape(HOSTILE, quote=True)
    assert escaped in files["index.html"]
    assert html.escape(SNEAKY, quote=True) in files["index.html"]
    assert html.escape(FIXTURE_BOARDS["emotion-ccc"], quote=True) in files["index.html"]
    for name, content in files.items():
        if name.endswith(".csv"):
            continue  # data, kept exact (checked below); a browser never renders it as HTML
        assert "<script>alert" not in content and "<img" not in content, name
        if name.endswith(".html"):
            # our one inline sort script is the only script on a page, and it is last
            assert content.count("<script") == 1 and content.rstrip().endswith(
                "</script></body></html>"
            ), name
    stem = f"boards/{slug('spoken-dialogue')}."
    names = [r["Model"] for r in csv.DictReader(io.StringIO(files[stem + "csv"]))]
    assert HOSTILE in names and "'" + SNEAKY in names  # exact, but a formula stays text
    records = json.loads(files[stem + "json"])  # JSON: "<" as \u003c, same string
    assert {HOSTILE, SNEAKY} <= {r["Model"] for r in records}


def test_links_are_relative_stay_inside_and_resolve(exported):
    out = exported[1]
    pages = html_pages(out)
    outside = []
    for name, page in pages.items():
        for href in page.links:
            parts = urlsplit(href)
            if parts.scheme:
                assert parts.scheme == "https" and href == CARD_URL, (name, href)
                assert name.startswith("models/"), name
                outside.append(href)
                continue
            assert not parts.netloc and not href.startswith("/"), (name, href)
            target = posixpath.normpath(posixpath.join(posixpath.dirname(name), parts.path))
            assert not target.startswith(".."), (name, href)
            target = name if not parts.path else target
            assert (out / target).is_file(), (name, href)
            if parts.fragment:
                assert parts.fragment in pages[target].ids, (name, href)
    assert outside == [CARD_URL]
    for name, content in files_of(out).items():
        if name.endswith(".html"):
            assert not re.search(r"https?:", content.replace(CARD_URL, "")), name


def test_no_file_names_the_results_folder(exported):
    results, out = exported
    forms = {str(results), str(results.resolve())}
    for name, content in files_of(out).items():
        assert not any(form in content for form in forms), name
    assert "1 run folder(s) could not be read" in (out / "index.html").read_text("utf-8")


def test_downloads_parse_and_match_the_boards(exported, tidy):
    out = exported[1]
    for board in boards.build_boards(tidy, FIXTURE_BOARDS):
        stem = f"boards/{slug(board.name)}"
        rows = list(csv.DictReader(io.StringIO((out / f"{stem}.csv").read_text("utf-8"))))
        records = json.loads((out / f"{stem}.json").read_text("utf-8"))
        assert len(rows) == len(records) == len(board.table)
        assert [r[boards.MODEL_COL] for r in records] == list(board.table[boards.MODEL_COL])
    long = json.loads((out / "boards/all-metrics.json").read_text("utf-8"))
    assert len(long) == len(tidy) and {"ci_low", "ci_high", "n"} <= set(long[0])
    assert "ci_low" in (out / "boards/all-metrics.csv").read_text("utf-8").splitlines()[0]


def test_every_task_and_model_has_a_page_linked_from_the_index(exported, tidy):
    out = exported[1]
    index = Page((out / "index.html").read_text(encoding="utf-8"))
    for task in tidy["task"].unique():
        assert f"tasks/{slug(task)}.html" in index.links
        page = (out / f"tasks/{slug(task)}.html").read_text("utf-8")
        assert "95% CI" in page and "RTFx" in page and "Content hash" in page
    for model in tidy["model"].unique():
        assert f"models/{slug(model)}.html" in index.links
        assert (out / f"models/{slug(model)}.html").is_file()
    dialogue = Page((out / f"tasks/{slug('dialogue')}.html").read_text("utf-8"))
    rtfx = {row[0]: row[4] for row in dialogue.tables[0]["bodies"][0][1]}
    assert rtfx[SNEAKY] == "—" and rtfx[HOSTILE] != "—"  # no audio time: no RTFx, not 0
    whisper = (out / f"models/{slug('Whisper small (CT2)')}.html").read_text("utf-8")
    assert f'href="{CARD_URL}"' in whisper and "244M" in whisper


def test_demo_and_unofficial_results_get_their_own_pages_only(exported):
    out = exported[1]
    index = (out / "index.html").read_text("utf-8")
    assert "demo-only-model" not in index and "unofficial-only-model" not in index
    assert 'href="demo.html"' in index and 'href="unofficial.html"' in index
    for layer, model in (("demo", "demo-only-model"), ("unofficial", "unofficial-only-model")):
        page = (out / f"{layer}.html").read_text("utf-8")
        assert model in page and f"{layer.upper()}:" in page
        assert (out / layer / "models" / f"{slug(model)}.html").is_file()
        assert (out / layer / "boards" / "all-metrics.csv").is_file()


def test_another_layer_can_be_the_landing_page(exported, tmp_path):
    index = write_site(exported[0], tmp_path / "site", layer="demo", declared=FIXTURE_BOARDS)
    text = index.read_text("utf-8")
    assert "DEMO:" in text and "demo-only-model" in text and "AudioChat Large" not in text
    official = (tmp_path / "site" / "official.html").read_text("utf-8")
    assert "AudioChat Large" in official and "DEMO:" not in official
    assert (tmp_path / "site" / "official" / "models" / f"{slug('AudioChat Large')}.html").is_file()
    with pytest.raises(ValueError, match="unknown layer"):
        write_site(exported[0], tmp_path / "other", layer="beta")


def test_every_page_is_well_formed_and_allows_only_its_own_style_and_script(exported):
    for name, text in files_of(exported[1]).items():
        if not name.endswith(".html"):
            continue
        page = Page(text)
        assert page.problems == [] and page.stack == [], name
        csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', text)
        policy = html.unescape(csp.group(1))
        assert policy.startswith("default-src 'none';"), name
        for tag in ("style", "script"):
            body = re.search(rf"<{tag}>(.*?)</{tag}>", text, re.S).group(1)
            digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
            assert f"{tag}-src 'sha256-{digest}'" in policy, name


def test_a_second_export_replaces_the_first(exported, tmp_path):
    out = tmp_path / "site"
    write_site(exported[0], out, declared=FIXTURE_BOARDS)
    hostile_page = out / "models" / f"{slug(HOSTILE)}.html"
    assert hostile_page.is_file()
    (out / "notes.txt").write_text("mine", encoding="utf-8")  # not the export's: kept
    fewer = build_results(tmp_path / "fewer", hostile=False)
    write_site(fewer, out, declared=FIXTURE_BOARDS)
    assert not hostile_page.exists()
    assert html.escape(HOSTILE) not in (out / "index.html").read_text("utf-8")
    assert not (out / "demo").exists()  # the folders only the first export had are gone
    assert (out / "notes.txt").read_text("utf-8") == "mine"
    assert set(json.loads((out / MARKER).read_text("utf-8"))["files"]) == set(files_of(out)) - {
        MARKER,
        "notes.txt",
    }


def test_a_foreign_or_linked_folder_is_refused(exported, tmp_path):
    results = exported[0]
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("x", encoding="utf-8")
    with pytest.raises(StaticExportError, match="not empty"):
        write_site(results, foreign)
    assert [p.name for p in foreign.iterdir()] == ["keep.txt"]
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(StaticExportError, match="symbolic link"):
        write_site(results, link)
    with pytest.raises(StaticExportError, match="outside the results folder"):
        write_site(results, results / "site")
    # a link planted inside a previous export is never written through
    out, elsewhere = tmp_path / "site", tmp_path / "elsewhere"
    write_site(results, out, declared=FIXTURE_BOARDS)
    elsewhere.mkdir()
    for child in (out / "tasks").iterdir():
        child.unlink()
    (out / "tasks").rmdir()
    (out / "tasks").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(StaticExportError, match="symbolic link"):
        write_site(results, out, declared=FIXTURE_BOARDS)
    assert list(elsewhere.iterdir()) == []


def test_a_missing_results_folder_is_an_error_not_an_empty_site(tmp_path):
    with pytest.raises(StaticExportError, match="no such results folder"):
        write_site(tmp_path / "typo", tmp_path / "site")
    assert not (tmp_path / "site").exists()


def test_empty_results_give_a_page_that_says_how_to_publish(tmp_path):
    (tmp_path / "results").mkdir()
    index = write_site(tmp_path / "results", tmp_path / "site")
    text = index.read_text("utf-8")
    assert "No official results" in text and "voxeval publish" in text
    assert Page(text).problems == [] and not (tmp_path / "site" / "boards").exists()


@pytest.mark.parametrize(
    ("url", "linked"),
    [
        (CARD_URL, True),
        ("http://example.org:8080/a?b=1#c", True),
        ("javascript:alert(1)", False),
        ("https:///no-host", False),
        ('https://x.org/"><script>', False),
        ("https://evil.org\\@good.org", False),
        ("https://good.org@evil.org/", False),
        ("https://exa mple.org", False),
        ("ftp://example.org", False),
        (None, False),
    ],
)
def test_only_plain_http_card_urls_become_links(url, linked):
    assert safe_url(url) == (url if linked else None)


def test_slugs_are_safe_and_keep_names_apart():
    names = ["A", "a", "a!", HOSTILE, "../../etc/passwd", "", ".hidden", "x" * 300, "Ω 7B"]
    slugs = [slug(n) for n in names]
    assert len(set(slugs)) == len(names)
    for s in slugs:
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", s) and len(s) <= 51


def test_forty_models_by_twelve_tasks_export_keeps_the_landing_page_small(tmp_path):
    results = build_big_results(tmp_path / "big")
    start = time.perf_counter()
    index = write_site(results, tmp_path / "site", declared=big_boards())
    took = time.perf_counter() - start
    size = index.stat().st_size
    print(f"\nstatic export of 40 models × 12 tasks: {took:.1f} s; index.html {size / 1e3:.0f} kB")
    text = index.read_text("utf-8")
    n_boards = len(set(big_boards().values())) + 1  # and the all-tasks board
    assert text.count('<td class="t" data-value="0">') == n_boards  # each board's top row
    assert size < 250_000  # what keeps the first ranking row under 0.5 s in a browser
    assert len(list((tmp_path / "site" / "models").iterdir())) == 40


def test_the_cli_writes_the_site_and_refuses_a_foreign_folder(tmp_path, capsys):
    from voxeval.cli import main

    root = build_results(tmp_path / "results")
    out = tmp_path / "site"
    assert main(["leaderboard", "--results-dir", str(root), "--static", str(out)]) == 0
    assert (
        out / "index.html"
    ).is_file() and "wrote the static leaderboard" in capsys.readouterr().out
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    assert main(["leaderboard", "--results-dir", str(root), "--static", str(foreign)]) != 0
    assert "holds no previous static export" in capsys.readouterr().err
    assert (foreign / "notes.txt").read_text() == "mine"


def test_a_site_with_only_demo_results_opens_on_them(tmp_path):
    root = tmp_path / "results"
    demo = task_result("asr-clean", 0.2, demo=True)
    write_run(
        root, run_record({"name": "demo-only", "adapter": "X", "args": {}}, {"asr-clean": demo}, T0)
    )
    text = write_site(root, tmp_path / "site").read_text("utf-8")
    assert "DEMO:" in text and "demo-only" in text
