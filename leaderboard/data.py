"""The leaderboard's data layer: pandas only (no streamlit), over a results folder.

Rules (also stated in the app and docs/leaderboard.md):
- Latest run: for each model and task, the most recently finished run with status "success"
  is used; older, failed and unfinished runs are ignored.
- Ranking: boards of fixed task suites with rank bands, see voxeval.leaderboard.boards.
- Units: see voxeval.leaderboard.units (applied once, in `select_latest`).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from voxeval.leaderboard.index import load_index
from voxeval.leaderboard.units import apply_units

LATEST_RULE = "For each model and task the latest successful run is shown."
# Where a shown number comes from: task version, data identity, voxeval version, run.
PROVENANCE = [
    "task_version",
    "dataset_id",
    "dataset_split",
    "dataset_revision",
    "dataset_hash",
    "voxeval_version",
    "finished_at",
    "run_id",
]
# The long table of every metric: one row per model × task × metric, with its provenance.
LONG_COLUMNS = [
    "model",
    "task",
    "metric",
    "value",
    "ci_low",
    "ci_high",
    "n",
    "unit",
    "higher_is_better",
    "rtfx",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    *PROVENANCE,
]


@dataclass
class Filters:
    """What to show: task families, hosting, weights, size (None means no filter)."""

    families: list[str] | None = None
    hosting: str | None = None  # "local" | "hosted"
    open_weights: bool | None = None
    max_parameters: float | None = None
    include_unknown_size: bool = True


def load_results(root: Path, use_cache: bool = True) -> pd.DataFrame:
    """Every run × task × metric row under `root` (all statuses; see index.load_index)."""
    frame, _ = load_index(Path(root), use_cache=use_cache)
    return frame


def problems(rows: pd.DataFrame) -> pd.DataFrame:
    """Run folders whose run.json could not be read, with the reason."""
    if rows.empty or "problem" not in rows:
        return pd.DataFrame(columns=["path", "problem"])
    return rows.loc[rows["problem"].notna(), ["path", "problem"]].drop_duplicates()


LAYERS = ("official", "unofficial", "demo")


def row_layers(rows: pd.DataFrame) -> pd.Series:
    """Each row's layer: the index's `layer` column, else demo/official from the demo flag."""
    demo = rows["demo"].fillna(False).astype(bool).map({True: "demo", False: "official"})
    if "layer" not in rows:
        return demo
    return rows["layer"].astype(object).fillna(demo)


def _latest_runs(rows: pd.DataFrame, layer: str) -> pd.DataFrame:
    """(path, task) of each model+task's latest successful run in `layer`."""
    cols = ["path", "task", "model_key", "run_id", "finished_at", "created_at", "status"]
    runs = rows[cols].assign(layer=row_layers(rows)).drop_duplicates(["path", "task"])
    runs = runs[(runs["status"] == "success") & runs["task"].notna()]
    runs = runs[runs["layer"] == layer]
    runs = runs.assign(_when=runs["finished_at"].fillna(runs["created_at"]))
    runs = runs.sort_values(["_when", "run_id"]).drop_duplicates(["model_key", "task"], keep="last")
    return runs[["path", "task"]]


def _model_facts(rows: pd.DataFrame, keys: pd.Series) -> pd.DataFrame:
    """Per model key: card fields of its newest carded successful run, a unique name."""
    cols = ["display_name", "parameters", "open_weights", "licence", "architecture", "url", "paper"]
    runs = rows[rows["model_key"].isin(keys) & (rows["status"] == "success")]
    runs = runs.drop_duplicates("path").sort_values("finished_at")
    facts = pd.DataFrame(index=pd.Index(keys.unique(), name="model_key"))
    for col in cols:
        facts[col] = runs.dropna(subset=[col]).groupby("model_key")[col].last()
    names = facts["display_name"].fillna(pd.Series(facts.index, index=facts.index))
    clash = names.duplicated(keep=False)
    facts["model"] = names.where(~clash, names + " [" + facts.index.to_series() + "]")
    return facts


def select_latest(rows: pd.DataFrame, layer: str = "official") -> pd.DataFrame:
    """Tidy rows (model × task × metric) from each model+task's latest successful run.

    `layer` picks official benchmark results, unofficial ones (other data than the task's
    official split) or demo/fixture results; layers are never mixed.
    Card fields come from the model's newest run with a card. Values are in display units
    (see units.py).
    """
    if rows.empty or "status" not in rows:
        needed = ["model", "metric", "value", "ci_low", "ci_high"]
        columns = [*rows.columns, *(c for c in needed if c not in rows.columns)]
        return apply_units(pd.DataFrame(columns=columns))
    if layer not in LAYERS:
        raise ValueError(f"unknown layer {layer!r}; choose one of {', '.join(LAYERS)}")
    chosen = rows.merge(_latest_runs(rows, layer), on=["path", "task"])
    chosen = chosen[chosen["metric"].notna()]
    facts = _model_facts(rows, chosen["model_key"])
    chosen = chosen.drop(columns=[c for c in facts.columns if c in chosen])
    chosen = chosen.join(facts, on="model_key")
    # No audio time (text-only tasks, baselines): no real-time factor, not 0.0.
    chosen["rtfx"] = chosen["rtfx"].where(chosen["audio_s"].fillna(0) > 0)
    return apply_units(chosen).reset_index(drop=True)


