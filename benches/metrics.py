"""Bootstrap cost: every metric's value alone vs the value with its 1,000-resample CI.

For n = 10,000 seeded samples, per registered metric (best of --repeats):
  once    `sample_stats` + `aggregate` (the value, no interval)
  before  `compute()` on the bootstrap paths as they were before issue 16 (`previous_paths`:
          the gathered, re-ranked Spearman and emotion_spearman resamples and the
          all-at-once index draw)
  after   `compute()` now
and prints after / once (target: ≤ 20x), before / once, and `same`: whether value and CI bounds
are bit for bit equal on both paths ("1 ulp": a bound summed in another order rounds one
unit in the last place apart; a paired delta's gap counts in ulps of the values it
subtracts). Every exact bootstrap draws the same 1,000 × n indices, so
`draw` (drawing them) and `count` (drawing and counting them per row) are floors: their
ratios to `once` are printed too. `rank` adds what re-ranking a resample from its counts
cannot skip, the floor of the `counts` path: a running sum along each side's order, one of
them through a permutation. WER/CER use normalizer="none" so that text normalisation
does not hide the bootstrap's cost. The same follows for the paired bootstrap
(`compare_predictions` vs two values).

    .venv/bin/python benches/metrics.py [--n 10000] [--repeats 3] [--metrics a,b] [--no-paired]
"""

from __future__ import annotations

import argparse
import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

os.environ.setdefault("VOXEVAL_PLUGINS", "")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

from voxeval import stats
from voxeval.metrics import METRICS, Metric, compute, get_metric
from voxeval.paired import compare_predictions

WORDS = ["the", "cat", "sat", "on", "a", "mat", "with", "dog", "and", "hat", "in", "sun"]
LABELS = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]
EMOTIONS = ["Anger", "Fear", "Joy", "Sadness", "Shame"]
DIMS = ("arousal", "dominance", "valence")
Case = tuple[list[Any], list[Any], list[Any], dict[str, Any]]  # preds A, preds B, refs, params


def datasets(n: int) -> dict[str, Case]:
    """Per metric: predictions of run A, of run B, references and parameters (seeded)."""
    rng = np.random.default_rng(0)
    truth = rng.normal(5.0, 2.0, n)
    scores = [(truth + rng.normal(0, s, n)).tolist() for s in (1.5, 1.2)]
    numeric = (*scores, truth.tolist(), {})
    refs = rng.choice(LABELS, n).tolist()
    labels = [
        [r if rng.random() < p else str(rng.choice(LABELS)) for r in refs] for p in (0.6, 0.65)
    ]
    sentences = [" ".join(rng.choice(WORDS, rng.integers(3, 15))) for _ in range(n)]
    hyps = [[_garble(s, p, rng) for s in sentences] for p in (0.15, 0.10)]
    emotions = rng.choice(EMOTIONS, n).tolist()
    rated = [{"value": v, "emotion": e} for v, e in zip(truth.tolist(), emotions, strict=True)]
    dims = [[dict(zip(DIMS, row, strict=True)) for row in rng.random((n, 3))] for _ in range(3)]
    cases: dict[str, Case] = {}
    for name in ("accuracy", "uar", "macro_f1"):
        cases[name] = (*labels, refs, {"labels": LABELS})
    cases["refusal_rate"] = (*[(rng.random(n) < p).tolist() for p in (0.1, 0.12)], [None] * n, {})
    cases.update(dict.fromkeys(("ccc", "pearson", "spearman", "mae", "rmse"), numeric))
    for name in ("wer", "cer"):
        cases[name] = (*hyps, sentences, {"normalizer": "none"})
    for name in ("bleu", "rouge_l", "meteor", "distinct_1", "distinct_2"):
        cases[name] = (*hyps, [[s] for s in sentences], {})
    per_emotion = [{**r, "aggregate": "per_emotion"} for r in rated]
    for base in ("spearman", "pearson", "mae", "rmse"):
        cases[f"emotion_{base}"] = (*scores, rated, {})
        cases[f"emotion_{base}:per_emotion"] = (*scores, per_emotion, {})
    cases["ccc_mean"] = (*dims[:2], dims[2], {})
    return cases


