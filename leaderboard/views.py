"""Streamlit helpers shared by the pages: cached loading, filters, tables, sorting, downloads.

Free text (model names, predictions, rationales) is only ever shown through st.text,
st.dataframe, widget options or chart marks, never through markdown or HTML. Every view
parameter lives in the URL through the urlstate helpers (re-exported here).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import streamlit as st

from voxeval.leaderboard import data, urlstate
from voxeval.leaderboard.tables import downloads, highlight, sort_controls, sort_frame, table
from voxeval.leaderboard.urlstate import (
    escape_markdown,
    safe_link,
    url_choice,
    url_flag,
    url_multi,
    url_number,
    url_tabs,
)

# The pages import everything from here; tables and URL widgets live in their own modules.
__all__ = [
    "DEMO_BANNER",
    "LAYERS",
    "MAX_VERSIONS",
    "SIZES",
    "UNOFFICIAL_BANNER",
    "View",
    "banner",
    "compare",
    "current_filters",
    "current_view",
    "downloads",
    "empty_note",
    "escape_markdown",
    "highlight",
    "layer_switch",
    "load_breakdowns",
    "load_problems",
    "load_rows",
    "load_tidy",
    "pick",
    "refresh_version",
    "results_dir",
    "results_version",
    "safe_link",
    "sidebar",
    "sort_controls",
    "sort_frame",
    "table",
    "task_samples",
    "url_choice",
    "url_flag",
    "url_multi",
    "url_number",
    "url_tabs",
]

# Cached results are keyed on the results folder's version (see refresh_version), not on a
# timer: a visit after any pause reuses them, and a newly published run shows at once.
MAX_VERSIONS = 4  # versions of the results each cache keeps
VERSION = "_voxeval_results_version"  # session key: the version this script run uses
SIZES = {"any": None, "≤ 1B": 1e9, "≤ 3B": 3e9, "≤ 10B": 1e10, "≤ 100B": 1e11}
DEMO_BANNER = (
    "DEMO results: these come from demo or fixture data (e.g. the bundled demo-asr set), "
    "not from benchmarks. They are kept apart and never ranked with benchmark results."
)
UNOFFICIAL_BANNER = (
    "UNOFFICIAL results: these ran on other data than the tasks' official splits. They are "
    "shown apart and never ranked with official results."
)
# The layer switch (?layer=); one line each, shown under it.
LAYERS = {
    "official": "the full official split of each task, passed `voxeval publish`'s checks",
    "unofficial": "other data (a subset, another split); shown apart, never ranked with official",
    "demo": "demo or fixture data (e.g. the bundled demo-asr set)",
}


def results_dir() -> Path:
    """--results-dir after `--` on the streamlit command line, else $VOXEVAL_RESULTS_DIR."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--results-dir")
    args, _ = parser.parse_known_args(sys.argv[1:])
    chosen = args.results_dir or os.environ.get("VOXEVAL_RESULTS_DIR") or "results"
    return Path(chosen).expanduser().resolve()


def refresh_version(root: Path) -> str:
    """Fingerprint the results folder once per script run: every run folder's path, its
    run.json's (mtime, size) and its card's mtime (index.discover, a walk of a few ms). The
    caches are keyed on it."""
    from voxeval.leaderboard import index

    found = sorted(index.discover(root).items())
    version = hashlib.sha256(repr(found).encode()).hexdigest()[:16]
    st.session_state[VERSION] = version
    return version


def results_version(root: str) -> str:
    """The results folder's version this script run uses (taken now if not yet)."""
    return st.session_state.get(VERSION) or refresh_version(Path(root))


@st.cache_resource(max_entries=MAX_VERSIONS, show_spinner="Loading results…")
def _rows(root: str, version: str) -> pd.DataFrame:
    return data.load_results(Path(root))


def load_rows(root: str) -> pd.DataFrame:
    """Every indexed row under the results folder (shared, read-only: never modify it)."""
    return _rows(root, results_version(root))


@st.cache_data(max_entries=MAX_VERSIONS, show_spinner=False)
def _problems(root: str, version: str) -> pd.DataFrame:
    return data.problems(load_rows(root))


def load_problems(root: str) -> pd.DataFrame:
    """Run folders whose run.json could not be read (cached)."""
    return _problems(root, results_version(root))


@st.cache_resource(max_entries=MAX_VERSIONS * len(LAYERS), show_spinner=False)
def _tidy(root: str, version: str, layer: str) -> pd.DataFrame:
    return data.select_latest(load_rows(root), layer)


def load_tidy(root: str, layer: str) -> pd.DataFrame:
    """Latest successful results of one layer: official, unofficial or demo (cached, shared:
    never modify it)."""
    return _tidy(root, results_version(root), layer)


@st.cache_data(max_entries=32, show_spinner=False)
def _breakdowns(
    root: str, version: str, runs: tuple[tuple[str, str], ...], task: str
) -> pd.DataFrame:
    from voxeval.leaderboard import breakdowns

    return breakdowns.load(Path(root), runs, task)


def load_breakdowns(root: str, runs: tuple[tuple[str, str], ...], task: str) -> pd.DataFrame:
    """Breakdown rows of the shown runs of a task (cached)."""
    return _breakdowns(root, results_version(root), runs, task)


@st.cache_data(max_entries=64, show_spinner="Paired bootstrap…")
def _compare(root: str, shared: tuple[tuple[str, str, str], ...], min_shared: int) -> pd.DataFrame:
    from voxeval.leaderboard import pairs

    return pairs.compare_paths(Path(root), shared, min_shared)


