"""Writing a comparison: ``comparison.csv``, ``runs.csv``, ``series.csv``, ``comparison.md``
and figures (each key metric over time per scenario, and a panel of final outcomes)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from moatsim.experiments.compare import FINAL_METRICS, SERIES, Comparison
from moatsim.experiments.outfolder import write_atomically
from moatsim.experiments.units import (
    axis_unit,
    format_difference,
    format_value,
    start_at_zero,
)
from moatsim.palette import scenario_colours

MAIN_TABLE = ("first_mover_share", "share_lab", "share_app", "share_open_source", "hhi",
              "open_share", "quality_gap", "model_access_markup", "app_layer_margin_share",
              "exits", "patterns_held")
PANEL = ("first_mover_share", "open_share", "quality_gap", "model_access_markup",
         "app_layer_margin_share", "hhi")


def write_comparison(result: Comparison, out_dir: Path, *, force: bool = False) -> Path:
    """Write the comparison's files to ``out_dir`` whole (replacing an earlier comparison;
    see :mod:`moatsim.experiments.outfolder`)."""
    def fill(folder: Path) -> None:
        result.table.to_csv(folder / "comparison.csv", index=False)
        result.runs.to_csv(folder / "runs.csv", index=False)
        result.series.to_csv(folder / "series.csv", index=False)
        figures = folder / "figures"
        figures.mkdir()
        _series_figure(result, figures / "over_time.png")
        _final_panel(result, figures / "final_outcomes.png")
        (folder / "comparison.md").write_text(render_markdown(result), encoding="utf-8")

    return write_atomically(out_dir, fill, command="compare", force=force)


def _cell(table: pd.DataFrame, scenario: str, metric: str) -> str:
    row = table[(table["scenario"] == scenario) & (table["metric"] == metric)]
    if row.empty or pd.isna(row["mean"].iloc[0]):
        return "–"
    row = row.iloc[0]
    unit = _unit(metric)
    text = f"{format_value(row['mean'], unit, with_unit=False)} ± " \
        f"{format_value(row['std'], unit, with_unit=False)}"
    return f"**{text}** ◆" if row["significant"] else text


def _unit(metric: str) -> str:
    """A metric's unit (a segment's first-mover share is a share)."""
    return FINAL_METRICS.get(metric, ("", "share"))[1]


def _label(metric: str) -> str:
    if metric in FINAL_METRICS:
        return FINAL_METRICS[metric][0]
    return f"first mover's share of {metric.split('.', 1)[1]}"


SUMMARY_EFFECTS = 3
"""How many of a scenario's differences the summary names (the clearest first)."""


def summary_lines(result: Comparison) -> list[str]:
    """The comparison in words: for each scenario, its clearest differences from the first
    (significant after Holm, ordered by p-value, then size), each with its 95% interval."""
    table, reference = result.table, result.scenarios[0]
    lines = []
    for scenario in result.scenarios[1:]:
        rows = table[(table["scenario"] == scenario) & table["significant"]]
        rows = rows.assign(size=rows["diff_vs_first"].abs()).sort_values(
            ["p_value", "size"], ascending=[True, False], kind="stable")
        if rows.empty:
            lines.append(f"- **{scenario}** does not differ from {reference} beyond the "
                         "seed noise in any outcome.")
            continue
        effects = []
        for row in rows.head(SUMMARY_EFFECTS).itertuples():
            unit = _unit(row.metric)
            effects.append(f"{_label(row.metric)} {format_difference(row.diff_vs_first, unit)} "
                           f"(95% interval {format_difference(row.diff_low, unit)} to "
                           f"{format_difference(row.diff_high, unit)})")
        more = len(rows) - SUMMARY_EFFECTS
        lines.append(f"- **{scenario}** against {reference}: " + "; ".join(effects)
                     + (f"; and {more} more difference{'s' if more > 1 else ''} beyond the "
                        "noise" if more > 0 else "") + ".")
    return lines


