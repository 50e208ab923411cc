"""The market as arrays over sellers × segments: what every offer is, read and written by agents.

:class:`MarketState` holds the state of the P sellers of a model (labs, apps, the community,
in the model's seller order) that the market is made of, one row per seller:

* ``[P, S]`` per segment: entry month, post-training quality bonus, markup, list price, and
  how far a free tier's model trails the paid one (NaN: no free tier);
* ``[P, M]`` per modality (text, image, video): capability, and a licensed model's capability
  (NaN where it has none);
* ``[P]`` per seller: alive, founding month, open weights, the column of the model beneath it
  (its own for labs and the community; the main supplier's for apps), what routing is worth
  to an app's users and, for apps, their one segment;
* ``[P, P]`` the share of each seller's work sent to each seller's model (an app's route).

Agents keep these as attributes (:class:`Row` and :class:`Cell` descriptors map
``lab.quality`` or ``seller.markup`` to their cell or row of the arrays), so a Mesa agent still
reads and decides like one, while every read over all sellers — who serves where, the quality
of every offer, the best rival, the offers users choose among — is one array operation, and a
month costs time linear in the number of firms.

The offer arrays users see (``quality``, ``price_usd``, ``available`` as ``[S, P]``, ``is_open``
as ``[P]``) are a snapshot taken at fixed points of the month (:meth:`refresh`), replaced at
every refresh and never changed in place, so a reader may keep them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from moatsim import pricing
from moatsim.scenario import MODALITIES

if TYPE_CHECKING:
    from moatsim.agents import Lab, Seller

NEVER = 10**9
"""Entry month of a segment a seller does not serve."""

LAB, APP, COMMUNITY = 0, 1, 2
"""Kinds of seller, as stored in :attr:`MarketState.kind`."""


class Row:
    """A seller's row of a ``[P, S]`` market array, as an attribute: reading gives a view
    (writes into it go to the market), assigning writes the row in place."""

    def __init__(self, array: str | None = None):
        self.name = array  # the market's attribute; by default the agent attribute's name

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = self.name or name

    def __get__(self, seller: Any, owner: type | None = None) -> Any:
        if seller is None:
            return self
        return getattr(seller.model.market, self.name)[seller.column]

    def __set__(self, seller: Any, value: Any) -> None:
        getattr(seller.model.market, self.name)[seller.column] = value


class ReadOnlyRow(Row):
    """A row that agents read but change only through :class:`MarketState` methods (which
    keep the market's caches right): reading gives a read-only view."""

    def __get__(self, seller: Any, owner: type | None = None) -> Any:
        if seller is None:
            return self
        view = getattr(seller.model.market, self.name)[seller.column]
        view.flags.writeable = False
        return view

    def __set__(self, seller: Any, value: Any) -> None:
        raise AttributeError(f"{self.name} changes through MarketState methods")


class Cell(Row):
    """A seller's cell of a ``[P]`` market array, as a Python number attribute."""

    def __get__(self, seller: Any, owner: type | None = None) -> Any:
        if seller is None:
            return self
        return getattr(seller.model.market, self.name)[seller.column].item()


class MarketState:
    """Sellers' offers and the state they are made of, as arrays (see the module docstring)."""

    def __init__(self, n_segments: int, capacity: int = 16,
                 segment_modality: np.ndarray | None = None):
        self.n_segments = n_segments
        self.segment_modality = (np.zeros(n_segments, dtype=np.int64)
                                 if segment_modality is None
                                 else np.asarray(segment_modality, dtype=np.int64))
        self.sellers: list[Seller] = []
        self.index: dict[int, int] = {}  # id(seller) → column
        capacity = max(capacity, 1)
        shape = (capacity, n_segments)
        self.entry_month = np.full(shape, NEVER, dtype=np.int64)
        self.quality_bonus = np.zeros(shape)
        self.markup = np.zeros(shape)
        self.list_price_usd = np.zeros(shape)
        self.free_tier_gap = np.full(shape, np.nan)  # NaN: no free tier
        self.capability = np.full((capacity, len(MODALITIES)), np.nan)
        self.licensed_capability = np.full((capacity, len(MODALITIES)), np.nan)
        self.alive = np.zeros(capacity, dtype=bool)
        self.founded_month = np.zeros(capacity, dtype=np.int64)
        self.open_weights = np.zeros(capacity, dtype=bool)
        self.trust_stock_musd = np.zeros(capacity)  # C27: labs' safety goodwill
        self.supplier_column = np.arange(capacity)  # an app's main supplier; others their own
        # [P, P] share of each seller's work sent to each seller's model: an app's mix of
        # suppliers (one, or several when it routes), everyone else its own
        self.route_share = np.eye(capacity)
        self.routing_gain_utils = np.zeros(capacity)  # what routing tasks is worth to users
        self.kind = np.zeros(capacity, dtype=np.int64)
        self.app_segment = np.zeros(capacity, dtype=np.int64)
        # the offers users see, [S, P] (see refresh)
        self.quality = np.zeros((n_segments, 0))
        self.price_usd = np.zeros((n_segments, 0))
        self.available = np.zeros((n_segments, 0), dtype=bool)
        self.is_open = np.zeros((0, 0), dtype=bool)
        self._rivals: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._version = 0  # bumped by every change to who serves where (see serving)
        self._serving: tuple[int, int, np.ndarray] | None = None
        self._quality_version = 0  # bumped by every change to what offers' quality is made of
        self._offer_quality: tuple[int, np.ndarray] | None = None
        self._serves_licence: tuple[int, np.ndarray] | None = None
        self._frontier: dict[tuple[int, bool], tuple[int, int, np.ndarray]] = {}

    # ---------------------------------------------------------------- sellers

    def claim(self, seller: Seller, kind: int, founded_month: int) -> int:
        """Give ``seller`` the next column (growing the arrays when full); returns it."""
        column = len(self.sellers)
        if column == self.capability.shape[0]:
            self._grow()
        self.sellers.append(seller)
        self.index[id(seller)] = column
        self.kind[column] = kind
        self.alive[column] = True
        self.founded_month[column] = founded_month
        self.supplier_column[column] = column
        self._version += 1
        self._quality_version += 1
        return column

    def set_founded(self, column: int, month: int) -> None:
        """A seller founded by a decision during the run (an entrant) exists from ``month``."""
        self.founded_month[column] = month
        self._version += 1
        self._quality_version += 1

    def withdraw(self, column: int) -> None:
        """A seller takes its products off the market in every segment (it may enter again)."""
        self.entry_month[column] = NEVER
        self._version += 1

    def set_app_segment(self, column: int, segment: int) -> None:
        """The one segment an app serves (an app entrant picks it when it is founded)."""
        self.app_segment[column] = segment
        self._version += 1
        self._quality_version += 1

    def set_entry(self, column: int, segment: int, month: int) -> None:
        """The month a seller enters (or entered) a segment."""
        self.entry_month[column, segment] = month
        self._version += 1

    def leave(self, column: int) -> None:
        """A seller exits the market."""
        self.alive[column] = False
        self._version += 1

    def set_supplier(self, column: int, supplier_column: int) -> None:
        """An app now runs on the model of the seller in ``supplier_column``."""
        self.set_route(column, np.array([supplier_column]), np.ones(1), 0.0)

    def set_route(self, column: int, supplier_columns: np.ndarray, shares: np.ndarray,
                  gain_utils: float) -> None:
        """An app now sends ``shares`` (summing to 1) of its users' work to the models of the
        sellers in ``supplier_columns``, which is worth ``gain_utils`` to its users; its main
        supplier is the one with the largest share."""
        self.route_share[column] = 0.0
        self.route_share[column, supplier_columns] = shares
        self.supplier_column[column] = supplier_columns[int(np.argmax(shares))]
        self.routing_gain_utils[column] = gain_utils
        self._version += 1
        self._quality_version += 1

    def routed_price(self, price_usd: np.ndarray) -> np.ndarray:
        """[S, A] what a user of each app costs it in API fees, given every seller's price
        ``price_usd`` [S, P]: its suppliers' prices weighted by its route."""
        p = self.size
        apps = np.flatnonzero(self.kind[:p] == APP)
        return price_usd @ self.route_share[apps][:, :p].T

    def set_licensed(self, column: int, capability: np.ndarray | None) -> None:
        """A lab serves a licensed model of ``capability`` ([M]) where it is better (None:
        stop)."""
        self.licensed_capability[column] = np.nan if capability is None else capability
        self._quality_version += 1

    def set_capability(self, column: int, value: Any, modality: int | slice = slice(None)
                       ) -> None:
        """A seller's capability in one modality (or in all of them, by default)."""
        self.capability[column, modality] = value
        self._quality_version += 1

    def add_to_bonus(self, columns: np.ndarray, delta: np.ndarray) -> None:
        """Post-training moves the ``[N, S]`` quality bonus of the sellers in ``columns``."""
        self.quality_bonus[columns] += delta
        self._quality_version += 1

    _PER_SELLER = ("entry_month", "quality_bonus", "markup", "list_price_usd", "free_tier_gap",
                   "capability",
                   "licensed_capability", "alive", "founded_month", "open_weights",
                   "trust_stock_musd", "supplier_column", "routing_gain_utils", "kind",
                   "app_segment")

    def _grow(self) -> None:
        """Double the room for sellers (for sellers that enter after the start)."""
        capacity = self.capability.shape[0]
        for name in self._PER_SELLER:
            value = getattr(self, name)
            extra = np.empty_like(value)
            if name == "entry_month":
                extra.fill(NEVER)
            elif name == "supplier_column":
                extra[:] = np.arange(capacity, 2 * capacity)
            elif name in ("capability", "licensed_capability", "free_tier_gap"):
                extra.fill(np.nan)
            else:
                extra.fill(0)
            setattr(self, name, np.concatenate([value, extra]))
        route = np.eye(2 * capacity)
        route[:capacity, :capacity] = self.route_share
        self.route_share = route

    def position(self, seller: Seller) -> int:
        """Column of ``seller`` in the arrays."""
        return self.index[id(seller)]

    @property
    def size(self) -> int:
        return len(self.sellers)

    # ---------------------------------------------------------------- reads over all sellers

    def serving(self, month: int) -> np.ndarray:
        """[P, S] whether each seller offers a product in each segment at ``month``: entered,
        founded and alive, and (for apps) the model beneath it still exists.

        Read-only; computed once per month and change of who serves where (entries, exits,
        app swaps all go through this class's methods)."""
        if self._serving is not None and self._serving[:2] == (month, self._version):
            return self._serving[2]
        p = self.size
        active = self.alive[:p] & (self.founded_month[:p] <= month)
        serving = ((self.entry_month[:p] <= month) & active[:, None]
                   & self.alive[self.supplier_column[:p]][:, None])
        serving.flags.writeable = False
        self._serving = (month, self._version, serving)
        return serving

    def frontier(self, month: int, *, closed_only: bool = False) -> np.ndarray:
        """[M] best capability in each modality of a lab active at ``month`` (of a closed one,
        if asked); NaN where no such lab has a model. Read-only, cached per month and change."""
        key = (month, closed_only)
        cached = self._frontier.get(key)
        if cached is not None and cached[:2] == (self._version, self._quality_version):
            return cached[2]
        p = self.size
        labs = (self.kind[:p] == LAB) & self.alive[:p] & (self.founded_month[:p] <= month)
        if closed_only:
            labs &= ~self.open_weights[:p]
        capability = self.capability[:p][labs]
        has = ~np.isnan(capability)
        best = np.where(has, capability, -np.inf).max(axis=0, initial=-np.inf)
        best[~has.any(axis=0)] = np.nan
        best.flags.writeable = False
        if len(self._frontier) > 8:
            self._frontier.clear()
        self._frontier[key] = (self._version, self._quality_version, best)
        return best

    def best_capability(self, month: int, *, closed_only: bool = False, default: float,
                        modality: int = 0) -> float:
        """Best capability in ``modality`` of a lab active at ``month`` (of a closed one, if
        asked), else ``default``."""
        best = self.frontier(month, closed_only=closed_only)[modality]
        return default if np.isnan(best) else best.item()

    def api_capability(self) -> np.ndarray:
        """[P, M] capability of the model each seller's API sells: its own or a licensed one."""
        p = self.size
        return np.fmax(self.capability[:p], self.licensed_capability[:p])

    def offer_quality(self) -> np.ndarray:
        """[P, S] quality of every seller's product in every segment: a lab's capability plus
        its post-training bonus (or a licensed model's, when better); an app's supplier's API
        model plus its own bonus, in its one segment (−inf elsewhere); the community's
        capability everywhere.

        Read-only; computed again only after a change to what it is made of."""
        if self._offer_quality is not None and self._offer_quality[0] == self._quality_version:
            return self._offer_quality[1]
        p = self.size
        bonus, kind, modality = self.quality_bonus[:p], self.kind[:p], self.segment_modality
        quality = self.capability[:p][:, modality] + bonus
        licensed = self.licensed_capability[:p][:, modality]
        has_licence = ~np.isnan(licensed)
        if has_licence.any():
            quality = np.where(has_licence, np.fmax(quality, licensed + bonus), quality)
        apps = np.flatnonzero(kind == APP)
        if apps.size:
            segment = self.app_segment[apps]
            quality[apps] = -np.inf
            # the suppliers' models weighted by the app's route (NaN if one has no model)
            supplied = self.api_capability()[:p][:, modality[segment]].T  # [A, P]
            mix = self.route_share[apps][:, :p]
            quality[apps, segment] = (np.where(mix > 0, mix * supplied, 0.0).sum(axis=1)
                                      + bonus[apps, segment])
        community = np.flatnonzero(kind == COMMUNITY)
        quality[community] = self.capability[community][:, modality]
        quality[np.isnan(quality)] = -np.inf  # no model in that modality
        quality.flags.writeable = False
        self._offer_quality = (self._quality_version, quality)
        return quality

    def offer_open(self) -> np.ndarray:
        """[P, S] whether each offer is an open-weights model: its seller's own open weights,
        except where it serves a licensed model because that is better (C22) — the licensor's
        model, which is not open."""
        return self.open_weights[:self.size, None] & ~self.serves_licence()

    def serves_licence(self) -> np.ndarray:
        """[P, S] whether each seller serves a licensed model in each segment: it has one in
        the segment's modality, and it is better than its own.

        Read-only; computed again only after a change to capabilities or licences (it is
        read by prices, utilities, costs and fees each month)."""
        if self._serves_licence is not None and self._serves_licence[0] == self._quality_version:
            return self._serves_licence[1]
        p = self.size
        modality = self.segment_modality
        own = self.capability[:p][:, modality]
        serves = self.licensed_capability[:p][:, modality] > np.where(
            np.isnan(own), -np.inf, own)  # False where there is no licence (NaN)
        serves.flags.writeable = False
        self._serves_licence = (self._quality_version, serves)
        return serves

    def refresh(self, month: int) -> None:
        """Take the snapshot of every offer users see at ``month`` (new arrays)."""
        p = self.size
        self.quality = np.ascontiguousarray(self.offer_quality().T)
        self.price_usd = np.ascontiguousarray(self.list_price_usd[:p].T)
        self.available = np.ascontiguousarray(self.serving(month).T)
        self.is_open = np.ascontiguousarray(self.offer_open().T)

    def set_prices(self, cost_to_serve_usd: np.ndarray) -> None:
        """Every seller's list price = unit cost × (1 + markup): labs and the community pay the
        [S, P] cost of serving a user of their offer; an app pays its supplier's price in its
        segment, so apps are priced after the labs."""
        p = self.size
        apps = np.flatnonzero(self.kind[:p] == APP)
        others = np.flatnonzero(self.kind[:p] != APP)
        cost = np.broadcast_to(cost_to_serve_usd, (self.n_segments, p)).T
        self.list_price_usd[others] = pricing.list_prices(cost[others], self.markup[others])
        segment = self.app_segment[apps]
        cost = np.zeros((apps.size, self.n_segments))
        cost[np.arange(apps.size), segment] = self.routed_price(
            self.list_price_usd[:p].T)[segment, np.arange(apps.size)]
        self.list_price_usd[apps] = pricing.list_prices(cost, self.markup[apps])

    def best_offer_quality(self) -> np.ndarray:
        """[S] best quality on offer in each segment (−inf where nobody serves), as of the last
        :meth:`refresh`."""
        return np.where(self.available, self.quality, -np.inf).max(axis=1)

    # ---------------------------------------------------------------- rivals of labs

    def rank_rivals(self, month: int) -> None:
        """Rank the offers as they stand now for :meth:`best_rival_quality`.

        A lab's rivals are all sellers except itself and the apps running on its model, so
        sellers are grouped by the model beneath them (a lab and its apps; the community on
        its own) and each segment keeps the best and second-best group. This reads the
        sellers' current quality and availability without replacing the offer arrays users
        see (:meth:`refresh`).
        """
        p = self.size
        offered = np.where(self.serving(month), self.offer_quality(), -np.inf)  # [P, S]
        best_of_group = np.full(offered.shape, -np.inf)  # [G = P, S]
        np.maximum.at(best_of_group, self.supplier_column[:p], offered)
        top = np.argmax(best_of_group, axis=0)  # [S]
        columns = np.arange(best_of_group.shape[1])
        first = best_of_group[top, columns]
        without_top = best_of_group.copy()
        without_top[top, columns] = -np.inf
        self._rivals = (top, first, without_top.max(axis=0))

    def rivals(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """[S] each segment's best group (its column), the best quality and the best quality
        outside that group, as ranked by the last :meth:`rank_rivals`."""
        if self._rivals is None:
            raise RuntimeError("rank_rivals() must be called first")
        return self._rivals

    def best_rival_quality(self, lab: Lab) -> np.ndarray:
        """[S] best quality offered by a seller not running on ``lab``'s model (as ranked by
        the last :meth:`rank_rivals`)."""
        top, first, second = self.rivals()
        return np.where(top == self.index[id(lab)], second, first)
