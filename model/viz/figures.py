"""The page's charts as Plotly figures, drawn from a running model.

Pure functions of the model (no Solara), so they are tested without a browser. A figure is a
plain dict, ``{"data": [traces], "layout": {...}}``, in plotly.js's own schema (the tests
check every figure against plotly's validators): building dicts costs a few milliseconds a
chart, where plotly's validated objects cost ~0.1 s. :mod:`moatsim.viz.plotlychart` sends them
to plotly.js in the browser, which updates the drawing in place on every Step. Colours come
from :mod:`moatsim.palette` (one colour per firm, the same in every output); the marker shape
says the kind of firm; hovering names the firm, the value and its unit. Each figure carries
the month it shows in ``layout.meta``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from moatsim import metrics
from moatsim.calendar import month_label
from moatsim.palette import EXITED, FIRM_COLOURS, KIND_LABEL, OTHER
from moatsim.viz.colours import model_colours
from moatsim.viz.events import STORY_KINDS, describe, money

if TYPE_CHECKING:
    from moatsim.viz.vizmodel import VizModel

Figure = dict[str, Any]
"""A plotly.js figure: ``{"data": [...], "layout": {...}}``."""

ALL_SEGMENTS = "all segments"
FONT_PX = 12
SMALL_PX = 11  # legends, ticks and labels: never smaller (issue 16)
HEIGHT_PX = 330  # a chart under a segment picker in a 12-row panel (470 px)
TALL_PX = 390  # a chart alone in a 12-row panel
RUNWAY_CAP_MONTHS = 60
TRAIL_MONTHS = 12
LABELLED_SELLERS = 6  # on the market map; the others are named on hover
FUNDING_FROM_OTHERS = ("stake", "tranche", "compute_credits", "acquisition", "owner_funding", "vc",
                       "licence_and_hire")
VC_NODE = "venture_capital"
KIND_SYMBOL = {"lab": "circle", "app": "square", "open_source": "triangle-up",
               "bigtech": "diamond"}
"""Plotly's names for :data:`moatsim.palette.KIND_MARKER`'s shapes."""
GREY_TEXT = {"color": "grey", "size": FONT_PX + 1}


def _axis(**props: Any) -> dict[str, Any]:
    return {"tickfont": {"size": SMALL_PX}, "title": {"font": {"size": FONT_PX}},
            **props}


def _titled(text: str, **props: Any) -> dict[str, Any]:
    axis = _axis(**props)
    axis["title"] = {"text": text, "font": {"size": FONT_PX}}
    return axis


def _figure(model: VizModel, *, height: int = HEIGHT_PX, legend: bool = True,
            **layout: Any) -> Figure:
    """An empty figure with the page's layout: white, 11–12 px type, sized for its panel."""
    return {"data": [], "layout": {
        "template": "plotly_white", "height": height, "autosize": True,
        "margin": {"l": 56, "r": 20, "t": 28, "b": 40},  # r: room for the last year
        "font": {"size": FONT_PX, "family": "Roboto, Helvetica, Arial, sans-serif"},
        "legend": {"font": {"size": SMALL_PX}, "itemsizing": "constant"},
        "showlegend": legend, "hoverlabel": {"font": {"size": FONT_PX}},
        # keep the reader's zoom and hidden legend entries across Steps
        "uirevision": f"{getattr(model, 'serial', 0)}",
        "meta": {"month": int(model.month), "run": int(getattr(model, "serial", 0))},
        "xaxis": _axis(), "yaxis": _axis(), **layout}}


def _note(fig: Figure, text: str, y: float = 0.5) -> None:
    fig["layout"].setdefault("annotations", []).append(
        {"text": text, "showarrow": False, "x": 0.5, "y": y, "xref": "paper", "yref": "paper",
         "font": GREY_TEXT})


def _dates(model: VizModel, months: Any) -> list[str]:
    """Model months → ISO first days of the month (plotly's date axis)."""
    return [f"{month_label(model.config.start, int(m))}-01" for m in months]


def _date_axis(model: VizModel) -> dict[str, Any]:
    first, last = _dates(model, (0, model.config.months))
    return _axis(type="date", range=[first, last], tickformat="%Y", dtick="M12",
                 hoverformat="%Y-%m")


