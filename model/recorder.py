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

import itertools
import operator
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
    """Each month's indicators, firm records and users, for the output tables."""

    def __init__(self, model: AIMarketModel):
        self.model_reporters = metrics.model_reporters(model.segment_ids)
        self.firm_reporters = metrics.FIRM_REPORTERS
        self._firm_getters = [operator.attrgetter(r) if isinstance(r, str) else r
                              for r in self.firm_reporters.values()]
        self.segment_ids = list(model.segment_ids)
        self.seller_ids = [s.firm_id for s in model.sellers]
        self.model_vars: dict[str, list[Any]] = {name: [] for name in self.model_reporters}
        self.steps: list[float] = []
        self.agent_records: dict[float, list[tuple[Any, ...]]] = {}
        self.months: list[int] = []
        self.users: list[np.ndarray] = []  # [S, P] per collection (read-only, not copied)
        self._collector: mesa.DataCollector | None = None

    def collect(self, model: AIMarketModel) -> None:
        """Record the model's current month."""
        self.steps.append(model.time)
        for name, reporter in self.model_reporters.items():
            self.model_vars[name].append(_keep(reporter(model)))
        getters = self._firm_getters
        self.agent_records[model.time] = [
            (model.time, agent.unique_id, *(_keep(get(agent)) for get in getters))
            for agent in model.agents]
        self.months.append(model.month)
        self.users.append(model.population.users())
        self._collector = None

    # ---------------------------------------------------------------- tables

    def model_frame(self) -> pd.DataFrame:
        """One row per month (the DataCollector's model variables)."""
        return pd.DataFrame(self.model_vars)

    def firms_frame(self) -> pd.DataFrame:
        """One row per month × firm, indexed by (Step, AgentID) like the DataCollector's."""
        return pd.DataFrame.from_records(
            data=itertools.chain.from_iterable(self.agent_records.values()),
            columns=["Step", "AgentID", *self.firm_reporters], index=["Step", "AgentID"])

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
            collector._agent_records = dict(self.agent_records)
            collector.tables["segments"] = {name: values.tolist() for name, values
                                            in self.segment_columns().items()}
            self._collector = collector
        return self._collector
