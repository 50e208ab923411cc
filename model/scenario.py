"""The scenario schema: every input of a moatsim run, typed, ranged, documented and sourced.

A scenario is a YAML file validated by :class:`Scenario`. Each number is declared with
:func:`moatsim.params.param`, which records its unit, allowed range, one-line description and
source (a seed fact id from ``seeds/facts.yaml``, an outside reference, or
``assumption: <why>``). Values set for a particular firm, segment or cohort in a YAML file
carry their own citations in that entry's ``sources`` mapping.

Loading (``extends``, deep merge, ``--set`` overrides, error messages with file and line)
lives in :mod:`moatsim.loading`; this module only says what a valid scenario is.
"""

from __future__ import annotations

import re
import typing
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from moatsim.params import flag, param

IDENTIFIER_PATTERN = r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$"
Identifier = Annotated[str, StringConstraints(pattern=IDENTIFIER_PATTERN, max_length=40)]
"""Lower-case id usable as a Python identifier, without ``__`` (the flat-name separator)."""

OUTSIDE_INVESTOR = "venture_capital"
"""Investor id for money from outside the model (VC funds): it has no cash of its own to run out."""
SCENARIO_AGENT = "scenario"
"""Agent of the events no firm causes: a regime change (``kind: set``) is the scenario's."""

FIRST_YEAR, LAST_YEAR = 2000, 2100
"""Years a scenario's dates may name: the articles describe 2023 on, figures put dates on a
calendar axis (year 0 crashes matplotlib), and nothing like this market existed before 2000."""


def _year_month(value: str) -> str:
    match = re.fullmatch(r"(\d{4})-(0[1-9]|1[0-2])", value)
    if match is None:
        raise ValueError("expected a month written YYYY-MM, e.g. \"2024-03\"")
    if not FIRST_YEAR <= int(match[1]) <= LAST_YEAR:
        raise ValueError(f"the year must be from {FIRST_YEAR} to {LAST_YEAR}")
    return value


YearMonth = Annotated[str, AfterValidator(_year_month)]
"""A calendar month written ``YYYY-MM``, in the years FIRST_YEAR to LAST_YEAR."""

_NUMBERS = {int, float}
_UNIONS = (typing.Union, type(int | None))


def _is_number(annotation: Any) -> bool:
    """``int``, ``float`` or one of them ``| None``."""
    if annotation in _NUMBERS:
        return True
    args = set(typing.get_args(annotation)) - {type(None)}
    return typing.get_origin(annotation) in _UNIONS and bool(args) and args <= _NUMBERS


def not_a_flag(value: Any) -> Any:
    """Refuse ``true``/``false`` where a number is wanted (pydantic reads ``true`` as 1)."""
    if isinstance(value, bool):
        raise ValueError("expected a number, not true/false")
    return value


class Section(BaseModel):
    """Base for every part of a scenario: unknown keys are errors, values are re-validated,
    numbers must be finite (no ``.nan``, ``.inf``) and are never read from ``true``/``false``."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False,
                              allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _numbers_are_not_flags(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, bool):  # the common case, decided without the annotation
            return value
        field = cls.model_fields.get(info.field_name or "")
        return not_a_flag(value) if field is not None and _is_number(field.annotation) \
            else value


def bounded(ge: float, le: float) -> Any:
    """A finite float in ``[ge, le]``, not read from true/false: the type of dict values,
    which :func:`param` cannot declare."""
    return Annotated[float, BeforeValidator(not_a_flag), Field(ge=ge, le=le)]


def bounded_int(ge: int, le: int) -> Any:
    """A whole number in ``[ge, le]``, not read from true/false, for dict keys (lax, so a
    ``--set`` path part such as ``2030`` still reads as the year)."""
    return Annotated[int, BeforeValidator(not_a_flag), Field(ge=ge, le=le)]


class Sourced(Section):
    """An entry whose values are set in YAML and cited in its ``sources`` mapping."""

    sources: dict[str, str] = Field(
        default_factory=dict,
        description="field name → seed fact id, outside reference or 'assumption: why'",
    )


MODALITIES = ("text", "image", "video")
"""The capabilities a lab trains separately (issue 12): text and code, images, video."""
Modality = Literal["text", "image", "video"]


class Segment(Sourced):
    """A market where models compete for users (M3: discrete businesses, not one AGI race)."""

    id: Identifier
    label: str = Field(description="name shown in tables and figures")
    potential_users: float = param(
        1e8, unit="users", ge=1, le=1e10,
        doc="people or seats who could adopt a generative-AI product in this segment",
        source="assumption: placeholder default; each baseline segment cites its own figure",
    )
    bass_innovation_monthly: float = param(
        0.0025, unit="1/month", ge=0, le=1,
        doc="Bass p: share of non-adopters who adopt each month on their own",
        source="Sultan, Farley & Lehmann 1990: p≈0.03/year ⇒ 0.0025/month",
    )
    bass_imitation_monthly: float = param(
        0.032, unit="1/month", ge=0, le=1,
        doc="Bass q: extra adoption hazard per unit of adopted share (word of mouth)",
        source="Sultan, Farley & Lehmann 1990: q≈0.38/year ⇒ 0.032/month",
    )
    cost_to_serve_usd_per_user_month: float = param(
        0.5, unit="USD/user-month", ge=0, le=1000,
        doc="inference cost of serving one active user for a month at the start date",
        source="F11: < $0.01 per query; assumption: ~50 queries per user-month",
    )
    trust_weight_utils: float = param(
        0.0, unit="utils", ge=0, le=20,
        doc="what a seller's trust reputation is worth to users here: utility per unit of "
        "ln(1 + trust stock / trust.scale_musd) (C27)",
        source="C27: safety and transparency matter to corporate buyers; default: not here",
    )
    extra_provider_cost_utils: float | None = param(
        None, unit="utils", ge=0, le=20,
        doc="what each provider beyond the first costs a user here a month, on average "
        "(integration, review, contracts; exponential across users): users may multi-home, "
        "splitting their use among providers by a logit over tasks (model.multihoming); "
        "empty = users single-home",
        source="H8: most enterprises use several model providers; default: single-homing",
    )
    first_mover: Identifier | None = Field(
        None, description="firm that opened this segment, if it is not the one with the most "
        "users at the start (C5)")
    modality: Modality = Field(
        "text", description="which capability its products are made of: text (chat, code, "
        "documents), image or video (under technology.capability_rule effective_compute a lab "
        "has one capability per modality, trained separately)")


class Cohort(Sourced):
    """A taste class of users; every segment's population is split into cohorts by `share`."""

    id: Identifier
    share: float = param(
        0.5, unit="share", ge=0, le=1,
        doc="fraction of each segment's users with these tastes (cohort shares sum to 1)",
        source="assumption: placeholder default; each baseline cohort cites its own figure",
    )
    quality_weight_per_point: float = param(
        0.15, unit="utils/quality point", ge=0, le=10,
        doc="utility of one more point of model quality",
        source="assumption: a 10-point lead (GPT-4 vs GPT-3.5 on MMLU) is worth ~1.5 utils",
    )
    price_weight_per_usd: float = param(
        0.5, unit="utils per USD/month", ge=0, le=10,
        doc="disutility of one dollar more of monthly price per user",
        source="C15: people don't pay for a restricted model when free ones are comparable",
    )
    open_preference_utils: float = param(
        0.0, unit="utils", ge=-10, le=10,
        doc="extra utility of an open-weights model (no fees, no data shared)",
        source="C9: open models attract companies that won't share data",
    )


