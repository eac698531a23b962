"""Suites (`voxeval run --config`): the file schema, its errors, the CLI as the same schema,
per-task args, and the two `k=v` parsing bugs."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import REPO
from tests.helpers import run_folders
from voxeval.adapter import ADAPTERS
from voxeval.cli import main, parse_kv
from voxeval.errors import VoxevalError
from voxeval.hookspecs import hookimpl
from voxeval.plan import RunConfig, fingerprint, plan_tasks, prediction_task_args
from voxeval.plugins import get_plugin_manager
from voxeval.secrets import redact
from voxeval.suite import load_suite, run_configs
from voxeval.testing import MockAdapter
from voxeval.types import Response

SMALLEST = """\
models:
  - name: mock
  - name: mock-b
    args: {tag: "b, with a comma"}
tasks:
  - name: demo-asr
limit: 3
output_dir: runs
"""


class OtherMock(MockAdapter):
    """A second scripted model, so a suite has two model names."""

    name = "mock-b"


class _OtherPlugin:
    @hookimpl
    def register_adapters(self, register):
        register(OtherMock)


@pytest.fixture(autouse=True)
def mock_b() -> Iterator[None]:
    pm = get_plugin_manager()
    plugin = _OtherPlugin()
    pm.register(plugin, name="tests.mock-b")
    try:
        yield
    finally:
        pm.unregister(plugin)


def write(folder: Path, text: str, name: str = "suite.yaml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def print_of(config: RunConfig) -> str:
    adapter = ADAPTERS.get(config.model).from_args(config.model_args)
    return fingerprint(config, adapter, plan_tasks(config))


class Captured(Exception):
    """Raised once `voxeval run` has made its RunConfigs, before anything runs."""


def configs_of(argv: list[str], monkeypatch) -> list[RunConfig]:
    """The RunConfigs `voxeval run ARGV` would run, one per model."""
    seen: list[RunConfig] = []

    def stand_in(suite):
        seen.extend(run_configs(suite))
        raise Captured

    monkeypatch.setattr("voxeval.suite.run_configs", stand_in)
    with pytest.raises(Captured):
        main(["run", *argv])
    return seen


# --- running ---------------------------------------------------------------------------


def test_smallest_suite_runs_each_model_into_its_own_folder(tmp_path, capsys, mock_model):
    mock_model.default = staticmethod(lambda item: Response(text="the weather is nice"))
    suite = write(tmp_path, SMALLEST)
    assert main(["run", "--config", str(suite)]) == 0
    out = capsys.readouterr()
    assert out.out.count("demo-asr v1 (demo)") == 2  # each run's summary, as `run` prints it
    assert "suite: mock ok, mock-b ok" in out.err
    assert len(run_folders(tmp_path / "runs" / "mock")) == 1  # relative to the file's folder
    (other_dir,) = run_folders(tmp_path / "runs" / "mock-b")
    other = json.loads((other_dir / "run.json").read_text())
    assert other["model"]["args"]["tag"] == "b, with a comma"
    assert other["tasks"]["demo-asr"]["n_samples"] == 3
    # The same suite again: both runs are finished, nothing is sent to a model.
    mock_model.history.clear()
    assert main(["run", "--config", str(suite)]) == 0
    assert mock_model.history == [] and len(run_folders(tmp_path / "runs" / "mock")) == 1


def test_a_failing_model_does_not_stop_the_suite_and_the_exit_code_is_the_worst(
    tmp_path, capsys, mock_model
):
    text = SMALLEST.replace("output_dir: runs", "output_dir: runs\nmax_error_rate: 0.5")
    suite = write(tmp_path, text)
    mock_model.enqueue(RuntimeError("boom"), RuntimeError("boom"), "a", "b", "c", "d")
    assert main(["run", "--config", str(suite)]) == 3  # mock: 2 of 3 failed > 0.5
    assert "suite: mock too many errors, mock-b ok" in capsys.readouterr().err
    broken = tmp_path / "data"
    broken.mkdir()
    code = main(["run", "--config", str(suite), "--data-dir", str(broken), "--rerun"])
    assert code == 1
    err = capsys.readouterr().err
    assert err.count("voxeval: error:") == 2 and "suite: mock error, mock-b error" in err


def test_run_flags_override_the_file(tmp_path, monkeypatch):
    suite = write(tmp_path, SMALLEST)
    other = tmp_path / "elsewhere"
    argv = ["--config", str(suite), "--limit", "2", "--output-dir", str(other), "--rerun"]
    configs = configs_of(argv, monkeypatch)
    assert [(c.limit, c.output_dir, c.rerun) for c in configs] == [(2, other, True)] * 2


@pytest.mark.parametrize(
    "extra",
    [["--model", "mock"], ["--tasks", "demo-asr"], ["--model-args", "x=1"], ["--task-args", "a=b"]],
)
def test_config_with_quick_path_flags_is_a_usage_error(extra, tmp_path, capsys):
    suite = write(tmp_path, SMALLEST)
    assert main(["run", "--config", str(suite), *extra]) == 2
    err = capsys.readouterr().err
    assert f"--config cannot be combined with {extra[0]}" in err


def test_run_needs_a_model_and_tasks_or_a_config(capsys):
    assert main(["run", "--model", "mock"]) == 2
    assert "or a suite (--config F)" in capsys.readouterr().err


# --- the CLI is the same schema ---------------------------------------------------------


def test_flags_and_the_equivalent_file_make_the_same_run(tmp_path, monkeypatch):
    flags = [
        "--model",
        "mock",
        "--model-args",
        'tag="Be kind, brief",batch_size=2',
        "--tasks",
        "demo-asr,demo-dialogue",
        "--task-args",
        "normalizer=oasr",
        "--limit",
        "2",
        "--output-dir",
        str(tmp_path / "out"),
        "--judge",
        "mock",
        "--judge-args",
        "tag=judge",
    ]
    suite = {
        "models": [{"name": "mock", "args": {"tag": "Be kind, brief", "batch_size": 2}}],
        "tasks": ["demo-asr", {"name": "demo-dialogue"}],
        "task_args": {"normalizer": "oasr"},
        "judge": {"name": "mock", "args": {"tag": "judge"}},
        "limit": 2,
        "output_dir": "out",
    }
    (from_flags,) = configs_of(flags, monkeypatch)
    path = write(tmp_path, json.dumps(suite), "suite.json")
    (from_file,) = configs_of(["--config", str(path)], monkeypatch)
    assert from_flags == from_file
    assert print_of(from_flags) == print_of(from_file)


def test_fingerprints_without_per_task_args_are_unchanged():
    config = RunConfig(
        model="mock",
        tasks=["demo-asr"],
        model_args={"tag": "x"},
        limit=3,
        task_args={"normalizer": "oasr"},
    )
    adapter = ADAPTERS.get("mock").from_args(config.model_args)
    planned = plan_tasks(config)
    before = {  # fingerprint()'s payload before per-task args existed
        "model": config.model,
        "args": redact(adapter.prediction_args()),
        "limit": config.limit,
        "task_args": prediction_task_args(config.task_args, planned),
        "tasks": [
            {"name": p.task.name, "version": p.task.version, "data": p.dataset.model_dump()}
            for p in planned
        ],
    }
    blob = json.dumps(before, sort_keys=True, default=str).encode()
    assert fingerprint(config, adapter, planned) == hashlib.sha256(blob).hexdigest()


# --- per-task args ----------------------------------------------------------------------


def test_per_task_args_reach_only_their_task_and_change_the_fingerprint(tmp_path):
    text = """\
