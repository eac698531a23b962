"""Word and character error rate: jiwer alignments, corpus-level (summed edits / summed words).

Corpus level is the field's standard (open_asr_leaderboard, ESPnet, Kaldi): a long utterance
weighs more than a short one. A sample whose normalised reference is empty still counts: its
hypothesis words are insertions over zero reference words. With no reference words at all the
rate is undefined (None).

`compounds=merge` (WER only) follows the Open ASR Leaderboard's scoring path: its
eval_utils.score_results aligns with kaldialign's `merge_compounds=True`, where adjacent words
on either side may join at no cost to match one word on the other ("note book" ↔ "notebook");
voxeval calls that same library.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from voxeval.errors import VoxevalError
from voxeval.metrics import Metric
from voxeval.normalizers import get_normalizer

DEFAULT_NORMALIZER = "whisper_english"
COMPOUND_MODES = ("none", "merge")
# Columns of the per-sample statistics.
SUB, DEL, INS, HITS = range(4)


class _ErrorRate(Metric):
    higher_is_better: ClassVar[bool] = False
    chunkable: ClassVar[bool] = True  # each sample's edits are its own
    value_range: ClassVar[tuple[float, float]] = (0.0, math.inf)  # insertions can pass 1
    unit: ClassVar[str]

    def _process(self, refs: list[str], hyps: list[str]) -> Any:
        raise NotImplementedError

    def sample_stats(
        self,
        predictions: Sequence[Any],
        references: Sequence[Any],
        normalizer: str = DEFAULT_NORMALIZER,
        compounds: str = "none",
        **_: Any,
    ) -> np.ndarray:
        """Per-sample substitutions, deletions, insertions and hits after normalising."""
        merge = self._compound_mode(compounds) == "merge"
        refs = normalize_all(normalizer, references)
        hyps = normalize_all(normalizer, predictions)
        if merge:
            return compound_stats(refs, hyps)
        output = self._process(refs, hyps)
        stats = np.zeros((len(refs), 4))
        for row, chunks in enumerate(output.alignments):
            for chunk in chunks:
                ref_len = chunk.ref_end_idx - chunk.ref_start_idx
                hyp_len = chunk.hyp_end_idx - chunk.hyp_start_idx
                if chunk.type == "substitute":
                    stats[row, SUB] += ref_len
                elif chunk.type == "delete":
                    stats[row, DEL] += ref_len
                elif chunk.type == "insert":
                    stats[row, INS] += hyp_len
                else:
                    stats[row, HITS] += ref_len
        return stats

    sum_decomposable: ClassVar[bool] = True

    def aggregate_sums(self, sums: np.ndarray, n: int) -> np.ndarray:
        """(S + D + I) / (S + D + hits) from summed counts."""
        errors = sums[..., SUB] + sums[..., DEL] + sums[..., INS]
        ref_len = sums[..., SUB] + sums[..., DEL] + sums[..., HITS]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(ref_len > 0, errors / np.where(ref_len > 0, ref_len, 1), np.nan)

    def resolved_params(
        self, normalizer: str = DEFAULT_NORMALIZER, compounds: str = "none", **_: Any
    ) -> dict[str, Any]:
        """Record the normaliser's name and version, the alignment and the averaging."""
        norm = get_normalizer(normalizer)
        return {
            "normalizer": norm.name,
            "normalizer_version": norm.version,
            "compounds": self._compound_mode(compounds),
            "level": "corpus",
        }

    def _compound_mode(self, compounds: str) -> str:
        if compounds not in COMPOUND_MODES:
            raise VoxevalError(
                f"Unknown compounds mode {compounds!r}; choose one of: {', '.join(COMPOUND_MODES)}."
            )
        if compounds == "merge" and self.unit != "words":
            # OASR defines compound merging on word alignments only; characters have no words.
            raise VoxevalError(f"compounds='merge' applies to word error rate, not {self.name}.")
        return compounds

    def details(self, stats: np.ndarray) -> dict[str, Any]:
        """Summed edit counts and the reference length in units."""
        s, d, i, h = (int(x) for x in stats.sum(axis=0))
        return {
            "substitutions": s,
            "deletions": d,
            "insertions": i,
            "hits": h,
            f"reference_{self.unit}": s + d + h,
            "empty_references": int(((stats[:, SUB] + stats[:, DEL] + stats[:, HITS]) == 0).sum()),
        }


class WordErrorRate(_ErrorRate):
    """Corpus word error rate."""

    name: ClassVar[str] = "wer"
    description: ClassVar[str] = "word error rate, corpus-level, jiwer, Whisper English normaliser"
    unit: ClassVar[str] = "words"

    def _process(self, refs: list[str], hyps: list[str]) -> Any:
        import jiwer

        return jiwer.process_words(refs, hyps)


class CharacterErrorRate(_ErrorRate):
    """Corpus character error rate (spaces count as characters, as in jiwer)."""

    name: ClassVar[str] = "cer"
    description: ClassVar[str] = "character error rate, corpus-level, jiwer"
    unit: ClassVar[str] = "characters"

    def _process(self, refs: list[str], hyps: list[str]) -> Any:
        import jiwer

        return jiwer.process_characters(refs, hyps)


# WER and CER of one task read the same texts: each list is normalised once and the result
# kept for the next metric (a few entries, so memory stays bounded by a chunk of texts).
_NORMALIZED: OrderedDict[tuple[str, tuple[str, ...]], list[str]] = OrderedDict()
_KEPT = 4


def normalize_all(normalizer: str, texts: Sequence[Any]) -> list[str]:
    """Each text normalised by `normalizer`; the same list asked again is not redone."""
    key = (normalizer, tuple(t or "" for t in texts))
    if key in _NORMALIZED:
        _NORMALIZED.move_to_end(key)
        return _NORMALIZED[key]
    normalize = get_normalizer(normalizer).normalize
    out = [normalize(t) for t in key[1]]
    _NORMALIZED[key] = out
    while len(_NORMALIZED) > _KEPT:
        _NORMALIZED.popitem(last=False)
    return out


def compound_stats(refs: list[str], hyps: list[str]) -> np.ndarray:
    """Per-sample (S, D, I, hits) from kaldialign's compound-merging edit distance."""
    import kaldialign

    stats = np.zeros((len(refs), 4))
    for row, (ref, hyp) in enumerate(zip(refs, hyps, strict=True)):
        ref_words = ref.split()
        edits = kaldialign.edit_distance(ref_words, hyp.split(), merge_compounds=True)
        sub, dele, ins = edits["sub"], edits["del"], edits["ins"]
        # A joined match counts every reference word it covers as a hit.
        stats[row] = (sub, dele, ins, len(ref_words) - sub - dele)
    return stats
