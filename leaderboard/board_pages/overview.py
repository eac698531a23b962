"""Overview (landing page): a tab per board with its ranking, ranked models first, then the
rest. Only the open tab's board is built and sent (a tab switch reruns), so the first
ranking is on screen sooner; the "every board" tab stacks them all."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from voxeval.leaderboard import bands, boards, data, views
from voxeval.leaderboard.board_table import styled_board

EVERY = "every board"


@st.cache_resource(max_entries=16, show_spinner="Ranking…")
def _ranked(root: str, version: str, view_key: str, _tidy: pd.DataFrame) -> list[boards.Board]:
    # Keyed on what the shown rows are made from (results version, layer, filters), not on
    # the rows: hashing them took longer than the rest of a cached visit's script.
    from voxeval.leaderboard.pairs import PairedVerdicts

    return boards.build_boards(_tidy, paired=PairedVerdicts(Path(root), _tidy))


def ranked_boards(view: views.View) -> list[boards.Board]:
    """The boards of the shown results, with paired-bootstrap significance (cached, shared:
    never modify them)."""
    root = str(view.root)
    view_key = repr((view.layer, views.current_filters()))
    return _ranked(root, views.results_version(root), view_key, view.tidy)


def sorted_board(board: boards.Board, draw: bool) -> boards.Board:
    """The board in the sort the URL asks for (`?<board>_sort=`); Rank keeps its order.
    With draw=True the sort controls are drawn too."""
    positions = board.table.assign(**{boards.RANK_COL: range(1, len(board.table) + 1)})
    chosen = views.sort_controls(
        positions, key=board.name, default_column=boards.RANK_COL, draw=draw
    )
    return boards.reorder(board, list(chosen.index))


def show_board(board: boards.Board, show_ci: bool, sortable: bool) -> None:
    """One board: heading, what it covers, the table, downloads."""
    st.subheader(board.title)
    unranked = len(board.table) - board.n_ranked
    st.caption(
        f"Tasks: {', '.join(board.tasks)}. {board.n_ranked} model(s) ranked"
        + (f"; {unranked} not ranked (missing tasks), listed below them." if unranked else ".")
    )
    shown = sorted_board(board, draw=False) if sortable else board
    views.table(styled_board(shown, show_ci), Rank=st.column_config.TextColumn(width="small"))
    if sortable:  # under the table, which then reaches the browser first
        sorted_board(board, draw=True)
    views.downloads(shown.table, f"board-{board.name}")


def board_tabs(found: list[boards.Board]) -> tuple[str, object]:
    """The board tabs (`?board=`, the first board by default): the open tab's board name
    (or EVERY) and its container."""
    labels = _unique_labels([(b.name, b.title) for b in found] + [(EVERY, "Every board")])
    return views.url_tabs(labels, "board", found[0].name, what="board")


def _unique_labels(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """name → tab label; two boards with the same title are told apart by their names."""
    titles = [title for _, title in pairs]
    return {
        name: views.escape_markdown(title if titles.count(title) == 1 else f"{title} ({name})")
        for name, title in pairs
    }


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
    found = ranked_boards(view)
    names = {b.name: b for b in found}
    show_ci = views.url_flag("Show 95% CI and n in the cells", "ci")
    chosen, tab = board_tabs(found)
    with tab:
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
