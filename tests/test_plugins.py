"""Third-party plugins in-process: a custom metric and task through the public hooks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import numpy as np
import pytest

from voxeval.hookspecs import hookimpl
from voxeval.metrics import Metric, compute
from voxeval.plugins import DuplicateNameError, get_plugin_manager
from voxeval.runner import RunConfig, run_evaluation
from voxeval.task import DatasetInfo, MetricSpec, Task
from voxeval.types import Response, Sample


class ExactMatch(Metric):
    name: ClassVar[str] = "exact_match"
    description: ClassVar[str] = "fraction of predictions equal to the reference"
    higher_is_better: ClassVar[bool] = True

    def sample_stats(self, predictions, references, **params):
        return np.array([[float(p == r)] for p, r in zip(predictions, references, strict=True)])

    def aggregate(self, stats):
        return stats[..., 0].mean(axis=-1)


class Echo(Task):
    name: ClassVar[str] = "echo"
    version: ClassVar[str] = "1"
    kind: ClassVar = "dialogue"
    description: ClassVar[str] = "repeat the text"
    metrics: ClassVar = (MetricSpec("exact_match"),)

    def dataset(self) -> DatasetInfo:
        return DatasetInfo(id="test/echo", content_hash="0" * 64)

    def samples(self) -> Iterator[Sample]:
        for i, word in enumerate(["alpha", "beta", "gamma", "delta"]):
            yield Sample(id=str(i), text=word, references=(word,))


class Plugin:
    @hookimpl
    def register_metrics(self, register):
        register(ExactMatch())

    @hookimpl
    def register_tasks(self, register):
        register(Echo)


@pytest.fixture
def plugin():
    pm = get_plugin_manager()
    instance = Plugin()
    pm.register(instance, name="third-party")
    yield instance
    pm.unregister(instance)


def test_custom_metric_and_textonly_task(plugin, tmp_path, mock_model):
    assert compute("exact_match", ["a", "b"], ["a", "c"], n_resamples=0).value == 0.5
    mock_model.default = staticmethod(lambda item: Response(text=item.text))
    mock_model.enqueue("wrong")
    run, _ = run_evaluation(RunConfig(model="mock", tasks=["echo"], output_dir=tmp_path))
    result = run.tasks["echo"].metrics["exact_match"]
    assert result.value == 0.75 and result.n == 4 and result.higher_is_better
    assert run.tasks["echo"].timing.audio_s == 0


def test_duplicate_names_name_both_plugins():
    class Clash:
        @hookimpl
        def register_metrics(self, register):
            from voxeval.metrics.wer import WordErrorRate

            register(WordErrorRate())

    pm = get_plugin_manager()
    clash = Clash()
    pm.register(clash, name="clashing-plugin")
    try:
        with pytest.raises(DuplicateNameError, match=r"voxeval.metrics.builtin.*clashing-plugin"):
            compute("wer", ["a"], ["a"])
    finally:
        pm.unregister(clash)


def test_task_kind_mismatch_is_a_clear_error(plugin, tmp_path):
    from voxeval.errors import VoxevalError

    with pytest.raises(
        VoxevalError, match=r"cannot run task 'echo'.*kind 'dialogue'.*supports asr"
    ):
        run_evaluation(RunConfig(model="faster-whisper", tasks=["echo"], output_dir=tmp_path))