def _garble(text: str, p: float, rng: np.random.Generator) -> str:
    return " ".join(w if rng.random() > p else str(rng.choice(WORDS)) for w in text.split())


def _previous_sum_distribution(
    sample_stats: np.ndarray,
    aggregate_sums: Callable[[np.ndarray, int], np.ndarray],
    n_resamples: int = stats.DEFAULT_RESAMPLES,
    seed: int = stats.DEFAULT_SEED,
) -> np.ndarray:
    """`stats.bootstrap_sum_distribution` as it was: all of a chunk's indices drawn at once."""
    n = sample_stats.shape[0]
    rng = np.random.default_rng(seed)
    per_chunk = max(1, stats._CHUNK_ELEMENTS // max(1, n))
    values = []
    for start in range(0, n_resamples, per_chunk):
        b = min(per_chunk, n_resamples - start)
        idx = rng.integers(0, n, size=(b, n))
        counts = np.empty((b, n))
        for row in range(b):
            counts[row] = np.bincount(idx[row], minlength=n)
        values.append(aggregate_sums(counts @ sample_stats, n))
    return np.concatenate(values) if values else np.empty(0)


@contextmanager
def previous_paths() -> Iterator[None]:
    """Run the bootstrap as before issue 16: every counting metric (the Spearmans) gathers
    and re-ranks every resample."""
    saved_sums = stats.bootstrap_sum_distribution
    stats.bootstrap_sum_distribution = _previous_sum_distribution
    counted = {type(m) for m in METRICS.items().values() if path(m.name) == "counts"}
    saved = {cls: cls.count_aggregate for cls in counted}
    for cls in counted:
        cls.count_aggregate = Metric.count_aggregate
    try:
        yield
    finally:
        stats.bootstrap_sum_distribution = saved_sums
        for cls, method in saved.items():
            cls.count_aggregate = method


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Wall-clock seconds of fn() and its result."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def best_of(repeats: int, fn: Callable[[], Any]) -> float:
    """The fastest of `repeats` wall-clock timings of fn()."""
    return min(timed(fn)[0] for _ in range(repeats))


def before_and_after(repeats: int, fn: Callable[[], Any]) -> tuple[float, float, Any, Any]:
    """Best times of fn() on the previous and current paths (interleaved), and the results."""
    before, after = [], []
    for _ in range(repeats):
        with previous_paths():
            before.append(timed(fn))
        after.append(timed(fn))
    return min(t for t, _ in before), min(t for t, _ in after), before[-1][1], after[-1][1]


def value_once(name: str, preds: list[Any], refs: list[Any], params: dict[str, Any]) -> float:
    """The metric's value without an interval."""
    metric = get_metric(name)
    return float(metric.aggregate(metric.sample_stats(preds, refs, **params)[None])[0])


def path(name: str) -> str:
    """How the metric's bootstrap runs now."""
    metric = get_metric(name)
    if type(metric).count_aggregate is not Metric.count_aggregate:
        return "counts"
    if type(metric).bootstrap_distribution is not Metric.bootstrap_distribution:
        return "own"
    return "matmul" if metric.sum_decomposable else "gather"


def _fields(result: Any) -> tuple[Any, ...]:
    names = ("value", "delta", "ci_low", "ci_high", "p_value")
    return tuple(getattr(result, f) for f in names if hasattr(result, f))


def _scale(result: Any) -> float:
    """The magnitude a rounding gap is measured against: a delta's CI bound is a difference
    of two values, so one ulp of those values is many ulps of a small difference."""
    values = [abs(getattr(result, f, None) or 0.0) for f in ("value_a", "value_b")]
    return max(values, default=0.0)


def _sameness(old: tuple[Any, ...], new: tuple[Any, ...], scale: float = 0.0) -> str:
    """ "yes" when bit for bit equal; else the largest gap in units in the last place (sums
    taken in another order round differently), or "NO" past 4 ulp or on a None mismatch."""
    if old == new:
        return "yes"
    if any((a is None) != (b is None) for a, b in zip(old, new, strict=True)):
        return "NO"
    gaps = [
        abs(a - b) / math.ulp(max(abs(a), abs(b), scale))
        for a, b in zip(old, new, strict=True)
        if a
    ]
    worst = max(gaps, default=0.0)
    if worst < 1:
        return "<1 ulp"
    return f"{worst:.0f} ulp" if worst <= 4 else "NO"


def row(label: str, case: Case, repeats: int, paired: bool, floors: tuple[float, ...]) -> str:
    """One metric's timings, ratios and equality check, formatted (label: metric[:variant])."""
    name = _metric(label)
    preds_a, preds_b, refs, params = case
    if paired:
        once = best_of(
            repeats,
            lambda: (
                value_once(name, preds_a, refs, params),
                value_once(name, preds_b, refs, params),
            ),
        )
        fn = lambda: compare_predictions(name, preds_a, preds_b, refs, **params)  # noqa: E731
    else:
        once = best_of(repeats, lambda: value_once(name, preds_a, refs, params))
        fn = lambda: compute(name, preds_a, refs, **params)  # noqa: E731
    before, after, old, new = before_and_after(repeats, fn)
    same = _sameness(_fields(old), _fields(new), _scale(new))
    draw, count, rank = (f / once for f in floors)
    return (
        f"{label:<28} {path(name):<6} {once * 1e3:8.1f} {before * 1e3:9.1f} {after * 1e3:9.1f} "
        f"{before / once:7.1f}x {after / once:7.1f}x "
        f"{draw:6.1f}x {count:6.1f}x {rank:6.1f}x  {same}"
    )


def _rank_both_sides(n: int, n_resamples: int, rows: int) -> None:
    """The `rank` floor: draw and count, then one running sum per side, one permuted."""
    permutation = np.random.default_rng(1).permutation(n)
    for counts in stats.resample_counts(n, n_resamples, 0, rows):
        np.cumsum(counts, axis=1)
        np.cumsum(np.take(counts, permutation, axis=1), axis=1)


def _metric(label: str) -> str:
    return label.split(":")[0]


def main() -> None:
    """Time every metric on the previous and current paths and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--metrics", help="comma-separated names (default: every metric)")
    parser.add_argument("--no-paired", action="store_true")
    args = parser.parse_args()
    cases = datasets(args.n)
    registered = list(METRICS.items())
    names = (
        args.metrics.split(",")
        if args.metrics
        else [c for m in registered for c in cases if _metric(c) == m]
    )
    n, b = args.n, stats.DEFAULT_RESAMPLES
    draw = best_of(args.repeats, lambda: np.random.default_rng(0).integers(0, n, size=(b, n)))
    rows = max(1, stats._COUNT_ELEMENTS // n)
    count = best_of(args.repeats, lambda: list(stats.resample_counts(n, b, 0, rows)))
    rank = best_of(args.repeats, lambda: _rank_both_sides(n, b, rows))
    print(f"n = {n:,} samples, {b:,} resamples, best of {args.repeats}")
    print(
        f"floors: draw the indices {draw * 1e3:.1f} ms; draw and count them {count * 1e3:.1f} ms;"
        f" and rank both sides {rank * 1e3:.1f} ms"
    )
    if missing := [m for m in registered if m not in cases]:
        print(f"no bench data for: {', '.join(missing)}")
    header = (
        f"{'metric':<28} {'path':<6} {'once ms':>8} {'before ms':>9} {'after ms':>9} "
        f"{'before':>8} {'after':>8} {'draw':>7} {'count':>7} {'rank':>7}  same"
    )
    sections = [("single run: compute() vs value", False)]
    if not args.no_paired:
        sections.append(("paired: compare_predictions() vs two values", True))
    for title, paired in sections:
        print(f"\n{title}\n{header}", flush=True)
        for name in names:
            # One draw serves both runs of a paired comparison: the floors are the same.
            print(row(name, cases[name], args.repeats, paired, (draw, count, rank)), flush=True)


if __name__ == "__main__":
    main()
