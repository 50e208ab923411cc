"""The page's panels as Solara components, each a function of the running model.

Mesa's SolaraViz lays them out in its grid and re-renders them after every Step (they read
Mesa's ``update_counter``); charts are drawn by :mod:`moatsim.viz.figures` and cached per
(model, month, selection), so changing a segment in one panel redraws only that panel.
A panel that cannot draw says why instead of raising (the page never shows a traceback).
"""

from __future__ import annotations

import html
import traceback
from collections.abc import Callable
from typing import Any

import solara
from matplotlib.figure import Figure
from mesa.visualization import make_plot_component
from mesa.visualization.utils import update_counter

from moatsim.viz import figures
from moatsim.palette import FIRM_COLOURS, OTHER
from moatsim.viz.colours import model_colours
from moatsim.viz.events import event_lines

CARD_STYLE = {"height": "100%", "overflow-y": "auto", "overflow-x": "hidden"}


def _state_key(model: Any) -> tuple:
    """What a panel's picture depends on: which model, which month, whether it failed."""
    return (getattr(model, "serial", id(model)), model.month, getattr(model, "problem", None))


def _png(make: Callable[[], Figure]) -> tuple[bytes | None, str | None]:
    try:
        fig = make()
        return figures.render_png(fig), None
    except Exception as exc:  # noqa: BLE001 — shown in the panel, never as a traceback
        traceback.print_exc()
        return None, f"This chart could not be drawn: {type(exc).__name__}: {exc}"


@solara.component
def Chart(make: Callable[[], Figure], key: tuple, testid: str):
    """A matplotlib figure as a responsive PNG, redrawn only when ``key`` changes."""
    png, problem = solara.use_memo(lambda: _png(make), dependencies=list(key))
    if problem:
        solara.Error(problem)
    elif png is not None:
        with solara.Div(attributes={"data-testid": testid}, style={"width": "100%"}):
            solara.Image(png, width="100%")


def _segment_picker(model: Any, value: solara.Reactive[str], *, with_all: bool) -> None:
    values = ([figures.ALL_SEGMENTS] if with_all else []) + list(model.segment_ids)
    if value.value not in values:
        value.set(values[0])
    solara.Select("Segment", values=values, value=value, dense=True,
                  style={"max-width": "260px"})


# ---------------------------------------------------------------- panels


@solara.component
def Headline(model: Any):
    """Date, HHI, open share, quality gap, adopters and each segment's leader; and any
    problem with the controls, in red."""
    update_counter.get()
    head = figures.headline(model)
    colours = model_colours(model)
    problem = getattr(model, "problem", None)
    tiles = [
        ("date", head.date, f"month {head.month} of {head.months}"),
        ("hhi", figures.fmt(head.hhi, ".3f"), "HHI, 0–1 (adopter-weighted)"),
        ("open-share", figures.fmt(head.open_share, ".1%"), "users on open models"),
        ("quality-gap", figures.fmt(head.quality_gap, "+.1f", missing="no open LLM"),
         "closed − open language model (points)"),
        ("adopters", f"{head.adopters / 1e6:,.0f}M", "adopters, all segments"),
    ]
    parts = ['<div class="moatsim-tiles">']
    for name, value, caption in tiles:
        parts.append(f'<div class="moatsim-tile"><div class="moatsim-value" '
                     f'data-testid="headline-{name}">{html.escape(value)}</div>'
                     f'<div class="moatsim-caption">{html.escape(caption)}</div></div>')
    parts.append('</div><div class="moatsim-leaders" data-testid="headline-leaders">'
                 '<span class="moatsim-caption">leaders:</span> ')
    for segment, leader in head.leaders.items():
        dot = colours.get(leader, "#cccccc")
        parts.append(f'<span class="moatsim-chip"><span class="moatsim-dot" '
                     f'style="background:{dot}"></span>{html.escape(segment)}: '
                     f'<b>{html.escape(leader or "–")}</b></span>')
    parts.append("</div>")
    with solara.Card(style=CARD_STYLE, margin=0):
        solara.HTML(unsafe_innerHTML=(
            f"<b>{html.escape(str(getattr(model, 'scenario_label', '')))}</b> · seed "
            f"{html.escape(str(getattr(model, 'seed', '?')))} · {model.config.start} → "
            f"{getattr(model, 'end_date', '')}"), classes=["moatsim-title"],
            attributes={"data-testid": "headline-run"})
        if problem:
            solara.Error(problem, dense=True, attributes={"data-testid": "viz-problem"})
        solara.HTML(unsafe_innerHTML="".join(parts))


