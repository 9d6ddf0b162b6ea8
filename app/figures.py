"""The live Bokeh figures: built once per session; then only their data changes (canvas.py).

One landscape figure serves every model (:func:`configure_landscape` re-labels and re-ranges
it); the loss and sharpness figures share one source per run. Colours are Okabe–Ito and
viridis.
"""
from __future__ import annotations

import numpy as np
from bokeh.models import (CDSView, ColorBar, ColumnDataSource, DataRange1d, GlyphRenderer, Legend,
                          LegendItem, LinearColorMapper, Range1d, Span)
from bokeh.palettes import Greys256, Oranges256, Viridis256
from bokeh.plotting import figure

from .canvas import Canvas, row_filter

ORANGE, SKY, GREEN, BLUE, VERMILLION, PURPLE = ("#E69F00", "#56B4E9", "#009E73", "#0072B2",
                                                "#D55E00", "#CC79A7")
FONT = {"axis": "16px", "ticks": "14px", "title": "16px", "legend": "14px"}


def _style(fig) -> None:
    fig.title.text_font_size = FONT["title"]
    for axis in fig.xaxis + fig.yaxis:
        axis.axis_label_text_font_size = FONT["axis"]
        axis.major_label_text_font_size = FONT["ticks"]
        axis.axis_label_text_font_style = "normal"
    fig.toolbar.logo = None
    fig.min_border_right = 20


def _stand_in(fig, real: GlyphRenderer, **fixed) -> GlyphRenderer:
    """What the legend draws for ``real``: its glyph (``fixed`` overriding colours) at NaN.

    BokehJS 3.9 rebuilds a legend, canvases and all, whenever any model it refers to changes,
    data sources included (~14 ms of every η step for the three legends); a stand-in refers
    to nothing a run changes. Its one row is NaN (a legend skips a glyph without rows; the plot
    draws no NaN). A click on its entry hides ``real`` too (mirrored by the server).
    """
    source = ColumnDataSource({name: [np.nan] for name in real.data_source.data})
    proxy = GlyphRenderer(data_source=source, glyph=real.glyph.clone(**fixed))
    fig.renderers.append(proxy)
    proxy.on_change("visible", lambda attr, old, new: setattr(real, "visible", new))
    return proxy


def _legend(fig, items, place: str = "center") -> dict[str, LegendItem]:
    """A legend of (label, renderer, colours for its stand-in) entries."""
    entries = {label: LegendItem(label=label, renderers=[_stand_in(fig, r, **fixed)])
               for label, r, fixed in items}
    legend = Legend(items=list(entries.values()),
                    label_text_font_size=FONT["legend"], background_fill_alpha=0.8,
                    click_policy="hide", spacing=0, padding=4, margin=4,
                    ncols=2 if place == "below" else 1, border_line_alpha=0.3)
    fig.add_layout(legend, place)
    return entries

def _empty(*names) -> ColumnDataSource:
    return ColumnDataSource({n: np.zeros(0, dtype=np.float32) for n in names})


def landscape_canvas(width=490, height=540) -> Canvas:
    """The plane: log-loss image (2-D) or the curve L(x) (1-D), minima, iterates, start, flow.

    One figure serves every model; :func:`configure_landscape` re-labels and re-ranges it,
    so switching the model changes data and ranges, not the layout.
    """
    fig = figure(width=width, height=height, x_range=Range1d(0, 1), y_range=Range1d(0, 1),
                 tools="pan,wheel_zoom,box_zoom,reset,save", active_scroll=None,
                 title="Landscape — click to set the start")
    src = {n: _empty("x", "y") for n in ("start", "flow", "curve")}
    src["iterates"] = _empty("x", "y", "step")
    src["manifold"] = _empty("x", "y", "sharpness", "color")
    src["image"] = ColumnDataSource({"image": [], "x": [], "y": [], "dw": [], "dh": []})
    # rows of "iterates" drawn as dots, and the minima on either side of 2/η
    filters = {name: row_filter() for name in ("markers", "manifold_settles", "manifold_unstable")}
    loss_map = LinearColorMapper(palette=list(Greys256[90:])[::-1])
    fig.image("image", "x", "y", "dw", "dh", source=src["image"], color_mapper=loss_map,
              level="image")
    fig.line("x", "y", source=src["curve"], color="#444444", line_width=2)
    sharp_map = LinearColorMapper(palette=Viridis256)
    settles = fig.scatter("x", "y", source=src["manifold"], size=9, color="color",
                          view=CDSView(filter=filters["manifold_settles"]))
    unstable = fig.scatter("x", "y", source=src["manifold"], size=6, marker="x",
                           line_width=1.5, alpha=0.7, color="color",
                           view=CDSView(filter=filters["manifold_unstable"]))
    flow = fig.line("x", "y", source=src["flow"], color=BLUE, line_width=3, line_dash="dashed")
    fig.line("x", "y", source=src["iterates"], color="black", line_width=1, alpha=0.45)
    step_map = LinearColorMapper(palette=list(Oranges256[:190])[::-1])
    iterates = fig.scatter("x", "y", source=src["iterates"], size=6, line_color=None,
                           fill_color={"field": "step", "transform": step_map},
                           view=CDSView(filter=filters["markers"]))
    start = fig.scatter("x", "y", source=src["start"], size=18, marker="circle_cross",
                        fill_color="white", line_color="black", line_width=2)
    start.name = "start_marker"
    flattest = dict.fromkeys(("fill_color", "line_color", "hatch_color"), Viridis256[0])
    first_step = step_map.palette[0]
    items = [("minima, S ≤ 2/η: GD can settle", settles, flattest),
             ("minima, S > 2/η: too sharp", unstable, flattest),
             ("iterates (darker = later)", iterates, dict(fill_color=first_step)),
             ("start", start, {}), ("gradient flow", flow, {})]
    fig.add_layout(ColorBar(color_mapper=sharp_map, title="sharpness of minimum", width=12,
                            title_text_font_size=FONT["ticks"],
                            major_label_text_font_size=FONT["ticks"]), "right")
    entries = _legend(fig, items, place="below")
    _style(fig)
    canvas = Canvas([fig], src, {}, {"flow": [entries["gradient flow"]]},
                    {"manifold": ("sharpness", sharp_map)}, filters)
    canvas.step_map, canvas.sharp_map, canvas.loss_map = step_map, sharp_map, loss_map
    canvas.manifold_glyphs = (settles.glyph, unstable.glyph)
    return canvas


