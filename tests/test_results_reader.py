"""The one results reader: every command and the leaderboard refuse hostile run folders, and
reading never writes (issue: a hand-edited run.json made readers empty files elsewhere)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from tests.helpers import run_folders
from voxeval.cli import main
from voxeval.results import InvalidRunError, open_run
from voxeval.runner import RunConfig, run_evaluation
from voxeval.types import Response

VICTIM_TEXT = '{"sample_id": "x", "prediction": {"text": "precious"}}\n{"torn'


def checksums(root: Path) -> dict[str, str]:
    """Every file under root (links too, by their target text) → its sha256."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            out[str(path)] = "link:" + os.readlink(path)
        elif path.is_file():
            out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.fixture
def two_runs(tmp_path, mock_model) -> tuple[Path, Path]:
    """Two finished demo-asr runs (12 clips) of different 'models' to compare."""
    dirs = []
    for tag, text in (("a", "hello there"), ("b", "hello")):
        mock_model.default = staticmethod(lambda item, text=text: Response(text=text))
        config = RunConfig(
            model="mock",
            tasks=["demo-asr"],
            limit=12,
            output_dir=tmp_path / tag,
            model_args={"tag": tag},
        )
        dirs.append(run_evaluation(config)[1])
    return dirs[0], dirs[1]


def tamper(run_dir: Path, **changes) -> None:
    """Edit run.json's demo-asr task (or the run, for keys starting with run_)."""
    path = run_dir / "run.json"
    run = json.loads(path.read_text())
    for key, value in changes.items():
        if key.startswith("run_"):
            run[key.removeprefix("run_")] = value
        else:
            run["tasks"]["demo-asr"][key] = value
    path.write_text(json.dumps(run))


@pytest.mark.parametrize("name", ["ABSOLUTE", "../victim.jsonl", "sub/../../victim.jsonl"])
def test_a_samples_file_outside_the_run_folder_is_refused_by_every_reader(
    two_runs, tmp_path, name, capsys
):
    from voxeval.leaderboard import pairs

    run_a, run_b = two_runs
    victim = tmp_path / "victim.jsonl"
    victim.write_text(VICTIM_TEXT)
    tamper(run_b, samples_file=str(victim) if name == "ABSOLUTE" else name)
    before = checksums(tmp_path)
    assert main(["show", str(run_b)]) == 1
    assert main(["score", str(run_b)]) == 1
    assert main(["compare", str(run_a), str(run_b)]) == 1
    assert main(["check", "--baseline", str(run_a), "--run", str(run_b)]) == 2
    err = capsys.readouterr().err
    assert "samples_file" in err and "Traceback" not in err
    shared = (("demo-asr", str(run_a.relative_to(tmp_path)), str(run_b.relative_to(tmp_path))),)
    table = pairs.compare_paths(tmp_path, shared)  # the leaderboard's compare page
    assert "samples_file" in table["problem"].iloc[0]
    assert checksums(tmp_path) == before
    assert victim.read_text() == VICTIM_TEXT


def test_a_torn_samples_file_is_unusable_for_check_and_left_unchanged(two_runs, capsys):
    run_a, run_b = two_runs
    samples = run_b / "samples-demo-asr.jsonl"
    with samples.open("ab") as fh:
        fh.write(b'{"sample_id": "demo-013", "predic')
    before = samples.read_bytes()
    assert main(["check", "--baseline", str(run_a), "--run", str(run_b)]) == 2
    err = capsys.readouterr().err
    assert "unusable input" in err and "line 13: cut off" in err
    assert samples.read_bytes() == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"run_schema_version": 999}, "schema_version 999 is not one this voxeval reads"),
        ({"run_run_id": "../../x"}, "run_id"),
        ({"n_samples": 10**400}, "n_samples"),
        ({"n_samples": -1}, "n_samples"),
        ({"metrics": {"wer": {"value": -0.5, "n": 12, "higher_is_better": False}}}, "range"),
        ({"metrics": {"ccc": {"value": 1.5, "n": 12, "higher_is_better": True}}}, "range"),
        (
            {
                "metrics": {
                    "wer": {
                        "value": 0.1,
                        "ci_low": 0.3,
                        "ci_high": 0.2,
                        "n": 1,
                        "higher_is_better": False,
                    }
                }
            },
            "ci_low",
        ),
        ({"timing": {"wall_s": -3}}, "wall_s"),
    ],
)
def test_out_of_bounds_values_are_refused_naming_the_field(two_runs, change, message):
    _, run_b = two_runs
    tamper(run_b, **change)
    with pytest.raises(InvalidRunError, match=message):
        open_run(run_b)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_numbers_are_refused(two_runs, literal):
    _, run_b = two_runs
    path = run_b / "run.json"
    text = path.read_text()
    value = json.dumps(json.loads(text)["tasks"]["demo-asr"]["metrics"]["wer"]["value"])
    path.write_text(text.replace(f'"value": {value}', f'"value": {literal}', 1))
    with pytest.raises(InvalidRunError, match=r"not valid JSON|finite"):
        open_run(run_b)


def test_symlinks_inside_a_run_folder_are_not_followed(two_runs, tmp_path, capsys):
    _, run_b = two_runs
    samples = run_b / "samples-demo-asr.jsonl"
    elsewhere = tmp_path / "elsewhere.jsonl"
    samples.rename(elsewhere)
    samples.symlink_to(elsewhere)
    assert main(["score", str(run_b)]) == 1
    assert "symbolic link" in capsys.readouterr().err
    (run_b / "run.json").rename(tmp_path / "real-run.json")
    (run_b / "run.json").symlink_to(tmp_path / "real-run.json")
    with pytest.raises(Exception, match="symbolic link"):
        open_run(run_b)


def test_a_fifo_is_refused_instead_of_hanging_the_reader(two_runs):
    _, run_b = two_runs
    samples = run_b / "samples-demo-asr.jsonl"
    samples.unlink()
    os.mkfifo(samples)
    with pytest.raises(Exception, match="not a regular file"):
        open_run(run_b).samples("demo-asr")


def test_one_bad_record_leaves_the_others_usable_in_the_sample_browser(two_runs):
    from voxeval.leaderboard.samples import model_samples

    _, run_b = two_runs
    samples = run_b / "samples-demo-asr.jsonl"
    lines = samples.read_text().splitlines()
    lines[4] = '{"sample_id": ["not", "a", "string"]}'
    samples.write_text("\n".join(lines) + "\n")
    shown = model_samples(run_b, "demo-asr", "asr", {"wer": "whisper_english"})
    assert len(shown) == 11
    assert samples.read_text().splitlines()[4] == lines[4]


def test_duplicate_ids_in_a_task_are_a_clear_error(tmp_path, mock_model):
    from tests.helpers import copy_demo
    from voxeval.errors import VoxevalError

    data = copy_demo(tmp_path / "data", n=3)
    manifest = data / "manifest.jsonl"
    rows = [json.loads(x) for x in manifest.read_text().splitlines()]
    rows[1]["id"], rows[2]["id"] = 1, "1"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = RunConfig(model="mock", tasks=["demo-asr"], data_dir=data, output_dir=tmp_path / "o")
    with pytest.raises(VoxevalError, match="'1' occur more than once"):
        run_evaluation(config)
    assert mock_model.history == [] and not run_folders(tmp_path / "o" / "mock")
