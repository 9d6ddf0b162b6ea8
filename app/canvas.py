"""Live Bokeh data in place: a canvas's sources, Spans and row filters, updated by layer name.

A canvas owns figures and one ColumnDataSource per layer name of ``plots.py``; pushing a
layer replaces that source's columns (or moves a Span, or re-selects the rows a glyph draws),
so the layout, the ranges a user zoomed into and the tools stay as they are. Only what changed
travels: unchanged columns stay in the browser, and short columns ride in the message's JSON
instead of a binary buffer each (every buffer is two more websocket frames). The figures
themselves are built in ``figures.py``.
"""
from __future__ import annotations

import contextlib
import weakref

import numpy as np
from bokeh.models import (AllIndices, CDSView, ColumnDataSource, CustomJSFilter, GlyphRenderer, LegendItem,
                          LinearColorMapper, Span)
from bokeh.models.glyphs import Line, Scatter, Step
from bokeh.plotting._renderer import pop_visuals   # bokeh.plotting's own colour/alpha cascade

SHORT = 64   # columns up to this length travel as JSON lists, not binary buffers
# rows start:stop:step of a source, clamped to the rows it has (a new range and new columns
# arrive in one message, in either order)
ROWS_JS = """
const n = source.get_length() ?? 0
const rows = []
for (let i = start; i < Math.min(stop, n); i += step) rows.push(i)
return rows
"""


GLYPHS = {"line": Line, "scatter": Scatter, "step": Step}
_SHARED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def shared(fig, key: str, make):
    """One ``make()`` per figure and key: stateless models its renderers can all refer to
    (fewer models to build, index and send per session; never shared across figures)."""
    per_fig = _SHARED.setdefault(fig, {})
    if key not in per_fig:
        per_fig[key] = make()
    return per_fig[key]


def building(fig):
    """A context in which many models join ``fig``'s document with one re-index at the end.

    Bokeh re-indexes every model of a document after each change that adds models (a
    renderer appended, a legend item); a compared run's slot makes a dozen such changes.
    """
    doc = fig.document
    return doc.models.freeze() if doc is not None else contextlib.nullcontext()


def all_rows(fig) -> CDSView:
    """A view of every row, with the figure's one :class:`AllIndices` filter."""
    return CDSView(filter=shared(fig, "all", AllIndices))


def add_glyph(fig, kind: str, x, y, *, source: ColumnDataSource, view: CDSView | None = None,
              name: str | None = None, **props) -> GlyphRenderer:
    """``fig.<kind>(x, y, source=…, **props)``, without the selection and muted copies.

    ``bokeh.plotting`` gives every renderer two more glyph models (drawn only for a selection
    or a muted legend entry, neither of which these figures have); a session builds and
    sends dozens. Colours and alphas cascade as there (``color`` sets line and fill, …).
    """
    cls = GLYPHS[kind]
    props = dict(props)
    visuals = pop_visuals(cls, props)
    renderer = GlyphRenderer(data_source=source, glyph=cls(x=x, y=y, **props, **visuals),
                             view=view if view is not None else all_rows(fig), name=name)
    fig.renderers.append(renderer)
    return renderer


def row_filter() -> CustomJSFilter:
    """A filter drawing the rows ``range(start, stop, step)`` of its glyph's source."""
    return CustomJSFilter(args={"start": 0, "stop": 0, "step": 1}, code=ROWS_JS)


