"""`voxeval list models NAME` / `list tasks NAME`: an adapter's --model-args, documented."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import ClassVar

import pytest
from pydantic import Field

from voxeval.adapter import ADAPTERS, Adapter, AdapterArgs
from voxeval.cli import main
from voxeval.hookspecs import hookimpl
from voxeval.plugins import BUILTIN_MODULES, get_plugin_manager
from voxeval.task import TASKS


def table_row(out: str, name: str) -> list[str]:
    """The argument-table line of `name`, split on runs of two or more spaces."""
    (line,) = [ln for ln in out.splitlines() if ln.split(" ", 1)[0] == name]
    return re.split(r"\s{2,}", line.strip())


def test_list_models_name_shows_the_argument_table(capsys):
    assert main(["list", "models", "hf-asr"]) == 0
    out = capsys.readouterr().out
    assert "Whisper (generate) or wav2vec2-style CTC" in out  # the adapter's description
    assert "supports     asr" in out
    assert "--model-args" in out
    for arg in ("encoder_batch_size", "max_new_tokens", "num_beams", "model", "batch_size"):
        assert table_row(out, arg)
    name, kind, default, description = table_row(out, "device")
    assert (name, kind, default) == ("device", "auto|cpu|cuda|mps", "auto")
    assert "cuda" in description
    assert table_row(out, "model")[2] == "(required)"
    assert table_row(out, "encoder_batch_size")[1] == "int (>=0, <=100000)"


def test_json_documents_every_argument_of_every_builtin_adapter(capsys):
    owners = ADAPTERS.owners()
    builtin = [*sorted(n for n, owner in owners.items() if owner in BUILTIN_MODULES), "mock"]
    assert {"hf-asr", "faster-whisper", "cascade", "openai", "echo"} <= set(builtin)
    undocumented = []
    for name in builtin:
        assert main(["list", "models", name, "--json"]) == 0
        info = json.loads(capsys.readouterr().out)
        assert info["name"] == name and info["description"] and info["supports"]
        assert info["args"], name  # batch_size at least
        undocumented += [f"{name}.{a['name']}" for a in info["args"] if not a["description"]]
    assert undocumented == [], "add Field(description=...) to these --model-args"


def test_json_documents_every_task_argument(capsys):
    names = sorted(n for n, owner in TASKS.owners().items() if owner in BUILTIN_MODULES)
    assert {"demo-asr", "empathetic-dialogues-spoken", "adv-regression", "berst-asr"} <= set(names)
    undocumented, documented = [], 0
    for name in names:
        assert main(["list", "tasks", name, "--json"]) == 0
        args = json.loads(capsys.readouterr().out).get("args", [])
        documented += sum(bool(a["description"]) for a in args)
        undocumented += [f"{name}.{a['name']}" for a in args if not a["description"]]
    assert documented >= 10
    assert undocumented == [], "add Field(description=...) to these --task-args"


def test_json_has_types_and_defaults(capsys):
    assert main(["list", "models", "faster-whisper", "--json"]) == 0
    args = {a["name"]: a for a in json.loads(capsys.readouterr().out)["args"]}
    assert args["beam_size"] == {
        "name": "beam_size",
        "type": "int (>=1)",
        "default": 1,
        "required": False,
        "description": args["beam_size"]["description"],
    }
    assert args["language"]["default"] == "en"
    assert args["model"]["default"] is None and not args["model"]["required"]


def test_unknown_name_suggests_and_fails(capsys):
    assert main(["list", "models", "hf-asx"]) == 1
    err = capsys.readouterr().err
    assert "Unknown model 'hf-asx'" in err and "Did you mean 'hf-asr'" in err


def test_plain_list_models_keeps_its_columns(capsys):
    assert main(["list", "models"]) == 0
    header = capsys.readouterr().out.splitlines()[0].split()
    assert header == ["name", "supports", "description", "plugin"]
    assert main(["list", "models", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert all(list(row) == ["name", "supports", "description", "plugin"] for row in rows)


def test_list_tasks_name_shows_task_args_and_metrics_name_is_a_usage_error(capsys):
    assert main(["list", "tasks", "berst-ser"]) == 0
    out = capsys.readouterr().out
    assert "--task-args" in out and table_row(out, "split")[:3] == ["split", "str", "test"]
    assert main(["list", "tasks", "demo-dialogue", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["args"] == []
    assert main(["list", "tasks", "demo-asr", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [a["name"] for a in listed["args"]] == ["normalizer", "compounds"]
    assert listed["protocol"].startswith("docs/protocols.md#asr")
    assert main(["list", "tasks", "demo-ars"]) == 1
    assert "Did you mean 'demo-asr'" in capsys.readouterr().err
    assert main(["list", "metrics", "wer"]) == 2
    assert "metrics take no arguments" in capsys.readouterr().err


class BareArgs(AdapterArgs):
    """A third-party Args class without any descriptions."""

    path: str
    tags: list[str] = Field(default_factory=list)


class BareAdapter(Adapter):
    name: ClassVar[str] = "bare-plugin"
    description: ClassVar[str] = "a plugin adapter that documents nothing"
    supports: ClassVar[frozenset] = frozenset({"asr"})
    Args: ClassVar[type[AdapterArgs]] = BareArgs


@pytest.fixture
def bare_plugin():
    class Plugin:
        @hookimpl
        def register_adapters(self, register):
            register(BareAdapter)

    pm = get_plugin_manager()
    plugin = Plugin()
    pm.register(plugin, name="bare-plugin")
    try:
        yield
    finally:
        pm.unregister(plugin)


def test_undocumented_plugin_args_list_with_empty_descriptions(bare_plugin, capsys):
    assert main(["list", "models", "bare-plugin", "--json"]) == 0
    args = {a["name"]: a for a in json.loads(capsys.readouterr().out)["args"]}
    assert args["path"] == {
        "name": "path",
        "type": "str",
        "default": None,
        "required": True,
        "description": "",
    }
    assert args["tags"]["default"] == [] and args["tags"]["type"] == "list[str]"
    assert main(["list", "models", "bare-plugin"]) == 0
    out = capsys.readouterr().out
    assert table_row(out, "path") == ["path", "str", "(required)"]
    assert table_row(out, "tags") == ["tags", "list[str]", "[]"]


def test_list_models_name_does_not_import_heavy_libraries():
    code = (
        "import sys; from voxeval.cli import main\n"
        "assert main(['list', 'models', 'hf-asr']) == 0\n"
        "assert main(['list', 'models', 'faster-whisper', '--json']) == 0\n"
        "heavy = {'torch', 'transformers', 'streamlit', 'faster_whisper', 'ctranslate2'}\n"
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