class Offering(Sourced):
    """A firm's product in one segment."""

    entry: YearMonth | None = Field(
        None, description="month the firm enters the segment (YYYY-MM); empty = from the start"
    )
    initial_users: float = param(
        0.0, unit="users", ge=0, le=1e10,
        doc="users of this offering at the start date",
        source="assumption: a firm starts with no users unless the scenario cites a figure",
    )
    quality_bonus: float = param(
        0.0, unit="quality points", ge=-100, le=100,
        doc="segment-specific quality from post-training and interface, added to general quality",
        source="C3: better coding tools come from fine-tuning and interface design",
    )
    markup: float = param(
        0.5, unit="ratio", ge=0, le=20,
        doc="price over cost to serve: price = cost_to_serve × (1 + markup)",
        source="F12: costs far exceed revenue for free users; assumption: 50% blended markup",
    )
    free_tier_gap_points: float | None = Field(
        None, ge=0, le=100,
        description="[lab] a free tier beside the paid product: price 0, a capped model this "
        "many quality points below the paid one (C10, F12); empty = no free tier")


class Firm(Sourced):
    """A lab, a big tech company or an application-layer company.

    One entry type for all kinds keeps ``extends`` merging and key paths uniform; fields
    marked [lab], [bigtech] or [app] are used only by that kind.
    """

    id: Identifier
    name: str = Field(description="display name")
    kind: Literal["lab", "bigtech", "app"] = Field(
        description="lab (model maker), bigtech (platform and investor) or app (builds on models)")
    founded: YearMonth | None = Field(
        None, description="month the firm starts spending (YYYY-MM); empty = before the start"
    )
    cash_musd: float = param(
        1000.0, unit="USD millions", ge=0, le=1e7,
        doc="cash at the start date (or at founding)",
        source="assumption: placeholder default; each baseline firm cites its own figure",
    )
    staff_cost_musd_month: float = param(
        5.0, unit="USD millions/month", ge=0, le=1e4,
        doc="staff and overheads, paid every month",
        source="assumption: a few hundred staff at ~$200k/year",
    )
    offerings: dict[Identifier, Offering] = Field(
        default_factory=dict, description="segment id → the firm's product there [lab, app]"
    )
    # ---- lab
    release: Literal["closed", "open_weights", "freemium"] = Field(
        "closed", description="[lab] release policy of its models"
    )
    owner: Identifier | None = Field(
        None, description="[lab, app] big tech that owns it (an in-house lab, or an app such as "
        "GitHub Copilot); empty = independent")
    quality: float = param(
        60.0, unit="quality points", ge=0, le=200,
        doc="[lab] general capability at the start (MMLU-like scale: GPT-3.5 = 70, GPT-4 = 86)",
        source="OpenAI 2023, GPT-4 Technical Report (MMLU 70.0 and 86.4)",
    )
    training_spend_musd_month: float = param(
        20.0, unit="USD millions/month", ge=0, le=1e4,
        doc="[lab] pre-training budget set aside each month; it becomes a training run",
        source="F6: training costs up to hundreds of millions of dollars",
    )
    training_stock_musd: float = param(
        100.0, unit="USD millions", ge=0, le=1e6,
        doc="[lab] pre-training spend embodied in its current models at the start",
        source="assumption: placeholder default; each baseline lab cites its own figure",
    )
    post_training_spend_musd_month: float = param(
        5.0, unit="USD millions/month", ge=0, le=1e4,
        doc="[lab, app] post-training and interface spend, split over the segments it serves",
        source="C3: fine-tuning and interface design, not billions of pre-training",
    )
    safety_spend_musd_month: float = param(
        0.0, unit="USD millions/month", ge=0, le=1e4,
        doc="[lab] spending on safety, evaluations and transparency, which builds its trust "
        "reputation with the buyers who weigh it (C27)",
        source="assumption: default none",
    )
    licence_cap_users: float = param(
        1e10, unit="users", ge=0, le=1e10,
        doc="[lab] open-weights licence: products above this many monthly users need permission",
        source="C13: Llama 2 needs Meta's permission above 700M monthly users; default: no cap",
    )
    # ---- bigtech
    distribution_utils: dict[Identifier, bounded(0, 50)] = Field(
        default_factory=dict,
        description="[bigtech] segment → utility bonus its apps and platforms give the model "
        "it owns or integrates, 0–50 utils (M4, C23)")
    champion: Identifier | None = Field(
        None, description="[bigtech] lab it backs and integrates (C23, C24); empty = none yet")
    invest_in_champion: bool = flag(
        True, doc="[bigtech] put follow-on money into its champion when its runway is short",
        source="C24: those who can't build, invest",
    )
    license_stopgap: bool = flag(
        False, doc="[bigtech] license a rival's model while its own lab is far behind",
        source="C22: Meta may license Gemini or OpenAI as a temporary bridge",
    )
    licence_gap_points: float = param(
        8.0, unit="quality points", ge=0, le=200,
        doc="[bigtech] a stopgap licence starts when its own lab trails the best model by this",
        source="C22: a bridge until its own model rivals them; assumption",
    )
    licence_fee_usd_per_user_month: float = param(
        0.1, unit="USD/user-month", ge=0, le=100,
        doc="[bigtech] least fee per user-month its labs pay the licensor for a user served "
        "with a licensed model; the fee is the licensor's margin per user where that is more",
        source="assumption: a fifth of the 2023 cost to serve a chat user, as a floor",
    )
    # ---- app
    supplier: Identifier | None = Field(
        None, description="[app] lab whose model it uses at the start")
    routes_across_suppliers: bool = flag(
        False, doc="[app] send each task to the model that serves it best among every lab that "
        "sells in its segment (a model picker or router), paying each its share of the API "
        "fees; false = one supplier at a time, swapped when another is worth the cost",
        source="C1: the foundation model is a commodity swapped in and out; H8: switching is "
        "an API call; default: one supplier")


