"""adv-regression: MSP-Podcast and simple layouts, scale handling, CCC per dimension and mean."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests import emotion_fixtures as fx
from voxeval.errors import DataNotFoundError, VoxevalError
from voxeval.metrics import compute
from voxeval.runner import RunConfig, run_evaluation
from voxeval.tasks import adv_regression as adv
from voxeval.types import Response

DIMS = ("arousal", "dominance", "valence")


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("adv-clips")
    fx.make_clips(folder)
    return folder


def ccc(x, y) -> float:
    """Lin's CCC with population statistics, straight from the formula."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    cov = np.mean((x - x.mean()) * (y - y.mean()))
    return 2 * cov / (x.var() + y.var() + (x.mean() - y.mean()) ** 2)


def scaled(rows, split: str) -> dict[str, dict[str, float]]:
    """Expected 0-1 labels per sample id for one split: (x - 1) / 6."""
    return {
        Path(f).stem: {d: (x - 1) / 6 for d, x in zip(DIMS, (a, dm, v), strict=True)}
        for f, a, dm, v, s, _ in rows
        if s == split
    }


def run(tmp_path: Path, data: Path, model: str = "mock", **task_args):
    config = RunConfig(
        model=model, tasks=["adv-regression"], data_dir=data, task_args=task_args,
        output_dir=tmp_path / "runs",
    )  # fmt: skip
    return run_evaluation(config)


def test_msp_layout_scales_labels_and_picks_test1(tmp_path, clips):
    data = fx.write_adv(tmp_path / "msp", clips, "msp")
    task = adv.AdvRegression(data)
    samples = list(task.samples())
    expected = scaled(fx.ADV_ROWS, "Test1")
    assert [s.id for s in samples] == list(expected)
    for sample in samples:
        assert sample.labels == pytest.approx(expected[sample.id])
        assert sample.metadata["scale"] == "1-7" and sample.metadata["split"] == "Test1"
        assert Path(sample.audio).parent == data / "Audios" and Path(sample.audio).is_file()
    info = task.dataset()
    assert info.id == "msp-podcast" and info.split == "Test1"
    assert info.preprocessing["label_scale"] == "1-7"
    assert info.preprocessing["transform"] == "(x-1)/6"
    train = scaled(fx.ADV_ROWS, "Train").values()
    means = {d: np.mean([t[d] for t in train]) for d in DIMS}
    context = task.adapter_context()
    assert context["labels"] == list(DIMS)
    assert context["value_means"] == pytest.approx(means)


@pytest.mark.parametrize(("split", "name", "n"), [("dev", "Development", 1), ("TEST2", "Test2", 1)])
def test_other_splits(tmp_path, clips, split, name, n):
    task = adv.AdvRegression(fx.write_adv(tmp_path / "d", clips), {"split": split})
    assert len(list(task.samples())) == n and task.dataset().split == name


def test_simple_layout_keeps_zero_to_one(tmp_path, clips):
    data = fx.write_adv(tmp_path / "simple", clips, "simple")
    task = adv.AdvRegression(data)
    samples = list(task.samples())
    expected = scaled(fx.ADV_ROWS, "Test1")
    assert [s.id for s in samples] == list(expected)
    for sample in samples:
        assert sample.labels == pytest.approx(expected[sample.id], abs=1e-6)
    assert task.dataset().id == "local/adv-regression"
    assert task.dataset().preprocessing["transform"] == "none"
    assert samples[0].metadata == {"gender": "Female", "split": "test1", "scale": "0-1"}


def test_mean_baseline_gets_training_means_and_ccc_zero(tmp_path, clips):
    data = fx.write_adv(tmp_path / "msp", clips, "msp")
    result, run_dir = run(tmp_path, data, model="mean")
    task = result.tasks["adv-regression"]
    train = list(scaled(fx.ADV_ROWS, "Train").values())
    records = [json.loads(x) for x in (run_dir / "samples-adv-regression.jsonl").open()]
    for record in records:
        assert record["prediction"]["values"] == pytest.approx(
            {d: np.mean([t[d] for t in train]) for d in DIMS}
        )
    refs = scaled(fx.ADV_ROWS, "Test1")
    for dim in DIMS:
        constant = [records[0]["prediction"]["values"][dim]] * len(refs)
        expected = ccc(constant, [r[dim] for r in refs.values()])
        assert expected == 0.0
        assert task.metrics[f"ccc_{dim}"].value == pytest.approx(expected, abs=1e-12)
    assert task.metrics["ccc_mean"].value == pytest.approx(0.0, abs=1e-12)
    assert result.tasks["adv-regression"].dataset.preprocessing["transform"] == "(x-1)/6"
    dataset = json.loads((run_dir / "run.json").read_text())["tasks"]["adv-regression"]["dataset"]
    assert dataset["preprocessing"] == {
        "label_scale": "1-7",
        "scale_option": "auto",
        "transform": "(x-1)/6",
        "target_scale": "0-1",
        "columns": {"arousal": "EmoAct", "dominance": "EmoDom", "valence": "EmoVal"},
    }


def predictions(sample_id: str) -> dict[str, float]:
    """A noisy guess near the truth, different per dimension."""
    truth = scaled(fx.ADV_ROWS, "Test1")[sample_id]
    rng = np.random.default_rng(sum(map(ord, sample_id)))
    return {d: truth[d] * (0.5 + i * 0.3) + rng.normal(0, 0.1) for i, d in enumerate(DIMS)}


