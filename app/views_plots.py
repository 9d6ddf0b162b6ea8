"""The live plots and the readout, redrawn in place whenever a control moves.

One flow per change: state events mark the view dirty; one scheduled flush (per burst of
events) snapshots the state, simulates off the event loop, then pushes the new layers
into the existing Bokeh sources under ``held.hold`` (one message to the browser).
"""
from __future__ import annotations

import asyncio
import math

import numpy as np
import panel as pn
from bokeh.core.properties import value
from bokeh.events import Tap
from panel.viewable import Viewer

import dynamics

from . import plots, rules
from .fit import MARGIN, keeps_window, union
from .figures import (MIN_WIDTH, configure_landscape, curves_canvas,
                      landscape_canvas, level_dots, set_x_label)
from . import replay, views_compare   # compared runs and the replay cursor (their own modules)
from .bar_style import tight
from .held import hold
from .readout import Readout
from .state import ExplorerState, RunResult, run

RUN_PARAMS = ["model", "optimizer", "eta", "x0", "y0", "z0", "w0", "symmetric", "lam1",
              "lam2", "steps", "drop_step", "drop_eta", "seed", "show_flow", "x_axis",
              "beta", "beta1", "beta2", "eps", "show_central_flow"]


ROBUST_PAD = 0.06   # fit.robust_range's padding on each side (three times it under a note)
LIGHT_WORK = 5000   # steps × parameters below which a run takes a few ms
VIEWS = {"fit the run": "fit", "the model's window": "model"}
BACKGROUND_PAD = 0.15   # the heat map reaches this far beyond the window (a pan shows landscape)
BACKGROUND_RESOLUTION = 200   # the shape the compile cache already holds


def _light(spec) -> bool:
    """A run of a few ms: no ODE solve (gradient or central flow) and not many steps."""
    return (not spec.show_flow and not spec.show_central_flow
            and spec.steps * len(spec.init) <= 4 * LIGHT_WORK)


def _holds(window, fitted, inner: float = 1.0 / (1.0 + 2.0 * MARGIN)) -> bool:
    """Whether the shown ``window`` still serves a run whose fitted window is ``fitted``.

    It must hold the run itself (``fitted`` without its margin, so a step of η that moves
    the run a little does not refit, re-send the background and re-range the plane) and not
    be much too big (the fitted window at least half of it, as :func:`keeps_window` asks).
    """
    # ``inner``: the run's span within its fitted window
    run = tuple((lo + (1 - inner) / 2 * (hi - lo), hi - (1 - inner) / 2 * (hi - lo))
                for lo, hi in fitted)
    return keeps_window(window, run, shrink=0.5 * inner)


def _keeps_range(current, new, log: bool) -> bool:
    """Whether a curve's y-range ``current`` still serves a run whose robust range is ``new``.

    Kept while it holds ``new`` without its padding and is not much too big (as the
    landscape's window), so a small step of η does not re-range the axis: no new ticks,
    no re-layout of the plot in the browser. A log axis compares decades.
    """
    if not all(v is not None and np.isfinite(v) and (v > 0 or not log)
               for v in (*current, *new)):
        return False
    if log:
        current, new = np.log10(current), np.log10(new)
    inner = 1.0 / (1.0 + 4.0 * ROBUST_PAD)   # at least the curve's span within ``new``
    return _holds((tuple(current),), (tuple(new),), inner)


def _minima_threshold(result: RunResult) -> float:
    """Where the landscape splits its minima: the rule's own threshold at the last step when
    it holds the raw sharpness (2/η, (2 + 2β)/η), else GD's 2/η (RMSProp's and Adam's limit
    depends on their preconditioner, which a minimum alone does not fix)."""
    if rules.preconditioned(result.spec.optimizer):
        return 2.0 / float(result.traj.eta[-1]) if len(result.traj.eta) else 2.0 / result.spec.eta
    return float(result.threshold[-1])


