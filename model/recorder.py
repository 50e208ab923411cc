"""What a run records each month, and the output tables built from it once, at the end.

:class:`Recorder` keeps, each month, the raw state the outputs are made of — the ``[S, P]``
users array, the offers users saw, each firm's books — and builds the tables from them when
they are read: the model indicators for all months at once (:func:`moatsim.metrics.indicators`),
the firm columns (users, share, price) and the segments table (month × segment × seller) as
array operations instead of one call per reporter, firm or row per month. The tables are the
ones ``mesa.DataCollector`` would hold, value for value; :meth:`Recorder.datacollector` fills a
real DataCollector from them on demand, for Mesa tools that read ``model.datacollector``
(``mesa.batch_run``, the browser page).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np
import pandas as pd

from moatsim import metrics

if TYPE_CHECKING:
    from moatsim.model import AIMarketModel

SEGMENT_COLUMNS = ["month", "date", "segment", "firm", "users", "use", "share"]
BACKER_COLUMNS = ["month", "date", "firm", "backer"]
BACKERS = 6
"""Where a firm's backer ids sit in its monthly book (see :meth:`Recorder.collect`)."""


def month_record(model: AIMarketModel) -> dict[str, Any]:
    """The model's current month as :class:`moatsim.metrics.MarketRecords` fields (one month).

    Arrays the model replaces every month are kept as they are; the population's counts and
    what is derived from the market's routes is computed for the month.
    """
    market = model.market
    paying, serving_units = model.paying_users()
    return {
        "users": model.reach,
        "use": model.use,
        "paying_users": paying,
        "serving_units": serving_units,
        "price_usd": market.price_usd,
        "available": market.available,
        "quality": market.quality,
        "is_open": market.is_open,
        "open_weights": market.open_weights[:market.size].copy(),
        "cost_to_serve_usd": model.cost_to_serve_usd,
        "api_price_usd": market.routed_price(market.price_usd),
        "utility": model.utility,
        "cohort_adopters": model.population.counts[:, :, 1:].sum(axis=2),
        "frontier": model.frontier_quality(),
        "closed_frontier": model.closed_frontier_quality(),
        "open_quality": metrics.open_quality(model),
        "first_movers": dict(model.first_mover),
        "pricing_iterations": model.pricing_iterations,
        "pricing_foc_residual": model.pricing_foc_residual,
    }


