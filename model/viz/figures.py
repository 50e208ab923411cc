"""The page's charts as matplotlib figures, drawn from a running model.

Pure functions of the model (no Solara), so they are tested without a browser; the Solara
components in :mod:`moatsim.viz.components` only put them on the page. Figures are
:class:`matplotlib.figure.Figure` objects (no pyplot state), safe to draw from Solara's
threads. Colours come from :mod:`moatsim.palette` (one colour per firm, the same in every
output); the marker shape says the kind of firm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from moatsim.palette import EXITED, KIND_LABEL, KIND_MARKER, OTHER
from moatsim.viz.colours import model_colours
from moatsim.viz.events import money

if TYPE_CHECKING:
    from moatsim.viz.vizmodel import VizModel

ALL_SEGMENTS = "all segments"
FONT = 8
WIDTH, HEIGHT, DPI = 5.0, 3.8, 110
RUNWAY_CAP_MONTHS = 60
TRAIL_MONTHS = 12
FUNDING_FROM_OTHERS = ("stake", "tranche", "compute_credits", "acquisition", "owner_funding", "vc")
VC_NODE = "venture_capital"


def _figure(width: float = WIDTH, height: float = HEIGHT) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    return fig


def _style(ax) -> None:
    ax.tick_params(labelsize=FONT)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _years(model: VizModel, months: np.ndarray) -> np.ndarray:
    """Model months → decimal calendar years (2023-01 → 2023.0)."""
    year, month = (int(part) for part in model.config.start.split("-"))
    return year + (month - 1 + np.asarray(months, dtype=float)) / 12.0


def _year_axis(ax, model: VizModel) -> None:
    first, last = _years(model, np.array([0, model.config.months]))
    ax.set_xlim(first, last)
    ticks = np.arange(math.ceil(first), math.floor(last) + 1)
    step = max(1, math.ceil(len(ticks) / 9))
    ax.set_xticks(ticks[::step])
    ax.set_xticklabels([str(int(t)) for t in ticks[::step]])


# ---------------------------------------------------------------- headline figures


@dataclass(frozen=True)
class Headline:
    date: str
    month: int
    months: int
    hhi: float
    open_share: float
    quality_gap: float
    adopters: float
    leaders: dict[str, str]


def headline(model: VizModel) -> Headline:
    """The figures at the top of the page, from the last collected month."""
    last = {name: values[-1] for name, values in model.datacollector.model_vars.items()
            if values}
    leaders = {segment: str(last.get(f"leader.{segment}", "") or "")
               for segment in model.segment_ids}
    return Headline(date=model.date, month=model.month, months=model.config.months,
                    hhi=float(last.get("hhi", math.nan)),
                    open_share=float(last.get("open_share", math.nan)),
                    quality_gap=float(last.get("quality_gap", math.nan)),
                    adopters=float(last.get("adopters", 0.0)), leaders=leaders)


def fmt(value: float, pattern: str, missing: str = "–") -> str:
    return missing if value is None or not math.isfinite(value) else format(value, pattern)


# ---------------------------------------------------------------- market shares


def share_table(model: VizModel, segment: str = ALL_SEGMENTS) -> pd.DataFrame:
    """month × seller: share of the segment's adopters (of all adopters for ``ALL_SEGMENTS``)."""
    table = model.datacollector.get_table_dataframe("segments")
    sellers = [s.firm_id for s in model.sellers]
    if table.empty:
        return pd.DataFrame(columns=sellers, dtype=float)
    if segment != ALL_SEGMENTS:
        table = table[table["segment"] == segment]
    users = table.pivot_table(index="month", columns="firm", values="users", aggfunc="sum",
                              fill_value=0.0).reindex(columns=sellers, fill_value=0.0)
    totals = users.sum(axis=1)
    return users.div(totals.where(totals > 0), axis=0).fillna(0.0)


def shares_figure(model: VizModel, segment: str = ALL_SEGMENTS) -> Figure:
    """Stacked market shares over time, one band per seller in its own colour."""
    shares = share_table(model, segment)
    colours = model_colours(model)
    fig = _figure()
    ax = fig.subplots()
    _style(ax)
    serving = [firm for firm in shares.columns if shares[firm].max() > 0]
    if serving and len(shares.index) > 0:
        x = _years(model, shares.index.to_numpy())
        if len(x) == 1:  # one month: draw it as a thin column so it shows
            x = np.array([x[0], x[0] + 1 / 12])
            shares = pd.concat([shares, shares])
        ax.stackplot(x, [shares[f].to_numpy() for f in serving], labels=serving,
                     colors=[colours[f] for f in serving], edgecolor="white", linewidth=0.3)
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=FONT - 1,
                  frameon=False, handlelength=1.0, labelspacing=0.3)
    else:
        ax.text(0.5, 0.5, "no adopters yet", transform=ax.transAxes, ha="center",
                fontsize=FONT + 1, color="grey")
    _year_axis(ax, model)
    ax.set_ylim(0, 1)
    ax.axvline(_years(model, np.array([model.month]))[0], color="black", linewidth=0.6,
               linestyle=":")
    what = "all adopters" if segment == ALL_SEGMENTS else segment
    ax.set_ylabel(f"share of {what}", fontsize=FONT)
    return fig


