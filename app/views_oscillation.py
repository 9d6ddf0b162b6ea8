"""The oscillation view (``view=oscillation``): the swing along q₁ and what stops it.

Top: x = ⟨q₁, θₖ − θ̄ₖ⟩ and the norm of the rest against the step k; below it, on the same
x-axis, the sharpness at θₖ and at the two-step mean with the threshold 2/η; the step where
S first reaches 2/η marked on both. Beside them Damian et al.'s phase plane (x, y). The
columns come from ``app.oscillation``; this file only draws them.
"""
from __future__ import annotations

import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource, LinearColorMapper, Range1d, Span
from bokeh.palettes import Viridis256
from bokeh.plotting import figure

from . import oscillation as osc
from .fit import robust_range
from .figures import BLUE, GREEN, MIN_WIDTH, ORANGE, TOOLS, VERMILLION, _style
from .views_anatomy import AnatomyView, cursor_span, words_div, words_html
from .views_export import ExportBar


def layers(o: osc.Oscillation) -> dict:
    """The sources' columns for one :class:`~app.oscillation.Oscillation`."""
    return {"osc_swing": {"step": o.step, "x": o.x, "rest": o.rest},
            "osc_sharpness": {"step": o.step, "sharpness": o.sharpness,
                              "mean_sharpness": o.mean_sharpness, "threshold": o.threshold},
            "osc_phase": {"x": o.x, "y": o.y, "step": o.step}}


def cursor_row(o: osc.Oscillation, k: int) -> dict:
    """The phase plane's cursor marker at step k (past the end: the last; k < 0: none)."""
    if k < 0 or not len(o.step):
        return {"x": [], "y": []}
    i = min(k, len(o.step) - 1)
    return {"x": [float(o.x[i])], "y": [float(o.y[i])]}