models: [mock]
tasks:
  - name: demo-asr
    args: {normalizer: none}
  - demo-dialogue
limit: 2
"""
    (config,) = run_configs(load_suite(write(tmp_path, text)))
    assert config.task_args == {} and config.task_args_by_task == {
        "demo-asr": {"normalizer": "none"}
    }
    asr, dialogue = (p.task for p in plan_tasks(config))
    assert asr.options.normalizer == "none"
    assert dialogue.options.model_dump() == {}
    plain = RunConfig(model="mock", tasks=["demo-asr", "demo-dialogue"], limit=2)
    assert print_of(config) != print_of(plain)
    other = RunConfig(**{**vars(config), "task_args_by_task": {"demo-asr": {"normalizer": "oasr"}}})
    assert print_of(other) != print_of(config)


def test_per_task_args_merge_over_the_shared_ones():
    config = RunConfig(
        model="mock",
        tasks=["demo-asr"],
        task_args={"normalizer": "oasr", "compounds": "merge"},
        task_args_by_task={"demo-asr": {"normalizer": "none"}},
    )
    (planned,) = plan_tasks(config)
    assert (planned.task.options.normalizer, planned.task.options.compounds) == ("none", "merge")


@pytest.mark.parametrize(
    ("by_task", "message"),
    [
        ({"demo-dialogue": {"normalizer": "none"}}, "Task args for 'demo-dialogue': it does not"),
        ({"sd-eval-emo": {"hub": "true"}}, "'sd-eval-emo': it is not among this run's tasks"),
    ],
)
def test_plan_refuses_per_task_args_a_task_does_not_take(by_task, message):
    config = RunConfig(model="mock", tasks=["demo-asr", "demo-dialogue"], task_args_by_task=by_task)
    with pytest.raises(VoxevalError, match=message):
        plan_tasks(config)


# --- validation -------------------------------------------------------------------------

BAD_FILES = [
    ("colour: red\n", "colour: unknown key; allowed here: models, tasks"),
    ("models: [{name: mock, tagg: x}]\ntasks: [demo-asr]\n", "models[0].tagg: unknown key"),
    ("models: [mock]\ntasks: [demo-asr]\nlimit: '8'\n", "limit: Input should be a valid integer"),
    ("models: [mock]\ntasks: [demo-asr]\nlimit: 0\n", "limit: Input should be greater than"),
    ("models: []\ntasks: [demo-asr]\n", "models: the list is empty"),
    ("models: [mock]\ntasks: []\n", "tasks: the list is empty"),
    ("models: mock\ntasks: [demo-asr]\n", "models: expected a list"),
    ("tasks: [demo-asr]\n", "models: required key is missing"),
    ("models: [mokc]\ntasks: [demo-asr]\n", "models[0].name: Unknown model 'mokc'. Did you mean"),
    ("models: [mock]\ntasks: [demo-asrr]\n", "tasks[0].name: Unknown task 'demo-asrr'. Did you"),
    (
        "models: [mock, {name: mock, args: {tagg: 1}}]\ntasks: [demo-asr]\n",
        "models[1].args.tagg: unknown key; did you mean 'tag'?",
    ),
    (
        "models: [{name: mock, args: {batch_size: 0}}]\ntasks: [demo-asr]\n",
        "models[0].args.batch_size: Input should be greater than or equal to 1",
    ),
    (
        "models: [{name: mock, args: {tag: 2020-01-01}}]\ntasks: [demo-asr]\n",
        "models[0].args.tag: not a plain YAML/JSON value",
    ),
    (
        "models: [mock]\ntasks: [{name: demo-asr, args: {normaliser: oasr}}]\n",
        "tasks[0].args.normaliser: unknown key; did you mean 'normalizer'?",
    ),
    (
        "models: [mock]\ntasks: [{name: demo-asr, args: {normalizer: zz}}]\n",
        "tasks[0].args.normalizer: unknown normaliser 'zz'",
    ),
    (
        "models: [mock]\ntasks: [demo-dialogue]\ntask_args: {normalizer: oasr}\n",
        "task_args.normalizer: unknown key",
    ),
    (
        "models: [mock]\ntasks: [demo-asr, demo-asr]\n",
        "tasks[1]: 'demo-asr' is already in tasks[0]",
    ),
    ("models: [mock, mock]\ntasks: [demo-asr]\n", "models[1]: repeats models[0]"),
    ("models: [echo]\ntasks: [demo-asr]\n", "models[0]: 'echo' cannot run tasks[0] (demo-asr"),
    ("models: [mock]\ntasks: [demo-asr]\nexecutor: dask\n", "executor: Input should be 'local'"),
    ("models: [mock]\ntasks: [demo-asr]\nshards: 0\n", "shards: Input should be greater than"),
    ("models: [mock]\ntasks: [demo-asr]\nray_address: auto\n", "ray_address: it is for executor"),
    (
        "models: [{name: mock, resources: {num_gpus: 1}}]\ntasks: [demo-asr]\n",
        "models[0].resources: it is for executor: ray, and this suite runs locally",
    ),
    (
        "models: [{name: mock, resources: {gpus: 1}}]\ntasks: [demo-asr]\n",
        "models[0].resources.gpus: unknown key; did you mean 'num_gpus'?",
    ),
    (
        "models: [mock]\ntasks: [demo-dialogue]\njudge: {name: openai, args: {timeout_s: 0}}\n",
        "judge.args.model: Field required",
    ),
    (
        "models: [mock]\ntasks: [demo-dialogue]\njudge: {name: pocketsphinx}\n",
        "judge.name: 'pocketsphinx' cannot judge",
    ),
    (
        "models: [mock]\ntasks: [demo-dialogue]\njudge: {name: mock, args: {protocol: ''}}\n",
        "judge.args.protocol: String should have at least 1 character",
    ),
    ("models: [mock]\nmodels: [echo]\ntasks: [demo-asr]\n", "key 'models' appears twice"),
    ("- models\n", "expected a mapping with models: and tasks:, got list"),
    ("", "expected a mapping with models: and tasks:, got nothing"),
    ("models: [mock\n", "is not valid YAML: line 2, column 1"),
    (
        "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
        + "".join(
            f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n"
            for p, c in zip("abcd", "bcde", strict=True)
        ),
        "expands to more than 100000 values",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD_FILES)
def test_bad_suite_files_name_the_file_the_path_and_what_to_do(text, message, tmp_path, capsys):
    path = write(tmp_path, text)
    assert main(["run", "--config", str(path), "--output-dir", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert f"Suite file {path}" in err and message in err
    assert not (tmp_path / "o").exists()  # nothing ran


def test_every_problem_is_listed_at_once(tmp_path):
    text = "models: [mokc, {name: mock, args: {tagg: 1}}]\ntasks: [demo-asrr]\nray_address: x\n"
    with pytest.raises(VoxevalError) as info:
        load_suite(write(tmp_path, text))
    message = str(info.value)
    assert "has 4 problems" in message
    for where in ("models[0].name", "models[1].args.tagg", "tasks[0].name", "ray_address"):
        assert f"\n  {where}: " in message


def test_json_suites_and_json_errors(tmp_path):
    good = {"models": ["mock"], "tasks": ["demo-asr"]}
    assert load_suite(write(tmp_path, json.dumps(good), "s.json")).models[0].name == "mock"
    for text, message in [
        ('{"models": ["mock"], "models": ["echo"]}', "key 'models' appears twice"),
        ('{"models": [', "is not valid JSON"),
        ('{"models": ' + "[" * 100_000, "nested too deeply"),
        ('{"limit": 1' + "0" * 5000 + "}", "is not valid JSON"),
    ]:
        with pytest.raises(VoxevalError, match=message):
            load_suite(write(tmp_path, text, "s.json"))


def test_paths_that_are_not_suite_files(tmp_path):
    real = write(tmp_path, SMALLEST)
    (tmp_path / "link.yaml").symlink_to(real)
    (tmp_path / "folder.yaml").mkdir()
    write(tmp_path, SMALLEST, "suite.txt")
    (tmp_path / "latin1.yaml").write_bytes(b"models: [caf\xe9]\n")
    cases = {
        "link.yaml": "is a symbolic link",
        "folder.yaml": "is a folder",
        "missing.yaml": "does not exist",
        "suite.txt": "name it .yaml, .yml or .json",
        "latin1.yaml": "is not UTF-8 text",
    }
    for name, message in cases.items():
        with pytest.raises(VoxevalError, match=message):
            load_suite(tmp_path / name)


def test_relative_paths_in_a_file_are_relative_to_its_folder(tmp_path, monkeypatch):
    folder = tmp_path / "suites"
    folder.mkdir()
    text = SMALLEST + "data_dir: data\n"
    monkeypatch.chdir(tmp_path)
    suite = load_suite(Path("suites") / write(folder, text).name)
    assert (suite.output_dir, suite.data_dir) == (str(folder / "runs"), str(folder / "data"))
    plain = load_suite(write(folder, "models: [mock]\ntasks: [demo-asr]\n", "p.yaml"))
    assert plain.output_dir == "runs"  # not written in the file: the CLI's default


# --- the two k=v bugs -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("system_prompt=Be kind, brief", {"system_prompt": "Be kind, brief"}),
        (
            "system_prompt=Be kind, brief,temperature=0",
            {"system_prompt": "Be kind, brief", "temperature": "0"},
        ),
        ('k="a, b=c",x=1', {"k": "a, b=c", "x": "1"}),
        ("p=say a=b, then stop", {"p": "say a=b, then stop"}),
        ("a=1,,b=2,", {"a": "1", "b": "2"}),
        ('a=""', {"a": ""}),
        ("", {}),
    ],
)
def test_values_may_hold_commas(text, parsed):
    assert parse_kv(text, "--model-args") == parsed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("oops", "Bad --task-args piece 'oops'"),
        ('a="x', 'Bad --task-args: a double quote (") is not closed'),
        ("a=1,a=2", "Bad --task-args: 'a' is given twice"),
        ('a="x",y', "Bad --task-args piece 'y'"),
    ],
)
def test_kv_errors_name_their_flag(text, message):
    with pytest.raises(VoxevalError) as info:
        parse_kv(text, "--task-args")
    assert message in str(info.value)


def test_a_comma_in_model_args_reaches_the_model(tmp_path, capsys):
    argv = ["run", "--model", "mock", "--tasks", "demo-asr", "--limit", "1"]
    assert main([*argv, "--model-args", "tag=Be kind, brief", "--output-dir", str(tmp_path)]) == 0
    (run_dir,) = run_folders(tmp_path / "mock")
    args = json.loads((run_dir / "run.json").read_text())["model"]["args"]
    assert args["tag"] == "Be kind, brief"


def test_judge_args_errors_name_judge_args_before_any_model_runs(tmp_path, capsys, mock_model):
    argv = ["run", "--model", "mock", "--tasks", "demo-dialogue", "--limit", "1"]
    judge = ["--judge", "openai", "--judge-args", "timeout_s=0"]
    assert main([*argv, *judge, "--output-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "Bad --judge-args for 'openai': model: Field required" in err
    assert "--model-args" not in err and mock_model.history == []


# --- fuzz -------------------------------------------------------------------------------

FIXTURES_OK = [HealthCheck.function_scoped_fixture]  # autouse fixtures; each example is fresh
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(["mock", "echo", "demo-asr", "demo-dialogue", "local", "ray", "runs"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
KEYS = st.sampled_from(
    [
        "models",
        "tasks",
        "task_args",
        "judge",
        "limit",
        "data_dir",
        "output_dir",
        "max_error_rate",
        "executor",
        "shards",
        "ray_address",
        "name",
        "args",
        "resources",
        "samples",
        "tag",
    ]
) | st.text(max_size=8)
ENTRY = st.one_of(
    st.sampled_from(["mock", "echo", "demo-asr", "nope"]),
    st.dictionaries(
        st.sampled_from(["name", "args", "resources", "samples", "x"]),
        VALUES | st.sampled_from(["mock", "demo-asr"]),
        max_size=4,
    ),
)
SUITES = st.dictionaries(
    KEYS, VALUES | st.lists(ENTRY, max_size=3), max_size=8
) | st.fixed_dictionaries(
    {"models": st.lists(ENTRY, max_size=3), "tasks": st.lists(ENTRY, max_size=3)}
)


@settings(max_examples=150, deadline=None, suppress_health_check=FIXTURES_OK)
@given(data=SUITES, as_yaml=st.booleans())
def test_fuzzed_suites_load_or_fail_with_a_clear_error(data, as_yaml):
    with tempfile.TemporaryDirectory() as folder:
        name = "s.yaml" if as_yaml else "s.json"
        text = yaml.safe_dump(data) if as_yaml else json.dumps(data)
        try:
            suite = load_suite(write(Path(folder), text, name))
        except VoxevalError as exc:
            assert str(exc).startswith("Suite file ")
        else:
            assert run_configs(suite)


@settings(max_examples=150, deadline=None, suppress_health_check=FIXTURES_OK)
@given(text=st.text(max_size=80))
def test_fuzzed_text_files_fail_with_a_clear_error(text):
    with tempfile.TemporaryDirectory() as folder:
        for name in ("s.yaml", "s.json"):
            with contextlib.suppress(VoxevalError):
                load_suite(write(Path(folder), text, name))


@settings(max_examples=200, deadline=None, suppress_health_check=FIXTURES_OK)
@given(
    pairs=st.dictionaries(
        st.from_regex(r"[a-z][a-z0-9_.]{0,8}", fullmatch=True),
        st.text(st.characters(blacklist_characters='"', blacklist_categories=("Cs",)), max_size=12),
        max_size=5,
    ),
    garbage=st.text(max_size=30),
)
def test_quoted_kv_round_trips_and_any_text_parses_or_is_refused(pairs, garbage):
    text = ",".join(f'{k}="{v}"' for k, v in pairs.items())
    assert parse_kv(text, "--model-args") == pairs
    try:
        parse_kv(garbage, "--model-args")
    except VoxevalError as exc:
        assert "--model-args" in str(exc)


def test_judge_flags_replace_the_files_judge(tmp_path, monkeypatch, capsys):
    text = "models: [mock]\ntasks: [demo-dialogue]\njudge: {name: mock, args: {tag: file}}\n"
    suite = write(tmp_path, text)
    (config,) = configs_of(["--config", str(suite)], monkeypatch)
    assert (config.judge.adapter, config.judge.args["tag"]) == ("mock", "file")
    argv = ["--config", str(suite), "--judge", "mock", "--judge-args", "tag=flag"]
    (config,) = configs_of(argv, monkeypatch)
    assert config.judge.args["tag"] == "flag"
    assert main(["run", "--config", str(suite), "--judge-args", "tag=x"]) == 2
    assert "--judge-args and --judge-samples need --judge" in capsys.readouterr().err


def test_the_suites_in_the_docs_load(tmp_path):
    text = (REPO / "docs" / "suites.md").read_text()
    examples = re.findall(r"```yaml\n(.*?)```", text, re.S)
    assert len(examples) == 2
    for example in examples:
        assert run_configs(load_suite(write(tmp_path, example)))