class Dashboard(Viewer):
    """Landscape, loss and sharpness plots plus the verdict, for one session's state."""

    def __init__(self, state: ExplorerState, **params):
        super().__init__(**params)
        self.state = state
        self._doc = pn.state.curdoc
        self._pending: set[str] = set()
        self._scheduled = False
        self._background_key = None
        self.readout = Readout()
        # one state on screen: a message takes the readout's place, in the same height
        self._readout_panes = self.readout.panes()
        self.error = pn.pane.Alert("", alert_type="danger", visible=False, margin=(0, 10, 6, 10),
                                   sizing_mode="stretch_width", styles={"font-size": "16px"},
                                   height=sum(p.object.height or p.object.min_height
                                              for p in self._readout_panes)
                                   + 5)   # measured in Chromium: the panes' own spacing
        state.param.watch(lambda e: self._show_error(e.new), "input_error")
        self.curves = curves_canvas()
        self.landscape = landscape_canvas()
        self.landscape.figure.on_event(Tap, self._on_tap)
        self.landscape_pane = pn.pane.Bokeh(self.landscape.figure, margin=(0, 10),
                                            sizing_mode="stretch_width")
        self.curve_panes = [pn.pane.Bokeh(fig, margin=(0, 10), sizing_mode="stretch_width")
                            for fig in self.curves.figures]
        # the landscape shows the run (fitted) or the model's fixed window
        self.view = pn.widgets.RadioButtonGroup(label="landscape view", options=VIEWS,
                                                value="fit", color="light",
                                                **tight(margin=(0, 0, 0, 4)))
        self.view.param.watch(self._on_view, "value")
        self._result: RunResult | None = None
        self._window = None          # the landscape window shown, as last set here
        self._minima_window = None   # where minima and background are computed (it + a pad)
        self._ranges: dict = {}      # figure range -> (start, end) last set here
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
        with hold(self._doc):
            if not result.ok:   # the last good picture stays
                self._show_error(f"{result.message} The plots show the last run that worked.")
                return
            self._show_error(self.state.input_error)
            self._result = result
            model, traj, flow = result.spec.model, result.traj, result.flow
            self._show_landscape(result)
            x_axis = self.state.x_axis
            threshold = result.threshold
            self.landscape.step_map.high = max(len(traj.loss) - 1, 1)
            data = plots.run_data(model, traj, threshold, x_axis)
            data.update(plots.flow_data(model, flow, x_axis))
            data.update(plots.flow_data(model, result.central_flow, x_axis, name="central_flow"))
            data.update(plots.manifold_data(model, _minima_threshold(result),
                                            self._minima_window))
            data.update(plots.start_data(model, result.spec.init))
            self.landscape.push(data)
            self.curves.push(data)
            self._show_ranges(self._curve_ranges(result))
            rule = dynamics.OPTIMIZERS[result.spec.optimizer]
            dots = plots.levels_as_dots(result.kind, result.period)
            split = not rule.continuous and not dots   # even and odd steps: two lines
            self._name_rule(result.spec.optimizer, split)
            self._show_levels(dots)
            has_eos = bool(np.isfinite(data["eos"]))
            for item in self.curves.eos_legends:
                if item.visible != has_eos:
                    item.visible = has_eos
            # one threshold: the Span; after a drop the staircase says it better
            single = len(result.spec.schedule) == 1
            for span in self.curves.spans["threshold_line"]:
                if span.visible != single:
                    span.visible = single
            if "x_axis" in changed:
                set_x_label(self.curves, x_axis)
            # a flow has no steps to split, nor a long cycle's dots: named after the rule alone
            title = f"{rule.title}: even steps" if split else rule.title
            if self.curves.run_legend.label != value(title):
                self.curves.run_legend.label = value(title)
            for item in self.curves.odd_legends:
                if item.visible != split:
                    item.visible = split
            self.readout.show(result)
            self.compare.draw(result, changed)
            self.replay.draw(result, data)

    def _show_levels(self, dots: bool) -> None:
        """A cycle longer than 2 as a dot per step over faded lines (plots.levels_as_dots)."""
        if dots:
            level_dots(self.curves)
        alpha = 0.25 if dots else 1.0
        for renderer in self.curves.run_lines:
            if renderer.glyph.line_alpha != alpha:
                renderer.glyph.line_alpha = alpha
        for shown in (*self.curves.dots, *self.curves.dot_legends):
            if shown.visible != dots:
                shown.visible = dots

    def _name_rule(self, optimizer: str, split: bool) -> None:
        """Legends and the sharpness axis name the rule's threshold and held sharpness
        (``split``: the run is drawn as its even and its odd steps)."""
        formula, pre = rules.compact_formula(optimizer), rules.preconditioned(optimizer)
        labels = [(self.curves.threshold_legend, f"threshold {formula}"),
                  (self.curves.sharpness_legend,
                   f"{'λ_max(P⁻¹H)' if pre else 'sharpness'}" + (": even steps" if split else ""))]
        reach = "first reaches the threshold" if pre else f"S first reaches {formula}"
        labels += [(item, reach) for item in self.curves.eos_legends]
        settles, unstable = self.landscape.minima_legends
        if pre or formula == "2/η":   # RMSProp's, Adam's limit at a minimum depends on P
            labels += [(settles, "minima, S ≤ 2/η: GD can settle"),
                       (unstable, "minima, S > 2/η: too sharp")]
        else:
            labels += [(settles, f"minima, S ≤ {formula}: can settle"),
                       (unstable, f"minima, S > {formula}: too sharp")]
        for item, text in labels:
            if item.label != value(text):
                item.label = value(text)
        fig = self.curves.sharpness_figure
        axis_label = "preconditioned sharpness" if pre else "sharpness S"
        if fig.yaxis[0].axis_label != axis_label:
            fig.yaxis[0].axis_label = axis_label
        ncols = 2 if pre else 3   # λ_max(P⁻¹H)'s longer names fit the plot's width in two
        for legend in fig.legend:
            if legend.ncols != ncols:
                legend.ncols = ncols

    def _show_error(self, message: str) -> None:
        """``message`` in place of the verdict and numbers, or the readout back if ''."""
        if message:
            self.error.object = f"**Cannot run this:** {message}"
        self.error.visible = bool(message)
        for pane in self._readout_panes:   # the Bokeh pane's own `visible` is not passed on
            pane.object.visible = not message

    def _show_landscape(self, result: RunResult, force: bool = False) -> None:
        """Fit the landscape to the run (or show the model's window), background included.

        The window stays while it still holds the run and is not much too big (no jumps
        while a slider moves), and while the user has zoomed or panned it (until reset).
        A new model always gets a new window.
        """
        model = result.spec.model
        key = (model.name, model.consts)
        new_model = key != self._background_key
        if self.view.value == "fit":
            target = plots.run_window(model, result.traj)
            compared = getattr(self, "compare", None)
            for other in compared.shown(model.plane) if compared is not None else []:
                target = union(target, plots.run_window(other.spec.model, other.traj))
        else:
            target = tuple(tuple(map(float, w)) for w in model.window)
        if not (new_model or force):
            if self._zoomed(self.landscape.figure):
                return
            if self.view.value == "fit" and _holds(self._window, target):
                return
            if self.view.value == "model" and self._window == target:
                return
        padded = tuple((lo - BACKGROUND_PAD * (hi - lo), hi + BACKGROUND_PAD * (hi - lo))
                       for lo, hi in target)
        background = plots.background_data(model, BACKGROUND_RESOLUTION, padded)
        configure_landscape(self.landscape, model, background, target,
                            plots.manifold_points(model, padded)["sharpness"])
        fig = self.landscape.figure
        self._remember(fig.x_range, fig.y_range)
        self._window, self._minima_window = target, padded
        self._background_key = key

    def _curve_ranges(self, result: RunResult) -> dict:
        """The curves' y-ranges for the live run, its flows and the compared runs."""
        compared = [r.traj for r in self.compare.runs.results[:len(self.compare.runs.pins)]
                    if r is not None and r.ok]
        return plots.curve_ranges(result.traj, result.threshold, result.flow,
                                  result.central_flow, others=compared)

    def refit(self) -> None:
        """Fit the landscape and the curves' ranges again (the compared runs changed);
        each kept while zoomed."""
        if self._result is not None:
            with hold(self._doc):
                self._show_landscape(self._result)
                self.landscape.push(plots.manifold_data(self._result.spec.model,
                                                        _minima_threshold(self._result),
                                                        self._minima_window))
                self._show_ranges(self._curve_ranges(self._result))

    def _remember(self, *ranges) -> None:
        for r in ranges:
            self._ranges[r] = (r.start, r.end)

    def _zoomed(self, fig) -> bool:
        """True if the browser moved ``fig``'s ranges away from what was last set here."""
        for r in (fig.x_range, fig.y_range):
            if r in self._ranges and not all(   # math, not numpy: two numbers, every redraw
                    math.isclose(a, b, rel_tol=1e-9, abs_tol=0.0)
                    for a, b in zip(self._ranges[r], (r.start, r.end))):
                return True
        return False

    def _show_ranges(self, ranges: dict) -> None:
        """Robust y-ranges of the curves (kept while the user has zoomed), and their notes."""
        for kind, fig in (("loss", self.curves.loss_figure),
                          ("sharpness", self.curves.sharpness_figure)):
            rng = ranges[f"{kind}_range"]
            if not (fig.y_range in self._ranges and self._zoomed(fig)):
                lo, hi = float(rng.lo), float(rng.hi)
                current = (fig.y_range.start, fig.y_range.end)
                # a clipped curve gets its exact range: its note names what is cut off
                if current != (lo, hi) and (rng.note or
                                            not _keeps_range(current, (lo, hi), kind == "loss")):
                    fig.y_range.update(start=lo, end=hi, reset_start=lo, reset_end=hi)
                self._remember(fig.y_range)
            note = self.curves.notes[kind]
            if note.text != rng.note:
                note.text = rng.note
            if note.visible != bool(rng.note):
                note.visible = bool(rng.note)

    def _on_view(self, event) -> None:
        if self._result is not None:
            with hold(self._doc):
                self._show_landscape(self._result, force=True)
                data = plots.manifold_data(self._result.spec.model,
                                           _minima_threshold(self._result),
                                           self._minima_window)
                self.landscape.push(data)

    def _on_tap(self, event) -> None:
        """A click on the landscape sets the start (x₀, and y₀ on a 2-D plane)."""
        if event.x is None or not np.isfinite(event.x):
            return
        if self.state.dim >= 2 and event.y is not None:
            self.state.param.update(x0=round(float(event.x), 4), y0=round(float(event.y), 4))
        else:
            self.state.x0 = round(float(event.x), 4)

    def __panel__(self):
        # side by side where both fit, stacked (landscape first) where they do not
        basis = {"flex": f"1 1 {MIN_WIDTH + 20}px", "min-width": "0"}
        landscape = pn.Column(self.landscape_pane, sizing_mode="stretch_width", styles=basis)
        curves = pn.Column(*self.curve_panes, sizing_mode="stretch_width", styles=basis)
        plots_box = pn.FlexBox(landscape, curves, flex_wrap="wrap", align_items="flex-start",
                               sizing_mode="stretch_width")
        from .views_export import bar as export_bar   # downloads and copy link (views_export)
        return pn.Column(self.error, *self._readout_panes,
                         views_compare.bar(self.compare, self.replay,
                                           [pn.pane.HTML("Landscape view:", margin=(0, 0, 0, 10)),
                                            self.view]), plots_box,
                         export_bar(self), sizing_mode="stretch_width")
