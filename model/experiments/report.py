"""The report of a sweep: ``report.html`` (one self-contained file, figures embedded) and
``report.md`` with its PNGs in ``figures/``, written into the sweep's folder.

Each file is replaced on its own (written beside it, then renamed), and only the files the
report names are written: anything else in the folder or in ``figures/`` is left alone.

Sections:

1. **Set-up** — the question, base scenario, design, seeds, months, runs done and failed,
   and each varied parameter with its unit, baseline value, values or range and source;
2. **Results at a glance** — each kept metric over all runs (mean, 5th, 50th, 95th percentile)
   and how often each pattern P1–P7 held;
3. **Responses** — for each varied parameter, each key metric's mean and 90% band (5th–95th
   percentile over replicates and the other parameters) against the parameter; sampled
   designs are binned by quantile;
4. **Heat maps** (grid designs with two or more parameters) — each key metric's mean for
   every pair of parameters;
5. **Sensitivity** (``sobol``, ``morris``) — SALib indices with 95% confidence intervals:
   first-order and total Sobol indices, or Morris μ* and σ, as bar charts and a table;
6. **Over time** (if time series were kept) and **failed runs**, then how to reproduce it.

Numbers are written for people by :mod:`moatsim.experiments.units`.
"""

from __future__ import annotations

import base64
import html
import math
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure as MplFigure
from matplotlib.patches import Rectangle
from matplotlib.ticker import (
    Formatter,
    FuncFormatter,
    MaxNLocator,
    NullFormatter,
    NullLocator,
)

from moatsim.calendar import month_label
from moatsim.experiments import outcomes, sensitivity, sweepstats
from moatsim.experiments.sweepstats import BAND
from moatsim.experiments.outfolder import write_file_atomically
from moatsim.experiments.sweep import (
    DESIGN,
    FORMAT,
    SweepError,
    SweepFolder,
    read_failures,
    read_results,
    read_timeseries,
)
from moatsim.experiments.units import (
    axis_label,
    axis_unit,
    format_difference,
    format_value,
    is_percent,
    significant,
    start_at_zero,
)
from moatsim.palette import SCENARIO_COLOURS

MAX_PAIRS = 6
DPI = 110
COLOURS = SCENARIO_COLOURS  # series that are not firms: never a firm's colour


class ReportError(ValueError):
    """A folder that holds no sweep to report on, told in one line."""


# ---------------------------------------------------------------- the sweep's data


@dataclass
class SweepData:
    folder: Path
    manifest: dict[str, Any]
    design: pd.DataFrame
    results: pd.DataFrame
    failures: pd.DataFrame
    timeseries: pd.DataFrame

    @property
    def experiment(self) -> dict[str, Any]:
        return self.manifest["experiment"]

    @property
    def parameters(self) -> list[dict[str, Any]]:
        return self.manifest["parameters"]

    @property
    def sampled(self) -> bool:
        return self.experiment["design"] != "grid"

    @property
    def key_metrics(self) -> list[str]:
        return [m for m in self.manifest["key_metrics"] if m in self.results.columns]

    @property
    def final_metrics(self) -> list[str]:
        return [m for m in self.experiment["metrics"]["final"] if m in self.results.columns]


MANIFEST_KEYS = {"experiment": dict, "scenario": dict, "parameters": list,
                 "key_metrics": list, "months": int, "runs": int, "points": int,
                 "experiment_file": str}
"""What the report reads from the manifest, and its JSON type."""


def load_sweep(folder: str | Path) -> SweepData:
    root = Path(folder)
    if not root.is_dir():
        raise ReportError(f"{root}: no such folder")
    sweep = SweepFolder(root)
    try:
        manifest = sweep.manifest()
    except SweepError as exc:  # unreadable, empty, not JSON, not an object
        raise ReportError(str(exc)) from None
    if manifest is None or manifest.get("format") != FORMAT:
        raise ReportError(f"{root}: not a sweep folder (no manifest.json; run moatsim sweep "
                          "first)")
    for key, kind in MANIFEST_KEYS.items():
        if not isinstance(manifest.get(key), kind):
            raise ReportError(f"{sweep.manifest_path}: '{key}' is missing or not a "
                              f"{'JSON object' if kind is dict else kind.__name__}")
    results = read_results(root)
    if results.empty:
        raise ReportError(f"{root}: no finished runs yet (results/ is empty)")
    return SweepData(root, manifest, pd.read_parquet(root / DESIGN), results,
                     read_failures(root), read_timeseries(root))


# ---------------------------------------------------------------- document blocks


@dataclass
class Heading:
    level: int
    text: str


@dataclass
class Para:
    text: str  # inline **bold** and `code` only
    note: bool = False


@dataclass
class Bullets:
    items: list[str]  # inline **bold** and `code` only


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    align: str = ""  # one of l/r per column; default: first left, others right


@dataclass
class Figure:
    path: Path
    caption: str


