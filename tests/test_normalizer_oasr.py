"""normalizer=oasr (the Open ASR Leaderboard's current English rules) and compounds=merge.

Every rule class has a reference/hypothesis pair that costs errors under whisper_english and
none under oasr, so a rule that stops working fails its own test. Expected normalised forms
follow the leaderboard's rules as read in huggingface/open_asr_leaderboard (see
voxeval/oasr_normalizer.py); the compound alignment is checked against kaldialign's counts.
"""

from __future__ import annotations

import ast
import inspect

import pytest

from voxeval import oasr_normalizer
from voxeval.errors import VoxevalError
from voxeval.metrics import compute
from voxeval.metrics.wer import compound_stats
from voxeval.normalizers import get_normalizer, normalizer_names


def oasr(text: str) -> str:
    return get_normalizer("oasr").normalize(text).strip()


def whisper(text: str) -> str:
    return get_normalizer("whisper_english").normalize(text).strip()


def wer(ref: str, hyp: str, normalizer: str, compounds: str = "none") -> float:
    result = compute("wer", [hyp], [ref], normalizer=normalizer, compounds=compounds)
    assert result.value is not None
    return result.value


# (rule class, reference, hypothesis): each costs errors under whisper_english, none under oasr.
RULE_PAIRS = [
    ("fillers", "So, erm, I think uhh we should, hmmm, go.", "so I think we should go"),
    ("fillers", "Uh-huh, mm-hmm, ah-ha, that's it.", "that's it"),
    ("compounds", "Send me an e-mail over the Wi-Fi.", "send me an email over the wifi"),
    (
        "compounds",
        "All right, a T-shirt and an X-ray, et cetera.",
        "alright a tshirt and an xray etc",
    ),
    ("compounds", "It starts at 9 a.m. or 2 p.m.", "it starts at 9 am or 2 pm"),
    ("acronyms", "The B.B.C. said the U.S. has 5 G.", "the BBC said the US has 5G"),
    ("acronyms", "I work at I B M.", "i work at IBM"),
    ("names", "Jon met Stephen and Katherine.", "John met Steven and Catherine"),
    ("names", "Geoffrey MacDonald called Sara.", "jeffrey mcdonald called sarah"),
    ("spelling", "OK, the archaeology flyer.", "okay the archeology flier"),
    ("spelling", "Two snowploughs and a travelogue.", "two snowplows and a travelog"),
    ("times", "See you at half past three.", "see you at 3:30"),
    ("times", "It's quarter to twelve, not three o'clock.", "it's 11:45 not 3:00"),
    ("times", "Ten minutes past one.", "1:10"),
    ("oh", "Ooh, that hurt.", "oh that hurt"),
    ("oh", "Ohh, I see.", "oh I see"),
    ("periods", "It costs $", "it costs"),
]


@pytest.mark.parametrize(("rule", "ref", "hyp"), RULE_PAIRS, ids=[p[0] for p in RULE_PAIRS])
def test_rule_pair_fails_under_whisper_and_passes_under_oasr(rule: str, ref: str, hyp: str) -> None:
    assert wer(ref, hyp, "whisper_english") > 0, f"{rule}: whisper_english already equates them"
    assert wer(ref, hyp, "oasr") == 0.0, f"{rule}: {oasr(ref)!r} != {oasr(hyp)!r}"


def test_every_rule_class_has_a_pair() -> None:
    classes = {rule for rule, _, _ in RULE_PAIRS}
    assert classes == {
        "fillers",
        "compounds",
        "acronyms",
        "names",
        "spelling",
        "times",
        "oh",
        "periods",
    }


def test_possessive_s_stays_a_word_and_merges_with_compounds() -> None:
    # Whisper reads every "'s" as "is"; OASR only after it/he/she/what/that/who/…
    assert whisper("John's car, it's here") == "john is car it is here"
    assert oasr("John's car, it's here") == "john s car it is here"
    assert oasr("what's that, there's more, who's he") == "what is that there is more who is he"
    assert oasr("she's been, he's got") == "she has been he has got"  # Whisper's perfect tenses
    ref, hyp = "the dog's bowl", "the dogs bowl"
    assert wer(ref, hyp, "whisper_english") > 0
    assert wer(ref, hyp, "oasr", compounds="merge") == 0.0


def test_oh_is_a_zero_only_inside_a_digit_sequence() -> None:
    assert whisper("oh my god") == "0 my god"
    assert oasr("oh my god") == "oh my god"
    assert oasr("call four oh one five") == "call 4015"  # a number is being read
    assert oasr("oh seven nine eight") == "0798"  # two more digits follow
    assert oasr("oh one") == "oh one"  # one digit after and nothing pending: a word
    assert oasr("double oh seven") == "007"
    assert oasr("nineteen oh five") == "1905"
    assert oasr("oh oh") == "oh oh"
    # The other side of the rule: "o" is still a zero, so "oh"/"o" no longer match.
    assert wer("oh no", "o no", "whisper_english") == 0.0
    assert wer("oh no", "o no", "oasr") > 0