class Investment(Sourced):
    """Money moved from one firm to another at a date (a stake or a tranche)."""

    id: Identifier
    investor: Identifier = Field(
        description=f"firm id of the payer, or {OUTSIDE_INVESTOR!r} for outside venture capital")
    investee: Identifier = Field(description="firm id of the receiver")
    date: YearMonth = Field(description="month the money arrives (YYYY-MM)")
    amount_musd: float = param(
        500.0, unit="USD millions", ge=0, le=1e6,
        doc="amount paid",
        source="F1: Google's first tranche into Anthropic, $0.5B",
    )
    enabled: bool = flag(
        True, doc="false cancels the deal (a scenario that extends another can switch it off)",
        source="assumption: counterfactual scenarios remove deals the baseline has",
    )
    milestone_max_gap_points: float = param(
        200.0, unit="quality points", ge=0, le=200,
        doc="the tranche is withheld if the investee trails the frontier by more than this",
        source="F1: later tranches with conditions, 'if any'; default: no condition",
    )


class Choice(Section):
    """How users weigh offers against not using generative AI at all."""

    outside_option_utils: float = param(
        8.0, unit="utils", ge=-50, le=50,
        doc="utility of not adopting; adoption hazard is scaled by the chance an offer beats it",
        source="assumption: set so a GPT-3.5-class offer (70 points) clearly beats it",
    )
    lookers_may_leave: bool = flag(
        True, doc="adopters who look around choose among the offers and the outside option, "
        "so a user may stop using generative AI (churn) and an offer that gets worse or "
        "dearer loses users to nothing as well as to rivals; false = they choose among the "
        "offers only (the pre-issue-12 market, for comparison)",
        source="the outside good of discrete-choice demand (Berry 1994; Train 2009, ch. 3), "
        "open to every choice a user makes; without it a seller whose only demand is its own "
        "users has no finite best-response price")
    open_appeal_from_closed_use: float = param(
        0.0, unit="ratio", ge=0, le=10,
        doc="how much users' taste for open weights grows as their segment's work runs on "
        "closed models: a cohort's open_preference_utils is multiplied by 1 + w · (closed "
        "models' share of last month's use there) (C21)",
        source="C21: the tighter a lab controls its models, the more attractive open "
        "alternatives become; default: off")


class FirstMover(Section):
    """What keeps users with the provider they have, and what the first entrant gets (C5, C7, C20)."""

    switching_cost_utils: float = param(
        1.0, unit="utils", ge=0, le=50,
        typical=(0, 6),  # assumption: the library's scenarios use 0.3–4
        doc="utility bonus of the current provider when a user reconsiders",
        source="assumption: modest habit and re-learning cost; C5 says first-mover advantage fades",
    )
    reconsider_share_monthly: float = param(
        0.08, unit="1/month", ge=0, le=1,
        doc="share of adopters who look at the alternatives each month",
        source="assumption: users look around about once a year",
    )
    brand_initial_utils: float = param(
        1.5, unit="utils", ge=0, le=50,
        doc="brand stock of a segment's first entrant when it enters (utility bonus)",
        source="C7: brand recognition is a durable advantage of model makers; assumption: 1.5 utils "
        "≈ 10 quality points for mainstream users",
    )
    brand_half_life_months: float = param(
        12.0, unit="months", ge=0.1, le=1200,
        typical=(1, 240), scale="log",  # library: 6–120
        doc="months for the first entrant's brand stock to halve",
        source="C5: OpenAI was first in coding, image and video and lost all three within ~2 years; "
        "assumption: a one-year half-life",
    )
    network_effect_utils: float = param(
        1.0, unit="utils per unit share", ge=0, le=50,
        doc="utility bonus per unit of a provider's share of its segment (last month)",
        source="C20: winners are decided by a popularity contest; assumption: a monopolist gets "
        "1 util",
    )


    entry_max_gap_points: float = param(
        3.0, unit="quality points", ge=0, le=200,
        doc="a lab enters a segment it does not serve when its model is within this of the "
        "best offer there (and it has the runway)",
        source="M3: discrete businesses open to whoever has a good enough model; assumption",
    )
    entry_min_runway_months: float = param(
        18.0, unit="months", ge=0, le=1000,
        doc="runway a lab needs before it enters a new segment",
        source="assumption: entering a segment takes a year and a half of spending",
    )


