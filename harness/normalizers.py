"""Text normalisers for ASR scoring, by name, each with a version recorded in results.

Whisper's normaliser code is the copy transformers ships
(transformers/models/whisper/english_normalizer.py). That one file needs only the standard
library and `regex`, so it is loaded on its own from the installed wheel: the same code,
without the ~2 s it takes to import the transformers package.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import metadata, resources
from pathlib import Path
from types import ModuleType

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


@cache
def whisper_module() -> ModuleType:
    """transformers' english_normalizer module, loaded from its file without the package."""
    name = "transformers.models.whisper.english_normalizer"
    if name in sys.modules:  # transformers is already imported: use its module
        return sys.modules[name]
    spec = importlib.util.find_spec("transformers")  # locates; does not import
    if spec is None or not spec.submodule_search_locations:
        raise VoxevalError("The Whisper normalisers need transformers: pip install transformers.")
    path = Path(spec.submodule_search_locations[0]) / "models/whisper/english_normalizer.py"
    file_spec = importlib.util.spec_from_file_location("voxeval._whisper_normalizer", path)
    if file_spec is None or file_spec.loader is None:
        raise VoxevalError(f"Cannot load Whisper's normaliser from {path}.")
    module = importlib.util.module_from_spec(file_spec)
    file_spec.loader.exec_module(module)
    return module


def _whisper_english() -> Normalizer:
    spelling, version = _whisper_spelling()
    normalize = whisper_module().EnglishTextNormalizer(spelling)
    return Normalizer("whisper_english", version, normalize)


def _oasr() -> Normalizer:
    """The Open ASR Leaderboard's current English normaliser: Whisper's plus its rules."""
    from voxeval import oasr_normalizer

    spelling, base_version = _whisper_spelling()
    base = whisper_module().EnglishTextNormalizer(oasr_normalizer.spelling_map(spelling))
    version = f"{oasr_normalizer.rules_version()}; base {base_version}"
    return Normalizer("oasr", version, oasr_normalizer.configure(base))


def _whisper_basic() -> Normalizer:
    version = f"transformers=={metadata.version('transformers')}"
    return Normalizer("whisper_basic", version, whisper_module().BasicTextNormalizer())


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
