"""Per-sample data for the sample browser: predictions, per-sample scores, judge rationales.

Read-only: samples JSONL files are parsed line by line (a bad line is skipped, never cut).
Audio is not in the samples files; demo-asr clips are found in the bundled data folder (or
the run's local data folder) by sample id, anything else has none.
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
    """The JSON objects of a JSON-lines file (missing file: none; bad lines skipped)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            out.append(record)
    return out


def latest_records(path: Path) -> dict[str, dict[str, Any]]:
    """Latest record per sample id, as the runner's resume logic reads them."""
    return {str(r.get("sample_id")): r for r in read_jsonl(path) if "sample_id" in r}


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


def _judge(run_dir: Path, task: str) -> dict[str, dict[str, Any]]:
    from voxeval.workspace import safe_name

    return latest_records(run_dir / f"judge-{safe_name(task)}.jsonl")


def model_samples(
    run_dir: Path, task: str, samples_file: str, kind: str, normalizers: dict[str, str | None]
) -> pd.DataFrame:
    """One model's samples on one task: reference, prediction, scores, judge, error."""
    judged = _judge(run_dir, task)
    rows = []
    for sid, record in latest_records(run_dir / samples_file).items():
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
        part = model_samples(
            Path(root) / first["path"], task, first["samples_file"], first["kind"], normalizers
        )
        if not part.empty:
            frames.append(part.assign(model=model))
    if not frames:
        return pd.DataFrame(columns=["sample_id", "model", "reference", "prediction"])
    out = pd.concat(frames, ignore_index=True).sort_values(["sample_id", "model"], kind="stable")
    first_cols = ["sample_id", "model", "reference", "prediction"]
    return out[first_cols + [c for c in out.columns if c not in first_cols]].reset_index(drop=True)


@cache
def _manifest(root: str) -> dict[str, Path]:
    out = {}
    for entry in read_jsonl(Path(root) / "manifest.jsonl"):
        if "id" in entry and "audio" in entry:
            out[str(entry["id"])] = Path(root) / str(entry["audio"])
    return out


def resolve_audio(task: str, dataset_source: str | None, sample_id: str) -> Path | None:
    """The audio file of a demo-asr sample (bundled or local data folder), else None."""
    if task != "demo-asr" or not dataset_source:
        return None
    if dataset_source == "bundled":
        root = str(resources.files("voxeval.tasks.demo_asr").joinpath("data"))
    else:
        root = dataset_source
    path = _manifest(root).get(sample_id)
    return path if path is not None and path.is_file() else None
