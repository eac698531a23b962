"""Dialogue metrics at speed: what voxeval adds to the BLEU/ROUGE-L/METEOR/distinct-n libraries.

On the real SD-Eval manifest (each item's first target reply as the prediction, the other four
as references; no model needed), per metric, CPU seconds (time.process_time, best of --repeat).
The manifest repeats replies (1,000 items hold ~250 distinct texts), which the token memo
exploits; so a second pass makes every text distinct (a unique word appended to each), the worst
case for the memos and closer to real model replies.

  (a) voxeval's compute(): without CI (n_resamples=0) with empty memos, as the first metric of
      a scoring run pays; without CI with the memos warm, as the later metrics of that run pay;
      and with the default 1,000-resample CI;
  (b) the bare library calls on pre-tokenised input, made the way voxeval makes them (nltk
      corpus_bleu; a meteor_score loop with the memoised stemmer and WordNet; a rouge-score LCS
      loop; distinct-n has no library, so a plain Python count);
  overhead = (a) - (b) = tokenising each distinct text once (a library call too: nltk Treebank or
      rouge-score's tokeniser, timed alone) + voxeval's own code.

Then METEOR and ROUGE-L as plain nltk / rouge-score calls (default stemmer, scorer.score per
reference, no memos; one run each), which is what the memos save, and the WordNet load in a
fresh process.

    .venv/bin/python benches/dialogue_metrics.py [--data ../shared/data/sd-eval] [--n 1000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from voxeval.metrics import compute
from voxeval.metrics import text_tools as tools

NAMES = ("bleu", "rouge_l", "meteor", "distinct_1", "distinct_2")
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "sd-eval"
# Each runs in a fresh interpreter; it prints CPU seconds for `import nltk` and the load.
COLD_LOAD = """
import time
t0 = time.process_time()
import nltk
t1 = time.process_time()
{load}
print(t1 - t0, time.process_time() - t1)
"""
LOADS = {
    "voxeval load_wordnet()": "from voxeval.metrics.text_tools import load_wordnet; load_wordnet()",
    "nltk.corpus.wordnet (nltk's own reader)": (
        "from voxeval.metrics.text_tools import load_wordnet; load_wordnet()  # data path only\n"
        "from nltk.corpus import wordnet; wordnet.ensure_loaded()"
    ),
}


def replies(path: Path, n: int) -> tuple[list[str], list[list[str]]]:
    """(prediction, references) per item: the first target reply vs the other four."""
    items = json.loads(path.read_text())[:n]
    targets = [[t["reply"] for t in item["target"]] for item in items]
    return [t[0] for t in targets], [t[1:] for t in targets]


def best(fn: Callable[[], Any], repeat: int, cold: bool = True) -> float:
    """Least CPU seconds of `repeat` runs of fn; memos cleared before each run when cold."""
    times = []
    for _ in range(repeat):
        if cold:
            tools.clear_caches()
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def library_calls(preds: list[str], refs: list[list[str]]) -> dict[str, Callable[[], Any]]:
    """Per metric, the bare library work on tokens made beforehand, as voxeval calls it."""
    from nltk.translate.bleu_score import SmoothingFunction, corpus_bleu
    from rouge_score.rouge_scorer import _score_lcs  # the LCS behind scorer.score('rougeL')
    from rouge_score.tokenizers import DefaultTokenizer

    hyps = [tools.tokenize(p) for p in preds]
    ref_toks = [[tools.tokenize(r) for r in rs] for rs in refs]
    rouge_tok = DefaultTokenizer(use_stemmer=True).tokenize
    r_hyps = [rouge_tok(p) for p in preds]
    r_refs = [[rouge_tok(r) for r in rs] for rs in refs]
    smooth = SmoothingFunction().method1

    def meteor() -> list[float]:
        meteor_score, stemmer, wordnet = tools.meteor_tools()  # fresh memos (cleared by best)
        return [
            meteor_score(rs, h, stemmer=stemmer, wordnet=wordnet)
            for h, rs in zip(hyps, ref_toks, strict=True)
        ]

    return {
        "bleu": lambda: corpus_bleu(ref_toks, hyps, smoothing_function=smooth),
        "rouge_l": lambda: [
            max(_score_lcs(r, h).fmeasure for r in rs) for h, rs in zip(r_hyps, r_refs, strict=True)
        ],
        "meteor": meteor,
        "distinct_1": lambda: _distinct(hyps, 1),
        "distinct_2": lambda: _distinct(hyps, 2),
    }


def _distinct(hyps: list[list[str]], n: int) -> float:
    grams = [tuple(h[i : i + n]) for h in hyps for i in range(len(h) - n + 1)]
    return len(set(grams)) / len(grams)


def distinct_texts(preds: list[str], refs: list[list[str]]) -> tuple[list[str], list[list[str]]]:
    """The same items with a unique word appended to every text, so no two texts are equal."""
    return [f"{p} u{i}x0" for i, p in enumerate(preds)], [
        [f"{r} u{i}x{j}" for j, r in enumerate(rs, 1)] for i, rs in enumerate(refs)
    ]


def tokenising(preds: list[str], refs: list[list[str]], repeat: int) -> dict[str, float]:
    """Per metric, CPU seconds to tokenise each distinct text it reads once (library tokeniser)."""
    from nltk.tokenize import TreebankWordTokenizer
    from rouge_score.tokenizers import DefaultTokenizer

    texts = list(dict.fromkeys(preds + [r for rs in refs for r in rs]))
    preds = list(dict.fromkeys(preds))
    treebank, rouge = TreebankWordTokenizer(), DefaultTokenizer(use_stemmer=True)
    every = best(lambda: [treebank.tokenize(t.lower()) for t in texts], repeat)
    predictions = best(lambda: [treebank.tokenize(t.lower()) for t in preds], repeat)
    return {
        "bleu": every,
        "meteor": every,
        "rouge_l": best(lambda: [rouge.tokenize(t) for t in texts], repeat),
        "distinct_1": predictions,  # distinct-n reads the predictions only
        "distinct_2": predictions,
    }


def plain_library(preds: list[str], refs: list[list[str]], repeat: int) -> dict[str, float]:
    """METEOR and ROUGE-L the plain way: nltk's defaults, scorer.score per reference, no memos."""
    from nltk.translate.meteor_score import meteor_score
    from rouge_score.rouge_scorer import RougeScorer

    wordnet = tools.load_wordnet()
    hyps = [tools.tokenize(p) for p in preds]
    ref_toks = [[tools.tokenize(r) for r in rs] for rs in refs]
    scorer = RougeScorer(["rougeL"], use_stemmer=True)
    return {
        "meteor": best(
            lambda: [
                meteor_score(rs, h, wordnet=wordnet) for h, rs in zip(hyps, ref_toks, strict=True)
            ],
            repeat,
        ),
        "rouge_l": best(
            lambda: [
                max(scorer.score(r, p)["rougeL"].fmeasure for r in rs)
                for p, rs in zip(preds, refs, strict=True)
            ],
            repeat,
        ),
    }