def test_fillers_and_acronym_guards() -> None:
    assert oasr("a big cat") == "a big cat"  # a lone "a" is a word
    assert oasr("a b testing") == "a b testing"  # a run with "a" needs three letters
    assert oasr("plan b c") == "plan bc"
    assert oasr("hum, hmmph, mmkay, tsk") == ""
    assert oasr("oh, ah, ha") == "oh ha"  # "ha" alone is not a filler
    assert whisper("erm, uhh") == "erm uhh"


def test_time_forms_meet() -> None:
    assert oasr("half past three") == oasr("3:30") == "3 30"
    assert oasr("three thirty") == "330"  # no clock rule for this: Whisper's digits run on
    assert oasr("three o'clock") == oasr("3:00") == oasr("three o clock") == "3"
    assert oasr("quarter to one") == "12 45"  # the hour before one on a 12-hour clock
    assert oasr("25:30 and 3:75") == "25 30 and 3 75"  # not clock times: left alone


def test_spelling_map_changes_against_whisper() -> None:
    whisper_map = get_normalizer("whisper_english").normalize.standardize_spellings.mapping
    mapping = oasr_normalizer.spelling_map(whisper_map)
    assert mapping["ok"] == mapping["kay"] == "okay"
    assert mapping["archaeology"] == "archeology"  # Whisper's entry carries "</span>"
    assert mapping["cancellation"] == "cancelation" and "cancelation" not in mapping
    assert "flyer / flier" not in mapping and mapping["flyer"] == "flier"
    changed = {
        k for k in mapping.keys() | whisper_map.keys() if mapping.get(k) != whisper_map.get(k)
    }
    assert len(changed) == 18  # 12 added or rewritten, 6 removed


def test_oasr_leaves_whisper_english_alone() -> None:
    oasr("oh my god")  # builds and configures the oasr instance
    assert whisper("oh my god") == "0 my god"
    assert whisper("e-mail") == "e mail"


def test_version_names_rule_source_and_hashes() -> None:
    result = compute("wer", ["a"], ["a"], normalizer="oasr")
    version = result.params["normalizer_version"]
    assert result.params["normalizer"] == "oasr"
    assert "huggingface/open_asr_leaderboard" in version
    assert "english_abbreviations.py@30df8c90b663" in version
    assert "oasr_rules.json sha256:" in version
    assert "transformers==" in version and "english.json sha256:" in version
    assert result.params["compounds"] == "none"


def test_rules_module_does_not_import_transformers() -> None:
    tree = ast.parse(inspect.getsource(oasr_normalizer))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(name.startswith("transformers") for name in imported)


def test_unknown_names_are_clear() -> None:
    assert "oasr" in normalizer_names()
    with pytest.raises(VoxevalError, match="oasr"):
        compute("wer", ["a"], ["a"], normalizer="oasr2")
    with pytest.raises(VoxevalError, match=r"Unknown compounds mode 'join'.*none, merge"):
        compute("wer", ["a"], ["a"], compounds="join")
    with pytest.raises(VoxevalError, match="word error rate, not cer"):
        compute("cer", ["a"], ["a"], compounds="merge")


# --- compound-merging alignment (the leaderboard's kaldialign merge_compounds=True) ---------


@pytest.mark.parametrize(
    ("ref", "hyp", "expected"),
    [
        ("white paper", "whitepaper", (0, 0, 0)),
        ("whitepaper", "white paper", (0, 0, 0)),
        ("a note book here", "a notebook there", (1, 0, 0)),
        ("any more data base", "anymore database", (0, 0, 0)),
        ("a b c", "abc d", (0, 0, 1)),
        ("note book", "book note", (0, 1, 1)),  # a join keeps word order; del before ins on ties
        ("", "note book", (0, 0, 2)),
    ],
)
def test_compound_edits_by_hand(ref: str, hyp: str, expected: tuple[int, int, int]) -> None:
    sub, dele, ins, hits = compound_stats([ref], [hyp])[0]
    assert (sub, dele, ins) == expected
    assert hits == len(ref.split()) - sub - dele


def test_merged_wer_matches_kaldialign_batch_error_rate() -> None:
    import kaldialign

    refs = ["I wrote it in my note book.", "Check the data base, OK?", "The white paper is out."]
    hyps = ["i wrote it in my notebook", "check the database okay", "the whitepaper's out"]
    norm = get_normalizer("oasr").normalize
    expected = kaldialign.batch_error_rate(
        [norm(r).split() for r in refs], [norm(h).split() for h in hyps], merge_compounds=True
    )
    result = compute("wer", hyps, refs, normalizer="oasr", compounds="merge")
    assert result.value == pytest.approx(expected["err_rate"])
    d = result.details
    assert (d["substitutions"], d["deletions"], d["insertions"]) == (
        expected["sub"],
        expected["del"],
        expected["ins"],
    )
    assert d["reference_words"] == expected["ref_len"]
    assert result.params["compounds"] == "merge"


def test_merge_lowers_wer_only_where_compounds_split() -> None:
    refs = ["my note book is on the desk", "the cat sat"]
    hyps = ["my notebook is on the desk", "the cat sat"]
    plain = compute("wer", hyps, refs, normalizer="oasr")
    merged = compute("wer", hyps, refs, normalizer="oasr", compounds="merge")
    assert plain.value == pytest.approx(2 / 10)
    assert merged.value == 0.0
    assert merged.details["reference_words"] == plain.details["reference_words"] == 10
    assert merged.details["hits"] == 10
