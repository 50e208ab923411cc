"""The page's panels as Solara components, each a function of the running model.

Mesa's SolaraViz lays them out in its grid and re-renders them after every Step (they read
Mesa's ``update_counter``); charts are Plotly figures from :mod:`moatsim.viz.figures`, built
once per (model, month, selection) and sent to the browser's plotly.js as data, so a Step
updates a few traces instead of sending new pictures, and changing a segment in one panel
redraws only that panel. A panel that cannot draw says why instead of raising (the page
never shows a traceback).
"""

from __future__ import annotations

import html
import re
import traceback
from collections.abc import Callable
from typing import Any

import solara
from mesa.visualization.utils import update_counter

from moatsim.calendar import month_label
from moatsim.palette import FIRM_COLOURS, OTHER
from moatsim.viz import figures
from moatsim.viz.colours import model_colours
from moatsim.viz.download import file_stem, run_zip
from moatsim.viz.events import event_lines
from moatsim.viz.plotlychart import PlotlyChart, figure_json
from moatsim.viz.story import cited_facts

CARD_STYLE = {"height": "100%", "overflow-y": "auto", "overflow-x": "hidden"}

PINNED: solara.Reactive[figures.Pinned | None] = solara.reactive(None)
"""The run pinned to compare against (one per browser session, as Solara scopes it)."""


def _state_key(model: Any) -> tuple:
    """What a panel's picture depends on: which model, which month, whether it failed."""
    return (getattr(model, "serial", id(model)), model.month, getattr(model, "problem", None))


def _figure_json(make: Callable[[], figures.Figure]) -> tuple[tuple[str, str] | None,
                                                             str | None]:
    try:
        return figure_json(make()), None
    except Exception as exc:  # noqa: BLE001 — shown in the panel, never as a traceback
        traceback.print_exc()
        return None, f"This chart could not be drawn: {type(exc).__name__}: {exc}"


@solara.component
def Chart(make: Callable[[], figures.Figure], key: tuple, testid: str):
    """A Plotly figure, rebuilt only when ``key`` changes and sent to the same chart widget,
    so plotly.js redraws in place; the figure sets its height to fit the panel, the width
    follows the panel."""
    encoded, problem = solara.use_memo(lambda: _figure_json(make), dependencies=list(key))
    if problem:
        solara.Error(problem)
    figure, stamps = encoded or ("{}", "{}")
    with solara.Div(attributes={"data-testid": testid}, style={"width": "100%"}):
        PlotlyChart.element(figure_json=figure, meta_json=stamps)


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
        solara.HTML(unsafe_innerHTML=run_label(model), classes=["moatsim-title"],
                    attributes={"data-testid": "headline-run"})
        solara.HTML(unsafe_innerHTML=story_line(model), classes=["moatsim-story"],
                    attributes={"data-testid": "headline-story"})
        if problem:
            solara.Error(problem, dense=True, attributes={"data-testid": "viz-problem"})
        solara.HTML(unsafe_innerHTML="".join(parts))
        PinControl(model)
        with solara.Div(classes=["moatsim-download"], attributes={"data-testid": "download"}):
            # built on click, from the months run so far
            solara.FileDownload(lambda: run_zip(model), filename=f"{file_stem(model)}.zip",
                                label="Download this run: tables (CSV, Parquet) and a "
                                      "scenario file that re-runs it")


