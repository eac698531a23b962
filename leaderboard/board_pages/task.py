"""Per task: ranking with CI error bars, quality vs speed, and breakdowns."""

from __future__ import annotations

import streamlit as st

from voxeval.leaderboard import breakdowns, charts, data, views
from voxeval.leaderboard.units import metric_header, unit_of

st.title("Per task")
view = views.current_view()
views.banner(view)
if not views.empty_note(view):
    tidy = view.tidy
    primaries = data.primary_metrics(tidy)
    task = views.pick("Task", sorted(primaries), key="task")
    metrics = tidy[tidy["task"] == task].sort_values("metric_order")["metric"].unique().tolist()
    metric = views.pick("Metric", metrics, key="metric", default=primaries.get(task))
    rows = data.task_table(tidy, task, metric)
    hib = bool(
        tidy[(tidy["task"] == task) & (tidy["metric"] == metric)]["higher_is_better"].iloc[0]
    )
    title = metric_header(metric, hib)
    decimals = unit_of(metric).decimals
    number = f"%.{decimals}f"
    st.subheader(f"Ranking · {views.escape_markdown(title)}")
    st.caption(f"{data.LATEST_RULE} Bars start at zero; whiskers are 95% bootstrap CIs.")
    st.altair_chart(charts.ranking_chart(rows, title, decimals), width="stretch")
    views.table(rows, decimals, value=st.column_config.NumberColumn(title, format=number))
    views.downloads(rows, f"{task}-{metric}")

    st.subheader("Quality vs speed")
    speed = charts.speed_chart(rows, title)
    if speed is None:
        st.info("No model reported timing (RTFx) for this task.")
    else:
        st.altair_chart(speed, width="stretch")
        st.caption("RTFx = audio seconds / model seconds: higher is faster.")

    st.subheader("Breakdowns")
    groups = views.load_breakdowns(str(view.root), breakdowns.shown_runs(tidy, task), task)
    fields = sorted(groups["field"].unique()) if not groups.empty else []
    field = views.pick("Break down by", fields, key="field")
    if field is None:
        st.info("These runs report no breakdowns for this task.")
    else:
        part = groups[(groups["field"] == field) & (groups["metric"] == metric)]
        st.altair_chart(charts.breakdown_chart(part, title), width="stretch")
        views.table(part, decimals, value=st.column_config.NumberColumn(title, format=number))
        views.downloads(part, f"{task}-{metric}-by-{field}")
