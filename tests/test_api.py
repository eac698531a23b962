"""voxeval.evaluate: names and instances through the runner `voxeval run` uses."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

import voxeval
from tests.conftest import REPO
from tests.helpers import run_folders
from voxeval.adapter import ADAPTERS, Adapter, TaskContext
from voxeval.cli import main
from voxeval.errors import VoxevalError
from voxeval.plan import RunConfig
from voxeval.results import read_run
from voxeval.runner import run_evaluation
from voxeval.task import TASKS, DatasetInfo, MetricSpec, Task
from voxeval.types import ModelInput, Response, Sample, TaskKind

WORDS = ("one two three", "four five", "six")


class Shouter(Adapter):
    """A user's own adapter, never registered: answers in capitals, counts its calls."""

    name: ClassVar[str] = "shouter"
    description: ClassVar[str] = "test adapter defined in a notebook"
    supports: ClassVar[frozenset[TaskKind]] = frozenset({"asr"})
    calls: ClassVar[list[str]] = []

    def predict(self, batch: list[ModelInput], task: TaskContext) -> list[Response]:
        self.calls.extend(item.sample_id for item in batch)
        return [Response(text="ONE TWO THREE") for _ in batch]


class Tones(Task):
    """A user's own task, never registered: three sine tones with reference words."""

    name: ClassVar[str] = "tones"
    version: ClassVar[str] = "1"
    kind: ClassVar[TaskKind] = "asr"
    description: ClassVar[str] = "test task defined in a notebook"
    metrics: ClassVar[tuple[MetricSpec, ...]] = (MetricSpec("wer", {"normalizer": "none"}),)

    def dataset(self) -> DatasetInfo:
        return DatasetInfo(id="tests/tones", content_hash="0" * 64, demo=True)

    def samples(self) -> Iterator[Sample]:
        wave = np.sin(np.arange(8000) / 8.0).astype(np.float32)
        for i, words in enumerate(WORDS):
            yield Sample(id=f"tone-{i}", audio=(wave, 16000), references=(words,))


@pytest.fixture(autouse=True)
def _fresh_shouter() -> Iterator[None]:
    Shouter.calls = []
    yield


