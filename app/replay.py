"""Replay: play / pause / scrub a cursor through the live run, on every plot at once.

The cursor at step k is one row — the iterate θ_k in the plane (a marker on the landscape),
and (t_k, L(θ_k)), (t_k, S(θ_k)) on the loss and sharpness plots, each with a vertical line
at t_k. Moving it never re-runs anything: in the browser a callback on the player copies row
k of the sources already there (``iterates``, ``run``) into the one-row ``cursor`` source and
moves the two Spans, in the same frame; the server only records the step (``state.cursor``,
in the URL) and redraws the cursor itself when the run changes or a link sets the step.
"""
from __future__ import annotations

import math

import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource, CustomJS, Span
from panel.viewable import Viewer

from .bar_style import ROW_HEIGHT, heading, tight
from .canvas import add_glyph, building
from .held import hold

COLUMNS = ("x", "y", "t", "loss", "sharpness")
FRAME_MS = 50   # the player's tick: 20 frames a second
SPEEDS = {"5 steps/s": 5, "20 steps/s": 20, "100 steps/s": 100, "500 steps/s": 500}
DEFAULT_SPEED = "100 steps/s"
CURSOR_COLOUR, MARKER_FILL = "#333333", "#F0E442"   # Okabe–Ito yellow, black outline
SPAN_NAMES = ("cursor_loss", "cursor_sharpness")

# Panel's Player stacks its label, slider and buttons (~80 px): here the buttons sit beside
# the slider and its label over the slider, one row of ~36 px (its inline styles: !important)
PLAYER_ROW_CSS = """
:host > div { display: grid !important; grid-template-columns: auto minmax(100px, 1fr);
              align-items: center; column-gap: 8px; }
.pn-player-title { grid-area: 1 / 2; font-size: 14px; line-height: 1.2; padding: 0 !important; }
input[type=range] { grid-area: 2 / 2; margin: 2px 0; }
:host > div > div:not(.pn-player-title) { grid-area: 1 / 1 / 3 / 2; padding: 0 !important;
                                          width: auto !important; margin: 0 !important; }
button { flex: none !important; width: 30px; height: 30px; margin: 0 1px !important;
         max-width: none !important; transform: none !important; }
"""

MOVE_JS = """
const doc = cb_obj.document
const it = doc.get_model_by_name("iterates"), run = doc.get_model_by_name("run")
const cursor = doc.get_model_by_name("cursor")
if (it == null || run == null || cursor == null) return
const n = Math.min(it.get_length() ?? 0, run.get_length() ?? 0)
if (n === 0) return
const i = Math.max(0, Math.min(cb_obj.value, n - 1))
const t = run.data.t[i]
cursor.data = {x: [it.data.x[i]], y: [it.data.y[i]], t: [t], loss: [run.data.loss[i]],
               sharpness: [run.data.sharpness[i]]}
for (const name of SPAN_NAMES) doc.get_model_by_name(name).location = t
"""

# the Player draws icon-only buttons: name them for screen readers (and the browser tests)
NAME_BUTTONS_JS = """
const names = {first: "first step", previous: "previous step", pause: "pause replay",
               play: "play replay", next: "next step", last: "last step"}
const walk = (root) => {
  for (const el of root.querySelectorAll("*")) {
    const name = el.tagName === "BUTTON" ? names[el.className] : undefined
    if (name && !el.getAttribute("aria-label")) el.setAttribute("aria-label", name)
    if (el.shadowRoot) walk(el.shadowRoot)
  }
}
walk(document)
setTimeout(() => walk(document), 1500)
"""


def cursor_layer(data: dict, k: int) -> dict:
    """The cursor at step ``k`` of the live run's layers (``plots.run_data``).

    Returns the one-row ``cursor`` columns (θ_k in the plane, t_k, L(θ_k), S(θ_k), exactly
    as the browser holds them) and ``cursor_t`` = t_k for the vertical lines; a k past the
    run's end shows its last iterate, k < 0 no cursor (no row, no line).
    """
    it, run = data["iterates"], data["run"]
    n = min(len(it["x"]), len(run["t"]))
    if k < 0 or n == 0:
        return {"cursor": {c: [] for c in COLUMNS}, "cursor_t": math.nan}
    i = min(int(k), n - 1)
    row = {"x": it["x"][i], "y": it["y"][i], "t": run["t"][i], "loss": run["loss"][i],
           "sharpness": run["sharpness"][i]}
    row = {c: [float(v)] for c, v in row.items()}
    return {"cursor": row, "cursor_t": row["t"][0]}


def player_pace(steps_per_second: float) -> tuple[int, int]:
    """(interval in ms, steps per tick) so the player advances ``steps_per_second``."""
    if steps_per_second * FRAME_MS / 1000 <= 1:
        return max(FRAME_MS, round(1000 / steps_per_second)), 1
    return FRAME_MS, max(1, round(steps_per_second * FRAME_MS / 1000))


class _Player(pn.widgets.Player):
    """Panel's Player with :data:`MOVE_JS` on its Bokeh model from the start.

    Attached as the model is made (before it joins the document) instead of through
    ``jscallback``, which walks and re-indexes the whole document once more per session.
    """

    def _get_model(self, doc, root=None, parent=None, comm=None):
        model = super()._get_model(doc, root, parent, comm)
        model.js_on_change("value", CustomJS(code=MOVE_JS,
                                             args={"SPAN_NAMES": list(SPAN_NAMES)}))
        return model


