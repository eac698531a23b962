"""Hook specifications: the whole plugin contract of voxeval.

Every hook receives a `register` callback so that the core owns naming, duplicate
detection and "did you mean" answers. Built-in tasks, adapters and metrics use these same
hooks; a third-party package exposes a module in the `voxeval` entry-point group.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("voxeval")
hookimpl = pluggy.HookimplMarker("voxeval")


@hookspec
def register_tasks(register: Callable[..., None]) -> None:
    """Register tasks: call `register(TaskClass)` for each task class."""


@hookspec
def register_adapters(register: Callable[..., None]) -> None:
    """Register model adapters: call `register(AdapterClass)` for each adapter class."""


@hookspec
def register_metrics(register: Callable[..., None]) -> None:
    """Register metrics: call `register(metric)` for each `voxeval.metrics.Metric` instance."""


@hookspec
def register_rubrics(register: Callable[..., None]) -> None:
    """Register judge rubrics: call `register(rubric)` for each `voxeval.rubrics.Rubric`."""


@hookspec
def register_commands(subparsers: Any) -> None:
    """Add CLI sub-commands to the argparse `subparsers` object of `voxeval`."""
