"""Test helpers for voxeval and its plugins: a scripted adapter that records its calls."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ClassVar

from pydantic import Field

from voxeval.adapter import Adapter, AdapterArgs, TaskContext
from voxeval.hookspecs import hookimpl
from voxeval.types import ModelInput, Response, TaskKind


class MockArgs(AdapterArgs):
    """Arguments of the mock adapter (a `tag` lets tests make distinct configurations)."""

    tag: str = Field("", description="free text that makes configurations distinct")
    api_key: str | None = Field(
        None, description="a fake secret: tests check it never reaches the results"
    )


class MockAdapter(Adapter):
    """Answers from a queue (`enqueue`), else with `default`; every input lands in `history`."""

    name: ClassVar[str] = "mock"
    description: ClassVar[str] = "scripted test adapter (voxeval.testing)"
    supports: ClassVar[frozenset[TaskKind]] = frozenset(
        {"asr", "classification", "regression", "dialogue", "emotion_intensity"}
    )
    Args: ClassVar[type[AdapterArgs]] = MockArgs
    queue: ClassVar[deque[Response | BaseException]] = deque()
    history: ClassVar[list[ModelInput]] = []
    default: ClassVar[Callable[[ModelInput], Response]] = staticmethod(
        lambda item: Response(text="")
    )

    @classmethod
    def enqueue(cls, *items: str | Response | BaseException) -> None:
        """Queue answers: a string becomes Response(text=...); an exception is raised."""
        cls.queue.extend(Response(text=i) if isinstance(i, str) else i for i in items)

    @classmethod
    def reset(cls) -> None:
        """Forget queued answers and history."""
        cls.queue.clear()
        cls.history.clear()
        cls.default = staticmethod(lambda item: Response(text=""))

    def predict(self, batch: list[ModelInput], task: TaskContext) -> list[Response]:
        """Record each input and answer from the queue."""
        out = []
        for item in batch:
            self.history.append(item)
            answer = self.queue.popleft() if self.queue else type(self).default(item)
            if isinstance(answer, BaseException):
                raise answer
            out.append(answer)
        return out


class _MockPlugin:
    @hookimpl
    def register_adapters(self, register: Callable[..., None]) -> None:
        register(MockAdapter)


@contextmanager
def mock_adapter() -> Iterator[type[MockAdapter]]:
    """Register the `mock` adapter for the duration of the block."""
    from voxeval.plugins import get_plugin_manager

    pm = get_plugin_manager()
    plugin = _MockPlugin()
    MockAdapter.reset()
    pm.register(plugin, name="voxeval.testing.mock")
    try:
        yield MockAdapter
    finally:
        pm.unregister(plugin)
        MockAdapter.reset()
