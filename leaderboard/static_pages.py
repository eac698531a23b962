"""The static export's landing pages: one per layer, every board's ranking table and the rules.

A `Site` is one layer's results (official, unofficial or demo) with its boards and knows
where each of its pages lives; all paths are relative to the export folder and built from
slugs, never from raw names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from voxeval.leaderboard import bands, boards, data
from voxeval.leaderboard.boards import COVERAGE_COL, MODEL_COL, RANK_COL, SCORE_COL, Board
from voxeval.leaderboard.static_html import (
    esc,
    is_missing,
    link,
    number,
    page,
    relative,
    slug,
    sort_key,
    table,
    tbody,
    td,
    text,
    th,
)

LAYER_TITLES = {
    "official": "Official results",
    "unofficial": "Unofficial results",
    "demo": "DEMO results",
}
LAYER_NOTES = {
    "unofficial": (
        "UNOFFICIAL: results on other data than each task's official split. They are ranked "
        "only among themselves and never mixed into the official boards."
    ),
    "demo": (
        "DEMO: results on demo or fixture data (such as the bundled demo-asr clips). They "
        "show that the pipeline works, say nothing about model quality, and are never ranked "
        "with benchmark results."
    ),
}
LEGEND = (
    "★ marks a column's best only where it is significantly better than every other model. "
    "— means no result (not run, not published, or undefined); it never counts as zero. "
    "↑ higher is better, ↓ lower is better. Error rates, accuracies and text-overlap scores "
    "are in % (×100), correlations and CCC on −1..1, judge ratings on the rubric's scale. "
    "Each task column shows the task's primary metric; its page shows every metric. Small "
    "text under a value: 95% confidence interval and n."
)
PUBLISH_HINT = (
    "Publish a finished run with <code>voxeval publish runs/&lt;model&gt;/&lt;run_id&gt; "
    "--results-dir results/</code>, then export again with <code>voxeval leaderboard "
    "--results-dir results/ --static site/</code>."
)


@dataclass
class Site:
    """One layer of the export: its tidy results, boards, and where its pages go."""

    layer: str
    home: str  # the layer ranked on index.html
    tidy: pd.DataFrame
    boards: list[Board]
    generated: str
    version: str
    counts: dict[str, int] = field(default_factory=dict)  # layer → models shown there
    problems: pd.DataFrame | None = None
    by_task: dict[str, pd.DataFrame] = field(default_factory=dict, init=False)
    by_model: dict[str, pd.DataFrame] = field(default_factory=dict, init=False)
    # model → (board, rank text, coverage text) for each board listing the model
    placings: dict[str, list[tuple[Board, str, str]]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        # One split up front: filtering the whole frame per page is what made 40 models slow.
        if not self.tidy.empty:
            self.by_task = dict(tuple(self.tidy.groupby("task", sort=True)))
            self.by_model = dict(tuple(self.tidy.groupby("model", sort=True)))
        for board in self.boards:
            table = board.table[[MODEL_COL, RANK_COL, COVERAGE_COL]].itertuples(index=False)
            for model, rank, coverage in table:
                self.placings.setdefault(model, []).append((board, rank, coverage))

    @property
    def prefix(self) -> str:
        """Folder of this layer's sub-pages: "" for the home layer, else e.g. "demo/"."""
        return "" if self.layer == self.home else f"{self.layer}/"

    @property
    def landing(self) -> str:
        """This layer's landing page."""
        return self.landing_of(self.layer)

    def landing_of(self, layer: str) -> str:
        """Any layer's landing page: index.html for the home layer, else e.g. demo.html."""
        return "index.html" if layer == self.home else f"{layer}.html"

    def task_path(self, task: str) -> str:
        """The page of one task."""
        return f"{self.prefix}tasks/{slug(task)}.html"

    def model_path(self, model: str) -> str:
        """The page of one model."""
        return f"{self.prefix}models/{slug(model)}.html"

    def board_file(self, board: str, ext: str) -> str:
        """A board's CSV or JSON download."""
        return f"{self.prefix}boards/{slug(board)}.{ext}"

    def all_metrics_file(self, ext: str) -> str:
        """The long table (every model, task and metric) as CSV or JSON."""
        return f"{self.prefix}boards/all-metrics.{ext}"

    def tasks(self) -> list[str]:
        """Every task with a result in this layer."""
        return list(self.by_task)

    def models(self) -> list[str]:
        """Every model with a result in this layer."""
        return list(self.by_model)