def test_mock_values_give_ccc_per_dimension_and_their_mean(tmp_path, clips, mock_model):
    data = fx.write_adv(tmp_path / "msp", clips, "msp")
    mock_model.default = staticmethod(lambda item: Response(values=predictions(item.sample_id)))
    result, _ = run(tmp_path, data)
    metrics = result.tasks["adv-regression"].metrics
    refs = scaled(fx.ADV_ROWS, "Test1")
    per_dim = {}
    for dim in DIMS:
        per_dim[dim] = ccc([predictions(s)[dim] for s in refs], [r[dim] for r in refs.values()])
        assert metrics[f"ccc_{dim}"].value == pytest.approx(per_dim[dim])
    assert metrics["ccc_mean"].value == pytest.approx(np.mean(list(per_dim.values())))
    assert metrics["ccc_mean"].params["mean"] == "arithmetic mean of the per-dimension CCCs"
    assert metrics["ccc_mean"].ci_low <= metrics["ccc_mean"].value <= metrics["ccc_mean"].ci_high
    by_gender = result.tasks["adv-regression"].breakdowns["gender"]
    assert set(by_gender) == {"Female", "Male"} and by_gender["Female"]["ccc_mean"].n == 3


def test_ccc_mean_metric_equals_mean_of_compute_ccc():
    rng = np.random.default_rng(3)
    refs = [{d: float(v) for d, v in zip(DIMS, row, strict=True)} for row in rng.random((20, 3))]
    preds = [{d: r[d] + rng.normal(0, 0.2) for d in DIMS} for r in refs]
    preds[4]["valence"] = None  # dropped for valence only
    result = compute("ccc_mean", preds, refs, dims=DIMS)
    singles = [compute("ccc", [p[d] for p in preds], [r[d] for r in refs]).value for d in DIMS]
    assert result.value == pytest.approx(np.mean(singles))
    assert result.details == {"n_valid_per_dim": [20, 20, 19]}
    flat = [{**p, "arousal": 0.5} for p in preds]
    flat_refs = [{**r, "arousal": 0.5} for r in refs]  # both sides constant: CCC undefined
    assert compute("ccc_mean", flat, flat_refs, dims=DIMS).value is None


def test_scale_mismatch_names_the_row(tmp_path, clips):
    data = fx.write_adv(tmp_path / "msp", clips, "msp")
    with pytest.raises(VoxevalError, match=r"labels_consensus.csv:2: EmoAct 5.2 is outside .* 0-1"):
        list(adv.AdvRegression(data, {"scale": "0-1"}).samples())
    simple = fx.write_adv(tmp_path / "s", clips, "simple")
    (simple / "labels.csv").write_text("file,arousal,dominance,valence,split\nx.wav,4,1,1,test\n")
    with pytest.raises(VoxevalError, match=r"labels.csv:2: arousal 4.0 .* pass --task-args scale"):
        list(adv.AdvRegression(simple).samples())


def test_bad_files_give_clear_errors(tmp_path, clips):
    data = fx.write_adv(tmp_path / "d", clips, "simple")
    labels = data / "labels.csv"
    labels.write_text("file,arousal,valence,split\nx.wav,0.1,0.2,test\n")
    with pytest.raises(VoxevalError, match=r"missing column\(s\) dominance or EmoDom"):
        list(adv.AdvRegression(data).samples())
    labels.write_text("file,arousal,dominance,valence,split\nx.wav,high,0.2,0.3,test\n")
    with pytest.raises(VoxevalError, match=r"labels.csv:2: arousal 'high' is not a number"):
        list(adv.AdvRegression(data).samples())
    labels.write_text("file,arousal,dominance,valence,split\nx.wav,0.1,0.2,0.3,train\n")
    with pytest.raises(VoxevalError, match=r"No rows of split 'test'.*splits are train"):
        list(adv.AdvRegression(data).samples())


def test_other_splits_are_not_parsed(tmp_path, clips):
    rows = [*fx.ADV_ROWS, ("test3-1.wav", "X", "", "?", "Test3", "Male")]
    task = adv.AdvRegression(fx.write_adv(tmp_path / "d", clips, "msp", rows))
    assert len(list(task.samples())) == 5  # Test3's unreleased labels do not matter
    with pytest.raises(VoxevalError, match=r"labels_consensus.csv:11: EmoAct 'X' is not a number"):
        list(adv.AdvRegression(task.data_dir, {"split": "Test3"}).samples())


def test_empty_cells_are_dropped_and_counted(tmp_path, clips):
    data = fx.write_adv(tmp_path / "d", clips, "simple")
    (data / "labels.csv").write_text(
        "file,arousal,dominance,valence,split\nclip-a.wav,0.1,,0.3,test\nclip-b.wav,0.4,0.5,0.6,test\n"
    )
    task = adv.AdvRegression(data)
    assert [s.labels["dominance"] for s in task.samples()] == [None, 0.5]
    assert task.dataset().warnings == (
        "1 empty label cell(s) in the split: those pairs are dropped",
    )
    assert task.adapter_context()["value_means"] is None  # no training split


def test_missing_data_is_data_not_found(tmp_path):
    with pytest.raises(DataNotFoundError, match="local folder only"):
        list(adv.AdvRegression(None).samples())
    with pytest.raises(DataNotFoundError, match="No labels file"):
        list(adv.AdvRegression(tmp_path).samples())