def _story_events(fig: Figure, model: VizModel, *, y: float) -> None:
    """The story's events (releases, deals, foundings, exits, regime changes) as marks along
    the top of a time chart, each saying what happened when hovered."""
    story = [e for e in model.events if e.get("kind") in STORY_KINDS and e.get("month", 0) > 0]
    if not story:
        return
    colours = model_colours(model)
    fig["data"].append({
        "type": "scatter", "x": _dates(model, [e["month"] for e in story]),
        "y": [y] * len(story), "mode": "markers", "name": "events", "showlegend": False,
        "cliponaxis": False,
        "marker": {"symbol": "triangle-down", "size": 9,
                   "line": {"width": 0.5, "color": "black"},
                   "color": [colours.get(str(e.get("firm")), OTHER) for e in story]},
        "text": [f"{e['date']}  {describe(e)}" for e in story],
        "hovertemplate": "%{text}<extra></extra>"})


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


def indicator_series(model: VizModel) -> dict[str, Any]:
    """Every model indicator (:func:`moatsim.metrics.indicators`) for each month so far,
    computed from the model's records once per month shown and kept on the model (the
    headline and the indicators chart read it; rebuilding Mesa's DataCollector after every
    Step cost more than the charts)."""
    months = len(model.recorder.months)
    cached = getattr(model, "_viz_indicators", None)
    if cached is None or cached[0] != months:
        cached = (months, metrics.indicators(model.recorder.records()))
        model._viz_indicators = cached
    return cached[1]


def headline(model: VizModel) -> Headline:
    """The figures at the top of the page, from the last recorded month."""
    last = {name: values[-1] for name, values in indicator_series(model).items()
            if len(values)}
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
    """month × seller: share of the segment's adopters (of all adopters for ``ALL_SEGMENTS``),
    from the users the model recorded each month (the segments table's ``users``)."""
    sellers = [s.firm_id for s in model.sellers]
    recorded = model.recorder.users
    if not recorded:
        return pd.DataFrame(columns=sellers, dtype=float)
    users = np.stack(recorded).astype(np.int64)  # [T, S, P], as the segments table holds them
    users = (users.sum(axis=1) if segment == ALL_SEGMENTS
             else users[:, model.segment_ids.index(segment), :]).astype(float)
    totals = users.sum(axis=1, keepdims=True)
    shares = np.divide(users, totals, out=np.zeros_like(users), where=totals > 0)
    return pd.DataFrame(shares, index=pd.Index(model.recorder.months, name="month"),
                        columns=sellers)


def shares_figure(model: VizModel, segment: str = ALL_SEGMENTS) -> Figure:
    """Stacked market shares over time, one band per seller in its own colour; the story's
    events marked along the top."""
    shares = share_table(model, segment)
    colours = model_colours(model)
    what = "all adopters" if segment == ALL_SEGMENTS else segment
    fig = _figure(model, hovermode="x unified", xaxis=_date_axis(model),
                  yaxis=_titled(f"share of {what}", range=[0, 1.08], tickformat=".0%",
                                tickvals=[0, 0.25, 0.5, 0.75, 1.0]))
    fig["layout"]["legend"]["traceorder"] = "reversed"
    x = _dates(model, shares.index)
    values = shares.to_numpy()  # column by column through pandas was most of this chart
    serving = np.flatnonzero(values.max(axis=0) > 0) if len(values) else []
    for k in serving:
        firm = shares.columns[k]
        fig["data"].append({
            "type": "scatter", "x": x, "y": values[:, k], "name": firm,
            "stackgroup": "shares", "mode": "lines", "fillcolor": colours[firm],
            "line": {"width": 0.4, "color": "white"},
            "hovertemplate": f"{firm}: %{{y:.1%}} of {what}<extra></extra>"})
    if not len(serving):
        _note(fig, "no adopters yet")
    _story_events(fig, model, y=1.04)
    return fig


@dataclass(frozen=True)
class Pinned:
    """A run kept to compare against: its label and its indicators up to the month pinned."""

    label: str
    months: list[int]
    hhi: list[float]
    open_share: list[float]


