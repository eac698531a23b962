"""The project's own CI gate: the committed demo baseline passes against itself and a
degraded copy of it fails, so `.ci/run`'s `voxeval check` would catch a real regression."""

from __future__ import annotations

import json
import shutil

from tests.conftest import REPO
from voxeval.cli import main

BASELINE = REPO / ".ci" / "baseline" / "demo-asr-faster-whisper"


def degraded_copy(dest, every: int):
    """The baseline with every `every`-th transcript cut to its first word."""
    shutil.copytree(BASELINE, dest)
    path = dest / "samples-demo-asr.jsonl"
    rows = [json.loads(x) for x in path.read_text().splitlines()]
    for i, row in enumerate(rows):
        if i % every == 0:
            row["prediction"]["text"] = row["prediction"]["text"].split(" ")[0]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return dest


def test_baseline_is_a_real_faster_whisper_run():
    run = json.loads((BASELINE / "run.json").read_text())
    assert run["status"] == "success" and run["model"]["name"] == "faster-whisper"
    assert run["tasks"]["demo-asr"]["dataset"]["n"] == 30


def test_gate_passes_the_baseline_against_itself(capsys):
    assert main(["check", "--baseline", str(BASELINE), "--run", str(BASELINE)]) == 0


def test_gate_fails_a_degraded_run(tmp_path, capsys):
    degraded = degraded_copy(tmp_path / "degraded", every=2)
    assert main(["check", "--baseline", str(BASELINE), "--run", str(degraded)]) == 1
    assert "REGRESSION in demo-asr/wer" in capsys.readouterr().err
