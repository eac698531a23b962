"""The hashed offset table of a samples file: latest line wins, hash collisions change nothing."""

from __future__ import annotations

import json
import random
import weakref

import numpy as np
import pytest

from voxeval import stats, streaming
from voxeval.results import DatasetIdentity
from voxeval.results import offsets as offsets_module
from voxeval.results.files import UnsafeResultsError
from voxeval.results.records import index_jsonl, read_jsonl
from voxeval.scoring import score_records
from voxeval.task import TASKS

WORDS = ["the", "cat", "sat", "on", "a", "mat", "with", "my", "dog", "and", "hat"]


def record(sample_id: str, rng: random.Random) -> dict:
    """A demo-asr record with a random reference and a noisy prediction."""
    ref = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 8)))
    hyp = " ".join(w for w in ref.split() if rng.random() > 0.25) + rng.choice(["", " hat"])
    return {
        "sample_id": sample_id,
        "references": [ref],
        "prediction": {"text": hyp},
        "metadata": {"tts": rng.choice(["festival", "flite"])},
    }


def write_lines(path, records: list[dict], bad_every: int = 0) -> None:
    """One JSON line per record; with `bad_every`, a broken line now and then (skipped)."""
    lines = []
    for i, rec in enumerate(records):
        if bad_every and i % bad_every == 0:
            lines.append('{"sample_id": "broken"\n')
        lines.append(json.dumps(rec) + "\n")
    path.write_text("".join(lines))


