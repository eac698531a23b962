"""Every leaderboard page under streamlit.testing.v1.AppTest, over fixture results."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
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
    at = app(page=page, layer="demo")
    assert not at.exception, [e.value for e in at.exception]
    assert any(w.value.startswith("DEMO results") for w in at.warning)


def test_demo_layer_shows_only_demo_results(app):
    board = app(layer="demo").dataframe[0].value
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
    at = app(page="compare", layer="demo", a="mock-good", b="mock-sloppy")
    table = at.dataframe[0].value
    wer = table.set_index("metric").loc["wer"]
    assert wer["verdict"] == "A significantly better" and wer["B − A"] > 0
    assert wer["n_shared"] == 12


def test_compare_page_explains_tasks_it_cannot_compare(app):
    at = app(page="compare", a="AudioChat Large", b="Acme Audio-LM 7B")
    assert not at.exception
    assert any("Not compared: asr-clean" in t.value for t in at.text)


def test_sample_browser_plays_demo_audio_and_scores_samples(app):
    at = app(page="samples", layer="demo", sample="demo-002")
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


# Shared links (issue 13): exact URLs, unknown values named, sort kept, safe links.
SIDEBAR_DEFAULTS = {
    "layer": "official",
    "family": "",
    "hosting": "any",
    "weights": "any",
    "size": "any",
    "unknown_size": "true",
}
PAGE_PARAMS = {
    "task": {"task", "metric", "field", "sort", "order", "breakdown_sort", "breakdown_order"},
    "model": {"model", "sort", "order", "speed_sort", "speed_order"},
    "compare": {"a", "b", "min_shared"},
    "samples": {"task", "models", "sample", "sort", "order"},
}


def errors(at: AppTest) -> list[str]:
    """Error alerts as read on screen (markdown escapes removed)."""
    return [re.sub(r"\\(.)", r"\1", e.value) for e in at.error]


@pytest.mark.parametrize("page", sorted(PAGE_PARAMS))
def test_every_view_parameter_is_written_to_the_url_defaults_included(app, page):
    at = app(page=page)
    assert not at.exception and not errors(at)
    assert {k: at.query_params.get(k) for k in SIDEBAR_DEFAULTS} == SIDEBAR_DEFAULTS
    assert PAGE_PARAMS[page] <= set(at.query_params), set(at.query_params)


def test_a_copied_url_reproduces_the_view(app):
    at = app(page="task", task="asr-clean")
    at.radio(key="order").set_value("desc").run()
    at.sidebar.radio(key="hosting").set_value("local").run()
    copied = dict(at.query_params)
    again = app(**copied)
    assert dict(again.query_params) == copied
    assert again.dataframe[0].value.equals(at.dataframe[0].value)
    assert again.dataframe[0].value["model"].tolist()[0] == "pocketsphinx"  # worst WER first


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"page": "model", "model": "No Such Model"}, "No Such Model"),
        ({"page": "task", "task": "no-such-task"}, "no-such-task"),
        ({"page": "samples", "task": "no-such-task"}, "no-such-task"),
        ({"page": "compare", "b": "Nobody"}, "Nobody"),
        ({"page": "model", "layer": "secret"}, "secret"),
        ({"page": "task", "task": "asr-clean", "metric": "bleu"}, "bleu"),
        ({"page": "task", "task": "asr-clean", "sort": "nonsense"}, "nonsense"),
        ({"page": "compare", "min_shared": "lots"}, "lots"),
        ({"page": "samples", "task": "asr-clean", "models": ["Ghost"]}, "Ghost"),
        ({"board": "other", "other_sort": "nonsense"}, "nonsense"),
    ],
)
def test_an_unknown_value_in_a_link_is_named_not_silently_replaced(app, params, named):
    at = app(**params)
    assert not at.exception
    # Once, although the sidebar's and the board's sort values are read before they are drawn.
    named_in = [e for e in errors(at) if f"'{named}'" in e and "in the link" in e]
    assert len(named_in) == 1, errors(at)


def test_an_unknown_model_message_lists_the_choices_and_escapes_the_name(app):
    at = app(page="model", model="[x](javascript:alert(1)) **y**")
    (message,) = [e.value for e in at.error]
    assert r"\[x\]\(javascript\:alert\(1\)\) \*\*y\*\*" in message  # no link, no bold
    assert "Whisper small \\(CT2\\)" in message and "choose one of" in message


def test_an_old_demo_link_opens_the_demo_layer(app):
    at = app(page="model", demo="true")
    assert at.sidebar.radio(key="layer").value == "demo"
    assert at.query_params["layer"] == "demo" and "demo" not in at.query_params
    assert any(w.value.startswith("DEMO results") for w in at.warning)


def test_sort_in_the_url_sorts_numbers_as_numbers(app):
    # WER 4.8, 6.2, 9.1, 21.0: as text "9.1" would come first, by default (best first) 4.8.
    at = app(page="task", task="asr-clean", sort="value", order="desc")
    ranking = at.dataframe[0].value
    assert ranking["model"].tolist()[0] == "pocketsphinx"
    assert ranking["value"].tolist() == sorted(ranking["value"], reverse=True)
    at = app(page="task", task="asr-clean", sort="model", order="asc")
    assert at.dataframe[0].value["model"].tolist()[0] == "Acme Audio-LM 7B"


def test_sort_frame_is_numeric_with_missing_values_last():
    from voxeval.leaderboard.views import sort_frame

    frame = pd.DataFrame({"x": [9.0, None, 100.0, 50.0], "t": ["9.0", None, "100.0", "50.0"]})
    for column in ("x", "t"):
        assert sort_frame(frame, column, True).index.tolist() == [2, 3, 0, 1]
        assert sort_frame(frame, column, False).index.tolist() == [0, 3, 2, 1]


def test_min_shared_is_kept_in_the_url_and_applied(app):
    at = app(page="compare", layer="demo", a="mock-good", b="mock-sloppy", min_shared="13")
    assert at.number_input(key="min_shared").value == 13
    assert at.query_params["min_shared"] == "13"
    assert any("Not compared: demo-asr" in t.value for t in at.text)  # 12 shared < 13


@pytest.mark.parametrize("page", PAGES)
def test_the_sidebar_shows_no_server_path(app, results, page):
    at = app(page=page)
    shown = [str(e.value) for kind in (at.text, at.caption, at.markdown) for e in kind]
    shown += [str(e.value) for kind in (at.sidebar.text, at.sidebar.caption) for e in kind]
    assert not any(str(results.parent) in s for s in shown)


def test_safe_link_accepts_only_http_and_https_with_a_host():
    from voxeval.leaderboard.views import safe_link

    for good in ("https://example.org/x?a=1#b", "http://localhost:8501/", "HTTPS://EXAMPLE.ORG"):
        assert safe_link(good) == good
    hostile = [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "https://exa\nmple.org",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "//evil.example/x",
        "/relative/path",
        "https://",
        "https:evil.example",
        "https://good.example@evil.example/",
        "https://[::1",
        "",
        None,
        float("nan"),
    ]
    assert [u for u in hostile if safe_link(u) is not None] == []


@pytest.fixture
def hostile_card_url(tmp_path, monkeypatch) -> Path:
    """Fixture results whose Acme card URL reads javascript: (the card check bypassed)."""
    from voxeval.leaderboard import data

    root = build_results(tmp_path / "results", hostile=False)
    real = data.select_latest

    def patched(*args: object, **kwargs: object) -> pd.DataFrame:
        tidy = real(*args, **kwargs)
        acme = tidy["model"] == "Acme Audio-LM 7B"
        return tidy.assign(url=tidy["url"].astype(object).mask(acme, "javascript:alert(1)"))

    monkeypatch.setattr(data, "select_latest", patched)
    monkeypatch.setenv("VOXEVAL_RESULTS_DIR", str(root))
    return root


def test_card_urls_are_links_only_when_http_or_https(hostile_card_url):
    def model_page(model: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        at.query_params.update(page="model", model=model)
        return at.run()

    at = model_page("Whisper small (CT2)")
    assert [b.proto.url for b in at.get("link_button")] == ["https://example.org/whisper-small"]
    at = model_page("Acme Audio-LM 7B")
    assert not at.exception and not at.get("link_button")
    assert any("javascript:alert(1)" in t.value for t in at.text)  # plain text only
    assert not any("javascript" in m for m in markdown_like(at))


def test_tables_pin_the_name_columns_and_show_missing_as_a_dash():
    def script() -> None:
        import pandas as pd
        import streamlit as st

        from voxeval.leaderboard import views

        frame = pd.DataFrame(
            {
                "Rank": ["1", "2"],
                "Model": ["m", "n"],
                "rtfx": [float("nan"), 3.0],
                "url": ["https://example.org/m", "javascript:alert(1)"],
            }
        )
        views.table(frame, Rank=st.column_config.TextColumn(width="small"))

    at = AppTest.from_function(script).run()
    proto = at.dataframe[0].proto
    columns = __import__("json").loads(proto.columns)
    assert columns["Rank"]["pinned"] and columns["Model"]["pinned"]
    assert columns["Rank"]["width"] == "small"
    assert proto.placeholder == "—"  # e.g. RTFx of a run without audio time
    shown = at.dataframe[0].value
    assert shown["rtfx"].dtype.kind == "f"  # still a number
    assert columns["url"]["type_config"]["type"] == "link"
    assert shown["url"].tolist()[0] == "https://example.org/m" and pd.isna(shown["url"][1])


def test_a_choice_the_new_view_lacks_is_replaced_with_a_note(app):
    at = app(page="task", task="emotion-cls", metric="accuracy")
    at.selectbox(key="task").set_value("asr-far").run()
    assert at.selectbox(key="metric").value == "wer" and at.query_params["metric"] == "wer"
    assert at.query_params["task"] == "asr-far"
    assert any("'accuracy' is not available" in i.value for i in at.info)


def test_a_run_updates_the_url_in_one_go(app, monkeypatch):
    # Each st.query_params change is a browser history entry: one per view change at most.
    from streamlit.runtime.state.query_params import QueryParams

    sent: list[str] = []
    real = QueryParams._send_query_param_msg
    monkeypatch.setattr(
        QueryParams, "_send_query_param_msg", lambda self: (sent.append(str(self)), real(self))
    )
    at = app(page="task", demo="true")
    assert len(sent) == 1 and at.query_params["layer"] == "demo"
    at.run()
    assert len(sent) == 1  # nothing changed, nothing written
    at.radio(key="order").set_value("desc").run()
    assert len(sent) == 2


def test_switching_pages_keeps_the_filters_and_drops_the_old_page_parameters(app):
    at = app(page="task", task="asr-clean", metric="cer", hosting="local", sort="rtfx")
    at.switch_page("board_pages/compare.py").run()
    assert not at.exception and not errors(at) and not at.info
    assert at.query_params["hosting"] == "local"
    assert {"a", "b", "min_shared"} <= set(at.query_params)
    assert not {"metric", "field", "breakdown_sort"} & set(at.query_params)
    assert at.query_params.get("sort") != "rtfx"  # the task table's sort is not carried
