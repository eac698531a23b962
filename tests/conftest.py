"""Shared fixtures: offline hub, no leaking third-party plugins, a scripted mock adapter."""

from __future__ import annotations

import os

# Before voxeval is imported: only built-in plugins, and never reach the Hugging Face hub.
os.environ["VOXEVAL_PLUGINS"] = ""
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

from collections.abc import Iterator
from pathlib import Path

import pytest

from voxeval.testing import MockAdapter, mock_adapter

REPO = Path(__file__).resolve().parents[1]
DEMO_DATA = REPO / "tasks" / "demo_asr" / "data"


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch) -> None:
    """Judge replies and TTS audio go to the test's own folder, never ~/.cache."""
    monkeypatch.setenv("VOXEVAL_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(autouse=True)
def mock_model() -> Iterator[type[MockAdapter]]:
    """The `mock` adapter, registered for every test and reset after it."""
    with mock_adapter() as adapter:
        yield adapter
