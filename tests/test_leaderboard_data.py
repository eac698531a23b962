"""The leaderboard data layer on fixture results: coverage, units, ranking, latest run, index."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.leaderboard_fixtures import (
    HOSTILE,
    T0,
    build_results,
    run_record,
    task_result,
    write_run,
)
from voxeval.leaderboard import boards, data, identity, index, samples
from voxeval.leaderboard.units import UNITS, apply_units, metric_header, to_display

WHISPER, CHAT, ACME = "Whisper small (CT2)", "AudioChat Large", "Acme Audio-LM 7B"
CASCADE = "cascade (asr=faster-whisper, llm=openai)"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return build_results(tmp_path / "results")


@pytest.fixture
def tidy(root: Path) -> pd.DataFrame:
    return data.select_latest(data.load_results(root))


def all_tasks(tidy: pd.DataFrame) -> boards.Board:
    return boards.rank_board(tidy, sorted(tidy["task"].unique()))


def cell(board: boards.Board, model: str, task: str) -> float:
    header = next(h for h, t in board.columns.items() if t == task)
    return board.table.set_index(boards.MODEL_COL).loc[model, header]


def test_every_model_is_kept_with_coverage_and_missing_as_nan(tidy):
    board = all_tasks(tidy)
    table = board.table.set_index(boards.MODEL_COL)
    assert set(table.index) == {WHISPER, CHAT, ACME, CASCADE, "pocketsphinx", HOSTILE}
    assert table.loc[WHISPER, boards.COVERAGE_COL] == "2/5 tasks"
    assert table.loc[HOSTILE, boards.COVERAGE_COL] == "1/5 tasks"
    assert math.isnan(cell(board, WHISPER, "emotion-cls"))
    text = boards.board_text(board).set_index(boards.MODEL_COL)
    # 3 missing tasks, and no rank or score without full coverage
    assert text.loc[WHISPER].str.fullmatch("—").sum() == 5


def test_units_percent_for_rates_and_raw_for_correlations(tidy):
    rows = tidy.set_index(["model", "task", "metric"])
    assert rows.loc[(CHAT, "asr-clean", "wer"), "value"] == pytest.approx(6.2)
    assert rows.loc[(CHAT, "asr-clean", "wer"), "value_raw"] == pytest.approx(0.062)
    assert rows.loc[(CHAT, "asr-clean", "wer"), "unit"] == "%"
    assert rows.loc[(CHAT, "emotion-cls", "uar"), "value"] == pytest.approx(58.0)
    assert rows.loc[(CHAT, "emotion-ccc", "ccc"), "value"] == pytest.approx(0.41)
    assert rows.loc[(ACME, "dialogue", "judge"), "value"] == pytest.approx(6.8)
    ci = rows.loc[(CHAT, "asr-clean", "wer")]
    assert ci["ci_low"] < ci["value"] < ci["ci_high"] and ci["ci_high"] < 10


def test_units_table_is_applied_in_one_place():
    frame = pd.DataFrame(
        {
            "metric": ["wer", "spearman", "mystery"],
            "value": [0.25, -0.5, 3.0],
            "ci_low": [0.2, None, None],
            "ci_high": [0.3, None, None],
        }
    )
    out = apply_units(frame)
    assert out["value"].tolist() == [25.0, -0.5, 3.0]
    assert out["unit"].tolist() == ["%", "−1..1", ""]
    assert {"accuracy", "cer", "ccc", "mae"} <= set(UNITS)
    assert to_display("cer", 0.5) == 50.0 and to_display("ccc", 0.5) == 0.5


def test_headers_carry_direction_and_unit(tidy):
    headers = list(all_tasks(tidy).columns)
    assert "asr-clean ↓ WER (%)" in headers
    assert "emotion-cls ↑ UAR (%)" in headers
    assert "emotion-ccc ↑ CCC (−1..1)" in headers
    assert metric_header("mae", False) == "↓ MAE (task scale)"


def test_star_marks_only_a_significantly_best_value(tidy):
    board = all_tasks(tidy)
    best = board.best.set_index(board.table[boards.MODEL_COL])
    clean = next(h for h in board.columns if h.startswith("asr-clean"))
    far = next(h for h in board.columns if h.startswith("asr-far"))
    # asr-far: 19.0 [15.9, 22.1] lies clear of every other WER: starred, lowest wins
    assert best[far][best[far]].index.tolist() == [CHAT]
    # asr-clean: the lowest WER (4.8 [3.6, 6.0]) overlaps 6.2 [4.9, 7.5]: no star at all
    assert not best[clean].any()
    text = boards.board_text(board).set_index(boards.MODEL_COL)
    assert text.loc[CHAT, far] == "19.0 ★" and text.loc[WHISPER, clean] == "4.8"


def test_win_rate_ties_count_half_and_lone_results_do_not_count():
    values = pd.DataFrame(
        {"a": [1.0, 1.0, 3.0], "b": [float("nan"), 5.0, float("nan")]}, index=["x", "y", "z"]
    )
    rates = boards.win_rates(values, {"a": False, "b": True})
    assert rates["a"].tolist() == [0.75, 0.75, 0.0]
    assert rates["b"].isna().all()


def test_latest_successful_run_is_used(tidy, root):
    rows = data.load_results(root)
    assert set(rows.loc[rows["model_key"] == "pocketsphinx", "status"]) == {"success", "error"}
    shown = tidy[(tidy["model"] == "pocketsphinx") & (tidy["metric"] == "wer")]
    assert shown.set_index("task").loc["asr-clean", "value"] == pytest.approx(21.0)


def test_demo_results_are_kept_apart(root):
    model = {"name": "mock", "adapter": "MockAdapter", "args": {}}
    demo_task = {"demo-asr": {**task_result("asr-clean", 0.3, demo=True), "task": "demo-asr"}}
    write_run(root, run_record(model, demo_task, T0), layer="demo")
    rows = data.load_results(root)
    assert "mock" not in set(data.select_latest(rows)["model"])
    demo = data.select_latest(rows, "demo")
    assert set(demo["model"]) == {"mock"} and set(demo["task"]) == {"demo-asr"}


def test_filters_restrict_models_and_tasks(tidy):
    hosted = data.apply_filters(tidy, data.Filters(hosting="hosted"))
    assert set(hosted["model"]) == {CHAT, CASCADE}
    open_weights = data.apply_filters(tidy, data.Filters(open_weights=True))
    assert set(open_weights["model"]) == {WHISPER, ACME}
    small = data.apply_filters(tidy, data.Filters(max_parameters=1e9, include_unknown_size=False))
    assert set(small["model"]) == {WHISPER}
    asr = data.apply_filters(tidy, data.Filters(families=["ASR-Suite"]))
    assert set(asr["task"]) == {"asr-clean", "asr-far"}


def test_index_is_reused_and_refreshed_when_files_change(root):
    _, first = index.load_index(root)
    assert first["parsed"] == first["runs"] == 8
    assert index.index_path(root).is_file()
    _, again = index.load_index(root)
    assert again["parsed"] == 0
    run_file = next(root.glob("runs/pocketsphinx/*-fixture/run.json"))
    run = json.loads(run_file.read_text())
    run["tasks"]["asr-clean"]["metrics"]["wer"]["value"] = 0.123
    run_file.write_text(json.dumps(run))
    os.utime(run_file, ns=(1, 2_000_000_000_000_000_000))
    (run_file.parent / "card.json").write_text(json.dumps({"display_name": "Sphinx 5"}))
    rows, changed = index.load_index(root)
    assert changed["parsed"] == 1 and changed["removed"] == 0
    tidy = data.select_latest(rows)
    shown = tidy[(tidy["model"] == "Sphinx 5") & (tidy["task"] == "asr-clean")]
    assert shown.set_index("metric").loc["wer", "value"] == pytest.approx(12.3)
    for path in run_file.parent.iterdir():
        path.unlink()
    run_file.parent.rmdir()
    _, removed = index.load_index(root)
    assert removed["removed"] == 1 and removed["runs"] == 7


def test_corrupt_index_is_rebuilt(root):
    index.load_index(root)
    index.index_path(root).write_bytes(b"not parquet")
    rows, stats = index.load_index(root)
    assert stats["parsed"] == 8 and not rows.empty


def test_index_lives_in_the_user_cache_never_in_the_results(root, tmp_path, monkeypatch):
    monkeypatch.setenv("VOXEVAL_CACHE_DIR", str(tmp_path / "cache"))
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    index.load_index(root)
    assert list((tmp_path / "cache").rglob(index.INDEX_FILE))
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before


def test_unreadable_run_is_reported_and_the_rest_loads(root):
    bad = root / "runs" / "broken" / "r1"
    bad.mkdir(parents=True)
    (bad / "run.json").write_text("{not json")
    odd = root / "runs" / "broken" / "r2"
    odd.mkdir()
    (odd / "run.json").write_text('{"status": "success", "tasks": {"x": 5}}')
    rows = data.load_results(root)
    problems = data.problems(rows)
    assert sorted(problems["path"]) == ["runs/broken/r1", "runs/broken/r2"]
    assert len(all_tasks(data.select_latest(rows)).table) == 6


def test_mixed_task_versions_are_flagged(root):
    model = {"name": "other", "adapter": "X", "args": {}}
    changed = task_result("asr-far", 0.3)
    changed["task_version"] = "2"
    write_run(root, run_record(model, {"asr-far": changed}, T0))
    warnings = data.identity_warnings(data.select_latest(data.load_results(root)))
    assert len(warnings) == 1 and warnings[0].startswith("asr-far")


def test_board_text_shows_ci_and_n_on_demand(tidy):
    board = all_tasks(tidy)
    header = next(h for h in board.columns if h.startswith("asr-clean"))
    text = boards.board_text(board, show_ci=True).set_index(boards.MODEL_COL)
    assert text.loc[CHAT, header].startswith("6.2 [") and text.loc[CHAT, header].endswith("n=120")


def test_downloads_keep_missing_values_empty_or_null(tidy):
    board = all_tasks(tidy)
    records = json.loads(data.to_json(board.table))
    header = next(h for h in board.columns if h.startswith("emotion-cls"))
    assert any(r[header] is None for r in records)
    assert ",," in data.to_csv(board.table).decode()


def test_model_identity_from_run_json():
    assert identity.model_key({"name": "openai", "args": {"model": "gpt-4o"}}) == "openai (gpt-4o)"
    assert (
        identity.model_key({"name": "faster-whisper", "args": {"model": None}}) == "faster-whisper"
    )
    assert (
        identity.model_key({"name": "fw", "args": {"model": "/m/whisper-ct2/"}})
        == "fw (whisper-ct2)"
    )
    assert (
        identity.model_key({"name": "cascade", "args": {"asr": "a", "llm": "b"}})
        == "cascade (asr=a, llm=b)"
    )
    assert identity.is_hosted({"name": "cascade", "args": {"llm": "openai"}})
    assert not identity.is_hosted({"name": "faster-whisper", "args": {}})
    assert identity.parse_parameters("7B") == 7e9 and identity.parse_parameters("x") is None


def test_task_and_model_tables(tidy):
    ranking = data.task_table(tidy, "asr-clean", "wer")
    assert ranking["model"].tolist()[0] == WHISPER and ranking["size"].tolist()[0] == "244M"
    facts = data.model_facts(tidy, ACME)
    assert facts["licence"] == "apache-2.0" and facts["open weights"] == "yes"
    assert facts["parameters"] == "7B" and facts["hosting"] == "local"
    per_model = data.model_table(tidy, ACME)
    assert set(per_model["task"]) == {"asr-clean", "emotion-cls", "emotion-ccc", "dialogue"}


def test_breakdowns_are_read_for_shown_runs(root, tidy):
    from voxeval.leaderboard import breakdowns

    rows = breakdowns.load(root, breakdowns.shown_runs(tidy, "asr-far"), "asr-far")
    assert set(rows["group"]) == {"near", "mid", "far"} and set(rows["field"]) == {"distance"}
    assert rows["unit"].eq("%").all() and rows["value"].max() > 1


def test_per_sample_scores_and_judge_rationale(root, tidy):
    table = samples.task_samples(root, tidy, "asr-clean", [WHISPER, "pocketsphinx"])
    assert {"wer (%)", "cer (%)"} <= set(table.columns) and len(table) == 24
    assert table["wer (%)"].between(0, 100).all()
    judged = samples.task_samples(root, tidy, "dialogue", [ACME, HOSTILE])
    acme = judged[judged["model"] == ACME]
    assert acme["judge rationale"].str.contains("Rating").all()
    assert judged[judged["model"] == HOSTILE]["judge score"].isna().all()


def test_demo_asr_audio_is_found_in_the_bundle():
    assert samples.resolve_audio("demo-asr", "bundled", "demo-001").suffix == ".flac"
    assert samples.resolve_audio("demo-asr", "bundled", "nope") is None
    assert samples.resolve_audio("sd-eval-emo", "hub", "x") is None


def test_data_layer_does_not_import_streamlit():
    code = (
        "import sys; from voxeval.leaderboard import data, samples, pairs, breakdowns; "
        "assert 'streamlit' not in sys.modules and 'altair' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_same_display_name_for_two_models_stays_unique(root):
    twin = {"name": "openai", "adapter": "OpenAIAdapter", "args": {"model": "other"}}
    write_run(
        root,
        run_record(twin, {"asr-far": task_result("asr-far", 0.3)}, T0, run_id="twin"),
        card={"display_name": CHAT},
    )
    names = set(data.select_latest(data.load_results(root))["model"])
    assert {f"{CHAT} [openai (audiochat-large)]", f"{CHAT} [openai (other)]"} <= names


def test_card_of_an_older_run_still_describes_the_model(root):
    from datetime import timedelta

    model = {"name": "openai", "adapter": "OpenAIAdapter", "args": {"model": "audiochat-large"}}
    newer = run_record(
        model,
        {"asr-far": task_result("asr-far", 0.1)},
        T0 + timedelta(days=90),
        run_id="newer",
    )
    write_run(root, newer)  # no card.json in the newer run
    tidy = data.select_latest(data.load_results(root))
    rows = tidy[tidy["model_key"] == "openai (audiochat-large)"]
    assert set(rows["model"]) == {CHAT} and rows["open_weights"].eq(False).all()


def test_csv_downloads_cannot_run_formulas_in_a_spreadsheet():
    import csv
    import io

    names = ['=HYPERLINK("http://x","y")', "+cmd", "-2+3", "@SUM(A1)", "ok"]
    frame = pd.DataFrame({"model": names, "value": [-1.5, 2.0, 3.0, 4.0, 5.0]})
    rows = list(csv.reader(io.StringIO(data.to_csv(frame).decode())))
    assert [r[0] for r in rows[1:]] == ["'" + n for n in names[:4]] + ["ok"]
    assert [r[1] for r in rows[1:]] == ["-1.5", "2.0", "3.0", "4.0", "5.0"]  # numbers stay
