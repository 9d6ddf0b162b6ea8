"""The basin map view (``view=basin``): where every start of a grid ends, zoomable.

State events (model, rule, η, the map's own controls) coalesce into one request to the
map jobs (``map_jobs``: off the event loop, coarse first, newest wins); a zoom or pan
of the map, once still for ``ZOOM_DEBOUNCE_MS``, becomes the state's ``basin_window`` (so
a link holds it) and a new request inside it. A click on a cell loads that cell's start
into the trajectory view. Nothing is computed while another view is shown.
"""
from __future__ import annotations

import functools

import numpy as np
import panel as pn
from bokeh.events import Tap
from panel.viewable import Viewer

from . import basin
from .basin_words import caption
from .basin_figure import BasinFigures, paint, set_if_changed
from .held import hold
from .limits import MAX_STEPS
from .map_jobs import MapChannel, Stage
from .state import ExplorerState
from .views_export import ExportBar

ZOOM_DEBOUNCE_MS = 300
SHORT = {"sharpness": "final S", "loss": "log₁₀ loss", "settled": "settling step"}
MAP_PARAMS = ["model", "optimizer", "eta", "lam1", "lam2", "seed", "beta", "beta1", "beta2",
              "eps", "basin_res", "basin_steps", "basin_window"]
_COMPILED: set = set()   # (model, rule) pairs this server has mapped once (compiled)


