"""The `voxeval` command line, in-process (mock adapter) and as the installed script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import copy_demo, run_folders
from voxeval.cli import main
from voxeval.hookspecs import hookimpl
from voxeval.plugins import get_plugin_manager
from voxeval.types import Response

VOXEVAL = Path(sys.executable).with_name("voxeval")


def run_dir_of(out: Path, model: str = "mock") -> Path:
    (only,) = run_folders(out / model)
    return only


def test_list_json_shows_builtins(capsys):
    assert main(["list", "tasks", "--json"]) == 0
    tasks = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert tasks["demo-asr"]["metrics"] == "wer, cer"
    assert tasks["demo-asr"]["plugin"] == "voxeval.tasks.demo_asr"
    assert main(["list", "models", "--json"]) == 0
    models = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert {"faster-whisper", "pocketsphinx", "mock"} <= set(models)
    assert models["faster-whisper"]["supports"] == "asr"
    assert main(["list", "metrics"]) == 0
    assert "lower is better" in capsys.readouterr().out


def test_run_show_and_rescore(tmp_path, capsys, mock_model):
    mock_model.default = staticmethod(lambda item: Response(text="the weather is nice"))
    args = ["run", "--model", "mock", "--tasks", "demo-asr", "--limit", "5"]
    assert main([*args, "--output-dir", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "↓ wer" in printed and "demo-asr v1 (demo)" in printed
    run_dir = run_dir_of(tmp_path)
    before = json.loads((run_dir / "run.json").read_text())
    mock_model.history.clear()
    assert main(["score", str(run_dir)]) == 0
    assert mock_model.history == []  # re-scoring never calls the model
    capsys.readouterr()
    after = json.loads((run_dir / "run.json").read_text())
    assert after["tasks"]["demo-asr"]["metrics"] == before["tasks"]["demo-asr"]["metrics"]
    assert main(["show", str(run_dir), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["run_id"] == run_dir.name


def test_exit_code_reports_too_many_failed_samples(tmp_path, mock_model):
    mock_model.enqueue(RuntimeError("boom"), "fine", "fine", "fine")
    base = ["run", "--model", "mock", "--tasks", "demo-asr", "--limit", "4"]
    assert main([*base, "--output-dir", str(tmp_path / "a")]) == 3
    mock_model.enqueue(RuntimeError("boom"), "fine", "fine", "fine")
    assert main([*base, "--output-dir", str(tmp_path / "b"), "--max-error-rate", "0.3"]) == 0


def test_score_external_predictions(tmp_path, capsys):
    data = copy_demo(tmp_path / "data", n=3)
    manifest = [json.loads(x) for x in (data / "manifest.jsonl").read_text().splitlines()]
    preds = tmp_path / "preds.jsonl"
    rows = [{"id": manifest[0]["id"], "prediction": manifest[0]["text"]}]
    rows.append({"id": manifest[1]["id"], "text": "completely different words"})
    preds.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    args = ["score", "--task", "demo-asr", "--predictions", str(preds), "--data-dir", str(data)]
    assert main([*args, "--output-dir", str(tmp_path / "o")]) == 0
    run = json.loads((run_dir_of(tmp_path / "o", "external") / "run.json").read_text())
    task = run["tasks"]["demo-asr"]
    assert task["n_samples"] == 3 and task["n_errors"] == 1  # the third has no prediction
    assert task["errors_by_kind"] == {"missing": 1}
    assert 0 < task["metrics"]["wer"]["value"] < 1


def test_score_rejects_unknown_prediction_ids(tmp_path, capsys):
    preds = tmp_path / "p.jsonl"
    preds.write_text('{"id": "nope", "prediction": "x"}\n')
    code = main(["score", "--task", "demo-asr", "--predictions", str(preds)])
    assert code == 1 and "not in task 'demo-asr'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--model", "mok", "--tasks", "demo-asr"], "Did you mean 'mock'"),
        (["run", "--model", "mock", "--tasks", "demo-asr", "--model-args", "tag"], "key=value"),
        (["run", "--model", "mock", "--tasks", " , ", "--limit", "2"], "--tasks is empty"),
        (["show", "/nonexistent/run"], "is neither a run folder nor a model folder"),
    ],
)
def test_bad_input_exits_1_with_a_message(argv, message, capsys, tmp_path):
    assert main([*argv, "--output-dir", str(tmp_path)] if argv[0] == "run" else argv) == 1
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--limit", "0"], "--limit: must be a whole number from 1"),
        (["run", "--limit", "1e23"], "--limit: must be a whole number from 1 to 1000000000"),
        (["run", "--limit", "10000000000000000000000"], "got '10000000000000000000000'"),
        (["run", "--max-error-rate", "1.5"], "--max-error-rate: must be a number from 0 to 1"),
        (["run", "--max-error-rate", "nan"], "--max-error-rate: must be a number from 0 to 1"),
        (["run", "--judge-samples", "0"], "--judge-samples: must be a whole number from 1"),
        (["check", "--baseline", "a", "--run", "b", "--min-shared", "-3"], "--min-shared"),
        (["leaderboard", "--port", "70000"], "--port: must be a whole number from 1 to 65535"),
    ],
)
def test_bad_numbers_are_usage_errors_that_name_the_option(argv, message, capsys):
    if argv[0] == "run":
        argv = [*argv, "--model", "mock", "--tasks", "demo-asr"]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "named"),
    [
        ({"timeout_s": "0"}, "timeout_s"),
        ({"timeout_s": "nan"}, "timeout_s"),
        ({"concurrency": "0"}, "concurrency"),
        ({"max_retries": "-1"}, "max_retries"),
        ({"batch_size": "0"}, "batch_size"),
        ({"temperature": "inf"}, "temperature"),
        ({"base_url": "file:///etc/passwd"}, "base_url"),
    ],
)
def test_bad_adapter_numbers_are_refused_naming_the_argument(args, named, capsys, tmp_path):
    kv = ",".join(f"{k}={v}" for k, v in {"model": "m", **args}.items())
    argv = ["run", "--model", "openai", "--model-args", kv, "--tasks", "demo-asr"]
    assert main([*argv, "--output-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"Bad --model-args for 'openai': {named}" in err
    assert not list(tmp_path.rglob("run.json"))


# Numbers that are meaningful anywhere on the real line (NaN and infinities are still refused).
UNBOUNDED_ON_PURPOSE = {
    ("faster-whisper", "length_penalty"),
    ("faster-whisper", "compression_ratio_threshold"),
    ("faster-whisper", "log_prob_threshold"),
    ("faster-whisper", "no_speech_threshold"),
}


def test_every_numeric_adapter_argument_is_bounded():
    import annotated_types

    from voxeval.adapter import ADAPTERS

    bound_types = (annotated_types.Ge, annotated_types.Gt, annotated_types.Le, annotated_types.Lt)
    loose = []
    for name, cls in ADAPTERS.items().items():
        assert cls.Args.model_config.get("allow_inf_nan") is False, name
        for field, info in cls.Args.model_fields.items():
            numeric = {int, float} & set(getattr(info.annotation, "__args__", ())) or (
                info.annotation in (int, float)
            )
            bounded = any(isinstance(m, bound_types) for m in info.metadata)
            if numeric and not bounded and (name, field) not in UNBOUNDED_ON_PURPOSE:
                loose.append(f"{name}.{field}")
    assert loose == []


def test_task_args_errors_name_the_task_args_flag(capsys, tmp_path):
    argv = ["run", "--model", "mock", "--tasks", "demo-asr", "--task-args", "oops"]
    assert main([*argv, "--output-dir", str(tmp_path)]) == 1
    assert "Bad --task-args piece 'oops'" in capsys.readouterr().err


def test_plugins_can_add_commands(capsys):
    class Hello:
        @hookimpl
        def register_commands(self, subparsers):
            cmd = subparsers.add_parser("hello", help="say hello")
            cmd.set_defaults(handler=lambda args: print("hello from a plugin") or 0)

    pm = get_plugin_manager()
    plugin = Hello()
    pm.register(plugin, name="hello")
    try:
        assert main(["hello"]) == 0
    finally:
        pm.unregister(plugin)
    assert "hello from a plugin" in capsys.readouterr().out


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys; from voxeval.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = {'torch', 'transformers', 'streamlit', 'faster_whisper', 'jiwer', 'scipy'}\n"
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_builtins_register_through_the_public_hooks():
    pm = get_plugin_manager()
    for module in ("voxeval.tasks.demo_asr", "voxeval.adapters.faster_whisper"):
        plugin = pm.get_plugin(module)
        assert plugin is not None
        assert pm.get_hookcallers(plugin)


def test_a_closed_pipe_ends_quietly(monkeypatch, capsys):
    import io
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader (`| head`) has gone
    closed = io.TextIOWrapper(io.FileIO(write_end, "w"), write_through=True)
    monkeypatch.setattr("sys.stdout", closed)
    try:
        assert main(["list", "tasks"]) == 0
    finally:
        monkeypatch.undo()
        closed.close()
    assert "Traceback" not in capsys.readouterr().err
