"""The figures of one run: shares, quality, cash and market indicators over time, firms
coloured as on the page and in the reports (:mod:`moatsim.palette`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from moatsim.experiments.run import RunResult
from moatsim.palette import SCENARIO_COLOURS, firm_colours


def write_figures(result: RunResult, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    firms = list(dict.fromkeys(result.firms["firm"]))
    colours = firm_colours(firms)
    dates = pd.to_datetime(result.model["date"], format="%Y-%m")
    paths = []
    title = f"{result.summary['scenario']} · seed {result.summary['seed']}"

    shares = result.firms.pivot(index="month", columns="firm", values="share")[firms]
    serving = [f for f in firms if shares[f].max() > 0]
    fig = Figure(figsize=(9, 5))  # outside pyplot: no backend chosen, no global state
    ax = fig.subplots()
    ax.stackplot(dates, [shares[f] for f in serving], labels=serving,
                 colors=[colours[f] for f in serving])
    ax.set(ylabel="share of all adopters", ylim=(0, 1), title=f"Market shares — {title}")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    paths.append(_save(fig, folder / "shares.png"))

    for column, label, name in (("quality", "quality (points)", "quality"),
                                ("cash_musd", "cash (USD millions, log scale)", "cash")):
        table = result.firms.pivot(index="month", columns="firm", values=column)[firms]
        fig = Figure(figsize=(9, 5))
        ax = fig.subplots()
        for firm in firms:
            alive = result.firms[result.firms["firm"] == firm]["alive"].to_numpy()
            ax.plot(dates, table[firm].where(alive), label=firm, color=colours[firm])
        if name == "cash":
            ax.set_yscale("symlog", linthresh=100)
        ax.set(ylabel=label, title=f"{label.split(' (')[0].capitalize()} — {title}")
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
        paths.append(_save(fig, folder / f"{name}.png"))
    paths.append(_indicators(result, dates, title, folder / "indicators.png"))
    return paths


INDICATORS = (
    ("quality_gap", "best closed − best open model (quality points)"),
    ("model_access_markup", "labs' markup over cost to serve"),
    ("app_layer_margin_share", "app builders' share of the margin"),
    ("open_share", "share of users on open models"),
)


def _indicators(result: RunResult, dates: pd.Series, title: str, path: Path) -> Path:
    """The articles' story in four panels: the gap closes, margins fall, value moves to apps,
    open models gain users."""
    fig = Figure(figsize=(10, 6))
    axes = fig.subplots(2, 2, sharex=True)
    for ax, (column, label) in zip(axes.flat, INDICATORS, strict=True):
        ax.plot(dates, result.model[column], color=SCENARIO_COLOURS[0])
        ax.axhline(0, color="grey", linewidth=0.5)
        ax.set_title(label, fontsize=10)
    fig.suptitle(f"Market indicators — {title}")
    return _save(fig, path)


def _save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    # no timestamp in the file, so the same run gives the same bytes
    fig.savefig(path, dpi=110, metadata={"Software": None})
    return path