def nav(site: Site, here: str) -> str:
    """Links to the three layers' landing pages and the rules, relative to page `here`."""
    items = []
    for layer, title in LAYER_TITLES.items():
        label = f"{title} ({site.counts.get(layer, 0)} models)"
        items.append(link(relative(here, site.landing_of(layer)), esc(label)))
    items.append(link(relative(here, site.landing) + "#rules", "Rules"))
    return "".join(items)


def footer(site: Site) -> str:
    """Generation time and voxeval version, on every page."""
    return f"Generated {esc(site.generated)} by voxeval {esc(site.version)} (static export)."


def banner(site: Site) -> str:
    """The clear label of a non-official layer (empty for official results)."""
    note = LAYER_NOTES.get(site.layer)
    return f'<p class="banner"><strong>{esc(note)}</strong></p>' if note else ""


def wrap(site: Site, here: str, title: str, body: str) -> str:
    """A full page of this layer at path `here`."""
    label = "" if site.layer == "official" else f" [{LAYER_TITLES[site.layer]}]"
    return page(f"{title}{label} · voxeval leaderboard", nav(site, here), body, footer(site))


@dataclass
class Columns:
    """A board's frames as plain lists: pandas access per cell is too slow for 40 × 12."""

    values: dict[str, list]
    ci_low: dict[str, list]
    ci_high: dict[str, list]
    n: dict[str, list]
    best: dict[str, list]
    covered: list[int]

    @classmethod
    def of(cls, board: Board) -> Columns:
        """The task columns of `board`, and how many tasks each row covers."""
        headers = list(board.columns)

        def lists(frame: pd.DataFrame) -> dict[str, list]:
            return {h: frame[h].tolist() for h in headers}

        covered = board.table[headers].notna().sum(axis=1).astype(int).tolist()
        return cls(
            lists(board.table),
            lists(board.ci_low),
            lists(board.ci_high),
            lists(board.n),
            lists(board.best),
            covered,
        )


def task_cell(board: Board, cols: Columns, header: str, row: int) -> str:
    """A task value with CI and n in small text, ★ and highlight on a significant best."""
    value = cols.values[header][row]
    if is_missing(value):
        return td("—", "")
    places = board.decimals[header]
    low, high, n = cols.ci_low[header][row], cols.ci_high[header][row], cols.n[header][row]
    best = bool(cols.best[header][row])
    shown = number(value, places) + (" ★" if best else "")
    ci = "" if is_missing(low) else f"[{number(low, places)}, {number(high, places)}] "
    count = "" if is_missing(n) else f"n={int(n)}"
    return td(f"{shown}<small>{ci}{count}</small>", sort_key(value), "best" if best else "")


def board_rows(site: Site, board: Board, here: str) -> list[list[str]]:
    """Each model's row: rank band, model link, score, coverage, then one cell per task."""
    cols = Columns.of(board)
    ranks, models = board.table[RANK_COL].tolist(), board.table[MODEL_COL].tolist()
    scores, coverage = board.table[SCORE_COL].tolist(), board.table[COVERAGE_COL].tolist()
    rows = []
    for row, model in enumerate(models):
        cells = [
            td(esc(ranks[row]), row, "t"),
            td(link(relative(here, site.model_path(model)), esc(model)), model, "t"),
            td(number(scores[row], 1), sort_key(scores[row])),
            td(esc(coverage[row]), cols.covered[row]),
        ]
        rows.append(cells + [task_cell(board, cols, h, row) for h in board.columns])
    return rows


def board_table(site: Site, board: Board, here: str) -> str:
    """The ranking: ranked models, then the unranked ones in their own, labelled block."""
    headers = [th(RANK_COL, cls="t"), th(MODEL_COL, "text", "t")]
    headers += [th(esc(SCORE_COL)), th(COVERAGE_COL)]
    headers += [
        th(link(relative(here, site.task_path(task)), esc(header)))
        for header, task in board.columns.items()
    ]
    rows = board_rows(site, board, here)
    bodies = [tbody(rows[: board.n_ranked])]
    unranked = len(rows) - board.n_ranked
    if unranked:
        note = (
            f"not ranked: missing tasks ({unranked} model{'s' * (unranked > 1)} without a "
            f"result on every one of the {len(board.tasks)} tasks; listed by coverage)"
        )
        gap = f'<th scope="rowgroup" colspan="{len(headers)}" class="t">{esc(note)}</th>'
        bodies += [tbody([[gap]], "gap"), tbody(rows[board.n_ranked :])]
    return table(headers, bodies, "board")


