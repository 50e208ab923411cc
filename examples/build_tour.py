"""Write examples/tour.ipynb from the cells below (run: python examples/build_tour.py).

The notebook is kept as this script so its cells are reviewed as code; the committed .ipynb
carries no outputs, and tests/test_examples.py executes it with nbclient.
"""

from pathlib import Path

import nbformat

CELLS = [
    ("markdown", """\
# A tour of moatsim

moatsim is an agent-based model (Mesa) of the AI industry: frontier labs, big-tech investors,
open-source communities and application builders compete for users, under parameters drawn
from five news articles. This notebook runs a scenario, compares two, runs a small parameter
sweep and reads it back with pandas, and shows the model in Mesa's SolaraViz, inline.

Every scenario, experiment and article ships with the package: `moatsim list` (or
`moatsim.library.bundled("scenarios")`) names them, and a name works wherever a file does."""),
    ("code", """\
import matplotlib.pyplot as plt
import pandas as pd

import moatsim
from moatsim import library

print(moatsim.__version__)
sorted(library.bundled("scenarios"))"""),
    ("markdown", """\
## One run

`run_scenario` returns tidy pandas tables, one row per observation: `model` (one row per
month), `firms` (firm × month), `segments`, `events`, `ledger`. Same scenario and seed, same
tables."""),
    ("code", """\
result = moatsim.run_scenario("baseline", seed=1, months=48)
result.model[["date", "adopters", "hhi", "open_share", "quality_gap", "mean_price_usd"]].tail()"""),
    ("code", """\
shares = (result.firms[result.firms["kind"] == "lab"]
          .pivot(index="date", columns="firm", values="share"))
leaders = shares.iloc[-1].nlargest(5).index
ax = shares[leaders].plot(figsize=(8, 3.5), title="Share of users, five largest labs")
ax.set_ylabel("share of users")
plt.show()"""),
    ("markdown", """\
## The model itself

`AIMarketModel` is a `mesa.Model`: step it, look at its agents and its market state."""),
    ("code", """\
model = moatsim.AIMarketModel("no_moat", rng=3)
for _ in range(12):
    model.step()
model"""),
    ("markdown", """\
## Two scenarios on the same seeds

`compare` runs each scenario over seeds 1…R (common random numbers: one stream per
mechanism) and says which differences exceed replicate noise."""),
    ("code", """\
from moatsim.experiments.compare import compare

comparison = compare(["baseline", "first_mover_moat"], replicates=3, months=36, workers=1)
table = comparison.table
table[table["metric"].isin(["first_mover_share", "hhi", "open_share"])][
    ["scenario", "metric", "mean", "std", "significant"]]"""),
    ("markdown", """\
## A small sweep, read back with pandas

An experiment is a YAML file (here written to a temporary folder; `scenario:` may name a
bundled scenario). `run_sweep` writes one Parquet file per run; `read_results` gathers them.
The results table has one row per run, its parameters under their dotted names."""),
    ("code", """\
import tempfile
from pathlib import Path

from moatsim.experiments.sweep import read_results, run_sweep

folder = Path(tempfile.mkdtemp(prefix="moatsim-tour-"))
(folder / "switching.yaml").write_text('''\\
description: How switching costs decide the first mover's share (C5, M4)
scenario: baseline
design: grid
replicates: 2
seed: 1
months: 24
parameters:
  first_mover.switching_cost_utils:
    values: [0.0, 1.0, 3.0]
metrics:
  final: [first_mover_share, hhi, open_share]
''')
summary = run_sweep(folder / "switching.yaml", folder / "out", workers=1)
runs = read_results(folder / "out")
runs.groupby("first_mover.switching_cost_utils")[["first_mover_share", "hhi"]].mean()"""),
    ("markdown", """\
## Mesa's SolaraViz, inline

The same panels as `moatsim viz`, in the notebook: press Step or Play."""),
    ("code", """\
from mesa.visualization import SolaraViz

from moatsim.viz.components import COMPONENTS
from moatsim.viz.vizmodel import VizModel

SolaraViz(VizModel(scenario_file="baseline", seed=1), components=list(COMPONENTS),
          name="moatsim")"""),
]


def build() -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    # numbered cell ids instead of nbformat's random ones, so rebuilding the notebook after
    # editing one cell changes only that cell in the diff
    new_cell = {"markdown": nbformat.v4.new_markdown_cell, "code": nbformat.v4.new_code_cell}
    notebook.cells = [new_cell[kind](text, id=f"cell-{number}")
                      for number, (kind, text) in enumerate(CELLS, start=1)]
    return notebook


if __name__ == "__main__":
    target = Path(__file__).with_name("tour.ipynb")
    nbformat.write(build(), target)
    print(f"wrote {target}")
