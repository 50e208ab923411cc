"""Plain-text tables for the terminal: what ``moatsim run`` prints after a run."""

from __future__ import annotations

from model.experiments.run import RunResult


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
        price = f"{row.price:10.3f}" if row.price == row.price else f"{'–':>10}"
        lines.append(f"{row.firm:<12} {row.kind:<8} {row.users / 1e6:10.1f} {row.share:7.1%} "
                     f"{row.quality:8.1f} {price} {row.cash:11,.0f}  {status}")
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
