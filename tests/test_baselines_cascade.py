"""Baseline adapters and the ASR → text-model cascade, on small in-test tasks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import ClassVar

import pytest

from tests.conftest import DEMO_DATA
from tests.fake_openai import FakeOpenAI, user_text
from voxeval.errors import VoxevalError
from voxeval.hookspecs import hookimpl
from voxeval.plugins import get_plugin_manager
from voxeval.runner import RunConfig, run_evaluation
from voxeval.task import DatasetInfo, MetricSpec, Task
from voxeval.types import Response, Sample

MANIFEST = [json.loads(x) for x in (DEMO_DATA / "manifest.jsonl").read_text().splitlines()]


class _Base(Task):
    version: ClassVar[str] = "1"
    description: ClassVar[str] = "test"
    metrics: ClassVar = ()

    def dataset(self) -> DatasetInfo:
        return DatasetInfo(id=f"test/{self.name}", content_hash="3" * 64)


class Moods(_Base):
    name: ClassVar[str] = "moods"
    kind: ClassVar = "classification"

    def samples(self) -> Iterator[Sample]:
        for i in range(4):
            yield Sample(id=f"m{i}", audio=DEMO_DATA / MANIFEST[i]["audio"], labels={"mood": "sad"})

    def adapter_context(self) -> dict:
        return {"labels": ["sad", "glad"], "label_prior": {"sad": 0.3, "glad": 0.7}}


class Levels(_Base):
    name: ClassVar[str] = "levels"
    kind: ClassVar = "regression"

    def samples(self) -> Iterator[Sample]:
        yield from (Sample(id=f"l{i}", audio=b"not audio at all") for i in range(3))

    def adapter_context(self) -> dict:
        return {"labels": ["arousal", "valence"], "value_means": {"arousal": 0.4, "valence": 0.6}}


class Talk(_Base):
    name: ClassVar[str] = "talk"
    kind: ClassVar = "dialogue"
    metrics: ClassVar = (MetricSpec("wer", {"normalizer": "whisper_english"}),)
    prompt: ClassVar[str] = "Reply to the speaker."

    def samples(self) -> Iterator[Sample]:
        for entry in MANIFEST[:3]:
            yield Sample(
                id=entry["id"],
                audio=DEMO_DATA / entry["audio"],
                transcript=entry["text"],
                references=(entry["text"],),
            )


class Plugin:
    @hookimpl
    def register_tasks(self, register):
        for task in (Moods, Levels, Talk):
            register(task)


@pytest.fixture(autouse=True)
def tasks():
    pm = get_plugin_manager()
    plugin = Plugin()
    pm.register(plugin, name="baseline-test-tasks")
    yield
    pm.unregister(plugin)


def records(run_dir, task):
    """Records in sample order (the file holds them in the order answers arrived)."""
    text = (run_dir / f"samples-{task}.jsonl").read_text()
    return sorted((json.loads(x) for x in text.splitlines()), key=lambda r: r["sample_id"])


def run(tmp_path, model_name, task, **args):
    config = RunConfig(model=model_name, tasks=[task], model_args=args, output_dir=tmp_path)
    return run_evaluation(config)


def test_majority_and_prior(tmp_path):
    _, run_dir = run(tmp_path / "a", "majority", "moods")
    assert {r["prediction"]["label"] for r in records(run_dir, "moods")} == {"glad"}
    _, run_dir = run(tmp_path / "b", "majority", "moods", mode="prior", seed=3)
    labels = [r["prediction"]["label"] for r in records(run_dir, "moods")]
    assert set(labels) <= {"sad", "glad"}
    _, again = run(tmp_path / "c", "majority", "moods", mode="prior", seed=3)
    assert [r["prediction"]["label"] for r in records(again, "moods")] == labels  # seeded
    _, fixed = run(tmp_path / "d", "majority", "moods", label="sad")
    assert {r["prediction"]["label"] for r in records(fixed, "moods")} == {"sad"}


def test_mean_baseline_needs_no_audio(tmp_path):
    result, run_dir = run(tmp_path, "mean", "levels")
    assert result.tasks["levels"].n_errors == 0  # the bytes are never decoded
    assert records(run_dir, "levels")[0]["prediction"]["values"] == {"arousal": 0.4, "valence": 0.6}
    _, run_dir = run(tmp_path / "o", "mean", "levels", values="arousal=1;valence=2")
    assert records(run_dir, "levels")[0]["prediction"]["values"] == {"arousal": 1.0, "valence": 2.0}


def test_echo_repeats_the_transcript(tmp_path):
    result, _ = run(tmp_path, "echo", "talk")
    assert result.tasks["talk"].metrics["wer"].value == 0.0


def test_kind_mismatch_names_what_the_model_supports(tmp_path):
    with pytest.raises(VoxevalError, match=r"cannot run task 'talk'.*supports classification"):
        run(tmp_path, "majority", "talk")


def test_cascade_asr_then_text_model(tmp_path, mock_model):
    mock_model.default = staticmethod(lambda item: Response(text=f"heard {item.sample_id}"))
    with FakeOpenAI(reply=lambda body: f"answer to: {user_text(body)}") as server:
        args = {"asr": "mock", "llm": "openai", "llm.model": "m", "llm.base_url": server.base_url}
        result, run_dir = run(tmp_path, "cascade", "talk", **args)
    assert len(mock_model.history) == 3 and mock_model.history[0].audio is not None
    sent = user_text(server.seen[0].body)
    assert "Reply to the speaker." in sent and "heard demo-001" in sent
    assert server.seen[0].audio == []  # the text model never gets the audio
    first = records(run_dir, "talk")[0]
    assert first["prediction"]["text"].startswith("answer to:") and first["usage"]["input_tokens"]
    info = result.model.info
    assert info["asr"]["adapter"] == "mock" and info["llm"]["model_name"] == "m"


def test_cascade_reports_asr_failures_per_sample(tmp_path, mock_model):
    mock_model.enqueue("fine", Response(error="asr broke"), "fine")
    with FakeOpenAI(reply=lambda body: "ok") as server:
        args = {"asr": "mock", "llm": "openai", "llm.model": "m", "llm.base_url": server.base_url}
        result, run_dir = run(tmp_path, "cascade", "talk", **args)
    assert len(server.seen) == 2 and result.tasks["talk"].n_errors == 1
    assert "asr stage: asr broke" in records(run_dir, "talk")[1]["error"]["message"]


def test_cascade_argument_errors(tmp_path):
    with pytest.raises(VoxevalError, match="take a prefix"):
        run(tmp_path, "cascade", "talk", llm="openai", model="x")
    with pytest.raises(VoxevalError, match="cannot serve as the LLM stage"):
        run(tmp_path, "cascade", "talk", llm="faster-whisper")
