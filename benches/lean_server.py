"""A minimal keep-alive HTTP/1.1 server answering every POST with one chat completion.

For throughput benches only: it does almost no work per request (no framework, no JSON
parsing), so the client under test, not the server, limits the measured efficiency.
With --log it appends "req ID T" when a request arrives and "rep ID T" once its reply is
written, where T is time.monotonic() (system-wide on Linux) and ID a hash of the body with
judge fence codes blanked out (they are random per request), so the same item asked twice
has the same ID.

    python benches/lean_server.py --latency 0.1    # prints its base URL, serves until killed
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import IO


def response(reply: str = "ok") -> bytes:
    """The whole HTTP response: one chat completion whose message is `reply`."""
    body = json.dumps(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "model": "bench",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
        }
    ).encode()
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
    return head + str(len(body)).encode() + b"\r\n\r\n" + body


RESPONSE = response()
BODY = RESPONSE.partition(b"\r\n\r\n")[2]
# voxeval's judge seals each request with a fresh 16-hex-digit code (rubrics.seal).
_FENCE_CODE = re.compile(rb"(RESPONSE) [0-9a-f]{16}")


def identity(body: bytes) -> str:
    """A short hash of a request body that is the same each time one item is asked."""
    return hashlib.sha1(_FENCE_CODE.sub(rb"\1 code", body)).hexdigest()[:16]


async def handle(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    latency: float,
    reply: bytes = RESPONSE,
    log: IO[str] | None = None,
) -> None:
    """Serve requests on one connection until the client closes it."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            body = await reader.readexactly(length) if length else b""
            item = identity(body) if log else ""
            if log:
                log.write(f"req {item} {time.monotonic():.6f}\n")
                log.flush()  # read live by a bench deciding when to kill its client
            await asyncio.sleep(latency)
            writer.write(reply)
            if log:
                log.write(f"rep {item} {time.monotonic():.6f}\n")
                log.flush()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(latency: float, reply: str = "ok", log_path: str | None = None) -> None:
    """Listen on a free port of 127.0.0.1 and print the /v1 base URL."""
    canned = response(reply)
    log = open(log_path, "a") if log_path else None  # noqa: SIM115 (open while serving)
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, latency, canned, log), "127.0.0.1", 0, backlog=1024
    )
    port = server.sockets[0].getsockname()[1]
    print(f"http://127.0.0.1:{port}/v1", flush=True)
    async with server:
        await server.serve_forever()


def spawn(
    latency_s: float, reply: str = "ok", log: Path | None = None
) -> tuple[subprocess.Popen, str]:
    """This server in a child process, and its base URL (kill the process when done)."""
    argv = [sys.executable, __file__, "--latency", str(latency_s), "--reply", reply]
    argv += ["--log", str(log)] if log else []
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    base_url = proc.stdout.readline().strip() if proc.stdout else ""
    if not base_url.startswith("http"):
        proc.kill()
        raise RuntimeError("the lean server did not start")
    return proc, base_url


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--reply", default="ok", help="the assistant message of every reply")
    parser.add_argument("--log", help="append req/rep lines with each request's identity")
    cli = parser.parse_args()
    asyncio.run(main(cli.latency, cli.reply, cli.log))
