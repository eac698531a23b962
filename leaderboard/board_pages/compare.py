"""Compare two models: paired bootstrap differences (B − A) on the samples both scored."""

from __future__ import annotations

import streamlit as st

from voxeval.leaderboard import views

st.title("Compare two models")
view = views.current_view()
views.banner(view)
if not views.empty_note(view):
    models = sorted(view.tidy["model"].unique())
    left, right, third = st.columns([3, 3, 1])
    with left:
        model_a = views.pick("Model A", models, key="a")
    with right:
        model_b = views.pick("Model B", models, key="b", default=models[min(1, len(models) - 1)])
    with third:
        min_shared = st.number_input("min shared", min_value=2, value=10, key="min_shared")
    st.caption(
        "Both runs are resampled with the same sample indices (paired percentile bootstrap, "
        "1,000 resamples, 95% CI); B − A > 0 means B scored higher, which is better only "
        "for ↑ metrics. Significant = the CI excludes 0. Only samples both runs scored count."
    )
    if model_a == model_b:
        st.info("Pick two different models.")
    else:
        result = views.compare(str(view.root), view.tidy, model_a, model_b, int(min_shared))
        st.text(f"A = {model_a}\nB = {model_b}")
        if result.empty:
            st.info("These two models share no task.")
        else:
            compared = result[result["problem"].isna()].drop(columns="problem")
            if not compared.empty:
                views.table(compared, decimals=2)
            for task, problem in result.dropna(subset=["problem"])[["task", "problem"]].values:
                st.text(f"Not compared: {task}: {problem}")
            views.downloads(result, "comparison")