class Commoditization(Section):
    """How prices fall toward cost as quality gaps close, and how capability moves (C1–C4, C14, F11)."""

    serving_cost_exponent: float = param(
        0.5, unit="elasticity", ge=0, le=2,
        doc="elasticity of the cost of serving a user to the effective compute of the model "
        "served: a model d doublings of compute behind the segment's best offer (d = points "
        "behind / pretrain_points_per_doubling) costs 2^(−θ·d) of it to serve, and so does a "
        "free tier's smaller model (0 = every model costs the same)",
        source="Hoffmann et al. 2022 (Chinchilla): compute-optimal parameters grow as C^0.5, "
        "and inference FLOP per token are ~2 × parameters")
    inference_cost_decline_per_year: float = param(
        0.25, unit="share/year", ge=0, le=0.99,
        doc="yearly fall in the cost of serving one user a month of the models they use",
        source="Epoch AI 2025: inference price at constant capability falls 10×–40×/year; "
        "assumption: per user only 25%/year, as users move to bigger models and use them more "
        "(F11: a cheaper model soon looks old)",
    )
    max_markup: float = param(
        3.0, unit="ratio", ge=0, le=20,
        doc="markup over cost to serve that a lab far ahead of every rival can charge",
        source="assumption: API gross margins of ~75% (price ≈ 4× cost) for a clear leader",
    )
    markup_floor: float = param(
        0.05, unit="ratio", ge=0, le=5,
        doc="markup a lab keeps when rivals, open models included, match its quality",
        source="C4: no price leverage with many open alternatives; assumption: 5% over cost",
    )
    lead_scale_points: float = param(
        8.0, unit="quality points", ge=0.1, le=100,
        doc="quality lead over the best rival at which the markup reaches 63% of its maximum",
        source="C15: people don't pay for a restricted model when free ones are comparable; "
        "assumption: half a model generation",
    )
    price_adjust_share_monthly: float = param(
        0.3, unit="1/month", ge=0, le=1,
        doc="share of the distance to its target markup a firm moves its price each month",
        source="assumption: list prices change every few months",
    )
    price_cut_event_share: float = param(
        0.2, unit="share", ge=0.01, le=1,
        doc="a monthly price fall larger than this share is recorded as a price-cut event",
        source="assumption: a cut of a fifth or more is news",
    )
    app_swap_cost_musd: float = param(
        0.5, unit="USD millions", ge=0, le=1000,
        doc="one-off cost for an app builder to move to another model",
        source="C1: the foundation model is a commodity that can be swapped in and out; "
        "assumption: a few engineer-months",
    )
    app_swap_min_gain_utils: float = param(
        0.3, unit="utils", ge=0, le=50,
        doc="value gain an app builder needs before it swaps its model",
        source="assumption: swaps need a visible gain (about 2 quality points)",
    )
    open_catch_up_share_monthly: float = param(
        0.08, unit="1/month", ge=0, le=1,
        typical=(0, 0.5),  # assumption: library 0.08–0.25
        doc="share of the gap to the frontier the open community closes per month at full strength",
        source="C14: the gap is closing surprisingly fast; Epoch AI 2024: open models trail by "
        "5–22 months",
    )
    pretrain_points_per_doubling: float = param(
        5.0, unit="quality points", ge=0, le=50,
        doc="capability per doubling of a lab's cumulative pre-training spend, in 2023",
        source="assumption: GPT-3.5 → GPT-4 (+16 points, OpenAI 2023) from ~3 doublings of cost "
        "(Cottier et al. 2024, arXiv 2405.21015)",
    )
    pretrain_returns_half_life_months: float = param(
        30.0, unit="months", ge=1, le=10000,
        doc="months for the return of a pre-training doubling to halve",
        source="C2: the scaling benefits of pre-training have slowed down; assumption: 2.5 years",
    )
    posttrain_points_per_doubling_year: float = param(
        2.0, unit="quality points/year", ge=0, le=50,
        doc="yearly segment-specific gain per doubling of monthly post-training spend over the "
        "reference",
        source="C3: a better coding tool comes from fine-tuning and interface design",
    )
    posttrain_size_exponent: float = param(
        0.5, unit="elasticity", ge=0, le=2,
        doc="how much further a post-training dollar goes on a smaller model: a lab whose "
        "model is d doublings of compute behind its modality's frontier (d = points behind / "
        "pretrain_points_per_doubling) buys 2^(κ·d) times the post-training per dollar "
        "(0 = size does not matter; apps tune interfaces, not models, and get 1)",
        source="C16: giant models slow iteration, small fast-iterated ones gain; Hoffmann et "
        "al. 2022: compute-optimal parameters grow as C^0.5, and a fine-tuning step costs ~ "
        "parameters")
    idea_diffusion_per_run: float = param(
        0.4, unit="share", ge=0, le=1,
        typical=(0, 1),
        doc="share of its gap to the frontier a lab closes with each training run",
        source="C29: people move to competitors, no idea is unique, all companies grow together",
    )
    posttrain_share_of_revenue: float = param(
        0.05, unit="share", ge=0, le=1,
        doc="sellers spend at least this share of last month's revenue on post-training and "
        "interface",
        source="C3: a better tool comes from fine-tuning and interface design; assumption: 5% of "
        "revenue (results are sensitive to it: docs/ODD.md)",
    )
    posttrain_depreciation_monthly: float = param(
        0.04, unit="1/month", ge=0, le=1,
        doc="share of a segment's post-training edge lost each month as rivals copy it",
        source="C14: the open community closes gaps in weeks; assumption: an edge halves in "
        "~17 months without new work",
    )