@dataclass
class Document:
    title: str
    blocks: list[Any] = field(default_factory=list)

    def add(self, *blocks: Any) -> None:
        self.blocks.extend(blocks)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def render_markdown(doc: Document, folder: Path) -> str:
    lines = [f"# {doc.title}", ""]
    for block in doc.blocks:
        if isinstance(block, Heading):
            lines += [f"{'#' * block.level} {block.text}", ""]
        elif isinstance(block, Para):
            lines += [f"> {block.text}" if block.note else block.text, ""]
        elif isinstance(block, Bullets):
            lines += [f"- {item}" for item in block.items] + [""]
        elif isinstance(block, Table):
            align = block.align or "l" + "r" * (len(block.header) - 1)
            lines.append("| " + " | ".join(_md_cell(h) for h in block.header) + " |")
            lines.append("|" + "|".join("---" if a == "l" else "---:" for a in align) + "|")
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
            lines.append("")
        elif isinstance(block, Figure):
            lines += [f"![{block.caption}]({block.path.relative_to(folder).as_posix()})", "",
                      f"*{block.caption}*", ""]
    return "\n".join(lines).rstrip() + "\n"


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _inline_html(text: str) -> str:
    escaped = html.escape(text, quote=False)
    escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", escaped)


CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2328;
       max-width: 1100px; margin: 2em auto; padding: 0 1.5em; line-height: 1.5; }
