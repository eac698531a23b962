"""--executor ray: a suite's models × tasks on a local Ray cluster that the tests start.

Two models × two tasks, several shards each: the merged runs equal the one-process runs
record for record, and a worker killed mid-batch is restarted by Ray, its batch retried,
no sample saved twice.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.ray_helpers import DeterministicAdapter
from voxeval.errors import VoxevalError
from voxeval.hookspecs import hookimpl
from voxeval.plugins import get_plugin_manager
from voxeval.results import read_run
from voxeval.runner import run_evaluation
from voxeval.suite import load_suite, run_configs, validate_suite

ray = pytest.importorskip("ray")
REPO = Path(__file__).resolve().parents[1]
TASKS = ["demo-asr", "demo-dialogue"]
TIMING = ("model_s",)  # how long, not what: differs between any two runs


class _Plugin:
    @hookimpl
    def register_adapters(self, register: Callable[..., None]) -> None:
        register(DeterministicAdapter)


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    """A two-CPU local Ray cluster whose workers can import this repo's tests package."""
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": str(REPO), "VOXEVAL_PLUGINS": ""}},
    )
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture
def deterministic() -> Iterator[None]:
    """The test adapter, registered in this (driver) process for the test."""
    pm = get_plugin_manager()
    plugin = _Plugin()
    pm.register(plugin, name="tests.ray_helpers")
    try:
        yield
    finally:
        pm.unregister(plugin)


def suite(out: Path, executor: str, **extra: object) -> dict[str, object]:
    return {
        "models": [
            {"name": "deterministic", "args": {"flavour": "a", "batch_size": 2}},
            {"name": "deterministic", "args": {"flavour": "b", "batch_size": 3}},
        ],
        "tasks": TASKS,
        "limit": 10,
        "output_dir": str(out),
        "executor": executor,
        **extra,
    }


def run_suite(data: dict[str, object]) -> list[Path]:
    return [run_evaluation(config)[1] for config in run_configs(validate_suite(data, "test"))]


def records(run_dir: Path, task: str) -> dict[str, dict]:
    out = {}
    for line in (run_dir / f"samples-{task}.jsonl").read_text().splitlines():
        record = json.loads(line)
        assert record["sample_id"] not in out, f"{record['sample_id']} saved twice"
        out[record["sample_id"]] = {k: v for k, v in record.items() if k not in TIMING}
    return out


@pytest.mark.slow
def test_a_suite_on_ray_equals_the_one_process_run(cluster, deterministic, tmp_path):
    local = run_suite(suite(tmp_path / "local", "local"))
    spread = {"shards": 4}  # 4 workers of half a CPU each on the 2-CPU cluster
    data = suite(tmp_path / "ray", "ray", **spread)
    for model in data["models"]:
        model["resources"] = {"num_cpus": 0.5}
    on_ray = run_suite(data)
    assert len(local) == len(on_ray) == 2
    for one, spread in zip(local, on_ray, strict=True):
        a, b = read_run(one), read_run(spread)
        assert a.fingerprint == b.fingerprint  # the same evaluation, wherever it ran
        assert b.status == "success" and b.model.info["executor"] == "ray"
        assert b.model.info["workers"] == 4
        assert b.model.info["resources_per_worker"] == {"num_cpus": 0.5, "num_gpus": 0.0}
        for task in TASKS:
            assert records(one, task) == records(spread, task)
            assert a.tasks[task].n_samples == b.tasks[task].n_samples == 10
            for name, metric in a.tasks[task].metrics.items():
                assert metric.value == b.tasks[task].metrics[name].value, (task, name)


@pytest.mark.slow
def test_a_worker_killed_mid_batch_is_retried_and_nothing_is_saved_twice(
    cluster, deterministic, tmp_path
):
    marker, calls = tmp_path / "died", tmp_path / "calls.txt"
    args = {
        "flavour": "a",
        "batch_size": 2,
        "die_at": "demo-005",
        "marker": str(marker),
        "calls_log": str(calls),
    }
    data = suite(tmp_path / "ray", "ray", shards=2)
    data["models"] = [{"name": "deterministic", "args": args}]
    data["tasks"] = ["demo-asr"]
    (run_dir,) = run_suite(data)
    assert marker.exists(), "the worker should have died once"
    assert int(marker.read_text()) != os.getpid()  # a worker process, not this one
    saved = records(run_dir, "demo-asr")  # asserts each sample saved once
    assert len(saved) == 10 and all(r["error"] is None for r in saved.values())
    assert read_run(run_dir).status == "success"
    answered = calls.read_text().split()
    assert "demo-005" in answered and set(answered) == set(saved)


def test_ray_keys_are_refused_on_a_local_suite(tmp_path):
    data = suite(tmp_path, "local", ray_address="ray://head:10001")
    data["models"] = [{"name": "echo", "resources": {"num_gpus": 1}}]
    path = tmp_path / "suite.json"
    path.write_text(json.dumps(data))
    with pytest.raises(VoxevalError) as caught:
        load_suite(path)
    text = str(caught.value)
    assert "ray_address" in text and "models[0].resources" in text


def test_without_ray_installed_the_error_says_what_to_install(monkeypatch, tmp_path):
    import builtins

    from voxeval.ray_pool import RayPoolAdapter
    from voxeval.testing import MockAdapter

    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    proxy = RayPoolAdapter(MockAdapter.from_args({}), workers=2)
    with pytest.raises(VoxevalError, match=r"pip install 'voxeval\[ray\]'"):
        proxy.load()


@pytest.mark.slow
def test_workers_the_cluster_cannot_place_are_a_clear_error(cluster, deterministic, tmp_path):
    from voxeval.ray_pool import RayPoolAdapter, RayResources

    proxy = RayPoolAdapter(
        DeterministicAdapter.from_args({}),
        workers=3,
        resources=RayResources(num_cpus=1),
        placement_timeout_s=3,
    )
    with pytest.raises(VoxevalError, match=r"started 2 of 3 workers.*fewer shards"):
        proxy.load()
