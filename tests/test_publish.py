"""`voxeval publish` validates, scans for secrets, separates demo runs, stores cards, and is
idempotent; `voxeval leaderboard` builds a telemetry-free streamlit command. The publish
gates themselves (official data, full split, errors, card) are tested in
test_publish_gates.py; the benchmark run here passes all of them."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.leaderboard_fixtures import T0, run_record, task_result, write_asr_samples, write_run
from voxeval import publish
from voxeval.errors import VoxevalError
from voxeval.publish import PublishError, publish_run
from voxeval.runner import RunConfig, run_evaluation
from voxeval.types import Response


@pytest.fixture
def demo_run(tmp_path, mock_model) -> Path:
    mock_model.default = staticmethod(lambda item: Response(text="hello there"))
    _, run_dir = run_evaluation(
        RunConfig(model="mock", tasks=["demo-asr"], limit=3, output_dir=tmp_path / "runs")
    )
    return run_dir


CARD = {"display_name": "GPT X", "licence": "proprietary", "open_weights": False}


def official_result(task: str = "berst-asr", value: float = 0.1) -> dict:
    """A fixture ASR result recorded as `task` on the data that task declares official."""
    from voxeval.task import TASKS

    official = TASKS.get(task).official_data[0]
    result = {
        **task_result("asr-clean", value),
        "task": task,
        "samples_file": f"samples-{task}.jsonl",
    }
    result["dataset"].update(
        id=official.id, split=official.split, revision=official.revision, content_hash=None
    )
    return result


def make_bench_run(root: Path, **changes) -> Path:
    """A complete berst-asr run on the official data (publish puts it in results/runs/);
    `changes` update run.json's top level."""
    model = {"name": "openai", "adapter": "OpenAIAdapter", "args": {"model": "gpt-x"}}
    record = {**run_record(model, {"berst-asr": official_result()}, T0), **changes}
    run_dir = write_run(root, record)
    write_asr_samples(run_dir, "berst-asr", drop_every=4)
    return run_dir


def make_card(path: Path, **fields) -> Path:
    """A model card with what the public layer needs (licence, open_weights), plus `fields`."""
    path.write_text(json.dumps({**CARD, **fields}))
    return path


@pytest.fixture
def bench_run(tmp_path) -> Path:
    return make_bench_run(tmp_path / "out")


@pytest.fixture
def card(tmp_path) -> Path:
    return make_card(tmp_path / "card.json")


