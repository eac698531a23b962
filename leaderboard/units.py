"""The one units table: how each metric is scaled and labelled everywhere on the board.

Error rates, accuracies and text-overlap scores are fractions in run.json and shown in %
(×100); correlations and CCC stay on −1..1; MAE/RMSE and judge ratings keep the task's own
scale. `apply_units` is the only place a value is rescaled.
"""

from __future__ import annotations

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


def unit_of(metric: str) -> Unit:
    """The metric's display unit; unknown metrics are shown unscaled under their own name."""
    return UNITS.get(metric) or Unit(metric)


def arrow(higher_is_better: bool) -> str:
    """↑ when higher is better, ↓ when lower is better."""
    return "↑" if higher_is_better else "↓"


def metric_header(metric: str, higher_is_better: bool) -> str:
    """Header text with direction and unit, e.g. "↓ WER (%)"."""
    unit = unit_of(metric)
    suffix = f" ({unit.unit})" if unit.unit else ""
    return f"{arrow(higher_is_better)} {unit.label}{suffix}"


def apply_units(df: pd.DataFrame) -> pd.DataFrame:
    """Scale value/ci_low/ci_high per metric and add unit, label and decimals columns."""
    out = df.copy()
    metrics = out["metric"].astype(object)
    table = {m: unit_of(m) for m in metrics.dropna().unique()}
    scale = metrics.map({m: u.scale for m, u in table.items()}).fillna(1.0).astype(float)
    for col in ("value", "ci_low", "ci_high"):
        out[f"{col}_raw"] = out[col]
        out[col] = out[col].astype(float) * scale
    out["unit"] = metrics.map({m: u.unit for m, u in table.items()})
    out["metric_label"] = metrics.map({m: u.label for m, u in table.items()})
    out["decimals"] = metrics.map({m: u.decimals for m, u in table.items()}).fillna(3)
    return out


def to_display(metric: str, value: float | None) -> float | None:
    """One raw value of `metric` in display units (for values outside a DataFrame)."""
    return None if value is None else value * unit_of(metric).scale


def format_number(value: float | None, decimals: int = 3) -> str:
    """A value rounded for display; missing (None/NaN) is "—"."""
    if value is None or pd.isna(value):
        return "—"
    return f"{value:.{decimals}f}"