h1 { border-bottom: 2px solid #d0d7de; padding-bottom: .3em; }
h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 14px; }
th, td { border: 1px solid #d0d7de; padding: 4px 10px; vertical-align: top; }
th { background: #f6f8fa; text-align: left; }
td.r { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr:nth-child(even) td { background: #fbfcfd; }
code { background: #f6f8fa; padding: 1px 4px; border-radius: 4px; font-size: 90%; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; border: 1px solid #eaeef2; }
figcaption { color: #57606a; font-size: 14px; margin-top: .3em; }
.note { background: #fff8c5; border-left: 4px solid #d4a72c; padding: .5em 1em; }
nav ul { columns: 2; }
"""


def render_html(doc: Document) -> str:
    toc = [b for b in doc.blocks if isinstance(b, Heading) and b.level == 2]
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             f"<title>{html.escape(doc.title)}</title>", f"<style>{CSS}</style>", "</head>",
             "<body>", f"<h1>{html.escape(doc.title)}</h1>",
             "<nav><ul>" + "".join(f'<li><a href="#{_slug(h.text)}">{html.escape(h.text)}</a>'
                                   f"</li>" for h in toc) + "</ul></nav>"]
    for block in doc.blocks:
        if isinstance(block, Heading):
            parts.append(f'<h{block.level} id="{_slug(block.text)}">{html.escape(block.text)}'
                         f"</h{block.level}>")
        elif isinstance(block, Para):
            css = ' class="note"' if block.note else ""
            parts.append(f"<p{css}>{_inline_html(block.text)}</p>")
        elif isinstance(block, Bullets):
            parts.append("<ul>" + "".join(f"<li>{_inline_html(item)}</li>"
                                          for item in block.items) + "</ul>")
        elif isinstance(block, Table):
            align = block.align or "l" + "r" * (len(block.header) - 1)
            head = "".join(f"<th>{_inline_html(h)}</th>" for h in block.header)
            head = f"<thead><tr>{head}</tr></thead>" if any(block.header) else ""
            body = "".join(
                "<tr>" + "".join(f'<td class="{a}">{_inline_html(str(c))}</td>'
                                 for a, c in zip(align, row)) + "</tr>" for row in block.rows)
            parts.append(f"<table>{head}<tbody>{body}</tbody></table>")
        elif isinstance(block, Figure):
            data = base64.b64encode(block.path.read_bytes()).decode("ascii")
            parts.append(f'<figure><img alt="{html.escape(block.caption.replace("`", ""))}" '
                         f'src="data:image/png;base64,{data}">'
                         f"<figcaption>{_inline_html(block.caption)}</figcaption></figure>")
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"


# ---------------------------------------------------------------- formatting helpers


def _param_value(value: Any, info: dict[str, Any], with_unit: bool = True) -> str:
    if info["kind"] == "bool":
        return "yes" if value else "no"
    return format_value(value, info["unit"], with_unit=with_unit)


def _metric_value(value: Any, name: str, with_unit: bool = True) -> str:
    m = outcomes.metric(name)
    return format_value(value, m.unit, with_unit=with_unit, trim=m.kind == "int")


_Y_LABELS = {"share": "%", "ratio": "% over cost to serve", "flag": "% of runs",
             "index": "index (0–1)", "USD millions/month": "USD per month",
             "USD millions": "USD", "USD/user-month": "USD per user-month"}


def _metric_axis(name: str) -> str:
    m = outcomes.metric(name)
    return _Y_LABELS.get(m.unit) or axis_unit(m.unit) or m.label


class _Percent(Formatter):
    """Shares as percentages, with as many decimals as the tick spacing needs."""

    _ticks: list[float] = []

    def set_locs(self, locs: Any) -> None:
        self._ticks = sorted(float(v) for v in locs)

    def __call__(self, x: float, pos: int | None = None) -> str:
        locs = self._ticks
        steps = [b - a for a, b in zip(locs, locs[1:]) if b > a]
        step = min(steps) * 100 if steps else 10.0
        decimals = next((d for d in range(4) if abs(step * 10**d - round(step * 10**d))
                         < 1e-6 * max(1.0, step * 10**d)), 3)
        return f"{x * 100:.{decimals}f}%".replace("-", "−")


def _formatter(unit: str) -> Any:
    if is_percent(unit):
        return _Percent()
    return FuncFormatter(lambda v, _pos: format_value(v, unit, with_unit=False))


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _wrap(text: str, width: int = 38) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def _is_flag(name: str) -> bool:
    return outcomes.metric(name).kind == "bool"


def new_figure(**options: Any) -> MplFigure:
    """A matplotlib figure of its own, outside pyplot: no backend is chosen and no global
    state is touched, so importing or running this in a notebook leaves its plots alone."""
    return MplFigure(**options)


def _save(fig: MplFigure, path: Path) -> Path:
    """Save ``fig`` as ``path``, replacing only that file (``figures/`` may hold the user's)."""
    write_file_atomically(path, lambda temp: fig.savefig(
        temp, format="png", dpi=DPI, metadata={"Software": None}, bbox_inches="tight"))
    return path


def _panels(count: int, width: float = 4.2, height: float = 3.2,
            columns: int = 3) -> tuple[MplFigure, list[Any]]:
    cols = min(columns, count)
    rows = math.ceil(count / cols)
    fig = new_figure(figsize=(width * cols, height * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    flat = list(axes.flat)
    for ax in flat[count:]:
        ax.set_visible(False)
    return fig, flat[:count]


# ---------------------------------------------------------------- statistics


def point_means(data: SweepData, metric: str) -> np.ndarray | None:
    """Each design point's mean over replicates (NaN-free), in design order, or None."""
    means = data.results.groupby("point")[metric].mean().astype(float)
    means = means.reindex(data.design["point"])
    if means.isna().any():
        return None
    return means.to_numpy()


def _salib_problem(data: SweepData) -> tuple[list[str], list[tuple[float, float]], np.ndarray]:
    exp = data.experiment
    names = [p["path"] for p in data.parameters]
    x = data.design[[f"sample:{n}" for n in names]].to_numpy()
    bounds = [sensitivity.to_sampling_space(*exp["parameters"][n]["range"],
                                            exp["parameters"][n]["scale"]) for n in names]
    return names, bounds, x


def salib_inputs(folder: str | Path, metric: str) -> tuple[dict[str, Any], np.ndarray,
                                                           np.ndarray]:
    """SALib's ``problem``, ``X`` and ``Y`` for one metric of a ``sobol`` or ``morris`` sweep.

    ``X`` holds the design points in the sampling space (log10 for ``scale: log``) in
    design order, ``Y`` each point's mean over its replicates. SALib expects one row per
    design point, in the sampler's order: the results table as read has one row per run
    (point × replicate), and analysing it directly gives wrong indices without an error.
    """
    data = load_sweep(folder)
    if data.experiment["design"] not in sensitivity.SENSITIVITY_DESIGNS:
        raise ReportError(f"{data.folder}: a {data.experiment['design']} design has no "
                          "SALib layout (sobol or morris only)")
    names, bounds, x = _salib_problem(data)
    y = point_means(data, metric)
    if y is None:
        raise ReportError(f"{data.folder}: not every design point has a value of {metric}")
    return sensitivity.problem(names, bounds), x, y


def sensitivity_table(data: SweepData) -> tuple[pd.DataFrame, list[str]]:
    """SALib indices for every key metric (sobol, morris); and notes on skipped metrics."""
    exp = data.experiment
    names, bounds, x = _salib_problem(data)
    frames, notes = [], []
    for metric in data.key_metrics:
        y = point_means(data, metric)
        if y is None:
            notes.append(f"{outcomes.metric(metric).label}: not every design point has a "
                         "value (failed runs or undefined values), so no indices")
            continue
        if np.ptp(y) == 0:
            notes.append(f"{outcomes.metric(metric).label}: the same in every run, so no "
                         "indices")
            continue
        table = sensitivity.analyze(exp["design"], names, bounds, x, y, seed=exp["seed"],
                                    levels=exp["levels"], second_order=exp["second_order"])
        table.insert(0, "metric", metric)
        frames.append(table)
    if not frames:
        return pd.DataFrame(columns=["metric", "parameter", "index", "value", "conf"]), notes
    return pd.concat(frames, ignore_index=True), notes


# ---------------------------------------------------------------- figures


def _baseline_line(ax: Any, info: dict[str, Any]) -> None:
    base = info.get("base")
    if base is None or info["kind"] == "bool":
        return
    ax.axvline(float(base), color="0.45", linestyle=":", linewidth=1.2, label="baseline value")


def response_figure(data: SweepData, info: dict[str, Any], path: Path) -> Path:
    parameter = info["path"]
    metrics = data.key_metrics
    fig, axes = _panels(len(metrics))
    log = info.get("scale") == "log"
    for ax, metric in zip(axes, metrics):
        stats = sweepstats.groups(data.results, parameter, metric, binned=data.sampled)
        colour = COLOURS[0]
        x = stats["x"].astype(float)
        if data.sampled:
            per_point = data.results.groupby("point").agg(
                x=(parameter, "first"), y=(metric, "mean"))
            ax.scatter(per_point["x"], per_point["y"].astype(float), s=6, alpha=0.25,
                       color="0.5", linewidths=0, label="design points (mean of seeds)")
        if not _is_flag(metric):
            ax.fill_between(x, stats["low"], stats["high"], color=colour, alpha=0.2,
                            linewidth=0, label="90% band")
        ax.plot(x, stats["mean"], color=colour, marker="o", markersize=4, label="mean")
        _baseline_line(ax, info)
        unit = outcomes.metric(metric).unit
        ax.yaxis.set_major_formatter(_formatter(unit))
        if _is_flag(metric):
            ax.set_ylim(-0.03, 1.03)
        else:
            start_at_zero(ax, unit, float(data.results[metric].astype(float).min()))
        if log:
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())
        grid_values = sorted(data.results[parameter].dropna().unique())
        if not data.sampled and len(grid_values) <= 8:
            ax.set_xticks([float(v) for v in grid_values],
                          [_param_value(v, info, with_unit=False) for v in grid_values])
            ax.xaxis.set_minor_locator(NullLocator())
        elif info["unit"] != "flag":
            ax.xaxis.set_major_formatter(_formatter(info["unit"]))
        ax.set_title(_wrap(outcomes.metric(metric).label), fontsize=10)
        ax.set_ylabel(_metric_axis(metric), fontsize=9)
        ax.set_xlabel(axis_label(info["label"], info["unit"]), fontsize=9)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False,
               bbox_to_anchor=(0.5, -0.02), fontsize=9, markerscale=2)
    fig.suptitle(f"Response to {info['label']}", fontsize=13, y=1.0)
    fig.tight_layout(rect=(0, 0.04, 1, 0.98))
    return _save(fig, path)


NOISE_Z = 2.0
"""A heat-map cell is within seed noise of the baseline cell when their means differ by at
most this many standard errors of the difference."""


def heatmap_figure(data: SweepData, a: dict[str, Any], b: dict[str, Any],
                   path: Path) -> tuple[Path, str]:
    """The heat maps of one pair of parameters, and a sentence on the baseline cell and the
    cells within noise of it (for the caption)."""
    metrics = data.key_metrics
    fig, axes = _panels(len(metrics), width=4.6, height=3.9)
    noisy, compared, baseline, most_runs = 0, 0, None, 0
    for ax, metric in zip(axes, metrics):
        cells = sweepstats.heat_cells(data.results, a["path"], b["path"], metric,
                                      a.get("base"), b.get("base"), z=NOISE_Z)
        table = cells.mean
        values = table.to_numpy(dtype=float)
        baseline, most_runs = cells.baseline, max(most_runs, int(cells.runs.to_numpy().max()))
        noisy += int(cells.within_noise.sum())
        compared += values.size - 1 if baseline is not None else 0
        unit = outcomes.metric(metric).unit
        image = ax.imshow(values, origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(len(table.columns)),
                      [_param_value(v, a, with_unit=False) for v in table.columns], fontsize=8)
        ax.set_yticks(range(len(table.index)),
                      [_param_value(v, b, with_unit=False) for v in table.index], fontsize=8)
        ax.set_xlabel(axis_label(a["label"], a["unit"]), fontsize=9)
        ax.set_ylabel(axis_label(b["label"], b["unit"]), fontsize=9)
        ax.set_title(_wrap(outcomes.metric(metric).label), fontsize=10)
        finite = values[np.isfinite(values)]
        middle = (finite.min() + finite.max()) / 2 if finite.size else 0
        for (row, col), value in np.ndenumerate(values):
            within = bool(cells.within_noise[row, col])
            if values.size <= 64:
                ax.text(col, row, _metric_value(value, metric, with_unit=False)
                        + (" ≈" if within else ""), ha="center", va="center", fontsize=7.5,
                        color="black" if np.isfinite(value) and value > middle else "white")
            elif within:
                ax.add_patch(Rectangle((col - 0.5, row - 0.5), 1, 1, fill=False, hatch="///",
                                       edgecolor="white", linewidth=0))
        if baseline is not None:
            row, col = baseline
            for colour, width in (("black", 3.0), ("white", 1.2)):
                ax.add_patch(Rectangle((col - 0.5, row - 0.5), 1, 1, fill=False,
                                       edgecolor=colour, linewidth=width))
        bar = fig.colorbar(image, ax=ax, shrink=0.85, format=_formatter(unit))
        bar.ax.tick_params(labelsize=7)
        bar.set_label(_metric_axis(metric), fontsize=8)
    fig.suptitle(f"{_cap(a['label'])} × {b['label']}: mean over "
                 f"{data.experiment['replicates']} seeds"
                 + (" and the other parameters" if len(data.parameters) > 2 else ""),
                 fontsize=13, y=1.0)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    if baseline is None:
        note = ("The baseline values are not on this grid, so no cell is outlined or "
                "compared with the baseline.")
    elif most_runs < 2:
        note = ("The outlined cell is the baseline; with one run per cell, seed noise "
                "cannot be told from an effect.")
    else:
        mark = "≈" if values.size <= 64 else "hatching"
        note = (f"The outlined cell is the baseline ({_param_value(a['base'], a)}, "
                f"{_param_value(b['base'], b)}); {mark} marks a cell within seed noise of it "
                f"(difference ≤ {NOISE_Z:g} standard errors): {noisy} of {compared} cells "
                "over all panels.")
    return _save(fig, path), note


SOBOL_LABELS = {"S1": "first-order (S1)", "ST": "total (ST)"}
MORRIS_LABELS = {"mu_star": "μ* (mean |effect|)", "sigma": "σ (interactions, non-linearity)"}


def sensitivity_figure(data: SweepData, table: pd.DataFrame, path: Path) -> Path:
    design = data.experiment["design"]
    metrics = list(dict.fromkeys(table["metric"]))
    labels = {p["path"]: p["label"] for p in data.parameters}
    order = [p["path"] for p in data.parameters]
    names = SOBOL_LABELS if design == "sobol" else MORRIS_LABELS
    fig, axes = _panels(len(metrics), width=4.6, height=0.5 * len(order) + 1.6)
    for ax, metric in zip(axes, metrics):
        rows = table[table["metric"] == metric]
        y = np.arange(len(order))
        height = 0.38
        for k, (index, label) in enumerate(names.items()):
            part = rows[rows["index"] == index].set_index("parameter").reindex(order)
            conf = part["conf"].to_numpy(dtype=float)
            ax.barh(y + (k - 0.5) * height, part["value"], height=height, color=COLOURS[k % len(COLOURS)],
                    label=label, xerr=None if np.isnan(conf).all() else np.nan_to_num(conf),
                    error_kw={"elinewidth": 1, "capsize": 2, "ecolor": "0.25"})
        ax.set_yticks(y, [_wrap(labels[p], 22) for p in order], fontsize=8)
        ax.invert_yaxis()
        ax.set_title(_wrap(outcomes.metric(metric).label), fontsize=10)
        if design == "sobol":
            ax.set_xlabel("share of variance explained", fontsize=9)
            ax.set_xlim(left=min(0.0, float(np.nanmin(rows["value"] - rows["conf"]))))
            ax.axvline(0, color="0.3", linewidth=0.8)
        else:
            unit = outcomes.metric(metric).unit
            ax.xaxis.set_major_formatter(_formatter(unit))
            shown = "percentage points" if is_percent(unit) else _metric_axis(metric)
            ax.set_xlabel(f"change across the range: {shown}", fontsize=9)
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.grid(axis="x", alpha=0.3)
        ax.tick_params(axis="x", labelsize=8)
    handles, legend = axes[0].get_legend_handles_labels()
    fig.legend(handles, legend, loc="lower center", ncol=2, frameon=False,
               bbox_to_anchor=(0.5, -0.02), fontsize=9)
    title = "Sobol sensitivity indices" if design == "sobol" else "Morris elementary effects"
    fig.suptitle(f"{title} (95% confidence intervals)", fontsize=13, y=1.0)
    fig.tight_layout(rect=(0, 0.05, 1, 0.98))
    return _save(fig, path)


def timeseries_figure(data: SweepData, metric: str, path: Path) -> Path:
    series = data.timeseries[data.timeseries["metric"] == metric]
    start = data.manifest["scenario"]["start"]
    unit = outcomes.metric(metric).unit
    fig = new_figure(figsize=(9, 4.6))
    ax = fig.subplots()
    first = data.parameters[0]
    if not data.sampled:
        merged = series.merge(data.results[["run_id", first["path"]]], on="run_id")
        for k, (value, rows) in enumerate(merged.groupby(first["path"])):
            stats = rows.groupby("month")["value"].agg(["mean"])
            dates = pd.to_datetime([month_label(start, int(m)) for m in stats.index])
            ax.plot(dates, stats["mean"], color=colormaps["viridis"](
                0.85 * k / max(1, merged[first["path"]].nunique() - 1)),
                label=_param_value(value, first, with_unit=False))
        ax.legend(title=axis_label(first["label"], first["unit"]), fontsize=8,
                  title_fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
        subtitle = f"mean over runs, by {first['label']}"
    else:
        stats = series.groupby("month")["value"].agg(
            mean="mean", low=lambda v: v.quantile(BAND[0]), high=lambda v: v.quantile(BAND[1]))
        dates = pd.to_datetime([month_label(start, int(m)) for m in stats.index])
        ax.fill_between(dates, stats["low"], stats["high"], alpha=0.2, color=COLOURS[0],
                        linewidth=0, label="90% band over runs")
        ax.plot(dates, stats["mean"], color=COLOURS[0], label="mean")
        ax.legend(fontsize=8)
        subtitle = "mean and 90% band over all runs"
    ax.yaxis.set_major_formatter(_formatter(unit))
    start_at_zero(ax, unit, float(series["value"].astype(float).min()))
    ax.set_ylabel(_metric_axis(metric))
    ax.set_title(f"{_cap(outcomes.metric(metric).label)} over time — {subtitle}",
                 fontsize=11)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


# ---------------------------------------------------------------- the document


def build_document(data: SweepData, figures: Path) -> tuple[Document, pd.DataFrame]:
    exp = data.experiment
    manifest = data.manifest
    params = data.parameters
    doc = Document(f"Sweep report — {exp['name']}")
    doc.add(Para(f"**{exp['description']}**"))
    sens = pd.DataFrame()
    doc.add(Heading(2, "Summary"), Bullets(summary_bullets(data)), Para(
        "Each metric at the end of the run; a parameter's effect is the range of the "
        "metric's mean over that parameter's values"
        + (" (in bins of equal size)" if data.sampled else "")
        + ", with its margin for noise: the spread of runs at each value, over seeds"
        + (" and the other parameters" if len(params) > 1 else "")
        + ", as a Bonferroni-corrected 95% margin over every pair of values compared."))

    # -- set-up
    start = manifest["scenario"]["start"]
    months = manifest["months"]
    runs = manifest["runs"]
    ok, failed = len(data.results), len(data.failures)
    missing = runs - ok - failed
    design_text = _design_text(exp, manifest["points"], len(params))
    seeds = f"seeds {exp['seed']}–{exp['seed'] + exp['replicates'] - 1}; every point uses " \
        "the same seeds" if exp["replicates"] > 1 else f"seed {exp['seed']} at every point"
    sessions = manifest.get("sessions", [])
    compute = sum(s.get("seconds") or 0 for s in sessions)
    doc.add(Heading(2, "Set-up"), Table(["", ""], [
        ["Question", exp["description"]],
        ["Base scenario", f"{manifest['scenario']['name']} — "
                          f"{manifest['scenario']['description']}"],
        ["Design", design_text],
        ["Replicates", f"{exp['replicates']} per point ({seeds})"],
        ["Simulated period", f"{months} months, {start} to {month_label(start, months)}"],
        ["Runs", f"{runs:,}: {ok:,} finished, {failed:,} failed"
                 + (f", {missing:,} not run yet" if missing else "")],
        ["Compute", f"{significant(compute)} s in {len(sessions)} session(s) on "
                    f"{sessions[-1]['executor'] if sessions else '?'}"],
    ], align="ll"))
    if missing:
        doc.add(Para(f"The sweep is incomplete: {missing:,} of {runs:,} runs are missing. "
                     "Finish it with `moatsim sweep ... --resume`.", note=True))
    rows = []
    for p in params:
        spec = exp["parameters"][p["path"]]
        if spec["values"] is not None:
            varied = ", ".join(_param_value(v, p, with_unit=False) for v in spec["values"])
        else:
            low, high = spec["range"]
            varied = f"{_param_value(low, p, with_unit=False)} to " \
                     f"{_param_value(high, p, with_unit=False)}"
            if spec["points"]:
                varied += f" in {spec['points']} steps"
        if spec["scale"] == "log":
            varied += " (log scale)"
        rows.append([f"{p['label']} (`{p['path']}`)", p["unit"], _param_value(p["base"], p),
                     varied, p["description"], p["source"]])
    doc.add(Heading(3, "Varied parameters"),
            Table(["parameter", "unit", "baseline", "values", "what it is", "source"], rows,
                  align="llrlll"))
    if exp["overrides"]:
        doc.add(Para("Fixed changes to the base scenario: " + ", ".join(
            f"`{k}` = {v}" for k, v in exp["overrides"].items()) + "."))

    # -- at a glance
    doc.add(Heading(2, "Results at a glance"),
            Para(f"Each metric at the end of the run ({month_label(start, months)}), over all "
                 f"{ok:,} finished runs."))
    glance = []
    for metric in data.final_metrics:
        if _is_flag(metric):
            continue
        values = data.results[metric].astype(float).dropna()
        if values.empty:
            continue
        glance.append([outcomes.metric(metric).label,
                       *(_metric_value(v, metric) for v in (
                           values.mean(), values.quantile(0.05), values.median(),
                           values.quantile(0.95)))])
    doc.add(Table(["metric", "mean", "5th pct", "median", "95th pct"], glance))
    flags = [m for m in data.final_metrics if _is_flag(m)]
    if flags:
        doc.add(Table(["outcome (share of runs where it holds)", "runs"], [
            [outcomes.metric(m).label, _metric_value(data.results[m].mean(), m)]
            for m in flags]))

    # -- responses
    doc.add(Heading(2, "Responses"), Para(
        "Each panel shows how a key metric at the end of the run moves with one parameter: "
        "the line is the mean, the shaded band holds 90% of runs (5th to 95th percentile) "
        + ("over seeds and the other parameters" if len(params) > 1 else "over seeds")
        + ("; design points are grouped into bins of equal size (grey dots are single "
           "points)" if data.sampled else "")
        + ". Yes/no outcomes show the share of runs where they hold. The dotted line marks "
        "the baseline scenario's value."))
    for index, p in enumerate(params):
        path = response_figure(data, p, figures / f"response-{index + 1}-{_slug(p['label'])}.png")
        doc.add(Heading(3, f"{_cap(p['label'])} ({p['unit']})"),
                Figure(path, f"Response of the key metrics to {p['label']} (`{p['path']}`)."))
        if not data.sampled:
            doc.add(_response_table(data, p))

    # -- heat maps
    if not data.sampled and len(params) >= 2:
        pairs = [(a, b) for i, a in enumerate(params) for b in params[i + 1:]][:MAX_PAIRS]
        doc.add(Heading(2, "Heat maps"), Para(
            "The mean of each key metric for every combination of two parameters (cells are "
            "labelled with the value; brighter is higher). The outlined cell holds the "
            "baseline scenario's values; a cell marked ≈ differs from it by no more than "
            f"{NOISE_Z:g} standard errors of seed noise (over seeds"
            + (" and the other parameters" if len(params) > 2 else "") + "), so its "
            "colour difference should not be read as an effect."))
        for a, b in pairs:
            path, note = heatmap_figure(data, a, b, figures /
                                        f"heatmap-{_slug(a['label'])}-{_slug(b['label'])}.png")
            doc.add(Figure(path, f"{_cap(a['label'])} × {b['label']}. {note}"))

    # -- sensitivity
    if exp["design"] in sensitivity.SENSITIVITY_DESIGNS:
        sens, notes = sensitivity_table(data)
        doc.add(Heading(2, "Sensitivity"))
        if exp["design"] == "sobol":
            doc.add(Para(
                "Sobol indices (SALib, computed on each point's mean over seeds): the "
                "**first-order index S1** is the share of a metric's variance explained by "
                "one parameter alone; the **total index ST** adds its interactions with the "
                "others. ST well above S1 means the parameter acts through interactions; "
                "ST near 0 means it can be fixed. In a stochastic model part of ST is seed "
                "noise (a parameter change moves the random path even with the same seed). "
                "Bars show 95% confidence intervals "
                "(bootstrap); where they are wide, read the ranking rather than the decimals, "
                "or raise `samples`."))
        else:
            doc.add(Para(
                "Morris elementary effects (SALib, on each point's mean over seeds): **μ*** "
                "is the mean absolute change of a metric when one parameter moves across its "
                "whole range (in the metric's unit), with a 95% confidence interval; **σ** is "
                "large when the effect depends on the other parameters (interactions, "
                "non-linearity). Parameters with small μ* and σ barely matter."))
        for note in notes:
            doc.add(Para(note, note=True))
        if not sens.empty:
            path = sensitivity_figure(data, sens, figures / "sensitivity.png")
            doc.add(Figure(path, "Sensitivity of the key metrics to each parameter."),
                    _sensitivity_rows(data, sens))

    # -- time series
    if not data.timeseries.empty:
        doc.add(Heading(2, "Over time"))
        for metric in dict.fromkeys(data.timeseries["metric"]):
            path = timeseries_figure(data, metric, figures / f"timeseries-{_slug(metric)}.png")
            doc.add(Figure(path, f"{_cap(outcomes.metric(metric).label)}, month by "
                                 "month."))

    # -- failures
    if not data.failures.empty:
        doc.add(Heading(2, "Failed runs"), Para(
            f"{failed:,} runs raised an error and have no results; they are left out above. "
            "All of them, with tracebacks, are in `failures/`."))
        errors = data.failures.groupby("error").agg(runs=("run_id", "size"),
                                                    first=("run_id", "min"))
        doc.add(Table(["error", "runs", "first run_id"], [
            [error, f"{row.runs:,}", str(row.first)] for error, row in errors.iterrows()],
            align="lrr"))

    # -- reproduce
    versions = manifest.get("versions", {})
    doc.add(Heading(2, "Reproduce"), Para(
        f"`moatsim sweep {manifest['experiment_file']} --out {data.folder}` then "
        f"`moatsim report {data.folder}`. Results are in `{data.folder}/results/` "
        "(one Parquet file per run; `pandas.read_parquet` reads the folder as one table). "
        "Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items() if v) + "."))
    return doc, sens


def summary_bullets(data: SweepData) -> list[str]:
    """The sweep in words: for each key metric, the parameter that moves it most and whether
    that is beyond seed noise; for each yes/no outcome, where it flips."""
    if data.results.empty:
        return ["No run has finished yet, so there is nothing to summarise."]
    params = {p["path"]: p for p in data.parameters}
    bullets = []
    for metric in data.key_metrics:
        if _is_flag(metric):
            continue
        label, unit = _cap(outcomes.metric(metric).label), outcomes.metric(metric).unit
        values = data.results[metric].astype(float).dropna()
        spread = (f"90% of runs end between {_metric_value(values.quantile(BAND[0]), metric)}"
                  f" and {_metric_value(values.quantile(BAND[1]), metric)}")
        effect = sweepstats.largest_effect(data.results, list(params), metric, data.sampled)
        if effect is None or effect.change == 0:
            bullets.append(f"**{label}** does not change with the parameters; {spread}.")
            continue
        p = params[effect.parameter]
        moves = (f"{'rises' if effect.change > 0 else 'falls'} from "
                 f"{_metric_value(effect.mean_from, metric)} at {p['label']} "
                 f"{_param_value(effect.x_from, p)} to {_metric_value(effect.mean_to, metric)}"
                 f" at {_param_value(effect.x_to, p)}")
        if not math.isfinite(effect.se):
            verdict = "one run per value, so noise cannot be told from an effect"
        else:
            margin = format_difference(effect.z * effect.se, unit).lstrip("+")
            verdict = (f"{format_difference(effect.change, unit)} ± {margin}, "
                       + ("beyond the noise" if effect.beyond_noise else
                          "**within the noise**: no parameter moves it clearly"))
        bullets.append(f"**{label}** changes most with **{p['label']}**: it {moves} "
                       f"({verdict}); {spread}.")
    steady = []
    for metric in data.final_metrics:
        if not _is_flag(metric):
            continue
        label = outcomes.metric(metric).label
        held = float(data.results[metric].astype(float).mean())
        found = sweepstats.thresholds(data.results, list(params), metric, data.sampled)
        if not found:
            steady.append(f"{label} ({_metric_value(held, metric)})")
            continue
        t = found[0]
        p = params[t.parameter]
        side = "above" if t.rising else "below"
        bullets.append(
            f"**{_cap(label)}** holds in most runs only with {p['label']} {side} about "
            f"{_param_value((t.before + t.after) / 2, p)}: "
            f"{_metric_value(t.share_before, metric)} of runs at "
            f"{_param_value(t.before, p)}, {_metric_value(t.share_after, metric)} at "
            f"{_param_value(t.after, p)} (± {_metric_value(2 * t.se, metric)} seed noise)"
            + (f"; it crosses half {len(found) - 1} more time(s) elsewhere"
               if len(found) > 1 else "") + ".")
    if steady:
        bullets.append("No parameter moves these across half the runs (share of runs where "
                       "each holds): " + "; ".join(steady) + ".")
    failed = len(data.failures)
    if failed:
        bullets.append(f"{failed:,} runs failed and are left out (see Failed runs).")
    return bullets


def _design_text(exp: dict[str, Any], points: int, dimensions: int) -> str:
    design, samples = exp["design"], exp["samples"]
    if design == "grid":
        return f"grid: every combination of the values below ({points:,} points)"
    if design == "latin_hypercube":
        return f"Latin hypercube: {samples:,} points spread over the ranges"
    if design == "sobol":
        per = 2 * dimensions + 2 if exp["second_order"] else dimensions + 2
        return f"Sobol (Saltelli): {samples:,} base samples × {per} = {points:,} points"
    return (f"Morris: {samples:,} trajectories × ({dimensions} + 1) = {points:,} points, "
            f"{exp['levels']} levels")


def _response_table(data: SweepData, p: dict[str, Any]) -> Table:
    header = [axis_label(p["label"], p["unit"])] + [outcomes.metric(m).label
                                                     for m in data.key_metrics]
    values = sorted(data.results[p["path"]].dropna().unique())
    rows = []
    for value in values:
        subset = data.results[data.results[p["path"]] == value]
        cells = [_param_value(value, p)]
        for metric in data.key_metrics:
            column = subset[metric].astype(float).dropna()
            if column.empty:
                cells.append("–")
            elif _is_flag(metric):
                cells.append(_metric_value(column.mean(), metric))
            else:
                cells.append(f"{_metric_value(column.mean(), metric)} "
                             f"({_metric_value(column.quantile(BAND[0]), metric, False)} – "
                             f"{_metric_value(column.quantile(BAND[1]), metric, False)})")
        rows.append(cells)
    return Table(header, rows)


def _with_conf(value: float, conf: float, unit: str) -> str:
    """``value ± conf`` with the same decimals on both sides."""
    if unit.startswith("USD"):
        text = format_value(value, unit, with_unit=False)
        return text if math.isnan(conf) else \
            f"{text} ± {format_value(conf, unit, with_unit=False)}"
    scale, suffix = (100.0, "%") if is_percent(unit) else (1.0, "")
    shown = value * scale
    digits = 0 if shown == 0 else max(0, min(4, 2 - math.floor(math.log10(abs(shown)))))
    text = f"{shown:,.{digits}f}{suffix}"
    return text if math.isnan(conf) else f"{text} ± {conf * scale:,.{digits}f}{suffix}"


def _sensitivity_rows(data: SweepData, sens: pd.DataFrame) -> Table:
    labels = {p["path"]: p["label"] for p in data.parameters}
    sobol = data.experiment["design"] == "sobol"
    first, second = ("S1", "ST") if sobol else ("mu_star", "sigma")
    rows = []
    for (metric, parameter), part in sens.groupby(["metric", "parameter"], sort=False):
        by = part.set_index("index")
        cells = [outcomes.metric(metric).label, labels[parameter]]
        for index in (first, second):
            value, conf = by.loc[index, "value"], by.loc[index, "conf"]
            if sobol:
                text = f"{value:.2f}" + ("" if math.isnan(conf) else f" ± {conf:.2f}")
            else:
                text = _with_conf(value, conf, outcomes.metric(metric).unit)
            cells.append(text.replace("-", "−"))
        rows.append(cells)
    header = ["metric", "parameter", "S1 ± 95% CI", "ST ± 95% CI"] if sobol else \
        ["metric", "parameter", "μ* ± 95% CI", "σ"]
    return Table(header, rows, align="llrr")


# ---------------------------------------------------------------- entry point


@dataclass
class ReportFiles:
    html: Path
    markdown: Path
    figures: list[Path]
    sensitivity: Path | None


def write_report(folder: str | Path) -> ReportFiles:
    """Write ``report.html``, ``report.md``, ``figures/*.png`` (and ``sensitivity.csv``)."""
    data = load_sweep(folder)
    root = data.folder
    figures_dir = root / "figures"
    if figures_dir.is_symlink() or (figures_dir.exists() and not figures_dir.is_dir()):
        raise ReportError(f"{figures_dir}: exists and is not a folder")
    figures_dir.mkdir(exist_ok=True)  # with the umask, like any folder
    doc, sens = build_document(data, figures_dir)
    figures = sorted(block.path for block in doc.blocks if isinstance(block, Figure))
    markdown = _replace_text(root / "report.md", render_markdown(doc, root))
    page = _replace_text(root / "report.html", render_html(doc))
    sens_path = None
    if not sens.empty:
        sens_path = write_file_atomically(root / "sensitivity.csv",
                                          lambda temp: sens.to_csv(temp, index=False))
    return ReportFiles(page, markdown, figures, sens_path)


def _replace_text(path: Path, text: str) -> Path:
    return write_file_atomically(path, lambda temp: temp.write_text(text, encoding="utf-8"))