def cli(*argv: str) -> int:
    """Run the publish/leaderboard sub-commands as the CLI would."""
    parser = argparse.ArgumentParser()
    publish.add_leaderboard_commands(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.handler(args)


def test_demo_run_goes_to_results_demo_with_its_files(demo_run, tmp_path):
    outcome = publish_run(demo_run, tmp_path / "results")
    assert outcome.action == "published"
    assert outcome.dest == tmp_path / "results" / "demo" / "mock" / demo_run.name
    assert {p.name for p in outcome.dest.iterdir()} == {"run.json", "samples-demo-asr.jsonl"}
    assert (outcome.dest / "run.json").read_bytes() == (demo_run / "run.json").read_bytes()


def test_benchmark_run_goes_to_results_runs(bench_run, card, tmp_path):
    outcome = publish_run(bench_run, tmp_path / "results", card)
    assert outcome.dest == tmp_path / "results" / "runs" / "openai_gpt-x" / bench_run.name


def test_publishing_twice_is_a_no_op(demo_run, tmp_path, capsys):
    results = tmp_path / "results"
    assert cli("publish", str(demo_run), "--results-dir", str(results)) == 0
    assert cli("publish", str(demo_run), "--results-dir", str(results)) == 0
    out = capsys.readouterr().out
    assert "published" in out and "nothing to do" in out
    assert len(list(results.rglob("run.json"))) == 1


def test_changed_copy_needs_replace(bench_run, card, tmp_path):
    results = tmp_path / "results"
    publish_run(bench_run, results, card)
    (bench_run / "samples-berst-asr.jsonl").write_text("")
    with pytest.raises(PublishError, match="--replace"):
        publish_run(bench_run, results)
    assert publish_run(bench_run, results, replace=True).action == "replaced"


@pytest.mark.parametrize("status", ["started", "error", "cancelled"])
def test_unfinished_or_failed_runs_are_refused(bench_run, tmp_path, status):
    run = json.loads((bench_run / "run.json").read_text())
    run["status"] = status
    (bench_run / "run.json").write_text(json.dumps(run))
    with pytest.raises(PublishError, match=f"status '{status}'"):
        publish_run(bench_run, tmp_path / "results")
    assert not (tmp_path / "results").exists()


def test_invalid_schema_is_refused(bench_run, tmp_path):
    run = json.loads((bench_run / "run.json").read_text())
    run["unexpected"] = 1
    (bench_run / "run.json").write_text(json.dumps(run))
    with pytest.raises(VoxevalError, match="is not a valid run: unexpected: Extra inputs"):
        publish_run(bench_run, tmp_path / "results")


def test_missing_samples_file_is_refused(bench_run, tmp_path):
    (bench_run / "samples-berst-asr.jsonl").unlink()
    with pytest.raises(PublishError, match=r"samples-berst-asr\.jsonl"):
        publish_run(bench_run, tmp_path / "results")


@pytest.mark.parametrize(
    "secret",
    [
        "sk-proj-abcdefghijklmnopqrstuvwx",
        "hf_abcdefghijklmnopqrstuvwxyz12",
        "Bearer abcdefghijklmnop.qrstu",
    ],
)
def test_secret_in_a_copied_file_is_refused_and_the_file_named(bench_run, tmp_path, secret):
    samples = bench_run / "samples-berst-asr.jsonl"
    lines = samples.read_text().splitlines()
    lines[2] = lines[2].replace("borrowed", f"borrowed {secret}")
    samples.write_text("\n".join(lines) + "\n")
    with pytest.raises(PublishError) as info:
        publish_run(bench_run, tmp_path / "results")
    assert "samples-berst-asr.jsonl line 3" in str(info.value)
    assert secret not in str(info.value)
    assert not (tmp_path / "results").exists()


def test_value_of_a_secret_env_var_is_refused(bench_run, tmp_path, monkeypatch):
    monkeypatch.setenv("MY_SERVICE_TOKEN", "s3cr3t-value-42")
    row = {"sample_id": "s000", "score": 5, "ratings": [5], "replies": ["s3cr3t-value-42"]}
    (bench_run / "judge-berst-asr.jsonl").write_text(json.dumps(row) + "\n")
    with pytest.raises(PublishError, match=r"judge-berst-asr\.jsonl line 1.*MY_SERVICE_TOKEN"):
        publish_run(bench_run, tmp_path / "results")


def test_judge_file_and_card_are_copied(bench_run, tmp_path):
    row = {"sample_id": "s000", "score": 5, "ratings": [5], "replies": ["Rating: [[5]]"]}
    (bench_run / "judge-berst-asr.jsonl").write_text(json.dumps(row) + "\n")
    card = tmp_path / "full-card.json"
    card.write_text(
        json.dumps(
            {
                "display_name": "GPT X",
                "license": "proprietary",
                "open_weights": False,
                "architecture": "end-to-end",
                "parameters": "7B",
                "url": "https://example.org",
            }
        )
    )
    outcome = publish_run(bench_run, tmp_path / "results", card)
    stored = json.loads((outcome.dest / "card.json").read_text())
    assert stored["licence"] == "proprietary" and stored["display_name"] == "GPT X"
    assert (outcome.dest / "judge-berst-asr.jsonl").is_file()
    assert publish_run(bench_run, tmp_path / "results", card).action == "unchanged"
    assert publish_run(bench_run, tmp_path / "results").action == "unchanged"  # card kept


@pytest.mark.parametrize(
    "bad",
    [
        {"architecture": "hybrid"},
        {"colour": "red"},
        {"parameters": "lots"},
        {"url": "javascript:alert(1)"},
    ],
)
def test_invalid_card_is_refused(bench_run, tmp_path, bad):
    card = tmp_path / "bad-card.json"
    card.write_text(json.dumps(bad))
    with pytest.raises(PublishError, match="Model card"):
        publish_run(bench_run, tmp_path / "results", card)


def test_leaderboard_command_is_local_and_telemetry_free(tmp_path):
    command = publish.streamlit_command(tmp_path, 8765, "127.0.0.1")
    assert command[:4] == [sys.executable, "-m", "streamlit", "run"]
    assert Path(command[4]).name == "app.py" and Path(command[4]).is_file()
    joined = " ".join(command)
    assert "--browser.gatherUsageStats false" in joined and "--server.headless true" in joined
    assert "--server.address 127.0.0.1" in joined and "--server.port 8765" in joined
    assert command[-2:] == ["--results-dir", str(tmp_path.resolve())]


def test_leaderboard_needs_a_results_folder(tmp_path):
    with pytest.raises(VoxevalError, match="No results folder"):
        cli("leaderboard", "--results-dir", str(tmp_path / "missing"))


def test_cli_help_does_not_import_streamlit_or_pandas():
    code = (
        "import argparse, sys\n"
        "from voxeval.cli import build_parser\n"
        "from voxeval.publish import add_leaderboard_commands\n"
        "parser = build_parser()\n"
        "add_leaderboard_commands(argparse.ArgumentParser().add_subparsers())\n"
        "heavy = {'streamlit', 'pandas', 'altair', 'pyarrow'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# -- hostile run folders: publish stays inside results/ ---------------------------------------


def edit_run(run_dir: Path, **changes) -> None:
    path = run_dir / "run.json"
    run = json.loads(path.read_text())
    run.update(changes)
    path.write_text(json.dumps(run))


def files_under(root: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in root.rglob("*") if p.is_file() and not p.is_symlink()}


@pytest.mark.parametrize("run_id", ["../../../x", "..", "a/b", "/tmp/x", ".hidden"])
def test_a_run_id_that_is_not_a_bare_name_is_refused(bench_run, tmp_path, run_id):
    edit_run(bench_run, run_id=run_id)
    with pytest.raises(VoxevalError, match="run_id"):
        publish_run(bench_run, tmp_path / "results")
    assert not (tmp_path / "results").exists() and not (tmp_path / "x").exists()


@pytest.mark.parametrize("name", ["samples-berst-asr.jsonl", "judge-berst-asr.jsonl"])
def test_symlinked_samples_or_judge_files_are_refused(bench_run, tmp_path, name):
    secret = tmp_path / "private.jsonl"
    secret.write_text(json.dumps({"password": "hunter2"}) + "\n")
    (bench_run / name).unlink(missing_ok=True)
    (bench_run / name).symlink_to(secret)
    with pytest.raises(VoxevalError, match="symbolic link"):
        publish_run(bench_run, tmp_path / "results")
    assert "hunter2" not in "".join(
        p.read_text() for p in (tmp_path / "results").rglob("*") if p.is_file()
    )


def test_replace_through_a_symlinked_model_folder_touches_nothing_outside(
    bench_run, card, tmp_path
):
    results = tmp_path / "results"
    first = publish_run(bench_run, results, card)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / first.dest.name).mkdir()
    (outside / first.dest.name / "keep.txt").write_text("mine")
    model_dir = first.dest.parent
    shutil.rmtree(model_dir)
    model_dir.symlink_to(outside, target_is_directory=True)
    before = files_under(outside)
    with pytest.raises(PublishError, match="symbolic link"):
        publish_run(bench_run, results, replace=True)
    assert files_under(outside) == before


@pytest.mark.parametrize(
    ("metric", "message"),
    [
        ({"value": "NaN"}, "finite"),
        ({"value": "Infinity"}, "finite"),
        ({"value": "-Infinity"}, "finite"),
        ({"value": -0.2}, "range"),
        ({"n": "1" + "0" * 400}, "out of range"),
    ],
)
def test_impossible_numbers_are_refused(bench_run, tmp_path, metric, message):
    path = bench_run / "run.json"
    run = json.loads(path.read_text())
    wer = run["tasks"]["berst-asr"]["metrics"]["wer"]
    placeholders = {}
    for key, value in metric.items():
        if isinstance(value, str):  # a JSON literal json.dumps would not write
            placeholders[f'"@{key}@"'] = value
            wer[key] = f"@{key}@"
        else:
            wer[key] = value
    text = json.dumps(run)
    for placeholder, literal in placeholders.items():
        text = text.replace(placeholder, literal)
    path.write_text(text)
    with pytest.raises(VoxevalError, match=message):
        publish_run(bench_run, tmp_path / "results")
    assert not (tmp_path / "results").exists()


def test_a_schema_version_from_the_future_is_refused(bench_run, tmp_path):
    edit_run(bench_run, schema_version=999)
    with pytest.raises(VoxevalError, match=r"schema_version 999 .* reads 1, 2"):
        publish_run(bench_run, tmp_path / "results")


def test_url_credentials_and_the_runs_own_key_are_refused(bench_run, tmp_path, monkeypatch):
    samples = bench_run / "samples-berst-asr.jsonl"
    original = samples.read_text()
    samples.write_text(original.replace("borrowed", "see http://bob:hunter22@example.org/v1"))
    with pytest.raises(PublishError, match="password in a URL"):
        publish_run(bench_run, tmp_path / "results")
    # A key in a variable with an unremarkable name: found because the run names it.
    monkeypatch.setenv("LLM_CRED", "plain-looking-credential-77")
    edit_run(bench_run, model={**json.loads((bench_run / "run.json").read_text())["model"],
                               "args": {"model": "gpt-x", "api_key_env": "LLM_CRED"}})  # fmt: skip
    samples.write_text(original.replace("borrowed", "plain-looking-credential-77"))
    with pytest.raises(PublishError, match="environment variable LLM_CRED"):
        publish_run(bench_run, tmp_path / "results")


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_stops_the_leaderboard_server_and_leaves_nothing_serving(tmp_path):
    import signal
    import socket
    import time
    import urllib.request

    (tmp_path / "results").mkdir()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    voxeval = Path(sys.executable).with_name("voxeval")
    command = [str(voxeval), "leaderboard", "--results-dir", str(tmp_path / "results")]
    log = (tmp_path / "log.txt").open("w")
    proc = subprocess.Popen([*command, "--port", str(port)], stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}/_stcore/health"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, (tmp_path / "log.txt").read_text()
            assert time.monotonic() < deadline, "the server did not come up in 90 s"
            try:
                with urllib.request.urlopen(url, timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)  # what docker stop and systemd send
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    with socket.socket() as check, pytest.raises(OSError):
        check.settimeout(2)
        check.connect(("127.0.0.1", port))  # nothing serves on the port any more
