"""The (a, b) view's two Bokeh figures, built once per session (data: ``ab_layers.py``).

Named models (sources ``ab_*``, Spans ``ab_edge`` and ``ab_doubling``, their labels) let the
view and the browser tests find them; the sources are shared: the run's iterates and the
cursor appear in both figures from one source each.
"""
from __future__ import annotations

import numpy as np
from bokeh.models import ColumnDataSource, HoverTool, Label, Node, Range1d, Span
from bokeh.plotting import figure

from . import ab_layers
from . import ab_plane as ab
from .figures import BLUE, FONT, GREEN, MIN_WIDTH, ORANGE, PURPLE, TOOLS, _style
from .replay import MARKER_FILL

HEIGHT = 430
EVEN, ODD = BLUE, ORANGE   # even and odd steps: opposite sides of b = 0 past the edge


def sources() -> dict[str, ColumnDataSource]:
    src = {n: ColumnDataSource({"a": [], "b": [], "step": []}, name=n)
           for n in ("ab_even", "ab_odd", "ab_cursor")}
    src.update({n: ColumnDataSource({"a": [], "b": []}, name=n)
                for n in ("ab_last", "ab_parabola", "ab_ellipse", "ab_bifurcation")})
    return src


def _frame_label(fig, name: str, colour: str) -> Label:
    """A label at the frame's top, beside a vertical line (placed by :func:`place`)."""
    label = Label(x=0, y=Node(target="frame", symbol="top", offset=4), text="", name=name,
                  anchor="top_left", x_offset=4, text_color=colour, text_font_size=FONT["note"],
                  background_fill_color="white", background_fill_alpha=0.8)
    fig.add_layout(label)
    return label


def plane_figure(src: dict):
    """Zhu's (a, b) plane: iterates by parity, the parabola (or ellipse), a = −κ³/8, markers."""
    fig = figure(sizing_mode="stretch_width", height=HEIGHT, min_width=MIN_WIDTH,
                 x_range=Range1d(-1, 1), y_range=Range1d(-1, 1), tools=TOOLS,
                 active_scroll=None, x_axis_label="a", y_axis_label="b",
                 title="The run in Zhu's (a, b) plane", name="ab_plane")
    fig.line("a", "b", source=src["ab_parabola"], color=GREEN, line_width=3,
             legend_label="parabola b² = aκ/2 + κ⁴/16", name="ab_parabola_line")
    fig.line("a", "b", source=src["ab_ellipse"], color=GREEN, line_width=2,
             line_dash="dashed", legend_label="orbit b² + 4a²/κ² = const through θ₀",
             name="ab_ellipse_line")
    edge = Span(dimension="height", line_color=PURPLE, line_width=2, line_dash="dashed",
                name="ab_edge", location=None)
    fig.add_layout(edge)
    _frame_label(fig, "ab_edge_label", PURPLE)
    even = fig.scatter("a", "b", source=src["ab_even"], size=4, color=EVEN,
                       legend_label="even steps", name="ab_even_markers")
    odd = fig.scatter("a", "b", source=src["ab_odd"], size=4, color=ODD,
                      legend_label="odd steps", name="ab_odd_markers")
    fig.scatter("a", "b", source=src["ab_last"], size=16, marker="star", color="black",
                legend_label="last iterate", name="ab_last_marker")
    fig.scatter("a", "b", source=src["ab_cursor"], size=20, marker="diamond",
                fill_color=MARKER_FILL, line_color="black", line_width=2,
                legend_label="replay step k", name="ab_cursor_marker")
    fig.add_tools(HoverTool(renderers=[even, odd], tooltips=[
        ("step", "@step"), ("a", "@a{0.00000}"), ("b", "@b{0.00000}")]))
    _legend(fig, ncols=2)
    return fig


