"""Who a run's model is, from run.json alone (stdlib only: `voxeval publish` imports it)."""

from __future__ import annotations

import re
from typing import Any

REDACTED = "***redacted***"
HOSTED_ADAPTERS = frozenset({"openai"})
_PATH_LIKE = re.compile(r"[\\/]")


def _short(value: str) -> str:
    """A local model folder by its last component; hub ids (org/name) stay whole."""
    if value.startswith(("/", "~", ".")) or re.match(r"^[A-Za-z]:\\", value):
        return _PATH_LIKE.split(value.rstrip("/\\"))[-1] or value
    return value


def _identity_args(args: dict[str, Any]) -> list[str]:
    """The arguments that pick the weights: `model`, then asr/llm and their `.model`."""
    keys = sorted(k for k in args if k in ("asr", "llm") or k.endswith(".model"))
    parts = []
    for key in ["model", *keys]:
        value = args.get(key)
        if isinstance(value, str) and value and value != REDACTED:
            parts.append(_short(value) if key == "model" else f"{key}={_short(value)}")
    return parts


def model_key(model: dict[str, Any]) -> str:
    """A stable model label: registered name plus the args that choose the weights.

    `openai` with model=gpt-4o becomes "openai (gpt-4o)"; faster-whisper with its bundled
    default stays "faster-whisper"; a cascade shows its parts ("cascade (asr=…, llm=…)").
    """
    name = str(model.get("name") or "unnamed")
    parts = _identity_args(model.get("args") or {})
    return f"{name} ({', '.join(parts)})" if parts else name


def is_hosted(model: dict[str, Any]) -> bool:
    """Hosted when the openai adapter serves it (alone or as part of a cascade)."""
    args = model.get("args") or {}
    used = {model.get("name"), args.get("asr"), args.get("llm")}
    return bool(used & HOSTED_ADAPTERS)


def is_demo_run(run: dict[str, Any]) -> bool:
    """A run is demo/fixture data when any of its tasks ran on a demo dataset."""
    tasks = run.get("tasks") or {}
    return any((t.get("dataset") or {}).get("demo") for t in tasks.values())


_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([kKmMbBtT]?)\s*$")
_FACTOR = {"": 1.0, "k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}


def parse_parameters(value: Any) -> float | None:
    """Parameter count from a card: 39000000, "39M", "7B", "1.5b" → float; else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value) if value > 0 else None
    match = _SIZE.match(str(value))
    if not match:
        return None
    return float(match.group(1)) * _FACTOR[match.group(2).lower()]
