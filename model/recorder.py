"""What a run records each month, and the output tables built from it once, at the end.

:class:`Recorder` keeps each month's model indicators (:func:`model.metrics.model_reporters`),
one record per firm (:data:`model.metrics.FIRM_REPORTERS`) and the ``[S, P]`` users array of
the population; the segments table (month × segment × seller) is built from those arrays in
one go instead of one row per segment × seller × month. The tables are the ones
``mesa.DataCollector`` would hold, value for value; :meth:`Recorder.datacollector` fills a
real DataCollector from them on demand, for Mesa tools that read ``model.datacollector``
(``mesa.batch_run``, the browser page).
"""

from __future__ import annotations

import math
from copy import deepcopy
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np
import pandas as pd

from model import metrics

if TYPE_CHECKING:
    from model.model import AIMarketModel

SEGMENT_COLUMNS = ["month", "segment", "firm", "users", "share"]
_IMMUTABLE = (str, int, bool, float, tuple)


def _keep(value: Any) -> Any:
    """What the DataCollector stores: immutable values as they are, others copied."""
    return value if isinstance(value, _IMMUTABLE) else deepcopy(value)


class Recorder:
    """Each month's indicators, firm records and users, for the output tables.

    A month is recorded as the raw values it needs (users, the offer arrays, each firm's
    books); the firm columns derived from them (users, share, price) are computed when the
    tables are built, by the same formulas :data:`model.metrics.FIRM_REPORTERS` applies to a
    live model, so the tables are value for value the ones the reporters would give.
    """

    def __init__(self, model: AIMarketModel):
        self.model_reporters = metrics.model_reporters(model.segment_ids)
        self.firm_reporters = metrics.FIRM_REPORTERS
        self.segment_ids = list(model.segment_ids)
        self.seller_ids = [s.firm_id for s in model.sellers]
        self.model_vars: dict[str, list[Any]] = {name: [] for name in self.model_reporters}
        self.steps: list[float] = []
        self.months: list[int] = []
        self.dates: list[str] = []
        self.users: list[np.ndarray] = []  # [S, P] per collection (read-only, not copied)
        self.adopters: list[int] = []
        self.offers: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # price, served, quality
        self.books: list[list[tuple[Any, ...]]] = []  # per month, one tuple per agent
        self.agents: list[list[Any]] = []  # per month, the agents in Mesa's order
        self._collector: mesa.DataCollector | None = None

    def collect(self, model: AIMarketModel) -> None:
        """Record the model's current month."""
        self.steps.append(model.time)
        for name, reporter in self.model_reporters.items():
            self.model_vars[name].append(_keep(reporter(model)))
        self.months.append(model.month)
        self.dates.append(model.date)
        self.users.append(model.population.users())
        self.adopters.append(model.population.adopters().sum())
        market = model.market
        # the market's arrays are replaced at every refresh, never changed in place
        self.offers.append((market.price_usd, market.available, market.quality))
        agents = list(model.agents)
        self.agents.append(agents)
        self.books.append([
            (agent.revenue_musd, agent.costs_musd, agent.funding_in_musd, agent.cash_musd,
             agent.credits_musd, min(agent.runway_months(), 999.0), agent.backer_ids(),
             float(getattr(agent, "quality", math.nan)),
             float(getattr(agent, "absorbed_points", 0.0)), agent.alive)
            for agent in agents])
        self._collector = None

    # ---------------------------------------------------------------- tables

    def model_frame(self) -> pd.DataFrame:
        """One row per month (the DataCollector's model variables)."""
        return pd.DataFrame(self.model_vars)

    def firm_columns(self) -> dict[str, np.ndarray]:
        """The firms table as columns, one row per month × agent (in Mesa's agent order), with
        ``Step`` and ``AgentID`` first; users, share and price computed for all rows at once
        by :func:`model.metrics.firm_users`' and :func:`model.metrics.price_of`'s formulas."""
        column_of = {seller_id: k for k, seller_id in enumerate(self.seller_ids)}
        month_of_row = np.repeat(np.arange(len(self.months)),
                                 [len(agents) for agents in self.agents])
        agents = [agent for month_agents in self.agents for agent in month_agents]
        column = np.array([column_of.get(agent.firm_id, -1) for agent in agents], dtype=np.int64)
        books = list(zip(*(book for month_books in self.books for book in month_books),
                         strict=True))
        (revenue, costs, funding, cash, credits, runway, backers, quality, absorbed,
         alive) = books if books else ((),) * 10
        n_rows = len(agents)
        users = np.zeros(n_rows, dtype=np.int64)
        price = np.full(n_rows, np.nan)
        quality = np.array(quality, dtype=float)
        seller = np.flatnonzero(column >= 0)
        if seller.size:
            months, columns = month_of_row[seller], column[seller]
            own_users = np.stack(self.users)[months, :, columns]  # [R, S]
            offers = [np.stack(parts) for parts in zip(*self.offers, strict=True)]
            own_price = offers[0][months, :, columns]
            own_served = offers[1][months, :, columns]
            users[seller] = own_users.sum(axis=1)
            price[seller] = metrics.prices_of(own_users, own_price, own_served)
            app = np.array([agents[row].kind == "app" for row in seller], dtype=bool)
            segment = np.array([agents[row].segment for row in seller[app]], dtype=np.int64)
            quality[seller[app]] = offers[2][months[app], segment, columns[app]]
        adopters = np.asarray(self.adopters, dtype=np.int64)[month_of_row]
        share = np.divide(users, adopters, out=np.zeros(n_rows), where=adopters > 0)
        return {
            "Step": np.asarray(self.steps)[month_of_row],
            "AgentID": np.array([agent.unique_id for agent in agents], dtype=np.int64),
            "month": np.asarray(self.months, dtype=np.int64)[month_of_row],
            "date": np.asarray(self.dates, dtype=object)[month_of_row],
            "firm": np.array([agent.firm_id for agent in agents], dtype=object),
            "kind": np.array([agent.kind for agent in agents], dtype=object),
            "users": users, "share": share,
            "revenue": np.array(revenue, dtype=float), "costs": np.array(costs, dtype=float),
            "funding_in": np.array(funding, dtype=float), "cash": np.array(cash, dtype=float),
            "credits": np.array(credits, dtype=float),
            "runway_months": np.array(runway, dtype=float),
            "backers": np.array(backers, dtype=object), "quality": quality,
            "absorbed_points": np.array(absorbed, dtype=float), "price": price,
            "alive": np.array(alive, dtype=bool),
        }

    def firms_frame(self) -> pd.DataFrame:
        """One row per month × firm, indexed by (Step, AgentID) like the DataCollector's."""
        columns = self.firm_columns()
        index = pd.MultiIndex.from_arrays([columns.pop("Step"), columns.pop("AgentID")],
                                          names=["Step", "AgentID"])
        return pd.DataFrame(columns, index=index, columns=list(self.firm_reporters))

    def segment_columns(self) -> dict[str, np.ndarray]:
        """The segments table as columns: month × segment × seller, in that order."""
        users = np.stack(self.users)  # [T, S, P]
        n_months, n_segments, n_sellers = users.shape
        shares = np.stack([metrics.segment_shares(u) for u in self.users])
        return {
            "month": np.repeat(np.asarray(self.months, dtype=np.int64), n_segments * n_sellers),
            "segment": np.tile(np.repeat(np.array(self.segment_ids, dtype=object), n_sellers),
                               n_months),
            "firm": np.tile(np.array(self.seller_ids, dtype=object), n_months * n_segments),
            "users": users.reshape(-1).astype(np.int64),
            "share": shares.reshape(-1),
        }

    def segments_frame(self) -> pd.DataFrame:
        """One row per month × segment × seller: ``users`` and ``share`` of the segment."""
        return pd.DataFrame(self.segment_columns(), columns=SEGMENT_COLUMNS)

    def datacollector(self) -> mesa.DataCollector:
        """A ``mesa.DataCollector`` holding what was recorded (built again after a month)."""
        if self._collector is None:
            collector = mesa.DataCollector(model_reporters=self.model_reporters,
                                           agent_reporters=self.firm_reporters,
                                           tables={"segments": SEGMENT_COLUMNS})
            collector._validated = True
            collector.model_vars = {name: list(v) for name, v in self.model_vars.items()}
            collector._collection_steps = list(self.steps)
            columns = self.firm_columns()
            records: dict[float, list[tuple[Any, ...]]] = {}
            for row in zip(*(values.tolist() for values in columns.values()), strict=True):
                records.setdefault(row[0], []).append(row)
            collector._agent_records = records
            collector.tables["segments"] = {name: values.tolist() for name, values
                                            in self.segment_columns().items()}
            self._collector = collector
        return self._collector