def diagram_figure(src: dict):
    """The bifurcation diagram of the two-step map, the run's iterates on it, a = 1/(8κ)."""
    fig = figure(sizing_mode="stretch_width", height=HEIGHT, min_width=MIN_WIDTH,
                 x_range=Range1d(-1, 1), y_range=Range1d(-1, 1), tools=TOOLS,
                 active_scroll=None, x_axis_label="a", y_axis_label="b",
                 title="Where b settles: b'' = b(1 + 8aκ − 16b²)",
                 name="ab_diagram")
    fig.scatter("a", "b", source=src["ab_even"], size=3, color=EVEN, alpha=0.7,
                legend_label="GD: even steps")
    fig.scatter("a", "b", source=src["ab_odd"], size=3, color=ODD, alpha=0.7,
                legend_label="GD: odd steps")
    # the map on top: where GD's points cover it, its own branches still show
    fig.scatter("a", "b", source=src["ab_bifurcation"], size=2, color="#333333",
                alpha=0.6, legend_label="the map's last 48 values, for each a",
                name="ab_bifurcation_markers")
    fig.scatter("a", "b", source=src["ab_cursor"], size=18, marker="diamond",
                fill_color=MARKER_FILL, line_color="black", line_width=2)
    doubling = Span(dimension="height", line_color="black", line_width=2, line_dash="dotted",
                    name="ab_doubling", location=None)
    fig.add_layout(doubling)
    _frame_label(fig, "ab_doubling_label", "black")
    _legend(fig, ncols=2)
    return fig


def _legend(fig, ncols: int) -> None:
    legend = fig.legend[0]
    legend.update(label_text_font_size=FONT["legend"], ncols=ncols, spacing=10,
                  padding=2, margin=2, border_line_alpha=0.0, click_policy="hide")
    fig.add_layout(legend, "below")
    _style(fig)


def legend_items(*figs) -> dict[str, list]:
    """Legend label -> its items (shown only while their layer has data)."""
    items: dict[str, list] = {}
    for fig in figs:
        for item in fig.legend[0].items:
            items.setdefault(item.label.value, []).append(item)
    return items


def place(label, x: float, a_range, text: str) -> None:
    """``label`` at the top of the vertical line at ``x``, on the side with more room."""
    lo, hi = a_range
    left = (x - lo) > 0.5 * (hi - lo)
    label.update(x=x, text=text, anchor="top_right" if left else "top_left",
                 x_offset=-4 if left else 4)


def fill(src: dict, plane, diagram, path: ab.ABPath) -> None:
    """Draw the run ``path`` into the two figures (the page's and the HTML export's): its
    layers (``ab_layers.plane_layers``), the line a = −κ³/8 (a = 0) and, for degree 4, the
    two-step map's diagram with a = 1/(8κ); each figure's window fitted to what it shows.
    The cursor's source is left as it is."""
    layers = ab_layers.plane_layers(path)
    for name in ("ab_even", "ab_odd", "ab_last", "ab_parabola", "ab_ellipse"):
        src[name].data = {c: np.asarray(v, dtype=float) for c, v in layers[name].items()}
    edge = layers["ab_edge"]
    plane.select_one({"name": "ab_edge"}).location = edge
    window = ab_layers.window([layers["ab_even"], layers["ab_odd"]], [edge], [0.0])
    set_ranges(plane, window)
    place(plane.select_one({"name": "ab_edge_label"}), edge, window[0],
          "a = −κ³/8" if path.degree == 4 else "a = 0 (EoS minimum)")
    if path.degree != 4:
        src["ab_bifurcation"].data = {"a": [], "b": []}
        return
    k = path.kappa
    branches = ab.bifurcation(round(k, 12))
    src["ab_bifurcation"].data = {"a": np.asarray(branches["a"]), "b": np.asarray(branches["b"])}
    a_double = ab.period_doubling_a(k)
    diagram.select_one({"name": "ab_doubling"}).location = a_double
    a_lo, a_hi = ab.bifurcation_range(k)
    window = ab_layers.window([layers["ab_even"], layers["ab_odd"], branches], [a_lo, a_hi],
                              [0.0])
    set_ranges(diagram, window)
    place(diagram.select_one({"name": "ab_doubling_label"}), a_double, window[0],
          f"period doubling\na = 1/(8κ) = {a_double:.3g}")   # two short lines: fits a narrow plot


def set_ranges(fig, window) -> None:
    (a_lo, a_hi), (b_lo, b_hi) = window
    fig.x_range.update(start=a_lo, end=a_hi, reset_start=a_lo, reset_end=a_hi)
    fig.y_range.update(start=b_lo, end=b_hi, reset_start=b_lo, reset_end=b_hi)


def show_legends(items: dict[str, list]) -> None:
    """Each legend entry shown only while its layer has points (``legend_items``)."""
    for entries in items.values():
        shown = len(entries[0].renderers[0].data_source.data.get("a", [])) > 0
        for item in entries:
            if item.visible != shown:
                item.visible = shown
