"""The oscillation and distance views' Bokeh figures, built once; then only their data changes.

:class:`OscillationFigures`: the swing x = ⟨q₁, θₖ − θ̄ₖ⟩ and ‖the rest‖ against step k, over
the sharpness S(θₖ), S at the two-step mean and the threshold on the same x-range (the step
S first reaches it dotted orange on both), beside Damian et al.'s phase plane (x, y),
y = ∇S⊥·(θ − θ̄), coloured by step. :class:`DistanceFigure`: ‖θₖ − θ_F(tₖ)‖ for gradient flow
and the central flow against t = Σ η on a log axis, the two-step averages dotted.
``fill(…)`` draws an :class:`~app.oscillation.Oscillation` (a :class:`~app.distance.Distance`);
the views (views_oscillation.py, views_distance.py) and the HTML export both use them.
"""
from __future__ import annotations

import numpy as np
from bokeh.models import ColumnDataSource, HoverTool, LinearColorMapper, Range1d, Span
from bokeh.palettes import Viridis256
from bokeh.plotting import figure

from . import distance as dist
from . import oscillation as osc
from .fit import robust_range
from .figures import (BLUE, CENTRAL_FLOW, GREEN, MIN_WIDTH, ORANGE, SKY, TOOLS, VERMILLION,
                      _style)
from .rules import compact_formula

CURSOR_COLOUR = "#333333"


def cursor_span(fig, name: str) -> Span:
    span = Span(dimension="height", location=None, line_color=CURSOR_COLOUR, line_width=2,
                line_alpha=0.6, name=name)
    fig.add_layout(span)
    return span


def oscillation_layers(o: osc.Oscillation) -> dict:
    """The sources' columns for one :class:`~app.oscillation.Oscillation`."""
    return {"osc_swing": {"step": o.step, "x": o.x, "rest": o.rest},
            "osc_sharpness": {"step": o.step, "sharpness": o.sharpness,
                              "mean_sharpness": o.mean_sharpness, "threshold": o.threshold},
            "osc_phase": {"x": o.x, "y": o.y, "step": o.step}}


def distance_layers(d: dist.Distance) -> dict:
    """The sources' columns (0 and below as NaN: a log axis cannot draw them)."""
    return {"dist_steps": {"t": d.time, "gf": dist.log_column(d.gf),
                           "cf": dist.log_column(d.cf)},
            "dist_means": {"t": d.mid_time, "gf": dist.log_column(d.mean_gf),
                           "cf": dist.log_column(d.mean_cf)}}


def _legend_style(fig, ncols: int) -> None:
    """The figure's legend above its frame, off the curves, in ``ncols`` columns."""
    legend = fig.legend[0]
    fig.center.remove(legend)
    fig.add_layout(legend, "above")
    legend.ncols, legend.label_text_font_size, legend.click_policy = ncols, "14px", "hide"
    legend.border_line_alpha, legend.padding, legend.margin, legend.spacing = 0.0, 2, 2, 12


