"""A view as one standalone HTML file: the page's own Bokeh figures, every script inline.

The figures are the page's (figures.py's canvases, filled by a views_plots.Dashboard of the
snapshot's state), so zoom, pan and hover work as on the page; what needs the server (a click
on the landscape, hiding an entry from the legend) does not. Bokeh's scripts are inlined;
nothing is linked: Panel, once imported, adds a linked module shim to every Bokeh
``Resources`` (and Panel's own save links CDN stylesheets, panel#3590, #6759), so
:class:`Inline` keeps only Bokeh's inline code. The file loads nothing from anywhere.
"""
from __future__ import annotations

from html import escape

from bokeh.document import Document
from bokeh.embed import file_html
from bokeh.layouts import column, row
from bokeh.models import Legend
from bokeh.resources import Resources

from .export_figures import ExportError, Snapshot, get, layout, view_header
from .pages import PAGES


class Inline(Resources):
    """Bokeh's own JS and CSS inline; no file or URL linked."""

    def __init__(self, components=None):
        super().__init__(mode="inline", **({"components": components} if components else {}))

    @property
    def js_files(self) -> list:
        return []

    @property
    def css_files(self) -> list:
        return []

    def clone(self, *, components=None) -> "Inline":
        return Inline(components if components is not None else list(self.components))


def dashboard_figures(snap: Snapshot) -> dict:
    """The trajectory view's figures, drawn by a Dashboard of the snapshot's state (once).

    Built under a document of its own with no session, so the Dashboard and its compared
    runs draw at once, and none of it touches a live session's document.
    """
    def compute():
        from panel.io.state import set_curdoc
        from .views_plots import Dashboard
        snap.result   # ExportError now if the run cannot be made
        with set_curdoc(Document()):
            dash = Dashboard(snap.state)
        loss, sharpness = dash.curves.figures[:2]
        return {"landscape": dash.landscape.figure, "loss": loss, "sharpness": sharpness,
                "dashboard": dash}
    return snap.memo("trajectory.dashboard", compute)


def _words(snap: Snapshot, names: list[str]) -> list[str]:
    """The pages' captions of ``names`` (HTML), else the run's verdict."""
    out = []
    for name in names:
        words = get(name).words
        if words is not None:
            text = words(snap)
            if text and text not in out:
                out.append(text)
    if not out:
        try:
            out.append(f"<b>{escape(snap.result.verdict)}</b>")
        except ExportError:
            pass
    return out


def _header(snap: Snapshot, view: str, names: list[str]) -> str:
    state = snap.state
    page = PAGES.get(view) or PAGES.get(get(view).page if view in names else "")
    lines = [f"<h2 style='margin:4px 0'>{escape(snap.headline(view))}</h2>"]
    if page is not None:
        lines.append(f"<p style='margin:2px 0'>{escape(page.caption)}</p>")
    lines += [f"<p style='margin:4px 0;max-width:1100px'>{w}</p>" for w in _words(snap, names)]
    extra = view_header(snap, view)
    start = extra.get("start", snap.start_text())
    steps = extra.get("steps", f"{state.steps}")
    query = "&amp;".join(f"{k}={escape(v)}" for k, v in state.query().items())
    lines.append(f"<p style='margin:2px 0;color:#555;font-size:13px'>start: {escape(start)}"
                 f" · steps: {escape(steps)}<br>link query: <code style='word-break:break-all'>"
                 f"?{query}</code></p>")
    return ("<header style='font-family:sans-serif;padding:6px 12px'>" + "".join(lines)
            + "</header>")


def _arranged(view: str, mosaic: list[list[str]], figures: dict):
    """The figures as the page arranges them: the trajectory's landscape beside its two
    curves; else each row of the view's mosaic side by side, the rows stacked."""
    if view == "trajectory":
        return row(figures["landscape"], column(figures["loss"], figures["sharpness"],
                                                sizing_mode="stretch_width"),
                   sizing_mode="stretch_width")
    rows, placed = [], set()
    for names in mosaic:
        names = [n for n in dict.fromkeys(names) if n not in placed]
        placed.update(names)
        if names:
            rows.append(figures[names[0]] if len(names) == 1 else
                        row(*(figures[n] for n in names), sizing_mode="stretch_width"))
    return rows[0] if len(rows) == 1 else column(*rows, sizing_mode="stretch_width")


def standalone_html(snap: Snapshot, view: str) -> str:
    """``view`` (a figure or a page) as a complete HTML document that needs no network."""
    mosaic = layout(view)
    names = list(dict.fromkeys(n for r in mosaic for n in r))
    figures = {}
    try:
        for name in names:
            export = get(name)
            if export.bokeh is None:
                raise ExportError(f"the figure {name!r} has no HTML export")
            fig = export.bokeh(snap)
            for legend in fig.select({"type": Legend}):
                legend.click_policy = "none"   # hiding a glyph from the legend needs the server
            figures[name] = fig
        body = _arranged(view, mosaic, figures)
        title = f"EoS Explorer — {view}: {snap.headline(view)}"
        # a document of its own: Bokeh would otherwise copy callbacks from curdoc(), which in
        # a server's worker thread may be another session's (closed) document
        Document().add_root(body)
    finally:   # the models shared by a view's figures belong to this file's document now
        for key in [k for k in snap._memo if isinstance(k, tuple) and k[:1] == ("bokeh",)]:
            del snap._memo[key]
    html = file_html(body, Inline(), title, theme=None, suppress_callback_warning=True)
    # after the document's own <body> (Bokeh's inline code also says "<body>", earlier)
    at = html.index("<body>", html.rindex("</head>")) + len("<body>")
    return html[:at] + "\n" + _header(snap, view, names) + html[at:]
