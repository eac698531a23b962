"""The static export's per-task and per-model pages (every metric, CI, n, speed, cost, data)."""

from __future__ import annotations

import pandas as pd

from voxeval.leaderboard import data
from voxeval.leaderboard.boards import Board
from voxeval.leaderboard.static_html import (
    esc,
    external,
    is_missing,
    link,
    number,
    relative,
    slug,
    sort_key,
    table,
    tbody,
    td,
    text,
    th,
)
from voxeval.leaderboard.static_pages import Site, banner, wrap
from voxeval.leaderboard.units import metric_header

SPEED_HEADERS = ["↑ RTFx", "Latency (s/sample)", "Input tokens", "Output tokens", "Cost (USD)"]
DATA_COLUMNS = {
    "task_version": "Task version",
    "dataset_id": "Dataset",
    "dataset_split": "Split",
    "dataset_revision": "Revision",
    "dataset_hash": "Content hash",
    "voxeval_version": "voxeval",
    "finished_at": "Finished",
    "run_id": "Run id",
}


def num_td(value: object, decimals: int) -> str:
    """A numeric cell that sorts by its value; missing is "—"."""
    return td(number(value, decimals), sort_key(value))


def text_td(value: object) -> str:
    """A free-text cell that sorts by its text; missing is "—"."""
    return td(text(value), "" if is_missing(value) else value, "t")


def count_td(value: object) -> str:
    """A whole-number cell (tokens) with thousands separators."""
    shown = "—" if is_missing(value) else f"{int(value):,}"
    return td(shown, sort_key(value))


def ci_td(low: object, high: object, decimals: int) -> str:
    """The 95% interval as "[low, high]" (— when the run has none)."""
    if is_missing(low) or is_missing(high):
        return td("—", "")
    return td(f"[{number(low, decimals)}, {number(high, decimals)}]", sort_key(low))


def speed_cells(row: dict) -> list[str]:
    """RTFx, latency, tokens and cost of one result."""
    return [
        num_td(row["rtfx"], 1),
        num_td(row["latency_s"], 3),
        count_td(row["input_tokens"]),
        count_td(row["output_tokens"]),
        num_td(row["cost_usd"], 4),
    ]


def data_table(site: Site, here: str, rows: pd.DataFrame, by: str) -> str:
    """Task version, dataset identity, voxeval version and run of each result."""
    first = th("Model" if by == "model" else "Task", "text", "t")
    head = [first] + [th(esc(label), "text", "t") for label in DATA_COLUMNS.values()]
    path_of = site.model_path if by == "model" else site.task_path
    body = []
    seen: dict[str, dict] = {}
    for row in rows[[by, *DATA_COLUMNS]].to_dict("records"):
        seen.setdefault(row[by], row)  # one row per model (or task): metrics share these
    for name, row in sorted(seen.items()):
        cells = [td(link(relative(here, path_of(name)), esc(name)), name, "t")]
        cells += [text_td(row[c]) for c in DATA_COLUMNS]
        body.append(cells)
    return "<h2>Data and versions</h2>" + table(head, [tbody(body)])


def metric_section(site: Site, here: str, rows: pd.DataFrame, first: dict) -> str:
    """One metric of one task: every model's value with CI, n, speed and cost, best first."""
    metric, decimals = first["metric"], int(first["decimals"])
    kind = None if is_missing(first.get("metric_kind")) else first["metric_kind"]
    header = metric_header(metric, bool(first["higher_is_better"]), kind)
    found = data.task_table(rows, first["task"], metric)
    head = [th("Model", "text", "t"), th(esc(header)), th("95% CI"), th("n")]
    head += [th(esc(h)) for h in SPEED_HEADERS]
    body = []
    for row in found.to_dict("records"):
        model = row["model"]
        cells = [td(link(relative(here, site.model_path(model)), esc(model)), model, "t")]
        cells += [num_td(row["value"], decimals), ci_td(row["ci_low"], row["ci_high"], decimals)]
        cells += [num_td(row["n"], 0), *speed_cells(row)]
        body.append(cells)
    return f"<h2>{esc(metric)}: {esc(header)}</h2>" + table(head, [tbody(body)])


