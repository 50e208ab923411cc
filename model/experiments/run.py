"""One run of a scenario, as tidy pandas tables: the Python API behind ``moatsim run``.

    >>> from model import run_scenario
    >>> result = run_scenario("scenarios/baseline.yaml", seed=1, months=24)
    >>> result.firms.query("month == 24")[["firm", "share"]]

Tables (one row per observation):

* ``model`` — one row per month: ``month``, ``date``, ``adopters``, ``hhi``, ``open_share``,
  ``quality_gap``, ``mean_price``, ``mean_cost_to_serve``;
* ``firms`` — one row per month × firm: ``users``, ``share``, ``revenue``, ``costs``,
  ``funding_in``, ``cash`` (USD millions), ``quality``, ``price`` (USD/user-month), ``alive``;
* ``segments`` — one row per month × segment × firm: ``users``, ``share`` of the segment;
* ``events`` — one row per event: ``month``, ``date``, ``agent``, ``kind``, ``detail``,
  ``amount_musd``;
* ``ledger`` — one row per ledger entry: ``month``, ``firm``, ``category``, ``account``
  (cash or compute credits), ``amount_musd`` (+ in, − out), ``counterparty``, ``transfer_id``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from model.loading import load_scenario
from model.model import AIMarketModel
from model.scenario import Scenario

EVENT_COLUMNS = ["month", "date", "agent", "kind", "detail", "amount_musd"]
LEDGER_COLUMNS = ["month", "firm", "category", "account", "amount_musd", "counterparty",
                  "transfer_id"]


@dataclass
class RunResult:
    """The tables and summary of one run."""

    model: pd.DataFrame
    firms: pd.DataFrame
    segments: pd.DataFrame
    events: pd.DataFrame
    ledger: pd.DataFrame
    summary: dict[str, Any]


def run_scenario(
    scenario: str | Path | Scenario,
    *,
    seed: int = 1,
    months: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    on_month: Callable[[int], None] | None = None,
) -> RunResult:
    """Run a scenario for its months (or ``months``) with ``seed``; return its tables.

    ``overrides`` maps dotted paths to values (``{"first_mover.switching_cost_utils": 3}``),
    validated like the file. ``on_month(month)`` is called after every step (progress bars).
    Raises :class:`model.loading.ScenarioError` for bad input.
    """
    all_overrides = dict(overrides or {})
    if months is not None:
        all_overrides["months"] = months
    config = load_scenario(scenario, all_overrides)
    market = AIMarketModel(config, rng=seed)
    while market.running:
        market.step()
        if on_month is not None:
            on_month(market.month)
    return collect_result(market, seed=seed)


def collect_result(market: AIMarketModel, *, seed: int) -> RunResult:
    """Tidy tables and a summary from a model that has been stepped."""
    recorder = market.recorder
    model_table = recorder.model_frame().reset_index(drop=True)
    firms = (recorder.firms_frame().reset_index(drop=True)
             .sort_values(["month"], kind="stable").reset_index(drop=True))
    segments = recorder.segments_frame()
    events = pd.DataFrame(market.events, columns=EVENT_COLUMNS)
    ledger = pd.DataFrame(
        [(e.month, firm.firm_id, e.category, e.account, e.amount_musd, e.counterparty,
          e.transfer_id) for firm in market.firms for e in firm.ledger.entries],
        columns=LEDGER_COLUMNS,
    ).sort_values(["month", "firm"], kind="stable").reset_index(drop=True)
    ledger["transfer_id"] = ledger["transfer_id"].astype("Int64")
    return RunResult(model=model_table, firms=firms, segments=segments, events=events,
                     ledger=ledger, summary=summarize(market, seed, model_table, firms, segments))


def summarize(market: AIMarketModel, seed: int, model_table: pd.DataFrame,
              firms: pd.DataFrame, segments: pd.DataFrame) -> dict[str, Any]:
    """Headline results of a run, as plain JSON-ready values."""
    last = int(model_table["month"].iloc[-1])
    final_firms = firms[firms["month"] == last]
    final_segments = segments[segments["month"] == last]
    leaders = {}
    for segment_id, rows in final_segments.groupby("segment", sort=False):
        top = rows.loc[rows["users"].idxmax()]
        leaders[segment_id] = top["firm"] if top["users"] > 0 else None
    final_model = model_table.iloc[-1]
    return {
        "scenario": market.config.name,
        "description": market.config.description,
        "seed": seed,
        "months": last,
        "start": market.config.start,
        "end": str(final_model["date"]),
        "final_shares": {row.firm: round(float(row.share), 6) for row in final_firms.itertuples()},
        "leader_per_segment": leaders,
        "exits": [{"firm": f.firm_id, "month": f.exit_month,
                   "date": str(model_table.loc[model_table["month"] == f.exit_month, "date"].iloc[0])}
                  for f in market.firms if f.exit_month is not None],
        "final": {key: _plain(final_model[key]) for key in
                  ("adopters", "hhi", "open_share", "quality_gap", "mean_price",
                   "mean_cost_to_serve")},
    }


def _plain(value: Any) -> Any:
    """numpy scalars → Python numbers; NaN → None (JSON has no NaN)."""
    number = float(value)
    if number != number:
        return None
    return int(number) if float(number).is_integer() and abs(number) > 1 else round(number, 6)
