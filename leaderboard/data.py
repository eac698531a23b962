"""The leaderboard's data layer: pandas only (no streamlit), over a results folder.

Rules (also stated in the app and docs/leaderboard.md):
- Latest run: for each model and task, the most recently finished run with status "success"
  is used; older, failed and unfinished runs are ignored.
- Ranking: mean win rate over covered tasks only. On each task, a model's win rate is the
  share of the other models with a result there that it beats on the task's primary metric
  (ties count half). A model's score is the mean over the tasks it has a result for and that
  at least one other model has; missing results are "—", never zero, and never drop a model.
- Units: see voxeval.leaderboard.units (applied once, in `select_latest`).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from voxeval.leaderboard.index import load_index
from voxeval.leaderboard.units import apply_units, format_number, metric_header

RANK_RULE = (
    "Ranked by mean win rate over covered tasks only: on each task a model scores the share "
    "of other models it beats on the primary metric (ties count half); the score averages "
    "the tasks it has results for. Missing results (—) are never counted as zero."
)
LATEST_RULE = "For each model and task the latest successful run is shown."
SCORE_COL, COVERAGE_COL, RANK_COL, MODEL_COL = "↑ Mean win rate (%)", "Coverage", "Rank", "Model"


@dataclass
class Filters:
    """What to show: task families, hosting, weights, size (None means no filter)."""

    families: list[str] | None = None
    hosting: str | None = None  # "local" | "hosted"
    open_weights: bool | None = None
    max_parameters: float | None = None
    include_unknown_size: bool = True


@dataclass
class Board:
    """The overview: models × tasks (primary metric), with CI, n, best marks and ranking."""

    table: pd.DataFrame  # Rank, Model, score, Coverage, one column per task (display units)
    ci_low: pd.DataFrame
    ci_high: pd.DataFrame
    n: pd.DataFrame
    best: pd.DataFrame  # True where the cell is the best of its column
    columns: dict[str, str] = field(default_factory=dict)  # header → task
    decimals: dict[str, int] = field(default_factory=dict)  # header → decimals


def load_results(root: Path, use_cache: bool = True) -> pd.DataFrame:
    """Every run × task × metric row under `root` (all statuses; see index.load_index)."""
    frame, _ = load_index(Path(root), use_cache=use_cache)
    return frame


def problems(rows: pd.DataFrame) -> pd.DataFrame:
    """Run folders whose run.json could not be read, with the reason."""
    if rows.empty or "problem" not in rows:
        return pd.DataFrame(columns=["path", "problem"])
    return rows.loc[rows["problem"].notna(), ["path", "problem"]].drop_duplicates()


def _latest_runs(rows: pd.DataFrame, demo: bool) -> pd.DataFrame:
    """(path, task) of each model+task's latest successful run."""
    cols = ["path", "task", "model_key", "run_id", "finished_at", "created_at", "demo", "status"]
    runs = rows[cols].drop_duplicates(["path", "task"])
    runs = runs[(runs["status"] == "success") & runs["task"].notna()]
    runs = runs[runs["demo"].fillna(False).astype(bool) == demo]
    runs = runs.assign(_when=runs["finished_at"].fillna(runs["created_at"]))
    runs = runs.sort_values(["_when", "run_id"]).drop_duplicates(["model_key", "task"], keep="last")
    return runs[["path", "task"]]


def _model_facts(rows: pd.DataFrame, keys: pd.Series) -> pd.DataFrame:
    """Per model key: card fields of its newest carded successful run, a unique name."""
    cols = ["display_name", "parameters", "open_weights", "licence", "architecture", "url"]
    runs = rows[rows["model_key"].isin(keys) & (rows["status"] == "success")]
    runs = runs.drop_duplicates("path").sort_values("finished_at")
    facts = pd.DataFrame(index=pd.Index(keys.unique(), name="model_key"))
    for col in cols:
        facts[col] = runs.dropna(subset=[col]).groupby("model_key")[col].last()
    names = facts["display_name"].fillna(pd.Series(facts.index, index=facts.index))
    clash = names.duplicated(keep=False)
    facts["model"] = names.where(~clash, names + " [" + facts.index.to_series() + "]")
    return facts


def select_latest(rows: pd.DataFrame, demo: bool = False) -> pd.DataFrame:
    """Tidy rows (model × task × metric) from each model+task's latest successful run.

    `demo` picks the demo/fixture results instead of the benchmark results (never mixed).
    Card fields come from the model's newest run with a card. Values are in display units
    (see units.py).
    """
    if rows.empty or "status" not in rows:
        return apply_units(
            pd.DataFrame(columns=[*rows.columns, "model", "metric", "value", "ci_low", "ci_high"])
        )
    chosen = rows.merge(_latest_runs(rows, demo), on=["path", "task"])
    chosen = chosen[chosen["metric"].notna()]
    facts = _model_facts(rows, chosen["model_key"])
    chosen = chosen.drop(columns=[c for c in facts.columns if c in chosen])
    chosen = chosen.join(facts, on="model_key")
    return apply_units(chosen).reset_index(drop=True)


