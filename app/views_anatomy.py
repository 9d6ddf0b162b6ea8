"""What the oscillation and distance views share: follow the state, solve off the loop, cursor.

A view here draws one run with GD's two flows (``app.anatomy``). A change of the run marks
it dirty; one scheduled flush per burst of events takes the spec, solves the run and its
flows in a worker thread (an ODE solve takes seconds) while a note says so, builds the view's
columns there too, then pushes them into the existing Bokeh sources under one hold. A view
not on screen only remembers that it is stale and redraws when it is shown again.

The replay cursor (``state.cursor``, the step k; −1 none) is a vertical line on every plot,
moved by the trajectory view's player, the link's ``cursor=`` or this view's own slider.
"""
from __future__ import annotations

import asyncio
from html import escape

import panel as pn
from bokeh.models import Div
from panel.viewable import Viewer

from .anatomy import anatomy
from .anatomy_figures import CURSOR_COLOUR, cursor_span  # noqa: F401 (the views' import)
from .held import hold
from .readout import BOX
from .replay import label_step_slider
from .state import ExplorerState

# the state's params that change the run (not its drawing: show_flow, x_axis, …)
RUN_NAMES = ["model", "optimizer", "eta", "x0", "y0", "z0", "w0", "symmetric", "lam1", "lam2",
             "steps", "drop_step", "drop_eta", "seed", "beta", "beta1", "beta2", "eps"]
BUSY = "computing the central flow… (an ODE solve: a few seconds)"


def words_html(sentence: str, level: str) -> str:
    """``sentence`` in a box coloured like a Panel Alert of type ``level``, as tall as it
    needs (these paragraphs are longer than the trajectory view's verdict)."""
    style = BOX.format(height=0, level=level, size=15).replace("height: 0px; ", "")
    return f'<div style="{style}; padding: 6px 1.25rem">{escape(sentence)}</div>'


def words_div(name: str) -> Div:
    return Div(text="", name=name, sizing_mode="stretch_width", margin=(0, 10, 4, 10))


class AnatomyView(Viewer):
    """Base: subclasses set NAME, build figures, and define ``compute`` and ``show``."""

    NAME = ""

    def __init__(self, state: ExplorerState, **params):
        super().__init__(**params)
        self.state = state
        self._doc = pn.state.curdoc
        self._dirty = self._scheduled = self._stale = False
        self.data = None            # what compute() returned for the run on screen
        self.busy = pn.pane.HTML(BUSY, visible=False, margin=(0, 10),
                                 styles={"font-style": "italic", "color": "#555"})
        self.slider = pn.widgets.IntSlider(label="replay step k", start=0, end=1,
                                           value=max(state.cursor, 0), width=300,
                                           margin=(0, 10))
        self.slider.param.watch(self._on_slider, "value_throttled")
        label_step_slider(self.slider, state.cursor)
        self.hide = pn.widgets.Button(label="✕ cursor", width=80, height=34,
                                      description="hide the replay cursor",
                                      disabled=state.cursor < 0)
        self.hide.on_click(lambda e: setattr(state, "cursor", -1))
        state.param.watch(self._request, RUN_NAMES)
        state.param.watch(self._on_view, "view")
        state.param.watch(lambda e: self._show_cursor(), "cursor")

    # --- scheduling ---------------------------------------------------------------------------

    def _request(self, *events) -> None:
        if self.state.view != self.NAME:
            self._stale = True
            return
        self._dirty = True
        if self._scheduled:
            return
        doc = self._doc
        if doc is None or doc.session_context is None:   # no server: compute right away
            self._dirty = False
            self._draw(self._compute(self.state.spec()))
            return
        self._scheduled = True
        self.busy.visible = True
        doc.add_next_tick_callback(self._flush)

    def _on_view(self, event) -> None:
        if event.new == self.NAME and (self._stale or self.data is None):
            self._stale = False
            self._request()

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._dirty:
                self._dirty = False
                result = await loop.run_in_executor(None, self._compute, self.state.spec())
                self._draw(result)
        finally:
            self._scheduled = False
            self.busy.visible = False

    def _compute(self, spec):
        """(data, None) or (None, message); runs in a worker thread, never raises."""
        an = anatomy(spec)
        if not an.ok:
            return None, an.message
        try:
            return self.compute(an), None
        except Exception as err:   # a bug or an odd run: say so, keep serving
            return None, f"This view could not be computed: {type(err).__name__}: {err}"

    def _draw(self, result) -> None:
        data, message = result
        with hold(self._doc):
            if data is None:
                self.words.text = words_html(f"Cannot show this: {message}", "danger")
                return
            self.data = data
            self.show(data)
            end = max(self.length(data) - 1, 1)
            if self.slider.end != end:
                self.slider.end = end
            self._show_cursor()

    # --- the cursor -----------------------------------------------------------------------------

    def _on_slider(self, event) -> None:
        if event.new is not None and event.new != self.state.cursor:
            self.state.cursor = int(event.new)

    def _show_cursor(self) -> None:
        k = self.state.cursor
        self.hide.disabled = k < 0
        label_step_slider(self.slider, k)
        if k >= 0 and self.slider.value != min(k, self.slider.end):
            self.slider.value = min(k, self.slider.end)
        if self.data is None:
            return
        with hold(self._doc):
            self.show_cursor(self.data, k)

    # --- for subclasses ------------------------------------------------------------------------

    def compute(self, an):   # pragma: no cover - abstract
        raise NotImplementedError

    def show(self, data) -> None:   # pragma: no cover - abstract
        raise NotImplementedError

    def show_cursor(self, data, k: int) -> None:   # pragma: no cover - abstract
        raise NotImplementedError

    def length(self, data) -> int:   # pragma: no cover - abstract
        raise NotImplementedError

    def controls(self):
        return pn.Row(pn.pane.Markdown("**Replay**", margin=(0, 0, 0, 10)), self.slider,
                      self.hide, self.busy, sizing_mode="stretch_width")
