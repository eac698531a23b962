"""Text metrics: BLEU, ROUGE-L, METEOR and distinct-n against their reference implementations."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from nltk.tokenize import TreebankWordTokenizer
from nltk.translate.bleu_score import (
    SmoothingFunction,
    closest_ref_length,
    corpus_bleu,
    modified_precision,
)
from nltk.translate.meteor_score import meteor_score
from rouge_score.rouge_scorer import RougeScorer

import voxeval.metrics.text as text_metrics
from voxeval.errors import VoxevalError
from voxeval.metrics import compute, get_metric, summarize

REPO = Path(__file__).resolve().parents[1]
SETUP_SCRIPT = REPO / "scripts" / "setup_nltk_data.py"
MODULE_NAME = "voxeval.metrics.text"
NAMES = ("bleu", "rouge_l", "meteor", "distinct_1", "distinct_2")
VOCAB = [
    "the",
    "cat",
    "sat",
    "on",
    "mat",
    "a",
    "dog",
    "ran",
    "quickly",
    "big",
    "large",
    "Hello,",
    "world!",
    "can't",
    "it's",
    "naïve",
    "café",
    "東京",
    "straße",
    "U.S.",
    "(note)",
    '"quoted"',
    "$5.00",
    "well-known",
    "—",
    "...",
    "?",
    "Running",
    "runs",
]
SEEDS = [0, 1, 2, 3, 7]
# Edge cases: (predictions, references). References mix strings, tuples and lists.
EDGE_CASES = {
    "empty_prediction": (["", "the cat sat on the mat"], [("the cat sat",), "the cat on a mat"]),
    "none_prediction": ([None, "a dog"], ["a dog ran", ("a dog",)]),
    "empty_reference": (["the cat sat", "a dog ran"], [("",), ("a dog ran", "")]),
    "empty_both": (["", "the cat"], ["", "the cat"]),
    "all_empty": (["", ""], ["", ""]),
    "unicode": (["naïve café in 東京", "straße über"], [("naive café in 東京",), "STRASSE über"]),
    "punctuation_only": (["?!", "... —", "the cat ."], [("?!",), ("hello",), "?"]),
    "single_sample": (["the quick brown fox jumps"], [("the quick brown fox jumped over",)]),
}


def tok(text: str | None) -> list[str]:
    """The declared tokenisation, written out independently: lowercase + Treebank."""
    return TreebankWordTokenizer().tokenize((text or "").lower())


def ref_list(item: Any) -> list[str]:
    """A reference item as a list of strings."""
    return [item or ""] if item is None or isinstance(item, str) else [r or "" for r in item]


def random_data(seed: int, n: int = 30, max_refs: int = 5) -> tuple[list[str], list[tuple]]:
    """Seeded predictions with 1..max_refs references each, edited copies of one another."""
    rng = random.Random(seed)
    preds, refs = [], []
    for _ in range(n):
        base = [rng.choice(VOCAB) for _ in range(rng.randint(1, 14))]
        variants = []
        for _ in range(rng.randint(1, max_refs) + 1):
            words = [w for w in base if rng.random() > 0.15]
            words = [rng.choice(VOCAB) if rng.random() < 0.15 else w for w in words]
            if rng.random() < 0.2:
                words.insert(rng.randint(0, len(words)), rng.choice(VOCAB))
            variants.append(" ".join(words))
        preds.append(variants[0])
        refs.append(tuple(variants[1:]))
    return preds, refs


def nltk_bleu(preds: list[Any], refs: list[Any]) -> float:
    """nltk corpus BLEU-4 with method1 smoothing on the declared tokens."""
    return corpus_bleu(
        [[tok(r) for r in ref_list(item)] for item in refs],
        [tok(p) for p in preds],
        smoothing_function=SmoothingFunction().method1,
    )


def direct_rouge_l(preds: list[Any], refs: list[Any]) -> float:
    """rouge-score ROUGE-L F, best reference per sample, mean over samples."""
    scorer = RougeScorer(["rougeL"], use_stemmer=True)
    best = [
        max(scorer.score(r, p or "")["rougeL"].fmeasure for r in ref_list(item))
        for p, item in zip(preds, refs, strict=True)
    ]
    return sum(best) / len(best)


def nltk_meteor(preds: list[Any], refs: list[Any]) -> float:
    """nltk meteor_score per sample on the declared tokens, mean over samples."""
    scores = [
        meteor_score([tok(r) for r in ref_list(item)], tok(p))
        for p, item in zip(preds, refs, strict=True)
    ]
    return sum(scores) / len(scores)


def naive_distinct(preds: list[Any], n: int) -> float | None:
    """Unique / total n-grams over all predictions, by plain Python counting."""
    grams = []
    for p in preds:
        t = tok(p)
        grams += [tuple(t[i : i + n]) for i in range(len(t) - n + 1)]
    return len(set(grams)) / len(grams) if grams else None


REFERENCE = {
    "bleu": nltk_bleu,
    "rouge_l": direct_rouge_l,
    "meteor": nltk_meteor,
    "distinct_1": lambda p, r: naive_distinct(p, 1),
    "distinct_2": lambda p, r: naive_distinct(p, 2),
}


@pytest.fixture(scope="session")
def wordnet() -> None:
    """WordNet in <repo>/.cache/nltk_data (idempotent setup script), loaded for nltk too."""
    proc = subprocess.run(
        [sys.executable, str(SETUP_SCRIPT)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    text_metrics.load_wordnet()  # puts the folder on nltk.data.path for the reference calls


def check(name: str, preds: list[Any], refs: list[Any], **kwargs: Any) -> Any:
    """Compute `name` and assert it equals the reference implementation within 1e-9."""
    result = compute(name, preds, refs, **kwargs)
    expected = REFERENCE[name](preds, refs)
    if expected is None:
        assert result.value is None
    else:
        assert result.value == pytest.approx(expected, abs=1e-9)
    assert result.n == len(preds)
    assert result.higher_is_better is True
    return result


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", ["bleu", "rouge_l", "distinct_1", "distinct_2"])
def test_matches_reference(name: str, seed: int) -> None:
    preds, refs = random_data(seed)
    check(name, preds, refs)


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_meteor_matches_nltk(wordnet: None, seed: int) -> None:
    preds, refs = random_data(seed, n=20)
    check("meteor", preds, refs)


@pytest.mark.parametrize("case", sorted(EDGE_CASES))
@pytest.mark.parametrize("name", NAMES)
def test_edge_cases_match_reference(wordnet: None, name: str, case: str) -> None:
    preds, refs = EDGE_CASES[case]
    result = check(name, preds, refs)
    if case == "single_sample":
        assert result.ci_low is None and result.ci_high is None


def test_edge_case_values() -> None:
    # nltk: no unigram match anywhere gives BLEU 0; an empty hypothesis adds 0 matches over 1.
    assert compute("bleu", ["", ""], ["a b", "c"]).value == 0.0
    assert compute("bleu", ["the cat sat on the mat"], ["the cat sat on the mat"]).value == 1.0
    # rouge-score: an empty side scores 0, and its tokeniser drops non-ASCII words entirely.
    assert compute("rouge_l", ["", "東京"], ["", "東京"]).value == 0.0
    # distinct-n: no n-grams at all is undefined.
    assert compute("distinct_2", ["one", ""], ["", ""]).value is None


@pytest.mark.parametrize("name", ["bleu", "rouge_l", "distinct_1"])
def test_one_versus_five_references(name: str) -> None:
    preds, refs = random_data(5, n=25, max_refs=5)
    one = [r[:1] for r in refs]
    five = [(r * 5)[:5] for r in refs]
    check(name, preds, one)
    check(name, preds, five)
    # A bare string is one reference.
    assert compute(name, preds, [r[0] for r in one]).value == compute(name, preds, one).value


def test_meteor_one_versus_five_references(wordnet: None) -> None:
    preds, refs = random_data(6, n=15, max_refs=5)
    single = check("meteor", preds, [r[:1] for r in refs]).value
    multi = check("meteor", preds, [(r * 5)[:5] for r in refs]).value
    assert multi >= single  # nltk takes the best reference per sample


def test_meteor_is_sane(wordnet: None) -> None:
    sentence = "the quick brown fox jumps over the lazy dog near the river bank"
    identical = compute("meteor", [sentence], [sentence]).value
    assert identical == pytest.approx(1.0, abs=1e-3)
    # WordNet synonyms match: "car" for "auto" scores well above an unrelated word. (nltk runs
    # the synonym stage on Porter-stemmed leftovers, so pairs like big/large, whose stems are not
    # words, do not match there; that is nltk's METEOR and we keep it.)
    synonym = compute("meteor", ["a car park"], ["an auto park"]).value
    unrelated = compute("meteor", ["a tree park"], ["an auto park"]).value
    assert synonym > unrelated + 0.2
    assert compute("meteor", ["xyzzy"], ["the cat"]).value == 0.0


def test_bleu_details_match_counts() -> None:
    result = compute("bleu", ["the cat the cat", "on the mat"], [("the cat sat",), "on a mat"])
    d = result.details
    # "the cat the cat" vs "the cat sat": the, cat clipped to 1 each (2 of 4); the-cat (1 of 3);
    # 0 of 2 trigrams; 0 of 1 four-gram. "on the mat" vs "on a mat": on, mat (2 of 3); 0 of 2
    # bigrams; 0 of 1 trigram; no four-gram, but nltk's denominator is at least 1.
    assert d["matches"] == [4, 1, 0, 0]
    assert d["totals"] == [7, 5, 3, 2]
    assert (d["hypothesis_length"], d["reference_length"]) == (7, 6)
    assert d["brevity_penalty"] == 1.0


@pytest.mark.parametrize("name", NAMES)
def test_ci_contains_value_and_params_recorded(wordnet: None, name: str) -> None:
    preds, refs = random_data(11, n=60)
    result = compute(name, preds, refs, n_resamples=300, seed=5)
    assert result.ci_low is not None and result.ci_high is not None
    assert result.ci_low <= result.value <= result.ci_high
    assert result.ci_low < result.ci_high
    assert result.params["ci"]["resamples"] == 300
    params = result.params
    if name in ("bleu", "meteor", "distinct_1", "distinct_2"):
        assert params["tokenizer"] == "nltk.tokenize.TreebankWordTokenizer"
        assert params["lowercase"] is True
    if name == "bleu":
        assert params["smoothing"] == "method1"
        assert params["max_order"] == 4
        assert params["level"] == "corpus"
        assert params["implementation"].startswith("nltk==")
    if name == "rouge_l":
        assert params["use_stemmer"] is True
        assert params["multi_reference"] == "max over references"
        assert params["implementation"].startswith("rouge-score==")
    if name == "meteor":
        assert params["multi_reference"] == "max over references"
    if name.startswith("distinct"):
        assert params["n"] == int(name[-1])
        assert params["level"].startswith("corpus")


def test_distinct_hand_checked() -> None:
    preds = ["the cat sat", "The cat ran", ""]
    # Unigrams: the cat sat the cat ran → 4 unique of 6. Bigrams: the-cat ×2, cat-sat, cat-ran.
    d1 = compute("distinct_1", preds, ["", "", ""])
    d2 = compute("distinct_2", preds, ["", "", ""])
    assert d1.value == pytest.approx(4 / 6)
    assert d1.details == {"unique_ngrams": 4, "total_ngrams": 6}
    assert d2.value == pytest.approx(3 / 4)
    assert d2.details == {"unique_ngrams": 3, "total_ngrams": 4}
    # Punctuation is a token: hello , world ! hello world → 4 unique of 6.
    assert compute("distinct_1", ["Hello, world!", "hello world"], ["", ""]).value == 4 / 6


@pytest.mark.parametrize("name", ["distinct_1", "distinct_2"])
def test_distinct_subsets_and_linearised_bootstrap(name: str) -> None:
    preds, refs = random_data(3, n=80)
    metric = get_metric(name)
    stats = metric.sample_stats(preds, refs)
    rows = list(range(0, 80, 3))
    params = metric.resolved_params()
    subset = summarize(metric, stats[rows], params)
    # Any subset of rows gives that subset's exact value (breakdowns).
    assert subset.value == pytest.approx(naive_distinct([preds[i] for i in rows], metric.order))
    # Without a per-metric bootstrap hook in summarize the stored shares (relative to all rows)
    # cannot serve a subset, so it gets no CI rather than a wrong one; with the hook it gets one.
    if subset.ci_low is not None:
        assert subset.ci_low <= subset.value <= subset.ci_high
    dist = metric.bootstrap_distribution(stats[rows], 500, 0)
    low, high = np.quantile(dist, [0.025, 0.975])
    assert low <= subset.value <= high
    assert np.mean(dist) == pytest.approx(subset.value, abs=0.02)


def test_distinct_bootstrap_is_fast() -> None:
    rng = random.Random(0)
    words = [f"w{i}" for i in range(3000)]
    weights = [1 / (i + 1) for i in range(3000)]
    preds = [" ".join(rng.choices(words, weights, k=rng.randint(5, 30))) for _ in range(2000)]
    for name in ("distinct_1", "distinct_2"):
        metric = get_metric(name)
        stats = metric.sample_stats(preds, [""] * len(preds))
        start = time.perf_counter()
        result = summarize(metric, stats, metric.resolved_params(), n_resamples=1000)
        elapsed = time.perf_counter() - start
        assert elapsed < 2.0, f"{name}: 1000 resamples over 2000 sentences took {elapsed:.2f}s"
        assert result.ci_low <= result.value <= result.ci_high


def test_bad_inputs_raise_clearly() -> None:
    with pytest.raises(VoxevalError, match="takes no parameters"):
        compute("bleu", ["a"], ["a"], normalizer="none")
    with pytest.raises(VoxevalError, match="Sample 1 has an empty list of references"):
        compute("bleu", ["a", "b"], [("a",), ()])
    assert compute("rouge_l", [], []).value is None


def test_registered_names() -> None:
    for name in NAMES:
        assert get_metric(name).name == name


def test_setup_script_copies_and_is_idempotent(tmp_path: Path) -> None:
    run = [sys.executable, str(SETUP_SCRIPT), "--nltk-data", str(tmp_path)]
    assert subprocess.run(run, capture_output=True, check=False).returncode == 0
    folder = tmp_path / "corpora" / "wordnet"
    files = sorted(folder.iterdir())
    assert {f.name for f in files} >= {"lexnames", "data.noun", "index.sense", "cntlist.rev"}
    assert not any(f.is_symlink() for f in files)
    lines = (folder / "lexnames").read_text().splitlines()
    assert len(lines) == 45
    assert lines[0] == "00\tadj.all\t3" and lines[18] == "18\tnoun.person\t1"
    before = {f.name: f.stat().st_mtime_ns for f in files}
    assert subprocess.run(run, capture_output=True, check=False).returncode == 0
    assert {f.name: f.stat().st_mtime_ns for f in folder.iterdir()} == before


def test_setup_script_names_debian_packages(tmp_path: Path) -> None:
    run = [sys.executable, str(SETUP_SCRIPT), "--nltk-data", str(tmp_path / "out")]
    proc = subprocess.run(
        [*run, "--source", str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 1
    assert "wordnet-base" in proc.stderr and "wordnet-sense-index" in proc.stderr


def test_missing_wordnet_error_is_clear(tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import nltk
        nltk.data.path[:] = [{str(tmp_path)!r}]
        from voxeval.errors import VoxevalError
        from voxeval.metrics import compute
        try:
            compute("meteor", ["a cat"], ["a cat"])
        except VoxevalError as exc:
            print(exc)
        else:
            print("NO ERROR")
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "NLTK_DATA"}
    env.update(VOXEVAL_NLTK_DATA=str(tmp_path), VOXEVAL_PLUGINS="", HOME=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 0, proc.stderr
    message = proc.stdout
    assert "python scripts/setup_nltk_data.py" in message
    assert "wordnet-base" in message and "wordnet-sense-index" in message
    assert "VOXEVAL_NLTK_DATA" in message


# Dialogue-like replies with contractions, punctuation, stems (running/runs), a WordNet synonym
# (car/auto), an empty prediction, and one to three references each.
DIALOGUE = (
    [
        "Congratulations! You must be thrilled; when do you start?",
        "I'm so sorry to hear that. Don't give up - the vet will find it.",
        "That sounds frustrating... Could you park the car somewhere else?",
        "Running late again? It happens; take a deep breath.",
        "",
        "Wow, a big surprise party? That's lovely!",
    ],
    [
        (
            "That's fantastic news, well done! When do you start?",
            "Congratulations, you must be so happy.",
        ),
        (
            "I'm sorry, that sounds really stressful.",
            "Poor thing. I hope the vet finds the cause soon!",
            "Don't lose hope.",
        ),
        "How annoying. Maybe leave the auto in another park?",
        ("Late again? Don't worry, these things happen.", "Take a breath; you're running fine."),
        ("Okay.",),
        ("What a large, lovely surprise!", "A surprise party, how wonderful."),
    ],
)
# What the metrics gave on these inputs before they were memoised and WordNet got its own loader
# (issue 16), printed with repr: speed work must not move a value by a single bit.
PINNED = {
    "dialogue": {
        "bleu": 0.14104083022932165,
        "rouge_l": 0.30382683995384224,
        "meteor": 0.34276432910405136,
        "distinct_1": 0.8,
        "distinct_2": 1.0,
    },
    "random": {
        "bleu": 0.520031245063622,
        "rouge_l": 0.6882932950161795,
        "meteor": 0.6420904047415791,
        "distinct_1": 0.10052910052910052,
        "distinct_2": 0.6666666666666666,
    },
}


@pytest.mark.parametrize("memos", ["cold", "warm"])
def test_values_equal_the_pinned_ones_exactly(wordnet: None, memos: str) -> None:
    sets = {"dialogue": DIALOGUE, "random": random_data(4, n=40)}
    text_metrics.clear_caches()
    if memos == "warm":  # every memo already filled by an earlier scoring pass
        for preds, refs in sets.values():
            for name in NAMES:
                compute(name, preds, refs, n_resamples=0)
    for key, (preds, refs) in sets.items():
        got = {name: compute(name, preds, refs, n_resamples=0).value for name in NAMES}
        assert got == PINNED[key], key


def test_per_sample_statistics_are_the_library_calls_exactly(wordnet: None) -> None:
    preds, refs = random_data(8, n=25)
    preds[3], refs[5] = "Don't park the car, it's running!", ("the auto runs", "")
    pairs = [
        ([tok(r) for r in ref_list(item)], tok(p)) for p, item in zip(preds, refs, strict=True)
    ]
    # METEOR: nltk's own WordNet reader and default stemmer on the reference side.
    meteor = get_metric("meteor").sample_stats(preds, refs)[:, 0]
    assert meteor.tolist() == [meteor_score(rs, hyp) for rs, hyp in pairs]
    scorer = RougeScorer(["rougeL"], use_stemmer=True)
    rouge = get_metric("rouge_l").sample_stats(preds, refs)[:, 0]
    expected = [
        max(scorer.score(r, p)["rougeL"].fmeasure for r in ref_list(item))
        for p, item in zip(preds, refs, strict=True)
    ]
    assert rouge.tolist() == expected
    bleu = get_metric("bleu").sample_stats(preds, refs)
    for row, (rs, hyp) in enumerate(pairs):
        counts = [modified_precision(rs, hyp, n) for n in range(1, 5)]
        assert bleu[row, :4].tolist() == [c.numerator for c in counts]
        assert bleu[row, 4:8].tolist() == [c.denominator for c in counts]
        assert bleu[row, 8:].tolist() == [len(hyp), closest_ref_length(rs, len(hyp))]


def test_tokenize_returns_a_fresh_list() -> None:
    first = text_metrics.tokenize("Don't stop!")
    first.append("poisoned")
    assert text_metrics.tokenize("Don't stop!") == ["do", "n't", "stop", "!"]


def test_wordnet_is_read_once_and_only_for_meteor(wordnet: None) -> None:
    code = textwrap.dedent(
        """
        import sys
        from voxeval.cli import main
        for argv in (["--help"], ["list", "tasks"]):
            try:
                main(argv)
            except SystemExit:
                pass
        import voxeval.metrics.text
        print("imported:", sorted({"nltk", "rouge_score"} & set(sys.modules)))
        from nltk.corpus.reader import wordnet as reader_module
        built = []
        original = reader_module.WordNetCorpusReader.__init__
        def counting(self, *args, **kwargs):
            built.append(1)
            original(self, *args, **kwargs)
        reader_module.WordNetCorpusReader.__init__ = counting
        from voxeval.metrics import compute
        for name in ("bleu", "rouge_l", "distinct_1", "distinct_2"):
            compute(name, ["a car"], ["an auto"])
        print("without meteor:", len(built))
        for _ in range(2):
            compute("meteor", ["a car park"], ["an auto park"])
        import nltk.corpus
        print("with meteor:", len(built), type(nltk.corpus.wordnet).__name__)
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert "imported: []" in lines  # --help, list tasks and the module import leave nltk alone
    assert "without meteor: 0" in lines
    # One reader for the process; nltk's slower default one (nltk.corpus.wordnet) never loads.
    assert "with meteor: 1 LazyCorpusLoader" in lines
