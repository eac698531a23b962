"""The voxeval leaderboard app: `voxeval leaderboard` runs it with streamlit.

    python -m streamlit run app.py -- --results-dir results/

The page shown is the URL path (/task, /model …) or `?page=task` on the root URL; filters,
selections and sort orders are query parameters too, every one written explicitly, so any
view can be shared as a link (see urlstate.py). The page scripts live in board_pages/, not
pages/: Streamlit treats a pages/ folder beside the main script as a legacy multipage app
and then runs a page opened by URL without this script.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from voxeval.leaderboard import urlstate, views

HERE = Path(__file__).parent
PAGES = {
    "overview": ("Overview", ":material/leaderboard:"),
    "task": ("Per task", ":material/bar_chart:"),
    "model": ("Per model", ":material/badge:"),
    "compare": ("Compare two models", ":material/compare_arrows:"),
    "samples": ("Sample browser", ":material/headphones:"),
}


def favicon() -> object:
    """A 32×32 bar-chart glyph, drawn here so that no favicon is fetched from outside."""
    from PIL import Image, ImageDraw  # Pillow comes with streamlit

    icon = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    draw = ImageDraw.Draw(icon)
    for left, height in ((4, 12), (13, 24), (22, 18)):
        draw.rectangle((left, 30 - height, left + 5, 30), fill=(255, 75, 75, 255))
    return icon


def main() -> None:
    """Page config, sidebar filters, then the page the URL asks for."""
    # A local favicon: material-icon favicons are fetched from fonts.gstatic.com.
    st.set_page_config(page_title="voxeval leaderboard", page_icon=favicon(), layout="wide")
    wanted = st.query_params.get("page", "overview")
    default = wanted if wanted in PAGES else "overview"
    pages = [
        st.Page(
            str(HERE / "board_pages" / f"{key}.py"),
            title=title,
            icon=icon,
            url_path=key,
            default=key == default,
        )
        for key, (title, icon) in PAGES.items()
    ]
    page = st.navigation(pages)
    # View parameters are collected during the run and written to the URL once at its end
    # (each write is a browser history entry); a run cut short writes nothing.
    urlstate.begin_run(page.url_path or "overview")
    root = views.results_dir()
    views.refresh_version(root)  # what every cached load of this run is keyed on
    views.sidebar(root, draw=False)  # the layer and filters the link asks for, for the page
    page.run()
    views.sidebar(root)  # drawn after the page: its first ranking reaches the browser sooner
    urlstate.finish_run()


main()