class Canvas:
    """Figures plus named sources, Spans and row filters; :meth:`push` updates them in place."""

    def __init__(self, figures, sources: dict[str, ColumnDataSource],
                 spans: dict[str, list[Span]], optional: dict[str, list[LegendItem]],
                 colours: dict[str, tuple] | None = None, filters: dict | None = None,
                 labels: dict | None = None):
        self.figures, self.sources, self.spans = list(figures), sources, spans
        self.labels = labels or {}     # layer name -> Labels moved to {"x": …, "text": …}
        self.optional = optional   # layer name -> legend entries shown only with data
        self.colours = colours or {}   # layer name -> (column, mapper): coloured here
        self.filters = filters or {}   # layer name -> its row_filter()
        for items in optional.values():
            for item in items:
                item.visible = False   # every source starts empty
        for layer, source in sources.items():
            source.name = layer    # the browser tests and the benchmark find them so

    @property
    def figure(self):
        return self.figures[0]

    def push(self, layers: dict) -> None:
        """Update every named layer given, skipping what did not change."""
        for name, value in layers.items():
            if name in self.filters:
                rows = {"start": value.start, "stop": value.stop, "step": value.step}
                if self.filters[name].args != rows:
                    self.filters[name].args = rows
            elif name in self.spans:
                loc = float(value) if value is not None and np.isfinite(value) else None
                for span in self.spans[name]:
                    if span.location != loc:
                        span.location = loc
            elif name in self.labels:
                x = value["x"] if np.isfinite(value["x"]) else None
                for label in self.labels[name]:
                    if x is not None and label.x != x:
                        label.x = x
                    if label.text != value["text"]:
                        label.text = value["text"]
                    if label.visible != (x is not None):
                        label.visible = x is not None
            elif name in self.sources:
                self._replace(name, value)

    def _replace(self, name: str, value: dict) -> None:
        source = self.sources[name]
        old = source.data
        if name in self.colours:
            if _same(old, value, skip="color"):
                return
            column, mapper = self.colours[name]
            value = {**value, "color": rgba(value[column], mapper)}
        # packed colours stay a typed buffer: BokehJS cannot read an empty list as colours
        value = {k: v if k == "color" else _short(v) for k, v in value.items()}
        lengths = {len(v) for v in value.values()} | {len(v) for v in old.values()}
        if old.keys() == value.keys() and len(lengths) == 1:
            changed = {k: v for k, v in value.items() if not _same_column(old[k], v)}
            if changed:
                source.data.update(changed)   # only these columns travel
            return
        source.data = value
        shown = len(next(iter(value.values()))) > 0
        for item in self.optional.get(name, []):
            if item.visible != shown:
                item.visible = shown


def rgba(values, mapper: LinearColorMapper) -> np.ndarray:
    """``mapper``'s colours for ``values`` as packed RGBA (uint32 0xRRGGBBAA), as BokehJS maps.

    Coloured on the server, the glyphs carry no colour mapper, so new data does not make
    the browser rescan the mapper and re-lay-out its colour bar on every η step.
    """
    table = np.array([int(c.lstrip("#")[:6], 16) << 8 | 0xFF for c in mapper.palette],
                     dtype=np.uint32)
    values = np.asarray(values, dtype=float)
    low, high = float(mapper.low), float(mapper.high)
    scale = len(table) / (high - low) if high > low else 0.0
    with np.errstate(invalid="ignore"):
        index = np.clip(np.floor((values - low) * scale), 0, len(table) - 1)
    out = table[np.nan_to_num(index).astype(np.intp)]
    out[~np.isfinite(values)] = 0x808080FF   # BokehJS' nan_color, "gray"
    return out


def _short(column):
    """A short numeric column as a list (inside the JSON), a long one as it is (a buffer)."""
    if isinstance(column, np.ndarray) and column.ndim == 1 and len(column) <= SHORT:
        return column.tolist()
    return column


def _same_column(a, b) -> bool:
    if isinstance(b, list) or isinstance(a, list):
        if len(a) != len(b):
            return False
        if all(np.isscalar(u) for u in b):
            return np.array_equal(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                                  equal_nan=True)
        return all(np.array_equal(u, v) for u, v in zip(a, b))
    return np.shape(a) == np.shape(b) and np.array_equal(a, b)


def _same(old: dict, new: dict, skip: str | None = None) -> bool:
    if old.keys() - {skip} != new.keys() - {skip}:
        return False
    return all(_same_column(old[k], v) for k, v in new.items() if k != skip)
