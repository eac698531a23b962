"""End-to-end runner behaviour with the scripted mock adapter on demo-asr data."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import add_clip, copy_demo, run_folders, sine, write_wav
from voxeval.errors import VoxevalError
from voxeval.plugins import UnknownNameError
from voxeval.results import REDACTED, read_run, redact
from voxeval.runner import RunConfig, run_evaluation
from voxeval.types import Response


def records(run_dir: Path, task: str = "demo-asr") -> list[dict]:
    """The lines of a task's samples file."""
    lines = (run_dir / f"samples-{task}.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_run_writes_validated_results(tmp_path, mock_model):
    mock_model.default = staticmethod(lambda item: Response(text="the"))
    config = RunConfig(model="mock", tasks=["demo-asr"], limit=4, output_dir=tmp_path)
    _, run_dir = run_evaluation(config)
    assert run_dir.parent == tmp_path / "mock"
    saved = read_run(run_dir)
    assert saved.status == "success" and saved.run_id == run_dir.name
    task = saved.tasks["demo-asr"]
    assert task.dataset.n == 4 and task.dataset.n_available == 30 and task.dataset.demo
    assert len(task.dataset.content_hash) == 64
    wer = task.metrics["wer"]
    assert wer.n == 4 and wer.value is not None and not wer.higher_is_better
    assert wer.params["normalizer"] == "whisper_english"
    assert task.timing.audio_s > 0 and task.n_errors == 0
    assert set(task.breakdowns["tts"]) <= {"festival", "flite", "espeak-ng"}
    assert [r["sample_id"] for r in records(run_dir)] == [x.sample_id for x in mock_model.history]
    assert all(x.sampling_rate == 16000 and x.audio.ndim == 1 for x in mock_model.history)


def test_adapter_never_sees_references(tmp_path, mock_model):
    run_evaluation(RunConfig(model="mock", tasks=["demo-asr"], limit=2, output_dir=tmp_path))
    seen = mock_model.history[0]
    assert not hasattr(seen, "references") and seen.text is None


def test_interrupted_run_resumes_without_repeating_calls(tmp_path, mock_model):
    mock_model.enqueue("a", "b", "c", KeyboardInterrupt())
    config = RunConfig(model="mock", tasks=["demo-asr"], limit=8, output_dir=tmp_path)
    with pytest.raises(KeyboardInterrupt):
        run_evaluation(config)
    (run_dir,) = run_folders(tmp_path / "mock")
    assert read_run(run_dir).status == "cancelled"
    done = {r["sample_id"] for r in records(run_dir)}
    assert len(done) == 3
    mock_model.history.clear()
    run, again_dir = run_evaluation(config)
    assert again_dir == run_dir and run.resumed == 1 and run.status == "success"
    called = [x.sample_id for x in mock_model.history]
    assert not done & set(called) and len(called) == 5
    assert run.tasks["demo-asr"].n_samples == 8


@pytest.mark.parametrize("change", ["task_version", "model_args", "data", "limit"])
def test_changed_configuration_starts_a_new_run(tmp_path, mock_model, monkeypatch, change):
    data = copy_demo(tmp_path / "data", n=5)
    config = RunConfig(model="mock", tasks=["demo-asr"], data_dir=data, output_dir=tmp_path / "o")
    mock_model.enqueue("x", KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        run_evaluation(config)
    if change == "task_version":
        from voxeval.tasks.demo_asr import DemoAsr

        monkeypatch.setattr(DemoAsr, "version", "999")
    elif change == "model_args":
        config.model_args = {"tag": "other"}
    elif change == "data":
        manifest = data / "manifest.jsonl"
        manifest.write_text(manifest.read_text().replace('"text": "', '"text": "changed ', 1))
    else:
        config.limit = 3
    mock_model.history.clear()
    run, _ = run_evaluation(config)
    assert run.resumed == 0
    assert len(run_folders(tmp_path / "o" / "mock")) == 2
    assert len(mock_model.history) == (3 if change == "limit" else 5)


def test_a_finished_run_is_reported_not_paid_for_again(tmp_path, mock_model):
    config = RunConfig(model="mock", tasks=["demo-asr"], limit=2, output_dir=tmp_path)
    first, first_dir = run_evaluation(config)
    files = {p.name: p.read_bytes() for p in first_dir.iterdir()}
    mock_model.history.clear()
    said = []
    again, again_dir = run_evaluation(config, say=said.append)
    assert again_dir == first_dir and again.run_id == first.run_id
    assert mock_model.history == []  # no model call
    assert "already finished" in said[0] and "--rerun" in said[0]
    assert {p.name: p.read_bytes() for p in first_dir.iterdir()} == files  # untouched
    config.rerun = True
    fresh, fresh_dir = run_evaluation(config)
    assert fresh.run_id != first.run_id and fresh_dir != first_dir and fresh.resumed == 0
    assert len(mock_model.history) == 2


def test_speed_arguments_do_not_change_the_fingerprint(tmp_path, mock_model):
    mock_model.enqueue("a", "b", KeyboardInterrupt())
    config = RunConfig(model="mock", tasks=["demo-asr"], limit=6, output_dir=tmp_path)
    with pytest.raises(KeyboardInterrupt):
        run_evaluation(config)
    config.model_args = {"batch_size": "3"}  # another machine, another batch size
    mock_model.history.clear()
    run, _ = run_evaluation(config)
    assert run.resumed == 1 and len(run_folders(tmp_path / "mock")) == 1
    assert len(mock_model.history) == 4


def test_bad_audio_is_counted_per_sample_and_the_run_continues(tmp_path, mock_model):
    data = copy_demo(tmp_path / "data", n=2)
    audio = data / "audio"
    (audio / "corrupt.wav").write_bytes(b"RIFF not really a wave file at all")
    (audio / "empty.wav").write_bytes(b"")
    write_wav(audio / "zero.wav", sine(0, 16000), 16000)
    write_wav(audio / "stereo.wav", sine(1.0, 16000, channels=2), 16000)
    write_wav(audio / "hi.wav", sine(1.0, 44100), 44100)
    for name in ("corrupt.wav", "empty.wav", "zero.wav", "stereo.wav", "hi.wav", "missing.wav"):
        add_clip(data, name.split(".")[0], "a tone", name)
    run, run_dir = run_evaluation(
        RunConfig(model="mock", tasks=["demo-asr"], data_dir=data, output_dir=tmp_path / "o")
    )
    task = run.tasks["demo-asr"]
    assert task.n_samples == 8 and task.n_errors == 4 and task.errors_by_kind == {"decode": 4}
    errors = {r["sample_id"]: r["error"]["message"] for r in records(run_dir) if r["error"]}
    assert "zero-length" in errors["zero"] and "not found" in errors["missing"]
    assert "corrupt.wav" in errors["corrupt"]
    by_id = {x.sample_id: x for x in mock_model.history}
    assert by_id["stereo"].audio.ndim == 1 and len(by_id["stereo"].audio) == 16000
    assert by_id["hi"].sampling_rate == 16000 and abs(len(by_id["hi"].audio) - 16000) <= 1
    assert task.metrics["wer"].n == 4


def test_adapter_failure_is_isolated_to_its_sample(tmp_path, mock_model):
    mock_model.enqueue("one", RuntimeError("backend exploded"), "three")
    run, run_dir = run_evaluation(
        RunConfig(model="mock", tasks=["demo-asr"], limit=3, output_dir=tmp_path)
    )
    task = run.tasks["demo-asr"]
    assert task.n_errors == 1 and task.errors_by_kind == {"adapter": 1}
    failed = [r for r in records(run_dir) if r["error"]]
    assert failed[0]["error"]["message"] == "RuntimeError: backend exploded"
    # An adapter error is retried when the same command runs again.
    mock_model.history.clear()
    run, _ = run_evaluation(
        RunConfig(model="mock", tasks=["demo-asr"], limit=3, output_dir=tmp_path)
    )
    assert [x.sample_id for x in mock_model.history] == [failed[0]["sample_id"]]
    assert run.status == "success"


def test_secrets_are_redacted(tmp_path):
    secret = "sk-live-THIS-MUST-NOT-LEAK"
    config = RunConfig(
        model="mock",
        tasks=["demo-asr"],
        limit=1,
        output_dir=tmp_path,
        model_args={"api_key": secret},
    )
    run_evaluation(config)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert secret not in path.read_text(errors="ignore"), path


def test_unknown_names_suggest_close_matches(tmp_path):
    with pytest.raises(UnknownNameError, match="Did you mean 'demo-asr'"):
        run_evaluation(RunConfig(model="mock", tasks=["demo_asr"], output_dir=tmp_path))
    with pytest.raises(UnknownNameError, match="Did you mean 'faster-whisper'"):
        run_evaluation(RunConfig(model="faster-wisper", tasks=["demo-asr"], output_dir=tmp_path))


def test_bad_model_args_name_the_argument(tmp_path):
    with pytest.raises(VoxevalError, match=r"colour.*Allowed: batch_size, tag"):
        run_evaluation(
            RunConfig(
                model="mock", tasks=["demo-asr"], model_args={"colour": "red"}, output_dir=tmp_path
            )
        )


def test_missing_data_folder_is_a_clear_error(tmp_path):
    with pytest.raises(VoxevalError, match=r"does not exist.*--data-dir"):
        run_evaluation(
            RunConfig(
                model="mock", tasks=["demo-asr"], data_dir=tmp_path / "nope", output_dir=tmp_path
            )
        )
    (tmp_path / "empty").mkdir()
    with pytest.raises(VoxevalError, match=r"No manifest.jsonl"):
        run_evaluation(
            RunConfig(
                model="mock", tasks=["demo-asr"], data_dir=tmp_path / "empty", output_dir=tmp_path
            )
        )


def test_output_folder_blocked_by_a_file(tmp_path, mock_model):
    blocker = tmp_path / "results"
    blocker.write_text("not a folder")
    with pytest.raises(VoxevalError, match=r"Cannot write results to .*--output-dir"):
        run_evaluation(RunConfig(model="mock", tasks=["demo-asr"], limit=1, output_dir=blocker))
    assert mock_model.history == []  # refused before any model call


@pytest.fixture
def locked_dir(tmp_path):
    """A folder nobody may write to: chmod for users, the immutable attribute for root."""
    locked = tmp_path / "locked"
    locked.mkdir()
    if os.geteuid() != 0:
        locked.chmod(0o500)
        yield locked
        locked.chmod(0o700)
        return
    # Root ignores permissions, so make the folder immutable (ext4 and most Linux file systems).
    if subprocess.run(["chattr", "+i", str(locked)], capture_output=True).returncode != 0:
        pytest.skip("cannot make a read-only folder here: running as root and chattr +i failed")
    yield locked
    subprocess.run(["chattr", "-i", str(locked)], check=True)


def test_output_folder_without_write_permission(locked_dir, mock_model):
    with pytest.raises(VoxevalError, match=r"Cannot write results to .*locked"):
        run_evaluation(RunConfig(model="mock", tasks=["demo-asr"], limit=1, output_dir=locked_dir))
    assert mock_model.history == []


def test_wrong_number_of_responses_fails_the_run_clearly(tmp_path, mock_model, monkeypatch):
    monkeypatch.setattr(mock_model, "predict", lambda self, batch, task: [])
    with pytest.raises(VoxevalError, match="returned 0 responses for 1 inputs"):
        run_evaluation(RunConfig(model="mock", tasks=["demo-asr"], limit=1, output_dir=tmp_path))
    (run_dir,) = run_folders(tmp_path / "mock")
    assert read_run(run_dir).status == "error"


def test_redact_hides_credentials_but_keeps_token_counts():
    args = {
        "max_new_tokens": 64,
        "hf_token": "abc123",
        "api_key_env": "OPENAI_API_KEY",
        "headers": {"Authorization": "Bearer xyz", "X-Trace": "1"},
        "prompt": "sk-looks-like-a-key",
        "stop_token": None,
        "suppress_tokens": "non-speech (-1)",  # token ids, a decoding setting
        "auth_tokens": "abcdefghijklmnopqrstuv",  # a credential-length word: still hidden
    }
    assert redact(args) == {
        "max_new_tokens": 64,
        "hf_token": REDACTED,
        "api_key_env": "OPENAI_API_KEY",
        "headers": {"Authorization": REDACTED, "X-Trace": "1"},
        "prompt": REDACTED,
        "stop_token": None,
        "suppress_tokens": "non-speech (-1)",
        "auth_tokens": REDACTED,
    }


def test_none_words_unset_optional_model_args_only():
    from voxeval.adapters.faster_whisper import FasterWhisperArgs
    from voxeval.adapters.openai_compat import OpenAIArgs

    args = OpenAIArgs(model="m", temperature="none", seed="null", system_prompt="")
    assert (args.temperature, args.seed, args.system_prompt) == (None, None, None)
    assert FasterWhisperArgs(language="None", max_new_tokens="").language is None
    with pytest.raises(ValueError):
        OpenAIArgs(model="m", concurrency="none")  # not optional: still an error
    assert OpenAIArgs(model="none").model == "none"  # a required str keeps the word


# -- streaming: each answer saved as it is emitted ----------------------------------------------


def test_answers_emitted_before_a_failure_are_kept_and_only_the_rest_retried(
    tmp_path, mock_model, monkeypatch
):
    calls: list[list[str]] = []

    def stream(self, batch, task, emit):
        calls.append([x.sample_id for x in batch])
        for i, item in enumerate(batch):
            if len(batch) > 1 and i == 2:
                raise ConnectionError("server went away")  # mid-batch, after two answers
            emit(i, Response(text=f"answer {item.sample_id}"))

    monkeypatch.setattr(mock_model, "predict_stream", stream)
    config = RunConfig(
        model="mock",
        tasks=["demo-asr"],
        limit=4,
        output_dir=tmp_path,
        model_args={"batch_size": "4"},
    )
    run, run_dir = run_evaluation(config)
    ids = [f"demo-00{i}" for i in range(1, 5)]
    assert calls == [ids, [ids[2]], [ids[3]]]  # the two answered are never asked again
    saved = [r["sample_id"] for r in records(run_dir)]
    assert saved == ids and run.tasks["demo-asr"].n_errors == 0


def test_an_adapter_emitting_something_else_than_a_response_fails_clearly(
    tmp_path, mock_model, monkeypatch
):
    monkeypatch.setattr(mock_model, "predict_stream", lambda self, b, t, emit: emit(0, "text"))
    with pytest.raises(VoxevalError, match="emitted a str, not a Response"):
        run_evaluation(RunConfig(model="mock", tasks=["demo-asr"], limit=1, output_dir=tmp_path))


def test_a_failed_save_stops_the_run_instead_of_asking_the_model_again(
    tmp_path, mock_model, monkeypatch
):
    from voxeval.checkpoint import SamplesFile

    def disk_full(self, record):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(SamplesFile, "append", disk_full)
    config = RunConfig(
        model="mock",
        tasks=["demo-asr"],
        limit=4,
        output_dir=tmp_path,
        model_args={"batch_size": "4"},
    )
    with pytest.raises(VoxevalError, match=r"Cannot save a result.*No space left"):
        run_evaluation(config)
    assert len(mock_model.history) == 4  # one call for the batch, no one-by-one retries
