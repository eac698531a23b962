"""demo-dialogue: the bundled spoken-dialogue demo set runs offline with the echo baseline,
the cascade, and an LLM judge on a local OpenAI-compatible server."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import soundfile as sf

from tests.conftest import REPO
from tests.fake_openai import FakeOpenAI, user_text
from voxeval.judge import JudgeConfig
from voxeval.runner import RunConfig, run_evaluation

DATA = REPO / "tasks" / "demo_dialogue" / "data"
ENTRIES = [json.loads(x) for x in (DATA / "manifest.jsonl").read_text().splitlines()]


def test_the_bundled_set_is_complete_and_sound():
    assert len(ENTRIES) == 12 and len({e["id"] for e in ENTRIES}) == 12
    assert Counter(e["emotion"] for e in ENTRIES) == Counter(
        happy=3, sad=3, angry=2, fear=2, neutral=1, surprise=1
    )
    for entry in ENTRIES:
        assert len(entry["references"]) == 3 and all(entry["references"])
        info = sf.info(DATA / entry["audio"])
        assert (info.samplerate, info.channels) == (16000, 1)
        assert abs(info.frames / info.samplerate - entry["duration_s"]) < 0.01


def test_echo_runs_offline_and_is_marked_demo(tmp_path, mock_model):
    run, _ = run_evaluation(RunConfig(model="echo", tasks=["demo-dialogue"], output_dir=tmp_path))
    task = run.tasks["demo-dialogue"]
    assert task.dataset.demo and task.dataset.id == "voxeval/demo-dialogue"
    assert task.n_samples == 12 and task.n_errors == 0
    assert set(task.metrics) == {"bleu", "rouge_l", "meteor"}
    assert all(0 <= m.value < 0.5 for m in task.metrics.values())  # repeating is a poor reply
    assert set(task.breakdowns["emotion"]) == {
        "happy",
        "sad",
        "angry",
        "fear",
        "neutral",
        "surprise",
    }


def test_a_judge_rates_the_replies_with_the_emotion_in_view(tmp_path):
    with FakeOpenAI(reply=lambda body: "It ignores how they feel. Rating: [[2]]") as server:
        judge = JudgeConfig("openai", {"model": "judge", "base_url": server.base_url})
        config = RunConfig(model="echo", tasks=["demo-dialogue"], output_dir=tmp_path, judge=judge)
        run, run_dir = run_evaluation(config)
        sent = [user_text(s.body) for s in server.seen]
    judged = run.tasks["demo-dialogue"].metrics["judge"]
    assert judged.value == 2.0 and judged.n == 12
    assert judged.params["rubric"] == "sd-eval-emotion"
    assert any("My grandmother passed away last night." in t and "emotion: sad" in t for t in sent)
    assert (run_dir / "judge-demo-dialogue.jsonl").is_file()


@pytest.mark.slow
def test_the_cascade_hears_the_audio_and_echoes_what_it_heard(tmp_path):
    config = RunConfig(
        model="cascade",
        tasks=["demo-dialogue"],
        limit=3,
        output_dir=tmp_path,
        model_args={"asr": "faster-whisper", "llm": "echo"},
    )
    run, run_dir = run_evaluation(config)
    assert run.tasks["demo-dialogue"].n_errors == 0
    rows = [
        json.loads(x) for x in (run_dir / "samples-demo-dialogue.jsonl").read_text().splitlines()
    ]
    for row in rows:  # the reply is the transcript Whisper heard, close to what was said
        heard = set(row["prediction"]["text"].lower().split())
        said = set(row["metadata"]["transcript"].lower().split())
        assert len(heard & said) >= len(said) // 2
