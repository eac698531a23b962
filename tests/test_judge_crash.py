"""A judge pass killed with SIGKILL and resumed in a new process: every reply committed is
reused from the cache, and only the requests in flight at the kill are asked again (plus at
most MAX_UNSAVED replies received but not yet committed). A real child process against a
real local HTTP server, which answers the first requests and holds the rest, so the kill
lands at a known point without timing."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from contextlib import closing

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fake_openai import FakeOpenAI, user_text
from voxeval.errors import VoxevalError
from voxeval.judge import JudgeConfig, run_judge
from voxeval.judge_cache import MAX_UNSAVED, JudgeCache
from voxeval.rubrics import RUBRICS
from voxeval.types import Response
from voxeval.workspace import cache_dir

N, ANSWERED, CONCURRENCY = 40, 20, 4
ITEMS = [
    {"statement": f"statement {i}", "label": "sad", "response": f"answer-{i:04d}"} for i in range(N)
]
CHILD = """
import json, sys
from voxeval.judge import JudgeConfig, run_judge
base_url, concurrency, items = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
config = JudgeConfig("openai", {"model": "judge", "base_url": base_url, "concurrency": concurrency})
run_judge("sd-eval-emotion", items, config)
"""


def asked(server: FakeOpenAI) -> Counter[str]:
    """How many times the server was asked about each item."""
    found = (re.search(r"answer-\d{4}", user_text(s.body)) for s in server.seen)
    return Counter(m.group() for m in found if m)


def cached_rows() -> int:
    """Replies committed to the judge cache, read as another process would."""
    path = cache_dir() / "judge-cache.sqlite"
    if not path.exists():
        return 0
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            return db.execute("SELECT COUNT(*) FROM replies").fetchone()[0]
    except sqlite3.OperationalError:  # the judge has not created its table yet
        return 0


def wait_for(proc: subprocess.Popen, ready: Callable[[], bool]) -> None:
    """Poll until ready() holds; fail if the judge process ends or nothing happens for 60 s."""
    deadline = time.monotonic() + 60  # a liveness guard, not a timing assertion
    while not ready():
        if proc.poll() is not None:
            errors = proc.stderr.read().decode() if proc.stderr else ""
            raise AssertionError(f"the judge ended ({proc.returncode}) before that: {errors}")
        assert time.monotonic() < deadline, "the judge made no progress within 60 s"
        time.sleep(0.01)


def kill_once_replies_are_saved(server: FakeOpenAI) -> None:
    """Start a judge pass in a child process and SIGKILL it with ANSWERED replies received."""
    argv = [sys.executable, "-c", CHILD, server.base_url, str(CONCURRENCY), json.dumps(ITEMS)]
    with subprocess.Popen(argv, stderr=subprocess.PIPE) as proc:
        # Every reply received is committed with no later reply or close to push it out;
        # then each worker has sent its next request, which the server holds.
        wait_for(proc, lambda: cached_rows() == ANSWERED)
        wait_for(proc, lambda: len(server.seen) == ANSWERED + CONCURRENCY)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)


def test_sigkill_mid_pass_repeats_only_the_requests_in_flight():
    with FakeOpenAI(reply=lambda body: "Kind. Rating: [[4]]") as server:
        # The first ANSWERED requests are answered, the next CONCURRENCY held for 5 s: past
        # the kill, and within the 10 s the server's shutdown waits for them.
        server.hang_s = 5.0
        server.faults.extend([None] * ANSWERED + ["timeout"] * CONCURRENCY)
        kill_once_replies_are_saved(server)
        before = asked(server)
        assert cached_rows() == ANSWERED  # nothing committed was lost with the process
        server.faults.clear()
        config = JudgeConfig("openai", {"model": "judge", "base_url": server.base_url})
        again = run_judge("sd-eval-emotion", ITEMS, config)
        after = asked(server)
    assert again.cache_hits == ANSWERED and again.calls == N - ANSWERED
    assert again.scores == [4.0] * N
    # Asked twice: exactly the requests in flight at the kill, never a reply received.
    repeated = {item for item, count in after.items() if count > 1}
    assert len(before) == ANSWERED + CONCURRENCY and repeated <= set(before)
    assert len(repeated) == CONCURRENCY and sum(after.values()) == N + CONCURRENCY
    assert set(after) == {item["response"] for item in ITEMS}


def test_keys_for_many_requests_are_the_keys_existing_caches_hold():
    rubric = RUBRICS.get("sd-eval-emotion")
    identity = {"adapter": "openai", "args": {"model": "m", "seed": 1337, "x": [1, None]}}
    rendered = [("sys A", "user ü 1"), ('sys B "quoted"', "user 2"), ("sys A", "")]
    for k in (0, 3):
        expected = [  # the formula every cache so far was written with
            hashlib.sha256(
                json.dumps(
                    [identity, rubric.name, rubric.version, system, user, k],
                    sort_keys=True,
                    default=str,
                ).encode()
            ).hexdigest()
            for system, user in rendered
        ]
        assert JudgeCache.keys(identity, rubric, rendered, k) == expected
        assert [JudgeCache.key(identity, rubric, s, u, k) for s, u in rendered] == expected


@given(st.text(), st.text(), st.integers(0, 10**6))
def test_batch_keys_equal_single_keys_for_any_text(system, user, k):
    # Any text a rubric renders (quotes, controls, lone surrogates, non-ASCII) keys alike.
    rubric = RUBRICS.get("sd-eval-emotion")
    identity = {"adapter": "openai", "args": {"model": "m"}}
    batch = JudgeCache.keys(identity, rubric, [(system, user)], k)
    assert batch == [JudgeCache.key(identity, rubric, system, user, k)]


def test_a_reply_the_cache_cannot_store_fails_the_judge_loudly():
    cache_dir().mkdir(parents=True)
    with closing(sqlite3.connect(cache_dir() / "judge-cache.sqlite")) as db:  # a full disk
        db.execute(
            "CREATE TABLE replies (key TEXT PRIMARY KEY, reply TEXT, input_tokens INT, "
            "output_tokens INT, cost_usd REAL, served_model TEXT)"
        )
        db.execute(
            "CREATE TRIGGER full BEFORE INSERT ON replies "
            "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
        )
        db.commit()
    with FakeOpenAI(reply=lambda body: "Rating: [[4]]") as server:
        config = JudgeConfig("openai", {"model": "judge", "base_url": server.base_url})
        with pytest.raises(VoxevalError, match=r"Cannot save judge replies.*disk is full"):
            run_judge("sd-eval-emotion", ITEMS[:3], config)


def test_a_writer_that_falls_behind_holds_the_judge_back(monkeypatch):
    # A slow disk: each commit takes 20 ms, while replies arrive far faster. The judge waits
    # for the writer rather than hold more than MAX_UNSAVED replies that a kill would lose.
    real_commit = JudgeCache._commit

    def slow_commit(self, db, rows):
        time.sleep(0.02)
        real_commit(self, db, rows)

    monkeypatch.setattr(JudgeCache, "_commit", slow_commit)
    path = cache_dir() / "judge-cache.sqlite"
    cache = JudgeCache(path)
    reply = Response(text="Rating: [[4]]", served_model="judge")
    try:
        for i in range(5 * MAX_UNSAVED):
            cache.put(f"key {i}", reply)
            assert i + 1 - cached_rows() <= MAX_UNSAVED
    finally:
        cache.close()
    keys = [f"key {i}" for i in range(5 * MAX_UNSAVED)]
    again = JudgeCache(path)
    assert sorted(again.get_many(keys)) == sorted(keys)
    again.close()
