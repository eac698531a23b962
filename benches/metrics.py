"""Bootstrap cost: a metric's value alone vs the value with its 1,000-resample CI.

For n = 10,000 seeded samples, times (best of 3) per metric:
  once   `sample_stats` + `aggregate` (the value, no interval)
  ci     `compute()` (the same plus the percentile-bootstrap CI, 1,000 resamples)
and prints ci / once. Target: <= 20x for mean-type (sum-decomposable) metrics. WER uses
normalizer="none" so that text normalisation does not hide the bootstrap's cost. The same is
printed for the paired bootstrap (`compare_predictions` vs two values).

    .venv/bin/python benches/metrics.py [--n 10000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("VOXEVAL_PLUGINS", "")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

from voxeval.metrics import compute, get_metric
from voxeval.paired import compare_predictions

WORDS = ["the", "cat", "sat", "on", "a", "mat", "with", "dog", "and", "hat", "in", "sun"]
LABELS = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]


def datasets(n: int) -> dict[str, tuple[list[Any], list[Any], list[Any], dict[str, Any]]]:
    """Per metric: predictions of run A, of run B, references and parameters (seeded)."""
    rng = np.random.default_rng(0)
    truth = rng.normal(5.0, 2.0, n)
    scores_a = (truth + rng.normal(0, 1.5, n)).tolist()
    scores_b = (truth + rng.normal(0, 1.2, n)).tolist()
    refs = rng.choice(LABELS, n).tolist()
    labels_a = [r if rng.random() < 0.6 else str(rng.choice(LABELS)) for r in refs]
    labels_b = [r if rng.random() < 0.65 else str(rng.choice(LABELS)) for r in refs]
    sentences = [" ".join(rng.choice(WORDS, rng.integers(3, 15))) for _ in range(n)]

    def garble(text: str, p: float) -> str:
        return " ".join(w if rng.random() > p else str(rng.choice(WORDS)) for w in text.split())

    hyps_a = [garble(s, 0.15) for s in sentences]
    hyps_b = [garble(s, 0.10) for s in sentences]
    numeric = (scores_a, scores_b, truth.tolist(), {})
    return {
        "accuracy": (labels_a, labels_b, refs, {"labels": LABELS}),
        "mae": numeric,
        "ccc": numeric,
        "spearman": numeric,
        "wer": (hyps_a, hyps_b, sentences, {"normalizer": "none"}),
    }


def best_of(repeats: int, fn: Callable[[], Any]) -> float:
    """The fastest of `repeats` wall-clock timings of fn()."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def value_once(name: str, preds: list[Any], refs: list[Any], params: dict[str, Any]) -> float:
    """The metric's value without an interval."""
    metric = get_metric(name)
    return float(metric.aggregate(metric.sample_stats(preds, refs, **params)[None])[0])


def main() -> None:
    """Time every metric and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    data = datasets(args.n)
    print(f"n = {args.n:,} samples, 1,000 resamples, best of {args.repeats}")
    header = f"{'metric':<10} {'path':<6} {'once ms':>9} {'ci ms':>9} {'ratio':>7}"
    for title, paired in (("single run: compute() vs value", False), ("paired", True)):
        print(f"\n{title}\n{header}")
        for name, (preds_a, preds_b, refs, params) in data.items():
            path = "matmul" if get_metric(name).sum_decomposable else "gather"
            if paired:
                once = best_of(
                    args.repeats,
                    lambda: (
                        value_once(name, preds_a, refs, params),  # noqa: B023
                        value_once(name, preds_b, refs, params),  # noqa: B023
                    ),
                )
                full = best_of(
                    args.repeats,
                    lambda: compare_predictions(name, preds_a, preds_b, refs, **params),  # noqa: B023
                )
            else:
                once = best_of(args.repeats, lambda: value_once(name, preds_a, refs, params))  # noqa: B023
                full = best_of(args.repeats, lambda: compute(name, preds_a, refs, **params))  # noqa: B023
            ratio = full / once
            print(f"{name:<10} {path:<6} {once * 1e3:9.1f} {full * 1e3:9.1f} {ratio:6.1f}x")


if __name__ == "__main__":
    main()
