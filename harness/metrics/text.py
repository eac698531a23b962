"""Text-generation metrics: corpus BLEU, ROUGE-L, METEOR, distinct-1/2 (all higher is better).

References are multi-reference: each item is a tuple/list of strings, or one string (one
reference). A None prediction or reference counts as the empty string; a sample with an empty
list of references is an error. BLEU, METEOR and distinct-n share one declared tokenisation:
lowercase, then nltk's TreebankWordTokenizer (needs no nltk data; punkt is not used). ROUGE-L keeps
rouge-score's own tokeniser so that it equals rouge-score. Empty and punctuation-only texts follow
the reference implementations: they have no (or only punctuation) tokens, and score 0 where nltk
or rouge-score says 0 (details per metric below).

The library calls and their per-process memos (tokens, stems, synsets; WordNet, read only when
METEOR is asked for) live in `text_tools`; every value equals the plain library calls exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any, ClassVar

import numpy as np

from voxeval.errors import VoxevalError
from voxeval.hookspecs import hookimpl
from voxeval.metrics import Metric
from voxeval.metrics.text_tools import TOKENIZER, cached_tokens, meteor_tools, rouge_scorer
from voxeval.metrics.text_tools import clear_caches as clear_caches  # re-exported
from voxeval.metrics.text_tools import load_wordnet as load_wordnet
from voxeval.metrics.text_tools import nltk_data_dirs as nltk_data_dirs
from voxeval.metrics.text_tools import tokenize as tokenize

BLEU_ORDER = 4
BLEU_EPSILON = 0.1  # nltk SmoothingFunction().method1's default epsilon
# Columns of the distinct-n statistics; n-gram ids start at _IDS.
TOTAL, SHARE, CALL_N, _IDS = 0, 1, 2, 3


def reference_list(item: Any, index: int = 0) -> list[str]:
    """One sample's references as a list of strings (a single string is one reference)."""
    if item is None or isinstance(item, str):
        return [item or ""]
    refs = [r or "" for r in item]
    if not refs:
        raise VoxevalError(f"Sample {index} has an empty list of references; give at least one.")
    return refs


def _version(dist: str) -> str:
    try:
        return f"{dist}=={version(dist)}"
    except PackageNotFoundError:
        return f"{dist} (not installed)"


class _TextMetric(Metric):
    """Shared parts: no free parameters, higher is better."""

    higher_is_better: ClassVar[bool] = True
    value_range: ClassVar[tuple[float, float]] = (0.0, 1.0)

    def _reject(self, params: dict[str, Any]) -> None:
        if params:
            raise VoxevalError(
                f"Metric {self.name!r} takes no parameters; got {', '.join(sorted(params))}."
            )


class _MeanOfSamples(_TextMetric):
    """A per-sample score (column 0) averaged over samples: sum-decomposable."""

    sum_decomposable: ClassVar[bool] = True
    chunkable: ClassVar[bool] = True  # one sample's score needs only that sample

    def aggregate_sums(self, sums: np.ndarray, n: int) -> np.ndarray:
        """Mean of the per-sample scores."""
        return sums[..., 0] / n


