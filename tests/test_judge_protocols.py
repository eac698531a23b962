"""Judge protocols: SD-Eval's official mode, parse rules, a user's prompt file, provenance."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.fake_openai import FakeOpenAI, user_text
from tests.sd_eval_fixture import build_sd_eval
from voxeval.errors import VoxevalError
from voxeval.judge import JudgeConfig
from voxeval.plan import RunConfig
from voxeval.prompt_file import PromptFileError, rubric_from_file
from voxeval.results import open_run
from voxeval.rubrics import RUBRICS, parse_rating
from voxeval.runner import run_evaluation
from voxeval.tasks.sd_eval import SUBSETS

GOLDEN = Path(__file__).parent / "golden" / "sd_eval_official_prompts.json"
TASK_OF = {task.subset: task.name for task in SUBSETS}


@pytest.fixture(scope="module")
def sd_eval_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sd-eval")
    build_sd_eval(root)
    return root


def judged_run(tmp_path: Path, data: Path, server: FakeOpenAI, tasks: list[str], **args):
    judge = JudgeConfig("openai", {"model": "judge", "base_url": server.base_url, **args})
    config = RunConfig(model="echo", tasks=tasks, data_dir=data, output_dir=tmp_path, judge=judge)
    return run_evaluation(config)


def first_prompt_per_subset(server: FakeOpenAI) -> dict[str, dict[str, str]]:
    """The (system, user) messages of the first request the judge sent for each subset."""
    out: dict[str, dict[str, str]] = {}
    for seen in server.seen:
        system = next(m["content"] for m in seen.body["messages"] if m["role"] == "system")
        user = user_text(seen.body)
        subset = next(s for s, word in SUBSET_WORDS.items() if f"[User's {word}]" in user)
        out.setdefault(subset, {"system": system, "user": user})
    return out


SUBSET_WORDS = {
    "test-emo": "Emotion",
    "test-acc": "Accent",
    "test-age": "Age",
    "test-env": "Background Sound",
}


def test_official_mode_sends_the_protocol_prompt_for_each_subset(sd_eval_dir, tmp_path):
    with FakeOpenAI(reply=lambda body: "Fits the user. Rating: [[8]]") as server:
        _, run_dir = judged_run(tmp_path, sd_eval_dir, server, ["sd-eval"], protocol="official")
    sent = first_prompt_per_subset(server)
    assert sent == json.loads(GOLDEN.read_text())
    body = server.seen[0].body
    assert body["seed"] == 1337 and body["temperature"] == 0  # the official settings
    assert "<<<RESPONSE" not in json.dumps(body)  # the official protocol has no fence
    assert "[User's Emotion]\nSad\n" in sent["test-emo"]["user"]  # label in title case
    tasks = json.loads((run_dir / "run.json").read_text())["tasks"]
    for subset, name in TASK_OF.items():
        params = tasks[name]["metrics"]["judge"]["params"]
        aspect = name.removeprefix("sd-eval-")
        assert params["protocol"] == "official" and params["parse"] == "sd-eval"
        assert params["rubric"].startswith("sd-eval-official-"), (subset, aspect)
        assert tasks[name]["metrics"]["judge"]["value"] == 8.0


def test_every_judge_row_carries_its_provenance(sd_eval_dir, tmp_path):
    with FakeOpenAI(reply=lambda body: "Rating: [[6]]") as server:
        _, run_dir = judged_run(tmp_path, sd_eval_dir, server, ["sd-eval-emo"], temperature=0.3)
    rubric = RUBRICS.get("sd-eval-emotion")
    rows = open_run(run_dir).judge_rows("sd-eval-emo")  # the strict reader accepts them
    assert not rows.bad and len(rows.latest) == 3
    for row in rows.latest.values():
        assert row["served_models"] == ["judge"]  # the model the server says answered
        assert row["judge"] == {
            "model": "judge",
            "revision": None,
            "seed": 1337,
            "temperature": 0.3,  # the user's override wins over the default 0
            "protocol": "voxeval",
            "rubric": "sd-eval-emotion",
            "rubric_version": rubric.version,
            "prompt_hash": rubric.prompt_hash,
            "parse": "agree",
        }
    assert server.seen[0].body["temperature"] == 0.3


@pytest.mark.parametrize(
    ("reply", "voxeval", "official"),
    [
        ("Good. Rating: [[7]]", 7, 7),
        ("Rating: 10", 10, 1),  # the official script reads one character after "Rating: "
        ("Rating: [[3]] on reflection Rating: [[6]]", None, 3),  # two verdicts
        ("A fair reply [8]", None, 8),  # single brackets count only officially
        ("Rating: [[11]]", None, None),  # outside 1-10: unparseable in both
        ("Rating: [[0]]", None, None),
        ("Rating: [[7.5]]", 7.5, 7.5),
        ("8 points, no format", None, 8),  # no "Rating: ": the reply's first character
        ("Rating: [[٧]]", None, None),  # not an ASCII digit
        ("", None, None),
        ("Rating: ", None, None),
        ("[[4]] then [5]", 4, 4),
        ("[7] then [[5]]", 5, 5),  # double brackets are looked for first
    ],
)
def test_parse_modes_on_tricky_replies(reply, voxeval, official):
    assert parse_rating(reply, (1, 10), "agree") == voxeval
    assert parse_rating(reply, (1, 10), "sd-eval") == official


def test_parse_rule_can_be_chosen_and_is_recorded(sd_eval_dir, tmp_path):
    with FakeOpenAI(reply=lambda body: "Rating: [[3]] no, Rating: [[6]]") as server:
        _, run_dir = judged_run(tmp_path, sd_eval_dir, server, ["sd-eval-emo"], parse="last")
    judged = json.loads((run_dir / "run.json").read_text())["tasks"]["sd-eval-emo"]
    assert judged["metrics"]["judge"]["value"] == 6.0
    assert judged["metrics"]["judge"]["params"]["parse"] == "last"


SDEVAL_STYLE = '''
open("EXECUTED", "w").write("a prompt file must never run")
emo_user = """<<statement>> {statement}
<<feeling>> {info}
<<reply>> {response}
"""
emo_sys = "Test judge for the emotion subset. Say Rating: [[n]]."
age_user = "{statement} / {info} / {response}"
age_sys = "Test judge for the age subset."
prompts = {
    "test-emo": {"user_input": emo_user, "sys": emo_sys},
    "test-age": {"user_input": age_user, "sys": age_sys},
}
'''


def test_a_users_python_prompt_file_is_read_not_run(sd_eval_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    prompts = tmp_path / "prompts.py"
    prompts.write_text(SDEVAL_STYLE)
    args = {"protocol": "official", "prompt_file": str(prompts)}
    with FakeOpenAI(reply=lambda body: "Rating: [[5]]") as server:
        _, run_dir = judged_run(tmp_path, sd_eval_dir, server, ["sd-eval-emo"], **args)
    assert not (tmp_path / "EXECUTED").exists()
    body = server.seen[0].body
    assert body["messages"][0]["content"] == "Test judge for the emotion subset. Say Rating: [[n]]."
    assert "<<feeling>> Sad\n" in user_text(body)  # {info} is the label, title-cased officially
    params = json.loads((run_dir / "run.json").read_text())["tasks"]["sd-eval-emo"]
    params = params["metrics"]["judge"]["params"]
    assert params["rubric"] == "sd-eval-official-emotion+file"
    assert params["rubric_version"].startswith("file:prompts.py:sha256:")
    assert params["parse"] == "sd-eval"


def test_json_and_yaml_prompt_files(tmp_path):
    base = RUBRICS.get("sd-eval-emotion")
    flat = tmp_path / "p.json"
    flat.write_text(json.dumps({"system": "S", "user": "{statement}|{label}|{response}"}))
    keyed = tmp_path / "p.yaml"
    keyed.write_text("test-emo:\n  sys: S2\n  user_input: '{info}: {response}'\n")
    one = rubric_from_file(flat, "test-emo", base)
    two = rubric_from_file(keyed, "test-emo", base)
    item = {"statement": "hi", "label": "sad", "response": "ok"}
    assert one.render(item) == ("S", "hi|sad|ok")
    assert two.render(item) == ("S2", "sad: ok")
    assert one.prompt_hash != two.prompt_hash != base.prompt_hash


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("a.json", '{"system": "S", "user": "{statement} {mood} {response}"}', "mood"),
        ("b.json", '{"system": "S", "user": "{statement} only"}', "no {response}"),
        ("c.json", '{"test-age": {"system": "S", "user": "{response}"}}', "no prompt for"),
        ("d.txt", "hello", "use a .py, .json"),
        ("e.json", '{"system": "S", "user": "{response.__class__}"}', "unknown placeholder"),
        ("f.json", '{"system": "S", "user": "{response"}', "braces do not parse"),
        ("g.py", "prompts = (", "does not parse"),
    ],
)
def test_prompt_file_errors_name_the_file_and_the_fix(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(PromptFileError, match=message) as caught:
        rubric_from_file(path, "test-emo", RUBRICS.get("sd-eval-emotion"))
    assert str(path) in str(caught.value)


def test_prompt_file_symlink_and_missing(tmp_path):
    real = tmp_path / "real.json"
    real.write_text('{"system": "S", "user": "{response}"}')
    link = tmp_path / "link.json"
    os.symlink(real, link)
    base = RUBRICS.get("sd-eval-emotion")
    with pytest.raises(PromptFileError, match="symbolic link"):
        rubric_from_file(link, "test-emo", base)
    with pytest.raises(PromptFileError, match="does not exist"):
        rubric_from_file(tmp_path / "none.json", "test-emo", base)


def test_judge_arg_errors():
    with pytest.raises(VoxevalError, match="Bad --judge-args: parse"):
        JudgeConfig("openai", {"model": "m", "parse": "median"})
    config = JudgeConfig("openai", {"model": "m", "protocol": "mtbench"})
    with pytest.raises(VoxevalError, match=r"no judge protocol 'mtbench'.*voxeval, official"):
        config.rubric_for(SUBSETS[0])


def test_defaults_only_for_judges_that_take_them():
    assert JudgeConfig("openai", {"model": "m"}).sampling() == {"seed": 1337, "temperature": 0.0}
    given = JudgeConfig("openai", {"model": "m", "seed": "7"})
    assert given.sampling()["seed"] == "7" and "protocol" not in given.args
    assert JudgeConfig("echo", {}).args == {}  # echo has neither setting
