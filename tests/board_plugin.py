"""A test-only voxeval plugin that declares the fixture tasks' boards, for a served app.

The fixture results (tests/leaderboard_fixtures.py, tests/leaderboard_big.py) name tasks that
no installed plugin has, so the app would put them all on board "other". This module
registers minimal Task classes under those names with `board` set; `install` makes it an
entry point in a throw-away site folder, so a Streamlit subprocess loads it exactly as it
loads a real plugin (nothing is added to the results folder).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from tests.leaderboard_big import big_boards
from voxeval.hookspecs import hookimpl
from voxeval.task import Task

PLUGIN = "board-fixture"  # entry-point name: what VOXEVAL_PLUGINS selects
REPO = Path(__file__).resolve().parents[1]
# The small fixture: speech-emotion has two ranked models in one band (1–2) and the cascade
# listed below them with 1/2 tasks.
FIXTURE_BOARDS = {
    "asr-clean": "asr",
    "asr-far": "asr",
    "emotion-cls": "speech-emotion",
    "emotion-ccc": "speech-emotion",
    "dialogue": "spoken-dialogue",
}
BOARDS = {**FIXTURE_BOARDS, **big_boards()}
KINDS = {"asr": "asr", "speech-emotion": "classification", "spoken-dialogue": "dialogue"}


def task_class(name: str, board: str) -> type[Task]:
    """A Task that only declares its name and board (the served app reads nothing else)."""
    attrs: dict[str, object] = {
        "name": name,
        "version": "1",
        "kind": KINDS.get(board, "regression"),
        "description": f"fixture task on board {board} (leaderboard tests)",
        "metrics": (),
        "board": board,
    }
    return type(f"FixtureTask_{name.replace('-', '_')}", (Task,), attrs)


@hookimpl
def register_tasks(register: Callable[..., None]) -> None:
    """Register one declaring Task per fixture task name."""
    for name, board in BOARDS.items():
        register(task_class(name, board))


def install(site: Path) -> dict[str, str]:
    """Write this plugin's entry point into `site`; return an environment that loads only it."""
    dist = site / "voxeval_board_fixture-0.1.dist-info"
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: voxeval-board-fixture\nVersion: 0.1\n", encoding="utf-8"
    )
    (dist / "entry_points.txt").write_text(
        f"[voxeval]\n{PLUGIN} = tests.board_plugin\n", encoding="utf-8"
    )
    env = dict(os.environ)
    # The repo root makes `tests.board_plugin` importable in the subprocess.
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(REPO)])
    env["VOXEVAL_PLUGINS"] = PLUGIN
    env["HF_HUB_OFFLINE"] = "1"
    return env
