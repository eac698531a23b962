"""Publish's gates (issue 13): only full, clean runs of the official data with a model card
reach results/runs/; other data goes to results/unofficial/, demo data to results/demo/;
`voxeval publish --check` finds a hand-edited tree and writes nothing; the GitHub Actions
example runs that check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

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
