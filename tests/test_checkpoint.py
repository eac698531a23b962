"""Samples JSONL checkpoint: round trip, latest record wins, bad lines set aside on repair only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from voxeval.checkpoint import CORRUPT_SUFFIX, SamplesFile, finished_ids
from voxeval.results.records import read_jsonl


def _rec(sid: str, text: str | None = "ok", error: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"sample_id": sid, "prediction": {"text": text} if text else {}, "error": error}


def _lines(path: Path) -> list[dict[str, Any]]:
    raw = path.read_bytes()
    assert raw.endswith(b"\n")
    return [json.loads(line) for line in raw.decode("utf-8").splitlines()]


def test_append_read_round_trip(tmp_path: Path) -> None:
    sf = SamplesFile(tmp_path / "samples.jsonl")
    records = [
        _rec("a"),
        _rec("b", "naïve 東京"),
        _rec("c", None, {"kind": "decode", "message": "x"}),
    ]
    for record in records:
        sf.append(record)
    sf.close()
    assert SamplesFile(sf.path).read() == {r["sample_id"]: r for r in records}
    assert _lines(sf.path) == records
    # Non-ASCII text is stored as UTF-8, not escaped.
    assert "東京" in sf.path.read_text(encoding="utf-8")


def test_read_while_open_sees_flushed_records(tmp_path: Path) -> None:
    sf = SamplesFile(tmp_path / "samples.jsonl")
    sf.append(_rec("a"))
    assert set(SamplesFile(sf.path).read()) == {"a"}
    sf.close()
    sf.close()  # closing twice is harmless


def test_latest_record_per_id_wins(tmp_path: Path) -> None:
    sf = SamplesFile(tmp_path / "samples.jsonl")
    sf.append(_rec("a", None, {"kind": "adapter", "message": "timeout"}))
    sf.append(_rec("b", "first"))
    sf.append(_rec("a", "retried"))
    sf.append(_rec("b", "second"))
    sf.close()
    got = sf.read()
    assert got["a"]["prediction"] == {"text": "retried"}
    assert got["a"]["error"] is None
    assert got["b"]["prediction"] == {"text": "second"}
    assert len(got) == 2


def test_reading_never_changes_a_torn_file(tmp_path: Path) -> None:
    path = tmp_path / "samples.jsonl"
    sf = SamplesFile(path)
    sf.append(_rec("a"))
    sf.append(_rec("b"))
    sf.close()
    with path.open("ab") as fh:
        fh.write(b'{"sample_id": "c", "predic')
    before = path.read_bytes()
    assert set(SamplesFile(path).read()) == {"a", "b"}
    scan = read_jsonl(tmp_path, "samples.jsonl")
    assert [b.number for b in scan.bad] == [3] and "cut off" in scan.bad[0].reason
    assert SamplesFile(path).finished_ids() == {"a", "b"}
    assert path.read_bytes() == before  # readers never repair


def test_repair_sets_a_torn_last_line_aside_and_appends_after_it(tmp_path: Path) -> None:
    path = tmp_path / "samples.jsonl"
    sf = SamplesFile(path)
    sf.append(_rec("a"))
    sf.append(_rec("b"))
    sf.close()
    torn = b'{"sample_id": "c", "predic'
    with path.open("ab") as fh:
        fh.write(torn)
    scan = SamplesFile(path).repair()
    assert set(scan.latest) == {"a", "b"}
    assert (tmp_path / f"samples.jsonl{CORRUPT_SUFFIX}").read_bytes() == torn + b"\n"
    resumed = SamplesFile(path)
    resumed.append(_rec("c"))
    resumed.append(_rec("d"))
    resumed.close()
    assert [r["sample_id"] for r in _lines(path)] == ["a", "b", "c", "d"]


def test_a_bad_line_in_the_middle_costs_only_its_own_sample(tmp_path: Path) -> None:
    path = tmp_path / "samples.jsonl"
    sf = SamplesFile(path)
    for i in range(10):
        sf.append(_rec(f"s{i}"))
    sf.close()
    lines = path.read_bytes().splitlines(keepends=True)
    lines[3] = b'{"sample_id": "s3", "prediction": \xff\xfe garbage}\n'
    lines[6] = b'{"sample_id": 6, "prediction": {}}\n'  # valid JSON, wrong type
    path.write_bytes(b"".join(lines))
    scan = SamplesFile(path).repair()
    assert set(scan.latest) == {f"s{i}" for i in range(10)} - {"s3", "s6"}
    assert [b.number for b in scan.bad] == [4, 7]
    side = (tmp_path / f"samples.jsonl{CORRUPT_SUFFIX}").read_bytes().splitlines(keepends=True)
    assert side == [lines[3], lines[6]]
    assert [r["sample_id"] for r in _lines(path)] == [f"s{i}" for i in range(10) if i not in (3, 6)]
    assert SamplesFile(path).repair().bad == []  # a second repair finds nothing


def test_complete_json_without_newline_is_torn(tmp_path: Path) -> None:
    # The newline is the commit marker: a record without it may be incomplete.
    path = tmp_path / "samples.jsonl"
    path.write_bytes(json.dumps(_rec("a")).encode() + b"\n" + json.dumps(_rec("b")).encode())
    assert set(SamplesFile(path).repair().latest) == {"a"}
    SamplesFile(path).append(_rec("c"))
    assert [r["sample_id"] for r in _lines(path)] == ["a", "c"]


def test_torn_last_line_inside_utf8_character(tmp_path: Path) -> None:
    path = tmp_path / "samples.jsonl"
    sf = SamplesFile(path)
    sf.append(_rec("a"))
    sf.close()
    good = path.read_bytes()
    torn = json.dumps(_rec("b", "東京"), ensure_ascii=False).encode("utf-8")
    cut = torn.index("東".encode()) + 1  # inside the 3-byte encoding of 東
    with path.open("ab") as fh:
        fh.write(torn[:cut])
    assert set(SamplesFile(path).repair().latest) == {"a"}
    assert path.read_bytes() == good


def test_finished_ids_retry_adapter_errors_only(tmp_path: Path) -> None:
    sf = SamplesFile(tmp_path / "samples.jsonl")
    sf.append(_rec("ok"))
    sf.append(_rec("decode", None, {"kind": "decode", "message": "bad wav"}))
    sf.append(_rec("adapter", None, {"kind": "adapter", "message": "CUDA OOM"}))
    sf.append(_rec("fixed", None, {"kind": "adapter", "message": "flaky"}))
    sf.append(_rec("fixed", "now fine"))
    sf.append(_rec("broke", "fine"))
    sf.append(_rec("broke", None, {"kind": "adapter", "message": "later failure"}))
    sf.append({"sample_id": "no_error_key", "prediction": {"text": "x"}})
    sf.close()
    assert sf.finished_ids() == {"ok", "decode", "fixed", "no_error_key"}
    assert finished_ids(sf.repair()) == sf.finished_ids()


def test_missing_file_reads_empty(tmp_path: Path) -> None:
    sf = SamplesFile(tmp_path / "absent.jsonl")
    assert sf.read() == {}
    assert sf.finished_ids() == set()
    assert sf.repair().latest == {}
    assert not sf.path.exists()


def test_nan_values_are_rejected(tmp_path: Path) -> None:
    # allow_nan=False keeps the file strict JSON; a NaN must not be written silently.
    sf = SamplesFile(tmp_path / "samples.jsonl")
    with pytest.raises(ValueError):
        sf.append({"sample_id": "a", "audio_s": float("nan")})
    sf.close()
    assert sf.read() == {}


def test_a_symlinked_samples_file_is_refused_not_followed(tmp_path: Path) -> None:
    from voxeval.results.files import UnsafeResultsError

    target = tmp_path / "elsewhere.jsonl"
    target.write_text(json.dumps(_rec("x")) + "\n")
    (tmp_path / "samples.jsonl").symlink_to(target)
    with pytest.raises(UnsafeResultsError, match="symbolic link"):
        SamplesFile(tmp_path / "samples.jsonl").repair()
    assert target.read_text() == json.dumps(_rec("x")) + "\n"
