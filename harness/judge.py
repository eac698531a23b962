"""LLM-as-judge: any registered text model rates responses with a versioned rubric.

Calls are cached on disk by (judge model and settings, rubric name + version + wording,
rendered input, sample index), so re-scoring a run makes no calls. Tokens and cost are
summed when the provider reports them; with n samples per item the judge's own variance is
reported next to the score.
"""

from __future__ import annotations

import hashlib
import json
import queue
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from voxeval.adapter import ADAPTERS, Adapter, TaskContext
from voxeval.errors import VoxevalError
from voxeval.judge_config import JudgeConfig
from voxeval.metrics import Metric, MetricResult, summarize
from voxeval.rubrics import RUBRICS, Rubric, parse_rating, seal
from voxeval.types import ModelInput, Response, Usage
from voxeval.workspace import cache_dir

# Replies received but not yet committed, at most: all a SIGKILL can lose besides the
# requests in flight. The writer thread commits all it finds waiting at once; when it falls
# behind (it waits for the GIL while the event loop is busy), the loop waits for it.
MAX_UNSAVED = 8


@dataclass
class JudgeOutcome:
    """Per-item ratings (mean over samples) and what it took to get them."""

    scores: list[float | None]
    ratings: list[list[float | None]]
    replies: list[list[str | None]]
    n_unparseable: int = 0
    n_conflicting: int = 0  # replies with two different ratings (counted as unparseable)
    n_failed: int = 0
    served_models: list[list[str | None]] = field(default_factory=list)
    calls: int = 0
    cache_hits: int = 0
    usage: Usage = field(default_factory=Usage)

    def within_item_variance(self) -> float | None:
        """Mean variance of an item's ratings across samples (None with one sample)."""
        spread = []
        for ratings in self.ratings:
            valid = [r for r in ratings if r is not None]
            if len(ratings) > 1 and valid:
                spread.append(np.var(valid))
        return float(np.mean(spread)) if spread else None


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
    replies/s): a killed process loses nothing committed; a power cut may lose the last
    commits. Where WAL is unavailable (some network file systems) commits take longer and
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


def run_judge(
    rubric: Rubric | str, items: list[dict[str, Any]], config: JudgeConfig
) -> JudgeOutcome:
    """Rate every item (fields of the rubric + "response") n_samples times."""
    rubric = RUBRICS.get(rubric) if isinstance(rubric, str) else rubric
    rendered = [rubric.render(item) for item in items]
    cache = JudgeCache(cache_dir() / "judge-cache.sqlite")
    identity = config.identity()
    outcome = JudgeOutcome([], [[] for _ in items], [[] for _ in items])
    outcome.served_models = [[] for _ in items]
    try:
        for k in range(config.n_samples):
            replies, served, ratings = _sample(
                rubric, rendered, config, identity, cache, k, outcome
            )
            for i, reply in enumerate(replies):
                outcome.replies[i].append(reply)
                outcome.ratings[i].append(ratings[i])
                outcome.served_models[i].append(served[i])
    finally:
        cache.close()
    for ratings in outcome.ratings:
        valid = [r for r in ratings if r is not None]
        outcome.scores.append(_mean(valid) if valid else None)
    return outcome


def _sample(
    rubric: Rubric,
    rendered: list[tuple[str, str]],
    config: JudgeConfig,
    identity: dict[str, Any],
    cache: JudgeCache,
    k: int,
    outcome: JudgeOutcome,
) -> tuple[list[str | None], list[str | None], list[float | None]]:
    """Each item's reply for sample k (cached or asked for), the model that served it and
    the rating read from it."""
    keys = cache.keys(identity, rubric, rendered, k)
    found = cache.get_many(keys)
    cached = [found.get(key, (None, None)) for key in keys]
    replies, served = [c[0] for c in cached], [c[1] for c in cached]
    ratings = [_read_rating(rubric, r, outcome) if r is not None else None for r in replies]
    todo = [i for i, reply in enumerate(replies) if reply is None]
    outcome.cache_hits += len(rendered) - len(todo)
    if not todo:
        return replies, served, ratings
    adapter = _judge_adapter(config, k)
    inputs = [  # each request sealed with its own fence code; the cache key is unsealed
        ModelInput(f"judge-{i}", None, None, text=seal(rendered[i][1]), system=rendered[i][0])
        for i in todo
    ]

    def keep(j: int, response: Response) -> None:
        i = todo[j]
        outcome.calls += 1
        _add_usage(outcome.usage, response)
        if response.error or response.text is None:
            outcome.n_failed += 1
            return
        cache.put(keys[i], response)  # saved as it arrives
        replies[i], served[i] = response.text, response.served_model
        # Read here, while the loop waits on the network, not after the last reply.
        ratings[i] = _read_rating(rubric, response.text, outcome)

    context = TaskContext(name=f"judge:{rubric.name}", kind="dialogue")
    try:
        adapter.predict_stream(inputs, context, keep)
    finally:
        adapter.close()
    return replies, served, ratings


