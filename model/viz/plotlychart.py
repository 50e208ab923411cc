"""A Plotly chart as a small widget: the figure goes to the browser as JSON, plotly.js draws it.

``solara.FigurePlotly`` wraps plotly's ``FigureWidget``, which validates every property of
every trace in Python on each update (~0.1 s per chart on this machine, ~0.5 s a Step for the
page) and sends its 5 MB JavaScript bundle once per chart. This widget sends a figure as plain
JSON (:func:`moatsim.viz.figures` builds dicts, checked against plotly's schema in the tests)
and ``Plotly.react`` updates the drawing in place. plotly.js itself is the copy inside the
``plotly`` package, sent once per browser page over the widget's comm (the first chart asks
for it; the others wait for it), so the page needs no internet and no static-file route, in
``moatsim viz`` as in a notebook.

A chart draws only the newest figure it was sent, and only while it is on screen (a chart
scrolled out of view draws the month shown when it comes back): during Play the browser
never falls behind the model. Once a figure is drawn (or found unchanged), the chart's
element carries ``data-drawn-month`` and ``data-drawn-run`` (the figure's ``layout.meta``,
sent apart from the figure), and ``data-draw-ms``, the time plotly.js took: the browser
tests and ``benchmarks/page_speed.py`` wait on and read them.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import anywidget
import plotly
import traitlets
from plotly.io.json import to_json_plotly

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"

CONFIG = {"displaylogo": False, "responsive": True, "showSendToCloud": False,
          # the page is offline and a run is private: no button that uploads a chart
          "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d",
                                     "sendChartToCloud"]}

_ESM = """
function loadPlotly(model) {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!window.__moatsimPlotly) {
    window.__moatsimPlotly = new Promise((resolve) => {
      const handler = (message) => {
        if (!message || typeof message.plotly_js !== "string") return;
        model.off("msg:custom", handler);
        // plotly.min.js is a UMD bundle: with the page's require.js present it would
        // register as an anonymous AMD module instead of setting window.Plotly
        const define = window.define;
        window.define = undefined;
        const script = document.createElement("script");
        script.textContent = message.plotly_js;
        document.head.appendChild(script);
        window.define = define;
        resolve(window.Plotly);
      };
      model.on("msg:custom", handler);
      model.send({ want: "plotly_js" });
    });
  }
  return window.__moatsimPlotly;
}

export default {
  render({ model, el }) {
    el.classList.add("moatsim-plotly");
    // Draw the newest figure only, and only while the chart is on screen: during Play the
    // figures of months already passed are skipped, and a chart scrolled out of view costs
    // nothing until it is scrolled back (then it draws the figure of the month shown). A
    // month whose figure is the same as the last one drawn (the funding network, most
    // months) is only stamped, not drawn again.
    let visible = true, busy = false, drawnJson = null, closed = false;
    const stamp = () => {
      if (busy || drawnJson !== (model.get("figure_json") || "{}")) return;
      const meta = JSON.parse(model.get("meta_json") || "{}");
      el.dataset.drawnMonth = String(meta.month ?? "");
      el.dataset.drawnRun = String(meta.run ?? "");
      el.dataset.drawnAt = performance.now().toFixed(1);
    };
    const draw = () => {
      const json = model.get("figure_json") || "{}";
      if (closed || busy || !visible || json === drawnJson) return stamp();
      busy = true;
      loadPlotly(model).then((Plotly) => {
        const started = performance.now();
        const figure = JSON.parse(json);
        return Plotly.react(el, figure.data || [], figure.layout || {},
                            JSON.parse(model.get("config_json") || "{}")).then(() => {
          drawnJson = json;
          el.dataset.drawMs = (performance.now() - started).toFixed(1);
        });
      }).catch((error) => { el.dataset.drawError = String(error); })
        .finally(() => { busy = false; draw(); });
    };
    model.on("change:figure_json", draw);
    model.on("change:meta_json", stamp);
    const seen = new IntersectionObserver((entries) => {
      visible = entries[entries.length - 1].isIntersecting;
      el.dataset.onScreen = visible ? "1" : "0";
      draw();
    });
    seen.observe(el);
    const resized = new ResizeObserver(() => {
      if (window.Plotly && el.data) window.Plotly.Plots.resize(el);
    });
    resized.observe(el);
    draw();
    return () => {
      closed = true;
      seen.disconnect();
      resized.disconnect();
      model.off("change:figure_json", draw);
      model.off("change:meta_json", stamp);
      if (window.Plotly) window.Plotly.purge(el);
    };
  },
};
"""

_CSS = """
.moatsim-plotly { width: 100%; }
"""


@functools.cache
def plotly_js() -> str:
    return PLOTLY_JS.read_text(encoding="utf-8")


class PlotlyChart(anywidget.AnyWidget):
    """One chart: ``figure_json`` is the figure (``{"data": [...], "layout": {...}}``) and
    ``meta_json`` the month and run it shows, apart, so a month that leaves the figure as
    it was sends no figure (traitlets sync only changed values) and draws nothing."""

    _esm = traitlets.Unicode(_ESM).tag(sync=True)
    _css = traitlets.Unicode(_CSS).tag(sync=True)
    figure_json = traitlets.Unicode("{}").tag(sync=True)
    meta_json = traitlets.Unicode("{}").tag(sync=True)
    config_json = traitlets.Unicode(to_json_plotly(CONFIG)).tag(sync=True)

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.on_msg(self._answer)

    def _answer(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("want") == "plotly_js":
            self.send({"plotly_js": plotly_js()})


ON_SCREEN_DRAWN_JS = """([month, run]) => {
  const shown = [...document.querySelectorAll('.moatsim-plotly[data-on-screen="1"]')];
  return shown.length > 0 && shown.every((el) => el.dataset.drawnMonth === String(month)
      && (run === null || el.dataset.drawnRun === String(run)));
}"""
"""A browser-side test (for Playwright's ``wait_for_function``, argument ``[month, run]``,
``run`` may be null): every chart on screen (as the chart's own visibility observer sees
it, clipping included) has drawn that month."""


STAMPS = ("month", "run")
"""What ``layout.meta`` says about the state shown rather than the figure drawn."""


def figure_json(figure: dict[str, Any]) -> tuple[str, str]:
    """A figure dict as the JSON plotly.js reads (numpy arrays as lists, NaN as null), and
    its month and run (taken out of ``layout.meta``) as a second JSON string."""
    layout = dict(figure.get("layout", {}))
    meta = dict(layout.get("meta", {}))
    stamps = {key: meta.pop(key) for key in STAMPS if key in meta}
    layout["meta"] = meta
    return to_json_plotly({**figure, "layout": layout}), to_json_plotly(stamps)
