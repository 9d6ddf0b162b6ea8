"""The live plots and the readout, redrawn in place whenever a control moves.

One flow per change: state events mark the view dirty; one scheduled flush (per burst of
events) snapshots the state, simulates off the event loop, then pushes the new layers
into the existing Bokeh sources under ``pn.io.hold`` (one message to the browser).
"""
from __future__ import annotations

import asyncio

import numpy as np
import panel as pn
from bokeh.core.properties import value
from bokeh.events import Tap
from panel.viewable import Viewer

import dynamics

from . import plots
from . import replay, views_compare   # compared runs and the replay cursor (their own modules)
from .readout import Readout
from .figures import configure_landscape, curves_canvas, landscape_canvas, set_x_label
from .state import ExplorerState, RunResult, run

RUN_PARAMS = ["model", "optimizer", "eta", "x0", "y0", "z0", "w0", "symmetric", "lam1",
              "lam2", "steps", "drop_step", "drop_eta", "seed", "show_flow", "x_axis"]


LIGHT_WORK = 5000   # steps × parameters below which a run takes a few ms


def _light(spec) -> bool:
    return not spec.show_flow and spec.steps * len(spec.init) <= 4 * LIGHT_WORK


class Dashboard(Viewer):
    """Landscape, loss and sharpness plots plus the verdict, for one session's state."""

    def __init__(self, state: ExplorerState, **params):
        super().__init__(**params)
        self.state = state
        self._doc = pn.state.curdoc
        self._pending: set[str] = set()
        self._scheduled = False
        self._background_key = None
        self.error = pn.pane.Alert("", alert_type="danger", visible=False,
                                   sizing_mode="stretch_width", margin=(0, 10))
        self.readout = Readout()
        self.curves = curves_canvas()
        self.landscape = landscape_canvas()
        self.landscape.figure.on_event(Tap, self._on_tap)
        self.landscape_pane = pn.pane.Bokeh(self.landscape.figure, margin=(0, 10))
        self.curve_panes = [pn.pane.Bokeh(fig, margin=(0, 10)) for fig in self.curves.figures]
        state.param.watch(self._request, RUN_PARAMS)
        self.compare, self.replay = views_compare.attach(self), replay.attach(self)
        self._draw(run(state.spec()), set(RUN_PARAMS))   # the first picture, synchronously

    # --- scheduling: coalesce bursts of events into one run -------------------------------

    def _request(self, *events) -> None:
        self._pending.update(e.name for e in events)
        if self._scheduled:
            return
        doc = self._doc
        if doc is None or doc.session_context is None:   # no server: draw right away
            self._flush_now()
            return
        self._scheduled = True
        doc.add_next_tick_callback(self._flush)

    def _flush_now(self) -> None:
        pending, self._pending = self._pending, set()
        self._draw(run(self.state.spec()), pending)

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                pending, self._pending = self._pending, set()
                spec = self.state.spec()
                if isinstance(spec, str) or _light(spec):
                    result = run(spec)   # a few ms: a thread hop would cost more
                else:   # long runs and the flow's ODE solve go to a worker thread
                    result = await loop.run_in_executor(None, run, spec)
                self._draw(result, pending)
        finally:
            self._scheduled = False

    # --- drawing ---------------------------------------------------------------------------

    def _draw(self, result: RunResult, changed: set[str]) -> None:
        with pn.io.hold(self._doc):
            if not result.ok:
                self.error.object = f"**Cannot run this:** {result.message}"
                self.error.visible = True
                return   # the last good picture stays
            self.error.visible = False
            model, traj, flow = result.spec.model, result.traj, result.flow
            self._ensure_landscape(model)
            x_axis = self.state.x_axis
            threshold = result.threshold
            self.landscape.step_map.high = max(len(traj.loss) - 1, 1)
            data = plots.run_data(model, traj, threshold, x_axis)
            data.update(plots.flow_data(model, flow, x_axis))
            data.update(plots.manifold_data(model, float(threshold[-1])))
            data.update(plots.start_data(model, result.spec.init))
            self.landscape.push(data)
            self.curves.push(data)
            # one threshold: the Span; after a drop the staircase says it better
            single = len(result.spec.schedule) == 1
            for span in self.curves.spans["threshold_line"]:
                if span.visible != single:
                    span.visible = single
            if "x_axis" in changed:
                set_x_label(self.curves, x_axis)
            title = dynamics.OPTIMIZERS[result.spec.optimizer].title
            if self.curves.run_legend.label != value(title):
                self.curves.run_legend.label = value(title)
            self.readout.show(result)
            self.compare.draw(result, changed)
            self.replay.draw(result, data)

    def _ensure_landscape(self, model) -> None:
        key = (model.name, model.consts)
        if key != self._background_key:
            configure_landscape(self.landscape, model, plots.background_data(model))
            self._background_key = key

    def _on_tap(self, event) -> None:
        """A click on the landscape sets the start (x₀, and y₀ on a 2-D plane)."""
        if event.x is None or not np.isfinite(event.x):
            return
        if self.state.dim >= 2 and event.y is not None:
            self.state.param.update(x0=round(float(event.x), 4), y0=round(float(event.y), 4))
        else:
            self.state.x0 = round(float(event.x), 4)

    def __panel__(self):
        plots_row = pn.Row(self.landscape_pane, pn.Column(*self.curve_panes))
        return pn.Column(self.error, *self.readout.panes(),
                         views_compare.bar(self.compare, self.replay), plots_row,
                         sizing_mode="stretch_width")
