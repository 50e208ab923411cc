"""Plain-text tables for the terminal: what ``moatsim run`` prints after a run."""

from __future__ import annotations

import math

import pandas as pd

from moatsim.experiments.run import RunResult

# how much an event says about why shares moved (higher first), before its amount
EVENT_WEIGHT = {
    "exit": 100, "acquisition": 95, "open_release": 90, "close_release": 90,
    "model_release": 85, "licence_start": 80, "licence_end": 80, "tranche_withheld": 75,
    "stake": 70, "tranche": 70, "funding_round": 65, "new_champion": 60, "new_open_base": 60,
    "model_swap": 50, "routing": 50, "price_cut": 40, "segment_entry": 30, "training_run": 20,
}


def summary_table(result: RunResult) -> str:
    """Final state of every firm, the market indicators and each segment's leader."""
    summary = result.summary
    last = result.firms[result.firms["month"] == summary["months"]]
    lines = [
        f"{summary['scenario']} · seed {summary['seed']} · {summary['start']} → {summary['end']}",
        "",
        f"{'firm':<12} {'kind':<8} {'users (M)':>10} {'share':>7} {'quality':>8} "
        f"{'price $/mo':>10} {'cash $M':>11}  status",
    ]
    for row in last.sort_values("share", ascending=False, kind="stable").itertuples():
        status = "active" if row.alive else "exited"
        price = f"{row.price_usd:10.3f}" if row.price_usd == row.price_usd else f"{'–':>10}"
        lines.append(f"{row.firm:<12} {row.kind:<8} {row.users / 1e6:10.1f} {row.share:7.1%} "
                     f"{row.quality:8.1f} {price} {row.cash_musd:11,.0f}  {status}")
    final = summary["final"]
    gap = "–" if final["quality_gap"] is None else f"{final['quality_gap']:.1f} points"
    lines += [
        "",
        f"adopters {final['adopters'] / 1e6:,.0f}M · HHI {final['hhi']:.3f} · "
        f"open share {final['open_share']:.1%} · quality gap {gap}",
        "leaders: " + ", ".join(f"{segment} {firm or '–'}"
                                for segment, firm in summary["leader_per_segment"].items()),
    ]
    if summary["exits"]:
        lines.append("exits: " + ", ".join(f"{e['firm']} ({e['date']})" for e in summary["exits"]))
    return "\n".join(lines)


def top_events(events: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The ``n`` events that matter most, in the order they happened."""
    if events.empty:
        return events
    amount = events["amount_musd"].fillna(0.0).abs()
    score = events["kind"].map(EVENT_WEIGHT).fillna(0) + amount.map(
        lambda a: math.log10(1.0 + a))
    chosen = events.assign(_score=score).nlargest(n, "_score", keep="first")
    return chosen.sort_values(["month", "_score"], ascending=[True, False],
                              kind="stable").drop(columns="_score")


def events_table(events: pd.DataFrame) -> str:
    lines = ["key events:"]
    for row in events.itertuples():
        amount = "" if pd.isna(row.amount_musd) else f"  ${row.amount_musd:,.0f}M"
        lines.append(f"  {row.date}  {row.firm:<15} {row.kind:<16} {row.detail}{amount}")
    return "\n".join(lines)