class Recorder:
    """Each month's market state and firm records, for the output tables.

    A month is recorded as the raw values it needs (:func:`month_record`, each firm's books);
    the indicators and firm columns derived from them are computed when the tables are built,
    by the formulas of :mod:`moatsim.metrics`, so the tables are value for value the ones the
    reporters would give on the live model.
    """

    def __init__(self, model: AIMarketModel):
        self.firm_reporters = metrics.FIRM_REPORTERS
        self.segment_ids = list(model.segment_ids)
        self.seller_ids = [s.firm_id for s in model.sellers]
        market = model.market
        self._constants = {
            "kind": market.kind[:market.size].copy(),
            "seller_ids": self.seller_ids, "segment_ids": self.segment_ids,
            "price_weight": model.price_weight,
            "outside_utility": model.config.choice.outside_option_utils}
        self.steps: list[float] = []
        self.months: list[int] = []
        self.dates: list[str] = []
        self.market: list[dict[str, Any]] = []  # per month, month_record()
        self.books: list[list[tuple[Any, ...]]] = []  # per month, one tuple per agent
        self.agents: list[list[Any]] = []  # per month, the agents in Mesa's order
        self._collector: mesa.DataCollector | None = None

    @property
    def users(self) -> list[np.ndarray]:
        """[S, P] users of every month recorded (read-only arrays)."""
        return [month["users"] for month in self.market]

    def collect(self, model: AIMarketModel) -> None:
        """Record the model's current month."""
        self.steps.append(model.time)
        self.months.append(model.month)
        self.dates.append(model.date)
        self.market.append(month_record(model))
        agents = list(model.agents)
        self.agents.append(agents)
        self.books.append([
            (agent.revenue_musd, agent.costs_musd, agent.funding_in_musd, agent.cash_musd,
             agent.credits_musd, metrics.recorded_runway(agent), agent.backer_ids(),
             float(getattr(agent, "quality", math.nan)),
             float(getattr(agent, "absorbed_points", 0.0)), agent.alive)
            for agent in agents])
        self._collector = None

    # ---------------------------------------------------------------- tables

    def _stacked(self, name: str) -> np.ndarray:
        return np.stack([month[name] for month in self.market])

    def records(self, months: slice = slice(None)) -> metrics.MarketRecords:
        """The recorded months (all, or a slice of them), stacked."""
        market = self.market[months]
        fields = {name: np.stack([month[name] for month in market]) for name in market[0]
                  if name not in ("first_movers", "quality")}
        return metrics.MarketRecords(
            months=np.asarray(self.months[months], dtype=np.int64),
            dates=list(self.dates[months]),
            first_movers=[month["first_movers"] for month in market],
            **fields, **self._constants)

    def model_frame(self) -> pd.DataFrame:
        """One row per month (the DataCollector's model variables)."""
        return pd.DataFrame(metrics.indicators(self.records()))

    def firm_columns(self) -> dict[str, np.ndarray]:
        """The firms table as columns, one row per month × agent (in Mesa's agent order), with
        ``Step`` and ``AgentID`` first; users, share and price computed for all rows at once
        by :func:`moatsim.metrics.firm_users`' and :func:`moatsim.metrics.price_of`'s formulas."""
        column_of = {seller_id: k for k, seller_id in enumerate(self.seller_ids)}
        month_of_row = np.repeat(np.arange(len(self.months)),
                                 [len(agents) for agents in self.agents])
        agents = [agent for month_agents in self.agents for agent in month_agents]
        column = np.array([column_of.get(agent.firm_id, -1) for agent in agents], dtype=np.int64)
        books = list(zip(*(book for month_books in self.books for book in month_books),
                         strict=True))
        (revenue, costs, funding, cash, credits, runway, _backers, quality, absorbed,
         alive) = books if books else ((),) * 10
        n_rows = len(agents)
        users = np.zeros(n_rows, dtype=np.int64)
        use = np.zeros(n_rows)
        price = np.full(n_rows, np.nan)
        quality = np.array(quality, dtype=float)
        all_users = self._stacked("users")  # [T, S, P]
        seller = np.flatnonzero(column >= 0)
        if seller.size:
            months, columns = month_of_row[seller], column[seller]
            own_use = self._stacked("use")[months, :, columns]  # [R, S]
            own_price = self._stacked("price_usd")[months, :, columns]
            own_served = self._stacked("available")[months, :, columns]
            users[seller] = all_users[months, :, columns].sum(axis=1)
            use[seller] = own_use.sum(axis=1)
            price[seller] = metrics.prices_of(own_use, own_price, own_served)
        adopters = self._stacked("cohort_adopters").sum(axis=(1, 2))[month_of_row]
        share = np.divide(use, adopters, out=np.zeros(n_rows), where=adopters > 0)
        return {
            "Step": np.asarray(self.steps)[month_of_row],
            "AgentID": np.array([agent.unique_id for agent in agents], dtype=np.int64),
            "month": np.asarray(self.months, dtype=np.int64)[month_of_row],
            "date": np.asarray(self.dates, dtype=object)[month_of_row],
            "firm": np.array([agent.firm_id for agent in agents], dtype=object),
            "kind": np.array([agent.kind for agent in agents], dtype=object),
            "users": users, "share": share,
            "revenue_musd": np.array(revenue, dtype=float),
            "costs_musd": np.array(costs, dtype=float),
            "funding_in_musd": np.array(funding, dtype=float),
            "cash_musd": np.array(cash, dtype=float),
            "credits_musd": np.array(credits, dtype=float),
            "runway_months": np.array(runway, dtype=float), "quality": quality,
            "absorbed_points": np.array(absorbed, dtype=float), "price_usd": price,
            "alive": np.array(alive, dtype=bool),
        }

    def firms_frame(self) -> pd.DataFrame:
        """One row per month × firm, indexed by (Step, AgentID) like the DataCollector's."""
        columns = self.firm_columns()
        index = pd.MultiIndex.from_arrays([columns.pop("Step"), columns.pop("AgentID")],
                                          names=["Step", "AgentID"])
        return pd.DataFrame(columns, index=index, columns=list(self.firm_reporters))

    def segment_columns(self) -> dict[str, np.ndarray]:
        """The segments table as columns: month × segment × seller, in that order: users of
        the seller there, the user-months of work it serves (``use``) and its share of the
        segment's use."""
        users = self._stacked("users")  # [T, S, P]
        use = self._stacked("use")
        n_months, n_segments, n_sellers = users.shape
        shares = metrics.segment_shares(use)
        return {
            "month": np.repeat(np.asarray(self.months, dtype=np.int64), n_segments * n_sellers),
            "date": np.repeat(np.asarray(self.dates, dtype=object), n_segments * n_sellers),
            "segment": np.tile(np.repeat(np.array(self.segment_ids, dtype=object), n_sellers),
                               n_months),
            "firm": np.tile(np.array(self.seller_ids, dtype=object), n_months * n_segments),
            "users": users.reshape(-1).astype(np.int64),
            "use": use.reshape(-1),
            "share": shares.reshape(-1),
        }

    def backer_columns(self) -> dict[str, np.ndarray]:
        """The backers table as columns: one row per month × firm × big-tech backer or owner
        of it, in Mesa's agent order, then backer id."""
        rows = [(k, agent.firm_id, backer)
                for k, (agents, books) in enumerate(zip(self.agents, self.books, strict=True))
                for agent, book in zip(agents, books, strict=True) for backer in book[BACKERS]]
        month_of_row = np.array([k for k, _, _ in rows], dtype=np.int64)
        return {
            "month": np.asarray(self.months, dtype=np.int64)[month_of_row],
            "date": np.asarray(self.dates, dtype=object)[month_of_row],
            "firm": np.array([firm for _, firm, _ in rows], dtype=object),
            "backer": np.array([backer for _, _, backer in rows], dtype=object),
        }

    def backers_frame(self) -> pd.DataFrame:
        """One row per month × firm × backer: who backs or owns each firm, month by month."""
        return pd.DataFrame(self.backer_columns(), columns=BACKER_COLUMNS)

    def segments_frame(self) -> pd.DataFrame:
        """One row per month × segment × seller: ``users``, ``use`` and ``share`` of the
        segment's use."""
        return pd.DataFrame(self.segment_columns(), columns=SEGMENT_COLUMNS)

    def datacollector(self) -> mesa.DataCollector:
        """A ``mesa.DataCollector`` holding what was recorded (built again after a month)."""
        if self._collector is None:
            indicators = metrics.indicators(self.records())
            # reporters for Mesa's own collect(): the same indicators of the live model
            reporters = {name: _live_indicator(name, self) for name in indicators}
            collector = mesa.DataCollector(model_reporters=reporters,
                                           agent_reporters=self.firm_reporters,
                                           tables={"segments": SEGMENT_COLUMNS,
                                                   "backers": BACKER_COLUMNS})
            collector._validated = True
            collector.model_vars = {name: list(np.asarray(values, dtype=object).tolist())
                                    for name, values in indicators.items()}
            collector._collection_steps = list(self.steps)
            columns = self.firm_columns()
            records: dict[float, list[tuple[Any, ...]]] = {}
            for row in zip(*(values.tolist() for values in columns.values()), strict=True):
                records.setdefault(row[0], []).append(row)
            collector._agent_records = records
            for table, table_columns in (("segments", self.segment_columns()),
                                         ("backers", self.backer_columns())):
                collector.tables[table] = {name: values.tolist() for name, values
                                           in table_columns.items()}
            self._collector = collector
        return self._collector


def _live_indicator(name: str, recorder: Recorder) -> Any:
    """A model reporter: indicator ``name`` of the live model's current month."""
    def report(model: AIMarketModel) -> Any:
        one = metrics.MarketRecords(
            months=np.array([model.month]), dates=[model.date],
            first_movers=[dict(model.first_mover)],
            **{key: np.asarray(value)[None] for key, value in month_record(model).items()
               if key not in ("first_movers", "quality")},
            **recorder._constants)
        return metrics.indicators(one)[name][0]
    return report
