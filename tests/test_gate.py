"""`voxeval compare` and `voxeval check`: improved, unchanged, regressed, noisy, incomparable."""

from __future__ import annotations

import json

import pytest

from tests.conftest import DEMO_DATA
from tests.helpers import copy_demo
from voxeval.cli import main
from voxeval.runner import RunConfig, run_evaluation
from voxeval.types import Response

TEXTS = {
    e["id"]: e["text"]
    for e in map(json.loads, (DEMO_DATA / "manifest.jsonl").read_text().splitlines())
}


def corrupt(text: str) -> str:
    """Drop every other word: a large, consistent degradation."""
    return " ".join(text.split()[::2])


def make_run(tmp_path, mock_model, name, answer, limit=None, data_dir=None, rerun=False):
    """A demo-asr run whose predictions come from `answer(sample_id)`."""
    mock_model.default = staticmethod(lambda item: Response(text=answer(item.sample_id)))
    config = RunConfig(
        model="mock",
        tasks=["demo-asr"],
        limit=limit,
        data_dir=data_dir,
        output_dir=tmp_path / name,
        model_args={"tag": name},
        rerun=rerun,
    )
    return run_evaluation(config)[1]


def perfect(sid):
    return TEXTS[sid]


def half_broken(sid):
    return corrupt(TEXTS[sid]) if int(sid[-3:]) % 2 else TEXTS[sid]


def check(baseline, run, *extra):
    return main(["check", "--baseline", str(baseline), "--run", str(run), *extra])


def test_improved_run_passes_and_compare_says_better(tmp_path, mock_model, capsys):
    base = make_run(tmp_path, mock_model, "base", half_broken)
    new = make_run(tmp_path, mock_model, "new", perfect)
    assert check(base, new) == 0
    assert main(["compare", str(base), str(new), "--json"]) == 0
    out = capsys.readouterr().out
    result = json.loads(out[out.index("[\n") :])
    wer = next(m for m in result[0]["metrics"] if m["metric"] == "wer")
    assert wer["delta"] < 0 and wer["ci_high"] < 0 and wer["p_value"] < 0.01 and wer["n"] == 30


def test_unchanged_run_passes(tmp_path, mock_model, capsys):
    base = make_run(tmp_path, mock_model, "base", half_broken)
    new = make_run(tmp_path, mock_model, "new", half_broken)
    assert check(base, new) == 0
    assert "no significant regression" in capsys.readouterr().out


def test_regressed_run_fails_with_a_table(tmp_path, mock_model, capsys):
    base = make_run(tmp_path, mock_model, "base", perfect)
    new = make_run(tmp_path, mock_model, "new", half_broken)
    assert check(base, new) == 1
    captured = capsys.readouterr()
    assert "REGRESSION in demo-asr/wer" in captured.err and "worse" in captured.out
    # A tolerance larger than the drop lets it pass; the table still shows it.
    assert check(base, new, "--tolerance", "wer=0.9", "--tolerance", "cer=0.9") == 0
    assert "worse, within tolerance" in capsys.readouterr().out


def test_noisy_but_not_significant_difference_passes(tmp_path, mock_model):
    def one_worse(sid):
        return corrupt(TEXTS[sid]) if sid == "demo-007" else TEXTS[sid]

    base = make_run(tmp_path, mock_model, "base", perfect)
    new = make_run(tmp_path, mock_model, "new", one_worse)
    assert check(base, new) == 0


@pytest.mark.parametrize("problem", ["data", "version", "missing_task", "too_few"])
def test_incomparable_runs_exit_2(tmp_path, mock_model, monkeypatch, problem, capsys):
    base = make_run(tmp_path, mock_model, "base", perfect)
    if problem == "data":
        data = copy_demo(tmp_path / "data")
        manifest = data / "manifest.jsonl"
        manifest.write_text(manifest.read_text().replace("demo-030", "demo-031"))
        new = make_run(tmp_path, mock_model, "new", lambda s: TEXTS.get(s, ""), data_dir=data)
    elif problem == "version":
        from voxeval.tasks.demo_asr import DemoAsr

        monkeypatch.setattr(DemoAsr, "version", "2")
        new = make_run(tmp_path, mock_model, "new", perfect)
    elif problem == "missing_task":
        new = make_run(tmp_path, mock_model, "new", perfect)
        run_file = next((tmp_path / "new").rglob("run.json"))
        run = json.loads(run_file.read_text())
        run["tasks"] = {}
        run_file.write_text(json.dumps(run))
    else:
        base = make_run(tmp_path, mock_model, "base5", perfect, limit=5)
        new = make_run(tmp_path, mock_model, "new", perfect, limit=5)
    assert check(base, new) == 2
    assert "unusable input" in capsys.readouterr().err


def test_a_model_folder_means_its_latest_finished_run_named_in_the_output(
    tmp_path, mock_model, capsys
):
    base = make_run(tmp_path, mock_model, "base", perfect)
    make_run(tmp_path, mock_model, "same", perfect)
    latest = make_run(tmp_path, mock_model, "same", perfect, rerun=True)
    unfinished = json.loads((latest / "run.json").read_text())
    unfinished["run_id"] = "29990101T000000Z-unfinished"  # newer, but never finished
    unfinished["status"] = "started"
    (latest.parent / unfinished["run_id"]).mkdir()
    (latest.parent / unfinished["run_id"] / "run.json").write_text(json.dumps(unfinished))
    assert check(base, tmp_path / "same" / "mock") == 0
    err = capsys.readouterr().err
    assert f"holds 3 runs; using the latest finished one, {latest.name}" in err
    assert main(["show", str(tmp_path / "same" / "mock")]) == 0
    assert latest.name in capsys.readouterr().out


def test_a_model_folder_without_a_finished_run_is_unusable(tmp_path, mock_model, capsys):
    base = make_run(tmp_path, mock_model, "base", perfect)
    (tmp_path / "empty" / "mock").mkdir(parents=True)
    assert check(base, tmp_path / "empty" / "mock") == 2
    assert "neither a run folder nor a model folder" in capsys.readouterr().err


def test_p_values_read_as_people_write_them():
    from voxeval.gate import format_p

    assert [format_p(p) for p in (None, 0.000999, 0.001, 0.0349, 0.5)] == [
        "-", "< 0.001", "0.001", "0.035", "0.500",
    ]  # fmt: skip
