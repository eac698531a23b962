"""Text normalisers for ASR scoring, by name, each with a version recorded in results."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import metadata, resources

from voxeval.errors import VoxevalError

Normalize = Callable[[str], str]


@dataclass(frozen=True)
class Normalizer:
    """A named text normaliser and the version string that pins its behaviour."""

    name: str
    version: str
    normalize: Normalize


def _whisper_spelling() -> tuple[dict[str, str], str]:
    """Whisper's british→american spelling map and the version string that pins it."""
    # transformers ships the normaliser code but not Whisper's british→american spelling map;
    # whisper-normalizer packages that same english.json as data.
    raw = resources.files("whisper_normalizer").joinpath("normalizers/english.json").read_bytes()
    digest = hashlib.sha256(raw).hexdigest()[:12]
    version = f"transformers=={metadata.version('transformers')}; english.json sha256:{digest}"
    return json.loads(raw), version


def _whisper_english() -> Normalizer:
    from transformers.models.whisper.english_normalizer import EnglishTextNormalizer

    spelling, version = _whisper_spelling()
    return Normalizer("whisper_english", version, EnglishTextNormalizer(spelling))


def _oasr() -> Normalizer:
    """The Open ASR Leaderboard's current English normaliser: Whisper's plus its rules."""
    from transformers.models.whisper.english_normalizer import EnglishTextNormalizer

    from voxeval import oasr_normalizer

    spelling, base_version = _whisper_spelling()
    base = EnglishTextNormalizer(oasr_normalizer.spelling_map(spelling))
    version = f"{oasr_normalizer.rules_version()}; base {base_version}"
    return Normalizer("oasr", version, oasr_normalizer.configure(base))


def _whisper_basic() -> Normalizer:
    from transformers.models.whisper.english_normalizer import BasicTextNormalizer

    version = f"transformers=={metadata.version('transformers')}"
    return Normalizer("whisper_basic", version, BasicTextNormalizer())


def _none() -> Normalizer:
    return Normalizer("none", "1", lambda text: text)


_FACTORIES: dict[str, Callable[[], Normalizer]] = {
    "whisper_english": _whisper_english,
    "oasr": _oasr,
    "whisper_basic": _whisper_basic,
    "none": _none,
}


@cache
def get_normalizer(name: str) -> Normalizer:
    """Return the normaliser registered under `name`."""
    if name not in _FACTORIES:
        raise VoxevalError(f"Unknown normaliser {name!r}; choose one of: {', '.join(_FACTORIES)}.")
    return _FACTORIES[name]()


def normalizer_names() -> list[str]:
    """Names accepted by `get_normalizer`."""
    return list(_FACTORIES)
