"""Samples JSONL checkpoint: round trip, latest record wins, torn lines, resume semantics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from voxeval.checkpoint import SamplesFile


def _rec(sid: str, text: str | None = "ok", error: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"sample_id": sid, "prediction": text, "error": error}


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
    assert got["a"]["prediction"] == "retried"
    assert got["a"]["error"] is None
    assert got["b"]["prediction"] == "second"
    assert len(got) == 2


def test_torn_last_line_is_ignored_and_truncated(tmp_path: Path) -> None:
    path = tmp_path / "samples.jsonl"
    sf = SamplesFile(path)
    sf.append(_rec("a"))
    sf.append(_rec("b"))
    sf.close()
    good_size = path.stat().st_size
    with path.open("ab") as fh:
        fh.write(b'{"sample_id": "c", "predic')
    assert set(SamplesFile(path).read()) == {"a", "b"}
    assert path.stat().st_size == good_size
    resumed = SamplesFile(path)
    resumed.append(_rec("c"))
    resumed.append(_rec("d"))
    resumed.close()
    assert [r["sample_id"] for r in _lines(path)] == ["a", "b", "c", "d"]
    assert set(SamplesFile(path).read()) == {"a", "b", "c", "d"}


def test_complete_json_without_newline_is_torn(tmp_path: Path) -> None:
    # The newline is the commit marker: a record without it may be incomplete.
    path = tmp_path / "samples.jsonl"
    path.write_bytes(json.dumps(_rec("a")).encode() + b"\n" + json.dumps(_rec("b")).encode())
    assert set(SamplesFile(path).read()) == {"a"}
    SamplesFile(path).append(_rec("c"))
    assert [r["sample_id"] for r in _lines(path)] == ["a", "c"]


def test_torn_last_line_inside_utf8_character(tmp_path: Path) -> None:
    path = tmp_path / "samples.jsonl"
    sf = SamplesFile(path)
    sf.append(_rec("a"))
    sf.close()
    good_size = path.stat().st_size
    torn = json.dumps(_rec("b", "東京"), ensure_ascii=False).encode("utf-8")
    cut = torn.index("東".encode()) + 1  # inside the 3-byte encoding of 東
    with path.open("ab") as fh:
        fh.write(torn[:cut])
    assert set(SamplesFile(path).read()) == {"a"}
    assert path.stat().st_size == good_size


def test_finished_ids_retry_adapter_errors_only(tmp_path: Path) -> None:
    sf = SamplesFile(tmp_path / "samples.jsonl")
    sf.append(_rec("ok"))
    sf.append(_rec("decode", None, {"kind": "decode", "message": "bad wav"}))
    sf.append(_rec("adapter", None, {"kind": "adapter", "message": "CUDA OOM"}))
    sf.append(_rec("fixed", None, {"kind": "adapter", "message": "flaky"}))
    sf.append(_rec("fixed", "now fine"))
    sf.append(_rec("broke", "fine"))
    sf.append(_rec("broke", None, {"kind": "adapter", "message": "later failure"}))
    sf.append({"sample_id": "no_error_key", "prediction": "x"})
    sf.close()
    assert sf.finished_ids() == {"ok", "decode", "fixed", "no_error_key"}


def test_missing_file_reads_empty(tmp_path: Path) -> None:
    sf = SamplesFile(tmp_path / "absent.jsonl")
    assert sf.read() == {}
    assert sf.finished_ids() == set()
    assert not sf.path.exists()


def test_nan_values_are_rejected(tmp_path: Path) -> None:
    # allow_nan=False keeps the file strict JSON; a NaN must not be written silently.
    sf = SamplesFile(tmp_path / "samples.jsonl")
    with pytest.raises(ValueError):
        sf.append({"sample_id": "a", "score": float("nan")})
    sf.close()
    assert sf.read() == {}
