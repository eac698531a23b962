"""Boards: fixed task suites, each ranked on its own; only full coverage earns a rank.

Each task declares the board it belongs to (`Task.board`: asr, speech-emotion, …); a plugin's
task naming a new board creates it. On a board, a model is ranked only when it has a result
on every task of the board; the others are listed below it, unranked, with their coverage.
The ranked models are ordered by mean win rate over the board's tasks and grouped into
rank bands by significance (voxeval.leaderboard.bands).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np
import pandas as pd

from voxeval.leaderboard.bands import Cell, Judge, Verdict, rank_bands, significant_best
from voxeval.leaderboard.units import format_number, metric_header

ALL_TASKS = "all"
OTHER = "other"
TITLES = {
    "asr": "Speech recognition",
    "speech-emotion": "Speech emotion recognition",
    "emotion-intensity": "Emotion intensity (EmoNet-Voice, scores)",
    "emotion-intensity-prompted": "Emotion intensity (EmoNet-Voice, prompted)",
    "emotion-dimensions": "Arousal, dominance, valence",
    "spoken-dialogue": "Spoken dialogue",
    "empathy": "Empathetic responses",
    OTHER: "Other tasks",
    ALL_TASKS: "All tasks",
}
RANK_RULE = (
    "A board ranks only the models with a result on every one of its tasks; the others are "
    "listed below, unranked, with their coverage. Ranked models are ordered by mean win rate "
    "over the board's tasks: on each task a model scores the share of the other ranked "
    "models it beats on the task's primary metric (ties count half)."
)
SCORE_COL, COVERAGE_COL, RANK_COL, MODEL_COL = "↑ Mean win rate (%)", "Coverage", "Rank", "Model"


@dataclass
class Board:
    """One board: ranked models first, then unranked ones, with CI, n and significant bests."""

    name: str
    title: str
    tasks: list[str]
    table: pd.DataFrame  # Rank (text band), Model, score, Coverage, one numeric column per task
    ci_low: pd.DataFrame
    ci_high: pd.DataFrame
    n: pd.DataFrame
    best: pd.DataFrame  # True where the cell is its column's significantly best value
    n_ranked: int = 0
    columns: dict[str, str] = field(default_factory=dict)  # header → task
    decimals: dict[str, int] = field(default_factory=dict)  # header → decimals


@lru_cache(maxsize=1)
def declared_boards() -> dict[str, str]:
    """Task name → board, as the installed tasks (built-in and plugins) declare it."""
    from voxeval.task import TASKS

    return {
        name: getattr(task, "board", OTHER)
        for name, task in TASKS.items().items()
        if hasattr(task, "board")
    }


def board_of_tasks(tasks: list[str], declared: dict[str, str] | None = None) -> dict[str, str]:
    """Board per task; tasks no installed plugin declares go to "other"."""
    known = declared_boards() if declared is None else declared
    return {t: known.get(t, OTHER) for t in tasks}


def board_names(task_boards: dict[str, str]) -> list[str]:
    """Boards in a stable order: the built-in ones first, then plugins' boards by name."""
    present = set(task_boards.values())
    order = [b for b in TITLES if b in present and b != OTHER]
    return order + sorted(present - set(TITLES)) + ([OTHER] if OTHER in present else [])


def title_of(board: str) -> str:
    """A board's display title (its name when no title is known)."""
    return TITLES.get(board, board)


def primary_metrics(tidy: pd.DataFrame) -> dict[str, str]:
    """Each task's headline metric: the first metric its runs report (run.json order)."""
    if tidy.empty:
        return {}
    firsts = tidy[tidy["metric_order"] == 0]
    return firsts.groupby("task")["metric"].agg(lambda s: s.mode().iloc[0]).to_dict()


def task_header(task: str, metric: str, higher_is_better: bool, kind: str | None = None) -> str:
    """Column header with task, direction and unit: "asr-clean ↓ WER (%)"."""
    return f"{task} {metric_header(metric, higher_is_better, kind)}"


def win_rates(values: pd.DataFrame, higher_is_better: dict[str, bool]) -> pd.DataFrame:
    """Per task, the share of other models with a result that each model beats (ties ½)."""
    rates = pd.DataFrame(index=values.index)
    for col in values.columns:
        col_values = values[col]
        ranks = col_values.rank(ascending=higher_is_better[col], method="average")
        count = col_values.notna().sum()
        rates[col] = (ranks - 1) / (count - 1) if count > 1 else float("nan")
    return rates


def _wide(primary: pd.DataFrame, col: str, tasks: list[str], models: list[str]) -> pd.DataFrame:
    wide = primary.pivot(index="model", columns="task", values=col)
    return wide.reindex(index=models, columns=tasks).astype(float)


def _cells(primary: pd.DataFrame) -> dict[tuple[str, str], Cell]:
    return {
        (r.model, r.task): Cell(r.value, r.ci_low, r.ci_high, bool(r.higher_is_better))
        for r in primary.itertuples()
    }