def configure_landscape(canvas: Canvas, model, background: dict) -> None:
    """Point the landscape at ``model``: axes, ranges, background, marker sizes, colours."""
    fig = canvas.figure
    one_d = len(model.plane) == 1
    (x_lo, x_hi), *rest = model.window
    if one_d:
        ys = np.asarray(background["curve"]["y"], dtype=float)
        ys = ys[np.isfinite(ys)]
        pad = 0.05 * (float(ys.max() - ys.min()) or 1.0)
        y_lo, y_hi = float(ys.min()) - pad, float(ys.max()) + pad
        background = {**background, "image": {"image": [], "x": [], "y": [], "dw": [], "dh": []}}
    else:
        y_lo, y_hi = rest[0]
        image = np.asarray(background["image"]["image"][0], dtype=float)
        canvas.loss_map.update(low=float(np.nanmin(image)), high=float(np.nanmax(image)))
        background = {**background, "curve": {"x": np.zeros(0, np.float32),
                                              "y": np.zeros(0, np.float32)}}
    fig.x_range.update(start=x_lo, end=x_hi, reset_start=x_lo, reset_end=x_hi)
    fig.y_range.update(start=y_lo, end=y_hi, reset_start=y_lo, reset_end=y_hi)
    fig.xaxis.axis_label = model.plane[0]
    fig.yaxis.axis_label = "loss L" if one_d else model.plane[1]
    settles, unstable = canvas.manifold_glyphs
    settles.size, unstable.size = (14, 12) if one_d else (9, 6)
    canvas.push(background)
    sharp = np.concatenate([np.asarray(s.sharpness, dtype=float) for s in model.manifold()]
                           or [np.zeros(1)])
    sharp = sharp[np.isfinite(sharp)]
    if len(sharp):
        lo, hi = float(sharp.min()), float(sharp.max())
        canvas.sharp_map.update(low=lo, high=hi if hi > lo else lo + 1.0)


def curves_canvas(width=470, height=270) -> Canvas:
    """Loss (log y) and sharpness against step/time, sharing one source per run."""
    src = {"run": _empty("t", "loss", "sharpness"), "threshold_steps": _empty("t", "threshold"),
           "flow_run": _empty("t", "loss", "sharpness")}
    figs, entries, spans = [], {}, {"eos": [], "threshold_line": []}
    for kind in ("loss", "sharpness"):
        log = kind == "loss"
        fig = figure(width=width, height=height, y_axis_type="log" if log else "linear",
                     x_range=DataRange1d(range_padding=0.02), y_range=DataRange1d(),
                     tools="pan,wheel_zoom,box_zoom,reset,save", active_scroll=None,
                     x_axis_label="step", y_axis_label="loss L" if log else "sharpness S",
                     title="Loss" if log else "Sharpness and the stability threshold 2/η")
        items = []
        if not log:
            items.append(("2/η", fig.step("t", "threshold", source=src["threshold_steps"],
                                          mode="after", color=PURPLE, line_width=3,
                                          line_dash="dashed"), {}))
            line = Span(dimension="width", line_color=PURPLE, line_width=2, line_dash="dashed",
                        name="threshold_line")
            fig.add_layout(line)
            spans["threshold_line"].append(line)
        items.append(("GD" if log else "sharpness",
                      fig.line("t", kind, source=src["run"], color=VERMILLION if log else GREEN,
                               line_width=2, name=f"{kind}_line"), {}))
        items.append(("gradient flow", fig.line("t", kind, source=src["flow_run"], color=BLUE,
                                                line_width=3, line_dash="dashed"), {}))
        eos = Span(dimension="height", line_dash="dotted", line_color="black", line_width=2,
                   name=f"eos_{kind}")
        fig.add_layout(eos)
        spans["eos"].append(eos)
        entries[kind] = _legend(fig, items)
        fig.legend.location = "top_right" if log else "bottom_right"
        _style(fig)
        figs.append(fig)
    flow_items = [entries[k]["gradient flow"] for k in ("loss", "sharpness")]
    canvas = Canvas(figs, src, spans, {"flow_run": flow_items})
    canvas.run_legend = entries["loss"]["GD"]   # renamed after the chosen update rule
    return canvas


def set_x_label(canvas: Canvas, x_axis: str) -> None:
    for fig in canvas.figures:
        fig.xaxis.axis_label = "time Σ η" if x_axis == "time" else "step"