def render_markdown(result: Comparison) -> str:
    table, scenarios = result.table, result.scenarios
    replicates = int(table["n"].max())
    lines = [
        f"# Scenario comparison ({replicates} replicates, seeds 1–{replicates})",
        "",
        f"Mean ± standard deviation over replicates at the last month. ◆ (bold) marks a "
        f"difference from **{scenarios[0]}** larger than the replicate noise: a paired "
        f"t-test across the common seeds, Holm-adjusted p < 0.05 per scenario.",
        "",
        "## Summary",
        "",
        *summary_lines(result),
        "",
        "## Market structure",
        "",
        "| scenario | " + " | ".join(FINAL_METRICS[m][0] for m in MAIN_TABLE) + " |",
        "|---|" + "---:|" * len(MAIN_TABLE),
    ]
    for scenario in scenarios:
        lines.append(f"| {scenario} | " + " | ".join(_cell(table, scenario, m)
                                                   for m in MAIN_TABLE) + " |")
    segment_metrics = sorted(m for m in table["metric"].unique()
                             if m.startswith("first_mover_share."))
    if segment_metrics:
        lines += ["", "## First entrant's share of each segment", "",
                  "| scenario | " + " | ".join(m.split(".", 1)[1] for m in segment_metrics)
                  + " |", "|---|" + "---:|" * len(segment_metrics)]
        for scenario in scenarios:
            lines.append(f"| {scenario} | " + " | ".join(_cell(table, scenario, m)
                                                       for m in segment_metrics) + " |")
    pattern_cols = [f"P{i}" for i in range(1, 8) if f"P{i}" in result.runs.columns]
    if pattern_cols:
        held = result.runs.groupby("scenario", sort=False)[pattern_cols].mean()
        lines += ["", "## Patterns held (share of replicates)", "",
                  "| scenario | " + " | ".join(pattern_cols) + " |",
                  "|---|" + "---:|" * len(pattern_cols)]
        for scenario in scenarios:
            lines.append(f"| {scenario} | " + " | ".join(f"{held.loc[scenario, p]:.0%}"
                                                       for p in pattern_cols) + " |")
    lines += ["", "Figures: `figures/over_time.png` (mean and 90 % band per scenario),",
              "`figures/final_outcomes.png` (final outcomes, mean and 5th–95th percentiles).",
              ""]
    return "\n".join(lines)


def _ticks(unit: str) -> FuncFormatter:
    """Tick labels in the metric's unit, as the tables write it (14%, not 0.14)."""
    return FuncFormatter(lambda value, _position: format_value(value, unit, with_unit=False))


def _series_figure(result: Comparison, path: Path) -> None:
    colours = scenario_colours(result.scenarios)
    fig = Figure(figsize=(15, 8))  # outside pyplot: no backend chosen, no global state
    axes = fig.subplots(2, 3, sharex=True)
    grouped = result.series.groupby(["scenario", "month"], sort=False)
    dates = pd.to_datetime(result.series.drop_duplicates("month")["date"], format="%Y-%m")
    for ax, metric in zip(axes.flat, SERIES, strict=True):
        stats_ = grouped[metric].agg(mean="mean", low=lambda v: v.quantile(0.05),
                                     high=lambda v: v.quantile(0.95))
        for scenario in result.scenarios:
            part = stats_.loc[scenario]
            ax.plot(dates, part["mean"].to_numpy(), color=colours[scenario], label=scenario,
                    linewidth=1.4)
            ax.fill_between(dates, part["low"].to_numpy(), part["high"].to_numpy(),
                            color=colours[scenario], alpha=0.15, linewidth=0)
        label, unit = FINAL_METRICS[metric]
        ax.set_title(f"{label} ({axis_unit(unit)})", fontsize=10)
        ax.yaxis.set_major_formatter(_ticks(unit))
        start_at_zero(ax, unit, float(stats_["low"].min()))
    axes.flat[0].legend(fontsize=7, loc="best")
    fig.suptitle("Key metrics over time: mean and 90 % band over replicates")
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})


def _final_panel(result: Comparison, path: Path) -> None:
    colours = scenario_colours(result.scenarios)
    fig = Figure(figsize=(15, 8))
    axes = fig.subplots(2, 3)
    table = result.table
    for ax, metric in zip(axes.flat, PANEL, strict=True):
        rows = table[table["metric"] == metric].set_index("scenario").loc[result.scenarios]
        low = (rows["mean"] - rows["p5"]).clip(lower=0)
        high = (rows["p95"] - rows["mean"]).clip(lower=0)
        positions = range(len(rows))
        ax.barh(list(positions), rows["mean"], xerr=[low, high],
                color=[colours[s] for s in rows.index], capsize=2)
        ax.set_yticks(list(positions), [f"{s}{' ◆' if sig else ''}"
                                        for s, sig in zip(rows.index, rows["significant"],
                                                          strict=True)], fontsize=8)
        ax.invert_yaxis()
        label, unit = FINAL_METRICS[metric]
        ax.set_title(f"{label} ({axis_unit(unit)})", fontsize=10)
        ax.xaxis.set_major_formatter(_ticks(unit))
    fig.suptitle("Final outcomes: mean and 5th–95th percentile (◆ differs from "
                 f"{result.scenarios[0]} beyond noise)")
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})
