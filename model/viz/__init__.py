"""The browser page: Mesa's SolaraViz around :class:`~model.model.AIMarketModel`.

* :mod:`model.viz.app` — the page (``solara run model.viz.app:page``; ``moatsim viz``);
* :mod:`model.viz.controls` — scenario files, seed, sliders (ranges from the schema);
* :mod:`model.viz.vizmodel` — the model as the page builds it: bad input becomes a message;
* :mod:`model.viz.components` — the panels (Solara components);
* :mod:`model.viz.figures`, :mod:`model.viz.colours`, :mod:`model.viz.events` — charts,
  colours by firm kind and the event log, as plain functions of the model;
* :mod:`model.viz.server` — start and stop the page's server; :mod:`model.viz.screenshot`.

Mesa's and Solara's visualization APIs are used only in this package.
"""