def pin(model: VizModel, label: str) -> Pinned:
    """A snapshot of the run shown (it may go on playing; the pin does not move)."""
    series = indicator_series(model)
    return Pinned(label=label, months=[int(m) for m in series["month"]],
                  hhi=[float(v) for v in series["hhi"]],
                  open_share=[float(v) for v in series["open_share"]])


def indicators_figure(model: VizModel, pinned: Pinned | None = None) -> Figure:
    """Concentration (HHI, 0–1) and open models' share of users, by month, with the story's
    events along the top; a pinned run's two lines dashed beside them."""
    values = indicator_series(model)
    x = _dates(model, values["month"])
    fig = _figure(model, height=TALL_PX, hovermode="x unified", xaxis=_date_axis(model),
                  yaxis=_titled("0–1 (share or index)", range=[0, 1.08],
                                tickvals=[0, 0.25, 0.5, 0.75, 1.0]))
    fig["layout"]["legend"].update(orientation="h", x=0, y=-0.12, yanchor="top")
    fig["data"] += [
        {"type": "scatter", "x": x, "y": values["hhi"], "name": "HHI (0–1)",
         "mode": "lines", "line": {"color": "#444444", "width": 2},
         "hovertemplate": "HHI %{y:.3f}<extra></extra>"},
        {"type": "scatter", "x": x, "y": values["open_share"],
         "name": "users on open models", "mode": "lines",
         "line": {"color": FIRM_COLOURS["open_source"], "width": 2},
         "hovertemplate": "open models: %{y:.1%} of users<extra></extra>"}]
    if pinned is not None:
        x_pinned = _dates(model, pinned.months)
        fig["data"] += [
            {"type": "scatter", "x": x_pinned, "y": pinned.hhi, "mode": "lines",
             "name": f"HHI, pinned ({pinned.label})",
             "line": {"color": "#444444", "width": 1.5, "dash": "dash"},
             "hovertemplate": "pinned HHI %{y:.3f}<extra></extra>"},
            {"type": "scatter", "x": x_pinned, "y": pinned.open_share, "mode": "lines",
             "name": "open models, pinned",
             "line": {"color": FIRM_COLOURS["open_source"], "width": 1.5, "dash": "dash"},
             "hovertemplate": "pinned: open models %{y:.1%} of users<extra></extra>"}]
    _story_events(fig, model, y=1.04)
    return fig


# ---------------------------------------------------------------- market map


MARKET_COLUMNS = ("firm", "kind", "quality", "price", "users", "past_quality", "past_price")


def _offers(model: VizModel, segment: str) -> dict[str, np.ndarray]:
    """:func:`market_points` as arrays, one per column (the market map reads them directly:
    pandas' per-call cost was most of the chart's time)."""
    s = model.segment_ids.index(segment)
    history = getattr(model, "offer_history", [])
    past = history[-1 - TRAIL_MONTHS] if len(history) > TRAIL_MONTHS else (
        history[0] if history else None)
    offered = np.flatnonzero(model.available[s])
    nan = np.full(len(offered), math.nan)
    columns = {
        "firm": np.array([model.sellers[k].firm_id for k in offered], dtype=object),
        "kind": np.array([model.sellers[k].kind for k in offered], dtype=object),
        "quality": np.asarray(model.quality[s, offered], dtype=float),
        "price": np.asarray(model.price_usd[s, offered], dtype=float),
        "users": np.asarray(model.population.users()[s][offered], dtype=float),
        "past_quality": nan, "past_price": nan.copy()}
    if past is not None and past[0].shape == model.quality.shape:
        was_offered = past[3][s, offered].astype(bool)
        columns["past_quality"] = np.where(was_offered, past[0][s, offered], math.nan)
        columns["past_price"] = np.where(was_offered, past[1][s, offered], math.nan)
    return columns


def market_points(model: VizModel, segment: str) -> pd.DataFrame:
    """The sellers offering in ``segment`` now: quality, price, users, and where they were
    ``TRAIL_MONTHS`` ago."""
    return pd.DataFrame(_offers(model, segment), columns=list(MARKET_COLUMNS))