class CorpusBleu(_TextMetric):
    """Corpus BLEU-4 equal to nltk's corpus_bleu with SmoothingFunction().method1, scale 0-1.

    Per-sample statistics are nltk's own: `modified_precision` numerator and denominator for
    n = 1..4 (the denominator is at least 1, so an empty hypothesis adds 0 matches over 1), the
    hypothesis length and `closest_ref_length` (ties go to the shorter reference). The corpus
    formula (brevity penalty, epsilon 0.1 for zero-match orders, uniform weights) runs on summed
    statistics, so the bootstrap is a matrix product. No unigram match in the corpus gives 0.
    """

    chunkable: ClassVar[bool] = True  # per-sample n-gram counts and lengths
    name: ClassVar[str] = "bleu"
    description: ClassVar[str] = "corpus BLEU-4, nltk corpus_bleu, smoothing method1, Treebank"
    sum_decomposable: ClassVar[bool] = True

    def sample_stats(
        self, predictions: Sequence[Any], references: Sequence[Any], **params: Any
    ) -> np.ndarray:
        """Columns: matches for n=1..4, n-gram totals for n=1..4, hyp length, closest ref length."""
        from nltk.translate.bleu_score import closest_ref_length, modified_precision

        self._reject(params)
        orders = range(1, BLEU_ORDER + 1)
        rows = []
        for row, (pred, refs) in enumerate(zip(predictions, references, strict=True)):
            hyp = cached_tokens(pred)
            ref_tokens = [cached_tokens(r) for r in reference_list(refs, row)]
            counts = [modified_precision(ref_tokens, hyp, order) for order in orders]
            rows.append(
                [c.numerator for c in counts]
                + [c.denominator for c in counts]
                + [len(hyp), closest_ref_length(ref_tokens, len(hyp))]
            )
        return np.array(rows, dtype=float).reshape(len(rows), 2 * BLEU_ORDER + 2)

    def aggregate_sums(self, sums: np.ndarray, n: int) -> np.ndarray:
        """nltk's corpus formula on summed counts: BP · exp(mean log p_n), method1 smoothing."""
        matches, totals = sums[..., :BLEU_ORDER], sums[..., BLEU_ORDER : 2 * BLEU_ORDER]
        precision = np.where(matches > 0, matches, BLEU_EPSILON) / totals
        log_mean = np.log(precision).mean(axis=-1)
        penalty = _brevity_penalty(sums[..., -2], sums[..., -1])
        return np.where(matches[..., 0] > 0, penalty * np.exp(log_mean), 0.0)

    def resolved_params(self, **params: Any) -> dict[str, Any]:
        """Tokenisation, smoothing, order and averaging, with the nltk version."""
        self._reject(params)
        return {
            "tokenizer": TOKENIZER,
            "lowercase": True,
            "smoothing": "method1",
            "max_order": BLEU_ORDER,
            "weights": [1 / BLEU_ORDER] * BLEU_ORDER,
            "level": "corpus",
            "scale": "0-1",
            "implementation": _version("nltk"),
        }

    def details(self, stats: np.ndarray) -> dict[str, Any]:
        """Summed n-gram matches and totals, lengths and the brevity penalty."""
        sums = stats.sum(axis=0)
        hyp_len, ref_len = int(sums[-2]), int(sums[-1])
        return {
            "matches": [int(x) for x in sums[:BLEU_ORDER]],
            "totals": [int(x) for x in sums[BLEU_ORDER : 2 * BLEU_ORDER]],
            "hypothesis_length": hyp_len,
            "reference_length": ref_len,
            "brevity_penalty": float(_brevity_penalty(sums[-2], sums[-1])),
        }


def _brevity_penalty(hyp_len: np.ndarray, ref_len: np.ndarray) -> np.ndarray:
    """nltk's brevity penalty: 1 if longer than the references, 0 if empty, else exp(1 - r/c)."""
    penalty = np.exp(1 - ref_len / np.where(hyp_len > 0, hyp_len, 1))
    return np.where(hyp_len > ref_len, 1.0, np.where(hyp_len > 0, penalty, 0.0))


class RougeL(_MeanOfSamples):
    """Mean over samples of rouge-score's ROUGE-L F-measure (Porter stemmer), best reference each.

    rouge-score's default tokeniser lowercases and keeps only [a-z0-9] runs, so non-ASCII words and
    punctuation vanish; an empty (after tokenising) prediction or reference scores 0, as there.
    """

    name: ClassVar[str] = "rouge_l"
    description: ClassVar[str] = "ROUGE-L F-measure, rouge-score, stemmed, max over references"

    def sample_stats(
        self, predictions: Sequence[Any], references: Sequence[Any], **params: Any
    ) -> np.ndarray:
        """Column 0: the best ROUGE-L F-measure over the sample's references."""
        self._reject(params)
        scorer = rouge_scorer()
        best = [
            max(scorer.score(r, pred or "")["rougeL"].fmeasure for r in reference_list(refs, row))
            for row, (pred, refs) in enumerate(zip(predictions, references, strict=True))
        ]
        return np.array(best, dtype=float).reshape(-1, 1)

    def resolved_params(self, **params: Any) -> dict[str, Any]:
        """Variant, stemming, multi-reference rule and averaging, with the rouge-score version."""
        self._reject(params)
        return {
            "rouge_type": "rougeL",
            "score": "fmeasure",
            "use_stemmer": True,
            "tokenizer": "rouge_score default (lowercase, [a-z0-9]+ runs only)",
            "multi_reference": "max over references",
            "level": "mean of samples",
            "implementation": _version("rouge-score"),
        }


