"""Overview (landing page): models × tasks, ranked, with coverage and best marked."""

from __future__ import annotations

import streamlit as st

from voxeval.leaderboard import data, views

st.title("voxeval leaderboard")
view = views.current_view()
views.banner(view)
st.caption(f"{data.RANK_RULE} {data.LATEST_RULE}")
if not views.empty_note(view):
    for warning in data.identity_warnings(view.tidy):
        st.warning(views.escape_markdown(warning))
    board = data.build_board(view.tidy)
    show_ci = st.toggle("Show 95% CI and n in the cells", key="ci", bind="query-params")
    st.subheader("DEMO ranking" if view.demo else "Ranking")
    views.table(
        views.highlight(data.board_text(board, show_ci), board.best),
        Rank=st.column_config.TextColumn(width="small"),
    )
    st.caption(
        "★ best in its column (highlighted). — no result: not run or not published; it is "
        "not counted as zero and the model stays listed. ↑ higher is better, ↓ lower is "
        "better. Error rates, accuracies and text-overlap scores are in % (×100); "
        "correlations and CCC on −1..1; judge ratings on the rubric's scale. Each task "
        "column shows its primary metric (the task's first); see Per task for the others."
    )
    views.downloads(board.table, "demo-leaderboard" if view.demo else "leaderboard")
    with st.expander("Every metric with 95% CI and n (long table)"):
        cols = [
            "model",
            "task",
            "metric",
            "value",
            "ci_low",
            "ci_high",
            "n",
            "unit",
            "higher_is_better",
            "task_version",
            "dataset_id",
            "run_id",
        ]
        long = view.tidy[cols].sort_values(["task", "metric", "model"])
        views.table(long)
        views.downloads(long, "all-metrics")
unreadable = views.load_problems(str(view.root))
if not unreadable.empty:
    with st.expander(f"{len(unreadable)} run folder(s) could not be read"):
        views.table(unreadable)
        views.downloads(unreadable, "unreadable-runs")
