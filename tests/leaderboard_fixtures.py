"""Synthetic, schema-valid results folders for the leaderboard tests, bench and screenshot.

Models and tasks are fictional (names say so); numbers are made up to exercise the board:
missing results, several runs of one model+task, a failed newer run, a hostile model name,
breakdowns, timing, usage and cards. `add_demo_runs` makes real mock-adapter runs on the
bundled demo-asr set and publishes them (they land in results/demo/).
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

HOSTILE = "<script>alert(1)</script>"
T0 = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)

TASKS: dict[str, dict[str, Any]] = {
    "asr-clean": {"kind": "asr", "family": "ASR-Suite", "metrics": {"wer": False, "cer": False}},
    "asr-far": {"kind": "asr", "family": "ASR-Suite", "metrics": {"wer": False}},
    "emotion-cls": {
        "kind": "classification",
        "family": "Emotion-Suite",
        "metrics": {"uar": True, "accuracy": True},
    },
    "emotion-ccc": {"kind": "regression", "family": "Emotion-Suite", "metrics": {"ccc": True}},
    "dialogue": {"kind": "dialogue", "family": "Dialogue-Suite", "metrics": {"judge": True}},
}
BREAKDOWNS = {
    "asr-clean": ("accent", ["us", "uk", "in"]),
    "asr-far": ("distance", ["near", "mid", "far"]),
    "emotion-cls": ("emotion", ["angry", "happy", "sad"]),
    "emotion-ccc": ("age", ["child", "adult"]),
    "dialogue": ("shout_level", ["shout", "no-shout"]),
}
# model label → (run.json model record, card or None, {task: primary value})
MODELS: dict[str, tuple[dict[str, Any], dict[str, Any] | None, dict[str, float]]] = {
    "AudioChat Large": (
        {"name": "openai", "adapter": "OpenAIAdapter", "args": {"model": "audiochat-large"}},
        {"display_name": "AudioChat Large", "open_weights": False, "architecture": "end-to-end"},
        {"asr-clean": 0.062, "asr-far": 0.19, "emotion-cls": 0.58, "emotion-ccc": 0.41},
    ),
    "Whisper small (CT2)": (
        {
            "name": "faster-whisper",
            "adapter": "FasterWhisperAdapter",
            "args": {"model": "/models/whisper-small-ct2"},
        },
        {
            "display_name": "Whisper small (CT2)",
            "parameters": "244M",
            "open_weights": True,
            "licence": "MIT",
            "architecture": "end-to-end",
            "hardware": "CPU, 2 cores",
            "url": "https://example.org/whisper-small",
        },
        {"asr-clean": 0.048, "asr-far": 0.27},
    ),
    "Acme Audio-LM 7B": (
        {"name": "hf-audio-lm", "adapter": "HFChatAdapter", "args": {"model": "acme/audio-lm-7b"}},
        {
            "display_name": "Acme Audio-LM 7B",
            "parameters": "7B",
            "open_weights": True,
            "licence": "apache-2.0",
            "architecture": "end-to-end",
        },
        {"asr-clean": 0.091, "emotion-cls": 0.49, "emotion-ccc": 0.52, "dialogue": 6.8},
    ),
    "cascade (asr=faster-whisper, llm=openai)": (
        {
            "name": "cascade",
            "adapter": "CascadeAdapter",
            "args": {"asr": "faster-whisper", "llm": "openai"},
        },
        {"architecture": "cascade", "open_weights": False},
        {"emotion-cls": 0.37, "dialogue": 7.4},
    ),
    "pocketsphinx": (
        {"name": "pocketsphinx", "adapter": "PocketsphinxAdapter", "args": {}},
        None,
        {"asr-clean": 0.21, "asr-far": 0.52},
    ),
}
HOSTILE_MODEL = ({"name": HOSTILE, "adapter": "MockAdapter", "args": {}}, None, {"dialogue": 3.1})
SENTENCES = [
    "the bakery on the corner sells fresh bread",
    "please remember to water the plants",
    "my brother borrowed my umbrella",
    "the train leaves at seven in the morning",
    "she painted the kitchen a pale shade of green",
    "we walked along the river after dinner",
    "turn left at the second traffic light",
    "the meeting was moved to thursday afternoon",
    "he forgot his keys on the kitchen table",
    "children were playing football in the park",
    "a cold wind blew across the empty field",
    "the library closes early on sundays",
]


# Each fixture metric's range, as the real metric declares it (the reader enforces it).
RANGES = {"wer": (0, math.inf), "cer": (0, math.inf), "ccc": (-1, 1), "judge": (1, 10)}


def metric(
    value: float, higher_is_better: bool, n: int, spread: float | None = None, name: str = ""
) -> dict:
    """A MetricValue dict with a CI of width ~1/sqrt(n), clipped to the metric's range."""
    half = spread if spread is not None else abs(value) * 1.5 / math.sqrt(max(n, 1)) + 0.005
    low, high = RANGES.get(name, (0, 1))
    return {
        "value": value,
        "ci_low": max(low, value - half),
        "ci_high": min(high, value + half),
        "n": n,
        "higher_is_better": higher_is_better,
        "params": {"scale": [1, 10]} if name == "judge" else {},
        "details": {},
    }