def records(run_dir: Path, task: str = "demo-asr") -> list[dict]:
    """The records of a task without their timing (which differs between two runs)."""
    lines = (run_dir / f"samples-{task}.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(x).items() if k != "model_s"} for x in lines]


def test_names_make_the_same_run_as_the_command_line_and_the_runner(tmp_path, mock_model):
    mock_model.default = staticmethod(lambda item: Response(text="please remember"))
    [result] = voxeval.evaluate("mock", "demo-asr", limit=3, output_dir=tmp_path / "api")
    argv = ["run", "--model", "mock", "--tasks", "demo-asr", "--limit", "3"]
    assert main([*argv, "--output-dir", str(tmp_path / "cli")]) == 0
    (cli_dir,) = run_folders(tmp_path / "cli" / "mock")
    config = RunConfig(model="mock", tasks=["demo-asr"], limit=3, output_dir=tmp_path / "runner")
    run, runner_dir = run_evaluation(config)
    cli = read_run(cli_dir)
    assert result.run.fingerprint == cli.fingerprint == run.fingerprint
    assert result.run_dir.parent == tmp_path / "api" / "mock"
    assert records(result.run_dir) == records(cli_dir) == records(runner_dir)
    assert result.metrics == {
        "demo-asr": {k: v.value for k, v in cli.tasks["demo-asr"].metrics.items()}
    }
    assert result.run.model == cli.model


def test_a_second_call_reuses_the_finished_run(tmp_path, mock_model):
    [first] = voxeval.evaluate("mock", "demo-asr", limit=3, output_dir=tmp_path)
    assert len(mock_model.history) == 3
    [again] = voxeval.evaluate("mock", ["demo-asr"], limit=3, output_dir=tmp_path)
    assert len(mock_model.history) == 3  # nothing sent to the model
    assert again.run_dir == first.run_dir and again.run.run_id == first.run.run_id
    [fresh] = voxeval.evaluate("mock", "demo-asr", limit=3, output_dir=tmp_path, rerun=True)
    assert fresh.run_dir != first.run_dir and len(mock_model.history) == 6


def test_an_unfinished_run_resumes_only_its_failed_samples(tmp_path, mock_model):
    mock_model.enqueue("a", RuntimeError("model crashed"))  # the 2nd answer fails, batch of 1
    [first] = voxeval.evaluate("mock", "demo-asr", limit=3, output_dir=tmp_path)
    assert first.run.tasks["demo-asr"].n_errors == 1
    mock_model.history.clear()
    [second] = voxeval.evaluate("mock", "demo-asr", limit=3, output_dir=tmp_path)
    assert [item.sample_id for item in mock_model.history] == ["demo-002"]
    assert second.run_dir == first.run_dir and second.run.resumed == 1
    assert second.run.tasks["demo-asr"].n_errors == 0


def test_a_registered_adapter_instance_is_its_names_run(tmp_path, mock_model):
    [by_name] = voxeval.evaluate(("mock", {"tag": "x"}), "demo-asr", limit=2, output_dir=tmp_path)
    instance = ADAPTERS.get("mock").from_args({"tag": "x"})
    [by_instance] = voxeval.evaluate(instance, "demo-asr", limit=2, output_dir=tmp_path)
    assert by_instance.run_dir == by_name.run_dir and len(mock_model.history) == 2
    assert by_instance.run.model.adapter_plugin == "voxeval.testing.mock"
    assert by_instance.run.model.args["tag"] == "x"
    [other] = voxeval.evaluate(
        {"name": "mock", "args": {"tag": "y"}}, "demo-asr", limit=2, output_dir=tmp_path
    )
    assert other.run.fingerprint != by_name.run.fingerprint


def test_an_unregistered_adapter_runs_records_and_resumes(tmp_path):
    [result] = voxeval.evaluate(Shouter.from_args({}), "demo-asr", limit=3, output_dir=tmp_path)
    assert len(Shouter.calls) == 3
    assert result.run_dir.parent == tmp_path / "shouter"
    model = read_run(result.run_dir).model  # run.json is valid as written
    assert (model.name, model.adapter, model.adapter_plugin) == ("shouter", "Shouter", None)
    assert result.metrics["demo-asr"]["wer"] >= 0.9  # three shouted words, all wrong
    [again] = voxeval.evaluate(Shouter.from_args({}), "demo-asr", limit=3, output_dir=tmp_path)
    assert again.run_dir == result.run_dir and len(Shouter.calls) == 3


def test_an_unregistered_adapter_named_like_a_registered_one_is_not_credited_to_it(
    tmp_path, mock_model
):
    class FakeMock(Shouter):
        name: ClassVar[str] = "mock"

    [result] = voxeval.evaluate(FakeMock.from_args({}), "demo-asr", limit=1, output_dir=tmp_path)
    assert (result.run.model.adapter, result.run.model.adapter_plugin) == ("FakeMock", None)
    assert mock_model.history == []


def test_task_instances_with_options_fingerprint_like_their_names(tmp_path, mock_model):
    demo = TASKS.get("demo-asr")
    out = {"limit": 2, "output_dir": tmp_path}
    [plain] = voxeval.evaluate("mock", demo(), **out)
    [named] = voxeval.evaluate("mock", "demo-asr", **out)
    assert named.run_dir == plain.run_dir and len(mock_model.history) == 2
    [oasr] = voxeval.evaluate("mock", demo(options={"normalizer": "oasr"}), **out)
    [oasr_named] = voxeval.evaluate("mock", ("demo-asr", {"normalizer": "oasr"}), **out)
    assert oasr.run.fingerprint != plain.run.fingerprint
    assert oasr_named.run_dir == oasr.run_dir and len(mock_model.history) == 4
    assert oasr.run.tasks["demo-asr"].metrics["wer"].params["normalizer"] == "oasr"


def test_a_users_own_task_runs_beside_named_tasks(tmp_path, mock_model):
    mock_model.default = staticmethod(lambda item: Response(text="one two three"))
    [result] = voxeval.evaluate("mock", ["demo-asr", Tones()], limit=2, output_dir=tmp_path)
    assert list(result.run.tasks) == ["demo-asr", "tones"]  # named tasks first
    tones = result.run.tasks["tones"]
    assert tones.n_samples == 2 and tones.dataset.n_available == 3
    # "four five" heard as "one two three": 2 substitutions + 1 insertion over 5 words
    assert result.metrics["tones"]["wer"] == pytest.approx(3 / 5)
    assert [r["sample_id"] for r in result.samples("tones")] == ["tone-0", "tone-1"]
    assert read_run(result.run_dir).tasks["tones"].task == "tones"
    mock_model.history.clear()
    [again] = voxeval.evaluate("mock", ["demo-asr", Tones()], limit=2, output_dir=tmp_path)
    assert again.run_dir == result.run_dir and mock_model.history == []


def test_several_models_give_one_result_each_in_order(tmp_path, mock_model):
    models = ["mock", ("mock", {"tag": "b"}), Shouter.from_args({})]
    results = voxeval.evaluate(models, Tones(), output_dir=tmp_path)
    assert [r.model for r in results] == ["mock", "mock", "shouter"]
    assert len({r.run_dir for r in results}) == 3
    assert len(mock_model.history) == 6 and len(Shouter.calls) == 3
    assert results[2].metrics == {"tones": {"wer": pytest.approx(9 / 6)}}  # capitals count
    rows = [row for r in results for row in r.rows()]
    assert {(row["model"], row["task"], row["metric"]) for row in rows} == {
        ("mock", "tones", "wer"),
        ("shouter", "tones", "wer"),
    }


def test_dialogue_baseline_and_a_judge_name_checked_first(tmp_path):
    [result] = voxeval.evaluate("echo", "demo-dialogue", limit=2, output_dir=tmp_path)
    assert result.run.tasks["demo-dialogue"].n_samples == 2
    assert "demo-dialogue" in result.table() and "echo" in repr(result)
    with pytest.raises(VoxevalError, match=r"Unknown model 'opena'\. Did you mean 'openai'"):
        voxeval.evaluate("echo", "demo-dialogue", judge="opena", output_dir=tmp_path)


def test_progress_shows_bars_and_says_when_a_run_is_reused(tmp_path, capfd):
    voxeval.evaluate("mock", "demo-asr", limit=2, output_dir=tmp_path, progress=True)
    assert "demo-asr: 100%" in capfd.readouterr().err
    voxeval.evaluate("mock", "demo-asr", limit=2, output_dir=tmp_path, progress=True)
    assert "already finished" in capfd.readouterr().err


class NoSupports(Adapter):
    name: ClassVar[str] = "no-supports"


class NoVersion(Tones):
    version: ClassVar[str] = ""


@pytest.mark.parametrize(
    ("models", "tasks", "kw", "message"),
    [
        (42, "demo-asr", {}, "models is int 42; give a model name"),
        ([], "demo-asr", {}, "models is empty"),
        (["mock", 4.5], "demo-asr", {}, r"models\[1\] is float 4.5"),
        ("mok", "demo-asr", {}, "Unknown model 'mok'. Did you mean 'mock'"),
        (("mock", {"nope": 1}), "demo-asr", {}, "Bad model args for 'mock': nope"),
        ({"name": "mock", "arg": {}}, "demo-asr", {}, "models.arg: Extra inputs"),
        (Shouter, "demo-asr", {}, r"the class Shouter; pass an instance"),
        (NoSupports.from_args({}), "demo-asr", {}, "NoSupports sets no supports"),
        ("mock", 42, {}, "tasks is int 42; give a task name"),
        ("mock", "demo-as", {}, "Unknown task 'demo-as'. Did you mean 'demo-asr'"),
        ("mock", Tones, {}, r"the class Tones; pass an instance: MyTask\(\)"),
        ("mock", NoVersion(), {}, "NoVersion sets no version"),
        ("mock", ["demo-asr", TASKS.get("demo-asr")()], {}, "'demo-asr' is given twice"),
        ("mock", Tones(), {"task_args": {"normalizer": "oasr"}}, "task_args apply to tasks"),
        ("mock", "demo-asr", {"task_args": {"nope": 1}}, "no selected task takes it"),
        ("mock", "demo-asr", {"limit": 0}, "limit must be a whole number"),
        ("mock", "demo-asr", {"limit": True}, "limit must be a whole number"),
        ("mock", "demo-asr", {"executor": "gpu"}, "executor must be 'local' or 'ray'"),
        ("mock", "demo-asr", {"judge": 3}, "judge is int 3"),
        ("mock", "demo-asr", {"judge": {"name": "mock", "samples": 0}}, "judge.samples: Input"),
        ("echo", "demo-asr", {}, "cannot run task 'demo-asr'"),
    ],
)
def test_bad_input_is_a_clear_error_before_any_model_call(
    models, tasks, kw, message, tmp_path, mock_model
):
    with pytest.raises(VoxevalError, match=message):
        voxeval.evaluate(models, tasks, output_dir=tmp_path, **kw)
    assert mock_model.history == []


def test_the_runner_refuses_an_adapter_under_another_name(tmp_path):
    config = RunConfig(model="mock", tasks=["demo-asr"], output_dir=tmp_path)
    with pytest.raises(VoxevalError, match=r"adapter is 'shouter' but config\.model is 'mock'"):
        run_evaluation(config, adapter=Shouter.from_args({}))


def test_evaluate_is_exported_lazily_without_heavy_imports():
    assert "evaluate" in voxeval.__all__ and "Evaluation" in voxeval.__all__
    code = (
        "import sys, voxeval\n"
        "voxeval.evaluate, voxeval.Evaluation\n"
        "heavy = {'torch', 'transformers', 'streamlit', 'faster_whisper', 'jiwer', 'scipy'}\n"
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def python_api_blocks() -> list[str]:
    """The Python code blocks of the README's "Python API" section, in order."""
    text = (REPO / "README.md").read_text()
    section = text.split("\n## Python API\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


@pytest.mark.slow
def test_the_readme_python_api_examples_run(tmp_path, monkeypatch, capsys):
    blocks = python_api_blocks()
    assert (
        len(blocks) == 2 and 'voxeval.evaluate("faster-whisper", "demo-asr", limit=4)' in blocks[0]
    )
    monkeypatch.chdir(tmp_path)
    scope: dict = {"__name__": "readme"}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), scope)
    whisper, runs, oasr = scope["whisper"], scope["runs"], scope["oasr"]
    assert whisper.metrics["demo-asr"]["wer"] < 0.5 and "faster-whisper" in capsys.readouterr().out
    assert runs[1].run_dir == whisper.run_dir  # reused, not run again
    assert [r.model for r in runs] == ["parrot", "faster-whisper"]
    assert oasr.run.tasks["demo-asr"].metrics["wer"].params["normalizer"] == "oasr"
    parrot = {p.name for p in run_folders(tmp_path / "runs" / "parrot")}
    assert parrot == {runs[0].run_dir.name, oasr.run_dir.name}
