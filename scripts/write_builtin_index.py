"""Write harness/builtin_index.py: which built-in module registers each task, model, metric
and rubric name, so that looking a name up imports one module instead of all of them.

Run it after adding or renaming a built-in; tests/test_plugin_index.py fails until you do.

    .venv/bin/python scripts/write_builtin_index.py
"""

from __future__ import annotations

import json
import os
import pprint
import subprocess
import sys
from pathlib import Path

TARGET = Path(__file__).resolve().parents[1] / "harness" / "builtin_index.py"
HEADER = (
    '"""Which built-in module registers each name (generated: scripts/write_builtin_index.py)."""'
)


def render(index: dict[str, dict[str, str]]) -> str:
    """The module's text for this index."""
    body = pprint.pformat(index, width=96, sort_dicts=False)
    return f"{HEADER}\n\nBUILTIN_INDEX: dict[str, dict[str, str]] = {body}\n"


def main() -> None:
    """Compute the index in a process without third-party plugins and write the module."""
    code = (
        "import json; from voxeval.plugins import builtin_index; print(json.dumps(builtin_index()))"
    )
    env = {**os.environ, "VOXEVAL_PLUGINS": ""}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr)
    TARGET.write_text(render(json.loads(done.stdout)), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "ruff", "format", "-q", str(TARGET)], check=False)
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
