"""Interoperability: mesa.batch_run on the model class, the model as an EMA Workbench model,
and sweep results read by pandas and pyarrow."""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd
import pyarrow.dataset as ds
import pytest

from moatsim import AIMarketModel
from moatsim.experiments.sweep import read_results, run_sweep
from tests.conftest import BASELINE

EXPERIMENT = f"""\
description: two switching costs, two seeds, a year
scenario: {BASELINE}
replicates: 2
seed: 5
months: 12
parameters:
  first_mover.switching_cost_utils: {{values: [0.5, 4.0]}}
metrics:
  final: [hhi, open_share, consumer_surplus, first_mover_share, P1]
  timeseries: [hhi, open_share]
"""


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    root = tmp_path_factory.mktemp("interop")
    experiment = root / "two.yaml"
    experiment.write_text(EXPERIMENT, encoding="utf-8")
    run_sweep(experiment, root / "out", workers=1)
    return root / "out"


def test_mesa_batch_run_agrees_with_the_sweep(swept):
    rows = mesa.batch_run(AIMarketModel,
                          parameters={"first_mover__switching_cost_utils": [0.5, 4.0],
                                      "months": 12},
                          rng=[5, 6], number_processes=1, data_collection_period=-1,
                          display_progress=False)
    batch = (pd.DataFrame(rows)
             .drop_duplicates("RunId")
             .rename(columns={"first_mover__switching_cost_utils":
                              "first_mover.switching_cost_utils", "rng": "seed"}))
    assert (batch["month"] == 12).all() and len(batch) == 4
    key = ["first_mover.switching_cost_utils", "seed"]
    merged = batch.merge(read_results(swept), on=key, suffixes=("_batch", "_sweep"))
    assert len(merged) == 4
    for metric in ("hhi", "open_share", "consumer_surplus"):
        assert np.allclose(merged[f"{metric}_batch"], merged[f"{metric}_sweep"], rtol=0,
                           atol=1e-12)


def test_results_load_with_pandas_and_pyarrow(swept):
    table = pd.read_parquet(swept / "results")
    assert len(table) == 4 and table["run_id"].is_unique
    assert table.dtypes["hhi"] == np.float64 and pd.api.types.is_bool_dtype(table.dtypes["P1"])
    # the folder is a pyarrow dataset: filters are pushed down to the files
    dataset = ds.dataset(swept / "results", format="parquet")
    assert dataset.count_rows() == 4
    cheap = dataset.to_table(filter=ds.field("first_mover.switching_cost_utils") == 4.0,
                             columns=["run_id", "hhi"]).to_pandas()
    assert sorted(cheap["run_id"]) == [2, 3]
    series = pd.read_parquet(swept / "timeseries")
    assert list(series.columns) == ["run_id", "month", "metric", "value"]
    assert len(series) == 4 * 2 * 13
    final = series[series["month"] == 12].pivot(index="run_id", columns="metric",
                                                values="value").sort_index()
    assert np.allclose(final["hhi"], table.sort_values("run_id")["hhi"])
    design = pd.read_parquet(swept / "design.parquet")
    assert design["first_mover.switching_cost_utils"].tolist() == [0.5, 4.0]


def test_ema_workbench_model():
    ema = pytest.importorskip("ema_workbench", reason="EMA Workbench is optional "
                              "(make test installs it from requirements.lock)")
    from moatsim.experiments.ema import SCALARS, SERIES, ema_model, run

    months = 12
    model = ema_model({"first_mover__switching_cost_utils": (0.0, 8.0),
                       "commoditization__idea_diffusion_per_run": (0.1, 0.7)}, months=months)
    assert isinstance(model, ema.Model)
    with ema.SequentialEvaluator(model) as evaluator:
        experiments, outcomes = evaluator.perform_experiments(scenarios=4)
    assert len(experiments) == 4
    assert experiments["first_mover__switching_cost_utils"].between(0, 8).all()
    for name in SCALARS:
        assert outcomes[name].shape == (4,)
        assert np.isfinite(outcomes[name]).all()
    for name in SERIES:
        assert outcomes[f"{name}_series"].shape == (4, months + 1)
    # the same function, called directly, gives the same numbers for the same inputs
    first = experiments.iloc[0]
    direct = run(months=months, seed=1,
                 first_mover__switching_cost_utils=first["first_mover__switching_cost_utils"],
                 commoditization__idea_diffusion_per_run=first[
                     "commoditization__idea_diffusion_per_run"])
    assert direct["hhi"] == pytest.approx(outcomes["hhi"][0], abs=1e-12)
