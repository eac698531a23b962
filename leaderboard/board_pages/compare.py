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
    # Widgets in columns, messages about a link's values full width below them.
    model_a = views.url_choice("Model A", models, "a", what="model", container=left)
    second = models[min(1, len(models) - 1)]
    model_b = views.url_choice("Model B", models, "b", second, what="model", container=right)
    min_shared = views.url_number(
        "min shared",
        "min_shared",
        10,
        min_value=2,
        max_value=1_000_000,
        container=third,
        help="fewest samples both runs scored for a task to be compared",
    )
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
                compared = views.sort_controls(compared, "", "task")
                views.table(compared, decimals=2)
            for task, problem in result.dropna(subset=["problem"])[["task", "problem"]].values:
                st.text(f"Not compared: {task}: {problem}")
            views.downloads(result, "comparison")
