"""WER / CER: agreement with jiwer, normalisation, corpus-level averaging, edge cases, CI."""

from __future__ import annotations

import random

import jiwer
import pytest

from voxeval.errors import VoxevalError
from voxeval.metrics import compute
from voxeval.normalizers import get_normalizer
from voxeval.plugins import UnknownNameError

VOCAB = [
    "the",
    "cat",
    "sat",
    "on",
    "mat",
    "a",
    "dog",
    "naïve",
    "café",
    "東京",
    "straße",
    "über",
    "x",
    "hello",
    "world",
]
SEEDS = [0, 1, 2, 3, 7]


def _random_pairs(seed: int, n: int = 30) -> tuple[list[str], list[str]]:
    """Seeded reference/hypothesis pairs: hypotheses are references with random edits."""
    rng = random.Random(seed)
    refs, hyps = [], []
    for _ in range(n):
        ref = [rng.choice(VOCAB) for _ in range(rng.randint(1, 12))]
        hyp = []
        for word in ref:
            r = rng.random()
            if r < 0.1:
                continue  # deletion
            if r < 0.2:
                hyp.append(rng.choice(VOCAB))  # substitution (or accidental hit)
            else:
                hyp.append(word)
            if rng.random() < 0.08:
                hyp.append(rng.choice(VOCAB))  # insertion
        refs.append(" ".join(ref))
        hyps.append(" ".join(hyp))
    return refs, hyps


@pytest.mark.parametrize("seed", SEEDS)
def test_wer_matches_jiwer(seed: int) -> None:
    refs, hyps = _random_pairs(seed)
    result = compute("wer", hyps, refs, normalizer="none")
    assert result.value == pytest.approx(jiwer.wer(refs, hyps), abs=1e-9)
    assert result.n == len(refs)
    assert result.higher_is_better is False
    out = jiwer.process_words(refs, hyps)
    d = result.details
    assert d["substitutions"] == out.substitutions
    assert d["deletions"] == out.deletions
    assert d["insertions"] == out.insertions
    assert d["hits"] == out.hits
    assert d["reference_words"] == out.substitutions + out.deletions + out.hits
    assert d["empty_references"] == 0


@pytest.mark.parametrize("seed", SEEDS)
def test_cer_matches_jiwer(seed: int) -> None:
    refs, hyps = _random_pairs(seed, n=20)
    result = compute("cer", hyps, refs, normalizer="none")
    assert result.value == pytest.approx(jiwer.cer(refs, hyps), abs=1e-9)
    out = jiwer.process_characters(refs, hyps)
    d = result.details
    assert (d["substitutions"], d["deletions"], d["insertions"], d["hits"]) == (
        out.substitutions,
        out.deletions,
        out.insertions,
        out.hits,
    )
    assert d["reference_characters"] == out.substitutions + out.deletions + out.hits


def test_unicode_words_are_single_tokens() -> None:
    # Each unicode word is one token: substituting one of three words is WER 1/3.
    result = compute("wer", ["naïve 東京 café"], ["naive 東京 café"], normalizer="none")
    assert result.value == pytest.approx(1 / 3)
    assert result.details["substitutions"] == 1


def test_whisper_english_equivalences() -> None:
    norm = get_normalizer("whisper_english").normalize
    assert norm("Twenty-five colours!") == norm("25 colors")
    result = compute("wer", ["25 colors"], ["Twenty-five colours!"], normalizer="whisper_english")
    assert result.value == 0.0


