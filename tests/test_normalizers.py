"""The Whisper normalisers load without importing transformers, and equal transformers' own."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from voxeval.metrics.wer import normalize_all
from voxeval.normalizers import get_normalizer
from voxeval.tasks.demo_asr import DemoAsr

TRICKY = [
    "Mr. Smith paid $20 million in the 1960s, twenty-one times!",
    "I'm sure it's 3.5% or one hundred and five — colour me surprised, o'clock.",
    "Cause I'd've gone; won't you? [laughs] (noise) Ünïcödé ½ £3 €5.50 1st 2nd",
    "",
    "ninety nine point nine, double seven, oh four, minus five",
]


def test_no_transformers_import_for_any_normaliser():
    code = (
        "import sys\nfrom voxeval.normalizers import get_normalizer\n"
        "for n in ('whisper_english', 'whisper_basic', 'oasr', 'none'):\n"
        "    get_normalizer(n).normalize('Mr. Smith paid $20')\n"
        "print('transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("name", ["whisper_english", "whisper_basic"])
def test_equal_to_the_transformers_package_classes(name):
    from importlib import resources

    from transformers.models.whisper import english_normalizer as package

    if name == "whisper_english":
        raw = resources.files("whisper_normalizer").joinpath("normalizers/english.json")
        reference = package.EnglishTextNormalizer(json.loads(raw.read_bytes()))
    else:
        reference = package.BasicTextNormalizer()
    texts = (
        TRICKY
        + [s.text for s in DemoAsr().samples() if s.text]
        + [r for s in DemoAsr().samples() for r in s.references]
    )
    ours = get_normalizer(name).normalize
    assert [ours(t) for t in texts] == [reference(t) for t in texts]


def test_each_list_is_normalised_once(monkeypatch):
    calls = []
    real = get_normalizer("whisper_english")

    class Counting:
        name, version = real.name, real.version

        @staticmethod
        def normalize(text):
            calls.append(text)
            return real.normalize(text)

    monkeypatch.setattr("voxeval.metrics.wer.get_normalizer", lambda name: Counting)
    texts = [f"Text number {i}." for i in range(5)]
    first = normalize_all("whisper_english", texts)
    again = normalize_all("whisper_english", list(texts))  # an equal list: not redone
    assert first == again == [real.normalize(t) for t in texts] and len(calls) == 5
