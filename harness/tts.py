"""Text-to-speech with local engines (espeak-ng, flite, festival), cached as WAVs on disk.

Tasks that need spoken input but ship only text synthesise it here on request; the cache key
is engine, engine version, voice and text, so a cached file is reused across runs and tasks.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from voxeval.errors import VoxevalError

Engine = Literal["espeak-ng", "flite", "festival"]
DEFAULT_VOICES = {"espeak-ng": "en-us", "flite": "slt", "festival": "kal_diphone"}
_PROGRAMS = {"espeak-ng": "espeak-ng", "flite": "flite", "festival": "text2wave"}
_VERSION_COMMANDS = {
    "espeak-ng": ["espeak-ng", "--version"],
    "flite": ["flite", "--version"],
    "festival": ["festival", "--version"],
}


def run_tts(command: list[str]) -> None:
    """Run one synthesis command (the single place speech is made; tests count the calls)."""
    subprocess.run(command, check=True, capture_output=True, timeout=120)


def default_cache_dir() -> Path:
    """The shared TTS cache: $VOXEVAL_CACHE_DIR/tts or ~/.cache/voxeval/tts."""
    from voxeval.workspace import cache_dir

    return cache_dir() / "tts"


@dataclass
class TtsCache:
    """WAVs on disk keyed by engine, engine version, voice and text; reused across runs."""

    engine: str
    voice: str
    root: Path
    version: str = field(init=False)

    def __post_init__(self) -> None:
        program = _PROGRAMS[self.engine]
        if shutil.which(program) is None:
            raise VoxevalError(
                f"tts={self.engine} needs the `{program}` program; install it (Debian: "
                f"apt-get install {self.engine})."
            )
        if not re.fullmatch(r"[A-Za-z0-9_+\-]+", self.voice):
            raise VoxevalError(f"tts_voice={self.voice!r}: use a plain voice name, e.g. en-us.")
        if self.engine == "flite":  # flite falls back to another voice without a word
            listed = subprocess.run(["flite", "-lv"], capture_output=True, text=True).stdout
            if self.voice not in listed.split():
                raise VoxevalError(f"tts_voice={self.voice!r} is not a flite voice: {listed}")
        out = subprocess.run(_VERSION_COMMANDS[self.engine], capture_output=True, text=True)
        found = re.search(r"\d+\.\d+(?:\.\d+)?", out.stdout + out.stderr)
        self.version = found.group(0) if found else "unknown"

    @property
    def identity(self) -> str:
        """Engine, version and voice: recorded with the dataset identity."""
        return f"{self.engine} {self.version} voice {self.voice}"

    def path(self, text: str) -> Path:
        """Where the audio of `text` is (or will be) cached."""
        key = json.dumps([self.engine, self.version, self.voice, text])
        return self.root / self.engine / f"{hashlib.sha256(key.encode()).hexdigest()}.wav"

    def ensure(self, texts: list[str]) -> dict[str, Path]:
        """Synthesise every text not yet cached (in parallel: each call is a subprocess)."""
        paths = {text: self.path(text) for text in dict.fromkeys(texts)}
        todo = [text for text, path in paths.items() if not path.is_file()]
        if todo:
            (self.root / self.engine).mkdir(parents=True, exist_ok=True)
            with ThreadPoolExecutor(max(1, min(8, os.cpu_count() or 1))) as pool:
                list(pool.map(lambda t: self._synthesise(t, paths[t]), todo))
        return paths

    def _synthesise(self, text: str, target: Path) -> None:
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            text_file, wav = Path(tmp) / "text.txt", Path(tmp) / "out.wav"
            if self.engine != "espeak-ng":  # flite and festival read Latin text only
                text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
            text_file.write_text(text + "\n", encoding="utf-8")
            try:
                run_tts(self._command(text_file, wav))
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
                raise VoxevalError(f"tts={self.engine} failed on {text[:60]!r}: {exc}") from None
            if not wav.is_file() or wav.stat().st_size == 0:  # e.g. festival, unknown voice
                raise VoxevalError(
                    f"tts={self.engine} (voice {self.voice}) made no audio for {text[:60]!r}; "
                    "check tts_voice."
                )
            os.replace(wav, target)  # atomic: a crash never leaves half a cached file

    def _command(self, text_file: Path, wav: Path) -> list[str]:
        if self.engine == "espeak-ng":
            return ["espeak-ng", "-v", self.voice, "-w", str(wav), "-f", str(text_file)]
        if self.engine == "flite":
            return ["flite", "-voice", self.voice, "-f", str(text_file), "-o", str(wav)]
        return ["text2wave", "-eval", f"(voice_{self.voice})", "-o", str(wav), str(text_file)]


def open_cache(engine: str, voice: str | None = None, cache_dir: Path | None = None) -> TtsCache:
    """A TtsCache with the engine's default voice and the shared cache folder unless given."""
    return TtsCache(engine, voice or DEFAULT_VOICES[engine], Path(cache_dir or default_cache_dir()))


def synthesize(
    text: str, engine: str, voice: str | None = None, cache_dir: Path | None = None
) -> Path:
    """The cached WAV of `text` spoken by `engine` with `voice`, synthesised if not cached."""
    return open_cache(engine, voice, cache_dir).ensure([text])[text]
