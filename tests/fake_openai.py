"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests and benches (aiohttp).

It answers /v1/chat/completions and /v1/audio/transcriptions, records every request (audio
decoded), reports usage, and injects faults on demand: queued per-request faults or a seeded
random fault rate.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import random
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import soundfile as sf
from aiohttp import web

Reply = Callable[[dict[str, Any]], str]
FAULTS = ("429", "500", "timeout", "malformed")


@dataclass
class Seen:
    """One request as the server received it."""

    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    audio: list[tuple[Any, int]] = field(default_factory=list)


class FakeOpenAI:
    """Start with `with FakeOpenAI() as server:`; `server.base_url` is the /v1 root."""

    def __init__(self, reply: Reply | None = None, latency_s: float = 0.0) -> None:
        self.reply: Reply = reply or (lambda body: "ok")
        self.latency_s = latency_s
        self.faults: deque[str] = deque()
        self.fault_rate = 0.0
        self.hang_s = 5.0
        self.rng = random.Random(0)
        self.seen: list[Seen] = []
        self.statuses: list[int] = []
        self.in_flight = self.peak_in_flight = 0  # requests being answered, now and at most
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.port = 0

    @property
    def base_url(self) -> str:
        """The OpenAI-style API root."""
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _start(self) -> None:
        app = web.Application(client_max_size=64 * 1024**2)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/audio/transcriptions", self._transcribe)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def _fault(self, seen: Seen) -> web.Response | None:
        fault = self.faults.popleft() if self.faults else None
        if fault is None and self.fault_rate and self.rng.random() < self.fault_rate:
            fault = self.rng.choice(FAULTS)
        if fault is None:
            return None
        if fault == "timeout":
            await asyncio.sleep(self.hang_s)
            return web.Response(status=504, text="too late")
        if fault == "malformed":
            return web.Response(status=200, text="{not json", content_type="application/json")
        if fault == "echo-key":  # like a real 401: "Incorrect API key provided: <key>"
            key = seen.headers.get("Authorization", "").removeprefix("Bearer ")
            message = f"Incorrect API key provided: {key}. You can find your key online."
            return web.json_response({"error": {"message": message}}, status=401)
        status, _, retry_after = fault.partition(":")
        headers = {"Retry-After": retry_after} if retry_after else {}
        return web.json_response(
            {"error": {"message": f"injected {status}"}}, status=int(status), headers=headers
        )

    async def _chat(self, request: web.Request) -> web.Response:
        body = await request.json()
        seen = Seen("chat", body, dict(request.headers))
        for message in body.get("messages", []):
            content = message.get("content")
            for part in content if isinstance(content, list) else []:
                if part.get("type") == "input_audio":
                    raw = base64.b64decode(part["input_audio"]["data"])
                    seen.audio.append(sf.read(io.BytesIO(raw), dtype="float32"))
        return await self._answer(seen, lambda text: _chat_reply(body, text))

    async def _transcribe(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload = form["file"]
        audio = sf.read(io.BytesIO(upload.file.read()), dtype="float32")
        seen = Seen("transcriptions", {"model": form.get("model")}, dict(request.headers), [audio])
        return await self._answer(seen, lambda text: {"text": text})

    async def _answer(self, seen: Seen, shape: Callable[[str], dict]) -> web.Response:
        self.seen.append(seen)
        self.in_flight += 1  # one event loop serves every request: no lock needed
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            fault = await self._fault(seen)
            if fault is not None:
                self.statuses.append(fault.status)
                return fault
            self.statuses.append(200)
            return web.json_response(shape(self.reply(seen.body)))
        finally:
            self.in_flight -= 1


def _chat_reply(body: dict[str, Any], text: str) -> dict[str, Any]:
    prompt_words = len(json.dumps(body.get("messages", [])).split())
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": body.get("model"),
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
        "usage": {
            "prompt_tokens": prompt_words,
            "completion_tokens": len(text.split()),
            "total_tokens": prompt_words + len(text.split()),
        },
    }


def user_text(body: dict[str, Any]) -> str:
    """All text parts of the user messages, joined."""
    out = []
    for message in body.get("messages", []):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            out.append(content)
        else:
            out.extend(p.get("text", "") for p in content if p.get("type") == "text")
    return "\n".join(out)