class BasinView(Viewer):
    """Final sharpness (or loss, or settling step) over a grid of starts."""

    def __init__(self, state: ExplorerState, **params):
        super().__init__(**params)
        self.state = state
        self._doc = pn.state.curdoc
        self.channel = MapChannel(self._doc if self._has_server() else None)
        if self._has_server():   # a closed page's queued map work is dropped
            self._doc.on_session_destroyed(lambda context: self.channel.cancel())
        self.figs = BasinFigures()
        self._result = None            # (spec, result) of the picture shown
        self._set_ranges: tuple | None = None   # the ranges last set here
        self._zoom_timeout = None
        self._dirty = True
        self._scheduled = False
        self.notice = pn.pane.Alert("", alert_type="danger", visible=False,
                                    sizing_mode="stretch_width", margin=(0, 10))
        self.caption = pn.pane.HTML("", sizing_mode="stretch_width", margin=(4, 10),
                                    styles={"font-size": "15px", "line-height": "1.45"})
        self.colour = pn.widgets.RadioButtonGroup(
            label="colour by", options={v: k for k, v in SHORT.items()},
            value=state.basin_colour, color="light", margin=(22, 10, 0, 10))
        self.res = pn.widgets.IntInput(label="cells per side", value=state.basin_res,
                                       start=8, end=512, width=105, margin=(0, 6))
        self.steps = pn.widgets.IntInput(label="steps per start", value=state.basin_steps,
                                         start=1, end=50_000, width=115, margin=(0, 6))
        self.reset = pn.widgets.Button(label="reset window", color="default",
                                       margin=(22, 6, 0, 6))
        self.colour.param.watch(lambda e: self._set("basin_colour", e.new), "value")
        self.res.param.watch(lambda e: self._set("basin_res", e.new), "value")
        self.steps.param.watch(lambda e: self._set("basin_steps", e.new), "value")
        self.reset.on_click(lambda e: setattr(state, "basin_window", ""))
        state.param.watch(self._on_model, "model")
        state.param.watch(self._request, MAP_PARAMS)
        state.param.watch(self._on_colour, "basin_colour")
        state.param.watch(self._on_start, ["x0", "y0"])
        state.param.watch(self._on_view, "view")
        state.param.watch(self._on_input_error, "input_error")
        for fig in (self.figs.map, self.figs.strip):
            fig.on_event(Tap, self._on_tap)
            for r in (fig.x_range, fig.y_range):
                r.on_change("start", self._on_range)
                r.on_change("end", self._on_range)
        self._on_start()
        self._request()

    @staticmethod
    def _has_server() -> bool:
        doc = pn.state.curdoc
        return doc is not None and doc.session_context is not None

    # --- controls ------------------------------------------------------------------------

    def _set(self, name: str, raw) -> None:
        problem = self.state.set_from_control(name, raw)
        if problem:
            self.res.value, self.steps.value = self.state.basin_res, self.state.basin_steps

    def _on_input_error(self, event) -> None:
        if event.new:
            self._show_notice(event.new)

    def _show_notice(self, text: str) -> None:
        self.notice.object = text
        self.notice.visible = bool(text)

    def _on_model(self, event) -> None:
        self.state.basin_window = ""   # the old window belongs to the old model's plane

    def _on_view(self, event) -> None:
        if event.new == "basin" and self._dirty:
            self._request()

    # --- requests ------------------------------------------------------------------------

    def _request(self, *events) -> None:
        self._dirty = True
        if self.state.view != "basin" or self._scheduled:
            return
        if not self._has_server():
            return self._submit()
        self._scheduled = True
        self._doc.add_next_tick_callback(self._submit)

    def spec(self) -> basin.BasinSpec | str:
        """The map the state asks for, or why there is none."""
        return basin.spec_of(self.state)

    def _submit(self) -> None:
        self._scheduled, self._dirty = False, False
        spec = self.spec()
        if isinstance(spec, str):
            self.channel.cancel()
            self._progress(None, 1.0)
            return self._show_notice(spec)
        self._show_notice(self.state.input_error)
        self._show_window(spec)
        self.channel.request(self.stages(spec), on_result=functools.partial(self._draw, spec),
                             on_progress=self._progress, on_error=self._on_error)

    def stages(self, spec: basin.BasinSpec) -> list[Stage]:
        """A coarse picture first (2-D maps finer than COARSE), then the full one in bands."""
        first = (spec.model.name, spec.optimizer) not in _COMPILED
        note = " (the first map of this rule compiles first: up to a minute)" if first else ""
        out = []
        two_d = len(spec.window) > 1
        if two_d and spec.res > basin.COARSE * 1.25:
            coarse = spec.at(basin.COARSE)
            out.append(Stage(f"coarse {basin.COARSE} × {basin.COARSE} map{note}", coarse.key,
                             functools.partial(basin.compute, coarse), cost=basin.COARSE ** 2))
            note = ""
        label = (f"{spec.res} × {spec.res} map" if two_d else f"{spec.res} starts") + note
        bands = basin.bands(spec)
        if len(bands) > 1:
            out.append(Stage(label, spec.key, cost=spec.res ** 2, combine=basin.join,
                             chunks=tuple(functools.partial(basin.compute, spec, b)
                                          for b in bands)))
        else:
            out.append(Stage(label, spec.key, functools.partial(basin.compute, spec),
                             cost=spec.res ** (2 if two_d else 1)))
        return out

    def _progress(self, text, fraction) -> None:
        """The stage being computed, over the map's corner (nothing moves on the page)."""
        for label in (self.figs.progress, self.figs.strip_progress):
            if text is None:
                set_if_changed(label, visible=False)
            else:
                set_if_changed(label, visible=True,
                               text=f"computing the {text}… {100 * fraction:.0f} % done")

    def _on_error(self, message: str) -> None:
        self._show_notice(f"**The map could not be made:** {message} "
                          "The last map that worked stays on screen.")

    # --- drawing -------------------------------------------------------------------------

    def _draw(self, spec: basin.BasinSpec, result: dict, stage: Stage, final: bool) -> None:
        spec = spec.at(result["sharpness"].shape[-1])   # the coarse picture's own grid
        _COMPILED.add((spec.model.name, spec.optimizer))
        self._result = (spec, result)
        with hold(self._doc if self._has_server() else None):
            self._paint()

    def _on_colour(self, event) -> None:
        if self.colour.value != event.new:
            self.colour.value = event.new
        if self._result is not None:
            with hold(self._doc if self._has_server() else None):
                self._paint()

    def _paint(self) -> None:
        spec, result = self._result
        colour = self.state.basin_colour
        paint(self.figs, spec, result, colour)
        self.caption.object = caption(spec, result, basin.threshold(spec), colour)

    # --- window, zoom and start ----------------------------------------------------------

    def _show_window(self, spec: basin.BasinSpec) -> None:
        """The figure's ranges on the map's window (Bokeh's reset: the model's window)."""
        home = spec.model.window
        fig = self.figs.map if len(spec.window) > 1 else self.figs.strip
        set_if_changed(self.figs.map, visible=len(spec.window) > 1)
        set_if_changed(self.figs.strip, visible=len(spec.window) == 1)
        ranges = [fig.x_range] + ([fig.y_range] if len(spec.window) > 1 else [])
        for r, (lo, hi), (h_lo, h_hi) in zip(ranges, spec.window, home):
            set_if_changed(r, start=lo, end=hi, reset_start=h_lo, reset_end=h_hi)
        self._set_ranges = tuple((r.start, r.end) for r in ranges)

    def _on_range(self, attr, old, new) -> None:
        doc = self._doc
        if not self._has_server():
            return self._zoomed()
        if self._zoom_timeout is not None:
            try:
                doc.remove_timeout_callback(self._zoom_timeout)
            except ValueError:
                pass
        self._zoom_timeout = doc.add_timeout_callback(self._zoomed, ZOOM_DEBOUNCE_MS)

    def _zoomed(self) -> None:
        """The user zoomed or panned: the window of the next map (and of the link)."""
        self._zoom_timeout = None
        one_d = len(self.state.model_object().plane) == 1
        fig = self.figs.strip if one_d else self.figs.map
        ranges = [fig.x_range] + ([] if one_d else [fig.y_range])
        now = tuple((r.start, r.end) for r in ranges)
        if self._set_ranges is None or np.allclose(now, self._set_ranges, rtol=1e-9, atol=0):
            return
        text = basin.window_text(now)
        try:
            self.state.checked("basin_window", text)
        except ValueError:
            return
        self.state.basin_window = text

    def _on_start(self, *events) -> None:
        x, y = self.state.x0, self.state.y0
        self.figs.start.data = {"x": [x], "y": [y]}
        self.figs.start_line.location = x

    def _on_tap(self, event) -> None:
        """A click on a cell runs that cell's start in the trajectory view."""
        if self._result is None or event.x is None or not np.isfinite(event.x):
            return
        spec, result = self._result
        (xl, xh), *rest = spec.window
        n = result["sharpness"].shape[-1]
        xs = basin.axis(xl, xh, n)
        values = dict(x0=float(xs[int(np.argmin(np.abs(xs - event.x)))]),
                      steps=min(spec.steps, MAX_STEPS))
        if rest and event.y is not None:
            ys = basin.axis(*rest[0], result["sharpness"].shape[0])
            values["y0"] = float(ys[int(np.argmin(np.abs(ys - event.y)))])
        if self.state.model == "xyzw":
            values["symmetric"] = True   # the map's plane is z = x, w = y
        self.state.param.update(**values)
        self.state.view = "trajectory"

    def __panel__(self):
        controls = pn.FlexBox(self.colour, self.res, self.steps, self.reset,
                              flex_wrap="wrap", sizing_mode="stretch_width")
        plots = pn.Column(pn.pane.Bokeh(self.figs.map, margin=(0, 10)),
                          pn.pane.Bokeh(self.figs.strip, margin=(0, 10)))
        words = pn.Column(self.caption, styles={"flex": "1 1 300px", "min-width": "0"})
        return pn.Column(self.notice, controls,
                         pn.FlexBox(plots, words, flex_wrap="wrap", align_items="flex-start",
                                    sizing_mode="stretch_width"),
                         ExportBar(self.state, "basin"), sizing_mode="stretch_width")
