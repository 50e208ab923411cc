"""The scenario schema: every input of a moatsim run, typed, ranged, documented and sourced.

A scenario is a YAML file validated by :class:`Scenario`. Each number is declared with
:func:`model.params.param`, which records its unit, allowed range, one-line description and
source (a seed fact id from ``seeds/facts.yaml``, an outside reference, or
``assumption: <why>``). Values set for a particular firm, segment or cohort in a YAML file
carry their own citations in that entry's ``sources`` mapping.

Loading (``extends``, deep merge, ``--set`` overrides, error messages with file and line)
lives in :mod:`model.loading`; this module only says what a valid scenario is.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from model.params import param

Identifier = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$", max_length=40)
]
"""Lower-case id usable as a Python identifier, without ``__`` (the flat-name separator)."""

OUTSIDE_INVESTOR = "venture_capital"
"""Investor id for money from outside the model (VC funds): it has no cash of its own to run out."""

YearMonth = Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
"""A calendar month written ``YYYY-MM``."""


class Section(BaseModel):
    """Base for every part of a scenario: unknown keys are errors, values are re-validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


class Sourced(Section):
    """An entry whose values are set in YAML and cited in its ``sources`` mapping."""

    sources: dict[str, str] = Field(
        default_factory=dict,
        description="field name → seed fact id, outside reference or 'assumption: why'",
    )


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


class Firm(Sourced):
    """A lab or a big tech company: cash, capability, and the segments it serves."""

    id: Identifier
    name: str = Field(description="display name")
    kind: Literal["lab", "bigtech"] = Field(description="lab (model maker) or bigtech")
    release: Literal["closed", "open_weights", "freemium"] = Field(
        "closed", description="release policy of its models"
    )
    founded: YearMonth | None = Field(
        None, description="month the firm starts spending (YYYY-MM); empty = before the start"
    )
    cash_musd: float = param(
        1000.0, unit="USD millions", ge=0, le=1e7,
        doc="cash at the start date (or at founding)",
        source="assumption: placeholder default; each baseline firm cites its own figure",
    )
    quality: float = param(
        60.0, unit="quality points", ge=0, le=200,
        doc="general capability at the start (MMLU-like scale: GPT-3.5 = 70, GPT-4 = 86)",
        source="OpenAI 2023, GPT-4 Technical Report (MMLU 70.0 and 86.4)",
    )
    training_spend_musd_month: float = param(
        20.0, unit="USD millions/month", ge=0, le=1e4,
        doc="spend on pre-training runs while cash lasts",
        source="F6: training costs up to hundreds of millions of dollars",
    )
    staff_cost_musd_month: float = param(
        5.0, unit="USD millions/month", ge=0, le=1e4,
        doc="staff and overheads, paid every month",
        source="assumption: a few hundred staff at ~$200k/year",
    )
    offerings: dict[Identifier, Offering] = Field(
        default_factory=dict, description="segment id → the firm's product there"
    )


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


class Choice(Section):
    """How users weigh offers against not using generative AI at all."""

    outside_option_utils: float = param(
        8.0, unit="utils", ge=-50, le=50,
        doc="utility of not adopting; adoption hazard is scaled by the chance an offer beats it",
        source="assumption: set so a GPT-3.5-class offer (70 points) clearly beats it",
    )


class FirstMover(Section):
    """What keeps users with the provider they have (C5, C7, C20)."""

    switching_cost_utils: float = param(
        1.0, unit="utils", ge=0, le=50,
        doc="utility bonus of the current provider when a user reconsiders",
        source="assumption: modest habit and re-learning cost; C5 says first-mover advantage fades",
    )
    reconsider_share_monthly: float = param(
        0.08, unit="1/month", ge=0, le=1,
        doc="share of adopters who look at the alternatives each month",
        source="assumption: users look around about once a year",
    )


class Commoditization(Section):
    """How the cost of serving and prices fall (C4, F11)."""

    inference_cost_decline_per_year: float = param(
        0.25, unit="share/year", ge=0, le=0.99,
        doc="yearly fall in the cost of serving one user a month of the models they use",
        source="Epoch AI 2025: inference price at constant capability falls 10×–40×/year; "
        "assumption: per user only 25%/year, as users move to bigger models and use them more "
        "(F11: a cheaper model soon looks old)",
    )


class Technology(Section):
    """How training spend turns into capability (C28: the more you spend, the better)."""

    quality_points_per_doubling_year: float = param(
        1.5, unit="quality points/year", ge=0, le=50,
        doc="yearly quality gain per doubling of monthly training spend over the reference",
        source="assumption: GPT-3.5 → GPT-4 (+16 points) took ~1 year at ~10 doublings of compute "
        "(Cottier et al. 2024, arXiv 2405.21015)",
    )
    training_spend_reference_musd_month: float = param(
        10.0, unit="USD millions/month", ge=0.01, le=1e4,
        doc="training spend that yields one doubling's worth of progress",
        source="F13: open source does for $100 what big labs do for $10M; assumption: $10M/month",
    )


class Funding(Section):
    """Money moving between firms on scheduled dates."""

    investments: list[Investment] = Field(
        default_factory=list, description="stakes and tranches, each with a date and an amount"
    )


class Scenario(Section):
    """A whole moatsim scenario: start date, length, segments, tastes, mechanisms and firms."""

    name: Identifier = Field(description="scenario name (defaults to the file name)")
    description: str = Field(description="one line saying what this scenario is about")
    extends: str | None = Field(None, description="file this scenario extends (resolved)")
    start: YearMonth = Field("2023-01", description="calendar month of step 0")
    months: int = param(
        96, unit="months", ge=1, le=600,
        doc="number of monthly steps", source="assumption: eight years, 2023-01 to 2031-01",
    )
    segments: list[Segment] = Field(description="markets where models compete")
    cohorts: list[Cohort] = Field(description="taste classes of users")
    choice: Choice = Field(default_factory=Choice)
    first_mover: FirstMover = Field(default_factory=FirstMover)
    commoditization: Commoditization = Field(default_factory=Commoditization)
    technology: Technology = Field(default_factory=Technology)
    funding: Funding = Field(default_factory=Funding)
    firms: list[Firm] = Field(description="labs and big tech companies")

    def segment_ids(self) -> list[str]:
        return [segment.id for segment in self.segments]

    def firm_ids(self) -> list[str]:
        return [firm.id for firm in self.firms]