def board_section(site: Site, board: Board, here: str) -> str:
    """A board: title, its tasks, downloads and the ranking table."""
    downloads = " ".join(
        link(relative(here, site.board_file(board.name, ext)), ext.upper())
        for ext in ("csv", "json")
    )
    none = "" if board.n_ranked else "<p>No model has a result on every task of this board.</p>"
    meta = (
        f"{len(board.tasks)} task{'s' * (len(board.tasks) != 1)}, {board.n_ranked} ranked "
        f"of {len(board.table)} models. Download: {downloads}"
    )
    return (
        f'<section id="board-{slug(board.name)}"><h2>{esc(board.title)}</h2>'
        f'<p class="meta">{meta}</p>{none}{board_table(site, board, here)}</section>'
    )


def link_list(site: Site, here: str, names: list[str], path_of: object) -> str:
    """A comma-separated list of links to pages (tasks or models)."""
    return ", ".join(link(relative(here, path_of(name)), esc(name)) for name in names)


def rules() -> str:
    """The ranking, band and latest-run rules and the legend, as stated everywhere."""
    parts = [boards.RANK_RULE, bands.BAND_RULE, data.LATEST_RULE, LEGEND]
    return (
        '<section id="rules"><h2>Rules</h2>'
        + "".join(f"<p>{esc(p)}</p>" for p in parts)
        + ("</section>")
    )


def problems_section(problems: pd.DataFrame | None) -> str:
    """Run folders that could not be read (relative paths; reasons already scrubbed)."""
    if problems is None or problems.empty:
        return ""
    rows = [
        [td(text(r.path), cls="t"), td(text(r.problem), cls="t")] for r in problems.itertuples()
    ]
    head = [th("Run folder", "text", "t"), th("Why it was not shown", "text", "t")]
    return (
        f"<section><h2>{len(rows)} run folder(s) could not be read</h2>"
        f"{table(head, [tbody(rows)])}</section>"
    )


def contents(site: Site, here: str) -> str:
    """Links to each board on the page and the long-table downloads."""
    board_links = ", ".join(
        f'<a href="#board-{slug(b.name)}">{esc(b.title)}</a>' for b in site.boards
    )
    downloads = " ".join(
        link(relative(here, site.all_metrics_file(ext)), ext.upper()) for ext in ("csv", "json")
    )
    return (
        f'<p class="meta">Boards: {board_links}. Every model, task and metric with 95% CI and '
        f'n: {downloads}. <a href="#rules">Rules</a>.</p>'
    )


def index_lists(site: Site, here: str) -> str:
    """Every task and model page of this layer, linked (after the boards: rows come first)."""
    return (
        f'<section id="pages"><h2>Tasks and models</h2><p>Tasks: '
        f"{link_list(site, here, site.tasks(), site.task_path)}.</p><p>Models: "
        f"{link_list(site, here, site.models(), site.model_path)}.</p></section>"
    )


def landing_page(site: Site) -> str:
    """The layer's landing page: every board's ranking, then the rules."""
    here = site.landing
    title = f"voxeval leaderboard: {LAYER_TITLES[site.layer]}"
    body = f"<h1>{esc(title)}</h1>{banner(site)}"
    if site.tidy.empty:
        body += f"<p>No {esc(LAYER_TITLES[site.layer].lower())} in this export. {PUBLISH_HINT}</p>"
    else:
        warnings = data.identity_warnings(site.tidy)
        body += "".join(f'<p class="banner">{esc(w)}</p>' for w in warnings)
        body += contents(site, here)
        body += "".join(board_section(site, b, here) for b in site.boards)
        body += index_lists(site, here)
    body += problems_section(site.problems) + rules()
    return wrap(site, here, LAYER_TITLES[site.layer], body)
