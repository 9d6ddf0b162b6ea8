"""The live Bokeh figures: built once per session; then only their data changes (canvas.py).

One landscape figure serves every model (:func:`configure_landscape` re-labels and re-ranges
it); the loss and sharpness figures share one source per run and one x-range. Every figure
stretches to the width it is given (the layout in views_plots.py decides it); legends sit
outside the data (below the landscape, above each curve). Colours are Okabe–Ito and viridis.

Other views add renderers to these figures through the attributes: ``canvas.figure`` (the
landscape), ``curves.loss_figure`` and ``curves.sharpness_figure``.
"""
from __future__ import annotations

import numpy as np
from bokeh.models import (CDSView, ColorBar, ColumnDataSource, CustomJSTransform, DataRange1d,
                          HoverTool, Label, LegendItem, LinearColorMapper, Node, Range1d, Span)
from bokeh.palettes import Greys256, Oranges256, Viridis256
from bokeh.plotting import figure
from bokeh.transform import transform

from .canvas import Canvas, add_glyph, building, row_filter
from .legends import FONT as LEGEND_FONT, legend, span_stand_in, stand_in

ORANGE, SKY, GREEN, BLUE, VERMILLION, PURPLE = ("#E69F00", "#56B4E9", "#009E73", "#0072B2",
                                                "#D55E00", "#CC79A7")
# the odd steps of a curve: a light tint of its colour, so a 2-cycle reads as two levels
LIGHT = {VERMILLION: "#F2B48A", GREEN: "#86D3BA"}
FONT = {"axis": "16px", "ticks": "14px", "title": "16px", "legend": LEGEND_FONT, "note": "14px"}
LANDSCAPE_HEIGHT = 560
CURVE_HEIGHT = 290
MIN_WIDTH = 420   # below this a plot is too cramped to read: the layout stacks instead
TOOLS = "pan,wheel_zoom,box_zoom,reset,save"
# the central flow (Cohen, Damian et al. 2024): sky blue, dash-dotted, on every plot
CENTRAL_FLOW = dict(color=SKY, line_width=3, line_dash="dashdot")
RAW_SHARPNESS = dict(color=GREEN, line_width=1.5, alpha=0.3)   # beside a preconditioned one


def _style(fig) -> None:
    fig.title.text_font_size = FONT["title"]
    for axis in fig.xaxis + fig.yaxis:
        axis.axis_label_text_font_size = FONT["axis"]
        axis.major_label_text_font_size = FONT["ticks"]
        axis.axis_label_text_font_style = "normal"
    fig.toolbar.logo = None
    fig.min_border_right = 20


def _empty(*names) -> ColumnDataSource:
    return ColumnDataSource({n: np.zeros(0, dtype=np.float32) for n in names})


def _note(fig, name: str) -> Label:
    """A sentence at the frame's top right (e.g. "clipped: max 92.5 at step 3"), hidden."""
    label = Label(x=Node(target="frame", symbol="right", offset=-6),
                  y=Node(target="frame", symbol="top", offset=4), anchor="top_right", text="",
                  text_font_size=FONT["note"], text_color=VERMILLION, name=name,
                  background_fill_color="white", background_fill_alpha=0.85, visible=False)
    fig.add_layout(label)
    return label


# --- the landscape -----------------------------------------------------------------------