class Meteor(_MeanOfSamples):
    """Mean over samples of nltk's meteor_score (best over references), Treebank tokens.

    nltk's defaults: exact, Porter-stem and WordNet-synonym matching, alpha 0.9, beta 3, gamma 0.5.
    A sample with no match (empty or punctuation-free-of-overlap texts included) scores 0, as in
    nltk. WordNet comes from scripts/setup_nltk_data.py (see `load_wordnet`).
    """

    name: ClassVar[str] = "meteor"
    description: ClassVar[str] = "METEOR, nltk meteor_score with WordNet, max over references"

    def sample_stats(
        self, predictions: Sequence[Any], references: Sequence[Any], **params: Any
    ) -> np.ndarray:
        """Column 0: nltk's METEOR for the sample."""
        self._reject(params)
        meteor_score, stemmer, wordnet = meteor_tools()
        scores = [
            meteor_score(
                [cached_tokens(r) for r in reference_list(refs, row)],
                cached_tokens(pred),
                stemmer=stemmer,
                wordnet=wordnet,
            )
            for row, (pred, refs) in enumerate(zip(predictions, references, strict=True))
        ]
        return np.array(scores, dtype=float).reshape(-1, 1)

    def resolved_params(self, **params: Any) -> dict[str, Any]:
        """Tokenisation, METEOR parameters, WordNet and averaging, with the nltk version."""
        self._reject(params)
        return {
            "tokenizer": TOKENIZER,
            "lowercase": True,
            "alpha": 0.9,
            "beta": 3.0,
            "gamma": 0.5,
            "stemmer": "nltk PorterStemmer",
            "wordnet": "WordNet 3.0 (Debian wordnet-base, via scripts/setup_nltk_data.py)",
            "multi_reference": "max over references",
            "level": "mean of samples",
            "implementation": _version("nltk"),
        }