def task_result(name: str, value: float, n: int = 120, demo: bool = False) -> dict[str, Any]:
    """A TaskResult dict for one of TASKS with its primary metric at `value`."""
    spec = TASKS[name]
    metrics = {}
    for i, (m, hib) in enumerate(spec["metrics"].items()):
        metrics[m] = metric(value * (0.45 if m == "cer" else 1.0) + 0.03 * i * hib, hib, n, name=m)
    field, groups = BREAKDOWNS[name]
    breakdowns = {
        field: {
            g: {
                m: metric(
                    v["value"] * (1 + 0.2 * k), v["higher_is_better"], n // len(groups), name=m
                )
                for m, v in metrics.items()
            }
            for k, g in enumerate(groups)
        }
    }
    audio_s = n * 4.2
    model_s = audio_s / (40 if spec["kind"] == "asr" else 12) * (1 + value)
    return {
        "task": name,
        "task_version": "1",
        "kind": spec["kind"],
        "dataset": {
            "id": f"fixture/{spec['family']}",
            "split": "test",
            "content_hash": "ab" * 32,
            "demo": demo,
            "n": n,
            "n_available": n,
        },
        "samples_file": f"samples-{name}.jsonl",
        "metrics": metrics,
        "breakdowns": breakdowns,
        "n_samples": n,
        "n_scored": n,
        "n_errors": 0,
        "timing": {
            "wall_s": model_s * 1.1,
            "model_s": model_s,
            "audio_s": audio_s,
            "rtfx": audio_s / model_s,
        },
        "usage": {
            "input_tokens": n * 300,
            "output_tokens": n * 20,
            "cost_usd": round(n * 0.0004, 4),
        },
    }


def run_record(
    model: dict[str, Any],
    tasks: dict[str, dict],
    when: datetime,
    status: str = "success",
    run_id: str | None = None,
) -> dict[str, Any]:
    """A RunResult dict (valid against voxeval.results.RunResult)."""
    return {
        "schema_version": 1,
        "run_id": run_id or when.strftime("%Y%m%dT%H%M%SZ") + "-fixture",
        "status": status,
        "fingerprint": "f" * 64,
        "created_at": when.isoformat(),
        "finished_at": (when + timedelta(minutes=5)).isoformat() if status != "started" else None,
        "voxeval_version": "0.1.0",
        "model": {**model, "revision": None, "info": {}},
        "tasks": tasks,
        "error": "RuntimeError: boom" if status == "error" else None,
    }


def write_run(
    root: Path, run: dict[str, Any], card: dict | None = None, layer: str = "runs"
) -> Path:
    """Write run.json (and card.json) to root/layer/<model>/<run_id>/; return the folder."""
    import re

    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", run["model"]["name"]).strip("._") or "unnamed"
    run_dir = root / layer / safe / run["run_id"]
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "run.json").write_text(json.dumps(run, indent=1), encoding="utf-8")
    if card is not None:
        (run_dir / "card.json").write_text(json.dumps(card), encoding="utf-8")
    return run_dir


