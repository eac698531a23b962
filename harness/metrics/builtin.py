"""Registers the built-in metrics through the same hook third-party plugins use."""

from __future__ import annotations

from collections.abc import Callable

from voxeval.hookspecs import hookimpl


@hookimpl
def register_metrics(register: Callable[..., None]) -> None:
    """Register WER and CER."""
    from voxeval.metrics.wer import CharacterErrorRate, WordErrorRate

    register(WordErrorRate())
    register(CharacterErrorRate())
