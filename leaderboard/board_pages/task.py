"""Per task: ranking with CI error bars, quality vs speed, and breakdowns."""

from __future__ import annotations

import streamlit as st

from voxeval.leaderboard import boards, breakdowns, charts, data, views
from voxeval.leaderboard.units import metric_header, unit_of

st.title("Per task")
view = views.current_view()
views.banner(view)
if not views.empty_note(view):
    tidy = view.tidy
    primaries = boards.primary_metrics(tidy)
    task = views.url_choice("Task", sorted(primaries), "task")
    metrics = tidy[tidy["task"] == task].sort_values("metric_order")["metric"].unique().tolist()
    metric = views.url_choice("Metric", metrics, "metric", primaries.get(task))
    rows = data.task_table(tidy, task, metric)
    first = tidy[(tidy["task"] == task) & (tidy["metric"] == metric)].iloc[0]
    hib = bool(first["higher_is_better"])
    kind = first.get("metric_kind")  # the registered metric behind the result's name
    kind = kind if isinstance(kind, str) else None
    title = metric_header(metric, hib, kind)
    decimals = unit_of(metric, kind).decimals
    number = f"%.{decimals}f"
    st.subheader(f"Ranking · {views.escape_markdown(title)}")
    st.caption(f"{data.LATEST_RULE} Bars start at zero; whiskers are 95% bootstrap CIs.")
    st.altair_chart(charts.ranking_chart(rows, title, decimals), width="stretch")
    # The table can be re-sorted (kept in the URL); the chart stays best first.
    shown = views.sort_controls(rows, "", "value", hib, labels={"value": title})
    views.table(shown, decimals, value=st.column_config.NumberColumn(title, format=number))
    views.downloads(shown, f"{task}-{metric}")

    st.subheader("Quality vs speed")
    speed = charts.speed_chart(rows, title)
    if speed is None:
        st.info("No model reported timing (RTFx) for this task.")
    else:
        st.altair_chart(speed, width="stretch")
        st.caption("RTFx = audio seconds / model seconds: higher is faster; — no audio time.")

    st.subheader("Breakdowns")
    groups = views.load_breakdowns(str(view.root), breakdowns.shown_runs(tidy, task), task)
    fields = sorted(groups["field"].unique()) if not groups.empty else []
    field = views.url_choice("Break down by", fields, "field", what="breakdown field")
    if field is None:
        st.info("These runs report no breakdowns for this task.")
    else:
        part = groups[(groups["field"] == field) & (groups["metric"] == metric)]
        st.altair_chart(charts.breakdown_chart(part, title), width="stretch")
        part = views.sort_controls(part, "breakdown", "group", labels={"value": title})
        views.table(part, decimals, value=st.column_config.NumberColumn(title, format=number))
        views.downloads(part, f"{task}-{metric}-by-{field}")
