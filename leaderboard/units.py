"""The one units table: how each metric is scaled and labelled everywhere on the board.

Error rates, accuracies and text-overlap scores are fractions in run.json and shown in %
(×100); correlations and CCC stay on −1..1; MAE/RMSE and judge ratings keep the task's own
scale. `apply_units` is the only place a value is rescaled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Unit:
    """Display convention of one metric: scale factor, unit suffix, label, decimals."""

    label: str
    scale: float = 1.0
    unit: str = ""
    decimals: int = 3


PERCENT = {"scale": 100.0, "unit": "%", "decimals": 1}
CORRELATION = {"unit": "−1..1", "decimals": 3}

UNITS: dict[str, Unit] = {
    "wer": Unit("WER", **PERCENT),
    "cer": Unit("CER", **PERCENT),
    "accuracy": Unit("Accuracy", **PERCENT),
    "uar": Unit("UAR", **PERCENT),
    "macro_f1": Unit("Macro-F1", **PERCENT),
    "refusal_rate": Unit("Refusal rate", **PERCENT),
    "bleu": Unit("BLEU", **PERCENT),
    "rouge_l": Unit("ROUGE-L", **PERCENT),
    "meteor": Unit("METEOR", **PERCENT),
    "distinct_1": Unit("Distinct-1", **PERCENT),
    "distinct_2": Unit("Distinct-2", **PERCENT),
    "ccc": Unit("CCC", **CORRELATION),
    "pearson": Unit("Pearson r", **CORRELATION),
    "spearman": Unit("Spearman ρ", **CORRELATION),
    "mae": Unit("MAE", unit="task scale", decimals=2),
    "rmse": Unit("RMSE", unit="task scale", decimals=2),
    "judge": Unit("Judge", unit="rating", decimals=2),
}


# Result names a task chose (emotion_accuracy, ccc_valence, no_emotion_rate …): the unit of
# the registered metric behind them, else of the known metric their name ends or starts with.
_NAME_PATTERNS = (
    (re.compile(r"(^|_)(ccc)(_|$)"), "ccc"),
    (re.compile(r"_(spearman|pearson|mae|rmse|accuracy|uar|macro_f1|wer|cer)$"), None),
    (re.compile(r"_rate$"), "refusal_rate"),
)


def _base_metric(metric: str, kind: str | None) -> str | None:
    if kind in UNITS:
        return kind
    for pattern, base in _NAME_PATTERNS:
        found = pattern.search(metric)
        if found:
            return base or found.group(1)
    return None


def unit_of(metric: str, kind: str | None = None) -> Unit:
    """The metric's display unit (`kind`: the registered metric behind a result name).

    Every rate is in %, correlations and CCC on −1..1; a metric nothing is known about is
    shown unscaled under its own name.
    """
    if metric in UNITS:
        return UNITS[metric]
    base = _base_metric(metric, kind)
    if base is None:
        return Unit(metric)
    known = UNITS[base]
    return Unit(metric, known.scale, known.unit, known.decimals)


def arrow(higher_is_better: bool) -> str:
    """↑ when higher is better, ↓ when lower is better."""
    return "↑" if higher_is_better else "↓"


def metric_header(metric: str, higher_is_better: bool, kind: str | None = None) -> str:
    """Header text with direction and unit, e.g. "↓ WER (%)"."""
    unit = unit_of(metric, kind)
    suffix = f" ({unit.unit})" if unit.unit else ""
    return f"{arrow(higher_is_better)} {unit.label}{suffix}"


def apply_units(df: pd.DataFrame) -> pd.DataFrame:
    """Scale value/ci_low/ci_high per metric and add unit, label and decimals columns."""
    out = df.copy()
    kinds = out["metric_kind"] if "metric_kind" in out else pd.Series(None, index=out.index)
    kinds = kinds.astype(object).where(kinds.notna(), None)  # NaN never equals NaN as a key
    metrics = out["metric"].astype(object)
    pairs = pd.Series(list(zip(metrics, kinds, strict=True)), index=out.index, dtype=object)
    table = {p: unit_of(*p) for p in pairs.unique() if isinstance(p[0], str)}
    scale = pairs.map({p: u.scale for p, u in table.items()}).fillna(1.0).astype(float)
    for col in ("value", "ci_low", "ci_high"):
        out[f"{col}_raw"] = out[col]
        out[col] = out[col].astype(float) * scale
    out["unit"] = pairs.map({p: u.unit for p, u in table.items()})
    out["metric_label"] = pairs.map({p: u.label for p, u in table.items()})
    out["decimals"] = pairs.map({p: u.decimals for p, u in table.items()}).fillna(3)
    return out


def to_display(metric: str, value: float | None, kind: str | None = None) -> float | None:
    """One raw value of `metric` in display units (for values outside a DataFrame)."""
    return None if value is None else value * unit_of(metric, kind).scale


def format_number(value: float | None, decimals: int = 3) -> str:
    """A value rounded for display; missing (None/NaN) is "—"."""
    if value is None or pd.isna(value):
        return "—"
    return f"{value:.{decimals}f}"