def landscape_canvas(height=LANDSCAPE_HEIGHT) -> Canvas:
    """The plane: log-loss image (2-D) or the curve L(x) (1-D), minima, iterates, start, flow.

    One figure serves every model; :func:`configure_landscape` re-labels and re-ranges it,
    so switching the model changes data and ranges, not the layout.
    """
    fig = figure(sizing_mode="stretch_width", height=height, min_width=MIN_WIDTH,
                 x_range=Range1d(0, 1), y_range=Range1d(0, 1), tools=TOOLS, active_scroll=None,
                 title="Landscape — click to set the start")
    src = {n: _empty("x", "y") for n in ("start", "flow", "central_flow", "curve")}
    src["iterates"] = _empty("x", "y", "step")
    src["manifold"] = _empty("x", "y", "sharpness")
    src["manifold"].data["color"] = np.zeros(0, dtype=np.uint32)   # packed RGBA (canvas.rgba)
    src["image"] = ColumnDataSource({"image": [], "x": [], "y": [], "dw": [], "dh": []})
    # rows of "iterates" drawn as dots, and the minima on either side of 2/η
    filters = {name: row_filter() for name in ("markers", "manifold_settles", "manifold_unstable")}
    loss_map = LinearColorMapper(palette=list(Greys256[90:])[::-1])
    fig.image("image", "x", "y", "dw", "dh", source=src["image"], color_mapper=loss_map,
              level="image")
    add_glyph(fig, "line", "x", "y", source=src["curve"], color="#444444", line_width=2)
    sharp_map = LinearColorMapper(palette=Viridis256)
    settles = add_glyph(fig, "scatter", "x", "y", source=src["manifold"], size=9,
                        color="color", view=CDSView(filter=filters["manifold_settles"]))
    unstable = add_glyph(fig, "scatter", "x", "y", source=src["manifold"], size=6, marker="x",
                         line_width=1.5, alpha=0.7, color="color",
                         view=CDSView(filter=filters["manifold_unstable"]))
    flow = add_glyph(fig, "line", "x", "y", source=src["flow"], color=BLUE, line_width=3,
                     line_dash="dashed")
    central = add_glyph(fig, "line", "x", "y", source=src["central_flow"],
                        name="central_flow_line", **CENTRAL_FLOW)
    add_glyph(fig, "line", "x", "y", source=src["iterates"], color="black", line_width=1,
              alpha=0.45)
    step_map = LinearColorMapper(palette=list(Oranges256[:190])[::-1])
    iterates = add_glyph(fig, "scatter", "x", "y", source=src["iterates"], size=6,
                         line_color=None, fill_color={"field": "step", "transform": step_map},
                         view=CDSView(filter=filters["markers"]))
    iterates.name = "iterate_markers"
    start = add_glyph(fig, "scatter", "x", "y", source=src["start"], size=18,
                      marker="circle_cross", fill_color="white", line_color="black",
                      line_width=2)
    start.name = "start_marker"
    iterate_hover = HoverTool(renderers=[iterates], tooltips=[("step", "@step")],
                              name="landscape_hover")
    fig.add_tools(iterate_hover,
                  HoverTool(renderers=[settles, unstable],
                            tooltips=[("minimum, sharpness", "@sharpness{0.00}")]))
    flattest = dict.fromkeys(("fill_color", "line_color", "hatch_color"), Viridis256[0])
    first_step = step_map.palette[0]
    items = [("minima, S ≤ 2/η: GD can settle", stand_in(fig, settles, **flattest)),
             ("minima, S > 2/η: too sharp", stand_in(fig, unstable, **flattest)),
             ("iterates (darker = later)", stand_in(fig, iterates, fill_color=first_step)),
             ("start", stand_in(fig, start)), ("gradient flow", stand_in(fig, flow)),
             ("central flow", stand_in(fig, central))]
    fig.add_layout(ColorBar(color_mapper=sharp_map, title="sharpness of minimum", width=12,
                            title_text_font_size=FONT["ticks"],
                            major_label_text_font_size=FONT["ticks"]), "right")
    entries = legend(fig, items, place="below", ncols=2)
    _style(fig)
    canvas = Canvas([fig], src, {}, {"flow": [entries["gradient flow"]],
                                     "central_flow": [entries["central flow"]]},
                    {"manifold": ("sharpness", sharp_map)}, filters)
    canvas.minima_legends = (entries["minima, S ≤ 2/η: GD can settle"],
                             entries["minima, S > 2/η: too sharp"])   # renamed per rule
    canvas.step_map, canvas.sharp_map, canvas.loss_map = step_map, sharp_map, loss_map
    canvas.manifold_glyphs = (settles.glyph, unstable.glyph)
    canvas.iterate_hover = iterate_hover
    return canvas


