"""What the text metrics call in nltk and rouge-score: tokens, WordNet, memoised helpers.

Nothing here imports nltk or rouge-score at module import; each library loads on first use, and
WordNet only when METEOR asks for it. Memos make repeated work free without changing a value:
each text's tokens, each word's Porter stem and WordNet synsets are computed once per process
(bounded LRU memos; `clear_caches` drops them), so the metrics of one scoring run tokenise a text
once and WordNet is read once.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import voxeval
from voxeval.errors import VoxevalError

TOKENIZER = "nltk.tokenize.TreebankWordTokenizer"
NLTK_DATA_ENV = "VOXEVAL_NLTK_DATA"
REPO_ROOT = Path(voxeval.__file__).resolve().parents[1]
DEFAULT_NLTK_DATA = REPO_ROOT / ".cache" / "nltk_data"
WORDNET_PACKAGES = "wordnet-base and wordnet-sense-index"
# Memo bounds. Texts: SD-Eval's largest subset (test-acc, 4,310 items x 6 texts) fits, about
# 20 MB of interned tokens at most. Words: a vocabulary's stems and synset lists are small.
TEXT_MEMO = 1 << 15
WORD_MEMO = 1 << 16


@cache
def _treebank() -> Any:
    from nltk.tokenize import TreebankWordTokenizer

    return TreebankWordTokenizer()


def tokenize(text: str | None) -> list[str]:
    """Lowercase, then split with nltk's TreebankWordTokenizer (the BLEU/METEOR/distinct tokens)."""
    return list(cached_tokens(text))


@lru_cache(maxsize=TEXT_MEMO)
def cached_tokens(text: str | None) -> tuple[str, ...]:
    """`tokenize`, memoised and immutable: BLEU, METEOR and distinct-n share one pass per text."""
    # Treebank's ~16 regex passes cost ~0.25 ms a reply, more than BLEU's own counting.
    # Interning makes a memoised text cost pointers, not fresh copies of common words.
    return tuple(map(sys.intern, _treebank().tokenize((text or "").lower())))


class _Memo:
    """`target` with one method memoised (bounded); other attributes are the target's own."""

    def __init__(self, target: Any, method: str, maxsize: int = WORD_MEMO) -> None:
        self._target = target
        setattr(self, method, lru_cache(maxsize=maxsize)(getattr(target, method)))

    def __getattr__(self, name: str) -> Any:
        if name == "_target":  # not set yet (copy, pickle): fail instead of recursing
            raise AttributeError(name)
        return getattr(self._target, name)


def clear_caches() -> None:
    """Drop the token, stem, synset and ROUGE-token memos (WordNet itself stays loaded)."""
    for memoised in (cached_tokens, meteor_tools, rouge_scorer):
        memoised.cache_clear()


def nltk_data_dirs() -> list[Path]:
    """nltk data folders: $VOXEVAL_NLTK_DATA (else <repo>/.cache/nltk_data), then $NLTK_DATA."""
    configured = os.environ.get(NLTK_DATA_ENV)
    dirs = [Path(p) for p in configured.split(os.pathsep) if p] if configured else []
    dirs = dirs or [DEFAULT_NLTK_DATA]
    return dirs + [Path(p) for p in os.environ.get("NLTK_DATA", "").split(os.pathsep) if p]


def load_wordnet() -> Any:
    """nltk's WordNet reader, read once per process, our data folders on nltk.data.path."""
    import nltk

    for folder in nltk_data_dirs():
        if str(folder) not in nltk.data.path:
            nltk.data.path.append(str(folder))
    try:
        return _wordnet_reader()
    except (LookupError, OSError) as exc:
        searched = ", ".join(nltk.data.path)
        raise VoxevalError(
            f"METEOR needs nltk's WordNet corpus (corpora/wordnet), which could not be loaded "
            f"({type(exc).__name__}) from: {searched}. Run `python scripts/setup_nltk_data.py`: it "
            f"copies WordNet 3.0 from the Debian packages {WORDNET_PACKAGES} (`apt-get install "
            f"wordnet-base wordnet-sense-index`) into {DEFAULT_NLTK_DATA}; or point "
            f"${NLTK_DATA_ENV} at an nltk data folder that has corpora/wordnet."
        ) from None


@cache  # a failed load raises, which is not cached: the next call looks again
def _wordnet_reader() -> Any:
    """nltk's WordNetCorpusReader on corpora/wordnet, English only (no OMW, no version map)."""
    import nltk
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    class EnglishWordNet(WordNetCorpusReader):  # type: ignore[misc]
        def map_wn(self, version: str = "wordnet") -> None:
            # At load nltk maps WordNet 3.0 synsets onto the loaded version's (it compares
            # "3.0" with "wordnet", so it always does), reading index.sense twice: ~60 % of
            # the load. Only Open Multilingual WordNet lookups use the map, which METEOR never
            # makes; for the 3.0 data it would be the identity anyway.
            return None

    root = nltk.data.find("corpora/wordnet")
    with warnings.catch_warnings():  # "multilingual functions are not available": as meant
        warnings.simplefilter("ignore")
        return EnglishWordNet(root, None)


@cache
def rouge_scorer() -> Any:
    """rouge-score's ROUGE-L scorer, Porter-stemmed, each text tokenised once (memoised)."""
    from rouge_score.rouge_scorer import RougeScorer
    from rouge_score.tokenizers import DefaultTokenizer

    # score(target, prediction) re-tokenises and re-stems the prediction for every reference.
    tokenizer = _Memo(DefaultTokenizer(use_stemmer=True), "tokenize", TEXT_MEMO)
    return RougeScorer(["rougeL"], tokenizer=tokenizer)


@cache
def meteor_tools() -> tuple[Callable[..., float], Any, Any]:
    """nltk's meteor_score, and a Porter stemmer and WordNet reader with memoised lookups."""
    from nltk.stem.porter import PorterStemmer
    from nltk.translate.meteor_score import meteor_score

    # Stemming and synset lookups are most of nltk's METEOR time and depend only on the word
    # (meteor_score re-stems the hypothesis for every reference); the memos return the very
    # values nltk computes, so scores are unchanged.
    return meteor_score, _Memo(PorterStemmer(), "stem"), _Memo(load_wordnet(), "synsets")
