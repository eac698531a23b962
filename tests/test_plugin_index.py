"""Built-ins load lazily: the index is current, a lookup imports one module, nothing is lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from voxeval import plugins
from voxeval.builtin_index import BUILTIN_INDEX
from voxeval.hookspecs import hookimpl
from voxeval.metrics import METRICS
from voxeval.plugins import UnknownNameError, get_plugin_manager
from voxeval.task import TASKS


def test_the_committed_index_matches_what_the_built_ins_register():
    assert plugins.builtin_index() == BUILTIN_INDEX, (
        "harness/builtin_index.py is stale: run `.venv/bin/python scripts/write_builtin_index.py`"
    )


def test_built_ins_implement_only_registry_hooks():
    # Another hook would not be called until something happened to load its module.
    plugins.load_builtins()
    pm = get_plugin_manager()
    for name in plugins.BUILTIN_MODULES:
        hooks = {h.name for h in pm.get_hookcallers(pm.get_plugin(name)) or []}
        assert hooks <= set(plugins.REGISTRY_HOOKS), (name, hooks)


def _in_fresh_process(code: str) -> dict:
    env = {**os.environ, "VOXEVAL_PLUGINS": ""}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_lookup_imports_only_the_module_that_registers_the_name():
    found = _in_fresh_process(
        "import json, sys\n"
        "from voxeval.task import TASKS\n"
        "from voxeval.adapter import ADAPTERS\n"
        "from voxeval.metrics import METRICS\n"
        "TASKS.get('demo-asr'); ADAPTERS.get('echo'); METRICS.get('wer')\n"
        "print(json.dumps(sorted(m for m in sys.modules"
        " if m.startswith(('voxeval.tasks.', 'voxeval.adapters.', 'voxeval.metrics.')))))"
    )
    assert "voxeval.tasks.demo_asr" in found and "voxeval.adapters.baselines" in found
    assert "voxeval.metrics.builtin" in found
    for unused in ("voxeval.tasks.sd_eval", "voxeval.adapters.transformers_adapters"):
        assert unused not in found


def test_listing_a_kind_loads_every_built_in():
    names = _in_fresh_process(
        "import json\nfrom voxeval.task import TASKS\nprint(json.dumps(sorted(TASKS.items())))"
    )
    assert names == sorted(BUILTIN_INDEX["register_tasks"])


def test_a_stale_index_still_finds_every_name(monkeypatch):
    monkeypatch.setattr(plugins, "BUILTIN_INDEX", {})
    assert TASKS.get("sd-eval-emo").name == "sd-eval-emo"
    with pytest.raises(UnknownNameError, match="Did you mean 'sd-eval-emo'"):
        TASKS.get("sd-eval-em")


def test_a_plugin_that_takes_a_built_in_name_clashes_before_the_built_in_is_loaded():
    # In a fresh process metrics.text (bleu) is not loaded when `wer` is looked up.
    found = _in_fresh_process(
        "import json\n"
        "from voxeval.hookspecs import hookimpl\n"
        "from voxeval.plugins import get_plugin_manager, DuplicateNameError\n"
        "from voxeval.metrics import METRICS\n"
        "from voxeval.metrics.wer import WordErrorRate\n"
        "class Bleu(WordErrorRate):\n    name = 'bleu'\n"
        "class P:\n"
        "    @hookimpl\n"
        "    def register_metrics(self, register):\n        register(Bleu())\n"
        "get_plugin_manager().register(P(), name='squatter')\n"
        "try:\n    METRICS.get('wer'); print(json.dumps('no error'))\n"
        "except DuplicateNameError as exc:\n    print(json.dumps(str(exc)))"
    )
    assert "'bleu' is registered twice" in found and "squatter" in found


def test_owners_order_puts_built_ins_first_whatever_loaded_first():
    class Late:
        @hookimpl
        def register_metrics(self, register):
            from voxeval.metrics.wer import WordErrorRate

            class Other(WordErrorRate):
                name = "zz_other_metric"

            register(Other())

    pm = get_plugin_manager()
    late = Late()
    pm.register(late, name="late-plugin")
    try:
        owners = list(METRICS.owners().values())
        assert owners[-1] == "late-plugin"
        assert set(owners[:-1]) <= set(plugins.BUILTIN_MODULES)
    finally:
        pm.unregister(late)
