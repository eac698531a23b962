"""The OpenAI-compatible adapter against a real local HTTP server (tests/fake_openai.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import ClassVar

import pytest

from tests.fake_openai import FakeOpenAI, user_text
from voxeval.adapters import http_retry
from voxeval.hookspecs import hookimpl
from voxeval.plugins import get_plugin_manager
from voxeval.runner import RunConfig, run_evaluation
from voxeval.task import DatasetInfo, MetricSpec, Task
from voxeval.types import Sample

SECRET = "sk-test-NEVER-WRITE-THIS-ANYWHERE"


class Words(Task):
    """A text-only dialogue task with many samples, for fault injection."""

    name: ClassVar[str] = "words"
    version: ClassVar[str] = "1"
    kind: ClassVar = "dialogue"
    description: ClassVar[str] = "echo a word"
    metrics: ClassVar = (MetricSpec("wer", {"normalizer": "none"}),)
    size: ClassVar[int] = 100

    def dataset(self) -> DatasetInfo:
        return DatasetInfo(id="test/words", content_hash="1" * 64)

    def samples(self) -> Iterator[Sample]:
        for i in range(self.size):
            yield Sample(id=f"w{i}", text=f"word{i}", references=(f"word{i}",))


class WordsPlugin:
    @hookimpl
    def register_tasks(self, register):
        register(Words)


@pytest.fixture
def words_task():
    pm = get_plugin_manager()
    plugin = WordsPlugin()
    pm.register(plugin, name="words-plugin")
    yield Words
    pm.unregister(plugin)


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """Record back-off sleeps instead of sleeping (keeps retries instant and checkable)."""
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(http_retry, "_sleep", fake_sleep)
    return slept


def openai_args(server: FakeOpenAI, **extra: object) -> dict:
    return {"model": "test-model", "base_url": server.base_url, **extra}


def run(tmp_path, task: str, args: dict, limit: int | None = None):
    config = RunConfig(
        model="openai", tasks=[task], model_args=args, limit=limit, output_dir=tmp_path
    )
    return run_evaluation(config)


def records(run_dir, task):
    text = (run_dir / f"samples-{task}.jsonl").read_text()
    return [json.loads(x) for x in text.splitlines()]


def test_chat_audio_arrives_decoded_and_key_never_stored(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    with FakeOpenAI(reply=lambda body: "hello there") as server:
        result, run_dir = run(tmp_path, "demo-asr", openai_args(server), limit=3)
    assert len(server.seen) == 3
    first = server.seen[0]
    assert first.headers["Authorization"] == f"Bearer {SECRET}"
    audio, sr = first.audio[0]
    assert sr == 16000 and audio.ndim == 1 and len(audio) > 16000
    assert records(run_dir, "demo-asr")[0]["prediction"]["text"] == "hello there"
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(errors="ignore"), path
    assert result.model.args["api_key_env"] == "OPENAI_API_KEY"


def test_transcription_endpoint(tmp_path):
    with FakeOpenAI(reply=lambda body: "a transcript") as server:
        result, _ = run(tmp_path, "demo-asr", openai_args(server, endpoint="transcriptions"), 2)
    assert [s.path for s in server.seen] == ["transcriptions"] * 2
    assert server.seen[0].body["model"] == "test-model" and server.seen[0].audio[0][1] == 16000
    assert result.tasks["demo-asr"].n_errors == 0


def test_retries_honour_retry_after_and_backoff(tmp_path, waits, words_task, monkeypatch):
    monkeypatch.setattr(Words, "size", 1)
    with FakeOpenAI(reply=lambda body: user_text(body)) as server:
        server.faults.extend(["429:7", "500", "malformed"])
        result, run_dir = run(tmp_path, "words", openai_args(server, backoff_base_s=0.25))
    assert server.statuses == [429, 500, 200, 200]
    assert waits[0] == 7.0  # Retry-After honoured
    assert 0 <= waits[1] <= 0.5 and 0 <= waits[2] <= 1.0  # full jitter, doubling cap
    assert records(run_dir, "words")[0]["prediction"]["text"] == "word0"
    assert result.tasks["words"].n_errors == 0


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_permanent_errors_are_not_retried(tmp_path, waits, words_task, monkeypatch, status):
    monkeypatch.setattr(Words, "size", 1)
    with FakeOpenAI() as server:
        server.faults.append(str(status))
        result, run_dir = run(tmp_path, "words", openai_args(server))
    assert len(server.seen) == 1 and waits == []
    error = records(run_dir, "words")[0]["error"]
    assert error["kind"] == "adapter" and f"HTTP {status} (not retried)" in error["message"]
    assert result.tasks["words"].errors_by_kind == {"adapter": 1}


def test_timeouts_are_retried(tmp_path, words_task, monkeypatch):
    monkeypatch.setattr(Words, "size", 2)
    with FakeOpenAI(reply=lambda body: "fine") as server:
        server.hang_s = 2.0
        server.faults.append("timeout")
        args = openai_args(server, timeout_s=0.3, backoff_base_s=0.01, concurrency=1)
        result, _ = run(tmp_path, "words", args)
    assert len(server.seen) == 3 and result.tasks["words"].n_errors == 0


def test_usage_and_cost_are_summed(tmp_path, words_task, monkeypatch):
    monkeypatch.setattr(Words, "size", 5)
    with FakeOpenAI(reply=lambda body: "two words") as server:
        args = openai_args(server, price_input=1.0, price_output=2.0)
        result, run_dir = run(tmp_path, "words", args)
    usage = result.tasks["words"].usage
    per_sample = [r["usage"] for r in records(run_dir, "words")]
    assert usage.output_tokens == 10 == sum(u["output_tokens"] for u in per_sample)
    assert usage.input_tokens == sum(u["input_tokens"] for u in per_sample) > 0
    assert usage.cost_usd == pytest.approx((usage.input_tokens + 2 * usage.output_tokens) / 1e6)


def test_twenty_percent_faults_every_sample_completes_exactly_once(tmp_path, words_task):
    with FakeOpenAI(reply=lambda body: user_text(body)) as server:
        server.fault_rate, server.hang_s = 0.2, 1.0
        args = openai_args(server, timeout_s=0.5, backoff_base_s=0.01, max_retries=10)
        result, run_dir = run(tmp_path, "words", args)
    lines = records(run_dir, "words")
    assert sorted(r["sample_id"] for r in lines) == sorted(f"w{i}" for i in range(100))
    assert all(r["error"] is None for r in lines)
    assert all(r["prediction"]["text"] == r["references"][0] for r in lines)
    injected = sum(1 for s in server.statuses if s != 200) + server.statuses.count(200) - 100
    assert injected >= 10 and len(server.seen) > 110  # faults really happened
    assert result.tasks["words"].metrics["wer"].value == 0.0


def test_workers_ramp_up_to_exactly_the_concurrency_and_answer_each_input_once():
    # Workers start one loop turn apart; a slow server shows they all end up in flight at
    # once (never more), and every input gets its own answer, in its own place.
    from voxeval.adapter import ADAPTERS, TaskContext
    from voxeval.types import ModelInput

    emitted: list[int] = []
    with FakeOpenAI(reply=lambda body: user_text(body).upper(), latency_s=0.3) as server:
        adapter = ADAPTERS.get("openai").from_args(openai_args(server, concurrency=6))
        inputs = [ModelInput(f"s{i}", None, None, text=f"item {i}") for i in range(14)]
        context = TaskContext(name="ramp", kind="dialogue")
        answers: dict[int, str | None] = {}

        def keep(index: int, response) -> None:
            emitted.append(index)
            answers[index] = response.text

        adapter.predict_stream(inputs, context, keep)
        assert server.peak_in_flight == 6 and len(server.seen) == 14
    assert sorted(emitted) == list(range(14))
    assert answers == {i: f"ITEM {i}" for i in range(14)}