def configure_landscape(canvas: Canvas, model, background: dict, window=None,
                        minima_sharpness=None) -> None:
    """Point the landscape at ``model``: axes, background, marker sizes, colours, ``window``.

    ``window`` is the part of the plane in view (default: the model's); ``background`` may
    cover more than it (so a small pan shows landscape, not white). The colour bar spans
    ``minima_sharpness`` (default: the minima in the model's window).
    """
    one_d = len(model.plane) == 1
    if one_d:
        background = {**background, "image": {"image": [], "x": [], "y": [], "dw": [], "dh": []}}
    else:
        image = np.asarray(background["image"]["image"][0], dtype=float)
        canvas.loss_map.update(low=float(np.nanmin(image)), high=float(np.nanmax(image)))
        background = {**background, "curve": {"x": np.zeros(0, np.float32),
                                              "y": np.zeros(0, np.float32)}}
    set_landscape_window(canvas, model, window if window is not None else model.window,
                         background)
    x_name = model.plane[0]
    y_name = "loss L" if one_d else model.plane[1]
    canvas.figure.xaxis.axis_label, canvas.figure.yaxis.axis_label = x_name, y_name
    canvas.iterate_hover.tooltips = [("step", "@step"), (x_name, "@x{0.0000}"),
                                     (y_name, "@y{0.000e}" if one_d else "@y{0.0000}")]
    settles, unstable = canvas.manifold_glyphs
    settles.size, unstable.size = (14, 12) if one_d else (9, 6)
    canvas.push(background)
    if minima_sharpness is None:
        minima_sharpness = np.concatenate([np.asarray(s.sharpness, dtype=float)
                                           for s in model.manifold()] or [np.zeros(1)])
    colour_minima(canvas, minima_sharpness)


def set_landscape_window(canvas: Canvas, model, window, background: dict) -> tuple:
    """Show ``window`` (x range, and y for 2-D; a 1-D model's y fits L(x) there)."""
    (x_lo, x_hi), *rest = window
    if rest:
        y_lo, y_hi = rest[0]
    else:
        xs = np.asarray(background["curve"]["x"], dtype=float)
        ys = np.asarray(background["curve"]["y"], dtype=float)
        ys = ys[np.isfinite(ys) & (xs >= x_lo) & (xs <= x_hi)]
        if not len(ys):
            ys = np.zeros(1)
        pad = 0.05 * (float(ys.max() - ys.min()) or 1.0)
        y_lo, y_hi = float(ys.min()) - pad, float(ys.max()) + pad
    fig = canvas.figure
    fig.x_range.update(start=x_lo, end=x_hi, reset_start=x_lo, reset_end=x_hi)
    fig.y_range.update(start=y_lo, end=y_hi, reset_start=y_lo, reset_end=y_hi)
    return (x_lo, x_hi), (y_lo, y_hi)


def colour_minima(canvas: Canvas, sharpness) -> None:
    """The colour bar spans the sharpness of the minima in view."""
    sharp = np.asarray(sharpness, dtype=float)
    sharp = sharp[np.isfinite(sharp)]
    if len(sharp):
        lo, hi = float(sharp.min()), float(sharp.max())
        canvas.sharp_map.update(low=lo, high=hi if hi > lo else lo + 1.0)


# --- loss and sharpness against the step -------------------------------------------------

def _curve_figure(kind: str, x_range, height: int):
    log = kind == "loss"
    return figure(sizing_mode="stretch_width", height=height, min_width=MIN_WIDTH,
                  y_axis_type="log" if log else "linear", x_range=x_range,
                  y_range=Range1d(1e-3, 1.0) if log else Range1d(0.0, 1.0), tools=TOOLS,
                  active_scroll=None, x_axis_label="step",
                  y_axis_label="loss L" if log else "sharpness S")


