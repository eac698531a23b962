"""The Open ASR Leaderboard's current English normaliser, as rules on top of Whisper's.

Since its PR #142 (April 2026) the leaderboard (huggingface/open_asr_leaderboard,
normalizer/normalizer.py and normalizer/english_abbreviations.py) scores English with Whisper's
EnglishTextNormalizer changed in these places, each reproduced here in voxeval's own code:

- fillers: a longer hesitation list, elongations included ("uhh", "hmmm", "erm", "ah-ha")
- clock times: "half past three", "3:30" → "3:30"; "three o'clock", "3:00" → "3"
- "'s" reads as "is" only after it/he/she/what/that/who/here/there/how/when/where/why/this
  ("john's" stays a possessive), and a period not before a digit is a word break
- compounds: "wi fi" → "wifi", "e mail" → "email", "all right" → "alright", "o k" → "okay" …
- "oh" is a zero only inside a digit sequence ("four oh one"), not the interjection
- spelling: Whisper's list with the leaderboard's fixes, plus "ok"/"kay" → "okay"
- names: common spelling variants folded ("jon" → "john", "stephen" → "steven")
- acronyms: runs of single letters or digits joined ("b b c" → "bbc", "5 g" → "5g")

Word lists live in data/oasr_rules.json. The base Whisper normaliser (transformers) is built
by voxeval.normalizers and handed in; this module does not import transformers.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from importlib import resources
from typing import Any

# fmt: off
ONES = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
        "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
# fmt: on
# Placeholder words for the "oh" rule: private-use characters, which no transcript carries
# (Whisper's symbol removal keeps them, so text that did would be misread).
KEEP, PROBE, PENDING = "\ue000", "\ue001", "\ue002"


@cache
def rules_bytes() -> bytes:
    """The raw rules file (hashed into the normaliser's version)."""
    return resources.files("voxeval").joinpath("data/oasr_rules.json").read_bytes()


@cache
def rules() -> dict[str, Any]:
    """The leaderboard's word lists: fillers, compounds, names, spelling changes."""
    return json.loads(rules_bytes())


def rules_version() -> str:
    """Where the rules come from and the hash of voxeval's copy of them."""
    digest = hashlib.sha256(rules_bytes()).hexdigest()[:12]
    return f"{rules()['source']}; oasr_rules.json sha256:{digest}"


def spelling_map(whisper: dict[str, str]) -> dict[str, str]:
    """Whisper's british→american map with the leaderboard's additions and removals."""
    change = rules()["spelling"]
    mapping = {k: v for k, v in whisper.items() if k not in set(change["remove"])}
    mapping.update(change["add"])
    return mapping


def configure(base: Any) -> Callable[[str], str]:
    """Turn a Whisper EnglishTextNormalizer (built with `spelling_map`) into the OASR one."""
    numbers = base.standardize_numbers
    install_oh_rule(numbers)
    spell = base.standardize_spellings
    # Whisper's __call__ reads these four attributes at call time, in OASR's order of steps.
    base.ignore_patterns = r"\b(" + "|".join(rules()["fillers"]) + r")\b"
    base.replacers = {**ClockTimes(numbers).replacers(), **_replacers(base.replacers)}
    base.standardize_numbers = lambda s: numbers(join_compounds(s))
    base.standardize_spellings = lambda s: join_letter_runs(fold_names(spell(s)))

    def normalize(text: str) -> str:
        # Whisper keeps a symbol at the very end ("costs $"); OASR's lookarounds drop it.
        s = re.sub(r"[.$¢€£](?![0-9])", " ", base(text))
        s = re.sub(r"(?<![0-9])%", " ", s)
        return re.sub(r"\s+", " ", s)

    return normalize


def _replacers(whisper: dict[str, str]) -> dict[str, str]:
    """Whisper's contraction rules with "'s" narrowed, then OASR's period rule."""
    narrowed = r"\b(" + "|".join(rules()["is_contractions"]) + r")'s\b"
    out = {}
    for pattern, replacement in whisper.items():
        if pattern == r"'s\b":  # same place in the order, fewer words
            pattern, replacement = narrowed, r"\1 is"
        out[pattern] = replacement
    # OASR breaks at every period not before a digit; Whisper's own rule then finds none left.
    out[r"\.(?![0-9])"] = " "
    return out


def join_compounds(text: str) -> str:
    """Write the leaderboard's split compounds joined ("wi fi" → "wifi", "ohh" → "oh")."""
    for phrase, joined in rules()["compounds"]:
        pattern = r"\b" + r"\s+".join(map(re.escape, phrase.split())) + r"\b"
        text = re.sub(pattern, joined, text)
    for pattern, word in rules()["elongations"]:
        text = re.sub(rf"\b{pattern}\b", word, text)
    return text


def fold_names(text: str) -> str:
    """Fold common first-name and surname spelling variants to one form."""
    names = rules()["names"]
    return " ".join(names.get(word, word) for word in text.split())


def join_letter_runs(text: str) -> str:
    """Join runs of single-character words into one ("b b c" → "bbc", "5 g" → "5g").

    A run holding "a" or "i" must be three long, so "a big cat" and "i b m" behave.
    """
    out: list[str] = []
    run: list[str] = []
    for word in [*text.split(), ""]:  # "" flushes the last run
        if len(word) == 1 and word.isalnum():
            run.append(word)
            continue
        need = 3 if any(c in ("a", "i") for c in run) else 2
        out.extend(["".join(run)] if run and len(run) >= need else run)
        run = []
        if word:
            out.append(word)
    return " ".join(out)


def install_oh_rule(numbers: Any) -> None:
    """Make Whisper's number normaliser read "oh" as zero only inside a digit sequence.

    OASR's rule: "oh" is a digit when the next word is one and either a number is already
    being read or the word after next is a digit too ("oh seven nine"). Whether a number is
    being read is the number normaliser's own state, so it is asked, not re-derived: a probe
    word that prints a marker only when a value is pending. Words the rule keeps become a
    placeholder that Whisper treats like "oh" when looking ahead, yet prints as a word.
    """
    process = numbers.process_words
    for token, suffix in ((KEEP, " " + KEEP), (PROBE, " " + PENDING)):
        numbers.words.add(token)  # looks like a number word to its neighbours, as "oh" does
        numbers.decimals.add(token)
        numbers.suffixers[token] = suffix  # prints after a pending value, else itself

    def digit_like(word: str | None) -> bool:
        return word is not None and bool(
            re.fullmatch(r"\d+", word)
            or word in numbers.zeros
            or word in numbers.ones
            or word in numbers.tens
        )

    def pending(before: list[str]) -> bool:
        return any(PENDING in out for out in process([*before, PROBE]) if out)

    def process_words(words: Iterable[str]) -> Iterator[str]:
        words = list(words)
        marked = list(words)
        for i, word in enumerate(words):
            # After "double"/"triple" Whisper consumes "oh" as a repeated zero, as OASR does.
            if word != "oh" or (i and words[i - 1] in ("double", "triple")):
                continue
            after, after2 = (words[j] if j < len(words) else None for j in (i + 1, i + 2))
            if not digit_like(after) or not (digit_like(after2) or pending(marked[:i])):
                marked[i] = KEEP
        return (out.replace(KEEP, "oh") for out in process(marked) if out is not None)

    numbers.process_words = process_words


class ClockTimes:
    """Clock times in one form: "half past three", "3:30" → "3:30"; "three o'clock" → "3"."""

    def __init__(self, numbers: Callable[[str], str]) -> None:
        self.numbers = numbers
        digits = "|".join(ONES[:9])
        number = rf"(?:[0-9]{{1,2}}|(?:twenty|thirty|forty|fifty)(?:[\s-]+(?:{digits}))?|"
        number += "|".join(ONES) + "|zero)"
        clock = r"o\s*['\u2019]?\s*clock"
        amount = rf"half|(?:a\s+)?quarter|{number}\s+minutes?"
        self.relative = re.compile(
            rf"(?<![\w.:])(?P<amount>{amount})\s+(?P<relation>past|after|to|before)"
            rf"\s+(?P<hour>{number})(?:\s+{clock})?\b"
        )
        self.on_the_hour = re.compile(rf"(?<![\w.:])(?P<hour>{number})\s+{clock}\b")
        self.numeric = re.compile(
            r"(?<![\w:./])(?P<hour>[01]?[0-9]|2[0-3]):(?P<minute>[0-5][0-9])(?![\w:]|\.[0-9])"
        )

    def replacers(self) -> dict[Any, Callable[[re.Match[str]], str]]:
        """The three rewrites as (compiled pattern → function), applied in this order."""
        return {
            self.relative: self._relative,
            self.on_the_hour: self._on_the_hour,
            self.numeric: self._numeric,
        }

    def _value(self, words: str) -> int:
        value = self.numbers(words.replace("-", " ")).strip()
        return 1 if value == "one" else int(value)  # Whisper writes 1 as "one"

    def _relative(self, m: re.Match[str]) -> str:
        hour = self._value(m["hour"])
        amount = m["amount"]
        if amount == "half":
            minute = 30
        elif amount.endswith("quarter"):
            minute = 15
        else:
            minute = self._value(re.sub(r"\s+minutes?$", "", amount))
        if not (0 <= hour <= 23 and 0 <= minute < 60):
            return m.group()
        if m["relation"] in ("to", "before") and minute:
            # The hour before: 12-hour clock stays in 1..12, 24-hour wraps at midnight.
            hour = (hour - 2) % 12 + 1 if 1 <= hour <= 12 else (hour - 1) % 24
            minute = 60 - minute
        return f"{hour}:{minute:02d}"

    def _on_the_hour(self, m: re.Match[str]) -> str:
        hour = self._value(m["hour"])
        return f"{hour}:00" if 0 <= hour <= 23 else m.group()

    def _numeric(self, m: re.Match[str]) -> str:
        hour, minute = int(m["hour"]), int(m["minute"])
        return str(hour) if minute == 0 else f"{hour}:{minute:02d}"
