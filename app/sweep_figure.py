"""The bifurcation diagram's live Bokeh figure: built once per session, then only data changes.

Layers (``sweep_plot.diagram_data``): grey bands where runs diverged, the cloud of runs
without a short period, the points of each cycle, the final value of converged runs, the
threshold curve c/η, and a vertical Span at the sidebar's η. Styled as app/figures.py.
"""
from __future__ import annotations

from bokeh.core.properties import value
from bokeh.models import HoverTool, Range1d, Span
from bokeh.plotting import figure

from . import rules, sweep_plot
from .canvas import Canvas
from .figures import BLUE, MIN_WIDTH, ORANGE, PURPLE, TOOLS, VERMILLION, _empty, _style
from .legends import legend, span_stand_in, stand_in

HEIGHT = 470
DIVERGED_GREY = "#BBBBBB"


def sweep_canvas(height: int = HEIGHT) -> Canvas:
    """The diagram: value against η; the sources are named ``sweep_*`` (tests find them)."""
    fig = figure(sizing_mode="stretch_width", height=height, min_width=MIN_WIDTH,
                 x_range=Range1d(0, 1), y_range=Range1d(0, 1), tools=TOOLS,
                 active_scroll=None, name="sweep_figure",
                 title="Bifurcation diagram — click to set η")
    src = {"sweep_diverged": _empty("left", "right", "bottom", "top"),
           "sweep_cloud": _empty("eta", "value"), "sweep_cycle": _empty("eta", "value", "period"),
           "sweep_converged": _empty("eta", "value"), "sweep_threshold": _empty("eta", "value")}
    bands = fig.quad(left="left", right="right", bottom="bottom", top="top",
                     source=src["sweep_diverged"], fill_color=DIVERGED_GREY, fill_alpha=0.45,
                     line_color=None, level="underlay")
    threshold = fig.line("eta", "value", source=src["sweep_threshold"], color=ORANGE,
                         line_width=3, line_dash="dashed", name="sweep_threshold_line")
    cloud = fig.scatter("eta", "value", source=src["sweep_cloud"], size=2, color=PURPLE,
                        alpha=0.5, line_color=None)
    cycle = fig.scatter("eta", "value", source=src["sweep_cycle"], size=4, color=VERMILLION,
                        line_color=None)
    converged = fig.scatter("eta", "value", source=src["sweep_converged"], size=4, color=BLUE,
                            line_color=None)
    marker = Span(dimension="height", line_color="black", line_width=2, name="sweep_eta_marker")
    fig.add_layout(marker)
    fig.add_tools(HoverTool(renderers=[cycle], tooltips=[("η", "@eta{0.0000}"),
                                                         ("period", "@period"),
                                                         ("value", "@value{0.000}")]),
                  HoverTool(renderers=[converged, cloud],
                            tooltips=[("η", "@eta{0.0000}"), ("value", "@value{0.000}")]))
    items = [("converged: final value", stand_in(fig, converged, size=8)),
             ("cycle: its p points", stand_in(fig, cycle, size=8)),
             ("no short period: last K iterates", stand_in(fig, cloud, size=6, fill_alpha=1.0)),
             ("diverged", stand_in(fig, bands)),
             ("threshold 2/η", stand_in(fig, threshold)),
             ("η now", span_stand_in(fig, [marker]))]
    entries = legend(fig, items, place="above", ncols=3)
    fig.xaxis.axis_label = "step size η"
    fig.yaxis.axis_label = "sharpness S"
    _style(fig)
    canvas = Canvas([fig], src, {"sweep_eta": [marker]},
                    {"sweep_threshold": [entries["threshold 2/η"]],
                     "sweep_diverged": [entries["diverged"]],
                     "sweep_cycle": [entries["cycle: its p points"]],
                     "sweep_cloud": [entries["no short period: last K iterates"]],
                     "sweep_converged": [entries["converged: final value"]]})
    canvas.threshold_legend = entries["threshold 2/η"]
    canvas.marker = marker
    return canvas


def set_ranges(canvas: Canvas, x: tuple, y: tuple) -> None:
    """The diagram's window (only what changed: a moved range would re-render)."""
    fig = canvas.figure
    for rng, (lo, hi) in ((fig.x_range, x), (fig.y_range, y)):
        if (rng.start, rng.end) != (lo, hi):
            rng.update(start=lo, end=hi, reset_start=lo, reset_end=hi)


def set_labels(canvas: Canvas, y_label: str, threshold_label: str) -> None:
    fig = canvas.figure
    if fig.yaxis[0].axis_label != y_label:
        fig.yaxis[0].axis_label = y_label
    if canvas.threshold_legend.label != value(threshold_label):
        canvas.threshold_legend.label = value(threshold_label)


def fill(canvas: Canvas, bif, optimizer, quantity: str) -> None:
    """Draw the Bifurcation ``bif`` of ``optimizer`` (name or rule) showing ``quantity``: its
    layers, the window over its η range and the value range, the axis and threshold labels
    (the page's picture and the HTML export's)."""
    data = sweep_plot.diagram_data(bif, quantity)
    y_range = data.pop("y_range")
    lo, hi = float(bif.etas.min()), float(bif.etas.max())
    pad = 0.01 * (hi - lo)
    canvas.push(data)
    set_ranges(canvas, (lo - pad, hi + pad), y_range)
    set_labels(canvas, sweep_plot.quantity_label(bif.model, optimizer, quantity),
               f"threshold {rules.compact_formula(optimizer)}")