def apply_filters(tidy: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """Rows that pass the filters (families restrict tasks; the rest restrict models)."""
    keep = pd.Series(True, index=tidy.index)
    if filters.families is not None:
        keep &= tidy["family"].isin(filters.families)
    if filters.hosting in ("local", "hosted"):
        keep &= tidy["hosted"].astype(bool) == (filters.hosting == "hosted")
    if filters.open_weights is not None:
        keep &= tidy["open_weights"].astype(object).eq(filters.open_weights)
    if filters.max_parameters is not None:
        size = tidy["parameters"]
        keep &= (size <= filters.max_parameters) | (size.isna() & filters.include_unknown_size)
    return tidy[keep]


def primary_metrics(tidy: pd.DataFrame) -> dict[str, str]:
    """Each task's headline metric: the first metric its runs report (run.json order)."""
    if tidy.empty:
        return {}
    firsts = tidy[tidy["metric_order"] == 0]
    return firsts.groupby("task")["metric"].agg(lambda s: s.mode().iloc[0]).to_dict()


def task_header(task: str, metric: str, higher_is_better: bool) -> str:
    """Column header with task, direction and unit: "asr-clean ↓ WER (%)"."""
    return f"{task} {metric_header(metric, higher_is_better)}"


def win_rates(values: pd.DataFrame, higher_is_better: dict[str, bool]) -> pd.DataFrame:
    """Per task, the share of other models with a result that each model beats (ties ½)."""
    rates = pd.DataFrame(index=values.index)
    for col in values.columns:
        col_values = values[col]
        ranks = col_values.rank(ascending=higher_is_better[col], method="average")
        count = col_values.notna().sum()
        rates[col] = (ranks - 1) / (count - 1) if count > 1 else float("nan")
    return rates


def _pivot(
    primary: pd.DataFrame, col: str, headers: dict[str, str], models: list[str]
) -> pd.DataFrame:
    wide = primary.pivot(index="model", columns="task", values=col)
    return wide.reindex(index=models, columns=list(headers)).rename(columns=headers)


def best_mask(values: pd.DataFrame, higher_is_better: dict[str, bool]) -> pd.DataFrame:
    """True at each column's best value (ties all marked); NaN never best."""
    mask = pd.DataFrame(False, index=values.index, columns=values.columns)
    for col in values.columns:
        target = values[col].max() if higher_is_better[col] else values[col].min()
        mask[col] = values[col].eq(target) & values[col].notna()
    return mask


def build_board(tidy: pd.DataFrame) -> Board:
    """Rank models over the tasks in `tidy` (each task by its primary metric)."""
    primaries = primary_metrics(tidy)
    primary = tidy[tidy["metric"] == tidy["task"].map(primaries)]
    hib = primary.groupby("task")["higher_is_better"].first().to_dict()
    headers = {t: task_header(t, m, hib[t]) for t, m in sorted(primaries.items())}
    by_header = {headers[t]: hib[t] for t in headers}
    models = sorted(tidy["model"].unique())
    values = _pivot(primary, "value", headers, models).astype(float)
    rates = win_rates(values, by_header)
    score = rates.mean(axis=1, skipna=True) * 100
    covered = values.notna().sum(axis=1)
    order = pd.DataFrame({"score": score, "covered": covered, "name": values.index})
    order = order.sort_values(
        ["score", "covered", "name"], ascending=[False, False, True], na_position="last"
    )
    ranks = pd.Series(range(1, len(order) + 1), index=order.index, dtype="Int64")
    ranks[order["score"].isna()] = pd.NA
    table = pd.DataFrame(
        {
            RANK_COL: ranks,
            MODEL_COL: order.index,
            SCORE_COL: order["score"],
            COVERAGE_COL: [f"{c}/{len(headers)} tasks" for c in order["covered"]],
        },
        index=order.index,
    )
    table = pd.concat([table, values.loc[order.index]], axis=1)
    decimals = primary.groupby("task")["decimals"].first()
    return Board(
        table=table.reset_index(drop=True),
        ci_low=_pivot(primary, "ci_low", headers, models).loc[order.index].reset_index(drop=True),
        ci_high=_pivot(primary, "ci_high", headers, models).loc[order.index].reset_index(drop=True),
        n=_pivot(primary, "n", headers, models).loc[order.index].reset_index(drop=True),
        best=best_mask(values, by_header).loc[order.index].reset_index(drop=True),
        columns={headers[t]: t for t in headers},
        decimals={headers[t]: int(decimals[t]) for t in headers},
    )


def board_text(board: Board, show_ci: bool = False) -> pd.DataFrame:
    """The board as display strings: "—" for missing, "★" on the best, optional CI and n."""
    out = board.table.copy().astype(object)
    out[SCORE_COL] = [format_number(v, 1) for v in board.table[SCORE_COL]]
    out[RANK_COL] = ["—" if pd.isna(r) else str(int(r)) for r in board.table[RANK_COL]]
    for header in board.columns:
        places = board.decimals[header]
        cells = []
        for i, value in enumerate(board.table[header]):
            text = format_number(value, places)
            if not pd.isna(value) and show_ci:
                low, high, n = board.ci_low[header][i], board.ci_high[header][i], board.n[header][i]
                ci = f" [{format_number(low, places)}, {format_number(high, places)}]"
                text += (ci if not pd.isna(low) else "") + f" n={int(n)}"
            cells.append(text + (" ★" if board.best[header][i] else ""))
        out[header] = cells
    return out


def identity_warnings(tidy: pd.DataFrame) -> list[str]:
    """Tasks whose shown results come from different task versions or datasets."""
    cols = ["task_version", "dataset_id", "dataset_split", "dataset_revision", "dataset_hash"]
    out = []
    for task, group in tidy.groupby("task"):
        variants = group[cols].astype(str).drop_duplicates()
        if len(variants) > 1:
            out.append(
                f"{task}: results come from {len(variants)} different task versions or "
                "datasets; compare them with care (see each model's page)."
            )
    return out


def task_table(tidy: pd.DataFrame, task: str, metric: str) -> pd.DataFrame:
    """One task and metric: every model's value, CI, n, speed and cost, best first."""
    rows = tidy[(tidy["task"] == task) & (tidy["metric"] == metric)].copy()
    if rows.empty:
        return rows
    hib = bool(rows["higher_is_better"].iloc[0])
    rows["latency_s"] = rows["model_s"] / rows["n_scored"].where(rows["n_scored"] > 0)
    rows["size"] = rows["parameters"].map(format_parameters)
    keep = [
        "model",
        "value",
        "ci_low",
        "ci_high",
        "n",
        "unit",
        "rtfx",
        "latency_s",
        "input_tokens",
        "output_tokens",
        "cost_usd",
        "hosted",
        "open_weights",
        "architecture",
        "size",
        "task_version",
        "dataset_id",
        "run_id",
    ]
    return rows.sort_values("value", ascending=not hib)[keep].reset_index(drop=True)


def model_table(tidy: pd.DataFrame, model: str) -> pd.DataFrame:
    """One model: every task and metric with versions, data identity, speed, cost, date."""
    rows = tidy[tidy["model"] == model].copy()
    rows["latency_s"] = rows["model_s"] / rows["n_scored"].where(rows["n_scored"] > 0)
    rows["direction"] = rows["higher_is_better"].map({True: "↑", False: "↓"})
    keep = [
        "task",
        "direction",
        "metric",
        "value",
        "ci_low",
        "ci_high",
        "n",
        "unit",
        "rtfx",
        "latency_s",
        "input_tokens",
        "output_tokens",
        "cost_usd",
        "task_version",
        "dataset_id",
        "dataset_split",
        "dataset_revision",
        "dataset_hash",
        "voxeval_version",
        "finished_at",
        "run_id",
        "n_errors",
    ]
    return rows.sort_values(["task", "metric_order"])[keep].reset_index(drop=True)


def model_facts(tidy: pd.DataFrame, model: str) -> dict[str, object]:
    """Card and run facts of one model (from its newest shown run)."""
    rows = tidy[tidy["model"] == model].sort_values("finished_at")
    if rows.empty:
        return {}
    last = rows.iloc[-1]
    size = last["parameters"]
    return {
        "model key": last["model_key"],
        "adapter": last["model_name"],
        "weights revision": last["model_revision"],
        "hosting": "hosted" if last["hosted"] else "local",
        "open weights": {True: "yes", False: "no"}.get(last["open_weights"], "unknown"),
        "parameters": format_parameters(size),
        "licence": last["licence"],
        "architecture": last["architecture"],
        "hardware": last["hardware"],
        "url": last["url"],
        "voxeval versions": ", ".join(sorted(rows["voxeval_version"].dropna().unique())),
        "newest result": str(last["finished_at"]),
    }


def format_parameters(count: float | None) -> str:
    """244000000 → "244M", 7e9 → "7B"; unknown → "unknown"."""
    if count is None or pd.isna(count):
        return "unknown"
    for factor, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if count >= factor:
            return f"{count / factor:.3g}{suffix}"
    return f"{count:.0f}"


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A text cell a spreadsheet would run as a formula, prefixed with ' (OWASP's advice)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(frame: pd.DataFrame) -> bytes:
    """CSV bytes for a download button (missing values empty; formula-like text escaped).

    Model names, predictions and replies come from strangers' run folders, so a cell such
    as `=HYPERLINK(...)` must stay text when the file is opened in a spreadsheet.
    """
    safe = frame.copy()
    safe.columns = [spreadsheet_safe(str(c)) for c in safe.columns]
    for column in safe.columns[safe.dtypes.eq(object) | safe.dtypes.astype(str).eq("str")]:
        safe[column] = safe[column].map(spreadsheet_safe)
    return safe.to_csv(index=False).encode("utf-8")


def to_json(frame: pd.DataFrame) -> bytes:
    """JSON records for a download button (missing values null, dates ISO 8601)."""
    buffer = io.StringIO()
    frame.to_json(buffer, orient="records", date_format="iso", force_ascii=False)
    return json.dumps(json.loads(buffer.getvalue()), indent=1, ensure_ascii=False).encode()
