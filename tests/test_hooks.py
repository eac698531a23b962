"""Meta-tests: every hook is documented, and the README names it."""

from __future__ import annotations

import inspect

from tests.conftest import REPO
from voxeval import hookspecs

HOOKS = [
    name
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
    if hasattr(fn, "voxeval_spec")
]


def test_there_are_hooks():
    assert set(HOOKS) == {
        "register_tasks",
        "register_adapters",
        "register_metrics",
        "register_rubrics",
        "register_commands",
    }


def test_every_hook_has_a_docstring_and_is_in_the_readme():
    readme = (REPO / "README.md").read_text()
    for name in HOOKS:
        assert inspect.getdoc(getattr(hookspecs, name)), name
        assert f"`{name}" in readme, f"README does not document {name}"


def test_every_hook_is_exercised_by_a_test():
    tests = "\n".join(p.read_text() for p in (REPO / "tests").rglob("test_*.py"))
    for name in HOOKS:
        assert f"def {name}(" in tests or f"hook.{name}" in tests, name
