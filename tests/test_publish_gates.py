"""Publish's gates (issue 13): only full, clean runs of the official data with a model card
reach results/runs/; other data goes to results/unofficial/, demo data to results/demo/;
`voxeval publish --check` finds a hand-edited tree and writes nothing; the GitHub Actions
example runs that check."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from tests.leaderboard_fixtures import T0, run_record, task_result, write_asr_samples, write_run
from tests.test_publish import cli, edit_run, make_bench_run, make_card
from voxeval.publish import PublishError, publish_run
from voxeval.publish_gates import layer_of
from voxeval.runner import RunConfig, run_evaluation
from voxeval.task import TASKS, OfficialData
from voxeval.tasks.berst import HUB_ID, HUB_REVISION
from voxeval.types import Response

WORKFLOW = REPO / "examples" / "github-actions" / "validate-results.yml"
MODEL = {"name": "openai", "adapter": "OpenAIAdapter", "args": {"model": "gpt-x"}}


def edit_task(run_dir: Path, task: str = "berst-asr", **changes) -> None:
    """Update one task's result in run.json (`dataset` is merged, not replaced)."""
    path = run_dir / "run.json"
    run = json.loads(path.read_text())
    result = run["tasks"][task]
    result["dataset"].update(changes.pop("dataset", {}))
    result.update(changes)
    path.write_text(json.dumps(run))


def refusal(run_dir: Path, results: Path, card: Path | None = None, **kwargs) -> str:
    """publish_run's refusal message; checks nothing was written."""
    with pytest.raises(PublishError) as info:
        publish_run(run_dir, results, card, **kwargs)
    assert not results.exists() or not any(p.is_file() for p in results.rglob("*"))
    return str(info.value)


@pytest.fixture
def bench(tmp_path) -> Path:
    return make_bench_run(tmp_path / "out")


@pytest.fixture
def card(tmp_path) -> Path:
    return make_card(tmp_path / "card.json")


@pytest.fixture
def demo(tmp_path, mock_model) -> Path:
    mock_model.default = staticmethod(lambda item: Response(text="hello there"))
    _, run_dir = run_evaluation(
        RunConfig(model="mock", tasks=["demo-asr"], limit=3, output_dir=tmp_path / "runs")
    )
    return run_dir


# -- the layer a run goes to -------------------------------------------------------------------


def test_official_run_lands_in_runs_with_its_card(bench, card, tmp_path):
    outcome = publish_run(bench, tmp_path / "results", card)
    assert outcome.layer == "runs" and outcome.reasons == ()
    assert outcome.dest.parent.parent == tmp_path / "results" / "runs"
    assert (outcome.dest / "card.json").is_file()
    assert "unofficial" not in outcome.message


def test_a_wrong_revision_goes_to_unofficial_and_says_why(bench, card, tmp_path, capsys):
    edit_task(bench, dataset={"revision": "abc123"})
    results = tmp_path / "results"
    assert cli("publish", str(bench), "--results-dir", str(results), "--card", str(card)) == 0
    assert len(list((results / "unofficial").glob("*/*"))) == 1
    assert not (results / "runs").exists()
    out = capsys.readouterr().out
    assert f"berst-asr: revision abc123 is not the official {HUB_REVISION[:12]}…" in out


def test_local_fixture_data_is_unofficial_by_its_hash(bench, card, tmp_path):
    edit_task(bench, dataset={"revision": None, "content_hash": "cd" * 32})
    outcome = publish_run(bench, tmp_path / "results", card)
    assert outcome.layer == "unofficial"
    assert outcome.reasons == (
        f"berst-asr: it records no revision; the official revision is {HUB_REVISION[:12]}…",
    )


@pytest.mark.parametrize(
    ("dataset", "reason"),
    [
        ({"id": "fixture/BERSt"}, f"dataset fixture/BERSt is not the official {HUB_ID}"),
        ({"split": "validation"}, "split validation is not the official test"),
    ],
)
def test_other_dataset_or_split_is_unofficial(bench, card, tmp_path, dataset, reason):
    edit_task(bench, dataset=dataset)
    outcome = publish_run(bench, tmp_path / "results", card)
    assert outcome.layer == "unofficial" and outcome.reasons == (f"berst-asr: {reason}",)


def test_a_task_not_installed_here_is_unofficial(tmp_path, card):
    run_dir = write_run(
        tmp_path / "out", run_record(MODEL, {"asr-clean": task_result("asr-clean", 0.1)}, T0)
    )
    write_asr_samples(run_dir, "asr-clean", drop_every=4)
    outcome = publish_run(run_dir, tmp_path / "results", card)
    assert outcome.dest.parent.parent == tmp_path / "results" / "unofficial"
    assert outcome.reasons == (
        "asr-clean: the task is not installed here, so its official data is unknown",
    )


def test_undeclared_and_unpinned_official_data_never_match():
    spoken, adv = TASKS.get("empathetic-dialogues-spoken"), TASKS.get("adv-regression")
    run = _run(
        {
            "empathetic-dialogues-spoken": ("facebook/empathetic_dialogues", "test", "abc", None),
            "adv-regression": ("msp-podcast", "Test1", None, "ef" * 32),
        }
    )
    layer, reasons = layer_of(run, {spoken.name: spoken, adv.name: adv})
    assert layer == "unofficial"
    assert reasons == [
        "empathetic-dialogues-spoken: the task declares no official data",
        "adv-regression: no official revision or content hash of msp-podcast is pinned yet",
    ]


def test_a_pinned_content_hash_matches_without_a_revision():
    class Pinned:
        official_data = (OfficialData("local/set", "test", content_hash="ab" * 32),)

    run = _run({"t": ("local/set", "test", None, "ab" * 32)})
    assert layer_of(run, {"t": Pinned}) == ("runs", [])
    other = _run({"t": ("local/set", "test", None, "cd" * 32)})
    assert layer_of(other, {"t": Pinned})[1] == [
        f"t: content hash {'cd' * 6}… is not the official {'ab' * 6}…"
    ]