def _mean(values: list[float]) -> float:
    """np.mean's value: Python's sum gives the same below 8 values (numpy sums pairwise from
    8 on) at a small part of the cost per call, which a pass over 1,000 items notices."""
    return sum(values) / len(values) if len(values) < 8 else float(np.mean(values))


def _read_rating(rubric: Rubric, reply: str | None, outcome: JudgeOutcome) -> float | None:
    """The reply's rating; a reply that gives none, or two different ones, is counted."""
    rating = rubric.rating(reply)
    if reply is None or rating is not None:
        return rating
    outcome.n_unparseable += 1
    if rubric.parse == "agree" and parse_rating(reply, rubric.scale, "first") is not None:
        outcome.n_conflicting += 1
    return None


def _judge_adapter(config: JudgeConfig, k: int) -> Adapter:
    cls = ADAPTERS.get(config.adapter)
    if "dialogue" not in cls.supports:
        raise VoxevalError(
            f"Judge model {config.adapter!r} cannot judge: it does not answer text prompts "
            f"(it supports {', '.join(sorted(cls.supports))}). Use e.g. --judge openai."
        )
    args = dict(config.args)
    if k and args.get("seed") is not None:
        args["seed"] = int(args["seed"]) + k  # distinct samples under a fixed base seed
    adapter = cls.from_args(args)
    adapter.load()
    return adapter


def _add_usage(total: Usage, response: Response) -> None:
    if response.usage is None:
        return
    total.input_tokens += response.usage.input_tokens
    total.output_tokens += response.usage.output_tokens
    if response.usage.cost_usd is not None:
        total.cost_usd = (total.cost_usd or 0.0) + response.usage.cost_usd


class MeanRating(Metric):
    """Mean of per-item judge ratings (used for the `judge` result, not registered)."""

    name: ClassVar[str] = "judge"
    description: ClassVar[str] = "mean LLM-judge rating"
    higher_is_better: ClassVar[bool] = True
    sum_decomposable: ClassVar[bool] = True

    def aggregate_sums(self, sums: np.ndarray, n: int) -> np.ndarray:
        """Mean rating."""
        return sums[..., 0] / n


def judge_provenance(rubric: Rubric, config: JudgeConfig) -> dict[str, Any]:
    """What shaped a judge's ratings, kept with the score and in every judge row."""
    return {
        "model": config.args.get("model") or config.adapter,
        "revision": config.args.get("revision"),
        **config.sampling(),
        "protocol": config.options.protocol,
        "rubric": rubric.name,
        "rubric_version": rubric.version,
        "prompt_hash": rubric.prompt_hash,
        "parse": rubric.parse,
    }


def judge_metric(rubric: Rubric, config: JudgeConfig, outcome: JudgeOutcome) -> MetricResult:
    """The judge's mean rating with a bootstrap CI over items and full provenance."""
    scored = np.array([[s] for s in outcome.scores if s is not None], dtype=float)
    params = {
        "judge": config.identity(),
        **judge_provenance(rubric, config),
        "scale": list(rubric.scale),
        "n_samples": config.n_samples,
    }
    result = summarize(MeanRating(), scored if len(scored) else None, params)
    result.details = {
        "n_items": len(outcome.scores),
        "n_unparseable": outcome.n_unparseable,
        "n_conflicting": outcome.n_conflicting,
        "n_failed": outcome.n_failed,
        "calls": outcome.calls,
        "cache_hits": outcome.cache_hits,
        "input_tokens": outcome.usage.input_tokens,
        "output_tokens": outcome.usage.output_tokens,
        "cost_usd": outcome.usage.cost_usd,
        "within_item_variance": outcome.within_item_variance(),
    }
    return result
