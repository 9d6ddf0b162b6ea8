"""The compare bar and the compared runs' glyphs on the live figures (the runs: compare.py).

One slot per colour: a path and its end on the landscape, a loss line, a sharpness line and
its own 2/η staircase (dashed, in its colour), one legend entry. A slot is built the first
time a run is pinned into it (a page opened without compared runs builds none: the four
slots were ~40 % of the dashboard's models); then pinning or removing a run only fills or
empties its sources, and moving a live control only re-labels the entries if what differs
from the live run has changed.
"""
from __future__ import annotations

import numpy as np
import panel as pn
from bokeh.core.properties import value
from bokeh.models import ColumnDataSource, GlyphRenderer, Legend, LegendItem
from panel.viewable import Viewer

from . import compare
from .bar_style import ROW_HEIGHT, heading, tight
from .canvas import add_glyph, building
from .compare import COLOURS, MAX_RUNS, Compared
from .held import hold

EMPTY = compare.layers(compare.RunResult(None))


class Slot:
    """One compared run's glyphs, in one colour, on the three live figures."""

    def __init__(self, index: int, colour: str, landscape, loss_fig, sharp_fig):
        self.sources = {layer: ColumnDataSource({k: [] for k in cols}, name=f"compare{index}_{layer}")
                        for layer, cols in EMPTY.items()}
        src = self.sources
        self.plane = [
            add_glyph(landscape, "line", "x", "y", source=src["path"], color=colour,
                      line_width=2.5, alpha=0.9),
            add_glyph(landscape, "scatter", "x", "y", source=src["end"], marker="square",
                      size=12, fill_color=colour, line_color="white", line_width=1.5)]
        loss = add_glyph(loss_fig, "line", "t", "loss", source=src["run"], color=colour,
                         line_width=1.5, name=f"compare{index}_loss")
        self.curves = [
            loss, add_glyph(sharp_fig, "line", "t", "sharpness", source=src["run"],
                            color=colour, line_width=1.5, alpha=0.85),
            add_glyph(sharp_fig, "step", "t", "threshold", source=src["threshold"],
                      mode="after", color=colour, line_width=2, line_dash="dashed")]
        for r in self.plane + self.curves:
            r.visible = False
        for fig, renderers in ((landscape, self.plane[:1]), (loss_fig, self.curves[:1]),
                               (sharp_fig, self.curves[1:])):
            # under the live run's glyphs (the end marker stays on top)
            fig.renderers = renderers + [r for r in fig.renderers if r not in renderers]
        # the legend draws a stand-in at NaN (see legends.stand_in: a legend referring to a
        # changing source is rebuilt in the browser); a click on it hides the whole run
        stand_in = GlyphRenderer(data_source=ColumnDataSource({"t": [np.nan], "loss": [np.nan]}),
                                 glyph=loss.glyph.clone())
        loss_fig.renderers.append(stand_in)
        stand_in.on_change("visible", lambda attr, old, new: self._mirror(new))
        self.item = LegendItem(label=value(""), renderers=[stand_in], visible=False,
                               name=f"compare{index}_legend")
        self._shown, self._has = True, {"run": False, "path": False}

    def _mirror(self, shown: bool) -> None:
        self._shown = shown
        self._show()

    def _show(self) -> None:
        for renderers, layer in ((self.curves, "run"), (self.plane, "path")):
            for r in renderers:
                visible = self._shown and self._has[layer]
                if r.visible != visible:
                    r.visible = visible
        if self.item.visible != self._has["run"]:
            self.item.visible = self._has["run"]

    def fill(self, layers: dict) -> None:
        for name, columns in layers.items():
            self.sources[name].data = dict(columns)
        self._has = {"run": len(layers["run"]["t"]) > 0, "path": len(layers["path"]["x"]) > 0}
        self._show()

    def relabel(self, text: str) -> None:
        if self.item.label != value(text):
            self.item.label = value(text)


def _legend(fig) -> Legend:
    if fig.legend:
        return fig.legend[0]
    legend = Legend(items=[])
    fig.add_layout(legend)
    return legend


