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


class Graded(Echo):
    """Scores a derived row per record: the answer's first word, upper-cased."""

    name: ClassVar[str] = "graded"
    breakdowns: ClassVar = ("first_letter",)

    @classmethod
    def scoring_rows(cls, records):
        rows = []
        for record in records:
            word = (record["prediction"].get("text") or "").split()[0].lower()
            rows.append(
                {**record, "prediction": {"text": word}, "metadata": {"first_letter": word[:1]}}
            )
        return rows


class GroupPlugin:
    @hookimpl
    def register_tasks(self, register):
        from voxeval.task import TaskGroup

        register(Graded)
        register(TaskGroup("both", ("echo", "graded"), "echo and graded"))


def test_task_groups_and_scoring_rows(plugin, tmp_path, mock_model):
    pm = get_plugin_manager()
    group = GroupPlugin()
    pm.register(group, name="group-plugin")
    try:
        mock_model.default = staticmethod(lambda item: Response(text=f"{item.text.upper()} !"))
        run, _ = run_evaluation(
            RunConfig(model="mock", tasks=["both", "echo"], output_dir=tmp_path)
        )
    finally:
        pm.unregister(group)
    assert list(run.tasks) == ["echo", "graded"]  # expanded once, in order
    assert run.tasks["echo"].metrics["exact_match"].value == 0.0
    graded = run.tasks["graded"]
    assert graded.metrics["exact_match"].value == 1.0  # rows re-interpret the raw answers
    assert set(graded.breakdowns["first_letter"]) == {"a", "b", "g", "d"}
