"""SD-Eval's automatic metrics under voxeval's conventions and the common alternatives.

SD-Eval's repository has no BLEU/ROUGE/METEOR code, so implementations differ between
papers. This scores one set of replies (each item's first reference reply as the
"prediction", its other four as references: human-quality replies, no model needed) on the
real manifests in ../shared/data/sd-eval, with voxeval's metrics and with nltk/rouge-score
set up the other ways people use them, side by side.

    .venv/bin/python benches/protocol_dialogue.py [--data ../shared/data/sd-eval] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from voxeval.metrics import compute
from voxeval.metrics.text import load_wordnet, tokenize


def replies(data: Path, subset: str, limit: int | None) -> tuple[list[str], list[list[str]]]:
    """(prediction, references) per item: the first target reply vs the other four."""
    items = json.loads((data / f"{subset}.json").read_text())[:limit]
    targets = [[t["reply"] for t in item["target"]] for item in items]
    return [t[0] for t in targets], [t[1:] for t in targets]


def nltk_bleu(preds: list[str], refs: list[list[str]], split: Any, smooth: bool) -> float:
    """Corpus BLEU-4 from nltk with the given tokeniser, optionally method1 smoothing."""
    from nltk.translate.bleu_score import SmoothingFunction, corpus_bleu

    fn = SmoothingFunction().method1 if smooth else SmoothingFunction().method0
    return corpus_bleu(
        [[split(r) for r in rs] for rs in refs], [split(p) for p in preds], smoothing_function=fn
    )


def sentence_bleu_mean(preds: list[str], refs: list[list[str]]) -> float:
    """Mean of per-reply BLEU-4 (method1), the other convention some papers report."""
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

    fn = SmoothingFunction().method1
    scores = [
        sentence_bleu([tokenize(r) for r in rs], tokenize(p), smoothing_function=fn)
        for p, rs in zip(preds, refs, strict=True)
    ]
    return sum(scores) / len(scores)


def nltk_meteor(preds: list[str], refs: list[list[str]], split: Any) -> float:
    """Mean nltk METEOR with the given tokeniser."""
    from nltk.translate.meteor_score import meteor_score

    wordnet = load_wordnet()
    scores = [
        meteor_score([split(r) for r in rs], split(p), wordnet=wordnet)
        for p, rs in zip(preds, refs, strict=True)
    ]
    return sum(scores) / len(scores)


def rouge_unstemmed(preds: list[str], refs: list[list[str]]) -> float:
    """Mean best-reference ROUGE-L F1 without stemming (rouge-score's default switch)."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    scores = [
        scorer.score_multi(rs, p)["rougeL"].fmeasure for p, rs in zip(preds, refs, strict=True)
    ]
    return sum(scores) / len(scores)


def rows(preds: list[str], refs: list[list[str]]) -> list[tuple[str, str, float]]:
    """(metric, convention, value) for every variant."""
    voxeval = {
        name: compute(name, preds, refs, n_resamples=0).value
        for name in ("bleu", "rouge_l", "meteor")
    }
    return [
        ("BLEU-4", "voxeval: corpus, lowercase, Treebank, method1", voxeval["bleu"]),
        ("BLEU-4", "corpus, cased, Treebank, method1", nltk_bleu(preds, refs, _cased, True)),
        ("BLEU-4", "corpus, lowercase, whitespace split", nltk_bleu(preds, refs, _split, True)),
        (
            "BLEU-4",
            "corpus, lowercase, Treebank, no smoothing",
            nltk_bleu(preds, refs, tokenize, False),
        ),
        ("BLEU-4", "mean of sentence BLEU (method1)", sentence_bleu_mean(preds, refs)),
        ("ROUGE-L", "voxeval: rouge-score F1, best reference, Porter stemming", voxeval["rouge_l"]),
        ("ROUGE-L", "rouge-score F1, best reference, no stemming", rouge_unstemmed(preds, refs)),
        ("METEOR", "voxeval: nltk, lowercase, Treebank", voxeval["meteor"]),
        ("METEOR", "nltk, cased, whitespace split", nltk_meteor(preds, refs, str.split)),
    ]


def _cased(text: str) -> list[str]:
    from nltk.tokenize import TreebankWordTokenizer

    return TreebankWordTokenizer().tokenize(text)


def _split(text: str) -> list[str]:
    return text.lower().split()


def main() -> None:
    """Print the side-by-side table for each subset."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).parents[2] / "shared/data/sd-eval"
    )
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    for subset in ("test-emo", "test-age", "test-env"):
        if not (args.data / f"{subset}.json").exists():
            continue
        started = time.perf_counter()
        preds, refs = replies(args.data, subset, args.limit)
        print(f"\n{subset}: n = {len(preds)} replies, 4 references each")
        print("| metric | convention | value | Δ vs voxeval |\n|---|---|---|---|")
        base: dict[str, float] = {}
        for metric, convention, value in rows(preds, refs):
            base.setdefault(metric, value)
            print(f"| {metric} | {convention} | {value:.4f} | {value - base[metric]:+.4f} |")
        print(f"({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
