"""LLM-as-judge: any registered text model rates responses with a versioned rubric.

Calls are cached on disk by (judge model and settings, rubric name + version + wording,
rendered input, sample index), so re-scoring a run makes no calls. Tokens and cost are
summed when the provider reports them; with n samples per item the judge's own variance is
reported next to the score.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from voxeval.adapter import ADAPTERS, Adapter, TaskContext
from voxeval.errors import VoxevalError
from voxeval.judge_cache import JudgeCache
from voxeval.judge_config import JudgeConfig
from voxeval.metrics import Metric, MetricResult, summarize
from voxeval.rubrics import RUBRICS, Rubric, parse_rating, seal
from voxeval.types import ModelInput, Response, Usage
from voxeval.workspace import cache_dir


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