def compare(
    root: str, tidy: pd.DataFrame, model_a: str, model_b: str, min_shared: int
) -> pd.DataFrame:
    """Paired comparison of two models on their shared tasks (cached per run pair)."""
    from voxeval.leaderboard import pairs

    return _compare(root, pairs.shared_runs(tidy, model_a, model_b), min_shared)


@st.cache_data(max_entries=32, show_spinner="Scoring samples…")
def task_samples(root: str, tidy: pd.DataFrame, task: str, models: tuple[str, ...]) -> pd.DataFrame:
    """Sample × model table of a task (cached)."""
    from voxeval.leaderboard import samples

    return samples.task_samples(Path(root), tidy, task, list(models))


@dataclass
class View:
    """What a page shows: the results folder, the layer, and the filtered tidy rows."""

    root: Path
    layer: str  # "official" | "unofficial" | "demo"
    tidy: pd.DataFrame
    hidden: dict[str, int] = field(default_factory=dict)  # other layers → models they hold
    unfiltered: int = 0  # models of this layer before the sidebar filters

    @property
    def demo(self) -> bool:
        """True when the demo layer is shown."""
        return self.layer == "demo"

    @property
    def hidden_demo(self) -> int:
        """Models with demo results while another layer is shown."""
        return self.hidden.get("demo", 0)


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
    layer = st.session_state.get("layer", "official")
    everything = load_tidy(str(root), layer)
    tidy = data.apply_filters(everything, current_filters())
    others = (other for other in LAYERS if other != layer)
    hidden = {other: load_tidy(str(root), other)["model"].nunique() for other in others}
    hidden = {name: count for name, count in hidden.items() if count}
    return View(root, layer, tidy, hidden, everything["model"].nunique())


def _demo_alias() -> None:
    """An old `?demo=true` link opens the demo layer (`?layer=demo` is written instead)."""
    params = st.query_params
    if "demo" not in params:
        return
    if "layer" not in params and params["demo"].lower() == "true":
        st.session_state["layer"] = "demo"
    urlstate.drop("demo")


def default_layer(root: Path) -> str:
    """The first layer that holds results (official, unofficial, demo), else official.

    A fresh clone ships only DEMO results: its board opens on them (banner and URL say so)
    rather than on an empty official layer.
    """
    return next((name for name in LAYERS if not load_tidy(str(root), name).empty), "official")


def layer_switch(draw: bool = True) -> str:
    """The layer choice (`?layer=`, the first non-empty layer by default), each explained."""
    _demo_alias()
    side = st.sidebar
    layer = url_choice(
        "Results",
        list(LAYERS),
        "layer",
        default_layer(results_dir()),
        what="layer",
        widget="radio",
        container=side,
        draw=draw,
        format_func=str.capitalize,
        help="Layers are never mixed or ranked together.",
    )
    if draw:
        lines = (f"**{name.capitalize()}**: {text}" for name, text in LAYERS.items())
        side.caption("  \n".join(lines))
    return layer


def sidebar(root: Path, draw: bool = True) -> None:
    """The layer, filters (all kept in the URL) and a reload button; no server paths.

    The app calls it twice: with draw=False before the page, so that the page uses the
    layer and filters a link asks for, and again after the page to draw the widgets, so
    that the page's first table reaches the browser before the sidebar's widgets.
    """
    layer_switch(draw)
    tidy = pd.concat([load_tidy(str(root), layer) for layer in LAYERS])
    families = sorted(tidy["family"].dropna().unique()) if not tidy.empty else []
    side = st.sidebar
    url_multi(
        "Task family", families, "family", container=side, draw=draw, placeholder="All families"
    )
    url_choice(
        "Where it runs",
        ["any", "local", "hosted"],
        "hosting",
        "any",
        widget="radio",
        container=side,
        draw=draw,
        horizontal=True,
        help="hosted = the openai adapter",
    )
    url_choice(
        "Weights",
        ["any", "open", "closed"],
        "weights",
        "any",
        widget="radio",
        container=side,
        draw=draw,
        horizontal=True,
        help="from the model card; unknown is shown only for 'any'",
    )
    url_choice(
        "Size", list(SIZES), "size", "any", widget="select_slider", container=side, draw=draw
    )
    url_flag(
        "Include models of unknown size",
        "unknown_size",
        True,
        widget="checkbox",
        container=side,
        draw=draw,
    )
    if draw and side.button("Reload results", help="results are re-read anyway when a run changes"):
        st.cache_data.clear()
        st.cache_resource.clear()
        refresh_version(root)


def banner(view: View) -> None:
    """The DEMO or UNOFFICIAL warning above a page."""
    if view.layer == "demo":
        st.warning(DEMO_BANNER, icon=":material/science:")
    elif view.layer == "unofficial":
        st.warning(UNOFFICIAL_BANNER, icon=":material/rule:")


def empty_note(view: View) -> bool:
    """Explain an empty view; True when there is nothing to show."""
    if not view.tidy.empty:
        return False
    if view.unfiltered:
        st.info(
            f"No {view.layer} results match the sidebar filters: relax them to see the "
            f"{view.unfiltered} model(s) with {view.layer} results."
        )
    elif view.hidden:
        elsewhere = " and ".join(f"{n} model(s) have {k} results" for k, n in view.hidden.items())
        st.info(
            f"No {view.layer} results yet. {elsewhere}: pick that layer under 'Results' in "
            "the sidebar to see them."
        )
    else:
        st.info(
            f"No {view.layer} results yet. Publish a finished run with `voxeval publish RUN_DIR`."
        )
    return True


def pick(label: str, options: list[str], key: str, default: str | None = None) -> str | None:
    """A selectbox kept in the URL under `key` (see url_choice); None without options."""
    return url_choice(label, options, key, default, what=label.lower())
