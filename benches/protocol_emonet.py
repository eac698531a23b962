"""EmoNet-Voice scoring protocols side by side: one fixed set of predictions, every option.

A synthetic bench shaped like the released one (40 emotions x 300 clips, one rated emotion per
clip, the paper's rating procedure: two experts, a third when both heard the emotion, a few
extra raters at random) is written as labels.jsonl and read by the real loader under each
`agreement` / `min_raters` option. One seeded synthetic model (emotion-specific bias, integer
answers, some refusals) answers every clip once; its answers are then scored by the task's own
scoring rows and metrics with labels.aggregate = pooled and = per_emotion (what the `aggregate`
option writes into every sample). Prints a markdown table with n.

The second table checks the paper: the unweighted mean of each model's per-emotion Spearman
(Table 6, as printed) next to the Spearman the paper reports for it (Table 5).

    .venv/bin/python benches/protocol_emonet.py [--clips-per-emotion 300] [--resamples 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("VOXEVAL_PLUGINS", "")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

from voxeval.metrics import get_metric, summarize
from voxeval.scoring import field_value, to_value
from voxeval.tasks.emonet_voice import EMOTIONS, EmoNetVoice

OPTIONS = [  # (agreement, min_raters)
    ("all", 1),
    ("all", 3),
    ("present", 1),
    ("present", 3),
    ("unanimous", 1),
    ("unanimous", 3),
]
METRICS = ("spearman", "pearson", "mae", "rmse")


def write_bench(root: Path, per_emotion: int, rng: np.random.Generator) -> Path:
    """labels.jsonl: one target emotion per clip, rated 0/1/2 by 2-4 simulated experts."""
    rows = []
    for e, emotion in enumerate(EMOTIONS):
        ambiguity = 0.45 + 0.5 * rng.random()  # some emotions split experts more than others
        for i in range(per_emotion):
            latent = float(np.clip(rng.normal(0.55 + 0.5 * (e % 5) / 4, 0.7), 0, 2))
            raters = 2 + (rng.random() < 0.1)  # a random extra opinion, as in the paper
            scores = [_rate(latent, ambiguity, rng) for _ in range(raters)]
            if raters == 2 and min(scores) >= 1:  # both heard it: a third expert confirms
                scores.append(_rate(latent, ambiguity, rng))
            if rng.random() < 0.03:
                scores.append(_rate(latent, ambiguity, rng))
            label = [{f"human-{k}": {emotion: s}} for k, s in enumerate(scores, 1)]
            rows.append({"audioId": f"e{e:02d}-{i:04d}.wav", "label": repr(label)})
    with (root / "labels.jsonl").open("w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(row) + "\n" for row in rows)
    return root


def _rate(latent: float, ambiguity: float, rng: np.random.Generator) -> int:
    """One expert's 0/1/2: the clip's latent intensity plus that emotion's disagreement."""
    return int(np.clip(np.rint(latent + rng.normal(0, ambiguity)), 0, 2))


def model_answers(root: Path, rng: np.random.Generator) -> dict[str, dict[str, Any]]:
    """One fixed answer per clip: 40 integer scores, biased per emotion; 3% refuse."""
    bias = rng.normal(0, 1.5, len(EMOTIONS))
    answers = {}
    for clip in EmoNetVoice(root).samples():
        (emotion, ref), *_ = clip.labels["intensity"].items()
        e = EMOTIONS.index(emotion)
        if rng.random() < 0.03:
            answers[clip.id] = {"text": "I cannot determine emotions from a voice recording."}
            continue
        value = 0.5 * ref + 2.5 + bias[e] + rng.normal(0, 3.0)
        answers[clip.id] = {"scores": {emotion: float(np.clip(np.rint(value), 0, 10))}}
    return answers


def records(root: Path, answers: dict, options: dict) -> tuple[list[dict], dict]:
    """Sample records as a run writes them (the loader applies the agreement filter)."""
    task = EmoNetVoice(root, options)
    out = [
        {"sample_id": s.id, "prediction": answers[s.id], "labels": s.labels, "metadata": {}}
        for s in task.samples()
    ]
    return out, task.dataset().preprocessing


def score(records: list[dict], aggregate: str, resamples: int) -> dict[str, Any]:
    """The task's own scoring rows and metrics (no breakdowns) with labels.aggregate set."""
    moded = [{**r, "labels": {**r["labels"], "aggregate": aggregate}} for r in records]
    rows = EmoNetVoice.scoring_rows(moded)
    out = {}
    for spec in EmoNetVoice.metrics[:4]:
        metric = get_metric(spec.metric)
        preds = [field_value(r, spec.prediction) for r in rows]
        refs = [field_value(r, spec.reference) for r in rows]
        stats = metric.sample_stats(preds, refs)
        params = metric.resolved_params()
        out[spec.result_name] = to_value(summarize(metric, stats, params, n_resamples=resamples))
    return out


