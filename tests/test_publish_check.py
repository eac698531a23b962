# ruff: noqa: F811  (pytest fixtures imported from test_publish_gates are parameters here)
"""`voxeval publish --check` and the GitHub Actions example that runs it on pull requests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from tests.test_publish import cli, edit_run, make_bench_run
from tests.test_publish_gates import bench, card, demo, edit_task  # noqa: F401 (fixtures)
from voxeval.publish import publish_run

WORKFLOW = REPO / "examples" / "github-actions" / "validate-results.yml"


# -- voxeval publish --check ------------------------------------------------------------------


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path under `root` with its bytes (files) and mtime: --check must change none."""
    return {
        str(p): (p.read_bytes() if p.is_file() else None, p.lstat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
    }


@pytest.fixture
def tree(tmp_path, bench, card, demo) -> Path:
    """A results folder with one run in each layer, all published by voxeval publish."""
    results = tmp_path / "results"
    publish_run(bench, results, card)
    other = make_bench_run(tmp_path / "other", run_id="20260106T000000Z-other")
    edit_task(other, dataset={"revision": "abc123"})
    publish_run(other, results, card)
    publish_run(demo, results)
    (results / "README.md").write_text("published runs\n")
    return results


def check(results: Path, *paths: str) -> int:
    return cli("publish", "--check", "--results-dir", str(results), *paths)


def only(results: Path, layer: str) -> Path:
    (run_dir,) = (results / layer).glob("*/*")
    return run_dir


def test_check_passes_a_published_tree_and_writes_nothing(tree, tmp_path, capsys):
    before = snapshot(tmp_path)
    assert check(tree) == 0
    assert "3 run folder(s)" in capsys.readouterr().out
    assert snapshot(tmp_path) == before


def test_check_finds_a_limit_added_by_hand(tree, tmp_path, capsys):
    run_dir = only(tree, "runs")
    edit_run(run_dir, limit=5)
    before = snapshot(tmp_path)
    assert check(tree) == 1
    out = capsys.readouterr().out
    assert f"{run_dir}: limit: the run used --limit 5" in out
    assert "1 problem(s) in 1 folder(s); 3 run folder(s) checked" in out
    assert snapshot(tmp_path) == before


def test_check_finds_an_unofficial_run_moved_into_runs(tree, capsys):
    src = only(tree, "unofficial")
    dest = tree / "runs" / src.parent.name / src.name
    shutil.move(src, dest)
    assert check(tree) == 1
    out = capsys.readouterr().out
    assert f"{dest}: official-data: berst-asr: revision abc123 is not the official" in out
    assert "it belongs in unofficial/" in out


def test_check_holds_unofficial_runs_to_every_gate_but_identity(tree, capsys):
    run_dir = only(tree, "unofficial")
    (run_dir / "card.json").unlink()
    edit_task(run_dir, n_errors=50)
    assert check(tree) == 1
    out = capsys.readouterr().out
    assert f"{run_dir}: card: no model card" in out and f"{run_dir}: error-rate:" in out
    assert "official-data" not in out


def test_check_finds_demo_data_in_runs_and_runs_outside_the_layers(tree, capsys):
    demo_dir = only(tree, "demo")
    moved = tree / "runs" / "mock" / demo_dir.name
    shutil.copytree(demo_dir, moved)
    shutil.rmtree(demo_dir)
    plain = tree / "mine" / "some-run"
    shutil.copytree(moved, plain)
    assert check(tree) == 1
    out = capsys.readouterr().out
    assert f"{moved}: layer: demo data is published to demo/, not runs/." in out
    assert f"{moved}: official-data" not in out and f"{moved}: card" not in out
    assert f"{plain}: layer: is a run folder outside runs/, unofficial/ and demo/" in out


def test_check_finds_secrets_extra_files_and_duplicates(tree, capsys):
    run_dir = only(tree, "runs")
    samples = run_dir / "samples-berst-asr.jsonl"
    samples.write_text(samples.read_text().replace("borrowed", "hf_abcdefghijklmnopqrstuvwxyz12"))
    (run_dir / "notes.txt").write_text("todo\n")
    copy = tree / "unofficial" / "copy" / run_dir.name
    shutil.copytree(run_dir, copy)
    assert check(tree) == 1
    out = capsys.readouterr().out
    assert f"{run_dir}: secret: samples-berst-asr.jsonl line 3 contains" in out
    assert "hf_abcdefghijklmnopqrstuvwxyz12" not in out
    assert f"{run_dir}: files: unexpected notes.txt" in out
    assert f"{copy}: duplicate: run {run_dir.name} is also published at {run_dir}." in out


def test_check_of_given_folders_checks_only_those(tree, capsys):
    edit_run(only(tree, "runs"), limit=5)
    assert check(tree, str(only(tree, "demo")), str(only(tree, "unofficial"))) == 0
    assert "2 run folder(s)" in capsys.readouterr().out
    changed_file = only(tree, "runs") / "run.json"  # a PR's changed file names its run folder
    assert check(tree, str(changed_file)) == 1
    assert check(tree, str(tree.parent / "elsewhere")) == 1
    assert "is not inside the results folder" in capsys.readouterr().out


def test_check_takes_no_card_or_replace(tree, card):
    from voxeval.errors import VoxevalError

    with pytest.raises(VoxevalError, match="--check only reads"):
        cli("publish", "--check", "--results-dir", str(tree), "--card", str(card))


def test_the_index_gives_every_row_its_layer(tree):
    from voxeval.leaderboard.index import load_index

    plain = tree / "mine" / "some-run"
    shutil.copytree(only(tree, "runs"), plain)
    frame, _ = load_index(tree, use_cache=False)
    layers = frame.drop_duplicates("path").set_index("path")["layer"].to_dict()
    runs, unofficial, demo = (
        only(tree, layer).relative_to(tree).as_posix() for layer in ("runs", "unofficial", "demo")
    )
    assert layers == {
        runs: "official",
        unofficial: "unofficial",
        demo: "demo",
        "mine/some-run": "official",
    }


# -- the GitHub Actions example ---------------------------------------------------------------


def workflow_check_step() -> str:
    """The example's step that validates results/ (the others install voxeval)."""
    workflow = yaml.safe_load(WORKFLOW.read_text())
    trigger = workflow.get("on", workflow.get(True))  # PyYAML reads a bare `on` as True
    assert "results/**" in trigger["pull_request"]["paths"]
    steps = [s["run"] for job in workflow["jobs"].values() for s in job["steps"] if "run" in s]
    (checks,) = [s for s in steps if "voxeval publish --check" in s]
    assert all("pip install" in s for s in steps if s != checks)
    return checks


@pytest.mark.slow
def test_the_workflow_example_runs_the_check_on_the_repository_tree(tree):
    step = workflow_check_step()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}

    def run_step() -> subprocess.CompletedProcess:
        command = ["bash", "-eo", "pipefail", "-c", step]
        return subprocess.run(command, cwd=tree.parent, env=env, capture_output=True, text=True)

    good = run_step()
    assert good.returncode == 0, good.stdout + good.stderr
    edit_run(only(tree, "runs"), limit=5)
    bad = run_step()
    assert bad.returncode == 1 and "limit: the run used --limit 5" in bad.stdout


def test_check_refuses_symbolic_links(tree, tmp_path, capsys):
    run_dir = only(tree, "unofficial")
    outside = tmp_path / "outside-run"
    shutil.move(run_dir, outside)
    run_dir.symlink_to(outside, target_is_directory=True)
    assert check(tree) == 1
    assert f"{run_dir}: folder: is a symbolic link" in capsys.readouterr().out