# ---------------------------------------------------------------- market map


def market_points(model: VizModel, segment: str) -> pd.DataFrame:
    """The sellers offering in ``segment`` now: quality, price, users, and where they were
    ``TRAIL_MONTHS`` ago."""
    s = model.segment_ids.index(segment)
    history = getattr(model, "offer_history", [])
    past = history[-1 - TRAIL_MONTHS] if len(history) > TRAIL_MONTHS else (
        history[0] if history else None)
    users = model.population.users()[s]
    rows = []
    for k, seller in enumerate(model.sellers):
        if not model.available[s, k]:
            continue
        row = {"firm": seller.firm_id, "kind": seller.kind,
               "quality": float(model.quality[s, k]), "price": float(model.price_usd[s, k]),
               "users": float(users[k]), "past_quality": math.nan, "past_price": math.nan}
        if past is not None and past[0].shape == model.quality.shape and past[3][s, k]:
            row["past_quality"], row["past_price"] = float(past[0][s, k]), float(past[1][s, k])
        rows.append(row)
    return pd.DataFrame(rows, columns=["firm", "kind", "quality", "price", "users",
                                       "past_quality", "past_price"])


def market_map_figure(model: VizModel, segment: str) -> Figure:
    """Each seller as a bubble at (quality, price), area ∝ users; the dashed line is the cost
    of serving a user, so commoditization shows as bubbles sliding down toward it."""
    s = model.segment_ids.index(segment)
    points = market_points(model, segment)
    points = points[np.isfinite(points["quality"]) & np.isfinite(points["price"])]
    colours = model_colours(model)
    cost = float(model.cost_to_serve_usd[s])
    potential = float(model.config.segments[s].potential_users) or 1.0
    fig = _figure()
    ax = fig.subplots()
    _style(ax)
    ax.axhline(cost, color="black", linestyle="--", linewidth=0.8)
    sizes = 25 + 1800 * np.sqrt(np.clip(points["users"].to_numpy() / potential, 0, 1))
    if points.empty:
        ax.text(0.5, 0.6, "nobody serves this segment yet", transform=ax.transAxes,
                ha="center", fontsize=FONT + 1, color="grey")
    else:
        for row in points.itertuples():
            if math.isfinite(row.past_quality) and math.isfinite(row.past_price):
                ax.plot([row.past_quality, row.quality], [row.past_price, row.price],
                        color=colours[row.firm], linewidth=0.8, alpha=0.6)
                ax.plot([row.past_quality], [row.past_price], marker="o", markersize=2,
                        color=colours[row.firm], alpha=0.6)
        for kind, part in points.groupby("kind", sort=False):
            ax.scatter(part["quality"], part["price"], s=sizes[points.index.get_indexer(
                part.index)], c=[colours[f] for f in part["firm"]],
                marker=KIND_MARKER.get(kind, "o"), alpha=0.8, edgecolors="black",
                linewidths=0.4, zorder=3)
        low = min(points["quality"].min(), points["past_quality"].min(skipna=True)
                  if points["past_quality"].notna().any() else np.inf)
        high = max(points["quality"].max(), points["past_quality"].max(skipna=True)
                   if points["past_quality"].notna().any() else -np.inf)
        pad = max((high - low) * 0.12, 2.0)
        ax.set_xlim(low - pad, high + pad)
    top = max([cost, *points["price"].tolist(), *points["past_price"].dropna().tolist()])
    ax.set_ylim(0, top * 1.2 if top > 0 else 1.0)
    kinds = sorted(set(points["kind"]) if not points.empty else [])
    handles = [Line2D([], [], marker=KIND_MARKER.get(k, "o"), linestyle="", color="white",
                      markeredgecolor="black", label=KIND_LABEL.get(k, k)) for k in kinds]
    handles.append(Line2D([], [], color="black", linestyle="--", linewidth=0.8,
                          label=f"cost to serve ${cost:.2f}"))
    fig.legend(handles=handles, fontsize=FONT - 1, loc="outside upper center",
               ncol=len(handles), frameon=False, handletextpad=0.3, columnspacing=1.2)
    ax.set_xlabel("quality (points)", fontsize=FONT)
    ax.set_ylabel("price (USD per user-month)", fontsize=FONT)
    _label_points(fig, ax, points, sizes)
    return fig