def board_anchor(site: Site, here: str, board: Board) -> str:
    """A link to a board's table on this layer's landing page."""
    target = relative(here, site.landing) + f"#board-{slug(board.name)}"
    return link(target, esc(board.title))


def task_boards(site: Site, here: str, task: str) -> str:
    """Links to the boards a task belongs to."""
    found = [board_anchor(site, here, b) for b in site.boards if task in b.tasks]
    return "; ".join(found) or "—"


def model_boards(site: Site, here: str, model: str) -> str:
    """A model's rank (or "not ranked") and coverage on each board that lists it."""
    items = []
    for board, rank, coverage in site.placings.get(model, []):
        rank_text = "not ranked" if rank == "—" else f"rank {rank}"
        items.append(f"{board_anchor(site, here, board)} ({esc(rank_text)}, {esc(coverage)})")
    return "; ".join(items) or "—"


def task_page(site: Site, task: str) -> str:
    """Every model's value of every metric of one task, with speed, cost and data identity."""
    here = site.task_path(task)
    rows = site.by_task[task]
    firsts = rows.sort_values("metric_order").drop_duplicates("metric")
    head = firsts.iloc[0].to_dict()
    meta = (
        f'<p class="meta">Family: {text(head["family"])}. Kind: {text(head["kind"])}. '
        f"Boards: {task_boards(site, here, task)}.</p>"
    )
    sections = "".join(metric_section(site, here, rows, m) for m in firsts.to_dict("records"))
    body = f"<h1>{esc(task)}</h1>{banner(site)}{meta}{sections}"
    body += data_table(site, here, rows, "model")
    return wrap(site, here, f"Task {task}", body)


def facts_list(facts: dict[str, object]) -> str:
    """The model card and run facts as a definition list (url, paper linked only if http(s))."""
    items = []
    for key, value in facts.items():
        linked = key in ("url", "paper") and not is_missing(value)
        shown = external(value) if linked else text(value)
        items.append(f"<dt>{esc(key)}</dt><dd>{shown}</dd>")
    return "<dl>" + "".join(items) + "</dl>"


def result_rows(site: Site, here: str, model: str) -> list[list[str]]:
    """Every task and metric of one model: value, CI, n, unit, speed and cost."""
    mine = site.by_model[model]
    keys = list(zip(mine["task"], mine["metric"], strict=True))
    decimals = dict(zip(keys, mine["decimals"].astype(int), strict=True))
    labels = dict(zip(keys, mine["metric_label"], strict=True))
    body = []
    for row in data.model_table(mine, model).to_dict("records"):
        key = (row["task"], row["metric"])
        places = decimals.get(key, 3)
        task_link = link(relative(here, site.task_path(row["task"])), esc(row["task"]))
        cells = [td(task_link, row["task"], "t")]
        cells.append(td(f"{esc(row['direction'])} {text(labels.get(key))}", row["metric"], "t"))
        cells += [num_td(row["value"], places), ci_td(row["ci_low"], row["ci_high"], places)]
        cells += [num_td(row["n"], 0), text_td(row["unit"]), *speed_cells(row)]
        body.append(cells)
    return body


def model_page(site: Site, model: str) -> str:
    """One model: card facts, its boards, every task and metric, and data identity."""
    here = site.model_path(model)
    head = [th("Task", "text", "t"), th("Metric", "text", "t"), th("Value"), th("95% CI")]
    head += [th("n"), th("Unit", "text", "t"), *(th(esc(h)) for h in SPEED_HEADERS)]
    rows = site.by_model[model]
    body = (
        f"<h1>{esc(model)}</h1>{banner(site)}{facts_list(data.model_facts(rows, model))}"
        f'<p class="meta">Boards: {model_boards(site, here, model)}.</p>'
        f"<h2>Results</h2>{table(head, [tbody(result_rows(site, here, model))])}"
        f"{data_table(site, here, rows, 'task')}"
    )
    return wrap(site, here, f"Model {model}", body)
