"""Run the GitHub Actions example's steps here, as a user's CI would (minus the hosting).

1. Build a wheel of this checkout; the example's VOXEVAL points at it.
2. Make a throw-away "model repository": the README's plugin package (my-asr) and a
   baseline run folder made once with the same command, as the example asks.
3. In a fresh virtual environment, run every `run:` step of
   examples/github-actions/voxeval-gate.yml in order, with the workflow's env block
   (overridden for this machine); `uses:` steps are GitHub's hosting and are skipped.
4. Publish the baseline run into the repository's results/ and run the steps of
   examples/github-actions/validate-results.yml (`voxeval publish --check`) the same way;
   then copy the published demo run into results/runs/ by hand: the check must fail.
Exits non-zero if any step fails (or the check passes a bad tree), so the examples cannot rot.

    .venv/bin/python scripts/ci_example.py
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOW = REPO / "examples" / "github-actions" / "voxeval-gate.yml"
VALIDATE = REPO / "examples" / "github-actions" / "validate-results.yml"
FENCE = re.compile(r"```(\w+)\n(.*?)```", re.S)


def readme_block(language: str, first_line: str) -> str:
    """The README's code block of `language` that starts with `first_line`."""
    text = (REPO / "README.md").read_text()
    (found,) = [
        b for lang, b in FENCE.findall(text) if lang == language and b.startswith(first_line)
    ]
    return found


def build_wheel(dist: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "-w", str(dist), str(REPO)],
        check=True,
    )  # fmt: skip
    (wheel,) = dist.glob("voxeval-*.whl")
    return wheel


def model_repository(root: Path) -> Path:
    """The user's side: the README plugin as a package (its pyproject.toml and module)."""
    root.mkdir()
    (root / "pyproject.toml").write_text(readme_block("toml", "# pyproject.toml of your package"))
    (root / "my_voxeval_plugin.py").write_text(readme_block("python", "# my_voxeval_plugin.py"))
    return root


def step(name: str, script: str, cwd: Path, env: dict[str, str]) -> None:
    print(f"ci_example: step: {name}", flush=True)
    subprocess.run(["bash", "-eo", "pipefail", "-c", script], cwd=cwd, env=env, check=True)


def main() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    with tempfile.TemporaryDirectory(prefix="voxeval-ci-example-") as tmp:
        tmp = Path(tmp)
        wheel = build_wheel(tmp / "dist")
        repo = model_repository(tmp / "repo")
        subprocess.run([sys.executable, "-m", "venv", str(tmp / "venv")], check=True)
        env = {
            **os.environ,
            **{k: str(v) for k, v in workflow["env"].items()},
            "VOXEVAL": f"voxeval[asr] @ {wheel.as_uri()}",
            "TORCH_INDEX_URL": "",  # download.pytorch.org is not reachable here
            "MODEL": "my-asr",
            "MODEL_ARGS": "greeting=the",
            "PATH": f"{tmp / 'venv' / 'bin'}{os.pathsep}{os.environ['PATH']}",
            "HF_HUB_OFFLINE": "1",
        }
        for key in ("VIRTUAL_ENV", "PYTHONPATH", "VOXEVAL_PLUGINS"):
            env.pop(key, None)
        run_steps(workflow["jobs"]["gate"], repo, env, after_plugin=make_baseline)
        validate_results(repo, env, wheel)
    print("ci_example: every step of the examples passed")


def run_steps(
    job: dict, repo: Path, env: dict[str, str], after_plugin: Callable[..., None] | None = None
) -> None:
    """Every `run:` step of a workflow job, in order; `uses:` steps are skipped."""
    for item in job["steps"]:
        if "run" not in item:
            print(f"ci_example: hosting step skipped: {item.get('uses')}", flush=True)
            continue
        step(item.get("name", "run"), item["run"], repo, env)
        if after_plugin and item.get("name", "").startswith("Install your model's plugin"):
            after_plugin(repo, env)


def validate_results(repo: Path, env: dict[str, str], wheel: Path) -> None:
    """validate-results.yml on a results/ folder holding the published baseline: it passes;
    with that demo run copied into results/runs/ by hand, it must fail."""
    workflow = yaml.safe_load(VALIDATE.read_text())
    env = {**env, **{k: str(v) for k, v in workflow["env"].items()}}
    env["VOXEVAL"] = f"voxeval @ {wheel.as_uri()}"
    publish = 'voxeval publish "$BASELINE" --results-dir results'
    step("publish the baseline into results/ (demo data)", publish, repo, env)
    run_steps(workflow["jobs"]["validate"], repo, env)
    (published,) = (repo / "results" / "demo").glob("*/*")
    shutil.copytree(published, repo / "results" / "runs" / published.parent.name / published.name)
    (check,) = [s for s in workflow["jobs"]["validate"]["steps"] if "--check" in s.get("run", "")]
    try:
        step(check["name"], check["run"], repo, env)
    except subprocess.CalledProcessError:
        print("ci_example: the check refused a demo run in results/runs/, as it must", flush=True)
        return
    raise SystemExit("ci_example: voxeval publish --check passed a demo run in results/runs/")


def make_baseline(repo: Path, env: dict[str, str]) -> None:
    """What the example asks a user to do once: run the model and commit its run folder."""
    script = (
        'voxeval run --model "$MODEL" --model-args "$MODEL_ARGS" --tasks "$TASKS" '
        "--output-dir baseline-run"
    )
    step("make the baseline once (the user commits it)", script, repo, env)
    (made,) = (repo / "baseline-run" / env["MODEL"]).glob("*/run.json")
    shutil.copytree(made.parent, repo / env["BASELINE"])


if __name__ == "__main__":
    main()
