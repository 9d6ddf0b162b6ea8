"""The η sweep (``view=sweep``): the bifurcation diagram of the current start and rule.

For η over the sweep's range (its own controls, ``sweep_*`` in the URL) every run starts
at the sidebar's θ₀ and takes ``sweep_steps`` steps; the diagram plots the value its last
K iterates visit (``dynamics.bifurcation``, ``app/sweep_plot.py``). The runs go off the
event loop through ``app/map_jobs.py`` (one worker per server, newest request wins): a
coarse picture first, then the full one, with progress for a slow one. The sidebar's η is
a vertical line; a click on the diagram sets it. While another view is shown nothing runs.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
import panel as pn
from bokeh.events import Tap
from panel.viewable import Viewer

import dynamics

from . import sweep_plot
from .held import hold
from .limits import snap
from .map_jobs import MapChannel, Stage
from .runs import FACTORIES
from .state import ExplorerState
from .sweep_figure import fill, sweep_canvas
from .views_controls import bind
from .views_export import ExportBar

NAME = "sweep"
RUN_INPUTS = ["model", "optimizer", "x0", "y0", "z0", "w0", "symmetric", "lam1", "lam2",
              "seed", "beta", "beta1", "beta2", "eps", "sweep_eta_from", "sweep_eta_to",
              "sweep_count", "sweep_keep", "sweep_steps"]


@dataclass(frozen=True)
class SweepSpec:
    """What one diagram runs (a snapshot of the state, taken on the event loop)."""

    model: object
    optimizer: object          # a dynamics.Optimizer with its hyperparameters
    init: tuple
    eta_from: float
    eta_to: float
    count: int
    keep: int
    steps: int
    seed: int

    def key(self, count: int) -> tuple:
        m, o = self.model, self.optimizer
        return ("sweep", m.name, tuple(m.consts), o.name, tuple(o.hyper), self.init,
                self.eta_from, self.eta_to, count, self.keep, self.steps, self.seed)

    def run(self, count: int):
        etas = sweep_plot.sweep_etas(self.eta_from, self.eta_to, count)
        return dynamics.bifurcation(self.model, self.init, etas, self.steps, keep=self.keep,
                                    optimizer=self.optimizer, seed=self.seed)


def sweep_spec(state: ExplorerState) -> SweepSpec | str:
    """The state's sweep, or the sentence saying why there is none."""
    problem = state.check()
    if problem:
        return problem
    rule = dynamics.OPTIMIZERS[state.optimizer]
    if rule.continuous:
        return (f"The η sweep runs update rules with a step size; {rule.title} is a flow. "
                "Choose gradient descent or another rule in the sidebar.")
    if not state.sweep_eta_from < state.sweep_eta_to:
        return (f"η from ({state.sweep_eta_from:g}) must be below η to "
                f"({state.sweep_eta_to:g}).")
    if state.sweep_keep > state.sweep_steps + 1:
        return (f"K = {state.sweep_keep} last iterates need at least {state.sweep_keep - 1} "
                f"steps per η; there are {state.sweep_steps}.")
    factory = FACTORIES.get(state.optimizer)
    try:
        opt = factory(*state.hyper()) if factory is not None else rule
    except ValueError as err:
        return str(err)
    return SweepSpec(state.model_object(), opt, tuple(float(v) for v in state.start()),
                     float(state.sweep_eta_from), float(state.sweep_eta_to),
                     int(state.sweep_count), int(state.sweep_keep), int(state.sweep_steps),
                     int(state.seed))