class OscillationView(AnatomyView):
    NAME = "oscillation"

    def __init__(self, state, **params):
        super().__init__(state, **params)
        self.words = words_div("osc_words")
        self.sources = {name: ColumnDataSource(name=name) for name in
                        ("osc_swing", "osc_sharpness", "osc_phase")}
        for name, cols in (("osc_swing", ("step", "x", "rest")),
                           ("osc_sharpness", ("step", "sharpness", "mean_sharpness",
                                              "threshold")),
                           ("osc_phase", ("x", "y", "step"))):
            self.sources[name].data = {c: np.zeros(0) for c in cols}
        self.cursor_source = ColumnDataSource({"x": [], "y": []}, name="osc_cursor")
        swing = figure(height=260, sizing_mode="stretch_width", min_width=MIN_WIDTH,
                       tools=TOOLS, title="Oscillation along the top eigenvector q₁",
                       x_range=Range1d(0, 1))
        src = self.sources["osc_swing"]
        swing.line("step", "x", source=src, color=VERMILLION, line_width=1.5,
                   legend_label="x = ⟨q₁, θₖ − θ̄ₖ⟩")
        swing.scatter("step", "x", source=src, color=VERMILLION, size=3)
        swing.line("step", "rest", source=src, color=BLUE, line_width=2, line_dash="dashed",
                   legend_label="‖rest of θₖ − θ̄ₖ‖ (⊥ q₁)")
        swing.yaxis.axis_label = "displacement from θ̄"
        sharp = figure(height=230, sizing_mode="stretch_width", min_width=MIN_WIDTH,
                       tools=TOOLS, title="Sharpness S and the threshold 2/η",
                       x_range=swing.x_range)
        src = self.sources["osc_sharpness"]
        sharp.line("step", "sharpness", source=src, color=GREEN, line_width=1, alpha=0.35,
                   legend_label="S(θₖ)")
        sharp.line("step", "mean_sharpness", source=src, color=GREEN, line_width=3,
                   legend_label="S at the two-step mean")
        self.threshold_line = sharp.line("step", "threshold", source=src, color="black",
                                         line_width=2, line_dash="dashed", legend_label="2/η")
        sharp.xaxis.axis_label, sharp.yaxis.axis_label = "step k", "sharpness"
        self.edges = []
        for fig, name in ((swing, "osc_edge_swing"), (sharp, "osc_edge_sharpness")):
            span = Span(dimension="height", location=None, line_color=ORANGE, line_width=2,
                        line_dash="dotted", name=name)
            fig.add_layout(span)
            self.edges.append(span)
        self.cursors = [cursor_span(swing, "osc_cursor_swing"),
                        cursor_span(sharp, "osc_cursor_sharpness")]
        phase = figure(height=490, sizing_mode="stretch_width", min_width=300, tools=TOOLS,
                       title="Self-stabilization: x against y", x_range=Range1d(-1, 1),
                       y_range=Range1d(-1, 1))
        steps = LinearColorMapper(palette=Viridis256, low=0, high=1)
        self.step_map = steps
        phase.scatter("x", "y", source=self.sources["osc_phase"], size=4, line_color=None,
                      fill_color={"field": "step", "transform": steps})
        phase.scatter("x", "y", source=self.cursor_source, size=14, marker="diamond",
                      fill_color="#F0E442", line_color="black", line_width=2)
        phase.xaxis.axis_label = "x = ⟨q₁, θ − θ̄⟩"
        phase.yaxis.axis_label = "y = ∇S⊥·(θ − θ̄)"
        for fig in (swing, sharp, phase):
            _style(fig)
        for fig in (swing, sharp):
            fig.legend.location, fig.legend.label_text_font_size = "top_right", "13px"
            fig.legend.background_fill_alpha, fig.legend.click_policy = 0.7, "hide"
        self.figures = {"swing": swing, "sharpness": sharp, "phase": phase}
        self.caption = pn.pane.HTML(
            "", sizing_mode="stretch_width", margin=(0, 10), styles={"font-size": "14px"})
        self._request()

    def compute(self, an) -> dict:
        o = osc.oscillation(an)
        text, level = osc.words(o, an)
        return {"osc": o, "layers": layers(o), "words": text, "level": level,
                "formula": _formula(an.spec.optimizer)}

    def length(self, data) -> int:
        return len(data["osc"].step)

    def show(self, data) -> None:
        o = data["osc"]
        for name, columns in data["layers"].items():
            self.sources[name].data = columns
        self.words.text = words_html(data["words"], data["level"])
        n = len(o.step)
        self.figures["swing"].x_range.update(start=0, end=max(n - 1, 1))
        self.step_map.high = max(n - 1, 1)
        edge = float(o.edge_step) if o.edge_step is not None else None
        for span in self.edges:
            span.location = edge
        formula = data["formula"]
        for item in self.figures["sharpness"].legend[0].items:
            if item.renderers == [self.threshold_line]:
                item.label = {"value": formula}
        phase = self.figures["phase"]
        notes = []
        for axis, values in (("x", o.x), ("y", o.y)):
            rng = robust_range(values, extra=[0.0])
            getattr(phase, f"{axis}_range").update(start=rng.lo, end=rng.hi, reset_start=rng.lo,
                                                   reset_end=rng.hi)
            if rng.note:
                notes.append(f"{axis} {rng.note.replace('clipped: ', '')}")
        centre = ("GD's central flow" if o.centre == "central flow" else
                  "the two-step mean (so y, the drift off q₁, is nearly 0)")
        self.caption.object = (
            f"Damian et al.'s self-stabilization, θ̄ = {centre}. Colour: step (dark early, "
            "yellow late). x is the swing along q₁; y how much sharper than θ̄ the iterate "
            "sits off q₁ (∇S⊥ = ∇S − ⟨∇S, q₁⟩q₁ at θ̄); the swing feeds back on the "
            "sharpness through the cubic term of the loss."
            + (f" Axes fitted to most of the run (beyond them: {'; '.join(notes)})."
               if notes else ""))

    def show_cursor(self, data, k: int) -> None:
        o = data["osc"]
        loc = float(min(k, len(o.step) - 1)) if k >= 0 else None
        for span in self.cursors:
            span.location = loc
        self.cursor_source.data = cursor_row(o, k)

    def __panel__(self):
        basis = {"flex": f"1 1 {MIN_WIDTH + 20}px", "min-width": "0"}
        curves = pn.Column(*(pn.pane.Bokeh(self.figures[n], sizing_mode="stretch_width",
                                           margin=(0, 10)) for n in ("swing", "sharpness")),
                           sizing_mode="stretch_width", styles={**basis, "flex": "2 1 440px"})
        phase = pn.Column(pn.pane.Bokeh(self.figures["phase"], sizing_mode="stretch_width",
                                        margin=(0, 10)), self.caption,
                          sizing_mode="stretch_width", styles={"flex": "1 1 320px",
                                                               "min-width": "0"})
        return pn.Column(pn.pane.Bokeh(self.words, sizing_mode="stretch_width"),
                         self.controls(),
                         pn.FlexBox(curves, phase, flex_wrap="wrap", align_items="flex-start",
                                    sizing_mode="stretch_width"),
                         ExportBar(self.state, self.NAME), sizing_mode="stretch_width")


def _formula(optimizer: str) -> str:
    from .rules import compact_formula
    return f"threshold {compact_formula(optimizer)}"