def cold_loads() -> dict[str, tuple[float, float]]:
    """(import nltk, WordNet load) CPU seconds, each in a fresh interpreter."""
    out = {}
    for label, load in LOADS.items():
        code = COLD_LOAD.format(load=load)
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        imp, loaded = proc.stdout.split()
        out[label] = (float(imp), float(loaded))
    return out


def table(preds: list[str], refs: list[list[str]], repeat: int) -> None:
    """Print one row per metric: voxeval, the library alone, and what lies between."""
    calls = library_calls(preds, refs)
    tok = tokenising(preds, refs, repeat)
    print(
        "| metric | (a) no CI, cold | (a) no CI, warm | (a) with CI | (b) library | (a)-(b) "
        "| tokenising | own code | value |\n|---|---|---|---|---|---|---|---|---|"
    )
    for name in NAMES:
        cold = best(lambda n=name: compute(n, preds, refs, n_resamples=0), repeat)
        warm = best(lambda n=name: compute(n, preds, refs, n_resamples=0), repeat, False)
        with_ci = best(lambda n=name: compute(n, preds, refs), repeat)
        lib = best(calls[name], repeat)
        value = compute(name, preds, refs, n_resamples=0).value
        print(
            f"| {name} | {cold:.3f} | {warm:.3f} | {with_ci:.3f} | {lib:.3f} | {cold - lib:+.3f} "
            f"| {tok[name]:.3f} | {cold - lib - tok[name]:+.3f} | {value:.6f} |"
        )
    print("Plain library calls (no memos), for what the memos save:")
    for name, seconds in plain_library(preds, refs, 1).items():
        print(f"  {name}: {seconds:.3f} s")


def main() -> None:
    """Print the tables (manifest as is, every text distinct) and the WordNet load."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--subset", default="test-emo")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    preds, refs = replies(args.data / f"{args.subset}.json", args.n)
    tools.load_wordnet()  # its one-off load is reported below, not inside METEOR's rows
    for name in NAMES:  # imports and first-use setup: one-off costs, not per-item ones
        compute(name, preds[:2], refs[:2], n_resamples=0)
    variants = {
        "as in the manifest": (preds, refs),
        "every text distinct": distinct_texts(preds, refs),
    }
    for label, (p, r) in variants.items():
        texts = len(set(p) | {x for rs in r for x in rs})
        print(
            f"\n{args.subset}, {label}: {len(p)} items, 4 references each, {texts} distinct "
            f"texts; CPU s, best of {args.repeat}\n"
        )
        table(p, r, args.repeat)
    print("\nWordNet, cold, in a fresh process (import nltk / load):")
    for label, (imp, loaded) in cold_loads().items():
        print(f"  {label}: {imp:.2f} s / {loaded:.2f} s")


if __name__ == "__main__":
    main()