class Replay(Viewer):
    """The player, and the cursor glyphs on the dashboard's three figures.

    The glyphs (``source``, ``spans``) are built the first time a cursor is shown: a link
    with ``cursor=``, or the first play or scrub (the browser's callback finds no cursor yet
    and leaves it to the server, which builds it with that step's row).
    """

    def __init__(self, dashboard, **params):
        super().__init__(**params)
        self.state = state = dashboard.state
        self._doc = dashboard._doc
        self._dashboard = dashboard
        self._data = None
        self._from_browser = False
        self.source: ColumnDataSource | None = None   # the glyphs, once built
        self.spans: list[Span] = []
        interval, step = player_pace(SPEEDS[DEFAULT_SPEED])
        self.player = _Player(
            label="replay step", start=0, end=1, value=max(state.cursor, 0), interval=interval,
            step=step, loop_policy="once", show_loop_controls=False, show_value=True,
            visible_buttons=["first", "previous", "pause", "play", "next", "last"],
            width=None, height=None, margin=(0, 6), stylesheets=[PLAYER_ROW_CSS],
            styles={"flex": "1 1 340px", "max-width": "560px"})   # the slider takes the rest
        self.speed = pn.widgets.Select(options=list(SPEEDS), value=DEFAULT_SPEED, width=120,
                                       height=ROW_HEIGHT, margin=(0, 3),
                                       description="replay speed")
        self.hide = pn.widgets.Button(**tight(label="✕ cursor",
                                              description="hide the replay cursor"))
        self.hide.on_click(lambda e: setattr(state, "cursor", -1))
        self.speed.param.watch(self._on_speed, "value")
        self.player.param.watch(self._on_player, "value")
        state.param.watch(self._on_cursor, "cursor")
        if self._doc is not None:
            self._doc.js_on_event("document_ready", CustomJS(code=NAME_BUTTONS_JS))

    def _build_glyphs(self) -> None:
        """The one-row cursor source, its marker on every figure, the two vertical lines."""
        landscape = self._dashboard.landscape.figure
        with building(landscape):
            self.source = ColumnDataSource({c: [] for c in COLUMNS}, name="cursor")
            loss_fig, sharp_fig = self._dashboard.curves.figures[:2]
            marker = add_glyph(landscape, "scatter", "x", "y", source=self.source,
                               marker="diamond", size=22, fill_color=MARKER_FILL,
                               line_color="black", line_width=2)
            marker.name = "cursor_marker"
            for fig, column, name in ((loss_fig, "loss", SPAN_NAMES[0]),
                                      (sharp_fig, "sharpness", SPAN_NAMES[1])):
                span = Span(dimension="height", location=None, line_color=CURSOR_COLOUR,
                            line_width=2, line_alpha=0.6, name=name)
                fig.add_layout(span)
                self.spans.append(span)
                add_glyph(fig, "scatter", "t", column, source=self.source, size=11,
                          fill_color=MARKER_FILL, line_color="black", line_width=2)

    def _on_speed(self, event) -> None:
        interval, step = player_pace(SPEEDS[event.new])
        self.player.param.update(interval=interval, step=step)

    def _on_player(self, event) -> None:
        """The browser moved the player (its callback already moved the cursor there)."""
        self._from_browser = True
        try:
            self.state.cursor = int(event.new)
        finally:
            self._from_browser = False

    def _on_cursor(self, event) -> None:
        k = self.state.cursor
        if k >= 0 and self.player.value != min(k, self.player.end):
            self.player.value = min(k, self.player.end)
        if not self._from_browser or self.source is None:
            self._show()   # (the browser moved no cursor it does not have yet)
        else:
            self._label()

    def draw(self, result, data: dict) -> None:
        """The live run was redrawn: the cursor follows it to the same step."""
        self._data = data
        end = max(len(data["run"]["t"]) - 1, 1)
        if self.player.end != end:
            self.player.end = end
        self._show()

    def _show(self) -> None:
        if self._data is None:
            return
        layer = cursor_layer(self._data, self.state.cursor)
        with hold(self._doc):
            if self.source is None:
                if self.state.cursor < 0:
                    self._label()
                    return   # no cursor yet, none asked for
                self._build_glyphs()
            if not _same(self.source.data, layer["cursor"]):
                self.source.data = layer["cursor"]
            loc = layer["cursor_t"] if np.isfinite(layer["cursor_t"]) else None
            for span in self.spans:
                if span.location != loc:
                    span.location = loc
            self._label()

    def _label(self) -> None:
        """With no cursor on screen, no step number either, but what the buttons do."""
        shown = self.state.cursor >= 0
        self.hide.disabled = not shown
        label = "replay step" if shown else "▶ walks through the run"   # under "Replay"
        if self.player.label != label:
            self.player.param.update(label=label, show_value=shown)

    def widgets(self) -> list:
        """The replay's items, for a wrapping row shared with the compare bar."""
        return [heading("Replay"), self.player, self.speed, self.hide]

    def __panel__(self):
        return pn.FlexBox(*self.widgets(), flex_wrap="wrap", align_items="center",
                          sizing_mode="stretch_width")


def _same(old: dict, new: dict) -> bool:
    return old.keys() == new.keys() and all(list(old[k]) == list(new[k]) for k in new)


def attach(dashboard) -> Replay:
    """The hook ``Dashboard.__init__`` calls (before its first draw)."""
    return Replay(dashboard)


def label_step_slider(slider, cursor: int, name: str = "replay step k") -> None:
    """A view's own step slider names the marked iterate, or says none is marked yet
    (never a misleading "k: 0" while no cursor is shown)."""
    marked = cursor >= 0
    slider.param.update(name=name if marked else "mark an iterate (drag): none marked",
                        show_value=marked)