class Pricing(Section):
    """How sellers set prices each month (C4, C15; docs/ODD.md, model.pricing)."""

    rule: Literal["best_response", "lead_markup"] = Field(
        "best_response",
        description="best_response: every seller's Nash–Bertrand best response to the logit "
        "demand of the users choosing this month; lead_markup: the pre-issue-12 rule, a "
        "markup that grows with the quality lead over the best rival (commoditization.*), "
        "kept for comparison")
    max_iterations: StrictInt = param(
        1000, unit="iterations", ge=1, le=10000,
        doc="most evaluations of the best-response fixed point in a month",
        source="Conlon & Gortmaker 2020 (PyBLP): the ζ fixed point of Morrow & Skerlos 2011 "
        "converges in tens of iterations; in the baseline (seeds 1–10) the median month needs "
        "16, the 95th percentile 40, the slowest 226, and every scenario's slowest of seeds "
        "1–5 at most 523 (docs/ODD.md §7.5)")
    free_tiers: bool = flag(
        True, doc="offerings with free_tier_gap_points have a free tier beside the paid "
        "product; false = no free tiers (the pre-issue-12 market, for comparison)",
        source="C10: freemium, some models free and stronger ones paid; F12")
    tolerance_usd: float = param(
        1e-6, unit="USD per user-month", ge=1e-15, le=1.0,
        doc="the iteration stops when no price moves by more than this",
        source="Conlon & Gortmaker 2020 (PyBLP): a ten-thousandth of a cent, where the "
        "first-order condition holds to ~1e-7 of demand (tests/test_pricing.py)")


class Technology(Section):
    """How spend becomes capability: training runs and their cost."""

    training_reference_musd: float = param(
        10.0, unit="USD millions", ge=0.01, le=1e5,
        doc="run cost (or monthly post-training spend) that yields one doubling's worth of progress",
        source="F13: open source does for $100 what big labs do for $10M",
    )
    training_run_months: StrictInt = param(
        9, unit="months", ge=1, le=60,
        doc="months of pre-training budget that make one training run",
        source="assumption: frontier labs released a major model every 6–12 months in 2023–24",
    )
    training_share_of_cash_monthly: float = param(
        0.03, unit="1/month", ge=0, le=1,
        doc="a lab spends at least this share of its cash and credits on pre-training each month",
        source="C28: the more you spend, the better your position; assumption: a third of the "
        "war chest a year",
    )
    training_outcome_sd: float = param(
        0.3, unit="log-normal sd", ge=0, le=2,
        doc="spread of a training run's capability gain around its expectation",
        source="assumption: runs disappoint or surprise (002: Bard's rushed launch)",
    )
    capability_rule: Literal["effective_compute", "gap_share"] = Field(
        "effective_compute",
        description="effective_compute: one capability per modality, raised by the effective "
        "compute a run buys (spend × hardware × algorithmic progress) and by imitating the "
        "models a lab can see, open weights at once and closed ones after a lag (docs/ODD.md "
        "§7.6); gap_share: the pre-issue-12 rule, one general capability per lab and every run "
        "closes commoditization.idea_diffusion_per_run of the gap to the frontier, kept for "
        "comparison")
    final_run_share: float = param(
        0.1, unit="share", ge=0.001, le=1,
        doc="share of a run's pre-training budget spent on the final training run (the rest "
        "goes to experiments and failed runs)",
        source="Cottier et al. 2024 (arXiv 2405.21015): R&D compute is a multiple of the final "
        "run's; assumption: a tenth, so that 2023's largest runs come out at ~2× GPT-4's compute "
        "(Epoch AI: Gemini Ultra ~5e25 FLOP)")
    text_anchor_run_musd: float = param(
        78.0, unit="USD millions", ge=0.001, le=1e6,
        doc="cost of the final run that gave the anchor text model (GPT-4, 2.1e25 FLOP) at "
        "2023-01 prices",
        source="Stanford AI Index 2024: GPT-4's training compute cost ~$78M; Epoch AI: 2.1e25 FLOP")
    text_anchor_points: float = param(
        86.4, unit="quality points", ge=0, le=200,
        doc="capability of the anchor text model",
        source="OpenAI 2023, GPT-4 Technical Report: 86.4 on MMLU")
    image_anchor_run_musd: float = param(
        0.6, unit="USD millions", ge=0.001, le=1e6,
        doc="cost of the final run that gave the anchor image model (Stable Diffusion v1)",
        source="Mostaque (Stability AI), 2022-08: Stable Diffusion v1 cost ~$600k of compute")
    image_anchor_points: float = param(
        65.0, unit="quality points", ge=0, le=200,
        doc="capability of the anchor image model",
        source="assumption: Stability AI's image offer at the start of the baseline (quality 55 "
        "+ bonus 10), the model of the anchor run")
    video_anchor_run_musd: float = param(
        6.0, unit="USD millions", ge=0.001, le=1e6,
        doc="cost of the final run that gave the anchor video model (Runway Gen-2)",
        source="assumption: a video run costs ~10× an image run of its day (frames × length)")
    video_anchor_points: float = param(
        63.0, unit="quality points", ge=0, le=200,
        doc="capability of the anchor video model",
        source="assumption: Runway's video offer at the start of the baseline (quality 58 + "
        "bonus 5), the model of the anchor run")
    hardware_flop_per_usd_growth_per_year: float = param(
        1.32, unit="ratio/year", ge=1, le=10,
        doc="yearly growth of training FLOP a dollar buys",
        source="Hobbhahn & Besiroglu 2022 (Epoch AI): GPU FLOP/$ doubles every ~2.5 years")
    algorithmic_progress_per_year: float = param(
        2.8, unit="ratio/year", ge=1, le=100,
        doc="yearly fall in the compute a given capability needs (effective compute per FLOP)",
        source="Ho et al. 2024 (arXiv 2403.05812): compute for a given LLM performance halves "
        "every ~8 months (5–14)")
    modality_floor_share: float = param(
        0.02, unit="share", ge=0, le=0.33,
        doc="share of a run each modality a lab offers gets on top of its users' share",
        source="assumption: labs keep small teams on modalities with few users (DALL-E, Sora)")
    closed_imitation_lag_months: StrictInt = param(
        6, unit="months", ge=0, le=120,
        doc="months before a closed model's know-how can be imitated (papers, distillation of "
        "its outputs); open weights can be imitated at once (C14, C17, C21)",
        source="Stanford Alpaca (2023-03) and Vicuna (2023-03) distilled OpenAI models of "
        "2022-11; assumption: half a year")
    imitation_reach_doublings: float = param(
        1.0, unit="doublings of effective compute", ge=0, le=20,
        doc="how far above what its own compute buys a run can reach by imitating the best "
        "model it can see (a follower still needs compute to use the ideas)",
        source="C29: no idea is unique; calibrated: 1 doubling (distillation and published "
        "recipes worth up to 2× a run's compute) puts the 2024-11 open–closed lag in H22's "
        "band in 5 of seeds 1–8, 2 doublings in none (docs/decisions.md)")