def market_map_figure(model: VizModel, segment: str) -> Figure:
    """Each seller as a bubble at (quality, price), area ∝ users, with a line to where it was
    a year ago; the dashed line is the cost of serving a user, so commoditization shows as
    bubbles sliding down toward it."""
    s = model.segment_ids.index(segment)
    offers = _offers(model, segment)
    shown = np.isfinite(offers["quality"]) & np.isfinite(offers["price"])
    firm, kind, quality, price, users, past_quality, past_price = (
        offers[c][shown] for c in MARKET_COLUMNS)
    colours = model_colours(model)
    cost = float(model.cost_to_serve_usd[s])
    potential = float(model.config.segments[s].potential_users) or 1.0
    fig = _figure(model)
    if not len(firm):
        _note(fig, "nobody serves this segment yet", y=0.6)
        low, high = 0.0, 100.0
    else:
        trailed = np.isfinite(past_quality) & np.isfinite(past_price)
        for k in np.flatnonzero(trailed):
            fig["data"].append({
                "type": "scatter", "x": [past_quality[k], quality[k]],
                "y": [past_price[k], price[k]], "mode": "lines+markers",
                "showlegend": False, "hoverinfo": "skip", "opacity": 0.6,
                "line": {"color": colours[firm[k]], "width": 1},
                "marker": {"size": [4, 0], "color": colours[firm[k]]}})
        diameter = 8 + 46 * np.sqrt(np.clip(users / potential, 0, 1))
        # plotly does not move labels apart: name the largest sellers, the rest on hover
        # (a stable sort, so ties go to the seller listed first)
        named = np.zeros(len(firm), dtype=bool)
        named[np.argsort(-users, kind="stable")[:LABELLED_SELLERS]] = True
        for group in dict.fromkeys(kind):  # kinds in order of first appearance
            part = kind == group
            fig["data"].append({
                "type": "scatter", "x": quality[part], "y": price[part],
                "mode": "markers+text", "name": KIND_LABEL.get(group, group),
                "text": [f if label else "" for f, label in
                         zip(firm[part], named[part], strict=True)],
                "hovertext": firm[part].tolist(),
                "textposition": "middle right", "textfont": {"size": SMALL_PX},
                "customdata": users[part, None],
                "marker": {"symbol": KIND_SYMBOL.get(group, "circle"),
                           "size": diameter[part], "opacity": 0.85,
                           "color": [colours[f] for f in firm[part]],
                           "line": {"width": 0.6, "color": "black"}},
                "hovertemplate": "<b>%{hovertext}</b><br>quality %{x:.1f} points<br>"
                                 "price $%{y:.2f} per user-month<br>"
                                 "users %{customdata[0]:,.0f}<extra></extra>"})
        seen = np.concatenate([quality, past_quality[np.isfinite(past_quality)]])
        low, high = float(seen.min()), float(seen.max())
    pad = max((high - low) * 0.12, 2.0)
    span = [low - pad, high + pad * 2.5]  # room on the right for the names
    fig["data"].append({
        "type": "scatter", "x": span, "y": [cost, cost], "mode": "lines",
        "name": f"cost to serve ${cost:.2f}", "line": {"color": "black", "dash": "dash",
                                                        "width": 1},
        "hovertemplate": f"cost to serve a user: ${cost:.2f} per month<extra></extra>"})
    top = max([cost, *price.tolist(), *past_price[np.isfinite(past_price)].tolist()])
    layout = fig["layout"]
    layout["xaxis"] = _titled("quality (points)", range=span)
    layout["yaxis"] = _titled("price (USD per user-month)", tickprefix="$",
                              range=[0, top * 1.2 if top > 0 else 1.0])
    layout["legend"].update(orientation="h", x=0, y=1.0, yanchor="bottom")
    layout["margin"]["t"] = 34
    layout["meta"]["segment"] = segment
    return fig


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
    """Cash and credits (log scale) and runway by firm, now; exited firms greyed, the red
    band the runway below which a firm raises."""
    table = money_table(model)
    colours = model_colours(model)
    threshold = model.config.funding.raise_when_runway_below_months
    bar_colours = [colours[f] if alive else EXITED
                   for f, alive in zip(table["firm"], table["alive"], strict=True)]
    total = (table["cash"] + table["credits"]).clip(lower=1.0)
    firms = table["firm"].tolist()
    runway = table["runway"].where(np.isfinite(table["runway"]), RUNWAY_CAP_MONTHS)
    runway = runway.clip(upper=RUNWAY_CAP_MONTHS).where(table["alive"], 0.0)
    labels = [f"exited {_exit_date(model, row.firm)}" if not row.alive
              else "∞ (not burning)" if not math.isfinite(row.runway)
              else f"{row.runway:.0f} months" for row in table.itertuples()]
    fig = _figure(
        model, height=TALL_PX, legend=False, bargap=0.25,
        margin={"l": 112, "r": 12, "t": 12, "b": 44},
        xaxis=_titled("cash + credits, $M", type="log", domain=[0, 0.52],
                      range=[0, math.log10(max(float(total.max()) * 3, 10.0))]),
        xaxis2=_titled("runway, months", domain=[0.56, 1],
                       range=[0, RUNWAY_CAP_MONTHS], anchor="y2"),
        # every firm named (plotly skips category labels it finds crowded)
        yaxis=_axis(autorange="reversed", tickmode="array", tickvals=firms, ticktext=firms),
        yaxis2=_axis(matches="y", anchor="x2", showticklabels=False),
        shapes=[{"type": "rect", "xref": "x2", "yref": "y2 domain", "x0": 0,
                 "x1": min(threshold, RUNWAY_CAP_MONTHS), "y0": 0, "y1": 1,
                 "fillcolor": "#f8d7da", "line": {"width": 0}, "layer": "below"}])
    fig["data"] += [
        {"type": "bar", "orientation": "h", "x": total.to_numpy(), "y": firms,
         "marker": {"color": bar_colours}, "customdata": table[["cash", "credits"]].to_numpy(),
         "hovertemplate": "<b>%{y}</b><br>cash $%{customdata[0]:,.0f}M<br>"
                          "compute credits $%{customdata[1]:,.0f}M<extra></extra>"},
        {"type": "bar", "orientation": "h", "x": runway.to_numpy(), "y": firms,
         "xaxis": "x2", "yaxis": "y2", "marker": {"color": bar_colours},
         # only exits are written on the bars (text is most of a bar chart's drawing
         # time); a full bar is "not burning or ≥ 60 months", said in the hover
         "text": [label if not alive else "" for label, alive in zip(labels, table["alive"],
                                                                      strict=True)],
         "textposition": "outside", "cliponaxis": False, "constraintext": "none",
         "textfont": {"size": SMALL_PX}, "customdata": labels,
         "hovertemplate": "<b>%{y}</b><br>runway %{customdata}<extra></extra>"}]
    return fig


