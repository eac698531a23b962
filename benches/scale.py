"""--executor local vs --executor ray on one machine: the same CPU-bound suite, speed-up printed.

The suite: 2 models × 2 tasks (demo-asr, demo-dialogue), every clip costing --cpu-ms of busy
CPU in the adapter (a model's arithmetic holds its core, as a real model's does; the adapter
is tests/ray_helpers.py's deterministic one, so both executors must save the same answers,
checked). Local runs in this process, one core; ray runs --shards workers per model on a local
Ray cluster started here with every core. Timed: the runs, including the workers' start and
model load (not the cluster's own start, which a real cluster has paid once). The overhead per
unit comes from the same suite with no work per clip, run both ways: what Ray adds, over its
units (one unit = one batch handed to a worker, a shard's share of a task). The driver's own
work (decoding, writing, scoring) is the same on both executors and bounds the speed-up.

    .venv/bin/python benches/scale.py [--cpu-ms 400] [--shards 2] [--limit 30]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("VOXEVAL_PLUGINS", "")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # for tests.ray_helpers

from tests.ray_helpers import DeterministicAdapter  # noqa: E402
from voxeval.hookspecs import hookimpl  # noqa: E402
from voxeval.plugins import get_plugin_manager  # noqa: E402
from voxeval.runner import run_evaluation  # noqa: E402
from voxeval.suite import run_configs, validate_suite  # noqa: E402

SIZES = {"demo-asr": 30, "demo-dialogue": 12}  # bundled clips per task
TASKS = list(SIZES)


class _Plugin:
    @hookimpl
    def register_adapters(self, register):  # type: ignore[no-untyped-def]
        register(DeterministicAdapter)


def suite(out: Path, executor: str, args: argparse.Namespace, cpu_ms: float) -> dict:
    """Two models (two answer flavours) × two tasks."""
    models = [
        {
            "name": "deterministic",
            "args": {"flavour": flavour, "seconds_per_clip": cpu_ms / 1000, "batch_size": 2},
        }
        for flavour in ("a", "b")
    ]
    data = {"models": models, "tasks": TASKS, "limit": args.limit, "output_dir": str(out)}
    if executor == "ray":
        data |= {"executor": "ray", "shards": args.shards}
    return data


def timed(data: dict) -> tuple[float, list[Path]]:
    """Wall seconds for every model's run, and the run folders."""
    start = time.perf_counter()
    dirs = [run_evaluation(config)[1] for config in run_configs(validate_suite(data, "bench"))]
    return time.perf_counter() - start, dirs


def answers(run_dir: Path) -> dict[str, str]:
    """sample id → answer text, every task of a run."""
    out = {}
    for task in TASKS:
        for line in (run_dir / f"samples-{task}.jsonl").read_text().splitlines():
            record = json.loads(line)
            out[f"{task}/{record['sample_id']}"] = record["prediction"].get("text")
    return out


def main() -> None:
    """Time local and ray on the same suite; print the speed-up and the overhead per unit."""
    import ray

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu-ms", type=float, default=400.0, help="busy CPU per clip")
    parser.add_argument("--shards", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--limit", type=int, default=30, help="samples per task (<= 30)")
    args = parser.parse_args()
    get_plugin_manager().register(_Plugin(), name="bench.deterministic")
    ray.init(
        num_cpus=os.cpu_count(),
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": str(REPO), "VOXEVAL_PLUGINS": ""}},
    )
    clips = 2 * sum(min(args.limit, n) for n in SIZES.values())
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        # Warm what a process loads once (WordNet for METEOR) so no timed run pays it; the
        # first Ray run starts the workers, which later models and runs reuse.
        timed(suite(root / "warm-up", "local", args, 0.0))
        empty_local_s, _ = timed(suite(root / "empty-local", "local", args, 0.0))
        empty_s, _ = timed(suite(root / "empty-ray", "ray", args, 0.0))
        local_s, local_dirs = timed(suite(root / "local", "local", args, args.cpu_ms))
        ray_s, ray_dirs = timed(suite(root / "ray", "ray", args, args.cpu_ms))
        same = all(answers(a) == answers(b) for a, b in zip(local_dirs, ray_dirs, strict=True))
    ray.shutdown()
    units = 2 * sum(-(-min(args.limit, n) // 2) for n in SIZES.values())  # batches of 2
    print(
        f"{clips} clips (2 models x {', '.join(TASKS)}, limit {args.limit}), {args.cpu_ms:g} ms of "
        f"CPU each; {os.cpu_count()} CPUs; ray: {args.shards} workers per model"
    )
    print(f"  local  {local_s:7.2f} s   ({1000 * local_s / clips:.1f} ms per clip)")
    print(f"  ray    {ray_s:7.2f} s   ({1000 * ray_s / clips:.1f} ms per clip)")
    print(f"  speed-up ray vs local: {local_s / ray_s:.2f}x (target >= 1.6x on 2 cores)")
    extra = empty_s - empty_local_s
    print(
        f"  with no work per clip (Ray's workers start in this run): local "
        f"{empty_local_s:.2f} s, ray {empty_s:.2f} s: Ray adds {extra:.2f} s for {units} "
        f"units = {1000 * extra / units:.0f} ms per unit, the workers' start included"
    )
    dispatch = ray_s - (clips * args.cpu_ms / 1000 / args.shards + empty_local_s)
    print(
        f"  the timed ray run beyond its ideal (work / workers + the driver's own): "
        f"{dispatch:.2f} s = {1000 * dispatch / units:.0f} ms per unit, workers already up"
    )
    print(f"  same answers on both executors: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