class VCPool(Sourced):
    """Venture capital available to one class of labs, by year (USD millions/year)."""

    id: Literal["open_source", "closed"]
    annual_musd: dict[bounded_int(FIRST_YEAR, LAST_YEAR), bounded(0, 1e7)] = Field(
        description="year → USD millions of venture funding available that year, 0–1e7")
    growth_after_per_year: float = param(
        0.2, unit="share/year", ge=-0.9, le=5,
        doc="yearly growth of the pool after the last year given",
        source="assumption: growth slows from 2023's tripling (F7)",
    )


class Funding(Section):
    """Money moving to labs: VC pools and rounds, big-tech stakes and tranches, rescues (F1–F12)."""

    vc_pools: list[VCPool] = Field(default_factory=list,
                                   description="VC pools for open-weights and closed labs")
    raise_when_runway_below_months: float = param(
        9.0, unit="months", ge=0, le=120,
        typical=(2, 24),  # start-ups raise with 6–12 months left
        doc="a lab tries to raise money when its runway falls below this",
        source="assumption: start-ups raise with 6–12 months of cash left",
    )
    round_months_of_burn: float = param(
        18.0, unit="months", ge=1, le=120,
        doc="a round is sized to pay this many months of the lab's current burn",
        source="assumption: rounds sized for 18–24 months of runway",
    )
    round_success_probability: float = param(
        0.35, unit="1/month", ge=0, le=1,
        typical=(0.05, 0.9),
        doc="chance a lab close enough to the frontier closes a round in a month it tries",
        source="assumption: a round takes about three months to close",
    )
    max_gap_for_vc_points: float = param(
        15.0, unit="quality points", ge=0, le=200,
        doc="VCs fund a lab only if its best quality is within this of the frontier",
        source="C28: the more you spend, the better your position; assumption",
    )
    compute_credit_share: float = param(
        0.3, unit="share", ge=0, le=1,
        doc="share of a big-tech stake paid as compute credits, usable only for compute",
        source="C25: deals include compute credits and infrastructure, not only money",
    )
    champion_follow_on_musd: float = param(
        2000.0, unit="USD millions", ge=0, le=1e5,
        doc="what a big tech puts into its champion lab when the champion's runway is short",
        source="F1, F2: Google's $2B and Amazon's $4B into Anthropic (C24: those who can't, invest)",
    )
    acquisition_max_gap_points: float = param(
        10.0, unit="quality points", ge=0, le=200,
        doc="a big tech buys a failing lab instead of letting it exit if it is this close to the "
        "frontier",
        source="assumption: acqui-hires of capable teams (C24)",
    )
    avoid_rivals_champions: bool = flag(
        True, doc="a big tech choosing a new champion passes over labs that another big tech "
        "champions, and does not take them in (off = it takes the best lab whoever backs it)",
        source="C26: investors keep portfolios apart; big techs do not back the same champion",
    )
    licence_and_hire: bool = flag(
        True, doc="a big tech may take in an unowned lab that ran out of cash by a "
        "licence-and-hire deal when its model and team are worth more to it than the fee "
        "(H17–H19 are the observed cases; off = such labs exit)",
        source="C24: those who cannot build buy; Microsoft–Inflection 2024-03, Amazon–Adept "
        "2024-06, Google–Character.AI 2024-08 (the deal form, not its timing)",
    )
    licence_fee_share_of_raised: float = param(
        1.0, unit="share", ge=0, le=20,
        doc="a licence-and-hire fee repays the lab's investors this share of the money it "
        "raised (on top of clearing its deficit)",
        source="assumption: Inflection's 2024-03 licence fee was reported to let its investors "
        "recoup about what they put in",
    )
    investments: list[Investment] = Field(
        default_factory=list, description="stakes and tranches, each with a date and an amount"
    )


