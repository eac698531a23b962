"""Streamlit helpers shared by the pages: cached loading, filters, tables, downloads.

Free text (model names, predictions, rationales) is only ever shown through st.text,
st.dataframe, widget options or chart marks, never through markdown or HTML.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from voxeval.leaderboard import data

CACHE_TTL_S = 10  # a newly published run shows up within this many seconds
BEST_STYLE = "background-color: rgba(46, 160, 67, 0.22); font-weight: 700"
SIZES = {"any": None, "≤ 1B": 1e9, "≤ 3B": 3e9, "≤ 10B": 1e10, "≤ 100B": 1e11}
DEMO_BANNER = (
    "DEMO results: these come from demo or fixture data (e.g. the bundled demo-asr set), "
    "not from benchmarks. They are kept apart and never ranked with benchmark results."
)


def escape_markdown(text: str) -> str:
    """Free text made literal for elements that render markdown (alerts, captions)."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=])", r"\\\1", text)


def results_dir() -> Path:
    """--results-dir after `--` on the streamlit command line, else $VOXEVAL_RESULTS_DIR."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--results-dir")
    args, _ = parser.parse_known_args(sys.argv[1:])
    chosen = args.results_dir or os.environ.get("VOXEVAL_RESULTS_DIR") or "results"
    return Path(chosen).expanduser().resolve()


@st.cache_resource(ttl=CACHE_TTL_S, show_spinner="Loading results…")
def load_rows(root: str) -> pd.DataFrame:
    """Every indexed row under the results folder (shared, read-only: never modify it)."""
    return data.load_results(Path(root))


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def load_problems(root: str) -> pd.DataFrame:
    """Run folders whose run.json could not be read (cached)."""
    return data.problems(load_rows(root))


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def load_tidy(root: str, demo: bool) -> pd.DataFrame:
    """Latest successful results, benchmark or demo (cached)."""
    return data.select_latest(load_rows(root), demo=demo)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def load_breakdowns(root: str, runs: tuple[tuple[str, str], ...], task: str) -> pd.DataFrame:
    """Breakdown rows of the shown runs of a task (cached)."""
    from voxeval.leaderboard import breakdowns

    return breakdowns.load(Path(root), runs, task)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner="Paired bootstrap…")
def _compare(root: str, shared: tuple[tuple[str, str, str], ...], min_shared: int) -> pd.DataFrame:
    from voxeval.leaderboard import pairs

    return pairs.compare_paths(Path(root), shared, min_shared)


def compare(
    root: str, tidy: pd.DataFrame, model_a: str, model_b: str, min_shared: int
) -> pd.DataFrame:
    """Paired comparison of two models on their shared tasks (cached per run pair)."""
    from voxeval.leaderboard import pairs

    return _compare(root, pairs.shared_runs(tidy, model_a, model_b), min_shared)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner="Scoring samples…")
def task_samples(root: str, tidy: pd.DataFrame, task: str, models: tuple[str, ...]) -> pd.DataFrame:
    """Sample × model table of a task (cached)."""
    from voxeval.leaderboard import samples

    return samples.task_samples(Path(root), tidy, task, list(models))


@dataclass
class View:
    """What a page shows: the results folder, demo mode, and the filtered tidy rows."""

    root: Path
    demo: bool
    tidy: pd.DataFrame
    hidden_demo: int  # demo results not shown (benchmark mode)


def current_filters() -> data.Filters:
    """The sidebar filter widgets' values as data.Filters."""
    state = st.session_state
    weights = state.get("weights", "any")
    return data.Filters(
        families=state.get("family") or None,
        hosting=None if state.get("hosting", "any") == "any" else state["hosting"],
        open_weights=None if weights == "any" else weights == "open",
        max_parameters=SIZES.get(state.get("size", "any")),
        include_unknown_size=state.get("unknown_size", True),
    )


def current_view() -> View:
    """The filtered results the sidebar asks for."""
    root = results_dir()
    demo = bool(st.session_state.get("demo", False))
    tidy = data.apply_filters(load_tidy(str(root), demo), current_filters())
    hidden = 0 if demo else load_tidy(str(root), True)["model"].nunique()
    return View(root, demo, tidy, hidden)