def with_duplicates(n: int, seed: int) -> list[dict]:
    """n ids in a file where about a third of them appear again later (a retry)."""
    rng = random.Random(seed)
    records = [record(f"s{i}", rng) for i in range(n)]
    retried = [record(f"s{i}", rng) for i in rng.sample(range(n), n // 3)]
    rng.shuffle(retried)
    return records + retried + [record(f"s{i}", rng) for i in rng.sample(range(n), n // 10)]


def clashing(buckets: int):
    """A hash under which the odd ids s1, s3… share `buckets` values; the even ones do not."""
    return lambda s: int(s[1:]) % buckets if int(s[1:]) % 2 else hash(s) | 1 << 40


def reference(path) -> dict[str, dict]:
    """The dict reader: latest valid record per id, ids in the order of their first line."""
    return read_jsonl(path.parent, path.name).latest


@pytest.mark.parametrize("buckets", [None, 1, 3, 64])  # None: the real hash
def test_latest_line_wins_whatever_the_hash(tmp_path, monkeypatch, buckets):
    if buckets is not None:
        monkeypatch.setattr(offsets_module, "id_hash", clashing(buckets))
    write_lines(tmp_path / "s.jsonl", with_duplicates(200, seed=buckets or 0), bad_every=29)
    expected = reference(tmp_path / "s.jsonl")
    index = index_jsonl(tmp_path, "s.jsonl")
    assert len(index) == len(expected) == 200 and len(index.bad) > 0
    assert len(index.table.collided) == (0 if buckets is None else 100)
    assert list(index.records()) == list(expected.values())
    asked = [f"s{i}" for i in random.Random(1).sample(range(260), 260)]  # s200… are absent
    assert list(index.records(asked)) == [expected[i] for i in asked if i in expected]


def test_a_forced_collision_with_an_absent_id_is_not_its_record(tmp_path, monkeypatch):
    monkeypatch.setattr(offsets_module, "id_hash", lambda s: 0 if s in {"a", "ghost"} else 1)
    rng = random.Random(3)
    write_lines(tmp_path / "s.jsonl", [record("a", rng), record("b", rng), record("a", rng)])
    index = index_jsonl(tmp_path, "s.jsonl")
    assert not index.table.collided  # "a" and "b" do not share a hash: no id kept by name
    assert [r["sample_id"] for r in index.records(["ghost", "a", "b"])] == ["a", "b"]
    assert next(index.records(["a"])) == reference(tmp_path / "s.jsonl")["a"]


def test_ids_sharing_a_hash_are_kept_by_id(tmp_path, monkeypatch):
    monkeypatch.setattr(offsets_module, "id_hash", lambda s: 5)  # every id collides
    rng = random.Random(4)
    records = [record("x", rng), record("y", rng), record("x", rng), record("z", rng)]
    write_lines(tmp_path / "s.jsonl", records)
    index = index_jsonl(tmp_path, "s.jsonl")
    assert sorted(index.table.collided) == ["x", "y", "z"] and len(index.table.keys) == 0
    assert [r["sample_id"] for r in index.records()] == ["x", "y", "z"]  # first lines' order
    assert list(index.records(["z", "x", "w"])) == [records[3], records[2]]  # last x wins


# demo-dialogue: BLEU's n-gram counts are kept compact too
@pytest.mark.parametrize(
    ("task_name", "buckets"), [("demo-asr", None), ("demo-asr", 2), ("demo-dialogue", 50)]
)
def test_scores_equal_the_dict_reader_without_compact_stats(
    tmp_path, monkeypatch, task_name, buckets
):
    records = with_duplicates(300, seed=9)
    write_lines(tmp_path / "s.jsonl", records)
    task, data = TASKS.get(task_name)(), DatasetIdentity(id="test", n=300)
    latest = reference(tmp_path / "s.jsonl")
    with monkeypatch.context() as before:  # the former path: a dict, float64 statistics kept
        before.setattr(streaming, "compact", lambda part: part)
        expected, _ = score_records(task, data, latest, list(latest), "s.jsonl")
    if buckets is not None:
        monkeypatch.setattr(offsets_module, "id_hash", clashing(buckets))
    monkeypatch.setattr(streaming, "CHUNK", 37)
    index = index_jsonl(tmp_path, "s.jsonl")
    assert score_records(task, data, index, None, "s.jsonl")[0] == expected
    assert score_records(task, data, index, list(latest), "s.jsonl")[0] == expected


def test_a_line_that_now_holds_another_id_is_refused(tmp_path):
    rng = random.Random(5)
    first, second = record("s1", rng), record("s2", rng)
    second["references"], second["prediction"] = first["references"], first["prediction"]
    second["metadata"] = first["metadata"]  # same length, so the offsets stay line starts
    write_lines(tmp_path / "s.jsonl", [first, second])
    index = index_jsonl(tmp_path, "s.jsonl")
    write_lines(tmp_path / "s.jsonl", [second, first])
    with pytest.raises(UnsafeResultsError, match="record of 's1' changed"):
        list(index.records(["s1"]))


def test_an_empty_or_missing_file_has_no_records(tmp_path):
    (tmp_path / "empty.jsonl").write_text("")
    for name in ("empty.jsonl", "missing.jsonl"):
        index = index_jsonl(tmp_path, name)
        assert len(index) == 0 and index.valid_lines == 0
    assert list(index_jsonl(tmp_path, "empty.jsonl").records(["s1"])) == []
    assert list(index_jsonl(tmp_path, "empty.jsonl").records()) == []


@pytest.mark.parametrize(
    ("values", "dtype"),
    [
        ([[0.0, 3.0], [255.0, 1.0]], np.uint8),
        ([[0.0, 256.0]], np.uint16),
        ([[70_000.0, 1.0]], np.uint32),
        ([[2.0**33, 1.0]], np.float64),  # too large for any kept type
        ([[0.5, 1.0]], np.float64),  # not whole
        ([[-1.0, 1.0]], np.float64),  # negative
        ([[-0.0, 1.0]], np.float64),  # the sign of zero is kept
        ([[np.nan, 1.0]], np.float64),
        ([[np.inf, 1.0]], np.float64),
    ],
)
def test_compact_is_exact_or_leaves_the_statistics(values, dtype):
    stats_in = np.array(values)
    kept = streaming.compact(stats_in)
    assert kept.dtype == dtype
    back = kept.astype(np.float64)
    assert np.array_equal(back, stats_in, equal_nan=True)
    assert np.array_equal(np.signbit(back), np.signbit(stats_in))


def test_a_column_gives_back_the_metrics_own_type():
    column = streaming.SpecColumn(TASKS.get("demo-asr").metrics[0])
    rng = random.Random(6)
    column.add([record(f"s{i}", rng) for i in range(5)])
    column.add([record(f"s{i}", rng) for i in range(5, 9)])
    assert column.parts[0].dtype == np.uint8 and column.stats().dtype == np.float64
    assert column.stats().shape == (9, 4)


def test_a_dropped_count_chunk_is_freed_before_the_next_is_made():
    chunks = stats.resample_counts(1000, 40, seed=0, rows=10)
    alive = weakref.ref(next(chunks))
    assert alive() is None  # neither the generator nor a local holds it
    later = list(chunks)
    assert len(later) == 3 and all(c.shape == (10, 1000) for c in later)
