"""Per-task samples JSONL: appended and flushed per response, read back to resume or score."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, TextIO

# Errors of these kinds are tried again on resume (the adapter may succeed next time);
# decode errors are properties of the data and are kept.
RETRYABLE_ERROR_KINDS = frozenset({"adapter"})


class SamplesFile:
    """Append-only JSON-lines checkpoint of one task's finished samples."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: TextIO | None = None

    def read(self) -> dict[str, dict[str, Any]]:
        """Latest record per sample id; a torn last line (crash mid-write) is cut off."""
        if not self.path.exists():
            return {}
        records: dict[str, dict[str, Any]] = {}
        good_bytes = 0
        with self.path.open("rb") as fh:
            for raw in fh:
                try:
                    record = json.loads(raw)
                except ValueError:  # bad JSON, or a line cut inside a UTF-8 character
                    break
                if not raw.endswith(b"\n"):
                    break
                records[record["sample_id"]] = record
                good_bytes += len(raw)
        if good_bytes < self.path.stat().st_size:
            os.truncate(self.path, good_bytes)
        return records

    def finished_ids(self) -> set[str]:
        """Ids whose latest record needs no new model call."""
        return {
            sid
            for sid, rec in self.read().items()
            if not rec.get("error") or rec["error"]["kind"] not in RETRYABLE_ERROR_KINDS
        }

    def append(self, record: dict[str, Any]) -> None:
        """Write one record as a line and flush it to the OS at once."""
        if self._fh is None:
            self._fh = self.path.open("a", encoding="utf-8")
        self._fh.write(json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n")
        self._fh.flush()

    def close(self) -> None:
        """Close the file handle if open."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
