"""Per-sample data for the sample browser: predictions, per-sample scores, judge rationales.

Read-only, through voxeval's results reader (a bad line is skipped, never cut).
Audio is not in the samples files; bundled demo-asr clips are found by sample id, anything
else has none.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

ASR_METRICS = ("wer", "cer")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of a JSON-lines file (missing file: none; bad lines skipped).

    For a data folder's manifest; run folders are read through `voxeval.results`.
    """
    from voxeval.results.files import strict_json

    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, ValueError):
        return []
    out = []
    for line in lines:
        try:
            record = strict_json(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            out.append(record)
    return out


@cache
def _normalizer(name: str | None) -> Any:
    if not name or name == "none":
        return lambda text: text
    try:
        from voxeval.normalizers import get_normalizer

        return get_normalizer(name).normalize
    except Exception:  # an unknown or unavailable normaliser: score the raw text
        return lambda text: text


def error_rate(reference: str, prediction: str, metric: str, normalizer: str | None) -> float:
    """Per-sample WER or CER (jiwer) after the run's normaliser; NaN without reference."""
    import jiwer

    norm = _normalizer(normalizer)
    ref, hyp = norm(reference or "").strip(), norm(prediction or "").strip()
    if not ref:
        return float("nan")
    return float(jiwer.wer(ref, hyp) if metric == "wer" else jiwer.cer(ref, hyp))


def _prediction(record: dict[str, Any]) -> str:
    pred = record.get("prediction") or {}
    for key in ("text", "label"):
        if pred.get(key) is not None:
            return str(pred[key])
    rest = {k: v for k, v in pred.items() if v is not None}
    return json.dumps(rest, ensure_ascii=False) if rest else ""


def _reference(record: dict[str, Any]) -> str:
    refs = record.get("references") or []
    if refs:
        return str(refs[0])
    labels = record.get("labels") or {}
    return json.dumps(labels, ensure_ascii=False) if labels else ""


def model_samples(
    run_dir: Path, task: str, kind: str, normalizers: dict[str, str | None]
) -> pd.DataFrame:
    """One model's samples on one task: reference, prediction, scores, judge, error.

    Read through the results reader: bad lines are left out (the run's problem list says
    so), a folder that fails validation shows nothing.
    """
    from voxeval.errors import VoxevalError
    from voxeval.results import open_run

    try:
        folder = open_run(run_dir)
        if task not in folder.run.tasks:
            return pd.DataFrame()
        records = folder.samples(task, strict=False).latest
        judged = folder.judge_rows(task).latest
    except VoxevalError:
        return pd.DataFrame()
    rows = []
    for sid, record in records.items():
        error = record.get("error")
        row = {
            "sample_id": sid,
            "reference": _reference(record),
            "prediction": _prediction(record),
            "error": f"{error.get('kind')}: {error.get('message')}" if error else None,
        }
        if kind == "asr" and not error:
            for metric in ASR_METRICS:
                rate = error_rate(
                    row["reference"], row["prediction"], metric, normalizers.get(metric)
                )
                row[f"{metric} (%)"] = rate * 100
        judge = judged.get(sid)
        if judge is not None:
            row["judge score"] = judge.get("score")
            row["judge rationale"] = "\n---\n".join(map(str, judge.get("replies") or []))
        rows.append(row)
    return pd.DataFrame(rows)


def task_samples(root: Path, tidy: pd.DataFrame, task: str, models: list[str]) -> pd.DataFrame:
    """Long table (sample × model) for the chosen models' latest runs of `task`."""
    frames = []
    for model in models:
        rows = tidy[(tidy["model"] == model) & (tidy["task"] == task)]
        if rows.empty:
            continue
        first = rows.iloc[0]
        normalizers = dict(zip(rows["metric"], rows["normalizer"], strict=True))
        part = model_samples(Path(root) / first["path"], task, first["kind"], normalizers)
        if not part.empty:
            frames.append(part.assign(model=model))
    if not frames:
        return pd.DataFrame(columns=["sample_id", "model", "reference", "prediction"])
    out = pd.concat(frames, ignore_index=True).sort_values(["sample_id", "model"], kind="stable")
    first_cols = ["sample_id", "model", "reference", "prediction"]
    return out[first_cols + [c for c in out.columns if c not in first_cols]].reset_index(drop=True)


@cache
def _bundled_demo_audio() -> dict[str, Path]:
    root = Path(str(resources.files("voxeval.tasks.demo_asr").joinpath("data"))).resolve()
    out = {}
    for entry in read_jsonl(root / "manifest.jsonl"):
        path = (root / str(entry.get("audio", ""))).resolve()
        if "id" in entry and path.is_relative_to(root) and path.is_file():
            out[str(entry["id"])] = path
    return out


def resolve_audio(task: str, dataset_source: str | None, sample_id: str) -> Path | None:
    """The audio file of a bundled demo-asr sample, else None.

    Only voxeval's own bundled clips are served: a run's `dataset.source` comes from a
    results folder, which is untrusted, so it never chooses a file to open.
    """
    if task != "demo-asr" or dataset_source != "bundled":
        return None
    return _bundled_demo_audio().get(sample_id)
