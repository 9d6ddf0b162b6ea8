"""Legends that never make the browser redraw them: each entry draws a stand-in at NaN.

BokehJS 3.9 rebuilds a legend, canvases and all, whenever any model it refers to changes,
data sources included (~14 ms of every η step for the three legends of the trajectory view).
So an entry refers not to the renderer it names but to a stand-in: the same glyph, drawn
from one NaN row that no run changes (a legend skips a glyph without rows; the plot draws no
NaN). A click on the entry hides the real renderers too (mirrored by the server).
"""
from __future__ import annotations

import numpy as np
from bokeh.core.property.dataspec import NumberSpec
from bokeh.models import CDSView, ColumnDataSource, GlyphRenderer, Legend, LegendItem, Span
from bokeh.models.glyphs import Line

from .canvas import all_rows, shared

FONT = "14px"   # the legends' labels (figures.FONT["legend"])

_NAN_COLUMNS = ("x", "y", "t", "loss", "sharpness", "threshold", "step", "color")


def _nan_source(fig) -> ColumnDataSource:
    """The figure's one source of stand-ins: one NaN row in every column a glyph here reads."""
    return shared(fig, "nan", lambda: ColumnDataSource({n: [np.nan] for n in _NAN_COLUMNS}))


def _nan_view(fig, glyph) -> CDSView:
    """The view of the figure's stand-ins of ``glyph``'s kind (one source: the same rows).

    One view per kind, not one for all: each repaint, BokehJS sets a view's ``masked`` rows
    to what its glyph would draw, which for the NaN row is none for a marker and all for a
    line. A view shared across kinds flipped at every repaint, and each flip rebuilt the
    legend, canvases and all, as a change of a model it refers to (twice per η step).
    """
    return shared(fig, f"nan_view_{type(glyph).__name__}", lambda: all_rows(fig))


def _read_columns(glyph) -> set[str]:
    """The columns a glyph reads: its numeric specs given by a name (colours are values here)."""
    names = set()
    for name in glyph.dataspecs():
        spec = getattr(glyph, name)
        spec = getattr(spec, "field", spec)   # a clone holds Field(...), a new glyph the name
        if isinstance(glyph.lookup(name).property, NumberSpec) and isinstance(spec, str):
            names.add(spec)
    return names


def stand_in(fig, real, **fixed) -> GlyphRenderer:
    """What the legend draws for ``real`` (a renderer, or a list of them): its glyph at NaN.

    BokehJS 3.9 rebuilds a legend, canvases and all, whenever any model it refers to changes,
    data sources included (~14 ms of every η step for the three legends); a stand-in refers
    to nothing a run changes. Its one row is NaN (a legend skips a glyph without rows; the plot
    draws no NaN), in a source all the figure's stand-ins share. A click on its entry hides
    every ``real`` too (mirrored by the server).
    """
    reals = real if isinstance(real, list) else [real]
    glyph, source = reals[0].glyph.clone(**fixed), _nan_source(fig)
    for column in _read_columns(glyph) - source.data.keys():
        source.data[column] = [np.nan]
    proxy = GlyphRenderer(data_source=source, glyph=glyph, view=_nan_view(fig, glyph))
    fig.renderers.append(proxy)
    proxy.on_change("visible", lambda attr, old, new: [setattr(r, "visible", new) for r in reals])
    return proxy


def span_stand_in(fig, spans: list[Span]) -> GlyphRenderer:
    """A legend glyph for Spans (a Span has none): a line styled like them, at NaN."""
    span = spans[0]
    glyph = Line(x="x", y="y", line_color=span.line_color, line_width=span.line_width,
                 line_dash=span.line_dash)
    proxy = GlyphRenderer(data_source=_nan_source(fig), glyph=glyph,
                           view=_nan_view(fig, glyph))
    fig.renderers.append(proxy)
    proxy.on_change("visible", lambda attr, old, new: [setattr(s, "visible", new) for s in spans])
    return proxy


def legend(fig, items, place: str, ncols: int) -> dict[str, LegendItem]:
    """A legend outside the frame of (label, stand-in renderer) entries."""
    entries = {label: LegendItem(label=label, renderers=[proxy]) for label, proxy in items}
    legend = Legend(items=list(entries.values()), label_text_font_size=FONT,
                    background_fill_alpha=0.8, click_policy="hide", spacing=12, padding=2,
                    margin=2, ncols=ncols, border_line_alpha=0.0, label_height=18,
                    glyph_height=18, label_standoff=4)
    fig.add_layout(legend, place)
    return entries