def sidebar(root: Path) -> None:
    """Filters (kept in the URL), the demo switch and a reload button."""
    all_rows = pd.concat([load_tidy(str(root), False), load_tidy(str(root), True)])
    families = sorted(all_rows["family"].dropna().unique()) if not all_rows.empty else []
    side = st.sidebar
    side.toggle(
        "Show DEMO results",
        key="demo",
        bind="query-params",
        help="Demo/fixture results, shown apart from benchmark results",
    )
    side.multiselect(
        "Task family", families, key="family", bind="query-params", placeholder="All families"
    )
    side.radio(
        "Where it runs",
        ["any", "local", "hosted"],
        key="hosting",
        bind="query-params",
        horizontal=True,
        help="hosted = the openai adapter",
    )
    side.radio(
        "Weights",
        ["any", "open", "closed"],
        key="weights",
        bind="query-params",
        horizontal=True,
        help="from the model card; unknown is shown only for 'any'",
    )
    side.select_slider("Size", list(SIZES), key="size", bind="query-params")
    side.checkbox(
        "Include models of unknown size", value=True, key="unknown_size", bind="query-params"
    )
    if side.button("Reload results", help=f"results are re-read every {CACHE_TTL_S} s anyway"):
        st.cache_data.clear()
        load_rows.clear()
    side.caption("Results folder")
    side.text(str(root))


def banner(view: View) -> None:
    """The DEMO warning, or a note that demo results are hidden."""
    if view.demo:
        st.warning(DEMO_BANNER, icon=":material/science:")


def empty_note(view: View) -> bool:
    """Explain an empty view; True when there is nothing to show."""
    if not view.tidy.empty:
        return False
    if view.hidden_demo and not view.demo:
        st.info(
            f"No benchmark results match. {view.hidden_demo} model(s) have DEMO results: "
            "switch on 'Show DEMO results' in the sidebar to see them."
        )
    else:
        st.info(
            "No results match. Publish a finished run with `voxeval publish RUN_DIR`, "
            "or relax the sidebar filters."
        )
    return True


def downloads(frame: pd.DataFrame, name: str) -> None:
    """CSV and JSON download buttons for a table."""
    left, right, _ = st.columns([1, 1, 6])
    left.download_button(
        "CSV",
        data.to_csv(frame),
        f"{name}.csv",
        "text/csv",
        key=f"{name}-csv",
        icon=":material/download:",
    )
    right.download_button(
        "JSON",
        data.to_json(frame),
        f"{name}.json",
        "application/json",
        key=f"{name}-json",
        icon=":material/download:",
    )


def highlight(text: pd.DataFrame, mask: pd.DataFrame) -> pd.io.formats.style.Styler:
    """A Styler that marks the True cells of `mask` (same columns) as best."""

    def css(_: pd.DataFrame) -> pd.DataFrame:
        styles = pd.DataFrame("", index=text.index, columns=text.columns)
        for col in mask.columns:
            styles.loc[mask[col].to_numpy(dtype=bool), col] = BEST_STYLE
        return styles

    return text.style.apply(css, axis=None)


def _known_columns(decimals: int) -> dict[str, object]:
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
        "model": st.column_config.TextColumn(pinned=True),
    }


def table(
    frame: pd.DataFrame | pd.io.formats.style.Styler,
    decimals: int = 3,
    height: int | str = "auto",
    **config: object,
) -> None:
    """A full-width dataframe without the index; known columns get units and formats."""
    columns = frame.columns if isinstance(frame, pd.DataFrame) else frame.data.columns
    known = {k: v for k, v in _known_columns(decimals).items() if k in columns}
    st.dataframe(
        frame, hide_index=True, width="stretch", height=height, column_config={**known, **config}
    )


def pick(label: str, options: list[str], key: str, default: str | None = None) -> str | None:
    """A selectbox kept in the URL under `key`; None when there are no options."""
    if not options:
        return None
    index = options.index(default) if default in options else 0
    return st.selectbox(label, options, index=index, key=key, bind="query-params")
