"""The distance view (``view=distance``): how far the run is from gradient flow and from the
central flow, against time t = Σ η, on a log axis; the time S first reaches 2/η marked.

Solid lines: ‖θ_k − θ_F(t_k)‖; dotted: the same for the two-step average ½(θ_k + θ_{k+1})
(the central flow tracks the time-average). Columns from ``app.distance``.
"""
from __future__ import annotations

import panel as pn

from . import distance as dist
from .anatomy_figures import DistanceFigure, distance_layers as layers  # noqa: F401
from .views_anatomy import AnatomyView, words_div, words_html
from .views_export import ExportBar


class DistanceView(AnatomyView):
    NAME = "distance"

    def __init__(self, state, **params):
        super().__init__(state, **params)
        self.words = words_div("dist_words")
        self.figs = DistanceFigure()
        self.sources, self.figure = self.figs.sources, self.figs.figure
        self.edge, self.cursor = self.figs.edge, self.figs.cursor
        self.caption = pn.pane.HTML(
            "Orange dotted line: the time S first reaches 2/η. Below 2/η GD follows gradient "
            "flow; past it GD swings about a path of its own, which the central flow "
            "(Cohen, Damian et al. 2024) follows.", sizing_mode="stretch_width",
            margin=(0, 10), styles={"font-size": "14px"})
        self._request()

    def compute(self, an) -> dict:
        d = dist.distance(an)
        text, level = dist.words(d, an)
        return {"dist": d, "words": text, "level": level}

    def length(self, data) -> int:
        return len(data["dist"].time)

    def show(self, data) -> None:
        self.figs.fill(data["dist"])
        self.words.text = words_html(data["words"], data["level"])

    def show_cursor(self, data, k: int) -> None:
        t = data["dist"].time
        self.cursor.location = float(t[min(k, len(t) - 1)]) if k >= 0 and len(t) else None

    def __panel__(self):
        return pn.Column(pn.pane.Bokeh(self.words, sizing_mode="stretch_width"),
                         self.controls(),
                         pn.pane.Bokeh(self.figure, sizing_mode="stretch_width", margin=(0, 10)),
                         self.caption, ExportBar(self.state, self.NAME),
                         sizing_mode="stretch_width")