@solara.component
def PinControl(model: Any):
    """Pin the run shown (its indicators so far) to compare the next runs against it, on
    the indicators chart and in words here."""
    update_counter.get()  # its argument stays the same object from month to month
    pinned = PINNED.value
    plain_label = html.unescape(re.sub(r"<[^>]+>", "", run_label(model)))
    with solara.Row(gap="8px", style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Button("Pin this run", small=True, text=True,
                      on_click=lambda: PINNED.set(figures.pin(model, plain_label.split(
                          " · 20")[0] + f" at {model.date}")))
        if pinned is not None:
            solara.Button("Unpin", small=True, text=True, on_click=lambda: PINNED.set(None))
            solara.HTML(unsafe_innerHTML=pin_comparison(model, pinned),
                        classes=["moatsim-caption"], attributes={"data-testid": "pinned"})


def pin_comparison(model: Any, pinned: figures.Pinned) -> str:
    """``pinned: baseline · seed 1 at 2024-01 — HHI 0.41 then, 0.38 now (−0.030)``: the
    pinned run against the run shown at the same month, as HTML."""
    text = f"pinned: {html.escape(pinned.label)}"
    if model.month in pinned.months:
        at = pinned.months.index(model.month)
        now = figures.indicator_series(model)
        then_hhi, now_hhi = pinned.hhi[at], float(now["hhi"][-1])
        then_open, now_open = pinned.open_share[at], float(now["open_share"][-1])
        text += (f" — at {html.escape(model.date)}: HHI {then_hhi:.3f} pinned, {now_hhi:.3f}"
                 f" here ({now_hhi - then_hhi:+.3f}); open models {then_open:.1%} pinned, "
                 f"{now_open:.1%} here ({100 * (now_open - then_open):+.1f} pp)")
    else:
        text += f" (its last month is {month_label(model.config.start, pinned.months[-1])})"
    return text


def _number(value: Any) -> str:
    return format(value, "g") if isinstance(value, (int, float)) else str(value)


def run_label(model: Any) -> str:
    """``baseline · seed 1 · 2023-01 → 2031-01``, and the sliders moved away from the
    scenario's values (``changed: Switching cost 3 (scenario 1.5)``), as HTML."""
    label = (f"<b>{html.escape(str(getattr(model, 'scenario_label', '')))}</b> · seed "
             f"{html.escape(str(getattr(model, 'seed', '?')))} · {model.config.start} → "
             f"{html.escape(str(getattr(model, 'end_date', '')))}")
    changed = getattr(model, "changed", [])
    if changed:
        moves = ", ".join(f"{html.escape(spec.label)} {_number(value)} (scenario "
                          f"{_number(own)})" for spec, value, own in changed)
        label += f' · <span class="moatsim-changed">changed: {moves}</span>'
    return label


def story_line(model: Any) -> str:
    """The scenario's one-line description and the seed facts it names, each fact's
    statement shown on hover, as HTML."""
    facts = "".join(
        f'<span class="moatsim-fact" title="{html.escape(statement)}">{html.escape(fact)}'
        f"</span>" for fact, statement in cited_facts(model.config))
    return (f"{html.escape(model.config.description)}"
            + (f' <span class="moatsim-caption">seed facts:</span> {facts}' if facts else ""))


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
def ChartCard(model: Any, title: str, make: Callable[[Any], figures.Figure], testid: str):
    """A card holding one chart of the whole market (no segment to pick); it follows the
    update counter itself (its arguments stay the same objects from month to month)."""
    update_counter.get()
    with solara.Card(title, style=CARD_STYLE, margin=0):
        Chart(lambda: make(model), key=_state_key(model), testid=testid)


@solara.component
def Money(model: Any):
    ChartCard(model, "Cash and runway by firm (red band: raising)", figures.money_figure,
              "chart-money")


@solara.component
def InvestmentNetwork(model: Any):
    ChartCard(model, "Who funds whom (edge width = dollars committed)",
              figures.network_figure, "chart-network")


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
        solara.Checkbox(label="include training runs, price cuts, model swaps, venture rounds "
                                  "and routing",
                        value=minor)
        solara.HTML(unsafe_innerHTML="".join(rows), classes=["moatsim-events"],
                    attributes={"data-testid": "event-log"})


@solara.component
def Indicators(model: Any):
    """HHI and the open models' share of users by month, dated like the other charts."""
    update_counter.get()
    pinned = PINNED.value
    with solara.Card("Concentration (HHI) and users on open models", style=CARD_STYLE,
                     margin=0):
        Chart(lambda: figures.indicators_figure(model, pinned),
              key=(*_state_key(model), id(pinned)), testid="chart-indicators")


COMPONENTS = [Headline, MarketShares, MarketMap, Money, InvestmentNetwork, EventLog,
              Indicators]
"""The panels in the order the page's grid places them (see :data:`moatsim.viz.app.LAYOUT`)."""
