"""Per-task samples JSONL, the runner's side: append one record per response, repair on resume.

Only the runner writes here, holding the run folder's lock (`voxeval.lock`). Readers use
`voxeval.results.records`, which never changes a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, TextIO

from voxeval.results.files import lines, open_in
from voxeval.results.records import RecordIndex, RecordScan, index_jsonl, read_jsonl
from voxeval.secrets import known_secrets, scrub

# Errors of these kinds are tried again on resume (the adapter may succeed next time);
# decode errors are properties of the data and are kept.
RETRYABLE_ERROR_KINDS = frozenset({"adapter"})
CORRUPT_SUFFIX = ".corrupt"


def finished_ids(scan: RecordScan) -> set[str]:
    """Ids whose latest record needs no new model call."""
    return {
        sid
        for sid, rec in scan.latest.items()
        if not rec.get("error") or rec["error"]["kind"] not in RETRYABLE_ERROR_KINDS
    }


class SamplesFile:
    """Append-only JSON-lines checkpoint of one task's finished samples."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fh: TextIO | None = None

    def index(self) -> RecordIndex:
        """Offsets of the latest valid record per sample id (read-only, records not kept)."""
        return index_jsonl(self.path.parent, self.path.name)

    def read(self) -> dict[str, dict[str, Any]]:
        """Latest valid record per sample id (read-only: bad lines are skipped, not cut)."""
        return read_jsonl(self.path.parent, self.path.name).latest

    def repair(self) -> RecordScan:
        """Move every bad line to <file>.corrupt, keep every valid one; return what remains.

        A line cut by a crash, or damaged anywhere, costs only its own sample a redo.
        """
        scan = read_jsonl(self.path.parent, self.path.name)
        if scan.bad:
            self._set_aside(scan)
        return scan

    def _set_aside(self, scan: RecordScan) -> None:
        bad = {b.number for b in scan.bad}
        side = self.path.with_name(self.path.name + CORRUPT_SUFFIX)
        with open(side, "ab") as fh:
            for line in scan.bad:
                fh.write(line.raw if line.raw.endswith(b"\n") else line.raw + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(fd, "wb") as out, open_in(self.path.parent, self.path.name) as src:
                for number, raw in lines(src):
                    if number not in bad:
                        out.write(raw)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def finished_ids(self) -> set[str]:
        """Ids whose latest record needs no new model call (read-only)."""
        return finished_ids(read_jsonl(self.path.parent, self.path.name))

    def append(self, record: dict[str, Any]) -> None:
        """Write one record as a line and flush it to the OS at once (secrets masked)."""
        line = json.dumps(record, ensure_ascii=False, allow_nan=False)
        if any(secret in line for secret in known_secrets()):
            line = scrub(line)
        if self._fh is None:  # never through a link someone put in the run folder
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW
            self._fh = os.fdopen(os.open(self.path, flags, 0o644), "a", encoding="utf-8")
        self._fh.write(line + "\n")
        self._fh.flush()

    def close(self) -> None:
        """Close the file handle if open."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def write_judge_rows(run_dir: Path, task_name: str, rows: list[dict[str, Any]]) -> Path:
    """Atomically (re)write judge-<task>.jsonl with one row per judged sample."""
    from voxeval.workspace import safe_name

    path = Path(run_dir) / f"judge-{safe_name(task_name)}.jsonl"
    text = "".join(json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n" for row in rows)
    fd, tmp = tempfile.mkstemp(dir=run_dir, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(scrub(text))
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path