def protocol_table(root: Path, answers: dict, resamples: int) -> list[str]:
    """Markdown rows: per agreement option, every metric pooled and per emotion."""
    head = "| agreement | min_raters | clips | rows | emotions |"
    for m in METRICS:
        head += f" {m} pooled | {m} per-emotion |"
    lines = [head, "|" + "---|" * (5 + 2 * len(METRICS))]
    for agreement, least in OPTIONS:
        kept, pre = records(root, answers, {"agreement": agreement, "min_raters": least})
        pooled, per = (score(kept, mode, resamples) for mode in ("pooled", "per_emotion"))
        cells = [agreement, str(least), str(pre["clips_kept"]), str(pre["rows_kept"])]
        cells.append(str(per["spearman"].details["n_emotions"]))
        for m in METRICS:
            cells += [_cell(pooled[m]), _cell(per[m])]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _cell(value: Any) -> str:
    """A value with its CI, or a dash when undefined."""
    if value.value is None:
        return "—"
    ci = f" [{value.ci_low:.3f}, {value.ci_high:.3f}]" if value.ci_low is not None else ""
    return f"{value.value:.3f}{ci}"


# Table 6 of the paper (Spearman by emotion in its row order, columns as in MODELS, "nan"
# where it prints NaN) and the Spearman of Table 5, as printed in the later arXiv revision
# of 2506.09827 (the one whose abstract gives the bench as 4.7k unanimous samples).
MODELS = (
    "GPT-4o Mini Audio",
    "GPT-4o Audio",
    "Hume Voice",
    "Gemini 2.0 Flash",
    "Gemini 2.5 Pro",
    "EmpathicInsight-Voice Small",
    "EmpathicInsight-Voice Large",
)
TABLE5 = (0.326, 0.337, 0.274, 0.355, 0.417, 0.418, 0.415)
TABLE6 = """
.569 .636 nan .556 .626 .649 .662
.550 .637 .416 .529 .618 .669 .678
.496 .555 .418 .526 .602 .578 .577
.455 .471 nan .448 .504 .554 .570
.345 nan nan .333 .529 .562 .615
.437 .393 .441 .419 .516 .552 .558
.470 .404 .357 .466 .529 .483 .521
.347 .375 nan .462 .483 .536 .535
.487 nan nan .454 .459 .451 .428
.364 nan nan .342 .462 .538 .529
.421 .493 .330 .419 .483 .419 .460
.412 .433 .324 .407 .466 .478 .469
.355 .367 .437 .353 .441 .470 .458
.412 .362 .380 .355 .432 .454 .462
.317 .361 .398 .349 .463 .462 .501
.365 .345 .370 .386 .413 .472 .474
.334 .361 .264 .425 .487 .469 .471
.390 .330 .313 .344 .466 .475 .487
.348 .308 .259 .415 .482 .484 .474
.379 .339 .331 .358 .451 .423 .451
.301 .466 .249 .370 .426 .432 .461
.379 .347 .241 .403 .402 .459 .463
.333 .279 .216 .370 .482 .460 .455
.315 .317 nan .354 .413 .392 .408
.330 .324 nan .286 .360 .411 .404
.221 nan nan .297 .400 .455 .384
.297 nan nan .281 .418 .358 .379
.198 nan nan .269 .241 .486 .487
.374 .369 -.138 .375 .450 .432 .430
.203 .279 nan .356 .450 .332 .334
.310 .390 .182 .330 .349 .359 .356
.289 .330 .214 .326 .348 .365 .350
.298 .276 .058 .314 .314 .329 .332
.250 nan nan .175 .203 .345 .343
.158 .180 nan .250 .303 .331 .323
.161 .169 .119 .148 .287 .351 .315
.187 .128 .177 .252 .282 .263 .247
-.044 -.019 .195 .140 .224 .231 .330
.139 .092 nan .099 .125 .139 .145
.085 .019 .262 .186 .151 .055 .068
"""


def paper_table() -> list[str]:
    """Markdown rows: Table 5's Spearman next to the mean of Table 6's column, per model."""
    values = np.array([line.split() for line in TABLE6.strip().splitlines()], dtype=float)
    assert values.shape == (40, len(MODELS)), values.shape
    lines = [
        "| model | Table 5 Spearman | mean of Table 6 per-emotion ρ | emotions | difference |",
        "|---|---|---|---|---|",
    ]
    for j, model in enumerate(MODELS):
        column = values[:, j]
        mean = float(np.nanmean(column))
        n = int(np.isfinite(column).sum())
        lines.append(f"| {model} | {TABLE5[j]:.3f} | {mean:.4f} | {n} | {mean - TABLE5[j]:+.4f} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips-per-emotion", type=int, default=300)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        root = write_bench(Path(tmp), args.clips_per_emotion, rng)
        answers = model_answers(root, rng)
        print(f"Synthetic bench: {len(answers)} clips, seed {args.seed}, 95% CIs from "
              f"{args.resamples} bootstrap resamples of rows.\n")  # fmt: skip
        print("\n".join(protocol_table(root, answers, args.resamples)))
    print("\nThe paper's own numbers (Table 5 vs the mean of Table 6's per-emotion column):\n")
    print("\n".join(paper_table()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
