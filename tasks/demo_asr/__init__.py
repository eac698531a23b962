"""demo-asr: 30 bundled English TTS clips for a first run with no network (not a benchmark)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import ClassVar

from voxeval.errors import DataNotFoundError, VoxevalError
from voxeval.hookspecs import hookimpl
from voxeval.task import DatasetInfo, MetricSpec, Task, hash_files
from voxeval.types import Sample, TaskKind

MANIFEST = "manifest.jsonl"
REQUIRED_KEYS = ("id", "audio", "text")


class DemoAsr(Task):
    """Transcribe short TTS sentences; a smoke test of the whole pipeline."""

    name: ClassVar[str] = "demo-asr"
    version: ClassVar[str] = "1"
    kind: ClassVar[TaskKind] = "asr"
    description: ClassVar[str] = "DEMO: 30 English TTS sentences (festival, flite, espeak-ng)"
    metrics: ClassVar[tuple[MetricSpec, ...]] = (
        MetricSpec("wer", {"normalizer": "whisper_english"}),
        MetricSpec("cer", {"normalizer": "whisper_english"}),
    )
    breakdowns: ClassVar[tuple[str, ...]] = ("tts",)

    def root(self) -> Path:
        """The folder holding manifest.jsonl: --data-dir (or its demo-asr/), else the bundle."""
        if self.data_dir is None:
            return Path(str(resources.files(__package__).joinpath("data")))
        if not self.data_dir.is_dir():
            raise DataNotFoundError(
                f"Data folder {self.data_dir} does not exist. Point --data-dir at a folder "
                f"holding {MANIFEST} (or a demo-asr/ sub-folder with it), or leave it out to "
                "use the bundled demo set."
            )
        for candidate in (self.data_dir / self.name, self.data_dir):
            if (candidate / MANIFEST).is_file():
                return candidate
        raise DataNotFoundError(
            f"No {MANIFEST} in {self.data_dir} or {self.data_dir / self.name}. demo-asr reads a "
            f"JSON-lines manifest with keys {', '.join(REQUIRED_KEYS)} (audio relative to it)."
        )

    def dataset(self) -> DatasetInfo:
        """Content hash over the manifest and every audio file."""
        root = self.root()
        files = {MANIFEST: root / MANIFEST}
        files.update((e["audio"], root / e["audio"]) for e in self._entries(root))
        existing = {name: path for name, path in files.items() if path.is_file()}
        return DatasetInfo(
            id="voxeval/demo-asr",
            split="test",
            content_hash=hash_files(existing, contents=True),
            hash_method="sha256(manifest + audio bytes)",
            demo=True,
            source=str(root) if self.data_dir else "bundled",
        )

    def samples(self) -> Iterator[Sample]:
        """One sample per manifest line; audio is a path decoded later by the runner."""
        root = self.root()
        for entry in self._entries(root):
            meta = {k: entry[k] for k in ("tts", "voice") if k in entry}
            yield Sample(
                id=str(entry["id"]),
                audio=root / entry["audio"],
                references=(entry["text"],),
                metadata=meta,
            )

    def _entries(self, root: Path) -> list[dict]:
        path = root / MANIFEST
        entries, seen = [], set()
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as exc:
                raise VoxevalError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from None
            missing = [k for k in REQUIRED_KEYS if k not in entry]
            if missing:
                raise VoxevalError(f"{path}:{lineno}: missing key(s) {', '.join(missing)}")
            if entry["id"] in seen:
                raise VoxevalError(f"{path}:{lineno}: duplicate id {entry['id']!r}")
            seen.add(entry["id"])
            entries.append(entry)
        return entries


@hookimpl
def register_tasks(register: Callable[..., None]) -> None:
    """Register demo-asr."""
    register(DemoAsr)