def write_asr_samples(run_dir: Path, task: str, drop_every: int) -> None:
    """A samples JSONL whose predictions drop every `drop_every`-th word."""
    lines = []
    for i, ref in enumerate(SENTENCES):
        words = ref.split()
        hyp = " ".join(w for j, w in enumerate(words) if (i + j) % drop_every)
        record = {
            "sample_id": f"s{i:03d}",
            "task": task,
            "references": [ref],
            "labels": {},
            "metadata": {"accent": ["us", "uk", "in"][i % 3]},
            "prediction": {"text": hyp},
            "audio_s": 3.0,
            "model_s": 0.2,
            "usage": None,
            "error": None,
        }
        lines.append(json.dumps(record))
    (run_dir / f"samples-{task}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_dialogue_samples(run_dir: Path, with_judge: bool) -> None:
    """Dialogue samples (free-text replies) and, optionally, a judge JSONL with rationales."""
    samples, judged = [], []
    for i, ref in enumerate(SENTENCES[:6]):
        reply = f"I hear you. {ref.capitalize()}? That sounds important."
        samples.append(
            {
                "sample_id": f"d{i:03d}",
                "task": "dialogue",
                "references": [ref],
                "labels": {},
                "metadata": {},
                "prediction": {"text": reply},
                "audio_s": 3.0,
                "model_s": 0.9,
                "usage": None,
                "error": None,
            }
        )
        judged.append(
            {
                "sample_id": f"d{i:03d}",
                "score": 6.0 + i % 3,
                "ratings": [6.0 + i % 3],
                "replies": [f"The reply is warm but generic. Rating: [[{6 + i % 3}]]"],
            }
        )
    (run_dir / "samples-dialogue.jsonl").write_text(
        "".join(json.dumps(s) + "\n" for s in samples), encoding="utf-8"
    )
    if with_judge:
        (run_dir / "judge-dialogue.jsonl").write_text(
            "".join(json.dumps(j) + "\n" for j in judged), encoding="utf-8"
        )


def build_results(root: Path, hostile: bool = True) -> Path:
    """The standard fixture board under `root` (benchmark results only)."""
    models = dict(MODELS)
    if hostile:
        models[HOSTILE] = HOSTILE_MODEL
    for k, (label, (model, card, values)) in enumerate(models.items()):
        when = T0 + timedelta(days=k)
        tasks = {t: task_result(t, v) for t, v in values.items()}
        run_dir = write_run(root, run_record(model, tasks, when), card)
        for task in tasks:
            if task.startswith("asr"):
                write_asr_samples(run_dir, task, drop_every=3 + k)
            if task == "dialogue":
                write_dialogue_samples(run_dir, with_judge=label != HOSTILE)
    _add_history(root)
    return root


def _add_history(root: Path) -> None:
    """pocketsphinx: an older worse asr-clean run and a newer failed one (both not shown)."""
    model = MODELS["pocketsphinx"][0]
    old = {"asr-clean": task_result("asr-clean", 0.35)}
    write_run(root, run_record(model, old, T0 - timedelta(days=30), run_id="20251201T000000Z-old"))
    new = {"asr-clean": task_result("asr-clean", 0.99)}
    write_run(
        root,
        run_record(
            model, new, T0 + timedelta(days=60), status="error", run_id="20260310T000000Z-failed"
        ),
    )


def add_demo_runs(root: Path, work: Path, mock: Any, limit: int = 12) -> list[Path]:
    """Two real mock runs on demo-asr (a good and a sloppy 'model'), published to root."""
    from voxeval.publish import publish_run
    from voxeval.runner import RunConfig, run_evaluation
    from voxeval.types import Response

    manifest = Path(__file__).resolve().parents[1] / "tasks/demo_asr/data/manifest.jsonl"
    refs = {e["id"]: e["text"] for e in map(json.loads, manifest.read_text().splitlines())}
    published = []
    for name, keep in (("mock-good", 1.0), ("mock-sloppy", 0.6)):

        def answer(item: Any, keep: float = keep) -> Response:
            words = refs[item.sample_id].split()
            return Response(text=" ".join(words[: max(1, round(len(words) * keep))]))

        mock.default = staticmethod(answer)
        _, run_dir = run_evaluation(
            RunConfig(
                model="mock",
                tasks=["demo-asr"],
                limit=limit,
                output_dir=work,
                model_args={"tag": name},
            )
        )
        data = json.loads((run_dir / "run.json").read_text())
        data["model"]["name"] = name
        (run_dir / "run.json").write_text(json.dumps(data, indent=1))
        published.append(publish_run(run_dir, root).dest)
    return published
