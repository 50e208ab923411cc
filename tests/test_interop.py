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
  final: [hhi, open_share, consumer_surplus_musd, first_mover_share, P1]
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
    for metric in ("hhi", "open_share", "consumer_surplus_musd"):
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
    assert (outcomes["TIME"] == np.arange(months + 1)).all()  # EMA's time axis
    assert {type(o).__name__ for o in model.outcomes} == {"ScalarOutcome", "TimeSeriesOutcome"}
    # the same function, called directly, gives the same numbers for the same inputs
    first = experiments.iloc[0]
    direct = run(months=months, seed=1,
                 first_mover__switching_cost_utils=first["first_mover__switching_cost_utils"],
                 commoditization__idea_diffusion_per_run=first[
                     "commoditization__idea_diffusion_per_run"])
    assert direct["hhi"] == pytest.approx(outcomes["hhi"][0], abs=1e-12)


def test_ema_replicator_model_averages_common_seeds():
    ema = pytest.importorskip("ema_workbench", reason="EMA Workbench is optional "
                              "(make test installs it from requirements.lock)")
    import pickle

    from moatsim.experiments.ema import ema_model, run

    months, replications = 6, 3
    model = ema_model({"first_mover__switching_cost_utils": (0.0, 8.0)}, months=months,
                      seed=4, replications=replications)
    assert isinstance(model, ema.ReplicatorModel)
    pickle.dumps(model)  # EMA's multiprocessing evaluator sends the model to its workers
    with ema.SequentialEvaluator(model) as evaluator:
        experiments, outcomes = evaluator.perform_experiments(scenarios=2)
    assert outcomes["hhi_series"].shape == (2, replications, months + 1)
    assert (outcomes["TIME"] == np.arange(months + 1)).all()
    value = experiments.iloc[1]["first_mover__switching_cost_utils"]
    runs = [run(months=months, seed=seed, first_mover__switching_cost_utils=value)
            for seed in (4, 5, 6)]
    assert outcomes["hhi"][1] == pytest.approx(np.mean([r["hhi"] for r in runs]), abs=1e-12)
    assert np.allclose(outcomes["hhi_series"][1], [r["hhi_series"] for r in runs])
    assert len({r["hhi"] for r in runs}) > 1  # the replications differ: the seeds are used


def test_a_mesa_scenario_sets_parameters_seed_and_base_file():
    from mesa.experimental.scenarios import Scenario as MesaScenario

    from moatsim import AIMarketModel, ScenarioError

    wanted = MesaScenario(rng=5, scenario_file="no_moat", months=6,
                          first_mover__switching_cost_utils=4.0)
    model = AIMarketModel(wanted)
    assert model.scenario is wanted and model.config.name == "no_moat"
    assert model.config.months == 6 and model.config.first_mover.switching_cost_utils == 4.0
    model.run_model()
    same = AIMarketModel("no_moat", rng=5, months=6, first_mover__switching_cost_utils=4.0)
    same.run_model()
    assert model.datacollector.get_model_vars_dataframe().equals(
        same.datacollector.get_model_vars_dataframe())
    with pytest.raises(ScenarioError, match="did you mean 'switching_cost_utils'"):
        AIMarketModel(MesaScenario(rng=1, first_mover__switching_cost_util=4.0))


def test_a_parameter_has_one_name_in_sweeps_batch_run_and_ema(tmp_path):
    """The dotted path names a parameter in a sweep's Parquet and in mesa.batch_run's rows,
    and is accepted by ema_model (whose experiments use the flat spelling: EMA Workbench 3
    requires identifiers); the same value and seed give the same outcome in all three."""
    ema = pytest.importorskip("ema_workbench", reason="EMA Workbench is optional "
                              "(make test installs it from requirements.lock)")
    import mesa

    from moatsim import AIMarketModel
    from moatsim.experiments.ema import ema_model
    from moatsim.experiments.sweep import read_results, run_sweep

    name, months = "first_mover.switching_cost_utils", 6
    (tmp_path / "one.yaml").write_text(
        f"description: one parameter, two values\nscenario: baseline\ndesign: grid\n"
        f"replicates: 1\nseed: 3\nmonths: {months}\nparameters:\n  {name}:\n"
        f"    values: [0.5, 5.0]\nmetrics:\n  final: [hhi]\n", encoding="utf-8")
    run_sweep(tmp_path / "one.yaml", tmp_path / "out", workers=1)
    swept = read_results(tmp_path / "out").set_index(name)["hhi"]

    rows = pd.DataFrame(mesa.batch_run(AIMarketModel, parameters={name: [0.5, 5.0],
                                                                  "months": months},
                                       rng=[3], number_processes=1, display_progress=False))
    final = rows[rows["Step"] == rows["Step"].max()].set_index(name)["hhi"]
    assert final.to_dict() == pytest.approx(swept.to_dict(), abs=1e-12)

    model = ema_model({name: (0.0, 8.0)}, months=months, seed=3)
    with ema.SequentialEvaluator(model) as evaluator:
        experiments, outcomes = evaluator.perform_experiments(
            scenarios=[ema.Sample(first_mover__switching_cost_utils=5.0)])
    assert "first_mover__switching_cost_utils" in experiments.columns  # EMA wants identifiers
    assert outcomes["hhi"][0] == pytest.approx(swept[5.0], abs=1e-12)