class OpenSource(Section):
    """The open-source community: contributors, derivative models, spillovers (C11–C19)."""

    initial_contributors: float = param(
        2000.0, unit="developers", ge=0, le=1e8,
        doc="active contributors to open models at the start",
        source="assumption: before the LLaMA leak, a small research community",
    )
    max_contributors: float = param(
        500000.0, unit="developers", ge=1, le=1e8,
        doc="contributors when a strong open base exists and the community is at its peak",
        source="C12: legions of independent developers; assumption: Hugging Face's ~500k "
        "active model builders",
    )
    join_share_monthly: float = param(
        0.15, unit="1/month", ge=0, le=1,
        doc="share of the remaining room that joins each month when the open base is strong",
        source="C17: within a month of the leak the community added tuning, quantization, RLHF",
    )
    leave_share_monthly: float = param(
        0.05, unit="1/month", ge=0, le=1,
        doc="share of contributors who leave each month when the open base falls behind",
        source="assumption: developers drift to whatever is best",
    )
    strong_base_gap_points: float = param(
        25.0, unit="quality points", ge=0, le=200,
        doc="the open base is 'strong' when it is within this of the best closed model",
        source="C17: the leaked LLaMA (63.4 MMLU) drew the community within a month while "
        "GPT-4 scored 86.4, a 23-point gap",
    )
    half_strength_contributors: float = param(
        50000.0, unit="developers", ge=1, le=1e8,
        doc="contributors at which the community closes the gap at half its full rate",
        source="C18: one person, an evening and a laptop; assumption",
    )
    innovation_points_per_year: float = param(
        1.0, unit="quality points/year", ge=0, le=50,
        doc="capability the community adds on its own at full strength (tuning, quantization, "
        "tools), beyond catching up",
        source="C17: within a month of the leak the community added instruction tuning, "
        "quantization, RLHF and multimodality; assumption: 1 point a year (Epoch AI 2024: open "
        "models still trail the frontier)",
    )
    owner_absorb_share: float = param(
        0.3, unit="share", ge=0, le=1,
        doc="share of the community's monthly improvement the open base's owner absorbs",
        source="C19: the owner of the leaked model gets the free work of a whole planet",
    )
    base_switch_gain_points: float = param(
        3.0, unit="quality points", ge=0, le=100,
        doc="the community moves to another open base only if it is this much better",
        source="assumption: forks, tools and fine-tunes tie developers to a base (C11)",
    )
    segments: list[Identifier] = Field(
        default_factory=list, description="segments where community models are offered")
    apps_may_use: bool = flag(
        True, doc="app builders may run on the community's models (hosted at cost by hosts "
        "outside the model, under the open base's licence) as on any lab's",
        source="C1: apps swap the model beneath them; C17: open weights are built on by "
        "anyone; false = apps use labs' models only (before issue 13)")


class Trust(Section):
    """A lab's reputation for safety and transparency with the buyers who weigh it (C27): a
    goodwill stock that its safety spending builds and that wears off (Nerlove & Arrow 1962),
    worth ``trust_weight_utils · ln(1 + stock / scale_musd)`` in a segment (declining returns).
    """

    half_life_months: float = param(
        24.0, unit="months", ge=1, le=1e4,
        doc="months for a trust stock to halve without new spending",
        source="assumption: a reputation outlasts a model generation (~a year) but not two",
    )
    scale_musd: float = param(
        100.0, unit="USD millions", ge=1, le=1e6,
        doc="stock at which trust is worth ln 2 of a segment's weight (the returns to safety "
        "spending decline beyond it)",
        source="assumption: about a year of a safety-first lab's spending on safety work",
    )


class Entry(Section):
    """New labs and app builders founded by the model's own decision (issue 13; H21 is the
    check, not an input).

    Each month one prospective lab, a copy of ``lab``, and one prospective app builder, a copy
    of ``app``, weigh the margin each expects to earn against the founding round it needs, and
    the VC pool must hold that round (F7): the free-entry condition of Bresnahan & Reiss (1991)
    with a sunk cost (Sutton 1991).
    """

    potential_labs: StrictInt = param(
        0, unit="labs", ge=0, le=50,
        doc="prospective entrant labs (entrant_1 … entrant_n), each founded at most once; "
        "0 = no endogenous entry",
        source="assumption: a bound on how many can enter, not how many do; the baseline "
        "sets it well above H21's handful so the entry decision, not the bound, decides")
    founding_round_musd: float = param(
        1000.0, unit="USD millions", ge=1, le=1e5,
        doc="money a new frontier-scale lab must raise from the closed VC pool to be founded; "
        "it is also the sunk cost the margin it expects must repay",
        source="assumption: a frontier team and its first runs cost about $1B (F6: training "
        "runs up to hundreds of millions of dollars; F2: Amazon's $4B into Anthropic)")
    payback_months: float = param(
        36.0, unit="months", ge=1, le=240,
        doc="months over which an entrant counts the margin it expects (users it would win "
        "each month, kept to the horizon)",
        source="assumption: venture funds look for payback within a fund's investment period "
        "of three to five years")
    founding_probability_monthly: float = param(
        0.2, unit="1/month", ge=0, le=1,
        doc="chance a prospective entrant that finds entry worth it closes its founding round "
        "in a month (teams take months to form and raise)",
        source="assumption: about five months from decision to founding round")
    lab: Firm | None = Field(
        None, description="what an entrant is (kind lab, independent, founded by the decision, "
        "with the segments it may serve); needed when potential_labs > 0")
    potential_apps: StrictInt = param(
        0, unit="app builders", ge=0, le=50,
        doc="prospective app builders (app_entrant_1 … app_entrant_n), each founded at most "
        "once, in the segment where it expects the most margin; 0 = no endogenous app entry",
        source="assumption: a bound on how many can enter, not how many do")
    app_founding_round_musd: float = param(
        20.0, unit="USD millions", ge=0.1, le=1e4,
        doc="money a new app builder must raise from the closed VC pool to be founded; also the "
        "sunk cost its expected margin must repay",
        source="Anysphere (Cursor) 2023-10: $8M seed; Perplexity 2023-03: $26M Series A; "
        "assumption: about $20M to build and launch a product on others' models")
    app: Firm | None = Field(
        None, description="what an app entrant is (kind app, independent, founded by the "
        "decision, with a supplier to start from and the segments it may serve, of which it "
        "picks one); needed when potential_apps > 0")


