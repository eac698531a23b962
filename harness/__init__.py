"""voxeval: an evaluation harness and leaderboard for speech and audio LLMs.

The public API is small: tasks, adapters and metrics are plugins (see `voxeval.hookspecs`),
`voxeval.run_evaluation` runs them, and `voxeval.metrics.compute` scores predictions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from voxeval.runner import run_evaluation

__all__ = ["__version__", "hookimpl", "run_evaluation"]


def __getattr__(name: str) -> Any:
    # Lazy so that `import voxeval` (and `voxeval --help`) stays instant.
    if name == "hookimpl":
        from voxeval.hookspecs import hookimpl

        return hookimpl
    if name == "run_evaluation":
        from voxeval.runner import run_evaluation

        return run_evaluation
    raise AttributeError(f"module 'voxeval' has no attribute {name!r}")