def _order(values: pd.DataFrame, hib: dict[str, bool], full: pd.Series) -> pd.DataFrame:
    """Ranked models by score then name, then unranked ones by coverage then name."""
    rates = win_rates(values[full], hib)  # a model alone has no one to beat: NaN
    score = (rates.mean(axis=1, skipna=False) * 100).reindex(values.index)
    facts = pd.DataFrame(
        {"ranked": full, "score": score, "covered": values.notna().sum(axis=1)}, index=values.index
    )
    facts["name"] = facts.index
    return facts.sort_values(
        ["ranked", "score", "covered", "name"],
        ascending=[False, False, False, True],
        na_position="last",
    )


def rank_board(
    tidy: pd.DataFrame,
    tasks: list[str],
    name: str = ALL_TASKS,
    paired: Verdict | None = None,
) -> Board:
    """Rank the models of `tidy` on the suite `tasks` (each task by its primary metric)."""
    primaries = {t: m for t, m in primary_metrics(tidy).items() if t in tasks}
    tasks = sorted(primaries)
    primary = tidy[tidy["task"].isin(tasks) & (tidy["metric"] == tidy["task"].map(primaries))]
    hib = primary.groupby("task")["higher_is_better"].first().astype(bool).to_dict()
    models = sorted(primary["model"].unique())
    values = _wide(primary, "value", tasks, models)
    full = values.notna().all(axis=1) & bool(tasks)
    order = _order(values, hib, full)
    judge = Judge(_cells(primary), paired)
    ranked = list(order.index[order["ranked"]])
    bands = rank_bands(ranked, tasks, judge) if len(ranked) > 1 else ["1"] * len(ranked)
    kinds = primary.groupby("task")["metric_kind"].first() if "metric_kind" in primary else {}
    headers = {t: task_header(t, primaries[t], hib[t], kinds.get(t)) for t in tasks}
    table = pd.DataFrame(
        {
            RANK_COL: bands + ["—"] * (len(order) - len(ranked)),
            MODEL_COL: order.index,
            SCORE_COL: order["score"].to_numpy(),
            COVERAGE_COL: [f"{c}/{len(tasks)} tasks" for c in order["covered"]],
        }
    )
    frames = {
        c: _wide(primary, c, tasks, models).loc[order.index] for c in ("ci_low", "ci_high", "n")
    }
    best = pd.DataFrame(False, index=order.index, columns=tasks)
    for task in tasks:
        winner = significant_best(values[task], task, judge, hib[task])
        if winner is not None:
            best.loc[winner, task] = True
    decimals = primary.groupby("task")["decimals"].first()

    def by_header(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.rename(columns=headers).reset_index(drop=True)

    return Board(
        name=name,
        title=title_of(name),
        tasks=tasks,
        table=pd.concat([table, by_header(values.loc[order.index])], axis=1),
        ci_low=by_header(frames["ci_low"]),
        ci_high=by_header(frames["ci_high"]),
        n=by_header(frames["n"]),
        best=by_header(best),
        n_ranked=len(ranked),
        columns={headers[t]: t for t in tasks},
        decimals={headers[t]: int(decimals[t]) for t in tasks},
    )


def build_boards(
    tidy: pd.DataFrame, declared: dict[str, str] | None = None, paired: Verdict | None = None
) -> list[Board]:
    """One board per declared suite present in `tidy`, then the all-tasks board."""
    if tidy.empty or "task" not in tidy:
        return []
    tasks = sorted(tidy["task"].dropna().unique())
    task_boards = board_of_tasks(tasks, declared)
    boards = []
    for board in board_names(task_boards):
        suite = [t for t in tasks if task_boards[t] == board]
        boards.append(rank_board(tidy, suite, board, paired))
    if len(boards) != 1:
        boards.append(rank_board(tidy, tasks, ALL_TASKS, paired))
    return boards


def column_text(board: Board, header: str, show_ci: bool) -> list[str]:
    """One task column as text: value (optionally CI and n), ★ when significantly best."""
    places = board.decimals[header]
    # Plain arrays: indexing the frames cell by cell cost more than the rest of a page run.
    values = board.table[header].to_numpy(dtype=float)
    low, high = (
        board.ci_low[header].to_numpy(dtype=float),
        board.ci_high[header].to_numpy(dtype=float),
    )
    n, best = board.n[header].to_numpy(dtype=float), board.best[header].to_numpy(dtype=bool)
    out = []
    for row, value in enumerate(values):
        text = format_number(value, places)
        if not np.isnan(value) and show_ci:
            if not np.isnan(low[row]):
                text += f" [{format_number(low[row], places)}, {format_number(high[row], places)}]"
            text += f" n={int(n[row])}"
        out.append(text + (" ★" if best[row] else ""))
    return out


def board_text(board: Board, show_ci: bool = False) -> pd.DataFrame:
    """The board as display strings: "—" for missing, "★" on a significant best."""
    out = board.table.copy().astype(object)
    out[SCORE_COL] = [format_number(v, 1) for v in board.table[SCORE_COL]]
    for header in board.columns:
        out[header] = column_text(board, header, show_ci)
    return out


def reorder(board: Board, rows: list[int]) -> Board:
    """The same board with its rows in the order `rows` (positions), e.g. a chosen sort."""

    def take(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.iloc[rows].reset_index(drop=True)

    return replace(
        board,
        table=take(board.table),
        ci_low=take(board.ci_low),
        ci_high=take(board.ci_high),
        n=take(board.n),
        best=take(board.best),
    )
