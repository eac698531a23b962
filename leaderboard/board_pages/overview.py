"""Overview (landing page): each board's ranking, ranked models first, then the rest."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from voxeval.leaderboard import bands, boards, data, views
from voxeval.leaderboard.board_table import styled_board

EVERY = "every board"


@st.cache_data(ttl=views.CACHE_TTL_S, show_spinner="Ranking…")
def ranked_boards(root: str, tidy: pd.DataFrame) -> list[boards.Board]:
    """The boards of the shown results, with paired-bootstrap significance (cached)."""
    from voxeval.leaderboard.pairs import PairedVerdicts

    return boards.build_boards(tidy, paired=PairedVerdicts(Path(root), tidy))


def sorted_board(board: boards.Board) -> boards.Board:
    """The board in the sort the URL asks for (`?<board>_sort=`); Rank keeps its order."""
    positions = board.table.assign(**{boards.RANK_COL: range(1, len(board.table) + 1)})
    chosen = views.sort_controls(positions, key=board.name, default_column=boards.RANK_COL)
    return boards.reorder(board, list(chosen.index))


def show_board(board: boards.Board, show_ci: bool, sortable: bool) -> None:
    """One board: heading, what it covers, the table, downloads."""
    st.subheader(board.title)
    unranked = len(board.table) - board.n_ranked
    st.caption(
        f"Tasks: {', '.join(board.tasks)}. {board.n_ranked} model(s) ranked"
        + (f"; {unranked} not ranked (missing tasks), listed below them." if unranked else ".")
    )
    if sortable:
        board = sorted_board(board)
    views.table(styled_board(board, show_ci), Rank=st.column_config.TextColumn(width="small"))
    views.downloads(board.table, f"board-{board.name}")


st.title("voxeval leaderboard")
view = views.current_view()
views.banner(view)
st.caption(
    "Only models with every task of a board are ranked; models not significantly apart share "
    "a rank band (2–4); ★ only for a significantly best value. The full rules are below."
)
if not views.empty_note(view):
    for warning in data.identity_warnings(view.tidy):
        st.warning(views.escape_markdown(warning))
    found = ranked_boards(str(view.root), view.tidy)
    names = {b.name: b for b in found}
    chosen = views.url_choice(
        "Board",
        [EVERY, *names],
        "board",
        EVERY,
        format_func=lambda b: names[b].title if b in names else b,
    )
    show_ci = views.url_flag("Show 95% CI and n in the cells", "ci")
    for board in found if chosen == EVERY else [names[chosen]]:
        show_board(board, show_ci, sortable=chosen != EVERY)
    st.caption(
        "★ best in its column and significantly better than every other model there "
        "(highlighted). — no result: not run or not published; never counted as zero. "
        "↑ higher is better, ↓ lower is better. Every rate is in % (×100); correlations "
        "and CCC on −1..1; judge ratings on the rubric's scale. Each task column shows its "
        "primary metric (the task's first); see Per task for the others."
    )
    with st.expander("How ranks, rank bands and ★ are decided", expanded=False):
        st.text(f"{boards.RANK_RULE}\n\n{bands.BAND_RULE}\n\n{data.LATEST_RULE}")
    # Built only on request: a collapsed expander would still ship every row to the browser.
    if views.url_flag("Every metric with 95% CI and n (long table)", "long"):
        long = data.long_table(view.tidy)
        views.table(long)
        views.downloads(long, "all-metrics")
unreadable = views.load_problems(str(view.root))
if not unreadable.empty:
    with st.expander(f"{len(unreadable)} run folder(s) could not be read"):
        views.table(unreadable)
        views.downloads(unreadable, "unreadable-runs")