def _exit_date(model: VizModel, firm_id: str) -> str:
    firm = model.firm_by_id[firm_id]
    if firm.exit_month is None:
        return ""
    return month_label(model.config.start, firm.exit_month)


# ---------------------------------------------------------------- investment network


def investments(model: VizModel) -> pd.DataFrame:
    """Money committed so far, investor → investee (USD M): stakes, tranches, compute
    credits, acquisitions and owners' funding from big tech, and venture capital."""
    # ledgers only grow: each Step reads the entries posted since the last one (the whole
    # history was most of this chart's time by the third year)
    read, totals = getattr(model, "_viz_investments", ({}, {}))
    for firm in model.firms:
        entries = firm.ledger.entries
        for entry in entries[read.get(firm.firm_id, 0):]:
            if entry.category in FUNDING_FROM_OTHERS and entry.counterparty and \
                    entry.amount_musd > 0:
                key = (entry.counterparty, firm.firm_id)
                totals[key] = totals.get(key, 0.0) + float(entry.amount_musd)
        read[firm.firm_id] = len(entries)
    model._viz_investments = (read, totals)
    totals = dict(totals)
    for lab in model.labs:  # in-house labs are linked to their owner from the start
        if lab.owner is not None:
            totals.setdefault((lab.owner.firm_id, lab.firm_id), 0.0)
    rows = [{"investor": a, "investee": b, "amount_musd": v} for (a, b), v in totals.items()]
    return pd.DataFrame(rows, columns=["investor", "investee", "amount_musd"])


