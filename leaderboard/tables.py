"""Tables: numeric dataframes with units, pinned names, safe links; shareable sorting.

Numbers stay numbers (formats come from column_config, missing values show as "—"), so a
header click sorts numerically. That sort cannot be read back into the URL, so
`sort_controls` offers the same as widgets kept in the URL.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from voxeval.leaderboard import data
from voxeval.leaderboard.urlstate import safe_link, url_choice

BEST_STYLE = "background-color: rgba(46, 160, 67, 0.22); font-weight: 700"
ORDERS = {"asc": "ascending", "desc": "descending"}
PINNED = ("Rank", "Model", "model")  # names stay in view when a wide table scrolls


def downloads(frame: pd.DataFrame, name: str) -> None:
    """CSV and JSON download buttons for a table.

    The files are written when a button is clicked, not on every run (a page of boards
    would otherwise serialise and send every board twice before it is drawn), and a click
    does not rerun the page.
    """
    left, right, _ = st.columns([1, 1, 6])
    left.download_button(
        "CSV",
        lambda: data.to_csv(frame),
        f"{name}.csv",
        "text/csv",
        key=f"{name}-csv",
        icon=":material/download:",
        on_click="ignore",
    )
    right.download_button(
        "JSON",
        lambda: data.to_json(frame),
        f"{name}.json",
        "application/json",
        key=f"{name}-json",
        icon=":material/download:",
        on_click="ignore",
    )


def highlight(text: pd.DataFrame, mask: pd.DataFrame) -> pd.io.formats.style.Styler:
    """A Styler that marks the True cells of `mask` (same columns) as best."""

    def css(_: pd.DataFrame) -> pd.DataFrame:
        styles = pd.DataFrame("", index=text.index, columns=text.columns)
        for col in mask.columns:
            styles.loc[mask[col].to_numpy(dtype=bool), col] = BEST_STYLE
        return styles

    return text.style.apply(css, axis=None)


def _known_columns(decimals: int) -> dict[str, Any]:
    number = st.column_config.NumberColumn
    value = number(format=f"%.{decimals}f")
    return {
        "value": value,
        "ci_low": value,
        "ci_high": value,
        "B − A": value,
        "A": value,
        "B": value,
        "rtfx": number("RTFx ↑", format="%.1f", help="audio seconds / model seconds"),
        "latency_s": number("latency ↓ (s/sample)", format="%.3f"),
        "cost_usd": number("cost (USD)", format="%.4f"),
        "p_value": number("p", format="%.4f"),
        "wer (%)": number("↓ WER (%)", format="%.1f"),
        "cer (%)": number("↓ CER (%)", format="%.1f"),
        "judge score": number("↑ judge score", format="%.2f"),
        "url": st.column_config.LinkColumn("link"),
    }


def _pinned(config: dict[str, Any], columns: pd.Index) -> dict[str, Any]:
    """`config` with the name columns pinned, whatever else a page configured for them."""
    out = dict(config)
    for name in (c for c in PINNED if c in columns):
        given = out.get(name)
        base = given if isinstance(given, dict) else {"label": given} if given else {}
        out[name] = {**base, "pinned": True}
    return out


def _links_only(frame: pd.DataFrame) -> pd.DataFrame:
    """A `url` column keeps only http(s) links; anything else is dropped, never linked."""
    if "url" not in frame:
        return frame
    return frame.assign(url=frame["url"].map(safe_link))


def table(
    frame: pd.DataFrame | pd.io.formats.style.Styler,
    decimals: int = 3,
    height: int | str = "auto",
    **config: object,
) -> None:
    """A full-width dataframe without the index; known columns get units and formats.

    Numbers stay numbers (formats come from column_config), so clicking a header sorts
    numerically; missing values show as "—"; Rank/Model/model are pinned.
    """
    if isinstance(frame, pd.DataFrame):
        frame = _links_only(frame)
    columns = frame.columns if isinstance(frame, pd.DataFrame) else frame.data.columns
    known = {k: v for k, v in _known_columns(decimals).items() if k in columns}
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        height=height,
        placeholder="—",
        column_config=_pinned({**known, **config}, columns),
    )


def _sort_key(values: pd.Series) -> pd.Series:
    """Numbers (also numbers held as text) compare as numbers, other text case-blind."""
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
        return values
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.notna().sum() == values.notna().sum():
        return numbers
    return values.map(lambda v: v if pd.isna(v) else str(v).casefold())


def sort_frame(frame: pd.DataFrame, column: str, descending: bool) -> pd.DataFrame:
    """`frame` ordered by `column` (numerically when numeric), missing values last."""
    return frame.sort_values(
        column, ascending=not descending, na_position="last", kind="stable", key=_sort_key
    )


def sort_controls(
    frame: pd.DataFrame,
    key: str = "",
    default_column: str | None = None,
    default_descending: bool = False,
    labels: dict[str, str] | None = None,
    draw: bool = True,
) -> pd.DataFrame:
    """'Sort by' and order kept in the URL (`?sort=&order=`, or `?<key>_sort=` …); the
    frame sorted by them. Header clicks cannot be read back, so this is the shareable sort.
    With draw=False the sort is only read (the controls are drawn by a later call, e.g.
    under the table, so that the table reaches the browser first)."""
    if frame.empty:
        return frame
    names = {"sort": f"{key}_sort" if key else "sort", "order": f"{key}_order" if key else "order"}
    known = {c: cfg.get("label") for c, cfg in _known_columns(3).items() if cfg.get("label")}
    shown = {**known, **(labels or {})}
    left, right, _ = st.columns([2, 2, 3]) if draw else (None, None, None)
    column = url_choice(
        "Sort by",
        list(frame.columns),
        names["sort"],
        default_column,
        what="sort column",
        container=left,
        draw=draw,
        format_func=lambda c: shown.get(c, c),
    )
    order = url_choice(
        "Order",
        list(ORDERS),
        names["order"],
        "desc" if default_descending else "asc",
        what="sort order",
        widget="radio",
        container=right,
        draw=draw,
        horizontal=True,
        format_func=ORDERS.get,
    )
    return sort_frame(frame, column, order == "desc")
