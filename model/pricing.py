"""Prices: each seller's best response to the logit demand it faces, or the old lead rule.

**Best response** (the default, ``pricing.rule: best_response``). In a segment, cohort c values
seller k's offer at ``u = v[c, k] − α[c] · p[k]`` (quality, openness, brand, network and
distribution in ``v``; :mod:`moatsim.choice`), against an outside option ``u₀``. The users who
choose this month are the demand a price acts on (:class:`Choosers`): non-adopters who adopt
(Bass hazard × the logit over the outside option and the offers) and adopters who look around
(their current provider gets the switching-cost bonus ψ; they may also leave for the outside
option, ``choice.lookers_may_leave``). With ``P[g, k]`` the logit choice of
chooser group g (of weight ``n[g]``), seller k's demand and its price derivative are

    D[k] = Σ_g n[g] P[g, k],     ∂D[k]/∂p[k] = −Σ_g n[g] α[g] P[g, k] (1 − P[g, k]),

and its first-order condition ``D + (p − c) ∂D/∂p = 0`` gives the Nash–Bertrand markup of a
single-product firm, ``p − c = D / (Λ − Γ)`` with ``Λ = Σ n α P`` and ``Γ = Σ n α P²``
(one cohort and no switching: ``p − c = 1 / (α (1 − s))``). All sellers' prices are solved
together by the fixed point ``p ← c + (D + Γ (p − c)) / Λ`` (Morrow & Skerlos 2011; the
iteration PyBLP uses, Conlon & Gortmaker 2020), vectorised over segments and sellers, from
last month's prices. Open weights and the community sell at hosting cost; an app's cost is its
suppliers' prices in the same iteration. Markups therefore fall where users are price-sensitive,
where rivals are close substitutes or a free open model is strong, and rise with a quality
lead — as outcomes of demand, not rules.

**Lead markup** (``pricing.rule: lead_markup``, the rule before issue 12, kept for comparison):

    target_markup = floor + (max − floor) · (1 − exp(−lead⁺ / scale))

where ``lead`` is the seller's quality in a segment minus the best rival's there; a seller
moves a share of the way to its target each month.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# ---------------------------------------------------------------- best response to demand


@dataclass(frozen=True)
class Choosers:
    """The users who choose a provider this month, in one market's segments.

    ``adopting`` [S, C]: non-adopters who adopt this month (in expectation), choosing among the
    offers and the outside option; ``looking`` [S, C, K]: adopters of each provider who look
    around (all of them where their provider no longer serves), choosing among the offers
    with a bonus ``switching_cost`` for the one they have, and the outside option too if
    ``lookers_may_leave``.
    """

    adopting: np.ndarray
    looking: np.ndarray
    switching_cost: float
    lookers_may_leave: bool = False

    @classmethod
    def of(cls, counts: np.ndarray, available: np.ndarray, hazard: np.ndarray,
           reconsider_share: float, switching_cost: float, *,
           lookers_may_leave: bool = False) -> Choosers:
        """From the population's ``counts`` [S, C, 1 + K] (column 0: not adopted), what is
        on offer [S, K], the Bass hazard [S] and the share of adopters who look around."""
        users = counts[:, :, 1:].astype(float)
        look = np.where(available[:, None, :], reconsider_share, 1.0)
        return cls(adopting=hazard[:, None] * counts[:, :, 0], looking=look * users,
                   switching_cost=switching_cost, lookers_may_leave=lookers_may_leave)


@dataclass(frozen=True)
class FreeTiers:
    """Free tiers beside paid products (C10, F12): ``value`` [S, C, K] of each seller's free
    tier to each cohort (its price is 0; −inf where it has none) and ``cost_usd`` [S, K] of
    serving a free-tier user."""

    value: np.ndarray
    cost_usd: np.ndarray


@dataclass(frozen=True)
class Demand:
    """What a seller's paid price acts on, per segment and seller [S, K]: paid demand
    ``D = Σ n P``, the two sums of the first-order condition, ``Λ = Σ n α P`` and
    ``Γ = Σ n α P²`` (over chooser groups), and what a higher price costs it on its free tier,
    ``F = c_free Σ n α P P_free`` (users pushed onto a tier that earns nothing; 0 without
    free tiers)."""

    demand: np.ndarray
    lam: np.ndarray
    gamma: np.ndarray
    free_cost: np.ndarray | float = 0.0

    def residual(self, markup: np.ndarray) -> np.ndarray:
        """[S, K] the first-order condition ``D + (p − c) ∂D/∂p − c_free ∂D_free/∂p`` at
        ``markup = p − c``."""
        return self.demand - self.free_cost - markup * (self.lam - self.gamma)


def logit_demand(value: np.ndarray, price_usd: np.ndarray, available: np.ndarray,
                 price_weight: np.ndarray, outside_utility: float,
                 choosers: Choosers) -> Demand:
    """[S, K] demand and first-order sums at ``price_usd`` [S, K], for offers worth ``value``
    [S, C, K] before price to cohorts with ``price_weight`` [C] (closed forms of the sums over
    chooser groups: a looking user's logit differs from the others' only in its provider)."""
    return _demand(np.where(available[:, None, :], value, -np.inf), price_usd, price_weight,
                   outside_utility, choosers)


def _demand(offered_value: np.ndarray, price_usd: np.ndarray, price_weight: np.ndarray,
            outside_utility: float, choosers: Choosers,
            free_tiers: FreeTiers | None = None) -> Demand:
    """:func:`logit_demand` with the value of offers not on sale already at −inf.

    With free tiers, a provider's weight is the sum over its two tiers and each group's
    choice of its paid tier is ``σ P`` (σ: the cohort's within-provider paid share, the same
    for every chooser group since a switching bonus moves both tiers), so the sums over groups
    become ``Σ σ·first``, ``Σ α σ·first``, ``Σ α σ²·second`` and the cross term
    ``Σ α σ (1 − σ)·second``."""
    utility = offered_value - price_weight[None, :, None] * price_usd[:, None, :]
    paid_share = None
    if free_tiers is not None:
        paid = utility
        with np.errstate(invalid="ignore"):  # −inf − (−inf) where neither tier is offered
            utility = np.logaddexp(paid, free_tiers.value)
            paid_share = np.where(np.isfinite(utility), np.exp(paid - utility), 0.0)
    # weights relative to the best offer (1 for it, 0 where not offered), so a looking user's
    # denominator is at least 1; the outside option's weight may overflow to inf, which
    # correctly leaves no adopters
    best = utility.max(axis=2)  # [S, C]
    peak = np.where(np.isfinite(best), best, outside_utility)
    weight = np.exp(utility - peak[:, :, None])  # [S, C, K]
    offers = weight.sum(axis=2)  # [S, C]
    with np.errstate(over="ignore"):
        with_outside = offers + np.exp(outside_utility - peak)
    new_users = choosers.adopting / with_outside  # n₀ / Z₀ (0 when Z₀ overflows)
    new_users_sq = new_users / with_outside  # n₀ / Z₀²
    bonus = np.expm1(choosers.switching_cost)  # e^ψ − 1
    # a looking user's denominator, by provider (with the outside option's weight if they
    # may leave: an overflow to inf leaves no demand, as for adopters)
    mine = (with_outside if choosers.lookers_may_leave else offers)[:, :, None] + bonus * weight
    # n_j / Z_j for the users of each provider who look around (0 where nothing is offered)
    looking = np.divide(choosers.looking, mine, out=np.zeros_like(mine), where=mine > 0)
    looking_sq = np.divide(looking, mine, out=np.zeros_like(mine), where=mine > 0)
    # Σ_g n_g P_gk and Σ_g n_g P_gk², per cohort
    first = weight * ((new_users + looking.sum(axis=2))[:, :, None] + bonus * looking)
    second = weight * weight * ((new_users_sq + looking_sq.sum(axis=2))[:, :, None]
                                + ((1.0 + bonus) ** 2 - 1.0) * looking_sq)
    alpha = price_weight[None, :, None]
    if paid_share is None:
        return Demand(demand=first.sum(axis=1), lam=(alpha * first).sum(axis=1),
                      gamma=(alpha * second).sum(axis=1))
    paid_first = paid_share * first
    return Demand(demand=paid_first.sum(axis=1), lam=(alpha * paid_first).sum(axis=1),
                  gamma=(alpha * paid_share ** 2 * second).sum(axis=1),
                  free_cost=free_tiers.cost_usd * (
                      alpha * paid_share * (1.0 - paid_share) * second).sum(axis=1))


@dataclass(frozen=True)
class Equilibrium:
    """The prices chosen [S, K] and how the fixed point got there."""

    price_usd: np.ndarray
    iterations: int
    max_step_usd: float
    foc_residual: float  # largest |D + (p − c) ∂D/∂p| / D over priced offers with demand


def best_response_prices(value: np.ndarray, cost_usd: np.ndarray, start_usd: np.ndarray,
                         available: np.ndarray, priced: np.ndarray, supplier_mix: np.ndarray,
                         is_app: np.ndarray, price_weight: np.ndarray, cohort_share: np.ndarray,
                         outside_utility: float, choosers: Choosers, *,
                         max_iterations: int, tolerance_usd: float,
                         free_tiers: FreeTiers | None = None) -> Equilibrium:
    """Nash–Bertrand prices of a month (module docstring), [S, K].

    ``cost_usd`` [S, K] is each seller's cost of serving a user (ignored for apps, whose cost
    is their suppliers' prices weighted by their row of ``supplier_mix`` [K, K]); ``priced``
    ([S, K], or [K] per seller) marks the offers whose seller chooses a price (the others
    sell at cost); ``start_usd`` is where the iteration starts (last month's prices). Offers nobody could choose get the markup of a tiny seller, ``1 / ᾱ``. With
    ``free_tiers`` a seller prices its paid tier knowing that a higher price moves users to
    its free tier, which costs it ``free_tiers.cost_usd`` a user; a price never falls below 0.
    """
    apps = np.flatnonzero(is_app)
    fallback = 1.0 / float(cohort_share @ price_weight)
    priced = np.broadcast_to(priced, cost_usd.shape)

    def unit_cost(price: np.ndarray) -> np.ndarray:
        cost = cost_usd.copy()
        cost[:, apps] = price @ supplier_mix[apps].T
        return cost

    offered_value = np.where(available[:, None, :], value, -np.inf)
    if free_tiers is not None:  # a free tier is on offer only where its seller serves
        free_tiers = FreeTiers(value=np.where(available[:, None, :], free_tiers.value, -np.inf),
                               cost_usd=free_tiers.cost_usd)

    def zeta(price: np.ndarray) -> np.ndarray:
        """One step of the fixed point p ← c + (D − F + Γ (p − c)) / Λ (Morrow & Skerlos 2011;
        F = 0 without free tiers)."""
        cost = unit_cost(price)
        demand = _demand(offered_value, price, price_weight, outside_utility, choosers,
                         free_tiers)
        markup = np.divide(demand.demand - demand.free_cost + demand.gamma * (price - cost),
                           demand.lam, out=np.full(price.shape, fallback),
                           where=demand.lam > 0)
        new = np.where(priced, cost + markup, cost)
        return new if free_tiers is None else np.maximum(new, 0.0)

    # SQUAREM (Varadhan & Roland 2008), as PyBLP accelerates this fixed point: two steps, an
    # extrapolation along them, then a step from there (which keeps prices above cost); an
    # extrapolation that leaves a larger residual than the two plain steps is dropped for
    # them (the safeguard of Varadhan & Roland: without it the iteration can cycle)
    price = zeta(np.where(priced, np.maximum(start_usd, cost_usd), cost_usd))
    evaluations, step = 1, np.inf
    while evaluations < max_iterations and step > tolerance_usd:
        once = zeta(price)
        twice = zeta(once)
        evaluations += 2
        r, v = once - price, twice - 2.0 * once + price
        norm_v = float(np.sqrt((v * v).sum()))
        alpha = -float(np.sqrt((r * r).sum())) / norm_v if norm_v > 0 else -1.0
        alpha = min(alpha, -1.0)
        extrapolated = price - 2.0 * alpha * r + alpha ** 2 * v
        extrapolated = np.where(np.isfinite(extrapolated) & (extrapolated > 0),
                                extrapolated, twice)
        new = zeta(extrapolated)
        evaluations += 1
        if new.size and np.abs(new - extrapolated).max() > np.abs(twice - once).max():
            step, price = float(np.abs(twice - once).max()), twice
            continue
        step = float(np.abs(new - price).max()) if new.size else 0.0
        price = new
    cost = unit_cost(price)
    demand = _demand(offered_value, price, price_weight, outside_utility, choosers, free_tiers)
    checked = priced & available & (demand.demand > 0) & (price > 0)
    residual = np.abs(demand.residual(price - cost))[checked] / demand.demand[checked]
    return Equilibrium(price_usd=price, iterations=evaluations, max_step_usd=step,
                       foc_residual=float(residual.max()) if residual.size else 0.0)


# ---------------------------------------------------------------- the lead-markup rule


def target_markup(lead_points: np.ndarray, max_markup: float, floor: float,
                  scale_points: float) -> np.ndarray:
    lead = np.maximum(np.asarray(lead_points, dtype=float), 0.0)
    return floor + (max_markup - floor) * (1.0 - np.exp(-lead / scale_points))


def list_prices(unit_cost_usd: np.ndarray, markup: np.ndarray) -> np.ndarray:
    """Price = unit cost × (1 + markup), elementwise."""
    return unit_cost_usd * (1.0 + markup)


def adjust(current: np.ndarray, target: np.ndarray, share: float) -> np.ndarray:
    """Move ``share`` of the way from ``current`` to ``target``."""
    return current + share * (target - current)
