"""Find run folders under a results directory and keep a parquet index of their numbers.

Layout: `<root>/<layer>/<model>/<run_id>/run.json`, layer runs, unofficial or demo (what
`voxeval publish` writes); a plain `voxeval run` output folder
(`<root>/<model>/<run_id>/run.json`) works too. Each row's `layer` is "demo" for demo data,
"unofficial" under unofficial/, "official" otherwise. Symbolic links are not followed. Each run is
read through voxeval's one results reader, so a folder that fails validation is listed as
a problem, never shown. The index holds one row per run × task × metric and each run's
(mtime, size) signature; a load re-parses only run folders whose run.json or card.json
changed, so 10,000 runs load from one parquet file. It lives in the user's cache, never in
the results folder: reading results writes nothing there.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from voxeval.leaderboard.identity import is_demo_run, is_hosted, model_key, parse_parameters

INDEX_VERSION = 4  # 2: validated runs only; 3: metric_kind, layer; 4: card paper
INDEX_FILE = f"index-v{INDEX_VERSION}.parquet"
RUN_FILE, CARD_FILE = "run.json", "card.json"
LAYERS = ("runs", "unofficial", "demo")
SIGNATURE = ["mtime_ns", "size", "card_mtime_ns"]
Signature = tuple[int, int, int]

TIMING = ("wall_s", "model_s", "audio_s", "rtfx", "load_s")
CARD_FIELDS = ("display_name", "licence", "architecture", "url", "paper")


def _dirs(path: str) -> Iterator[os.DirEntry]:
    try:
        with os.scandir(path) as it:
            yield from (
                e for e in it if not e.name.startswith(".") and e.is_dir(follow_symlinks=False)
            )
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return


def _signature(run_dir: str) -> Signature | None:
    try:
        st = os.lstat(os.path.join(run_dir, RUN_FILE))
    except OSError:
        return None
    try:
        card = os.lstat(os.path.join(run_dir, CARD_FILE)).st_mtime_ns
    except OSError:
        card = 0
    return (st.st_mtime_ns, st.st_size, card)


def _runs_of(model_dir: str, prefix: str) -> dict[str, Signature]:
    found = {}
    for run_dir in _dirs(model_dir):
        sig = _signature(run_dir.path)
        if sig is not None:
            found[f"{prefix}/{run_dir.name}"] = sig
    return found


def discover(root: Path) -> dict[str, Signature]:
    """Run folders (relative posix paths) under `root` with their file signatures."""
    jobs = []
    for top in _dirs(str(root)):
        if top.name in LAYERS:
            jobs.extend((m.path, f"{top.name}/{m.name}") for m in _dirs(top.path))
        else:
            jobs.append((top.path, top.name))
    found: dict[str, Signature] = {}
    with ThreadPoolExecutor(max_workers=4) as pool:  # os.stat releases the GIL
        for part in pool.map(lambda job: _runs_of(*job), jobs):
            found.update(part)
    return found


def _hardware(run: dict[str, Any]) -> str | None:
    hw = run.get("hardware") or {}
    parts = [hw.get("cpu"), hw.get("logical_cores") and f"{hw['logical_cores']} cores"]
    parts.append(hw.get("memory_gb") and f"{hw['memory_gb']} GB")
    return ", ".join(str(p) for p in parts if p) or None


def _layer(rel: str, demo: bool) -> str:
    """demo (demo data or demo/), unofficial (under unofficial/) or official (the rest)."""
    if demo or rel.startswith("demo/"):
        return "demo"
    return "unofficial" if rel.startswith("unofficial/") else "official"


def _run_fields(run: dict[str, Any], card: dict[str, Any], rel: str) -> dict[str, Any]:
    model = run.get("model") or {}
    open_weights = card.get("open_weights")
    demo = is_demo_run(run) or rel.startswith("demo/")
    fields = {
        "run_id": run.get("run_id"),
        "status": run.get("status"),
        "created_at": run.get("created_at"),
        "finished_at": run.get("finished_at"),
        "voxeval_version": run.get("voxeval_version"),
        "git_sha": run.get("git_sha"),
        "model_name": model.get("name"),
        "adapter": model.get("adapter"),
        "model_revision": model.get("revision"),
        "model_key": model_key(model),
        "hosted": is_hosted(model),
        "model_args": json.dumps(model.get("args") or {}, sort_keys=True, default=str),
        "hardware": card.get("hardware") or _hardware(run),
        "platform": run.get("platform"),
        "demo": demo,
        "layer": _layer(rel, demo),
        "parameters": parse_parameters(card.get("parameters")),
        "open_weights": open_weights if isinstance(open_weights, bool) else None,
    }
    for key in CARD_FIELDS:
        value = card.get(key, card.get("license") if key == "licence" else None)
        fields[key] = str(value) if value is not None else None
    return fields


def _task_fields(task: dict[str, Any]) -> dict[str, Any]:
    data, timing, usage = (
        task.get("dataset") or {},
        task.get("timing") or {},
        task.get("usage") or {},
    )
    dataset_id = data.get("id")
    fields = {
        "task_version": task.get("task_version"),
        "kind": task.get("kind"),
        "family": str(dataset_id).rsplit("/", 1)[-1] if dataset_id else None,
        "dataset_id": dataset_id,
        "dataset_split": data.get("split"),
        "dataset_revision": data.get("revision"),
        "dataset_hash": data.get("content_hash"),
        "dataset_source": data.get("source"),
        "dataset_n": data.get("n"),
        "n_samples": task.get("n_samples"),
        "n_scored": task.get("n_scored"),
        "n_errors": task.get("n_errors"),
        "samples_file": task.get("samples_file"),
        "input_tokens": usage.get("input_tokens"),
        "output_tokens": usage.get("output_tokens"),
        "cost_usd": usage.get("cost_usd"),
        "primary_metric": next(iter(task.get("metrics") or {}), None),
    }
    fields.update({k: timing.get(k) for k in TIMING})
    return fields


def _metric_rows(task: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for order, (name, m) in enumerate((task.get("metrics") or {}).items()):
        yield {
            "metric": name,
            "metric_order": order,
            "value": m.get("value"),
            "ci_low": m.get("ci_low"),
            "ci_high": m.get("ci_high"),
            "n": m.get("n"),
            "higher_is_better": bool(m.get("higher_is_better")),
            "metric_kind": m.get("metric"),  # the registered metric (units follow it)
            "normalizer": (m.get("params") or {}).get("normalizer"),
        }


def parse_run(root: Path, rel: str) -> list[dict[str, Any]]:
    """Index rows of one run folder: one per task × metric (one row if it has none)."""
    from voxeval.errors import VoxevalError
    from voxeval.results import open_run

    base: dict[str, Any] = {"path": rel, "problem": None}
    try:
        folder = open_run(root / rel)
        card = folder.card() or {}
    except VoxevalError as exc:  # shown as "unreadable", with paths relative to the root
        problem = str(exc).replace(str(root), "results")
        return [{"path": rel, "problem": problem, "layer": _layer(rel, False)}]
    run = folder.raw  # validated; the dict as parsed is cheaper than a model_dump
    base.update(_run_fields(run, card, rel))
    rows = []
    for name, task in (run.get("tasks") or {}).items():
        task_row = {**base, "task": name, **_task_fields(task)}
        rows.extend({**task_row, **m} for m in list(_metric_rows(task)) or [{}])
    return rows or [base]


def index_path(root: Path) -> Path:
    """Where the index of `root` lives: the user's cache, keyed by the folder's real path."""
    from voxeval.workspace import cache_dir

    digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return cache_dir() / "leaderboard" / digest / INDEX_FILE


def _read_index(path: Path | None) -> pd.DataFrame | None:
    if path is None or not path.is_file():
        return None
    try:
        return pd.read_parquet(path)
    except Exception:  # a corrupt or foreign index is rebuilt, never trusted
        return None


def _write_index(path: Path | None, frame: pd.DataFrame) -> None:
    if path is None:
        return
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".index-", suffix=".parquet")
        os.close(fd)
        try:
            frame.to_parquet(tmp, index=False)
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for col in ("created_at", "finished_at"):
        if col in frame:
            frame[col] = pd.to_datetime(frame[col], utc=True, errors="coerce", format="ISO8601")
    for col in ("value", "ci_low", "ci_high", "parameters", "cost_usd", *TIMING):
        if col in frame:
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    return frame


def _stale(
    old: pd.DataFrame | None, found: dict[str, Signature]
) -> tuple[pd.DataFrame, list[str], int]:
    """Rows of `old` still valid, the run folders to (re)parse, and how many disappeared."""
    if old is None or old.empty or not {"path", *SIGNATURE} <= set(old.columns):
        return pd.DataFrame(), sorted(found), 0
    paths = old["path"].to_numpy(dtype=object)
    starts = np.ones(len(paths), dtype=bool)
    starts[1:] = paths[1:] != paths[:-1]  # a run's rows are contiguous in the index
    sigs = zip(*(old[c].to_numpy()[starts].tolist() for c in SIGNATURE), strict=True)
    known = dict(zip(paths[starts].tolist(), sigs, strict=True))
    keep = {p for p, sig in found.items() if known.get(p) == sig}
    todo = sorted(set(found) - keep)
    removed = len(set(known) - set(found))
    if len(keep) == len(known):  # nothing changed or removed: the common, warm case
        return old, todo, removed
    return old[old["path"].astype(object).isin(keep)], todo, removed


def load_index(root: Path, use_cache: bool = True) -> tuple[pd.DataFrame, dict[str, int]]:
    """All index rows for `root` (every run, every status) and counts of what was parsed."""
    root = Path(root)
    found = discover(root)
    path = index_path(root) if use_cache else None
    old = _read_index(path)
    kept, todo, removed = _stale(old, found)
    new_rows = []
    for rel in todo:
        sig = dict(zip(SIGNATURE, found[rel], strict=True))
        new_rows.extend({**row, **sig} for row in parse_run(root, rel))
    frame = kept
    if new_rows:
        fresh = _frame(new_rows)
        frame = fresh if kept.empty else pd.concat([kept, fresh], ignore_index=True)
    if todo or removed:
        _write_index(path, frame)
    stats = {"runs": len(found), "parsed": len(todo), "removed": removed}
    return frame.reset_index(drop=True), stats
