"""Streaming scoring: chunks and a record index give exactly the all-at-once numbers."""

from __future__ import annotations

import json
import random

import pytest

from voxeval import streaming
from voxeval.results import DatasetIdentity
from voxeval.results.files import UnsafeResultsError
from voxeval.results.records import index_jsonl
from voxeval.scoring import score_records
from voxeval.task import TASKS

WORDS = ["the", "cat", "sat", "on", "a", "mat", "with", "my", "dog", "and", "hat", "in", "sun"]


def asr_record(i: int, rng: random.Random, error: bool = False) -> dict:
    ref = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 9)))
    hyp = " ".join(w for w in ref.split() if rng.random() > 0.2) + rng.choice(["", " hat"])
    record = {
        "sample_id": f"s{i}",
        "references": [ref],
        "prediction": {"text": hyp},
        "metadata": {"tts": rng.choice(["festival", "flite", "espeak-ng"])},
        "model_s": 0.01,
        "audio_s": 1.0,
    }
    if error:
        record = {"sample_id": f"s{i}", "error": {"kind": "adapter", "message": "boom"}}
    return record


def write(path, records) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


@pytest.mark.parametrize("task_name", ["demo-asr", "demo-dialogue"])
def test_chunked_index_equals_all_at_once(tmp_path, monkeypatch, task_name):
    rng = random.Random(7)
    records = [asr_record(i, rng, error=i % 17 == 0) for i in range(300)]
    for r in records:  # demo-dialogue reads the same fields plus the emotion breakdown
        r.setdefault("metadata", {})["emotion"] = rng.choice(["sad", "happy"])
    stale = [{**records[3], "prediction": {"text": "an older answer"}}]
    write(tmp_path / "s.jsonl", stale + records)  # the later line of s3 wins
    task = TASKS.get(task_name)()
    ids = [r["sample_id"] for r in records]
    data = DatasetIdentity(id="test", n=300)
    whole, _ = score_records(task, data, {r["sample_id"]: r for r in records}, ids, "s.jsonl")
    monkeypatch.setattr(streaming, "CHUNK", 23)
    index = index_jsonl(tmp_path, "s.jsonl")
    first_seen = list(dict.fromkeys(r["sample_id"] for r in stale + records))  # s3 first
    assert [r["sample_id"] for r in index.records()] == first_seen
    assert len(index) == 300 and index.valid_lines == 301
    assert next(index.records(["s3"]))["prediction"] == records[3]["prediction"]  # the latest
    chunked, _ = score_records(task, data, index, ids, "s.jsonl")
    assert chunked.model_dump() == whole.model_dump()
    assert chunked.n_errors == 18 and chunked.n_scored == 282


def test_chunkable_metrics_keep_statistics_not_texts(tmp_path, monkeypatch):
    monkeypatch.setattr(streaming, "CHUNK", 10)
    rng = random.Random(1)
    scorer = streaming.TaskScorer(TASKS.get("demo-asr")())
    for chunk in streaming.chunks(asr_record(i, rng) for i in range(95)):
        scorer.add(chunk)
    for column in scorer.columns:
        assert column.chunkable and not column.preds and len(column.parts) == 10
        assert column.stats().shape == (95, 4)


def test_a_changed_file_is_refused_not_guessed(tmp_path):
    rng = random.Random(2)
    write(tmp_path / "s.jsonl", [asr_record(i, rng) for i in range(3)])
    index = index_jsonl(tmp_path, "s.jsonl")
    (tmp_path / "s.jsonl").write_text("garbage\n" * 40)
    with pytest.raises(UnsafeResultsError, match="record of 's0'"):
        list(index.records(["s0"]))
