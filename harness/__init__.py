"""voxeval: an evaluation harness and leaderboard for speech and audio LLMs.

The public API is small: tasks, adapters and metrics are plugins (see `voxeval.hookspecs`),
`voxeval.evaluate` runs models on tasks from Python (names or instances), `voxeval.run_evaluation`
runs one RunConfig, and `voxeval.metrics.compute` scores predictions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from voxeval.api import Evaluation, evaluate
    from voxeval.runner import run_evaluation

__all__ = ["Evaluation", "__version__", "evaluate", "hookimpl", "run_evaluation"]


def __getattr__(name: str) -> Any:
    # Lazy so that `import voxeval` (and `voxeval --help`) stays instant.
    if name == "hookimpl":
        from voxeval.hookspecs import hookimpl

        return hookimpl
    if name in ("evaluate", "Evaluation"):
        from voxeval import api

        return getattr(api, name)
    if name == "run_evaluation":
        from voxeval.runner import run_evaluation

        return run_evaluation
    raise AttributeError(f"module 'voxeval' has no attribute {name!r}")
