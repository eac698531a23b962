"""docs/protocols.md: every built-in benchmark task points to a section that exists."""

from __future__ import annotations

import re
from pathlib import Path

from voxeval.cli import main
from voxeval.task import TASKS

DOC = Path(__file__).parents[1] / "docs" / "protocols.md"


def test_every_builtin_task_links_an_existing_section():
    anchors = set(re.findall(r'<a id="([a-z0-9-]+)"></a>', DOC.read_text()))
    owners = TASKS.owners()
    builtin = [n for n, owner in owners.items() if owner.startswith("voxeval.tasks.")]
    assert len(builtin) >= 12
    for name in builtin:
        task = TASKS.get(name)
        if getattr(task, "members", None):
            continue  # a group: its members carry the link
        assert task.protocol_doc, name
        path, _, anchor = task.protocol_doc.partition("#")
        assert path == "docs/protocols.md" and anchor in anchors, (name, task.protocol_doc)


def test_list_tasks_name_points_to_the_doc(capsys):
    assert main(["list", "tasks", "sd-eval-env"]) == 0
    out = capsys.readouterr().out
    assert "docs/protocols.md#sd-eval" in out and "official" in out