class _DistinctN(_TextMetric):
    """Corpus distinct-n (Li et al. 2016): unique n-grams / total n-grams over all predictions.

    Corpus level (one pool of n-grams), not a mean of per-sentence ratios, as in the paper.
    References are ignored. No n-grams at all (every prediction shorter than n) gives None.
    Rows are self-contained, so any subset of rows gives that subset's exact value: column
    TOTAL is the sample's n-gram count, SHARE its share of the unique count, the rest integer
    ids of its distinct n-grams (shared across one `sample_stats` call), padded with -1.

    Bootstrap: resampling sentences with replacement and recounting unique n-grams is biased
    (a resample holds only ~63 % distinct sentences, so types fall while tokens do not, and the
    percentile CI can miss the value entirely). Instead each sample's share of the unique count
    is fixed (an n-gram found in m samples gives 1/m to each; shares sum to the unique count
    exactly) and resampled as a ratio of sums: a linearised bootstrap centred on the value, one
    matrix product for all resamples. `bootstrap_distribution` recomputes the shares from the rows
    it is given, so subsets (breakdowns) are right too. The stored SHARE column is relative to the
    whole `sample_stats` call, so the plain sum-decomposable path gives a CI only for all rows of
    the call (CALL_N tells), none for a subset.
    """

    order: ClassVar[int]
    sum_decomposable: ClassVar[bool] = True

    def sample_stats(
        self, predictions: Sequence[Any], references: Sequence[Any], **params: Any
    ) -> np.ndarray:
        """Columns: n-gram count, unique-count share, row count, distinct n-gram ids (-1 padded)."""
        self._reject(params)
        ids: dict[tuple[str, ...], int] = {}
        rows: list[list[int]] = []
        totals = []
        for pred in predictions:
            tokens = cached_tokens(pred)
            grams = [tokens[i : i + self.order] for i in range(len(tokens) - self.order + 1)]
            totals.append(len(grams))
            rows.append(sorted({ids.setdefault(g, len(ids)) for g in grams}))
        width = max((len(r) for r in rows), default=0)
        stats = np.full((len(predictions), _IDS + width), -1.0)
        stats[:, TOTAL] = totals
        stats[:, CALL_N] = len(predictions)
        for row, gram_ids in enumerate(rows):
            stats[row, _IDS : _IDS + len(gram_ids)] = gram_ids
        stats[:, SHARE] = _shares(stats[:, _IDS:])
        return stats

    def aggregate(self, stats: np.ndarray) -> np.ndarray:
        """Exact unique / total n-grams of each stacked block of rows (b, n, k) → (b,)."""
        return _ratio(_count_unique_ids(stats[..., _IDS:]), stats[..., TOTAL].sum(axis=-1))

    def aggregate_sums(self, sums: np.ndarray, n: int) -> np.ndarray:
        """Summed shares / summed n-gram counts; NaN unless the rows are the whole call's."""
        whole_call = sums[..., CALL_N] == float(n) * n
        return np.where(whole_call, _ratio(sums[..., SHARE], sums[..., TOTAL]), np.nan)

    def bootstrap_distribution(self, stats: np.ndarray, n_resamples: int, seed: int) -> np.ndarray:
        """Linearised bootstrap with shares recomputed from these rows (see the class docstring)."""
        from voxeval.stats import bootstrap_sum_distribution

        linear = np.column_stack([stats[:, TOTAL], _shares(stats[:, _IDS:])])
        return bootstrap_sum_distribution(
            linear, lambda sums, _: _ratio(sums[:, 1], sums[:, 0]), n_resamples, seed
        )

    def resolved_params(self, **params: Any) -> dict[str, Any]:
        """Order, tokenisation, averaging and the CI scheme."""
        self._reject(params)
        return {
            "n": self.order,
            "tokenizer": TOKENIZER,
            "lowercase": True,
            "level": "corpus (unique n-grams / total n-grams over all predictions)",
            "uses_references": False,
            "bootstrap": "linearised: per-sample shares of the unique count (1/m per n-gram)",
        }

    def details(self, stats: np.ndarray) -> dict[str, Any]:
        """Unique and total n-gram counts over the predictions."""
        unique = int(_count_unique_ids(stats[None, :, _IDS:])[0])
        return {"unique_ngrams": unique, "total_ngrams": int(stats[:, TOTAL].sum())}


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan
        )


def _shares(ids: np.ndarray) -> np.ndarray:
    """Per row, the sum over its distinct ids of 1 / (number of rows holding that id)."""
    valid = ids >= 0
    if not valid.any():
        return np.zeros(len(ids))
    flat = ids[valid].astype(np.int64)
    holders = np.bincount(flat)
    weights = np.zeros(ids.shape)
    weights[valid] = 1.0 / holders[flat]
    return weights.sum(axis=1)


def _count_unique_ids(ids: np.ndarray) -> np.ndarray:
    """Number of distinct non-negative ids in each stacked block (b, n, m) → (b,)."""
    b = ids.shape[0]
    if ids.size == 0:
        return np.zeros(b)
    slots = int(ids.max()) + 2  # slot 0 takes the -1 padding
    keys = ids.reshape(b, -1).astype(np.int64) + 1
    keys += (np.arange(b, dtype=np.int64) * slots)[:, None]
    seen = np.zeros(b * slots, dtype=bool)
    seen[keys.ravel()] = True
    return seen.reshape(b, slots)[:, 1:].sum(axis=1)


class Distinct1(_DistinctN):
    """Corpus distinct-1: unique unigrams / total unigrams of the predictions."""

    name: ClassVar[str] = "distinct_1"
    description: ClassVar[str] = "distinct-1, corpus unique/total unigrams of predictions"
    order: ClassVar[int] = 1


class Distinct2(_DistinctN):
    """Corpus distinct-2: unique bigrams / total bigrams of the predictions."""

    name: ClassVar[str] = "distinct_2"
    description: ClassVar[str] = "distinct-2, corpus unique/total bigrams of predictions"
    order: ClassVar[int] = 2


@hookimpl
def register_metrics(register: Callable[..., None]) -> None:
    """Register bleu, rouge_l, meteor, distinct_1 and distinct_2."""
    for metric in (CorpusBleu(), RougeL(), Meteor(), Distinct1(), Distinct2()):
        register(metric)
