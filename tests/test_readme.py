"""The README's code blocks work as written: the plugin example builds with pip and runs, and
every voxeval command line in a shell block (README and the example plugin's) parses."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.plugin_site import pip_install, plugin_env, voxeval
from voxeval.cli import build_parser

FENCE = re.compile(r"```(\w+)\n(.*?)```", re.S)
DOCS = [REPO / "README.md", REPO / "tests" / "example_plugin" / "README.md"]


def blocks(path: Path, language: str) -> list[str]:
    """The code blocks of one language in a Markdown file, in order."""
    return [body for lang, body in FENCE.findall(path.read_text()) if lang == language]


def the_block(language: str, first_line: str) -> str:
    (found,) = [b for b in blocks(REPO / "README.md", language) if b.startswith(first_line)]
    return found


@pytest.mark.slow
def test_the_plugin_example_builds_with_pip_and_runs(tmp_path):
    package = tmp_path / "my-plugin"
    package.mkdir()
    (package / "pyproject.toml").write_text(the_block("toml", "# pyproject.toml of your package"))
    (package / "my_voxeval_plugin.py").write_text(the_block("python", "# my_voxeval_plugin.py"))
    site = pip_install(package, tmp_path / "site", tmp_path)
    env = plugin_env(site, plugins="mymodel")
    listed = voxeval("list", "models", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    assert {"name": "my-asr", "plugin": "mymodel"}.items() <= next(
        row for row in json.loads(listed.stdout) if row["name"] == "my-asr"
    ).items()
    out = tmp_path / "runs"
    args = ["run", "--model", "my-asr", "--model-args", "greeting=the", "--tasks", "demo-asr"]
    done = voxeval(*args, "--limit", "3", "--output-dir", str(out), env=env)
    assert done.returncode == 0, done.stderr
    rows = [
        json.loads(x) for x in next(out.rglob("samples-demo-asr.jsonl")).read_text().splitlines()
    ]
    assert [r["prediction"]["text"] for r in rows] == ["the"] * 3


def shell_commands(path: Path) -> list[list[str]]:
    """voxeval command lines in the shell blocks of a Markdown file (continuations joined)."""
    found = []
    for body in blocks(path, "bash"):
        text = body.replace("\\\n", " ")
        for line in text.splitlines():
            for part in re.split(r"&&|;", line.split("#")[0]):
                words = shlex.split(part)
                if words and Path(words[0]).name == "voxeval":
                    found.append(words[1:])
    return found


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_voxeval_command_in_the_docs_parses(doc):
    commands = shell_commands(doc)
    assert commands, f"{doc} has no voxeval command to check"
    parser = build_parser()
    for words in commands:
        args = parser.parse_args(words)  # a usage error would exit 2 here
        assert args.handler, words
