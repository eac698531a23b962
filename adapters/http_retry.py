"""POST with retries for hosted APIs: backoff with full jitter, Retry-After, permanent errors."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

# Retried: rate limits, server errors, timeouts, dropped connections, unparseable bodies.
RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


async def _sleep(seconds: float) -> None:
    import asyncio

    """The back-off wait (a seam for tests that record waits instead of sleeping)."""
    await asyncio.sleep(seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait between attempts."""

    max_retries: int = 6
    base_s: float = 0.5
    max_s: float = 60.0

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter (AWS architecture blog's recommendation)."""
        return random.uniform(0, min(self.max_s, self.base_s * 2**attempt))


@dataclass
class Outcome:
    """The parsed JSON body, or the reason it could not be had."""

    body: dict[str, Any] | None
    error: str | None
    latency_s: float
    attempts: int


def retry_after_s(value: str | None, cap: float) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), capped."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        import email.utils  # only servers that send an HTTP date pay for it

        parsed = email.utils.parsedate_to_datetime(value) if value else None
        if parsed is None:
            return None
        seconds = parsed.timestamp() - time.time()
    return min(cap, max(0.0, seconds))


async def post_with_retries(
    session: Any, request: dict[str, Any], item: Any, policy: RetryPolicy
) -> Outcome:
    """POST `request` ({url, json} or {url, data: item → form}) until success or give-up."""
    import asyncio

    import aiohttp

    start = time.perf_counter()
    last_error = "no attempt made"
    for attempt in range(policy.max_retries + 1):
        wait = None
        try:
            data = request["data"](item) if "data" in request else None
            async with session.post(request["url"], json=request.get("json"), data=data) as resp:
                if resp.status == 200:
                    try:
                        body = await resp.json(content_type=None)
                    except ValueError:
                        body = None
                    if isinstance(body, dict):
                        return Outcome(body, None, time.perf_counter() - start, attempt + 1)
                    last_error = "malformed response: body is not a JSON object"
                else:
                    text = (await resp.text())[:300]
                    last_error = f"HTTP {resp.status}: {text}"
                    if resp.status not in RETRY_STATUS:
                        permanent = f"HTTP {resp.status} (not retried): {text}"
                        return Outcome(None, permanent, time.perf_counter() - start, attempt + 1)
                    wait = retry_after_s(resp.headers.get("Retry-After"), policy.max_s)
        except asyncio.TimeoutError:
            last_error = "timeout"
        except aiohttp.ClientError as exc:
            last_error = f"{type(exc).__name__}: {exc}"
        if attempt < policy.max_retries:
            await _sleep(wait if wait is not None else policy.backoff(attempt))
    elapsed = time.perf_counter() - start
    return Outcome(
        None,
        f"gave up after {policy.max_retries + 1} attempts: {last_error}",
        elapsed,
        policy.max_retries + 1,
    )
