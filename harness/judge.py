"""LLM-as-judge: any registered text model rates responses with a versioned rubric.

Calls are cached on disk by (judge model and settings, rubric name + version + wording,
rendered input, sample index), so re-scoring a run makes no calls. Tokens and cost are
summed when the provider reports them; with n samples per item the judge's own variance is
reported next to the score.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
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

COMMIT_EVERY_S = 0.25  # replies are saved at least this often: a crash loses no more


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


class JudgeCache:
    """SQLite store of judge replies keyed by a hash of everything that shapes them.

    Each reply is stored the moment it arrives; commits are grouped (at most every
    COMMIT_EVERY_S seconds, and on `flush`), since a commit per reply caps throughput.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, reply TEXT, "
            "input_tokens INT, output_tokens INT, cost_usd REAL, served_model TEXT)"
        )
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(replies)")}
        if "served_model" not in columns:  # a cache written before served models were kept
            self.db.execute("ALTER TABLE replies ADD COLUMN served_model TEXT")
        self._committed = time.monotonic()

    @staticmethod
    def key(identity: dict[str, Any], rubric: Rubric, system: str, user: str, k: int) -> str:
        """Cache key for one rendered judge request."""
        blob = json.dumps(
            [identity, rubric.name, rubric.version, system, user, k], sort_keys=True, default=str
        )
        return hashlib.sha256(blob.encode()).hexdigest()

    def get(self, key: str) -> tuple[str | None, str | None]:
        """A cached reply and the model that served it, (None, None) if not cached."""
        query = "SELECT reply, served_model FROM replies WHERE key = ?"
        row = self.db.execute(query, (key,)).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def put(self, key: str, response: Response) -> None:
        """Store a successful reply (failures are never cached)."""
        u = response.usage or Usage()
        self.db.execute(
            "INSERT OR REPLACE INTO replies VALUES (?, ?, ?, ?, ?, ?)",
            (
                key,
                response.text,
                u.input_tokens,
                u.output_tokens,
                u.cost_usd,
                response.served_model,
            ),
        )
        if time.monotonic() - self._committed >= COMMIT_EVERY_S:
            self.flush()

    def flush(self) -> None:
        """Commit what is stored so far."""
        self.db.commit()
        self._committed = time.monotonic()

    def close(self) -> None:
        """Commit and close."""
        self.flush()
        self.db.close()


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
            replies, served = _sample(rubric, rendered, config, identity, cache, k, outcome)
            for i, reply in enumerate(replies):
                _read_rating(rubric, reply, outcome)
                outcome.replies[i].append(reply)
                outcome.ratings[i].append(rubric.rating(reply))
                outcome.served_models[i].append(served[i])
    finally:
        cache.close()
    for ratings in outcome.ratings:
        valid = [r for r in ratings if r is not None]
        outcome.scores.append(float(np.mean(valid)) if valid else None)
    return outcome


def _sample(
    rubric: Rubric,
    rendered: list[tuple[str, str]],
    config: JudgeConfig,
    identity: dict[str, Any],
    cache: JudgeCache,
    k: int,
    outcome: JudgeOutcome,
) -> tuple[list[str | None], list[str | None]]:
    """Each item's reply for sample k (cached or asked for) and the model that served it."""
    keys = [cache.key(identity, rubric, system, user, k) for system, user in rendered]
    cached = [cache.get(key) for key in keys]
    replies, served = [c[0] for c in cached], [c[1] for c in cached]
    todo = [i for i, reply in enumerate(replies) if reply is None]
    outcome.cache_hits += len(rendered) - len(todo)
    if not todo:
        return replies, served
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

    context = TaskContext(name=f"judge:{rubric.name}", kind="dialogue")
    try:
        adapter.predict_stream(inputs, context, keep)
    finally:
        adapter.close()
    return replies, served


def _read_rating(rubric: Rubric, reply: str | None, outcome: JudgeOutcome) -> None:
    """Count a reply that gives no rating, or two different ones, under the rubric's rule."""
    if reply is None or rubric.rating(reply) is not None:
        return
    outcome.n_unparseable += 1
    if rubric.parse == "agree" and parse_rating(reply, rubric.scale, "first") is not None:
        outcome.n_conflicting += 1


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