def _run(tasks: dict[str, tuple]) -> object:
    """A validated RunResult whose tasks ran on (id, split, revision, content_hash)."""
    from voxeval.results import RunResult

    results = {}
    for name, (data_id, split, revision, digest) in tasks.items():
        result = task_result("asr-clean", 0.1) | {"task": name}
        result["dataset"].update(id=data_id, split=split, revision=revision, content_hash=digest)
        results[name] = result
    return RunResult.model_validate(run_record(MODEL, results, T0))


def test_benchmark_tasks_declare_their_official_data_and_demo_tasks_none():
    tasks = {name: TASKS.get(name) for name in TASKS.items()}
    assert tasks["berst-asr"].official_data == (OfficialData(HUB_ID, "test", HUB_REVISION),)
    assert tasks["berst-ser"].official_data == tasks["berst-asr"].official_data
    for subset in ("emo", "acc", "age", "env"):
        (official,) = tasks[f"sd-eval-{subset}"].official_data
        assert (official.id, official.split) == ("amphion/SD-Eval", f"test-{subset}")
        assert official.pinned
    for name in ("emonet-voice", "emonet-voice-prompted", "adv-regression"):
        assert tasks[name].official_data and not any(o.pinned for o in tasks[name].official_data)
    assert tasks["empathetic-dialogues"].official_data
    assert tasks["demo-asr"].official_data == tasks["demo-dialogue"].official_data == ()


# -- gates that refuse ------------------------------------------------------------------------


def test_a_limited_run_is_refused_for_every_public_layer(tmp_path, card):
    official = make_bench_run(tmp_path / "a", limit=5)
    message = refusal(official, tmp_path / "results", card)
    assert "to runs/" in message and "limit: the run used --limit 5" in message
    assert "Run the task again without --limit" in message
    other = make_bench_run(tmp_path / "b", limit=5)
    edit_task(other, dataset={"revision": "abc123"})
    assert "to unofficial/" in refusal(other, tmp_path / "results", card)


def test_a_partial_split_is_refused(bench, card, tmp_path):
    edit_task(bench, dataset={"n": 5, "n_available": 120})
    message = refusal(bench, tmp_path / "results", card)
    assert "full-split: berst-asr: 5 of the 120 samples of split test were evaluated" in message


def test_too_many_failed_samples_are_refused_unless_allowed(bench, card, tmp_path):
    edit_task(bench, n_errors=2, n_scored=118)
    message = refusal(bench, tmp_path / "results", card)
    assert "error-rate: berst-asr: 2 of 120 samples failed (1.7%, above the 1.0% allowed)" in (
        message
    )
    assert "--max-error-rate" in message
    assert publish_run(bench, tmp_path / "results", card, max_error_rate=0.02).layer == "runs"


def test_one_percent_of_failed_samples_is_allowed(bench, card, tmp_path):
    edit_task(bench, n_errors=1, n_samples=100, dataset={"n": 100, "n_available": 100})
    assert publish_run(bench, tmp_path / "results", card).layer == "runs"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (None, "card: no model card"),
        ({"licence": None}, "card: the model card has no licence"),
        ({"open_weights": None}, "card: the model card does not say whether the weights are open"),
    ],
)
def test_the_public_layers_need_a_card_with_licence_and_weights(bench, tmp_path, fields, expected):
    card = None
    if fields is not None:
        card = make_card(tmp_path / "card.json", **fields)
        raw = {k: v for k, v in json.loads(card.read_text()).items() if v is not None}
        card.write_text(json.dumps(raw))
    assert expected in refusal(bench, tmp_path / "results", card)


def test_every_problem_is_named_at_once(tmp_path):
    run_dir = make_bench_run(tmp_path / "out", limit=5)
    edit_task(run_dir, n_errors=60)
    message = refusal(run_dir, tmp_path / "results")
    for gate in ("limit:", "error-rate:", "card:"):
        assert gate in message


def test_the_incident_a_smoke_run_on_fixture_data_never_reaches_runs(tmp_path, card):
    """Five samples of a random model on fixture data: refused; whole, it is unofficial."""
    run_dir = make_bench_run(tmp_path / "out", limit=5)
    edit_task(run_dir, dataset={"revision": None, "content_hash": "cd" * 32, "n": 5})
    assert "limit:" in refusal(run_dir, tmp_path / "results", card)
    edit_run(run_dir, limit=None)
    edit_task(run_dir, dataset={"n": 120})
    outcome = publish_run(run_dir, tmp_path / "results", card)
    assert outcome.layer == "unofficial" and not (tmp_path / "results" / "runs").exists()


def test_demo_runs_still_publish_without_a_card_despite_limit(demo, tmp_path):
    outcome = publish_run(demo, tmp_path / "results")
    assert outcome.layer == "demo"
    assert outcome.dest.parent.parent == tmp_path / "results" / "demo"


def test_a_run_that_became_official_moves_only_with_replace(bench, card, tmp_path, monkeypatch):
    berst = TASKS.get("berst-asr")
    monkeypatch.setattr(berst, "official_data", ())
    first = publish_run(bench, tmp_path / "results", card)
    assert first.layer == "unofficial"
    monkeypatch.undo()
    with pytest.raises(PublishError, match=r"already published at .*unofficial.*--replace"):
        publish_run(bench, tmp_path / "results")
    moved = publish_run(bench, tmp_path / "results", replace=True)  # the card moves with it
    assert moved.layer == "runs" and (moved.dest / "card.json").is_file()
    assert not first.dest.exists()


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
