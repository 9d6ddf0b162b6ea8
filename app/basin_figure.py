"""The basin map's Bokeh figures, built once per view; then only their data changes.

The 2-D map is one ``image_rgba`` (painted on the server by ``basin.paint``) under the
current start's marker, with a colour bar whose mapper only labels the colours. A 1-D
model (one parameter) gets a strip instead: the final value against the start x₀.
"""
from __future__ import annotations

import numpy as np
from bokeh.models import (ColorBar, ColumnDataSource, HoverTool, Label, LinearColorMapper,
                          Range1d, Span)
from bokeh.palettes import Viridis256
from bokeh.plotting import figure

import dynamics

from . import basin
from .figures import _style

MAP_SIZE = 600       # px: the map's frame is square-ish and fits a 1024×768 window
PROGRESS = dict(x=8, y=8, x_units="screen", y_units="screen", anchor="bottom_left",
                text_font_size="15px", background_fill_color="white",
                background_fill_alpha=0.9, border_line_color="#555555", padding=6)
TOOLS = "box_zoom,wheel_zoom,pan,reset,save"
BAR_TITLE = {"sharpness": "S", "loss": "log₁₀ L", "settled": "step"}   # the colour bar's


class BasinFigures:
    """The map (2-D) and the strip (1-D) with their sources, named for the browser tests."""

    def __init__(self):
        self.mapper = LinearColorMapper(palette=Viridis256, low=0, high=1)
        self.image = ColumnDataSource({"image": [], "value": [], "x": [], "y": [], "dw": [],
                                       "dh": []}, name="basin_image")
        self.start = ColumnDataSource({"x": [], "y": []}, name="basin_start")
        fig = figure(name="basin_map", width=MAP_SIZE, height=MAP_SIZE - 60,
                     x_range=Range1d(0, 1), y_range=Range1d(0, 1), tools=TOOLS,
                     active_scroll="wheel_zoom", active_drag="box_zoom",
                     title="final sharpness S", x_axis_label="start x₀",
                     y_axis_label="start y₀")
        cells = fig.image_rgba("image", "x", "y", "dw", "dh", source=self.image, level="image")
        fig.add_tools(HoverTool(renderers=[cells], tooltips=[
            ("start", "($x{0.000}, $y{0.000})"), ("value", "@value{0.0000}")]))
        fig.scatter("x", "y", source=self.start, size=18, marker="circle_cross",
                    fill_color="white", line_color="black", line_width=2, name="basin_marker")
        self.progress = Label(text="", visible=False, name="basin_progress", **PROGRESS)
        fig.add_layout(self.progress)
        self.bar = ColorBar(color_mapper=self.mapper, title="", width=14,
                            title_text_font_size="14px", major_label_text_font_size="14px")
        fig.add_layout(self.bar, "right")
        _style(fig)
        self.map = fig

        self.points = ColumnDataSource({"x": [], "y": [], "value": [], "color": []},
                                       name="basin_points")
        strip = figure(name="basin_strip", width=MAP_SIZE, height=380,
                       x_range=Range1d(0, 1), y_range=Range1d(0, 1), tools=TOOLS,
                       active_scroll="wheel_zoom", active_drag="box_zoom",
                       title="final sharpness S", x_axis_label="start x₀",
                       y_axis_label="final sharpness S")
        dots = strip.scatter("x", "y", source=self.points, size=6, color="color")
        strip.add_tools(HoverTool(renderers=[dots], tooltips=[
            ("start x₀", "@x{0.0000}"), ("value", "@value{0.0000}")]))
        self.threshold = Span(location=np.nan, dimension="width", line_color="black",
                              line_dash="dashed", line_width=1.5, name="basin_threshold")
        self.start_line = Span(location=np.nan, dimension="height", line_color="black",
                               line_width=2, name="basin_start_line")
        strip.add_layout(self.threshold)
        strip.add_layout(self.start_line)
        self.strip_progress = Label(text="", visible=False, name="basin_strip_progress",
                                    **PROGRESS)
        strip.add_layout(self.strip_progress)
        _style(strip)
        strip.visible = False
        self.strip = strip


def paint(figs: BasinFigures, spec: basin.BasinSpec, result: dict, colour: str) -> None:
    """Fill ``figs`` with the map ``result`` of ``spec`` coloured by ``colour`` (the page's
    picture and the HTML export's): viridis over ``basin.colour_range``, diverged cells grey,
    edge cells (T − BAND < S < T) vermillion; a 1-D model's strip with its threshold line."""
    t = basin.threshold(spec)
    edge = basin.edge_mask(result, t)
    values = basin.colour_values(result, colour)
    low, high = basin.colour_range(values, colour, spec.steps)
    set_if_changed(figs.mapper, low=low, high=high)
    set_if_changed(figs.bar, title=BAR_TITLE[colour])
    rule = dynamics.OPTIMIZERS[spec.optimizer].title
    heading = f"{basin.COLOURS[colour]}: {rule}, η = {spec.eta:g}, ≤ {spec.steps:,} steps"
    (xl, xh), *rest = spec.window
    if rest:
        (yl, yh), = rest
        dx, dy = (xh - xl) / max(spec.res - 1, 1), (yh - yl) / max(spec.res - 1, 1)
        packed = basin.paint(values, edge, low, high, Viridis256)
        figs.image.data = {"image": [basin.image_bytes(packed)],
                           "value": [values.astype(np.float32)],
                           "x": [xl - dx / 2], "y": [yl - dy / 2],
                           "dw": [xh - xl + dx], "dh": [yh - yl + dy]}
        set_if_changed(figs.map.title, text=heading)
    else:
        xs = basin.axis(xl, xh, spec.res)
        row = values[0]
        bottom = low if np.isfinite(low) else 0.0
        colours = basin.paint(row, edge[0], low, high, Viridis256)
        figs.points.data = {"x": xs, "y": np.where(np.isfinite(row), row, bottom),
                            "value": row.astype(np.float32),
                            "color": ["#%06x" % (int(c) >> 8) for c in colours]}
        set_if_changed(figs.strip.title, text=heading)
        set_if_changed(figs.strip.yaxis[0], axis_label=basin.COLOURS[colour])
        pad = 0.05 * (high - low)
        set_if_changed(figs.strip.y_range, start=low - pad, end=high + pad)
        figs.threshold.location = t if (t is not None and colour == "sharpness") else np.nan


def set_if_changed(model, **values) -> None:
    """Assign only what differs (every assignment is a message to the browser)."""
    changed = {k: v for k, v in values.items() if getattr(model, k) != v}
    if changed:
        model.update(**changed)
