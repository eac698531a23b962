"""Terminal output a person can read at 100 columns: wrapped tables, long breakdowns when
wide, only non-default arguments, a loading line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.leaderboard_fixtures import T0, run_record, task_result
from voxeval.cli import main
from voxeval.results import RunResult
from voxeval.runner import RunConfig, run_evaluation
from voxeval.summary import changed_args, format_run, format_table


@pytest.fixture(autouse=True)
def hundred_columns(monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")


@pytest.mark.parametrize("what", ["tasks", "models", "metrics"])
def test_list_tables_fit_100_columns(what, capsys):
    assert main(["list", what]) == 0
    out = capsys.readouterr().out
    assert max(map(len, out.splitlines())) <= 100
    if what != "metrics":
        assert "built-in" in out  # voxeval's own modules, named briefly


def test_wide_tables_wrap_text_columns_and_keep_values_whole():
    rows = [{"name": "x", "value": "0.1037 [0.056, 0.155]", "note": "word " * 40}]
    text = format_table(rows, width=60, keep=("value",))
    assert max(map(len, text.splitlines())) <= 60
    assert "0.1037 [0.056, 0.155]" in text and len(text.splitlines()) > 3


def test_many_breakdown_metrics_print_one_row_each():
    tasks = {name: task_result(name, 0.3) for name in ("asr-clean", "emotion-cls")}
    model = {"name": "mock", "adapter": "MockAdapter", "args": {"tag": "x"}}
    run = RunResult.model_validate(run_record(model, tasks, T0))
    text = format_run(run, run_dir=Path("somewhere"))
    assert max(map(len, text.splitlines())) <= 100
    breakdowns = text.split("breakdowns\n", 1)[1]
    assert breakdowns.splitlines()[0].split()[:4] == ["task", "by", "group", "metric"]


def test_the_summary_names_only_arguments_that_differ_from_the_defaults(tmp_path):
    said = []
    config = RunConfig(
        model="mock",
        tasks=["demo-asr"],
        limit=1,
        output_dir=tmp_path,
        model_args={"tag": "mine", "batch_size": "1"},
    )
    run, run_dir = run_evaluation(config, say=said.append)
    assert changed_args(run.model) == {"tag": "mine"}  # batch_size=1 is the default
    assert "model    mock  {'tag': 'mine'}" in format_run(run, run_dir)
    assert said[0] == "voxeval: loading mock…" and said[1].startswith("voxeval: mock loaded in")
