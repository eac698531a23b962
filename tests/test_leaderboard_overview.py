"""The overview page: boards, rank bands, unranked models below, numbers that sort as numbers."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from tests.test_leaderboard_app import app, results  # noqa: F401 (fixtures)
from tests.test_leaderboard_boards import FIXTURE_BOARDS
from voxeval.leaderboard import boards


@pytest.fixture(autouse=True)
def fixture_boards(monkeypatch):
    """The fixture's tasks are not installed tasks: declare their boards as plugins would."""
    monkeypatch.setattr(boards, "declared_boards", lambda: FIXTURE_BOARDS)


def shown(frame_element) -> pd.DataFrame:
    """What the browser shows in a styled dataframe's cells (the Styler's display text)."""
    styler = frame_element.proto.arrow_data.styler
    return pa.ipc.open_stream(styler.display_values).read_all().to_pandas()


def test_landing_page_opens_the_first_board_with_a_tab_for_every_board(app):  # noqa: F811
    at = app()
    assert not at.exception, [e.value for e in at.exception]
    labels = [tab.label for tab in at.tabs]
    assert labels == [
        "Speech recognition",
        "Speech emotion recognition",
        "Arousal, dominance, valence",
        "Spoken dialogue",
        "All tasks",
        "Every board",
    ]
    # Only the open tab's board is built and sent; the link names it explicitly.
    assert [s.value for s in at.subheader] == ["Speech recognition"]
    assert len(at.dataframe) == 1 and at.query_params["board"] == "asr"
    assert shown(at.dataframe[0])["Rank"].tolist() == ["1", "2", "3", "—"]


def test_every_board_tab_shows_every_board_with_ranked_models_first(app):  # noqa: F811
    at = app(board="every board")
    assert not at.exception, [e.value for e in at.exception]
    titles = [s.value for s in at.subheader]
    assert titles == [
        "Speech recognition",
        "Speech emotion recognition",
        "Arousal, dominance, valence",
        "Spoken dialogue",
        "All tasks",
    ]
    asr = shown(at.dataframe[0])
    # three models have both ASR tasks; Acme has one: listed last, unranked
    assert asr["Rank"].tolist() == ["1", "2", "3", "—"]
    assert asr["Model"].iloc[-1] == "Acme Audio-LM 7B" and asr["Coverage"].iloc[-1] == "1/2 tasks"
    emotion = shown(at.dataframe[1])
    assert emotion["Rank"].tolist() == ["1–2", "1–2", "3"]  # a rank band: CIs overlap
    assert "mock-good" not in set(asr["Model"])  # demo results stay apart
    assert any("rank band" in c.value for c in at.caption)
    rules = [t.value for t in at.text]
    assert any("rank range" in t and "paired bootstrap" in t for t in rules)  # stated in full


def test_star_only_where_significantly_best_and_numbers_stay_numeric(app):  # noqa: F811
    at = app(board="asr")
    element = at.dataframe[0]
    cells = shown(element)
    assert cells["asr-far ↓ WER (%)"].tolist()[0] == "19.0 ★"
    assert not cells["asr-clean ↓ WER (%)"].str.contains("★").any()  # 4.8 overlaps 6.2
    data = element.value
    assert pd.api.types.is_float_dtype(data["asr-clean ↓ WER (%)"])  # header clicks sort numbers
    assert pd.api.types.is_float_dtype(data["↑ Mean win rate (%)"])


def test_ci_and_n_on_request_in_the_url(app):  # noqa: F811
    cells = shown(app(board="asr", ci="true").dataframe[0])
    assert cells["asr-clean ↓ WER (%)"].str.fullmatch(r"[\d.]+ \[[\d.]+, [\d.]+\] n=120").all()


def test_one_board_can_be_sorted_by_a_number_and_the_sort_is_in_the_url(app):  # noqa: F811
    at = app(board="asr", asr_sort="asr-far ↓ WER (%)", asr_order="desc")
    cells = shown(at.dataframe[0])
    assert cells["Model"].tolist()[0] == "pocketsphinx"  # 52.0 % is the highest far-field WER
    params = {k: at.query_params[k] for k in ("asr_sort", "asr_order", "board", "ci")}
    assert params == {
        "asr_sort": "asr-far ↓ WER (%)",
        "asr_order": "desc",
        "board": "asr",
        "ci": "false",
    }


def test_an_unknown_board_in_the_link_is_answered_visibly(app):  # noqa: F811
    at = app(board="no-such-board")
    assert any("no\\-such\\-board" in e.value for e in at.error)  # as escaped markdown
    # the first board, said so rather than guessed silently
    assert [s.value for s in at.subheader] == ["Speech recognition"]


def test_a_board_with_only_demo_results_opens_on_them_and_says_so(
    tmp_path, monkeypatch, mock_model
):
    from streamlit.testing.v1 import AppTest

    from tests.leaderboard_fixtures import add_demo_runs
    from tests.test_leaderboard_app import APP

    root = tmp_path / "results"
    root.mkdir()
    add_demo_runs(root, tmp_path / "work", mock_model)
    monkeypatch.setenv("VOXEVAL_RESULTS_DIR", str(root))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert at.query_params["layer"] == "demo"  # explicit in the URL, not a silent switch
    assert any(w.value.startswith("DEMO results") for w in at.warning)
    assert set(shown(at.dataframe[0])["Model"]) == {"mock-good", "mock-sloppy"}


def test_the_cards_paper_is_a_link_and_only_http_is_accepted(tmp_path, monkeypatch):
    import json

    from pydantic import ValidationError
    from streamlit.testing.v1 import AppTest

    from tests.leaderboard_fixtures import build_results
    from tests.test_leaderboard_app import APP
    from voxeval.leaderboard.card import ModelCard

    with pytest.raises(ValidationError, match="http"):
        ModelCard(paper="javascript:alert(1)")
    root = build_results(tmp_path / "results")
    card_path = next(
        p for p in root.rglob("card.json") if "Whisper small" in p.read_text(encoding="utf-8")
    )
    card = json.loads(card_path.read_text(encoding="utf-8"))
    card_path.write_text(json.dumps({**card, "paper": "https://arxiv.org/abs/2212.04356"}))
    monkeypatch.setenv("VOXEVAL_RESULTS_DIR", str(root))
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(page="model", model="Whisper small (CT2)")
    at.run()
    links = {b.proto.label: b.proto.url for b in at.get("link_button")}
    assert links["Paper (arxiv\\.org)"] == "https://arxiv.org/abs/2212.04356"  # label is markdown


def test_the_long_table_is_sent_only_on_request(app):  # noqa: F811
    assert not any("dataset_revision" in d.value.columns for d in app().dataframe)
    long = next(d.value for d in app(long="true").dataframe if "dataset_revision" in d.value)
    assert {"ci_low", "ci_high", "n", "run_id"} <= set(long.columns) and len(long) > 20