def _label_points(fig: Figure, ax, points: pd.DataFrame, sizes: np.ndarray, *,
                  line_px: float = 11.0) -> None:
    """Name each bubble just right of it, moving a label up or down (with a leader line)
    when it would overlap another label."""
    if points.empty:
        return
    fig.draw_without_rendering()  # settle the layout, so pixel distances are final
    transform = ax.transData
    scale = fig.dpi / 72.0
    placed: list[tuple[float, float, float]] = []  # x, y (centre), width in pixels
    for index in np.argsort(-points["users"].to_numpy(), kind="stable"):
        row = points.iloc[index]
        x0, y0 = transform.transform((row["quality"], row["price"]))
        x = x0 + math.sqrt(sizes[index] / math.pi) * scale + 3
        width = 6.0 * len(row["firm"]) * scale * 0.8
        y_label = y0
        for offset in (i * sign * line_px for i in range(14) for sign in (1, -1)):
            candidate = y0 + offset
            if all(abs(candidate - py) >= line_px or x + width < px or px + pw < x
                   for px, py, pw in placed):
                y_label = candidate
                break
        placed.append((x, y_label, width))
        qx, qy = transform.inverted().transform((x, y_label))
        ax.text(qx, qy, row["firm"], fontsize=FONT - 1, va="center", ha="left", zorder=4)
        if abs(y_label - y0) > line_px / 2:
            tx, ty = transform.inverted().transform((x - 1, y_label))
            ax.plot([row["quality"], tx], [row["price"], ty], color="#777777", linewidth=0.4,
                    zorder=4)


# ---------------------------------------------------------------- money


def money_table(model: VizModel) -> pd.DataFrame:
    """Every firm with a cash balance: cash, runway (months; inf when not burning), alive."""
    rows = []
    for firm in model.firms:
        if firm.kind == "open_source":
            continue  # the community has no cash: users pay hosts outside the model
        rows.append({"firm": firm.firm_id, "kind": firm.kind, "cash": float(firm.cash_musd),
                     "credits": float(firm.credits_musd), "runway": float(firm.runway_months()),
                     "alive": bool(firm.alive)})
    return pd.DataFrame(rows, columns=["firm", "kind", "cash", "credits", "runway", "alive"])


def money_figure(model: VizModel) -> Figure:
    """Cash (log scale) and runway by firm, now; exited firms greyed."""
    table = money_table(model)
    colours = model_colours(model)
    fig = _figure(WIDTH, HEIGHT + 0.6)
    cash_ax, runway_ax = fig.subplots(1, 2, sharey=True, width_ratios=(1.15, 1))
    for ax in (cash_ax, runway_ax):
        _style(ax)
    y = np.arange(len(table))[::-1]
    bar_colours = [colours[f] if alive else EXITED
                   for f, alive in zip(table["firm"], table["alive"], strict=True)]
    total = (table["cash"] + table["credits"]).clip(lower=1.0)
    cash_ax.barh(y, total, color=bar_colours, height=0.7)
    cash_ax.set_xscale("log")
    cash_ax.set_xlim(1, max(float(total.max()) * 3, 10.0))
    cash_ax.set_yticks(y)
    cash_ax.set_yticklabels(table["firm"], fontsize=FONT - 1)
    cash_ax.set_xlabel("cash + credits (USD M, log)", fontsize=FONT)
    runway = table["runway"].where(np.isfinite(table["runway"]), RUNWAY_CAP_MONTHS)
    runway = runway.clip(upper=RUNWAY_CAP_MONTHS).where(table["alive"], 0.0)
    runway_ax.barh(y, runway, color=bar_colours, height=0.7)
    threshold = model.config.funding.raise_when_runway_below_months
    runway_ax.axvspan(0, min(threshold, RUNWAY_CAP_MONTHS), color="#f8d7da", zorder=0)
    for yi, row in zip(y, table.itertuples(), strict=True):
        if not row.alive:
            label = f"exited {_exit_date(model, row.firm)}"
        elif not math.isfinite(row.runway):
            label = "∞ (not burning)"
        elif row.runway > RUNWAY_CAP_MONTHS:
            label = f"{row.runway:.0f}"
        else:
            label = ""
        if label:
            runway_ax.text(1 if not row.alive else RUNWAY_CAP_MONTHS * 0.98, yi, label,
                           va="center", ha="left" if not row.alive else "right",
                           fontsize=FONT - 2, color="#333333",
                           bbox={"boxstyle": "round,pad=0.15", "facecolor": "white",
                                 "edgecolor": "none", "alpha": 0.85})
    runway_ax.set_xlim(0, RUNWAY_CAP_MONTHS)
    runway_ax.set_xlabel(f"runway, months (red: < {threshold:g}, raising)", fontsize=FONT)
    return fig