class CompareBar(Viewer):
    """Pin / Zhu et al. Fig. 2a / clear, one removable chip per compared run, their glyphs."""

    def __init__(self, dashboard, **params):
        super().__init__(**params)
        self.state = state = dashboard.state
        self._doc = dashboard._doc
        self._dashboard = dashboard
        self.slots: list[Slot | None] = [None] * len(COLOURS)   # built when first filled
        w = pn.widgets
        self.pin = w.Button(**tight(label="+ pin run", color="primary",
                                    description="Keep this run to compare (up to 4)"))
        self.zhu = w.Button(**tight(label="Zhu Fig. 2a", color="default",
                                    description="η = 2/8, 2/10, 2/12 from this start"))
        self.clear = w.Button(**tight(label="clear", color="default",
                                      description="Remove every compared run"))
        self.chips = [w.Button(label="", width=None, visible=False, margin=(0, 3),
                               height=ROW_HEIGHT, stylesheets=[f".bk-btn {{border-left: 10px solid {c} !important; padding: 0 8px;}}"])
                      for c in COLOURS]
        self.notice = pn.pane.Alert("", alert_type="warning", visible=False, margin=(0, 10),
                                    sizing_mode="stretch_width")
        self.pin.on_click(lambda e: self._act(self.runs.pin()))
        self.zhu.on_click(lambda e: self._act(self.runs.zhu()))
        self.clear.on_click(lambda e: self._act(self.runs.clear()))
        for i, chip in enumerate(self.chips):
            chip.on_click(lambda e, i=i: self._act(self.runs.remove(i)))
        self._plane, self._x_axis = None, state.x_axis
        self.runs = Compared(state, self._doc, on_results=self._fill)
        self._show_notices(self.runs.notices)
        state.param.watch(lambda e: self._show_notices(self.runs.notices), "compare")

    # --- actions and notices ------------------------------------------------------------

    def _act(self, problem) -> None:
        self._show_notices([problem] if problem else [])

    def _show_notices(self, notices) -> None:
        text = "\n".join(f"- {n}" for n in notices)
        if self.notice.object != text:
            self.notice.object = text
        self.notice.visible = bool(notices)

    # --- drawing ------------------------------------------------------------------------

    def slot(self, i: int) -> Slot:
        """Slot ``i``'s glyphs, built on the figures (and its legend entry) on first use."""
        if self.slots[i] is None:
            loss_fig, sharp_fig = self._dashboard.curves.figures[:2]
            with building(loss_fig):
                slot = Slot(i, COLOURS[i], self._dashboard.landscape.figure, loss_fig,
                            sharp_fig)
                items = _legend(loss_fig).items
                # in slot order, after the live run's entries
                at = len(items) - sum(s is not None for s in self.slots[i + 1:])
                _legend(loss_fig).items = items[:at] + [slot.item] + items[at:]
            self.slots[i] = slot
        return self.slots[i]

    def _fill(self) -> None:
        """Push every slot's layers (after the runs change, the x-axis or the live plane)."""
        plane = self._plane
        with hold(self._doc):
            for i, slot in enumerate(self.slots):
                result = self.runs.results[i] if i < len(self.runs.results) else None
                if result is None and slot is None:
                    continue   # never used: nothing to empty
                self.slot(i).fill(compare.layers(result, self.state.x_axis, plane)
                                  if result else EMPTY)
            self._relabel()
            self._dashboard.refit()   # the landscape window holds the compared runs too

    def _relabel(self) -> None:
        live = compare.pin_values(self.state)
        for i, (slot, chip) in enumerate(zip(self.slots, self.chips)):
            if i < len(self.runs.pins):
                text = compare.label(self.runs.pins[i], live)
                if slot is not None:
                    slot.relabel(text)
                name = f"✕ {text}"
                if chip.label != name:
                    chip.label = name
            chip.visible = i < len(self.runs.pins)
        self.pin.disabled = len(self.runs.pins) >= MAX_RUNS
        self.zhu.disabled = self.state.model not in compare.ZHU_MODELS

    def shown(self, plane) -> list:
        """The compared runs drawn on the landscape with ``plane`` (those that ran)."""
        return [r for r in self.runs.results[:len(self.runs.pins)]
                if r is not None and r.ok and tuple(r.spec.model.plane) == tuple(plane)]

    def draw(self, result, changed) -> None:
        """The live run was redrawn: re-label; re-push if the x-axis or the plane changed."""
        plane = tuple(result.spec.model.plane)
        if plane != self._plane or self.state.x_axis != self._x_axis:
            self._plane, self._x_axis = plane, self.state.x_axis
            self._fill()
        else:
            self._relabel()

    def widgets(self) -> list:
        """The bar's items, for a wrapping row (the notice goes under it: :attr:`notice`)."""
        return [heading("Compare"), self.pin, self.zhu, self.clear, *self.chips]

    def __panel__(self):
        return pn.Column(pn.FlexBox(*self.widgets(), flex_wrap="wrap", align_items="center",
                                    sizing_mode="stretch_width"),
                         self.notice, sizing_mode="stretch_width")


def bar(compared: CompareBar, replay, view: list) -> pn.Column:
    """The replay, the compare bar and ``view`` (the landscape's view toggle): three groups in
    one wrapping row, each kept whole where it fits; the compare notice under them.

    At 1024 px the replay fills a row and the other two share the next; on a wide screen all
    three share one row (each group as wide as its controls, the replay's slider the rest).
    """
    def group(items, grow: int = 0):
        return pn.FlexBox(*items, flex_wrap="wrap", align_items="center",
                          styles={"flex": f"{grow} 1 auto", "width": "auto", "min-width": "0"})
    return pn.Column(pn.FlexBox(group(replay.widgets(), grow=1), group(compared.widgets()),
                                group(view), flex_wrap="wrap", align_items="center",
                                gap="4px 0", sizing_mode="stretch_width"),
                     compared.notice, sizing_mode="stretch_width")


def attach(dashboard) -> CompareBar:
    """The hook ``Dashboard.__init__`` calls (before its first draw)."""
    return CompareBar(dashboard)
