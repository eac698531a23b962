"""A read-only copy of a results folder: every reader gives the same numbers as on the
original, prints no traceback, and changes no file (checksums before and after)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.test_results_reader import checksums
from voxeval.cli import main


@contextmanager
def read_only(root: Path) -> Iterator[None]:
    """Nobody may write under root: modes for a user, the immutable attribute for root."""
    paths = [root, *root.rglob("*")]
    if os.geteuid() != 0:
        for path in paths:
            path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            for path in paths:
                path.chmod(0o755 if path.is_dir() else 0o644)
        return
    done = subprocess.run(["chattr", "-R", "+i", str(root)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"root, and chattr +i failed here: {done.stderr.decode()[:200]}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-R", "-i", str(root)], check=True)


@pytest.fixture
def results(tmp_path, mock_model) -> Path:
    """A published results folder: two real demo-asr runs (12 clips) of two 'models'."""
    from tests.leaderboard_fixtures import add_demo_runs

    add_demo_runs(tmp_path / "results", tmp_path / "work", mock_model, limit=12)
    return tmp_path / "results"


def outputs(results: Path, capsys) -> dict[str, object]:
    """What score, show, compare, check and the board's data layer report on `results`."""
    from voxeval.leaderboard import boards, breakdowns, data, pairs
    from voxeval.leaderboard.samples import task_samples

    (a,) = results.glob("demo/mock-good/*/run.json")
    (b,) = results.glob("demo/mock-sloppy/*/run.json")
    out: dict[str, object] = {}
    for name, argv in {
        "show": ["show", str(b.parent), "--json"],
        "score": ["score", str(b.parent)],
        "compare": ["compare", str(a.parent), str(b.parent), "--json"],
        "check": ["check", "--baseline", str(a.parent), "--run", str(b.parent)],
    }.items():
        code = main(argv)
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err
        out[name] = (code, _numbers(captured.out))
    rows = data.load_results(results)
    tidy = data.select_latest(rows, "demo")
    out["board"] = boards.rank_board(tidy, ["demo-asr"]).table.to_dict()
    out["breakdowns"] = breakdowns.load(
        results, breakdowns.shown_runs(tidy, "demo-asr"), "demo-asr"
    )
    out["samples"] = task_samples(results, tidy, "demo-asr", sorted(tidy["model"].unique()))
    out["pairs"] = pairs.compare_models(results, tidy, *sorted(tidy["model"].unique()))
    return {k: (v.to_dict() if hasattr(v, "to_dict") else v) for k, v in out.items()}


def _numbers(text: str) -> str:
    """Command output without the lines that name the folder (the copy lives elsewhere)."""
    return "\n".join(line for line in text.splitlines() if not line.startswith("folder"))


def test_every_reader_on_a_read_only_copy(results, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("VOXEVAL_CACHE_DIR", str(tmp_path / "cache-original"))
    original = outputs(results, capsys)
    copy = tmp_path / "copy" / "results"
    shutil.copytree(results, copy, symlinks=True)
    before = checksums(copy)
    monkeypatch.setenv("VOXEVAL_CACHE_DIR", str(tmp_path / "cache-copy"))
    with read_only(copy):
        on_copy = outputs(copy, capsys)
        assert main(["score", str(next(copy.glob("demo/mock-good/*")))]) == 0
        assert "computed but not saved" in capsys.readouterr().err
    assert checksums(copy) == before
    for name in ("show", "compare", "check", "board", "breakdowns", "samples"):
        assert on_copy[name] == original[name], name
    assert on_copy["score"][0] == original["score"][0] == 0
    # The copy's pairs table differs only in paths; its numbers are the same.
    assert json.dumps(on_copy["pairs"], default=str) == json.dumps(original["pairs"], default=str)
