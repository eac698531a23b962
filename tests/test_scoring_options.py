"""Scoring options (ASR normaliser, compound merging): chosen per run, re-scored, not re-run."""

from __future__ import annotations

import json

import pytest

from voxeval.cli import main
from voxeval.errors import VoxevalError
from voxeval.metrics import compute
from voxeval.plan import RunConfig
from voxeval.rescore import rescore_run
from voxeval.runner import run_evaluation
from voxeval.types import Response

# Hypotheses whose spellings only the Open ASR Leaderboard's normaliser forgives.
HYPOTHESIS = "OK, the e-mail came at 3 p.m. from Jon, all right"


def run_demo(tmp_path, **task_args):
    config = RunConfig(model="mock", tasks=["demo-asr"], output_dir=tmp_path, limit=6)
    config.task_args = task_args
    return run_evaluation(config)


def saved(run_dir):
    return json.loads((run_dir / "run.json").read_text())


def expected(run_dir, metric, **params):
    lines = (run_dir / "samples-demo-asr.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    hyps = [r["prediction"]["text"] for r in records]
    refs = [r["references"][0] for r in records]
    return compute(metric, hyps, refs, n_resamples=0, **params).value


@pytest.fixture
def answering(mock_model):
    mock_model.default = staticmethod(lambda item: Response(text=HYPOTHESIS))
    return mock_model


def test_a_changed_normaliser_rescores_the_finished_run_without_the_model(tmp_path, answering):
    _, first = run_demo(tmp_path)
    asked = len(answering.history)
    run, again = run_demo(tmp_path, normalizer="oasr", compounds="merge")
    assert again == first and len(answering.history) == asked  # no model call
    wer = saved(again)["tasks"]["demo-asr"]["metrics"]["wer"]
    assert wer["params"]["normalizer"] == "oasr" and wer["params"]["compounds"] == "merge"
    assert wer["value"] == pytest.approx(
        expected(again, "wer", normalizer="oasr", compounds="merge")
    )
    assert wer["value"] != pytest.approx(expected(again, "wer"))  # the option mattered
    assert saved(again)["task_args"] == {"normalizer": "oasr", "compounds": "merge"}
    assert run.task_args == saved(again)["task_args"]


def test_voxeval_score_takes_scoring_options(tmp_path, answering, capsys):
    _, run_dir = run_demo(tmp_path)
    assert main(["score", str(run_dir), "--task-args", "normalizer=oasr"]) == 0
    metrics = saved(run_dir)["tasks"]["demo-asr"]["metrics"]
    assert metrics["cer"]["params"]["normalizer"] == "oasr"
    assert metrics["cer"]["value"] == pytest.approx(expected(run_dir, "cer", normalizer="oasr"))
    assert metrics["wer"]["params"]["compounds"] == "none"


def test_only_scoring_options_can_be_changed_by_rescoring(tmp_path, answering):
    _, run_dir = run_demo(tmp_path)
    with pytest.raises(VoxevalError, match="no task of this run"):
        rescore_run(run_dir, task_args={"split": "train"})
    with pytest.raises(VoxevalError, match="unknown normaliser 'oasr2'"):
        rescore_run(run_dir, task_args={"normalizer": "oasr2"})
    with pytest.raises(VoxevalError, match="compounds"):
        run_demo(tmp_path, compounds="join")
    assert saved(run_dir)["tasks"]["demo-asr"]["metrics"]["wer"]["params"]["normalizer"] == (
        "whisper_english"
    )  # nothing changed by the refused attempts


def test_a_prediction_option_is_refused_by_rescoring(tmp_path, answering, monkeypatch):
    from voxeval.tasks.demo_asr import DemoAsr

    _, run_dir = run_demo(tmp_path)
    # Pretend normalizer changed what the model is asked: re-scoring must refuse it.
    monkeypatch.setattr(DemoAsr, "scoring_options", frozenset({"compounds"}))
    with pytest.raises(VoxevalError, match="changes what the model is asked"):
        rescore_run(run_dir, task_args={"normalizer": "oasr"})
