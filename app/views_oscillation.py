"""The oscillation view (``view=oscillation``): the swing along q₁ and what stops it.

Top: x = ⟨q₁, θₖ − θ̄ₖ⟩ and the norm of the rest against the step k; below it, on the same
x-axis, the sharpness at θₖ and at the two-step mean with the threshold 2/η; the step where
S first reaches 2/η marked on both. Beside them Damian et al.'s phase plane (x, y). The
columns come from ``app.oscillation``; this file only draws them.
"""
from __future__ import annotations

import panel as pn

from . import oscillation as osc
from .anatomy_figures import OscillationFigures, oscillation_layers as layers  # noqa: F401
from .figures import MIN_WIDTH
from .views_anatomy import AnatomyView, words_div, words_html
from .views_export import ExportBar


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
        self.figs = OscillationFigures()
        self.sources, self.figures = self.figs.sources, self.figs.figures
        self.cursor_source, self.cursors = self.figs.cursor_source, self.figs.cursors
        self.caption = pn.pane.HTML(
            "", sizing_mode="stretch_width", margin=(0, 10), styles={"font-size": "14px"})
        self._request()

    def compute(self, an) -> dict:
        o = osc.oscillation(an)
        text, level = osc.words(o, an)
        return {"osc": o, "words": text, "level": level, "optimizer": an.spec.optimizer}

    def length(self, data) -> int:
        return len(data["osc"].step)

    def show(self, data) -> None:
        o = data["osc"]
        notes = self.figs.fill(o, data["optimizer"])
        self.words.text = words_html(data["words"], data["level"])
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

