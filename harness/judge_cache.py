"""The judge's reply cache: SQLite, keyed by a hash of everything that shapes a reply."""

from __future__ import annotations

import hashlib
import json
import queue
import sqlite3
import threading
from pathlib import Path
from typing import Any

from voxeval.errors import VoxevalError
from voxeval.rubrics import Rubric
from voxeval.types import Response, Usage

# Replies received but not yet committed, at most: all a SIGKILL can lose besides the
# requests in flight. The writer thread commits all it finds waiting at once; when it falls
# this far behind (a slow disk, or it waits for the GIL while the event loop is busy), the
# loop waits for it. At 8 the loop waited ~15 times a pass at concurrency 64, ~1.4 ms each;
# from 32 on it almost never does (benches/judge.py).
MAX_UNSAVED = 32

# json.dumps's own encoder for one str (ensure_ascii=True, the default)
_json_string = json.encoder.encode_basestring_ascii


class JudgeCache:
    """SQLite store of judge replies keyed by a hash of everything that shapes them.

    Each reply is committed as it arrives, by a writer thread, so that the event loop that
    receives replies does not wait on the disk; replies that arrive while a commit runs
    share the next one, and no more than MAX_UNSAVED wait at any time. A killed judge pass
    asks again only for the requests in flight and those few replies. The cache is in WAL
    mode with synchronous=NORMAL, where a commit appends to the log without an fsync
    (~0.1 ms, against 5-25 ms with a rollback journal, which capped the judge near 200
    replies/s; the automatic checkpoint that fsyncs every ~1,000 pages, 15-22 ms here, also
    runs on the writer): a killed process loses nothing committed; a power cut may lose the
    last commits. Where WAL is unavailable (some network file systems) commits take longer and
    the judge waits for them more often.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, timeout=30)  # lookups, on the caller's thread
        mode = self.db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        self.wal = str(mode).lower() == "wal"  # the pragma answers the mode now in force
        if self.wal:
            self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, reply TEXT, "
            "input_tokens INT, output_tokens INT, cost_usd REAL, served_model TEXT)"
        )
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(replies)")}
        if "served_model" not in columns:  # a cache written before served models were kept
            self.db.execute("ALTER TABLE replies ADD COLUMN served_model TEXT")
        self.db.commit()
        self._queue: queue.SimpleQueue[tuple[Any, ...] | threading.Event | None] = (
            queue.SimpleQueue()
        )
        self._error: sqlite3.Error | None = None
        self._received = self._saved = 0  # each counter is written by one thread only
        self._writer = threading.Thread(
            target=self._write, args=(path,), name="judge-cache-writer", daemon=True
        )
        self._writer.start()

    @staticmethod
    def key(identity: dict[str, Any], rubric: Rubric, system: str, user: str, k: int) -> str:
        """Cache key for one rendered judge request."""
        blob = json.dumps(
            [identity, rubric.name, rubric.version, system, user, k], sort_keys=True, default=str
        )
        return hashlib.sha256(blob.encode()).hexdigest()

    @staticmethod
    def keys(
        identity: dict[str, Any], rubric: Rubric, rendered: list[tuple[str, str]], k: int
    ) -> list[str]:
        """`key` for many requests, the same strings: the shared head is encoded and hashed
        once per system prompt (it is most of the text)."""
        heads: dict[str, Any] = {}
        out = []
        for system, user in rendered:
            if system not in heads:
                head = [identity, rubric.name, rubric.version, system]
                text = json.dumps(head, sort_keys=True, default=str)[:-1] + ", "
                heads[system] = hashlib.sha256(text.encode())
            digest = heads[system].copy()
            # json.dumps([user, k])[1:] ('"user", k]'), without building a list per item
            digest.update(f"{_json_string(user)}, {int(k)}]".encode())
            out.append(digest.hexdigest())
        return out

    def get(self, key: str) -> tuple[str | None, str | None]:
        """A cached reply and the model that served it, (None, None) if not cached."""
        return self.get_many([key]).get(key, (None, None))

    def get_many(self, keys: list[str]) -> dict[str, tuple[str, str | None]]:
        """Cached replies and the models that served them, for the keys that are cached."""
        found = {}
        for start in range(0, len(keys), 500):  # SQLite's bound on parameters is 999 or more
            chunk = keys[start : start + 500]
            query = "SELECT key, reply, served_model FROM replies WHERE key IN ({})"
            rows = self.db.execute(query.format(",".join("?" * len(chunk))), chunk)
            found.update((key, (reply, served)) for key, reply, served in rows)
        return found

    def put(self, key: str, response: Response) -> None:
        """Store a successful reply (failures are never cached): the writer commits it at once."""
        if self._received - self._saved >= MAX_UNSAVED:
            self.flush()
        self._raise_if_failed()
        u = response.usage or Usage()
        row = (key, response.text, u.input_tokens, u.output_tokens, u.cost_usd)
        self._received += 1
        self._queue.put((*row, response.served_model))

    def flush(self) -> None:
        """Wait until every reply put so far is committed."""
        done = threading.Event()
        self._queue.put(done)
        while not done.wait(1.0) and self._writer.is_alive():
            pass  # a writer that died of a bug must not hang the judge
        self._raise_if_failed()

    def close(self) -> None:
        """Commit what is left and close."""
        if self._writer.is_alive():
            self._queue.put(None)
            self._writer.join()
        self.db.close()
        self._raise_if_failed()

    def _write(self, path: Path) -> None:
        """The writer thread: commit queued replies, all that are waiting in one go."""
        db = sqlite3.connect(path, timeout=30)  # another judge process may be writing
        if self.wal:  # per connection; without WAL it could corrupt the file in a power cut
            db.execute("PRAGMA synchronous=NORMAL")
        try:
            while True:
                batch = [self._queue.get()]
                while not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                rows = [x for x in batch if isinstance(x, tuple)]
                self._commit(db, rows)
                self._saved += len(rows)
                for waiter in batch:
                    if isinstance(waiter, threading.Event):
                        waiter.set()
                if None in batch:
                    return
        finally:
            db.close()

    def _commit(self, db: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
        if not rows or self._error is not None:
            return
        try:
            db.executemany("INSERT OR REPLACE INTO replies VALUES (?, ?, ?, ?, ?, ?)", rows)
            db.commit()
        except sqlite3.Error as exc:  # raised to the judge at its next put, flush or close
            self._error = exc

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise VoxevalError(f"Cannot save judge replies to the cache: {self._error}")