_CASED_VOCAB = ["Hello,", "WORLD!", "colour", "Mr.", "Smith", "twenty", "five", "it's", "OK?"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_whisper_english_matches_jiwer_on_normalised_text(seed: int) -> None:
    rng = random.Random(seed)
    refs = [" ".join(rng.choices(_CASED_VOCAB, k=rng.randint(2, 8))) for _ in range(25)]
    hyps = [" ".join(rng.choices(_CASED_VOCAB, k=rng.randint(1, 8))) for _ in range(25)]
    norm = get_normalizer("whisper_english").normalize
    n_refs, n_hyps = [norm(r) for r in refs], [norm(h) for h in hyps]
    assert all(n_refs), "test data should not normalise to empty references"
    result = compute("wer", hyps, refs, normalizer="whisper_english")
    assert result.value == pytest.approx(jiwer.wer(n_refs, n_hyps), abs=1e-9)


def test_whisper_english_is_default_and_recorded() -> None:
    result = compute("wer", ["hello"], ["Hello."])
    assert result.value == 0.0
    params = result.params
    assert params["normalizer"] == "whisper_english"
    assert "transformers==" in params["normalizer_version"]
    assert "english.json sha256:" in params["normalizer_version"]
    assert params["level"] == "corpus"


def test_corpus_level_not_mean_of_samples() -> None:
    refs = ["a", "a b c d e f g h i j"]
    hyps = ["b", "a b c d e f g h i j"]
    result = compute("wer", hyps, refs, normalizer="none")
    per_sample_mean = (jiwer.wer(refs[0], hyps[0]) + jiwer.wer(refs[1], hyps[1])) / 2
    assert per_sample_mean == pytest.approx(0.5)
    # Corpus WER: summed edits over summed reference words (1 / 11), not the mean (0.5).
    assert result.value == pytest.approx(1 / 11)
    assert result.value != pytest.approx(per_sample_mean)


def test_empty_reference_counts_insertions() -> None:
    refs = ["", "a b c d"]
    hyps = ["x y", "a b c d"]
    result = compute("wer", hyps, refs, normalizer="none")
    assert result.details["empty_references"] == 1
    assert result.details["insertions"] == 2
    assert result.details["reference_words"] == 4
    assert result.value == pytest.approx(2 / 4)


def test_all_references_empty_is_undefined() -> None:
    result = compute("wer", ["x", "y z", ""], ["", "", ""], normalizer="none")
    assert result.value is None
    assert result.ci_low is None and result.ci_high is None
    assert result.n == 3
    assert result.details["empty_references"] == 3
    assert result.details["insertions"] == 3


def test_empty_hypothesis_is_all_deletions() -> None:
    result = compute("wer", ["", None], ["a b c", "d e"], normalizer="none")
    assert result.value == 1.0
    assert result.details["deletions"] == 5
    assert result.details["hits"] == 0


def test_punctuation_only_reference_becomes_empty_under_whisper_english() -> None:
    norm = get_normalizer("whisper_english").normalize
    assert norm("?!") == ""
    assert norm("— !") == ""
    result = compute("wer", ["hello", "a b"], ["?!", "a b"], normalizer="whisper_english")
    assert result.details["empty_references"] == 1
    assert result.details["insertions"] == 1
    assert result.value == pytest.approx(1 / 2)


def test_single_sample_has_value_but_no_ci() -> None:
    result = compute("wer", ["a b x"], ["a b c"], normalizer="none")
    assert result.value == pytest.approx(1 / 3)
    assert result.n == 1
    assert result.ci_low is None and result.ci_high is None


def test_empty_inputs() -> None:
    result = compute("wer", [], [], normalizer="none")
    assert result.n == 0
    assert result.value is None
    assert result.ci_low is None and result.ci_high is None


def test_mismatched_lengths_raise() -> None:
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        compute("wer", ["a", "b"], ["a"], normalizer="none")


def test_ci_brackets_value_and_is_seeded() -> None:
    refs, hyps = _random_pairs(11, n=60)
    a = compute("wer", hyps, refs, normalizer="none", seed=123, n_resamples=500)
    b = compute("wer", hyps, refs, normalizer="none", seed=123, n_resamples=500)
    c = compute("wer", hyps, refs, normalizer="none", seed=124, n_resamples=500)
    assert a.ci_low is not None and a.ci_high is not None
    assert a.ci_low <= a.value <= a.ci_high
    assert a.ci_low < a.ci_high
    assert (a.ci_low, a.ci_high) == (b.ci_low, b.ci_high)
    assert (a.ci_low, a.ci_high) != (c.ci_low, c.ci_high)
    assert a.value == c.value
    assert a.params["ci"] == {
        "method": "percentile_bootstrap",
        "resamples": 500,
        "confidence": 0.95,
        "seed": 123,
    }


def test_ci_params_record_defaults() -> None:
    result = compute("cer", ["ab", "cd"], ["ab", "ce"], normalizer="none", confidence=0.9)
    assert result.params["ci"]["confidence"] == 0.9
    assert result.params["ci"]["method"] == "percentile_bootstrap"
    assert result.params["ci"]["resamples"] == 1000
    assert result.params["ci"]["seed"] == 0


def test_zero_resamples_gives_no_ci() -> None:
    result = compute("wer", ["a", "b"], ["a", "c"], normalizer="none", n_resamples=0)
    assert result.value == pytest.approx(0.5)
    assert result.ci_low is None and result.ci_high is None


def test_unknown_metric_suggests_close_name() -> None:
    with pytest.raises(UnknownNameError, match="Did you mean 'wer'"):
        compute("wre", ["a"], ["a"])


def test_unknown_normalizer_names_choices() -> None:
    with pytest.raises(VoxevalError) as info:
        compute("wer", ["a"], ["a"], normalizer="bogus")
    message = str(info.value)
    assert "bogus" in message
    for choice in ("whisper_english", "whisper_basic", "none"):
        assert choice in message
