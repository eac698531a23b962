"""A board as a pandas Styler: numbers stay numbers (so header clicks sort numerically),
while the cells show "—", CIs and ★ and the significant bests are highlighted."""

from __future__ import annotations

import pandas as pd
from pandas.io.formats.style import Styler

from voxeval.leaderboard.boards import SCORE_COL, Board, column_text
from voxeval.leaderboard.units import format_number

BEST_STYLE = "background-color: rgba(46, 160, 67, 0.22); font-weight: 700"


def _cell_formats(styler: Styler, board: Board, show_ci: bool) -> Styler:
    """Per-cell display text for the task columns (value, CI and n, ★)."""
    positions = {header: board.table.columns.get_loc(header) for header in board.columns}
    funcs = getattr(styler, "_display_funcs", None)
    for header, col in positions.items():
        for row, text in enumerate(column_text(board, header, show_ci)):
            if funcs is not None:  # one dict entry per cell: ~10× faster than .format per cell
                funcs[(row, col)] = lambda _, text=text: text
            else:
                styler = styler.format(lambda _, text=text: text, subset=([row], [header]))
    return styler


def styled_board(board: Board, show_ci: bool = False) -> Styler:
    """The board's table with display text per cell and its significant bests highlighted."""
    styler = board.table.style.format({SCORE_COL: lambda v: format_number(v, 1)}, na_rep="—").hide(
        axis="index"
    )
    styler = _cell_formats(styler, board, show_ci)

    def css(_: pd.DataFrame) -> pd.DataFrame:
        styles = pd.DataFrame("", index=board.table.index, columns=board.table.columns)
        for header in board.columns:
            styles.loc[board.best[header].to_numpy(dtype=bool), header] = BEST_STYLE
        return styles

    return styler.apply(css, axis=None)
