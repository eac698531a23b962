"""Every leaderboard page under streamlit.testing.v1.AppTest, over fixture results."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO
from tests.leaderboard_fixtures import HOSTILE, add_demo_runs, build_results
from voxeval.testing import mock_adapter

APP = str(REPO / "leaderboard" / "app.py")
PAGES = ["overview", "task", "model", "compare", "samples"]


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    root = build_results(tmp_path_factory.mktemp("lb") / "results")
    with mock_adapter() as mock:
        add_demo_runs(root, tmp_path_factory.mktemp("work"), mock)
    return root


@pytest.fixture
def app(results, monkeypatch) -> Iterator:
    monkeypatch.setenv("VOXEVAL_RESULTS_DIR", str(results))

    def make(**params: str | list[str]) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        for key, value in params.items():
            at.query_params[key] = value
        return at.run()

    yield make


def texts(at: AppTest) -> list[str]:
    """Everything shown as plain text or in dataframes and widget options."""
    out = [t.value for t in at.text]
    out += [str(v) for df in at.dataframe for v in df.value.to_numpy().ravel()]
    out += [str(o) for box in at.selectbox for o in box.options]
    return out


def markdown_like(at: AppTest) -> list[str]:
    """Everything Streamlit renders as markdown."""
    kinds = (at.markdown, at.caption, at.title, at.header, at.subheader, at.warning, at.info)
    return [str(e.value) for kind in kinds for e in kind]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_exceptions(app, page):
    at = app(page=page)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_the_demo_results_apart(app, page):
    at = app(page=page, demo="true")
    assert not at.exception, [e.value for e in at.exception]
    assert any(w.value.startswith("DEMO results") for w in at.warning)


def test_overview_ranks_models_with_coverage_and_best_marks(app):
    at = app()
    board = at.dataframe[0].value
    assert board["Model"].tolist()[0] == "Whisper small (CT2)"
    assert "—" in board.to_numpy() and any("★" in str(v) for v in board.to_numpy().ravel())
    assert board["Coverage"].tolist()[0] == "2/5 tasks"
    assert "asr-clean ↓ WER (%)" in board.columns
    assert "mock-good" not in board["Model"].tolist()  # demo results stay apart
    assert any("mean win rate" in c.value for c in at.caption)
    labels = [b.label for b in at.get("download_button")]
    assert labels.count("CSV") >= 1 and labels.count("JSON") >= 1


def test_overview_shows_ci_and_n_when_asked_in_the_url(app):
    board = app(ci="true").dataframe[0].value
    assert board["asr-clean ↓ WER (%)"].str.contains("n=120").any()


def test_demo_toggle_shows_only_demo_results(app):
    board = app(demo="true").dataframe[0].value
    assert sorted(board["Model"]) == ["mock-good", "mock-sloppy"]
    assert list(board.columns)[-1].startswith("demo-asr")


def test_filters_in_the_url_are_respected(app):
    board = app(hosting="hosted").dataframe[0].value
    assert set(board["Model"]) == {"AudioChat Large", "cascade (asr=faster-whisper, llm=openai)"}
    board = app(family="ASR-Suite").dataframe[0].value
    assert all(c.startswith(("asr-", "Rank", "Model", "↑ Mean", "Coverage")) for c in board)
    board = app(weights="open").dataframe[0].value
    assert set(board["Model"]) == {"Whisper small (CT2)", "Acme Audio-LM 7B"}


def test_task_page_follows_the_url(app):
    at = app(page="task", task="emotion-cls", metric="accuracy")
    assert at.selectbox(key="task").value == "emotion-cls"
    assert at.selectbox(key="metric").value == "accuracy"
    ranking = at.dataframe[0].value
    assert ranking["model"].tolist()[0] == "AudioChat Large"
    assert len(at.get("vega_lite_chart")) == 3  # ranking, speed and breakdown charts
    breakdown = at.dataframe[1].value
    assert set(breakdown["group"]) == {"angry", "happy", "sad"}


def test_model_page_shows_card_versions_speed_and_cost(app):
    at = app(page="model", model="Acme Audio-LM 7B")
    facts = dict(at.dataframe[0].value.to_numpy())
    assert facts["licence"] == "apache-2.0" and facts["parameters"] == "7B"
    assert facts["architecture"] == "end-to-end" and facts["open weights"] == "yes"
    per_task = at.dataframe[1].value
    assert {"rtfx", "latency_s", "cost_usd"} <= set(per_task.columns)
    results = at.dataframe[2].value
    assert {"task_version", "dataset_hash", "voxeval_version"} <= set(results.columns)


def test_compare_page_runs_the_paired_bootstrap(app):
    at = app(page="compare", demo="true", a="mock-good", b="mock-sloppy")
    table = at.dataframe[0].value
    wer = table.set_index("metric").loc["wer"]
    assert wer["verdict"] == "A significantly better" and wer["B − A"] > 0
    assert wer["n_shared"] == 12


def test_compare_page_explains_tasks_it_cannot_compare(app):
    at = app(page="compare", a="AudioChat Large", b="Acme Audio-LM 7B")
    assert not at.exception
    assert any("Not compared: asr-clean" in t.value for t in at.text)


def test_sample_browser_plays_demo_audio_and_scores_samples(app):
    at = app(page="samples", demo="true", sample="demo-002")
    assert at.selectbox(key="sample").value == "demo-002"
    assert at.get("audio"), "demo-asr audio should be found in the bundled data"
    assert any("bakery" in t.value for t in at.text)
    predictions = at.dataframe[0].value
    assert set(predictions["model"]) == {"mock-good", "mock-sloppy"}
    wer = predictions.set_index("model")["wer (%)"]
    assert wer["mock-good"] == 0 and wer["mock-sloppy"] > 0


def test_sample_browser_shows_judge_rationale(app):
    at = app(page="samples", task="dialogue", models=["Acme Audio-LM 7B", HOSTILE])
    assert any("Rating: [[" in t.value for t in at.text)
    assert any(HOSTILE in t.value for t in at.text) or HOSTILE in texts(at)


@pytest.mark.parametrize("page", PAGES)
def test_hostile_model_name_is_shown_as_text_only(app, page):
    at = app(page=page, model=HOSTILE, a=HOSTILE, task="dialogue")
    assert not at.exception
    assert any(HOSTILE in t for t in texts(at))
    assert not any("<script" in m for m in markdown_like(at))


def test_no_unsafe_html_anywhere_in_the_leaderboard():
    for path in (REPO / "leaderboard").rglob("*.py"):
        source = path.read_text()
        assert "unsafe_allow_html" not in source and "st.html" not in source, path