def apply_filters(tidy: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """Rows that pass the filters (families restrict tasks; the rest restrict models)."""
    keep = pd.Series(True, index=tidy.index)
    if filters.families is not None:
        keep &= tidy["family"].isin(filters.families)
    if filters.hosting in ("local", "hosted"):
        keep &= tidy["hosted"].astype(bool) == (filters.hosting == "hosted")
    if filters.open_weights is not None:
        keep &= tidy["open_weights"].astype(object).eq(filters.open_weights)
    if filters.max_parameters is not None:
        size = tidy["parameters"]
        keep &= (size <= filters.max_parameters) | (size.isna() & filters.include_unknown_size)
    return tidy[keep]


IDENTITY_COLUMNS = (
    "task_version",
    "dataset_id",
    "dataset_split",
    "dataset_revision",
    "dataset_hash",
)


def identity_warnings(tidy: pd.DataFrame) -> list[str]:
    """Tasks whose shown results come from different task versions or datasets."""
    cols = ["task", *IDENTITY_COLUMNS]
    # One pass over the distinct identities (a groupby per task took ~0.15 s on 40 × 12).
    variants = tidy[cols].drop_duplicates().astype(str).drop_duplicates()
    counts = variants["task"].value_counts(sort=False)
    return [
        f"{task}: results come from {count} different task versions or "
        "datasets; compare them with care (see each model's page)."
        for task, count in sorted(counts.items())
        if count > 1
    ]


def task_table(tidy: pd.DataFrame, task: str, metric: str) -> pd.DataFrame:
    """One task and metric: every model's value, CI, n, speed and cost, best first."""
    rows = tidy[(tidy["task"] == task) & (tidy["metric"] == metric)].copy()
    if rows.empty:
        return rows
    hib = bool(rows["higher_is_better"].iloc[0])
    rows["latency_s"] = rows["model_s"] / rows["n_scored"].where(rows["n_scored"] > 0)
    rows["size"] = rows["parameters"].map(format_parameters)
    keep = [
        "model",
        "value",
        "ci_low",
        "ci_high",
        "n",
        "unit",
        "rtfx",
        "latency_s",
        "input_tokens",
        "output_tokens",
        "cost_usd",
        "hosted",
        "open_weights",
        "architecture",
        "size",
        "task_version",
        "dataset_id",
        "run_id",
    ]
    return rows.sort_values("value", ascending=not hib)[keep].reset_index(drop=True)


def model_table(tidy: pd.DataFrame, model: str) -> pd.DataFrame:
    """One model: every task and metric with versions, data identity, speed, cost, date."""
    rows = tidy[tidy["model"] == model].copy()
    rows["latency_s"] = rows["model_s"] / rows["n_scored"].where(rows["n_scored"] > 0)
    rows["direction"] = rows["higher_is_better"].map({True: "↑", False: "↓"})
    keep = [
        "task",
        "direction",
        "metric",
        "value",
        "ci_low",
        "ci_high",
        "n",
        "unit",
        "rtfx",
        "latency_s",
        "input_tokens",
        "output_tokens",
        "cost_usd",
        *PROVENANCE,
        "n_errors",
    ]
    return rows.sort_values(["task", "metric_order"])[keep].reset_index(drop=True)


def model_facts(tidy: pd.DataFrame, model: str) -> dict[str, object]:
    """Card and run facts of one model (from its newest shown run)."""
    rows = tidy[tidy["model"] == model].sort_values("finished_at")
    if rows.empty:
        return {}
    last = rows.iloc[-1]
    size = last["parameters"]
    return {
        "model key": last["model_key"],
        "adapter": last["model_name"],
        "weights revision": last["model_revision"],
        "hosting": "hosted" if last["hosted"] else "local",
        "open weights": {True: "yes", False: "no"}.get(last["open_weights"], "unknown"),
        "parameters": format_parameters(size),
        "licence": last["licence"],
        "architecture": last["architecture"],
        "hardware": last["hardware"],
        "url": last["url"],
        "paper": last.get("paper"),
        "voxeval versions": ", ".join(sorted(rows["voxeval_version"].dropna().unique())),
        "newest result": str(last["finished_at"]),
    }


def format_parameters(count: float | None) -> str:
    """244000000 → "244M", 7e9 → "7B"; unknown → "unknown"."""
    if count is None or pd.isna(count):
        return "unknown"
    for factor, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if count >= factor:
            return f"{count / factor:.3g}{suffix}"
    return f"{count:.0f}"


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A text cell a spreadsheet would run as a formula, prefixed with ' (OWASP's advice)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(frame: pd.DataFrame) -> bytes:
    """CSV bytes for a download button (missing values empty; formula-like text escaped).

    Model names, predictions and replies come from strangers' run folders, so a cell such
    as `=HYPERLINK(...)` must stay text when the file is opened in a spreadsheet.
    """
    safe = frame.copy()
    safe.columns = [spreadsheet_safe(str(c)) for c in safe.columns]
    for column in safe.columns[safe.dtypes.eq(object) | safe.dtypes.astype(str).eq("str")]:
        safe[column] = safe[column].map(spreadsheet_safe)
    return safe.to_csv(index=False).encode("utf-8")


def to_json(frame: pd.DataFrame) -> bytes:
    """JSON records for a download button (missing values null, dates ISO 8601)."""
    buffer = io.StringIO()
    frame.to_json(buffer, orient="records", date_format="iso", force_ascii=False)
    return json.dumps(json.loads(buffer.getvalue()), indent=1, ensure_ascii=False).encode()


def long_table(tidy: pd.DataFrame) -> pd.DataFrame:
    """Every shown metric with CI, n, speed, cost and provenance, by task, metric, model."""
    return tidy[LONG_COLUMNS].sort_values(["task", "metric", "model"])
