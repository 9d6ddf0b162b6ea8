"""The distance view (``view=distance``): how far the run is from gradient flow and from the
central flow, against time t = Σ η, on a log axis; the time S first reaches 2/η marked.

Solid lines: ‖θ_k − θ_F(t_k)‖; dotted: the same for the two-step average ½(θ_k + θ_{k+1})
(the central flow tracks the time-average). Columns from ``app.distance``.
"""
from __future__ import annotations

import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource, Span
from bokeh.plotting import figure

from . import distance as dist
from .figures import BLUE, CENTRAL_FLOW, MIN_WIDTH, ORANGE, SKY, TOOLS, _style
from .views_anatomy import AnatomyView, cursor_span, words_div, words_html
from .views_export import ExportBar


def layers(d: dist.Distance) -> dict:
    """The sources' columns (0 and below as NaN: a log axis cannot draw them)."""
    return {"dist_steps": {"t": d.time, "gf": dist.log_column(d.gf),
                           "cf": dist.log_column(d.cf)},
            "dist_means": {"t": d.mid_time, "gf": dist.log_column(d.mean_gf),
                           "cf": dist.log_column(d.mean_cf)}}


class DistanceView(AnatomyView):
    NAME = "distance"

    def __init__(self, state, **params):
        super().__init__(state, **params)
        self.words = words_div("dist_words")
        self.sources = {n: ColumnDataSource({c: np.zeros(0) for c in ("t", "gf", "cf")},
                                            name=n) for n in ("dist_steps", "dist_means")}
        fig = figure(height=470, sizing_mode="stretch_width", min_width=MIN_WIDTH, tools=TOOLS,
                     y_axis_type="log", title="Distance of the run from the two flows")
        steps, means = self.sources["dist_steps"], self.sources["dist_means"]
        fig.line("t", "gf", source=steps, color=BLUE, line_width=2.5,
                 legend_label="‖θ − θ_GF(t)‖ gradient flow")
        fig.line("t", "cf", source=steps, color=SKY, line_width=2.5,
                 legend_label="‖θ − θ_CF(t)‖ central flow")
        fig.line("t", "gf", source=means, color=BLUE, line_width=2, line_dash="dotted",
                 legend_label="two-step average, from gradient flow")
        fig.line("t", "cf", source=means, color=CENTRAL_FLOW["color"], line_width=2,
                 line_dash="dotted", legend_label="two-step average, from the central flow")
        fig.xaxis.axis_label, fig.yaxis.axis_label = "time t = Σ η", "distance ‖·‖"
        self.edge = Span(dimension="height", location=None, line_color=ORANGE, line_width=2,
                         line_dash="dotted", name="dist_edge")
        fig.add_layout(self.edge)
        self.cursor = cursor_span(fig, "dist_cursor")
        _style(fig)
        fig.legend.location, fig.legend.label_text_font_size = "center_right", "13px"
        fig.legend.background_fill_alpha, fig.legend.click_policy = 0.7, "hide"
        self.figure = fig
        self.caption = pn.pane.HTML(
            "Orange dotted line: the time S first reaches 2/η. Below 2/η GD follows gradient "
            "flow; past it GD swings about a path of its own, which the central flow "
            "(Cohen, Damian et al. 2024) follows.", sizing_mode="stretch_width",
            margin=(0, 10), styles={"font-size": "14px"})
        self._request()

    def compute(self, an) -> dict:
        d = dist.distance(an)
        text, level = dist.words(d, an)
        return {"dist": d, "layers": layers(d), "words": text, "level": level}

    def length(self, data) -> int:
        return len(data["dist"].time)

    def show(self, data) -> None:
        d = data["dist"]
        for name, columns in data["layers"].items():
            self.sources[name].data = columns
        self.words.text = words_html(data["words"], data["level"])
        self.edge.location = d.edge_time if d.edge_step is not None else None

    def show_cursor(self, data, k: int) -> None:
        t = data["dist"].time
        self.cursor.location = float(t[min(k, len(t) - 1)]) if k >= 0 and len(t) else None

    def __panel__(self):
        return pn.Column(pn.pane.Bokeh(self.words, sizing_mode="stretch_width"),
                         self.controls(),
                         pn.pane.Bokeh(self.figure, sizing_mode="stretch_width", margin=(0, 10)),
                         self.caption, ExportBar(self.state, self.NAME),
                         sizing_mode="stretch_width")
