"""Property-based: generated hostile run folders, samples files and command lines.

Whatever the input: no reader crashes with a traceback (only voxeval's own errors, which
name the problem), readers change no file, nothing outside the test's folder changes, and
publish writes only inside the results folder. Sizes: see the settings of each test.
"""

from __future__ import annotations

import copy
import io
import json
import os
import shutil
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_results_reader import checksums
from voxeval.checkpoint import SamplesFile, finished_ids
from voxeval.cli import main
from voxeval.errors import VoxevalError
from voxeval.results import open_run
from voxeval.results.records import read_jsonl
from voxeval.runner import RunConfig, run_evaluation
from voxeval.testing import mock_adapter
from voxeval.types import Response

# VOXEVAL_FUZZ_SCALE=20 runs twenty times as many examples (a deeper local search).
SCALE = int(os.environ.get("VOXEVAL_FUZZ_SCALE", "1"))
FUZZ = settings(
    max_examples=100 * SCALE,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
SAMPLES = "samples-demo-asr.jsonl"

hostile_text = st.one_of(
    st.sampled_from(
        [
            "",
            "..",
            "../x",
            "../../etc/passwd",
            "/etc/passwd",
            "a/b.jsonl",
            ".hidden.jsonl",
            "run.json",
            "x\x00y",
            "C:\\evil",
            "~/x",
            "samples-demo-asr.jsonl",
            "NaN",
            "1e400",
            "http://u:p@h/v1",
        ]
    ),
    st.text(max_size=40),
)
hostile_number = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([10**400, -(10**400), 2**63, -1, 0]),
    st.floats(allow_nan=True, allow_infinity=True),
)
hostile_value = st.recursive(
    st.one_of(st.none(), st.booleans(), hostile_number, hostile_text),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(hostile_text, inner, max_size=4)
    ),
    max_leaves=12,
)


def paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key/index path in a JSON tree."""
    out = [prefix]
    if isinstance(obj, dict):
        for key, value in obj.items():
            out += paths(value, (*prefix, key))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            out += paths(value, (*prefix, i))
    return out


# The fields that name files, folders or versions, or are counted: drawn half of the time.
KEY_PATHS = [
    ("run_id",),
    ("schema_version",),
    ("model", "name"),
    ("model", "args"),
    ("tasks", "demo-asr", "samples_file"),
    ("tasks", "demo-asr", "task"),
    ("tasks", "demo-asr", "n_samples"),
    ("tasks", "demo-asr", "metrics", "wer", "value"),
    ("tasks", "demo-asr", "metrics", "wer", "n"),
    ("tasks", "demo-asr", "dataset", "demo"),
]


def mutate(obj: Any, data: st.DataObject) -> Any:
    """obj with one generated change: a value replaced, a key removed or a key added."""
    obj = copy.deepcopy(obj)
    every = paths(obj)[1:]
    path = data.draw(st.one_of(st.sampled_from(KEY_PATHS), st.sampled_from(every)))
    parent = obj
    for part in path[:-1]:
        parent = parent[part]
    action = data.draw(st.sampled_from(["replace", "delete", "add"]))
    if action == "replace" or isinstance(parent, list):
        parent[path[-1]] = data.draw(hostile_value)
    elif action == "delete":
        del parent[path[-1]]
    else:
        parent[data.draw(hostile_text)] = data.draw(hostile_value)
    return obj


@pytest.fixture(scope="module")
def valid_run(tmp_path_factory) -> Path:
    """One real finished run (8 demo clips) to derive hostile variants from."""
    out = tmp_path_factory.mktemp("valid")
    with mock_adapter() as mock:
        mock.default = staticmethod(lambda item: Response(text="hello there"))
        config = RunConfig(model="mock", tasks=["demo-asr"], limit=8, output_dir=out)
        return run_evaluation(config)[1]


def cli(*argv: str) -> int:
    """`voxeval ARGV` with output captured; a usage error (SystemExit 2) is returned as 2."""
    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        try:
            return main(list(argv))
        except SystemExit as exc:
            return int(exc.code or 0)


def folder_with(valid_run: Path, root: Path, run_json: bytes) -> Path:
    run_dir = root / "results" / "mock" / "r1"
    shutil.copytree(valid_run, run_dir)
    (run_dir / "run.json").write_bytes(run_json)
    (root / "outside.jsonl").write_text('{"precious": true}\n')
    return run_dir


@FUZZ
@given(data=st.data())
def test_readers_survive_hostile_run_json_and_change_nothing(valid_run, data):
    run = json.loads((valid_run / "run.json").read_text())
    raw = json.dumps(mutate(run, data)).encode()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        run_dir = folder_with(valid_run, root, raw)
        before = checksums(root)
        try:
            open_run(run_dir)
        except VoxevalError as exc:
            assert str(exc)  # a refusal names the problem
        assert cli("show", str(run_dir)) in (0, 1)
        assert cli("compare", str(valid_run), str(run_dir)) in (0, 1)
        assert cli("check", "--baseline", str(valid_run), "--run", str(run_dir)) in (0, 1, 2)
        from voxeval.leaderboard.index import parse_run

        parse_run(root / "results", "mock/r1")
        assert checksums(root) == before  # readers never write
        assert cli("score", str(run_dir)) in (0, 1)
        after = checksums(root)
        assert after[str(root / "outside.jsonl")] == before[str(root / "outside.jsonl")]
        assert set(after) - set(before) <= {str(run_dir / ".voxeval.lock")}


@FUZZ
@given(data=st.data())
def test_publish_of_a_hostile_run_stays_inside_the_results_folder(valid_run, data):
    from voxeval.publish import publish_run

    run = json.loads((valid_run / "run.json").read_text())
    raw = json.dumps(mutate(run, data)).encode()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        run_dir = folder_with(valid_run, root, raw)
        results = root / "published"
        results.mkdir()
        before = checksums(root)
        try:
            publish_run(run_dir, results, replace=data.draw(st.booleans()))
        except VoxevalError as exc:
            assert str(exc)
        after = checksums(root)
        changed = {p for p in set(before) | set(after) if before.get(p) != after.get(p)}
        assert all(Path(p).is_relative_to(results) for p in changed), changed


record_line = st.one_of(
    st.binary(max_size=60),
    hostile_value.map(lambda v: json.dumps(v).encode() + b"\n"),
    st.builds(
        lambda sid, text: (
            json.dumps({"sample_id": sid, "prediction": {"text": text}}) + "\n"
        ).encode(),
        st.one_of(st.text(min_size=1, max_size=8), st.integers()),
        st.one_of(st.text(max_size=8), st.none()),
    ),
)


@settings(max_examples=300 * SCALE, deadline=None)
@given(lines=st.lists(record_line, max_size=12))
def test_samples_files_any_bytes_repair_keeps_every_valid_record(lines):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / SAMPLES
        path.write_bytes(b"".join(lines))
        before = path.read_bytes()
        seen = read_jsonl(Path(tmp), SAMPLES)
        assert path.read_bytes() == before  # reading never repairs
        repaired = SamplesFile(path).repair()
        assert repaired.latest == seen.latest and finished_ids(repaired) == finished_ids(seen)
        again = read_jsonl(Path(tmp), SAMPLES)
        assert again.bad == [] and again.latest == seen.latest
        side = Path(tmp) / f"{SAMPLES}.corrupt"
        assert side.exists() == bool(seen.bad)


cli_value = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["0", "-1", "1e23", "nan", "inf", "1" * 30, "", ",", "=", "a=b=c", " , "]),
)


@settings(max_examples=100 * SCALE, deadline=None)
@given(
    option=st.sampled_from(
        [
            "--limit",
            "--max-error-rate",
            "--model-args",
            "--task-args",
            "--tasks",
            "--judge-samples",
        ]
    ),
    value=cli_value,
)
def test_generated_command_lines_fail_cleanly(option, value):
    with tempfile.TemporaryDirectory() as tmp:  # the `mock` adapter: conftest registers it
        argv = ["run", "--model", "mock", "--tasks", "demo-asr", "--limit", "1"]
        argv += ["--output-dir", tmp, option, value]
        assert cli(*argv) in (0, 1, 2, 3)
