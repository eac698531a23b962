"""Per model: every task with uncertainty, speed, cost, versions, data identity and card."""

from __future__ import annotations

from urllib.parse import urlsplit

import pandas as pd
import streamlit as st

from voxeval.leaderboard import data, views


def card_link(url: object, what: str = "Model page") -> None:
    """A card link as a link button when it is http(s), else as plain text."""
    if url is None or (isinstance(url, float) and pd.isna(url)):
        return
    link = views.safe_link(url)
    if link is None:
        st.text(f"{what} (not an http(s) link, so not linked): {url}")
        return
    host = views.escape_markdown(urlsplit(link).hostname or "")
    st.link_button(f"{what} ({host})", link, icon=":material/open_in_new:")


st.title("Per model")
view = views.current_view()
views.banner(view)
if not views.empty_note(view):
    models = sorted(view.tidy["model"].unique())
    model = views.url_choice("Model", models, "model")
    st.text(f"{'DEMO · ' if view.demo else ''}{model}")
    facts = data.model_facts(view.tidy, model)
    all_facts = pd.DataFrame(
        {
            "fact": list(facts),
            "detail": [
                "—" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v)
                for v in facts.values()
            ],
        }
    )
    left, right = st.columns([2, 3])
    with left:
        st.subheader("Card and run facts")
        # The card's links are shown as link buttons below (when safe), not as text rows.
        views.table(all_facts[~all_facts["fact"].isin(["url", "paper"])], height="content")
        card_link(facts.get("url"))
        card_link(facts.get("paper"), "Paper")
        views.downloads(all_facts, "model-facts")
    results = data.model_table(view.tidy, model)
    with right:
        st.subheader("Speed and cost per task")
        per_task = results.drop_duplicates("task")[
            ["task", "rtfx", "latency_s", "input_tokens", "output_tokens", "cost_usd", "n_errors"]
        ]
        per_task = views.sort_controls(per_task, "speed", "task")
        views.table(per_task)
        st.caption(
            "RTFx: audio seconds / model seconds (↑ faster); — when a run has no audio time."
        )
        views.downloads(per_task, "model-speed-cost")
    st.subheader("Every task and metric")
    st.caption(f"{data.LATEST_RULE} Values in display units (see the unit column).")
    results = views.sort_controls(results, "", "task")
    views.table(results)
    views.downloads(results, "model-results")
