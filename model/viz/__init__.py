"""The browser page: Mesa's SolaraViz around :class:`~moatsim.model.AIMarketModel`.

* :mod:`moatsim.viz.app` — the page (``solara run moatsim.viz.app:page``; ``moatsim viz``);
* :mod:`moatsim.viz.controls` — scenario files, seed, sliders (ranges from the schema);
* :mod:`moatsim.viz.vizmodel` — the model as the page builds it: bad input becomes a message;
* :mod:`moatsim.viz.controller` — Reset, Play and Step, with a pace that holds and a status line;
* :mod:`moatsim.viz.components` — the panels (Solara components);
* :mod:`moatsim.viz.plotlychart` — a chart widget: the figure as JSON, drawn by plotly.js;
* :mod:`moatsim.viz.figures`, :mod:`moatsim.viz.colours`, :mod:`moatsim.viz.events`,
  :mod:`moatsim.viz.story` — the charts (Plotly figures as dicts), each firm's colour (from
  :mod:`moatsim.palette`), the event log and the scenario's story, as plain functions;
* :mod:`moatsim.viz.server` — start and stop the page's server; :mod:`moatsim.viz.screenshot`.

Mesa's and Solara's visualization APIs are used only in this package.
"""