@solara.component
def MarketShares(model: Any):
    """Stacked shares over time, by seller, for all adopters or one segment."""
    update_counter.get()
    segment = solara.use_reactive(figures.ALL_SEGMENTS)
    with solara.Card("Market shares over time", style=CARD_STYLE, margin=0):
        _segment_picker(model, segment, with_all=True)
        Chart(lambda: figures.shares_figure(model, segment.value),
              key=(*_state_key(model), segment.value), testid="chart-shares")


@solara.component
def MarketMap(model: Any):
    """Each seller at (quality, price), bubble area ∝ users, with its path over the last
    year; the dashed line is the cost of serving a user."""
    update_counter.get()
    segment = solara.use_reactive(model.segment_ids[0])
    with solara.Card("Market map: quality vs price", style=CARD_STYLE, margin=0):
        _segment_picker(model, segment, with_all=False)
        Chart(lambda: figures.market_map_figure(model, segment.value),
              key=(*_state_key(model), segment.value), testid="chart-market-map")


@solara.component
def Money(model: Any):
    update_counter.get()
    with solara.Card("Cash and runway by firm", style=CARD_STYLE, margin=0):
        Chart(lambda: figures.money_figure(model), key=_state_key(model), testid="chart-money")


@solara.component
def InvestmentNetwork(model: Any):
    update_counter.get()
    with solara.Card("Who funds whom (edge width = dollars committed)", style=CARD_STYLE,
                     margin=0):
        Chart(lambda: figures.network_figure(model), key=_state_key(model),
              testid="chart-network")


@solara.component
def EventLog(model: Any):
    """Dated events, newest first."""
    update_counter.get()
    minor = solara.use_reactive(False)
    lines = event_lines(model.events, minor=minor.value)
    colours = model_colours(model)
    rows = []
    for date, text, kind in lines:
        agent = text.split(" ", 1)[0]
        colour = colours.get(agent, FIRM_COLOURS["open_source"] if agent == "open-source"
                             else OTHER)
        rows.append(f'<div class="moatsim-event moatsim-kind-{html.escape(kind)}">'
                    f'<span class="moatsim-date">{html.escape(date)}</span>'
                    f'<span class="moatsim-dot" style="background:{colour}"></span>'
                    f'{html.escape(text)}</div>')
    if not rows:
        rows.append('<div class="moatsim-caption">no events yet</div>')
    with solara.Card(f"Event log ({len(lines)})", style=CARD_STYLE, margin=0):
        solara.Checkbox(label="include training runs, price cuts and model swaps",
                        value=minor)
        solara.HTML(unsafe_innerHTML="".join(rows), classes=["moatsim-events"],
                    attributes={"data-testid": "event-log"})


def _indicator_axes(ax) -> None:
    ax.set_ylim(0, 1)
    ax.set_title("Concentration (HHI) and open models' share of users, by month", fontsize=10)
    ax.set_ylabel("share (0–1)")


INDICATORS = make_plot_component(
    {"hhi": "#444444", "open_share": FIRM_COLOURS["open_source"]},
    post_process=_indicator_axes, backend="matplotlib")
"""Mesa's own matplotlib plot of two model reporters, as (component, page)."""


COMPONENTS = [Headline, MarketShares, MarketMap, Money, InvestmentNetwork, EventLog,
              INDICATORS[0]]
"""The panels in the order the page's grid places them (see :data:`moatsim.viz.app.LAYOUT`)."""
