"""The example third-party plugin (tests/example_plugin), installed and used via entry points.

The plugin is pip-installed with `--target` into a temporary folder and put on PYTHONPATH of
`voxeval` subprocesses, so it is discovered exactly as an installed package would be, while
the test environment itself stays clean.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run_folders
from tests.plugin_site import PLUGIN_SRC, pip_install, plugin_env, voxeval, write_package

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the example plugin installed in it."""
    work = tmp_path_factory.mktemp("example-plugin")
    return pip_install(PLUGIN_SRC, work / "site", work)


def list_models(env: dict[str, str]) -> dict[str, dict]:
    out = voxeval("list", "models", "--json", env=env)
    assert out.returncode == 0, out.stderr
    return {row["name"]: row for row in json.loads(out.stdout)}


def test_entry_point_registers_the_adapter(site: Path) -> None:
    models = list_models(plugin_env(site))
    assert "example-counter" in models
    assert models["example-counter"]["plugin"] == "example"
    assert models["example-counter"]["supports"] == "asr"
    # The built-ins are still there.
    assert {"pocketsphinx", "faster-whisper"} <= set(models)


def test_plugin_selection_by_env(site: Path) -> None:
    assert "example-counter" not in list_models(plugin_env(site, plugins=""))
    assert "example-counter" in list_models(plugin_env(site, plugins="example"))
    # A name that matches no installed entry point is an error, not a silent "load nothing".
    assert voxeval("list", "models", env=plugin_env(site, plugins="someone-else")).returncode == 1


def test_run_with_plugin_model(site: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "runs"
    env = plugin_env(site)
    args = ["--model", "example-counter", "--tasks", "demo-asr", "--limit", "3"]
    proc = voxeval("run", *args, "--output-dir", str(out_dir), env=env)
    assert proc.returncode == 0, proc.stderr

    (run_dir,) = run_folders(out_dir / "example-counter")
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "success"
    assert run["model"]["name"] == "example-counter"
    assert run["model"]["adapter"] == "CounterAdapter"
    assert run["model"]["adapter_plugin"] == "example"
    task = run["tasks"]["demo-asr"]
    assert task["dataset"]["n"] == 3
    assert task["n_errors"] == 0
    lines = (run_dir / task["samples_file"]).read_text().splitlines()
    assert len(lines) == 3
    records = [json.loads(line) for line in lines]
    assert all(r["prediction"]["text"].startswith("the") for r in records)


def test_misspelt_plugin_model_suggests_the_right_name(site: Path, tmp_path: Path) -> None:
    proc = voxeval(
        "run",
        *("--model", "example-countr", "--tasks", "demo-asr", "--limit", "1"),
        *("--output-dir", str(tmp_path / "runs")),
        env=plugin_env(site),
    )
    assert proc.returncode == 1
    assert "Did you mean 'example-counter'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unknown_model_arg_is_rejected(site: Path, tmp_path: Path) -> None:
    proc = voxeval(
        "run",
        *("--model", "example-counter", "--model-args", "dealy_s=1", "--tasks", "demo-asr"),
        *("--output-dir", str(tmp_path / "runs")),
        env=plugin_env(site),
    )
    assert proc.returncode == 1
    assert "dealy_s" in proc.stderr
    assert "delay_s" in proc.stderr  # the allowed arguments are listed
    assert not (tmp_path / "runs").exists()  # rejected before any folder is made


SECOND_PLUGIN = {
    "pyproject.toml": """\
        [build-system]
        requires = ["setuptools>=69"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "voxeval-example-plugin-two"
        version = "0.1.0"

        [project.entry-points.voxeval]
        example2 = "voxeval_example2"

        [tool.setuptools]
        packages = ["voxeval_example2"]
        """,
    "voxeval_example2/__init__.py": """\
        from voxeval.adapter import Adapter
        from voxeval.hookspecs import hookimpl


        class Clash(Adapter):
            name = "example-counter"
            description = "a second adapter that takes the same name"
            supports = frozenset({"asr"})


        @hookimpl
        def register_adapters(register):
            register(Clash)
        """,
}


def test_duplicate_model_name_across_plugins_is_an_error(site: Path, tmp_path: Path) -> None:
    src = write_package(tmp_path / "plugin2", SECOND_PLUGIN)
    site2 = pip_install(src, tmp_path / "site2", tmp_path)

    proc = voxeval("list", "models", env=plugin_env(site, site2))
    assert proc.returncode == 1, proc.stdout
    assert "'example-counter' is registered twice" in proc.stderr
    assert "'example'" in proc.stderr
    assert "'example2'" in proc.stderr
    assert "Traceback" not in proc.stderr

    # Selecting one of the two plugins resolves the clash.
    for chosen in ("example", "example2"):
        models = list_models(plugin_env(site, site2, plugins=chosen))
        assert models["example-counter"]["plugin"] == chosen


BROKEN_PLUGIN = {
    "pyproject.toml": """\
        [build-system]
        requires = ["setuptools>=69"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "voxeval-broken-plugin"
        version = "0.1.0"

        [project.entry-points.voxeval]
        broken = "voxeval_broken"
        alias = "voxeval_example"

        [tool.setuptools]
        packages = ["voxeval_broken"]
        """,
    "voxeval_broken/__init__.py": "import a_dependency_that_is_not_installed\n",
}


def test_broken_or_aliased_plugins_give_clear_errors(site: Path, tmp_path: Path) -> None:
    src = write_package(tmp_path / "broken", BROKEN_PLUGIN)
    site2 = pip_install(src, tmp_path / "site2", tmp_path)

    proc = voxeval("list", "models", env=plugin_env(site, site2, plugins="broken"))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "Plugin 'broken' (from voxeval-broken-plugin" in proc.stderr
    assert "a_dependency_that_is_not_installed" in proc.stderr

    proc = voxeval("list", "models", env=plugin_env(site, site2, plugins="example,alias"))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "Two entry points load the same module" in proc.stderr

    proc = voxeval("list", "models", env=plugin_env(site, plugins="exampel"))
    assert proc.returncode == 1
    assert "VOXEVAL_PLUGINS names 'exampel'" in proc.stderr and "Installed: example" in proc.stderr
