"""Run and score at 1k, 10k and 100k samples: CPU per sample and peak RSS, before and after.

An instant adapter (it answers a fixed sentence without looking at the audio) runs a task of
N samples that cycles through demo-asr's 30 clips; `run` is `run_evaluation` in a fresh
process, `score` is `rescore_run` of that run in another. Each process reports its CPU time
(user + system, imports included) and peak RSS. "before" runs the same code path on an older
commit (default 526eef8, the last one before streaming scoring), assembled as a `voxeval`
package from `git archive` and put first on PYTHONPATH; "after" is this checkout. First it
prints start-up: the CPU of a 1-sample run (after a warm-up, with compiled modules cached as
on a user's machine), the cost of `voxeval run --limit 1` with an instant adapter.

    .venv/bin/python benches/scale_scoring.py [--sizes 1000,10000,100000] [--before REV]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYOUT = {"harness": "voxeval", "tasks": "voxeval/tasks", "adapters": "voxeval/adapters"}
LAYOUT["leaderboard"] = "voxeval/leaderboard"
SENTENCE = "the quick brown fox jumps over the lazy dog near the river bank"


def child(phase: str, n: int, out: Path) -> None:
    """In a fresh process: run or re-score the N-sample evaluation, print CPU and RSS."""
    from collections.abc import Callable, Iterator
    from typing import ClassVar

    from voxeval.adapter import Adapter
    from voxeval.hookspecs import hookimpl
    from voxeval.plugins import get_plugin_manager
    from voxeval.tasks.demo_asr import DemoAsr
    from voxeval.types import Response, Sample

    class Instant(Adapter):
        name: ClassVar[str] = "instant"
        description: ClassVar[str] = "answers at once (bench)"
        supports: ClassVar[frozenset] = frozenset({"asr"})

        def predict(self, batch: list, task: object) -> list[Response]:
            return [Response(text=SENTENCE) for _ in batch]

    class Scaled(DemoAsr):
        name: ClassVar[str] = "scale-asr"

        def samples(self) -> Iterator[Sample]:
            base = list(super().samples())
            for i in range(n):
                s = base[i % len(base)]
                yield Sample(id=f"{i}", audio=s.audio, references=s.references, metadata=s.metadata)

    class Plugin:
        @hookimpl
        def register_adapters(self, register: Callable) -> None:
            register(Instant)

        @hookimpl
        def register_tasks(self, register: Callable) -> None:
            register(Scaled)

    get_plugin_manager().register(Plugin(), name="bench")
    if phase == "run":
        from voxeval.plan import RunConfig
        from voxeval.runner import run_evaluation

        run_evaluation(RunConfig(model="instant", tasks=["scale-asr"], output_dir=out))
    else:
        from voxeval.rescore import rescore_run

        rescore_run(next(d for d in (out / "instant").iterdir() if (d / "run.json").exists()))
    import voxeval

    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu, rss = usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024
    print(json.dumps({"cpu_s": cpu, "rss_mb": rss, "code": voxeval.__file__}))


def measure(phase: str, n: int, out: Path, pythonpath: str | None) -> dict:
    """One child process; its JSON line plus wall time."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "VOXEVAL_PLUGINS": ""}
    # As users run it: compiled modules are cached (this build machine turns that off).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    started = time.perf_counter()
    cmd = [sys.executable, __file__, "--child", phase, str(n), str(out)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{phase} {n} failed:\n{done.stderr[-3000:]}")
    return {
        **json.loads(done.stdout.strip().splitlines()[-1]),
        "wall_s": time.perf_counter() - started,
    }


def old_package(rev: str, into: Path) -> Path:
    """The sources of `rev` laid out as the installed package (harness → voxeval, …)."""
    raw = into / "src"
    raw.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, *LAYOUT], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(raw)], input=archive.stdout, check=True)
    for source, target in LAYOUT.items():
        shutil.copytree(raw / source, into / "pkg" / target, dirs_exist_ok=True)
    return into / "pkg"


def main() -> None:
    """Print the before/after table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--before", default="526eef8", help="commit to compare with ('' skips)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child[0], int(args.child[1]), Path(args.child[2]))
    with tempfile.TemporaryDirectory() as tmp:
        versions = {"after": None}
        if args.before:
            versions = {"before": str(old_package(args.before, Path(tmp))), "after": None}
        for label, path in versions.items():  # start-up: a 1-sample run, after a warm-up
            out = Path(tmp) / f"start-{label}"
            measure("run", 1, out / "warm", path)
            cpu = measure("run", 1, out / "timed", path)["cpu_s"]
            print(f"start-up ({label}): a 1-sample run takes {cpu:.2f} s of CPU")
        print("| N | code | run CPU/sample | run peak RSS | score CPU/sample | score peak RSS |")
        print("|---|---|---|---|---|---|")
        for n in (int(x) for x in args.sizes.split(",")):
            for label, path in versions.items():
                out = Path(tmp) / f"{label}-{n}"
                run, score = measure("run", n, out, path), measure("score", n, out, path)
                cells = [f"{n:,}", label]
                for phase in (run, score):
                    cells += [f"{1000 * phase['cpu_s'] / n:.2f} ms", f"{phase['rss_mb']:.0f} MB"]
                print("| " + " | ".join(cells) + " |", flush=True)
                shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