class OscillationFigures:
    """``figures["swing"]``, ``["sharpness"]`` (sharing x) and ``["phase"]``, named sources."""

    def __init__(self):
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
                       x_range=Range1d(0, 1), name="osc_swing_figure")
        src = self.sources["osc_swing"]
        swung = swing.line("step", "x", source=src, color=VERMILLION, line_width=1.5,
                           legend_label="x = ⟨q₁, θₖ − θ̄ₖ⟩")
        swing.add_tools(HoverTool(renderers=[swung], mode="vline", tooltips=[
            ("step", "@step"), ("x", "@x{0.00000}"), ("‖rest‖", "@rest{0.00000}")]))
        swing.scatter("step", "x", source=src, color=VERMILLION, size=3)
        swing.line("step", "rest", source=src, color=BLUE, line_width=2, line_dash="dashed",
                   legend_label="‖rest of θₖ − θ̄ₖ‖ (⊥ q₁)")
        swing.yaxis.axis_label = "displacement from θ̄"
        sharp = figure(height=230, sizing_mode="stretch_width", min_width=MIN_WIDTH,
                       tools=TOOLS, title="Sharpness S and the threshold 2/η",
                       x_range=swing.x_range, name="osc_sharpness_figure")
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
                       y_range=Range1d(-1, 1), name="osc_phase_figure")
        self.step_map = LinearColorMapper(palette=Viridis256, low=0, high=1)
        points = phase.scatter("x", "y", source=self.sources["osc_phase"], size=4,
                               line_color=None,
                               fill_color={"field": "step", "transform": self.step_map})
        phase.add_tools(HoverTool(renderers=[points], tooltips=[
            ("step", "@step"), ("x", "@x{0.00000}"), ("y", "@y{0.00000}")]))
        phase.scatter("x", "y", source=self.cursor_source, size=14, marker="diamond",
                      fill_color="#F0E442", line_color="black", line_width=2)
        phase.xaxis.axis_label = "x = ⟨q₁, θ − θ̄⟩"
        phase.yaxis.axis_label = "y = ∇S⊥·(θ − θ̄)"
        for fig in (swing, sharp, phase):
            _style(fig)
        for fig in (swing, sharp):
            _legend_style(fig, 3)
        self.figures = {"swing": swing, "sharpness": sharp, "phase": phase}

    def fill(self, o: osc.Oscillation, optimizer: str) -> list[str]:
        """Draw ``o`` (a run of ``optimizer``); returns the phase plane's clipping notes
        ("x max 3.1 at step 2"), one per axis fitted to most of the run, not all of it."""
        for name, columns in oscillation_layers(o).items():
            self.sources[name].data = columns
        n = len(o.step)
        self.figures["swing"].x_range.update(start=0, end=max(n - 1, 1))
        self.step_map.high = max(n - 1, 1)
        edge = float(o.edge_step) if o.edge_step is not None else None
        for span in self.edges:
            span.location = edge
        formula = f"threshold {compact_formula(optimizer)}"
        for item in self.figures["sharpness"].legend[0].items:
            if item.renderers == [self.threshold_line]:
                item.label = {"value": formula}
        phase = self.figures["phase"]
        notes = []
        for axis, values in (("x", o.x), ("y", o.y)):
            rng = robust_range(values, extra=[0.0])
            getattr(phase, f"{axis}_range").update(start=rng.lo, end=rng.hi,
                                                   reset_start=rng.lo, reset_end=rng.hi)
            if rng.note:
                notes.append(f"{axis} {rng.note.replace('clipped: ', '')}")
        return notes


class DistanceFigure:
    """``figure`` (log y) with the sources ``dist_steps`` and ``dist_means``."""

    def __init__(self):
        self.sources = {n: ColumnDataSource({c: np.zeros(0) for c in ("t", "gf", "cf")},
                                            name=n) for n in ("dist_steps", "dist_means")}
        fig = figure(height=470, sizing_mode="stretch_width", min_width=MIN_WIDTH, tools=TOOLS,
                     y_axis_type="log", title="Distance of the run from the two flows",
                     name="dist_figure")
        steps, means = self.sources["dist_steps"], self.sources["dist_means"]
        gf = fig.line("t", "gf", source=steps, color=BLUE, line_width=2.5,
                      legend_label="‖θ − θ_GF(t)‖ gradient flow")
        fig.add_tools(HoverTool(renderers=[gf], mode="vline", tooltips=[
            ("t", "@t{0.000}"), ("‖θ − θ_GF‖", "@gf{0.000e}"), ("‖θ − θ_CF‖", "@cf{0.000e}")]))
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
        _legend_style(fig, 2)
        self.figure = fig

    def fill(self, d: dist.Distance) -> None:
        for name, columns in distance_layers(d).items():
            self.sources[name].data = columns
        self.edge.location = d.edge_time if d.edge_step is not None else None
