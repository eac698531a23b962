"""Altair charts: zero-based rankings with CI error bars, breakdowns, accuracy vs speed.

Scales always include zero and every CI end (no clipping); every model is labelled.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

ROW_PX = 30


def _domain(frame: pd.DataFrame, cols: tuple[str, ...] = ("value", "ci_low", "ci_high")) -> list:
    values = pd.concat([frame[c] for c in cols if c in frame]).dropna()
    low, high = min(0.0, float(values.min())), max(0.0, float(values.max()))
    pad = (high - low) * 0.04 or 1.0
    return [low - pad if low < 0 else 0.0, high + pad if high > 0 else 0.0]


def ranking_chart(rows: pd.DataFrame, title: str, decimals: int) -> alt.LayerChart:
    """Horizontal bars (best on top), 95% CI whiskers and value labels, zero baseline."""
    data = rows[["model", "value", "ci_low", "ci_high", "n"]].dropna(subset=["value"]).copy()
    data["label"] = data["value"].map(lambda v: f"{v:.{decimals}f}")
    data["label_at"] = data[["value", "ci_high"]].max(axis=1)
    order = data["model"].tolist()
    x = alt.X("value:Q", title=title, scale=alt.Scale(domain=_domain(data), zero=True, nice=False))
    y = alt.Y("model:N", sort=order, title=None, axis=alt.Axis(labelLimit=0, labelFontSize=12))
    tooltip = [
        "model:N",
        alt.Tooltip("value:Q", format=f".{decimals}f"),
        alt.Tooltip("ci_low:Q", format=f".{decimals}f"),
        alt.Tooltip("ci_high:Q", format=f".{decimals}f"),
        "n:Q",
    ]
    base = alt.Chart(data).encode(y=y, tooltip=tooltip)
    bars = base.mark_bar(opacity=0.8, height={"band": 0.7}).encode(x=x)
    whiskers = base.mark_errorbar(ticks=True, thickness=1.5).encode(
        x=alt.X("ci_low:Q", title=title), x2="ci_high:Q"
    )
    labels = base.mark_text(align="left", dx=6, fontSize=11).encode(
        x=alt.X("label_at:Q", title=title), text="label:N"
    )
    return (bars + whiskers + labels).properties(height=alt.Step(ROW_PX))


def breakdown_chart(rows: pd.DataFrame, title: str) -> alt.LayerChart:
    """Grouped bars per breakdown group and model, with CI whiskers, zero baseline."""
    data = rows.dropna(subset=["value"])
    x = alt.X("value:Q", title=title, scale=alt.Scale(domain=_domain(data), zero=True, nice=False))
    y = alt.Y("model:N", title=None, axis=alt.Axis(labelLimit=0))
    row = alt.Row("group:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left"))
    base = alt.Chart(data).encode(
        y=y,
        color=alt.Color("model:N", legend=None),
        tooltip=["group:N", "model:N", "value:Q", "ci_low:Q", "ci_high:Q", "n:Q"],
    )
    layered = base.mark_bar(opacity=0.75).encode(x=x) + base.mark_rule().encode(
        x="ci_low:Q", x2="ci_high:Q"
    )
    return layered.properties(height=alt.Step(ROW_PX - 8)).facet(row=row)


def speed_chart(rows: pd.DataFrame, title: str) -> alt.LayerChart | None:
    """Quality (y) against RTFx (x, log scale when it spans a decade); labelled points."""
    data = rows.dropna(subset=["value", "rtfx"])
    data = data[data["rtfx"] > 0]
    if data.empty:
        return None
    low, high = float(data["rtfx"].min()), float(data["rtfx"].max())
    if high / low >= 10:  # log scale; room on the right for the names
        scale = alt.Scale(type="log", domain=[low / 1.5, high * 4])
    else:
        scale = alt.Scale(domain=[0, high * 1.3], zero=True)
    x = alt.X("rtfx:Q", title="RTFx (audio seconds per model second, ↑ faster)", scale=scale)
    y = alt.Y("value:Q", title=title, scale=alt.Scale(domain=_domain(data, ("value",))))
    base = alt.Chart(data).encode(x=x, y=y, tooltip=["model:N", "value:Q", "rtfx:Q"])
    points = base.mark_circle(size=90)
    names = base.mark_text(align="left", dx=7, fontSize=11).encode(text="model:N")
    return (points + names).properties(height=360)