def _exit_date(model: VizModel, firm_id: str) -> str:
    firm = model.firm_by_id[firm_id]
    if firm.exit_month is None:
        return ""
    from moatsim.calendar import month_label

    return month_label(model.config.start, firm.exit_month)


# ---------------------------------------------------------------- investment network


def investments(model: VizModel) -> pd.DataFrame:
    """Money committed so far, investor → investee (USD M): stakes, tranches, compute
    credits, acquisitions and owners' funding from big tech, and venture capital."""
    totals: dict[tuple[str, str], float] = {}
    for firm in model.firms:
        for entry in firm.ledger.entries:
            if entry.category in FUNDING_FROM_OTHERS and entry.counterparty and \
                    entry.amount_musd > 0:
                key = (entry.counterparty, firm.firm_id)
                totals[key] = totals.get(key, 0.0) + float(entry.amount_musd)
    for lab in model.labs:  # in-house labs are linked to their owner from the start
        if lab.owner is not None:
            totals.setdefault((lab.owner.firm_id, lab.firm_id), 0.0)
    rows = [{"investor": a, "investee": b, "amount_musd": v} for (a, b), v in totals.items()]
    return pd.DataFrame(rows, columns=["investor", "investee", "amount_musd"])


def network_figure(model: VizModel) -> Figure:
    """Big tech (and venture capital) on the left, the firms they fund on the right; edge
    width ∝ dollars committed so far."""
    edges = investments(model)
    colours = model_colours(model)
    fig = _figure(WIDTH, HEIGHT + 0.6)
    ax = fig.subplots()
    ax.set_axis_off()
    if edges.empty:
        ax.text(0.5, 0.5, "no investments yet", ha="center", va="center", fontsize=FONT + 1,
                color="grey", transform=ax.transAxes)
        return fig
    order = [f.firm_id for f in model.firms]
    rank = {firm: i for i, firm in enumerate(order)}
    investors = sorted(set(edges["investor"]), key=lambda f: (f == VC_NODE, rank.get(f, 99), f))
    received = edges.groupby("investee")["amount_musd"].sum()
    given = edges.groupby("investor")["amount_musd"].sum()
    investees = sorted(received.index, key=lambda f: (-received[f], f))
    left = {f: 1 - (i + 0.5) / len(investors) for i, f in enumerate(investors)}
    right = {f: 1 - (i + 0.5) / len(investees) for i, f in enumerate(investees)}
    biggest = max(float(edges["amount_musd"].max()), 1.0)
    for row in edges.sort_values("amount_musd").itertuples():
        y0, y1 = left[row.investor], right[row.investee]
        width = 0.6 + 9.0 * row.amount_musd / biggest
        colour = colours.get(row.investor, OTHER)
        ax.plot([0.22, 0.78], [y0, y1], color=colour, linewidth=width, alpha=0.55,
                solid_capstyle="butt", linestyle="-" if row.amount_musd > 0 else ":")
    for firm, y in left.items():
        label = "venture capital" if firm == VC_NODE else firm
        ax.scatter([0.22], [y], s=60, color=colours.get(firm, OTHER), zorder=3,
                   edgecolors="black", linewidths=0.4)
        ax.text(0.19, y, f"{label} ({money(given[firm]) or '$0'})", ha="right", va="center",
                fontsize=FONT - 1)
    for firm, y in right.items():
        alive = model.firm_by_id[firm].alive if firm in model.firm_by_id else True
        ax.scatter([0.78], [y], s=60, color=colours.get(firm, OTHER) if alive else EXITED,
                   zorder=3, edgecolors="black", linewidths=0.4)
        ax.text(0.81, y, f"{firm} ({money(received[firm]) or '$0'})" + ("" if alive else " ✝"),
                ha="left", va="center", fontsize=FONT - 1)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    handles = [Patch(color=OTHER, label="venture capital"),
               Patch(color=EXITED, label="exited (✝)")]
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, -0.08), ncol=2,
              fontsize=FONT - 1, frameon=False)
    return fig


def all_figures(model: VizModel, segment: str | None = None) -> dict[str, Figure]:
    """Every chart of the page for one state of the model (for tests and screenshots)."""
    segment = segment or model.segment_ids[0]
    return {"shares": shares_figure(model), "shares_segment": shares_figure(model, segment),
            "market_map": market_map_figure(model, segment), "money": money_figure(model),
            "network": network_figure(model)}


def render_png(fig: Figure, **kwargs: Any) -> bytes:
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", **kwargs)
    return buffer.getvalue()
