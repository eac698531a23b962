"""Per model: every task with uncertainty, speed, cost, versions, data identity and card."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from voxeval.leaderboard import data, views

st.title("Per model")
view = views.current_view()
views.banner(view)
if not views.empty_note(view):
    models = sorted(view.tidy["model"].unique())
    model = views.pick("Model", models, key="model")
    st.text(f"{'DEMO · ' if view.demo else ''}{model}")
    facts = data.model_facts(view.tidy, model)
    facts_table = pd.DataFrame(
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
        views.table(facts_table, height="content")
        views.downloads(facts_table, "model-facts")
    results = data.model_table(view.tidy, model)
    with right:
        st.subheader("Speed and cost per task")
        per_task = results.drop_duplicates("task")[
            ["task", "rtfx", "latency_s", "input_tokens", "output_tokens", "cost_usd", "n_errors"]
        ]
        views.table(
            per_task,
            rtfx=st.column_config.NumberColumn("RTFx ↑", format="%.1f"),
            latency_s=st.column_config.NumberColumn("latency s/sample ↓", format="%.3f"),
            cost_usd=st.column_config.NumberColumn("cost USD", format="%.4f"),
        )
        views.downloads(per_task, "model-speed-cost")
    st.subheader("Every task and metric")
    st.caption(f"{data.LATEST_RULE} Values in display units (see the unit column).")
    views.table(results)
    views.downloads(results, "model-results")