# investors' names below their nodes at the left edge (the big edges run up, to the
# investees that received most), investees' to the right of theirs: a panel 300 px wide
# (1280×800) has room for the longest investee's name and amount
LEFT_X, RIGHT_X = 0.02, 0.5


def network_figure(model: VizModel) -> Figure:
    """Big tech (and venture capital) on the left, the firms they fund on the right; edge
    width ∝ dollars committed so far."""
    edges = investments(model)
    colours = model_colours(model)
    hidden = _axis(visible=False, range=[0, 1], fixedrange=True)
    fig = _figure(model, height=TALL_PX, legend=False, xaxis=hidden, yaxis=dict(hidden),
                  margin={"l": 4, "r": 4, "t": 8, "b": 8})
    if edges.empty:
        _note(fig, "no investments yet")
        return fig
    rank = {firm.firm_id: i for i, firm in enumerate(model.firms)}
    investors = sorted(set(edges["investor"]), key=lambda f: (f == VC_NODE, rank.get(f, 99), f))
    received = edges.groupby("investee")["amount_musd"].sum()
    given = edges.groupby("investor")["amount_musd"].sum()
    investees = sorted(received.index, key=lambda f: (-received[f], f))
    left = {f: 1 - (i + 0.5) / len(investors) for i, f in enumerate(investors)}
    right = {f: 1 - (i + 0.5) / len(investees) for i, f in enumerate(investees)}
    biggest = max(float(edges["amount_musd"].max()), 1.0)
    for row in edges.sort_values("amount_musd").itertuples():
        y0, y1 = left[row.investor], right[row.investee]
        fig["data"].append({
            # three points, so hovering the middle of an edge names it
            "type": "scatter", "x": [LEFT_X, (LEFT_X + RIGHT_X) / 2, RIGHT_X],
            "y": [y0, (y0 + y1) / 2, y1],
            "mode": "lines", "opacity": 0.55, "showlegend": False,
            "line": {"color": colours.get(row.investor, OTHER),
                     "width": 0.8 + 11.0 * row.amount_musd / biggest,
                     "dash": "solid" if row.amount_musd > 0 else "dot"},
            "hovertemplate": f"{row.investor} → {row.investee}: "
                             f"{money(row.amount_musd) or '$0 so far (owner)'}<extra></extra>"})
    alive = [model.firm_by_id[f].alive if f in model.firm_by_id else True for f in right]
    names = ["venture capital" if f == VC_NODE else f for f in left]
    fig["data"] += [
        {"type": "scatter", "x": [LEFT_X] * len(left), "y": list(left.values()),
         "mode": "markers+text", "showlegend": False, "textposition": "bottom right",
         "text": [f"{n} ({money(given[f]) or '$0'})" for n, f in zip(names, left, strict=True)],
         "textfont": {"size": SMALL_PX},
         "marker": {"size": 11, "color": [colours.get(f, OTHER) for f in left],
                    "line": {"width": 0.6, "color": "black"}},
         "hovertemplate": "%{text} committed<extra></extra>"},
        {"type": "scatter", "x": [RIGHT_X] * len(right), "y": list(right.values()),
         "mode": "markers+text", "showlegend": False, "textposition": "middle right",
         "text": [f"{f} ({money(received[f]) or '$0'})" + ("" if a else " ✝")
                  for f, a in zip(right, alive, strict=True)],
         "textfont": {"size": SMALL_PX},
         "marker": {"size": 11, "color": [colours.get(f, OTHER) if a else EXITED
                                          for f, a in zip(right, alive, strict=True)],
                    "line": {"width": 0.6, "color": "black"}},
         "hovertemplate": "%{text} received<extra></extra>"}]
    return fig


def all_figures(model: VizModel, segment: str | None = None) -> dict[str, Figure]:
    """Every chart of the page for one state of the model (for tests and screenshots)."""
    segment = segment or model.segment_ids[0]
    return {"shares": shares_figure(model), "shares_segment": shares_figure(model, segment),
            "market_map": market_map_figure(model, segment), "money": money_figure(model),
            "network": network_figure(model), "indicators": indicators_figure(model)}
