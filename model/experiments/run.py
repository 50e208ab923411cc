"""One run of a scenario, as tidy pandas tables: the Python API behind ``moatsim run``.

    >>> from moatsim import run_scenario
    >>> result = run_scenario("scenarios/baseline.yaml", seed=1, months=24)
    >>> result.firms.query("month == 24")[["firm", "share"]]

Tables (one row per observation):

* ``model`` — one row per month: ``month``, ``date``, ``adopters``, ``hhi``, ``open_share``,
  ``quality_gap``, ``mean_price_usd``, ``mean_cost_to_serve_usd``;
* ``firms`` — one row per month × firm: ``users``, ``share``, ``revenue_musd``,
  ``costs_musd``, ``funding_in_musd``, ``cash_musd``, ``credits_musd`` (USD millions),
  ``runway_months``, ``quality``, ``price_usd`` (USD/user-month), ``alive``;
* ``backers`` — one row per month × firm × big-tech backer or owner: ``month``, ``date``,
  ``firm``, ``backer``;
* ``segments`` — one row per month × segment × firm: ``month``, ``date``, ``users``,
  ``use``, ``share`` of the segment;
* ``events`` — one row per event: ``month``, ``date``, ``firm``, ``kind``, ``detail``,
  ``amount_musd``;
* ``ledger`` — one row per ledger entry: ``month``, ``date``, ``firm``, ``category``, ``account``
  (cash or compute credits), ``amount_musd`` (+ in, − out), ``counterparty``, ``transfer_id``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from moatsim import metrics
from moatsim.calendar import month_label
from moatsim.loading import load_scenario
from moatsim.model import AIMarketModel
from moatsim.scenario import Scenario

EVENT_COLUMNS = ["month", "date", "firm", "kind", "detail", "amount_musd"]
LEDGER_COLUMNS = ["month", "date", "firm", "category", "account", "amount_musd", "counterparty",
                  "transfer_id"]


class RunResult:
    """The tables and summary of one run: ``model``, ``firms``, ``backers``, ``segments``,
    ``events``, ``ledger`` (pandas DataFrames) and ``summary`` (a dict). Each is built from
    the run's records the first time it is read, so a sweep that needs only final values
    never pays for the tables it does not read."""

    def __init__(self, market: AIMarketModel, seed: int):
        self._market = market
        self._seed = seed

    @cached_property
    def model(self) -> pd.DataFrame:
        return self._market.recorder.model_frame().reset_index(drop=True)

    @cached_property
    def firms(self) -> pd.DataFrame:
        return self._market.recorder.firms_frame().reset_index(drop=True)  # in month order

    @cached_property
    def backers(self) -> pd.DataFrame:
        return self._market.recorder.backers_frame()

    @cached_property
    def segments(self) -> pd.DataFrame:
        return self._market.recorder.segments_frame()

    @cached_property
    def events(self) -> pd.DataFrame:
        return pd.DataFrame(self._market.events, columns=EVENT_COLUMNS)

    @cached_property
    def ledger(self) -> pd.DataFrame:
        return ledger_frame(self._market)

    @cached_property
    def summary(self) -> dict[str, Any]:
        return summarize(self._market, self._seed)


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
    Raises :class:`moatsim.loading.ScenarioError` for bad input.
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
    """Tidy tables and a summary from a model that has been stepped (built when read)."""
    return RunResult(market, seed)


def ledger_frame(market: AIMarketModel) -> pd.DataFrame:
    """Every ledger entry, by month, then firm id, then posting order."""
    firms = sorted(market.firms, key=lambda firm: firm.firm_id)
    entries = [entry for firm in firms for entry in firm.ledger.entries]
    firm_ids = np.repeat(np.array([firm.firm_id for firm in firms], dtype=object),
                         [len(firm.ledger.entries) for firm in firms])
    if not entries:
        return pd.DataFrame(columns=LEDGER_COLUMNS).astype({"transfer_id": "Int64"})
    month, category, amount, account, counterparty, transfer = zip(*entries, strict=True)
    month = np.array(month, dtype=np.int64)
    order = np.argsort(month, kind="stable")  # firms are already in id order
    transfer_ids = pd.array(transfer, dtype="Int64")
    labels = {m: month_label(market.config.start, m) for m in np.unique(month).tolist()}
    return pd.DataFrame({
        "month": month[order], "date": np.array([labels[m] for m in month[order].tolist()],
                                                dtype=object),
        "firm": firm_ids[order],
        "category": np.array(category, dtype=object)[order],
        "account": np.array(account, dtype=object)[order],
        "amount_musd": np.array(amount, dtype=float)[order],
        "counterparty": np.array(counterparty, dtype=object)[order],
        "transfer_id": transfer_ids[order],
    }, columns=LEDGER_COLUMNS)


def summarize(market: AIMarketModel, seed: int) -> dict[str, Any]:
    """Headline results of a run, as plain JSON-ready values (from its last recorded month,
    without building the tables)."""
    recorder = market.recorder
    last, users = recorder.months[-1], recorder.users[-1]
    final_model = {name: values[0] for name, values
                   in metrics.indicators(recorder.records(slice(-1, None))).items()}
    adopters = users.sum()
    column = {seller_id: k for k, seller_id in enumerate(recorder.seller_ids)}
    shares = {}
    for agent in recorder.agents[-1]:
        k = column.get(agent.firm_id)
        n_users = int(users[:, k].sum()) if k is not None else 0
        shares[agent.firm_id] = round(float(n_users / adopters if adopters > 0 else 0.0), 6)
    leaders = {}
    for s, segment_id in enumerate(recorder.segment_ids):
        top = int(np.argmax(users[s]))
        leaders[segment_id] = recorder.seller_ids[top] if users[s, top] > 0 else None
    return {
        "scenario": market.config.name,
        "description": market.config.description,
        "seed": seed,
        "months": last,
        "start": market.config.start,
        "end": str(final_model["date"]),
        "final_shares": shares,
        "leader_per_segment": leaders,
        "exits": [{"firm": f.firm_id, "month": f.exit_month,
                   "date": recorder.dates[recorder.months.index(f.exit_month)]}
                  for f in market.firms if f.exit_month is not None],
        "final": {key: _plain(final_model[key]) for key in
                  ("adopters", "hhi", "open_share", "quality_gap", "mean_price_usd",
                   "mean_cost_to_serve_usd")},
    }


def _plain(value: Any) -> Any:
    """numpy scalars → Python numbers; NaN → None (JSON has no NaN)."""
    number = float(value)
    if number != number:
        return None
    return int(number) if float(number).is_integer() and abs(number) > 1 else round(number, 6)