class SweepView(Viewer):
    """The bifurcation diagram of one session, its controls, progress and caption."""

    def __init__(self, state: ExplorerState, **params):
        super().__init__(**params)
        self.state = state
        doc = pn.state.curdoc
        self._doc = doc if doc is not None and doc.session_context is not None else None
        self.channel = MapChannel(self._doc) if self._doc is not None else None
        if self._doc is not None:
            self._doc.on_session_destroyed(lambda context: self.channel.cancel())
        self.canvas = sweep_canvas()
        self.canvas.figure.on_event(Tap, self._on_tap)
        self.result = None        # the Bifurcation on screen
        self._spec = None         # what was last asked for (the result is its newest)
        self._stale = True        # the state changed while another view was shown
        self._scheduled = False
        p = state.param
        box = dict(width=94, margin=(0, 6, 4, 0))
        self.controls = [
            bind(pn.widgets.FloatInput(label=p.sweep_eta_from.label, step=0.01, **box), state,
                 "sweep_eta_from"),
            bind(pn.widgets.FloatInput(label=p.sweep_eta_to.label, step=0.01, **box), state,
                 "sweep_eta_to"),
            bind(pn.widgets.IntInput(label=p.sweep_count.label, step=50, **box), state,
                 "sweep_count"),
            bind(pn.widgets.IntInput(label=p.sweep_keep.label, step=16, **box), state,
                 "sweep_keep"),
            bind(pn.widgets.IntInput(label=p.sweep_steps.label, step=1000, **box), state,
                 "sweep_steps")]
        self.quantity = bind(pn.widgets.Select(label=p.sweep_quantity.label,
                                               options=self._quantity_options(),
                                               width=124, margin=(0, 6, 4, 0)),
                             state, "sweep_quantity")
        self.error = pn.pane.Alert("", alert_type="danger", visible=False, margin=(0, 10, 6, 10),
                                   sizing_mode="stretch_width")
        self.progress = pn.indicators.Progress(label="sweep progress", value=0, max=100,
                                               width=160, visible=False, margin=(8, 6, 0, 10))
        self.progress_text = pn.pane.Str("", visible=False, margin=(4, 0, 0, 0))
        self.caption = pn.pane.Markdown("", margin=(0, 10), sizing_mode="stretch_width",
                                        styles={"font-size": "15px"}, name="sweep_caption")
        self.figure_pane = pn.pane.Bokeh(self.canvas.figure, margin=(0, 10),
                                         sizing_mode="stretch_width")
        state.param.watch(self._request, RUN_INPUTS)
        state.param.watch(self._on_quantity, ["sweep_quantity"])
        state.param.watch(self._on_eta, ["eta"])
        state.param.watch(self._on_view, ["view"])
        state.param.watch(lambda e: self._show_error(e.new), ["input_error"])
        self.canvas.push({"sweep_eta": state.eta})
        self._request()

    # --- scheduling ------------------------------------------------------------------------

    def _request(self, *events) -> None:
        if events and {e.name for e in events} & {"model", "optimizer"}:
            self.quantity.options = self._quantity_options()
        if self.state.view != NAME:
            self._stale = True
            return
        self._stale = False
        if self._doc is None:   # no server (tests, scripts): compute right away
            return self._start()
        if not self._scheduled:
            self._scheduled = True
            self._doc.add_next_tick_callback(self._start)

    def _start(self) -> None:
        self._scheduled = False
        spec = sweep_spec(self.state)
        if isinstance(spec, str):
            self.channel.cancel() if self.channel is not None else None
            self._show_progress(None, 1.0)
            return self._show_error(spec)
        self._spec = spec
        stages = [Stage(f"{n} step sizes", spec.key(n), partial(spec.run, n),
                        cost=n * spec.steps) for n in sweep_plot.stage_counts(spec.count)]
        if self.channel is None:
            try:
                for i, stage in enumerate(stages):
                    self._on_result(stage.work(), stage, i == len(stages) - 1)
            except ValueError as err:
                self._show_error(str(err))
            return
        self.channel.request(stages, on_result=self._on_result,
                             on_progress=self._show_progress, on_error=self._show_error)

    def _on_view(self, event) -> None:
        if event.new == NAME and self._stale:
            self._request()

    # --- drawing ---------------------------------------------------------------------------

    def _on_result(self, result, stage, final: bool) -> None:
        self.result = result
        self._show_error(self.state.input_error)
        self._draw()

    def _on_quantity(self, event) -> None:
        if self.result is not None:
            self._draw()

    def _draw(self) -> None:
        bif, quantity = self.result, self.state.sweep_quantity
        optimizer = self._spec.optimizer
        with hold(self._doc):
            fill(self.canvas, bif, optimizer, quantity)
            self.caption.object = self._caption(bif, optimizer)

    def _caption(self, bif, optimizer) -> str:
        start = ", ".join(f"{v:g}" for v in bif.model.project(np.asarray(self._spec.init)))
        head = (f"**{len(bif.etas)} runs from ({start}), {bif.steps:,} steps each; "
                f"the last K = {bif.tail_params.shape[1]} iterates.**")
        return f"{head} {sweep_plot.caption(bif, optimizer)}"

    def _on_eta(self, event) -> None:
        self.canvas.push({"sweep_eta": event.new})

    def _on_tap(self, event) -> None:
        """A click on the diagram sets η (through the state's gate: limits apply)."""
        if event.x is None or not np.isfinite(event.x):
            return
        step = self.state.param.eta.step
        self.state.set_from_control("eta", snap(round(float(event.x) / step) * step, step))

    def _quantity_options(self) -> dict:
        model = self.state.model_object()
        rule = dynamics.OPTIMIZERS[self.state.optimizer]
        return {sweep_plot.quantity_label(model, rule, q): q for q in sweep_plot.QUANTITIES}

    def _show_progress(self, text, fraction: float) -> None:
        shown = text is not None
        self.progress.value = int(round(100 * fraction))
        self.progress_text.object = f"computing {text}…" if shown else ""
        self.progress.visible = self.progress_text.visible = shown

    def _show_error(self, message: str) -> None:
        if message:
            self.error.object = f"**Cannot run this sweep:** {message}"
        self.error.visible = bool(message)

    def __panel__(self):
        controls = pn.FlexBox(*self.controls, self.quantity, self.progress, self.progress_text,
                              flex_wrap="wrap", align_items="flex-end", margin=(0, 10))
        return pn.Column(self.error, controls, self.figure_pane, ExportBar(self.state, NAME),
                         self.caption, sizing_mode="stretch_width")
