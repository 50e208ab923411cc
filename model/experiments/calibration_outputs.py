"""What a calibration leaves: the calibrated scenario file and the report.

* :func:`calibrated_scenario` — a scenario that ``extends`` the base and sets the best point's
  values. A value set in an entry (a segment, cohort, firm or offering) cites
  ``calibrated: <targets> (<calibration file>, loss …)`` in that entry's ``sources``; a section
  parameter, which has no ``sources``, cites it in the file's header, as hand-written
  scenarios do.
* :func:`write_calibration_report` — ``report.html`` (self-contained) and ``report.md`` with
  ``figures/*.png``: each target observed vs the hand-set and the best point (median and 90 %
  band over replicates), the loss over the search, the fitted parameters against their prior
  ranges with the acceptable set, and the targets no point met.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from moatsim.experiments.calibration import (
    BASE_GENERATION,
    GENERATION,
    POINTS,
    SOBOL_GENERATION,
    LoadedCalibration,
)
from moatsim.experiments.outfolder import write_file_atomically
from moatsim.loading import deep_merge
from moatsim.scenario import Scenario, Sourced

MARKER = "# written by moatsim calibrate"
"""The first line of a calibrated scenario: only a file that starts with it is replaced."""


class CalibrationOutputError(ValueError):
    """An output the calibration may not write (a user's file in the way), in one line."""


def check_scenario_out(path: Path) -> None:
    """Refuse to overwrite a file this command did not write (before anything runs)."""
    if path.is_dir():
        raise CalibrationOutputError(f"--scenario-out {path}: is a folder")
    if path.exists():
        with open(path, encoding="utf-8", errors="replace") as handle:
            first = handle.readline().rstrip("\n")
        if first != MARKER:
            raise CalibrationOutputError(
                f"--scenario-out {path}: exists and was not written by moatsim calibrate; "
                "choose another path or move the file")
    if not path.parent.is_dir():
        raise CalibrationOutputError(f"--scenario-out {path}: folder {path.parent} does not "
                                     "exist")


def _entry_tree(scenario: Scenario, dotted: str, value: Any,
                source: str) -> tuple[dict[str, Any], bool]:
    """The nested mapping that sets ``dotted`` (lists of entries by id), and whether the
    value's owner has a ``sources`` mapping to cite it in."""
    parts = dotted.split(".")
    node: Any = scenario
    chain: list[tuple[str, Any]] = []  # (key, container kind)
    sourced = False
    for index, part in enumerate(parts):
        if isinstance(node, list):
            chain.append((part, "entry"))
            node = next(e for e in node if str(getattr(e, "id", "")) == part)
            continue
        if isinstance(node, dict):
            chain.append((part, "key"))
            node = node[next(k for k in node if str(k) == part)]
            continue
        if index == len(parts) - 1:
            sourced = isinstance(node, Sourced)
        chain.append((part, "field"))
        node = getattr(node, part)
    leaf: dict[str, Any] = {chain[-1][0]: value}
    if sourced:
        leaf["sources"] = {chain[-1][0]: source}
    tree: Any = leaf
    for position in range(len(chain) - 2, -1, -1):
        key, kind = chain[position]
        if kind == "entry":
            tree = {"id": key, **tree}
        else:
            tree = {key: [tree] if chain[position + 1][1] == "entry" else tree}
    return tree, sourced


def calibrated_scenario(loaded: LoadedCalibration, points: pd.DataFrame, out_file: Path,
                        calibration_file: str) -> str:
    """The text of the calibrated scenario for the best point, to be written at ``out_file``."""
    best = points.loc[points["loss"].idxmin()]
    base = points.loc[points[GENERATION] == BASE_GENERATION].iloc[0]
    targets = ", ".join(c.id for c in loaded.checks)
    source = (f"calibrated: {targets} ({calibration_file}, loss {best['loss']:.3g}; hand-set "
              f"{base['loss']:.3g})")
    data: dict[str, Any] = {}
    header_sources = []
    for info in loaded.parameters:
        value = best[info.path]
        value = int(value) if info.kind == "int" else float(f"{float(value):.6g}")
        tree, sourced = _entry_tree(loaded.base, info.path, value, source)
        data = deep_merge(data, tree) if data else tree
        if not sourced:
            header_sources.append(f"#   {info.path}: {source}")
    parent = os.path.relpath(loaded.scenario_file.resolve(), out_file.resolve().parent)
    name = f"{loaded.base.name}_calibrated"
    head = {"extends": parent, "name": name,
            "description": f"{loaded.base.description} — {len(loaded.parameters)} assumed "
            f"parameters fitted to {targets}"[:300]}
    lines = [MARKER, f"# {name}: {loaded.base.name} with the best point of calibration "
             f"{loaded.name} ({calibration_file}).",
             f"# Targets (observations up to 2024-12 only): {targets}.",
             f"# Loss {best['loss']:.4g} (hand-set {base['loss']:.4g}); weighted mean of "
             "squared deviations in tolerance-band units.",
             "# Re-run the calibration rather than editing this file: it is replaced when the "
             "calibration is."]
    if header_sources:
        lines += ["# Sources of the section parameters set below:", *header_sources]
    lines += ["# What each fitted value replaced (the base scenario's value and source):",
              *(f"#   {info.path} = {info.base:.6g}: {info.source}"
                for info in loaded.parameters)]
    body = yaml.safe_dump(_sources_last({**head, **data}), sort_keys=False, allow_unicode=True,
                          width=100)
    return "\n".join(lines) + "\n" + body


def _sources_last(node: Any) -> Any:
    """Each entry's ``sources`` after its values, as in the hand-written scenarios."""
    if isinstance(node, dict):
        ordered = {k: _sources_last(v) for k, v in node.items() if k != "sources"}
        if "sources" in node:
            ordered["sources"] = node["sources"]
        return ordered
    if isinstance(node, list):
        return [_sources_last(item) for item in node]
    return node


def write_calibrated_scenario(loaded: LoadedCalibration, points: pd.DataFrame,
                              path: Path) -> Path:
    text = calibrated_scenario(loaded, points, path, loaded.file)
    return write_file_atomically(path, lambda temp: temp.write_text(text, encoding="utf-8"))


# ---------------------------------------------------------------- the report


def _number(value: float) -> str:
    if value is None or not np.isfinite(value):
        return "–" if value is None or np.isnan(value) else "∞"
    magnitude = abs(value)
    if magnitude >= 1e9:
        return f"{value / 1e9:.3g}B"
    if magnitude >= 1e6:
        return f"{value / 1e6:.3g}M"
    if magnitude >= 1e4:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _within(point: pd.Series, check_id: str) -> bool:
    d = point[f"deviation:{check_id}"]
    return bool(np.isfinite(d) and d <= 1.0)


def write_calibration_report(folder: Path, loaded: LoadedCalibration,
                             points: pd.DataFrame | None = None) -> list[Path]:
    """Write ``report.md``, ``report.html`` and ``figures/calibration_*.png`` into ``folder``."""
    from moatsim.experiments import report as r

    points = pd.read_parquet(folder / POINTS) if points is None else points
    cal = loaded.calibration
    figures = folder / "figures"
    figures.mkdir(exist_ok=True)
    best = points.loc[points["loss"].idxmin()]
    base = points.loc[points[GENERATION] == BASE_GENERATION].iloc[0]
    searched = points[points[GENERATION] >= SOBOL_GENERATION]
    accepted = searched[searched["loss"] <= cal.accept_loss]
    sobol = searched[searched[GENERATION] == SOBOL_GENERATION]
    sobol_accepted = sobol[sobol["loss"] <= cal.accept_loss]
    met_base = sum(_within(base, c.id) for c in loaded.checks)
    met_best = sum(_within(best, c.id) for c in loaded.checks)
    never = [c for c in loaded.checks
             if not (searched[f"deviation:{c.id}"] <= 1.0).any()]

    doc = r.Document(f"Calibration {loaded.name}")
    doc.add(r.Para(cal.description))
    summary = (f"{len(points)} points ({len(sobol)} Sobol, {len(searched) - len(sobol)} from "
               f"differential evolution, and the hand-set scenario) × {cal.replicates} "
               f"replicates, {loaded.months} months each (to "
               f"{_end(loaded)}). The loss fell from **{base['loss']:.4g}** (hand-set) to "
               f"**{best['loss']:.4g}** (best point). The best point has {met_best} of "
               f"{len(loaded.checks)} targets within their bands (median over replicates), "
               f"the hand-set scenario {met_base}. {len(accepted)} points are acceptable "
               f"(loss ≤ {cal.accept_loss:g}), {len(sobol_accepted)} of them in the Sobol "
               "stage (an ABC-rejection sample from the prior box).")
    doc.add(r.Heading(2, "Summary"), r.Para(summary))
    if accepted.empty:
        doc.add(r.Para(f"**No point is acceptable**: at no setting tried are the targets "
                       f"within their bands on average (loss ≤ {cal.accept_loss:g}). The "
                       f"spread below is that of the {NEAR_BEST} best points, which shows how "
                       "sharply the fit is determined, not a posterior.", note=True))
    if never:
        doc.add(r.Para("**The model cannot meet " + ", ".join(c.id for c in never) +
                       "** at any point tried: no parameter setting in these ranges puts the "
                       "median inside the band. That is a finding about the model (a missing "
                       "mechanism or a parameter not fitted here), not about the search.",
                       note=True))
    doc.add(r.Para(f"Targets are observations up to 2024-12 only (seeds/history.yaml and the "
                   f"file's own); later years are kept for validation. Calibration file: "
                   f"`{loaded.file}`; base scenario `{loaded.scenario_file}`."))

    doc.add(r.Heading(2, "Targets"))
    rows = []
    for check, weight in zip(loaded.checks, loaded.weights, strict=True):
        def cell(point: pd.Series, cid: str = check.id) -> str:
            return (f"{_number(point[f'median:{cid}'])} [{_number(point[f'p5:{cid}'])}–"
                    f"{_number(point[f'p95:{cid}'])}]")
        rows.append([check.id, f"{_number(check.value)} ({check.band}) {check.unit}",
                     f"{weight:g}", cell(base), "yes" if _within(base, check.id) else "no",
                     cell(best), "yes" if _within(best, check.id) else "no",
                     f"{int((searched[f'deviation:{check.id}'] <= 1.0).sum())}"])
    doc.add(r.Para("Simulated: median [5th–95th percentile] over replicates. *In band*: the "
                   "median lies within the tolerance band."),
            r.Table(["target", "observed (band)", "weight", "hand-set", "in band", "best",
                     "in band", "points in band"], rows, align="llrrlrlr"))

    doc.add(r.Heading(2, "Fitted parameters"))
    rows = []
    near = searched.nsmallest(NEAR_BEST, "loss")
    for info in loaded.parameters:
        at_edge = " (at the prior's edge)" if _at_edge(best[info.path], info) else ""
        rows.append([f"`{info.path}`", f"{_number(info.low)}–{_number(info.high)} "
                     f"({info.scale})", _number(base[info.path]),
                     _number(best[info.path]) + at_edge,
                     _spread(accepted[info.path]), _spread(near[info.path]), info.unit])
    doc.add(r.Para("Prior: a uniform box over each range (log10 for log scales). Spreads are "
                   f"the 5th–95th percentile of the acceptable points and of the {NEAR_BEST} "
                   "best points tried. A best value at the prior's edge means the data pull "
                   "it outside the range the file allows."),
            r.Table(["parameter", "prior range", "hand-set", "best", "acceptable set",
                     f"{NEAR_BEST} best", "unit"], rows, align="llrrrrl"))
    doc.add(r.Heading(2, "Search"),
            r.Figure(_loss_figure(points, cal.accept_loss, figures / "calibration_loss.png"),
                     "Loss of every point in the order tried (log scale) and the best so far; "
                     "the dashed line is the acceptance threshold."),
            r.Figure(_parameter_figure(loaded, points, accepted, best, base,
                                       figures / "calibration_parameters.png"),
                     "Each fitted parameter over its prior range: every point tried (grey), "
                     "acceptable points (blue), the best (red) and the hand-set value "
                     "(black line)."))
    doc.add(r.Heading(2, "Reproduce"),
            r.Para(f"`moatsim calibrate {loaded.file} --out {folder}` (add `--resume` to "
                   "continue an interrupted calibration). Check the calibrated scenario "
                   "against the null and rival models with `moatsim patterns "
                   "<calibrated scenario> --against all`."))
    markdown = write_file_atomically(
        folder / "report.md",
        lambda temp: temp.write_text(r.render_markdown(doc, folder), encoding="utf-8"))
    page = write_file_atomically(
        folder / "report.html",
        lambda temp: temp.write_text(r.render_html(doc), encoding="utf-8"))
    return [page, markdown]


NEAR_BEST = 20
"""How many of the best points the report shows the spread of, beside the acceptable set."""


def _spread(values: pd.Series) -> str:
    if values.empty:
        return "–"
    return f"{_number(values.quantile(0.05))}–{_number(values.quantile(0.95))}"


def _at_edge(value: float, info: Any) -> bool:
    """Within 2 % of the range (in the sampling space) of either end."""
    low, high = (np.log10(info.low), np.log10(info.high)) if info.scale == "log" else \
        (info.low, info.high)
    x = np.log10(value) if info.scale == "log" else value
    return bool(min(x - low, high - x) <= 0.02 * (high - low))


def _end(loaded: LoadedCalibration) -> str:
    from moatsim.calendar import month_label

    return month_label(loaded.base.start, loaded.months - 1)


def _loss_figure(points: pd.DataFrame, accept: float, path: Path) -> Path:
    from moatsim.experiments import report as r

    fig = r.new_figure(figsize=(8, 3.6))
    ax = fig.subplots()
    order = points.sort_values("point")
    finite = order["loss"].replace(np.inf, np.nan)
    colours = np.where(order[GENERATION] == BASE_GENERATION, "black",
                       np.where(order[GENERATION] == SOBOL_GENERATION, "#7f7f7f", "#1f77b4"))
    ax.scatter(order["point"], finite, s=10, c=colours, alpha=0.8, linewidths=0)
    ax.plot(order["point"], finite.cummin(), color="#d62728", lw=1.6, label="best so far")
    ax.axhline(accept, color="#444", ls="--", lw=1, label=f"acceptable (loss ≤ {accept:g})")
    ax.set_yscale("log")
    ax.set_xlabel("point (hand-set first, then Sobol in grey, then evolution in blue)")
    ax.set_ylabel("loss")
    ax.legend(loc="upper right", fontsize=9)
    return r._save(fig, path)


def _parameter_figure(loaded: LoadedCalibration, points: pd.DataFrame, accepted: pd.DataFrame,
                      best: pd.Series, base: pd.Series, path: Path) -> Path:
    from moatsim.experiments import report as r

    fig, axes = r._panels(len(loaded.parameters), width=4.2, height=3.3)
    searched = points[points[GENERATION] >= SOBOL_GENERATION]
    for ax, info in zip(axes, loaded.parameters, strict=True):
        loss = searched["loss"].replace(np.inf, np.nan)
        ax.scatter(searched[info.path], loss, s=8, color="#bbbbbb", linewidths=0)
        if len(accepted):
            ax.scatter(accepted[info.path], accepted["loss"], s=12, color="#1f77b4",
                       linewidths=0)
        ax.scatter([best[info.path]], [best["loss"]], s=40, color="#d62728", zorder=3)
        ax.axvline(base[info.path], color="black", lw=1)
        ax.set_yscale("log")
        if info.scale == "log":
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(r.NullFormatter())
        ax.set_xlim(info.low, info.high)
        ax.set_title(r._wrap(info.label, 40), fontsize=10)
        ax.set_xlabel(info.unit, fontsize=9)
        ax.set_ylabel("loss", fontsize=9)
    fig.tight_layout()
    return r._save(fig, path)

