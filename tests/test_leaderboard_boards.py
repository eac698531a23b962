"""Boards: fixed task suites, rank only at full coverage, rank bands and ★ by significance."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.leaderboard_fixtures import add_demo_runs, build_results
from voxeval.leaderboard import boards, data
from voxeval.leaderboard.bands import Cell, overlap_verdict
from voxeval.leaderboard.pairs import PairedVerdicts
from voxeval.leaderboard.units import apply_units

FIXTURE_BOARDS = {
    "asr-clean": "asr",
    "asr-far": "asr",
    "emotion-cls": "speech-emotion",
    "emotion-ccc": "emotion-dimensions",
    "dialogue": "spoken-dialogue",
}


def tidy_of(rows: list[tuple[str, str, float, float, float]], hib: bool = False) -> pd.DataFrame:
    """A tidy frame from (model, task, value, ci_low, ci_high) rows of one metric per task."""
    frame = pd.DataFrame(rows, columns=["model", "task", "value", "ci_low", "ci_high"])
    frame["metric"] = "score"
    frame["metric_order"] = 0
    frame["n"] = 100
    frame["higher_is_better"] = hib
    frame["decimals"] = 1
    return frame


def ranks(board: boards.Board) -> dict[str, str]:
    return dict(zip(board.table[boards.MODEL_COL], board.table[boards.RANK_COL], strict=True))


@pytest.fixture(scope="module")
def fixture_tidy(tmp_path_factory) -> pd.DataFrame:
    root = build_results(tmp_path_factory.mktemp("boards") / "results")
    return data.select_latest(data.load_results(root, use_cache=False))


def test_only_full_coverage_is_ranked_and_narrow_entries_are_listed_below(fixture_tidy):
    asr = next(b for b in boards.build_boards(fixture_tidy, FIXTURE_BOARDS) if b.name == "asr")
    table = asr.table.set_index(boards.MODEL_COL)
    # Acme has asr-clean only: listed, unranked, after every ranked model
    assert table.loc["Acme Audio-LM 7B", boards.RANK_COL] == "—"
    assert table.loc["Acme Audio-LM 7B", boards.COVERAGE_COL] == "1/2 tasks"
    assert pd.isna(table.loc["Acme Audio-LM 7B", boards.SCORE_COL])
    assert asr.n_ranked == 3 and list(asr.table[boards.RANK_COL])[-1] == "—"
    assert asr.table[boards.MODEL_COL].iloc[-1] == "Acme Audio-LM 7B"


def test_one_best_task_does_not_outrank_full_coverage():
    # the case: 100 % on 1 of 2 tasks used to beat models with both
    tidy = tidy_of(
        [
            ("narrow", "t1", 1.0, 0.5, 1.5),
            ("broad-a", "t1", 5.0, 4.0, 6.0),
            ("broad-a", "t2", 5.0, 4.0, 6.0),
            ("broad-b", "t1", 9.0, 8.0, 10.0),
            ("broad-b", "t2", 9.0, 8.0, 10.0),
        ]
    )
    board = boards.rank_board(tidy, ["t1", "t2"], "x")
    assert ranks(board) == {"broad-a": "1", "broad-b": "2", "narrow": "—"}


def test_models_not_significantly_apart_share_a_rank_band():
    tidy = tidy_of(
        [
            ("a", "t", 10.0, 9.0, 11.0),
            ("b", "t", 10.5, 9.5, 11.5),
            ("c", "t", 11.0, 10.0, 12.0),  # overlaps a: same band as a
            ("d", "t", 20.0, 19.0, 21.0),  # clear of a: a new band
            ("e", "t", 20.5, 19.5, 21.5),
        ]
    )
    board = boards.rank_board(tidy, ["t"], "x")
    assert ranks(board) == {"a": "1–3", "b": "1–3", "c": "1–3", "d": "4–5", "e": "4–5"}
    assert not board.best.to_numpy().any()  # a is lowest but not significantly so


def test_the_band_leader_must_be_better_on_some_task_and_worse_on_none():
    tidy = tidy_of(
        [
            ("a", "t1", 1.0, 0.5, 1.5),
            ("a", "t2", 9.0, 8.5, 9.5),
            ("b", "t1", 5.0, 4.5, 5.5),  # a is significantly better on t1 …
            ("b", "t2", 5.0, 4.5, 5.5),  # … and significantly worse on t2
            ("c", "t1", 8.0, 7.5, 8.5),
            ("c", "t2", 9.5, 9.0, 10.0),  # worse than a on t1, not on t2: below a
        ]
    )
    board = boards.rank_board(tidy, ["t1", "t2"], "x")
    assert ranks(board)["a"] == ranks(board)["b"] != ranks(board)["c"]


def test_a_star_needs_significance_over_every_other_model_and_a_rival():
    clear = tidy_of([("a", "t", 1.0, 0.5, 1.5), ("b", "t", 5.0, 4.5, 5.5)])
    board = boards.rank_board(clear, ["t"], "x")
    assert board.best.iloc[:, 0].tolist() == [True, False]
    alone = boards.rank_board(tidy_of([("a", "t", 0.0, 0.0, 0.0)]), ["t"], "x")
    assert not alone.best.to_numpy().any() and "★" not in boards.board_text(alone).to_string()
    no_ci = tidy_of([("a", "t", 1.0, None, None), ("b", "t", 5.0, None, None)])
    assert not boards.rank_board(no_ci, ["t"], "x").best.to_numpy().any()


def test_ci_overlap_verdict_follows_the_direction():
    low, high = Cell(1.0, 0.5, 1.5, False), Cell(5.0, 4.5, 5.5, False)
    assert overlap_verdict(low, high) == 1 and overlap_verdict(high, low) == -1
    assert overlap_verdict(Cell(1.0, 0.5, 1.5, True), Cell(5.0, 4.5, 5.5, True)) == -1
    assert overlap_verdict(Cell(1.0, 0.5, 4.6, False), high) == 0
    assert overlap_verdict(Cell(1.0, None, None, False), high) is None


def test_boards_come_from_the_tasks_declarations_and_plugins_add_new_ones(fixture_tidy):
    declared = {**FIXTURE_BOARDS, "dialogue": "my-plugin-board"}
    found = boards.build_boards(fixture_tidy, declared)
    names = [b.name for b in found]
    assert names == ["asr", "speech-emotion", "emotion-dimensions", "my-plugin-board", "all"]
    assert found[3].title == "my-plugin-board" and found[0].title == "Speech recognition"
    assert boards.declared_boards()["demo-asr"] == "asr"
    assert boards.declared_boards()["sd-eval-emo"] == "spoken-dialogue"
    assert boards.board_of_tasks(["not-installed"]) == {"not-installed": "other"}
    # the all-tasks view ranks only models with every task: none here
    assert found[-1].n_ranked == 0


def test_every_rate_is_in_percent_and_correlations_stay_on_minus_one_to_one():
    frame = pd.DataFrame(
        {
            "metric": ["emotion_accuracy", "no_emotion_rate", "unmappable_rate", "ccc_valence"],
            "metric_kind": ["accuracy", "refusal_rate", None, "ccc"],
            "value": [0.5, 0.25, 0.125, 0.5],
            "ci_low": [0.4, 0.2, 0.1, 0.4],
            "ci_high": [0.6, 0.3, 0.15, 0.6],
        }
    )
    out = apply_units(frame)
    assert out["value"].tolist() == [50.0, 25.0, 12.5, 0.5]
    assert out["unit"].tolist() == ["%", "%", "%", "−1..1"]


def test_no_rtfx_without_audio_time(tmp_path):
    from tests.leaderboard_fixtures import T0, run_record, task_result, write_run

    root = tmp_path / "results"
    result = task_result("dialogue", 5.0)
    result["timing"] = {"wall_s": 3.0, "model_s": 2.0, "audio_s": 0.0, "rtfx": 0.0}
    write_run(
        root,
        run_record({"name": "text-only", "adapter": "X", "args": {}}, {"dialogue": result}, T0),
    )
    tidy = data.select_latest(data.load_results(root, use_cache=False))
    assert tidy["rtfx"].isna().all()


def test_paired_bootstrap_decides_where_samples_are_shared(tmp_path, mock_model):
    root = tmp_path / "results"
    root.mkdir()
    add_demo_runs(root, tmp_path / "work", mock_model, limit=30)
    tidy = data.select_latest(data.load_results(root, use_cache=False), "demo")
    paired = PairedVerdicts(root, tidy)
    assert paired("demo-asr", "mock-good", "mock-sloppy") == 1
    assert paired("demo-asr", "mock-sloppy", "mock-good") == -1
    assert paired("demo-asr", "mock-good", "nobody") is None
    board = boards.rank_board(tidy, ["demo-asr"], "asr", paired)
    assert ranks(board) == {"mock-good": "1", "mock-sloppy": "2"}
    assert board.best.iloc[0, 0] and not board.best.iloc[1, 0]


def test_paired_verdict_overrides_overlapping_intervals(fixture_tidy):
    tidy = tidy_of([("a", "t", 10.0, 9.0, 11.0), ("b", "t", 10.5, 9.5, 11.5)])

    def paired(task: str, a: str, b: str) -> int | None:
        return 1 if a == "a" else -1

    assert ranks(boards.rank_board(tidy, ["t"], "x")) == {"a": "1–2", "b": "1–2"}
    assert ranks(boards.rank_board(tidy, ["t"], "x", paired)) == {"a": "1", "b": "2"}


def test_hostile_model_names_stay_plain_data(fixture_tidy):
    texts = boards.board_text(boards.rank_board(fixture_tidy, ["dialogue"], "spoken-dialogue"))
    assert "<script>alert(1)</script>" in set(texts[boards.MODEL_COL])


def test_an_empty_results_folder_has_no_boards(tmp_path: Path):
    assert boards.build_boards(data.select_latest(data.load_results(tmp_path))) == []
