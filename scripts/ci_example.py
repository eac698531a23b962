"""Run the GitHub Actions example's steps here, as a user's CI would (minus the hosting).

1. Build a wheel of this checkout; the example's VOXEVAL points at it.
2. Make a throw-away "model repository": the README's plugin package (my-asr) and a
   baseline run folder made once with the same command, as the example asks.
3. In a fresh virtual environment, run every `run:` step of
   examples/github-actions/voxeval-gate.yml in order, with the workflow's env block
   (overridden for this machine); `uses:` steps are GitHub's hosting and are skipped.
Exits non-zero if any step fails, so the example cannot rot.

    .venv/bin/python scripts/ci_example.py
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOW = REPO / "examples" / "github-actions" / "voxeval-gate.yml"
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
        for item in workflow["jobs"]["gate"]["steps"]:
            if "run" not in item:
                print(f"ci_example: hosting step skipped: {item.get('uses')}", flush=True)
                continue
            step(item.get("name", "run"), item["run"], repo, env)
            if item.get("name", "").startswith("Install your model's plugin"):
                make_baseline(repo, env)
    print("ci_example: every step of the example passed")


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