class ScheduledEvent(Sourced):
    """Something that happens at a date: a weight release, a segment entry, a licence deal,
    or a change of regime (``kind: set``: a parameter takes a new value from that month on)."""

    id: Identifier
    date: YearMonth = Field(description="month it happens (YYYY-MM)")
    kind: Literal["open_release", "close_release", "model_release", "enter_segment", "exit",
                  "licence_start", "licence_end", "set"] = Field(description="what happens")
    firm: Identifier | None = Field(
        None, description="firm it happens to (every kind but set)")
    path: str | None = Field(
        None, max_length=200,
        description="parameter a set event changes, as `--set` names it (e.g. "
        "commoditization.pretrain_returns_half_life_months); only parameters the model reads "
        "while it runs, not starting values or the market's structure")
    value: bool | int | float | str | None = Field(
        None, description="the parameter's value from the event's month on (for set), "
        "validated like `--set`")
    segment: Identifier | None = Field(None, description="segment (for enter_segment)")
    partner: Identifier | None = Field(None, description="licensor (for licence events)")
    quality: float | None = Field(
        None, ge=0, le=200,
        description="capability of the released model (for model_release), points")
    modality: Modality = Field(
        "text", description="modality of the released model (for model_release)")
    enabled: bool = flag(
        True, doc="false cancels the event (a scenario that extends another can switch it off)",
        source="assumption: counterfactual scenarios remove events the baseline has",
    )


NULL_MODEL = "assumption: null model — a rival model with one mechanism switched off, to test " \
    "whether a pattern needs that mechanism (Grimm et al. 2005)"


class Mechanisms(Section):
    """Switches that remove one mechanism each: the null and rival models of validation.

    All are on in every scenario the project ships; ``moatsim patterns --against`` turns one
    off at a time (docs/ODD.md §7) to see whether a pattern still appears without it.
    """

    users_compare_offers: bool = flag(
        True, doc="users choose among offers by utility (logit); off = the random-choice null: "
        "every available offer is equally likely, and no switching cost", source=NULL_MODEL)
    idea_diffusion: bool = flag(
        True, doc="labs and the community imitate the best model they can see (open weights at "
        "once, closed models after a lag; under the gap_share rule: training runs close part "
        "of the gap to the frontier and the community catches up with the closed frontier); "
        "off = no imitation (the community still builds on open weights)", source=NULL_MODEL)
    brand_and_switching_costs: bool = flag(
        True, doc="first entrants' brand and the switching-cost bonus of a user's provider; "
        "off = neither", source=NULL_MODEL)
    funding_differences: bool = flag(
        True, doc="labs start with their own cash and big tech funds the labs it owns or backs; "
        "off = every lab starts with the labs' mean cash and credits, and no big-tech money "
        "reaches a lab (scheduled stakes, follow-ons, owner funding, rescues)", source=NULL_MODEL)
    absorption: bool = flag(
        True, doc="the open base's owner absorbs part of the community's work (C19); off = "
        "nothing is absorbed", source=NULL_MODEL)


class Scenario(Section):
    """A whole moatsim scenario: start date, length, segments, tastes, mechanisms and firms."""

    name: Identifier = Field(description="scenario name (defaults to the file name)")
    description: str = Field(description="one line saying what this scenario is about")
    extends: str | None = Field(None, description="file this scenario extends (resolved)")
    start: YearMonth = Field("2023-01", description="calendar month of step 0")
    months: StrictInt = param(
        96, unit="months", ge=1, le=600,
        doc="number of monthly steps", source="assumption: eight years, 2023-01 to 2031-01",
    )
    segments: list[Segment] = Field(description="markets where models compete (M3)")
    cohorts: list[Cohort] = Field(description="taste classes of users")
    choice: Choice = Field(default_factory=Choice, description="the outside option")
    first_mover: FirstMover = Field(default_factory=FirstMover,
                                    description="brand, switching costs, network effects")
    commoditization: Commoditization = Field(
        default_factory=Commoditization,
        description="prices toward cost, open catch-up, returns to pre- and post-training")
    pricing: Pricing = Field(default_factory=Pricing,
                             description="how sellers set prices (best response or lead markup)")
    technology: Technology = Field(default_factory=Technology,
                                   description="training runs and their cost")
    funding: Funding = Field(default_factory=Funding,
                             description="VC pools, rounds, stakes, tranches, rescues")
    open_source: OpenSource = Field(default_factory=OpenSource,
                                    description="the open-source community")
    trust: Trust = Field(default_factory=Trust,
                         description="trust reputations built by safety spending (C27)")
    entry: Entry = Field(default_factory=Entry,
                         description="labs founded by the model's own entry decision")
    firms: list[Firm] = Field(description="labs, big tech companies and app builders")
    events: list[ScheduledEvent] = Field(default_factory=list,
                                         description="dated releases, entries and licence deals")
    _horizon: int | None = PrivateAttr(None)
    """Months its file was written for, when ``--months`` (or an experiment) shortened the run:
    dated entries up to there are valid and simply do not happen. Set by the loader."""
    mechanisms: Mechanisms = Field(default_factory=Mechanisms,
                                   description="switches for null and rival models (validation)")

    def segment_ids(self) -> list[str]:
        return [segment.id for segment in self.segments]

    def firm_ids(self) -> list[str]:
        return [firm.id for firm in self.firms]

    def firms_of(self, kind: str) -> list[Firm]:
        return [firm for firm in self.firms if firm.kind == kind]

    def entrant_specs(self) -> list[Firm]:
        """The prospective entrant labs: copies of ``entry.lab`` named entrant_1 … entrant_n."""
        return _copies(self.entry.lab, "entrant", self.entry.potential_labs)

    def entrant_app_specs(self) -> list[Firm]:
        """The prospective app builders: copies of ``entry.app`` named app_entrant_1 …"""
        return _copies(self.entry.app, "app_entrant", self.entry.potential_apps)


def _copies(template: Firm | None, prefix: str, n: int) -> list[Firm]:
    """``n`` copies of ``template`` named ``<prefix>_1`` … (none without a template)."""
    if template is None:
        return []
    return [template.model_copy(update={"id": f"{prefix}_{k}", "name": f"{template.name} {k}"})
            for k in range(1, n + 1)]