# plots.parity_line in the browser: the rows of the other parity are the midpoint of their
# neighbours (geometric on a log axis), so one source serves both lines. Its arguments are
# plain numbers: a transform that refers to the run's source would be rebuilt, glyph views
# and all, with every new run (~20 ms a line).
PARITY_JS = """
const n = xs.length
const out = new Float64Array(n)
for (let i = 0; i < n; i++) {
  if ((i & 1) === parity || n < 2) out[i] = xs[i]
  else if (i === 0) out[i] = xs[1]
  else if (i === n - 1) out[i] = xs[i - 1]
  else out[i] = log ? Math.sqrt(xs[i - 1] * xs[i + 1]) : 0.5 * (xs[i - 1] + xs[i + 1])
}
return out
"""


def _run_lines(fig, kind: str, src, colour):
    """Even steps dark, odd steps light: a 2-cycle is two level lines, not a solid band.

    A BokehJS line breaks at every gap in a filtered view, so each line draws every row,
    the other parity's rows moved onto its own straight segments (``PARITY_JS``).
    """
    lines = {}
    # the odd line first, so where the two coincide (no cycle) the curve is the dark one
    for parity, name, shade in ((1, f"{kind}_odd_line", LIGHT[colour]),
                                (0, f"{kind}_line", colour)):
        y = transform(kind, CustomJSTransform(
            args={"parity": parity, "log": kind == "loss"},
            v_func=PARITY_JS))
        lines[parity] = add_glyph(fig, "line", "t", y, source=src["run"], color=shade,
                                  line_width=2, name=name)
    return lines[0], lines[1]


def curves_canvas(height=CURVE_HEIGHT) -> Canvas:
    """Loss (log y) and sharpness against step/time, sharing one source per run and x-range."""
    src = {"run": _empty("t", "loss", "sharpness"), "threshold_steps": _empty("t", "threshold"),
           "flow_run": _empty("t", "loss", "sharpness"), "run_raw": _empty("t", "sharpness"),
           "central_flow_run": _empty("t", "loss", "sharpness")}
    x_range = DataRange1d(range_padding=0.02)
    spans = {"eos": [], "threshold_line": [], "drop": []}
    labels, notes, entries, hovers, figs, runs = {"drop_label": []}, {}, {}, [], [], {}
    for kind in ("loss", "sharpness"):
        fig = _curve_figure(kind, x_range, height)
        colour = VERMILLION if kind == "loss" else GREEN
        items = []
        if kind == "sharpness":
            staircase = add_glyph(fig, "step", "t", "threshold", source=src["threshold_steps"],
                                  mode="after", color=PURPLE, line_width=3, line_dash="dashed")
            line = Span(dimension="width", line_color=PURPLE, line_width=2, line_dash="dashed",
                        name="threshold_line")
            fig.add_layout(line)
            spans["threshold_line"].append(line)
            items.append(("threshold 2/η", stand_in(fig, staircase)))
            # the raw λ_max(H), faint, under a preconditioned λ_max(P⁻¹H) (empty otherwise)
            raw = add_glyph(fig, "line", "t", "sharpness", source=src["run_raw"],
                            name="raw_sharpness_line", **RAW_SHARPNESS)
        even, odd = _run_lines(fig, kind, src, colour)
        runs[kind] = (even, odd)
        flow = add_glyph(fig, "line", "t", kind, source=src["flow_run"], color=BLUE,
                         line_width=3, line_dash="dashed")
        central = add_glyph(fig, "line", "t", kind, source=src["central_flow_run"],
                            name=f"central_flow_{kind}_line", **CENTRAL_FLOW)
        eos = Span(dimension="height", line_dash="dotted", line_color="black", line_width=2,
                   name=f"eos_{kind}")
        drop = Span(dimension="height", line_dash="dashdot", line_color=PURPLE, line_width=2,
                    name=f"drop_{kind}", location=None)
        drop_label = Label(x=0, y=Node(target="frame", symbol="top", offset=4), text="",
                           anchor="top_left", x_offset=4, text_color=PURPLE, visible=False,
                           text_font_size=FONT["note"], name=f"drop_label_{kind}",
                           background_fill_color="white", background_fill_alpha=0.8)
        for annotation in (eos, drop, drop_label):
            fig.add_layout(annotation)
        spans["eos"].append(eos)
        spans["drop"].append(drop)
        labels["drop_label"].append(drop_label)
        notes[kind] = _note(fig, f"{kind}_note")
        name = "sharpness" if kind == "sharpness" else "GD"
        items += [(f"{name}: even steps", stand_in(fig, even)),
                  ("odd steps", stand_in(fig, odd)),
                  ("S first reaches 2/η", span_stand_in(fig, [eos])),
                  ("gradient flow", stand_in(fig, flow)),
                  ("central flow", stand_in(fig, central))]
        if kind == "sharpness":
            items.append(("raw sharpness λ_max(H)", stand_in(fig, raw)))
        entries[kind] = legend(fig, items, place="above", ncols=3)
        fmt = "{0.000e}" if kind == "loss" else "{0.000}"
        hover = HoverTool(renderers=[even, odd, flow, central], mode="mouse",
                          name=f"{kind}_hover",
                          tooltips=[("step", "$index"), (kind, f"@{kind}{fmt}")])
        fig.add_tools(hover)
        hovers.append(hover)
        _style(fig)
        figs.append(fig)
    flow_items = [entries[k]["gradient flow"] for k in ("loss", "sharpness")]
    central_items = [entries[k]["central flow"] for k in ("loss", "sharpness")]
    canvas = Canvas(figs, src, spans, {"flow_run": flow_items, "central_flow_run": central_items,
                                       "run_raw": [entries["sharpness"]["raw sharpness λ_max(H)"]]},
                    labels=labels)
    canvas.loss_figure, canvas.sharpness_figure = figs
    canvas.run_legend = entries["loss"]["GD: even steps"]   # renamed after the update rule
    # renamed after the rule's threshold and the sharpness it is held through (rules.py)
    canvas.threshold_legend = entries["sharpness"]["threshold 2/η"]
    canvas.sharpness_legend = entries["sharpness"]["sharpness: even steps"]
    canvas.eos_legends = [entries[k]["S first reaches 2/η"] for k in ("loss", "sharpness")]
    canvas.odd_legends = [entries[k]["odd steps"] for k in ("loss", "sharpness")]
    canvas.run_lines = [r for k in ("loss", "sharpness") for r in runs[k]]
    canvas.dots, canvas.dot_legends = [], []   # built on first need: level_dots
    canvas.notes = notes
    canvas.hovers = hovers
    return canvas


