"""Demo sets bundled inside voxeval: data/manifest.jsonl plus audio, or that layout in
--data-dir. Demo data, never a benchmark result (DatasetInfo.demo is set)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from voxeval.errors import DataNotFoundError, VoxevalError
from voxeval.task import DatasetInfo, Task, hash_files

MANIFEST = "manifest.jsonl"


class BundledDemoTask(Task):
    """Base of demo-asr and demo-dialogue: finds, hashes and reads the manifest."""

    package: ClassVar[str]  # the package whose data/ folder holds the bundled set
    dataset_id: ClassVar[str]
    required_keys: ClassVar[tuple[str, ...]] = ("id", "audio", "text")

    def root(self) -> Path:
        """The folder holding manifest.jsonl: --data-dir (or its <task>/), else the bundle."""
        if self.data_dir is None:
            return Path(str(resources.files(self.package).joinpath("data")))
        if not self.data_dir.is_dir():
            raise DataNotFoundError(
                f"Data folder {self.data_dir} does not exist. Point --data-dir at a folder "
                f"holding {MANIFEST} (or a {self.name}/ sub-folder with it), or leave it out to "
                "use the bundled demo set."
            )
        for candidate in (self.data_dir / self.name, self.data_dir):
            if (candidate / MANIFEST).is_file():
                return candidate
        raise DataNotFoundError(
            f"No {MANIFEST} in {self.data_dir} or {self.data_dir / self.name}. {self.name} "
            f"reads a JSON-lines manifest with keys {', '.join(self.required_keys)} (audio "
            "relative to it)."
        )

    def dataset(self) -> DatasetInfo:
        """Content hash over the manifest and every audio file."""
        root = self.root()
        files = {MANIFEST: root / MANIFEST}
        files.update((e["audio"], root / e["audio"]) for e in self.entries(root))
        existing = {name: path for name, path in files.items() if path.is_file()}
        return DatasetInfo(
            id=self.dataset_id,
            split="test",
            content_hash=hash_files(existing, contents=True),
            hash_method="sha256(manifest + audio bytes)",
            demo=True,
            source=str(root) if self.data_dir else "bundled",
        )

    def entries(self, root: Path) -> list[dict[str, Any]]:
        """The manifest's objects, checked for the required keys and unique ids."""
        path = root / MANIFEST
        entries, seen = [], set()
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as exc:
                raise VoxevalError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from None
            if not isinstance(entry, dict):
                raise VoxevalError(f"{path}:{lineno}: expected a JSON object")
            missing = [k for k in self.required_keys if k not in entry]
            if missing:
                raise VoxevalError(f"{path}:{lineno}: missing key(s) {', '.join(missing)}")
            if entry["id"] in seen:
                raise VoxevalError(f"{path}:{lineno}: duplicate id {entry['id']!r}")
            seen.add(entry["id"])
            entries.append(entry)
        return entries