def level_dots(canvas: Canvas) -> None:
    """A dot per step on the loss and the sharpness, for a cycle longer than 2 (hidden).

    Built the first time a session shows such a run (``plots.levels_as_dots``), not with
    every page: a renderer on each curve figure, its legend entry after "odd steps".
    """
    if canvas.dots:
        return
    with building(canvas.loss_figure):
        for fig, kind, odd in zip((canvas.loss_figure, canvas.sharpness_figure),
                                  ("loss", "sharpness"), canvas.odd_legends):
            colour = VERMILLION if kind == "loss" else GREEN
            dots = add_glyph(fig, "scatter", "t", kind, source=canvas.sources["run"],
                             color=colour, size=3, line_alpha=0.0, name=f"{kind}_dots")
            dots.visible = False
            item = LegendItem(label="every step", renderers=[stand_in(fig, dots)], visible=False)
            entries = list(fig.legend[0].items)
            at = entries.index(odd) + 1
            fig.legend[0].items = entries[:at] + [item] + entries[at:]
            canvas.dots.append(dots)
            canvas.dot_legends.append(item)


def set_x_label(canvas: Canvas, x_axis: str) -> None:
    label = "time Σ η" if x_axis == "time" else "step"
    for fig in canvas.figures:
        fig.xaxis.axis_label = label
    for hover in canvas.hovers:
        rows = [("step", "$index")] + ([("time Σ η", "@t{0.000}")] if x_axis == "time" else [])
        hover.tooltips = rows + [hover.tooltips[-1]]
