"""The whole explorer for one session: state, URL sync, sidebar, the view shown, notices, words."""
from __future__ import annotations

from pathlib import Path

import panel as pn
from bokeh.models import CustomJS
from panel.io.state import set_curdoc
from panel.viewable import Viewer

from . import bokeh_defaults, closed_sockets, document_checks, session_gate, spare_pages, warmup
from .about import About
from .pages import PAGES
from .paint import paint_patch
from .state import ExplorerState
from .views_controls import Controls
from .views_plots import Dashboard

URL_DELAY_MS = 250
bokeh_defaults.install()   # a page's Bokeh models work out their defaults once per class
A11Y_JS = (Path(__file__).resolve().parent.parent / "assets" / "a11y.js").read_text()


def session_query() -> dict[str, str]:
    """The page's query arguments as strings (first value of each)."""
    args = pn.state.session_args or {}
    out = {}
    for name, values in args.items():
        value = values[0] if isinstance(values, (list, tuple)) and values else values
        out[name] = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return out


def page_template(explorer: "Explorer") -> pn.template.BootstrapTemplate:
    """The page around one session's explorer: its controls in the sidebar, its views in main."""
    return pn.template.BootstrapTemplate(title="EoS Explorer", sidebar=[explorer.controls],
                                         main=[explorer], sidebar_width=340,
                                         header_background="#0072B2")


def explorer_for(doc) -> "Explorer":
    """A session's explorer, built for ``doc`` (the first part of its page)."""
    with set_curdoc(doc):
        return Explorer()


def serve(template, doc) -> None:
    """Put ``template``'s Bokeh models into the session's ``doc``, indexing them once.

    Panel adds the page's roots one by one (and first removes each from any document);
    Bokeh re-indexes every model of the document after each such change. Frozen, the index
    is rebuilt once, at the end.
    """
    session_gate.install(doc, prepare=explorer_for)   # from now on, one page at a time
    document_checks.skip_unless_asked()
    with doc.models.freeze():
        if doc.session_context is not None:
            template.servable()   # = server_doc(doc) in a server session, and its logging
            spare_pages.start()   # the server's first page: build the next ones ahead
        else:   # a document of one's own (tests, benchmarks)
            template.server_doc(doc)


class Explorer(Viewer):
    """One session: a fresh state (never shared), its controls and its plots."""

    def __init__(self, **params):
        super().__init__(**params)
        closed_sockets.install()   # a page closed mid-write: one line, no traceback
        self.state = ExplorerState()
        notices = self.state.apply_query(session_query())
        # what the link asked for that could not be done (built only if there is something)
        self.notice = pn.pane.Alert("\n".join(f"- {n}" for n in notices), alert_type="warning",
                                    sizing_mode="stretch_width",
                                    margin=(0, 10)) if notices else None
        self.controls = Controls(self.state)
        self.about = About(self.state)
        self.built: dict[str, object] = {}   # the views this session has shown, by name
        self.switch = pn.widgets.RadioButtonGroup.from_param(
            self.state.param.view, label="view", color="light", margin=(4, 10, 6, 10),
            sizing_mode="stretch_width", visible=len(PAGES) > 1)
        self.body = pn.Column(self.page(self.state.view), sizing_mode="stretch_width")
        self.state.param.watch(self._on_view, "view")
        self._sync_url()
        pn.state.onload(warmup.page_ready)   # the first page is in: compile the rest now
        if pn.state.curdoc is not None:   # name every control for screen readers
            pn.state.curdoc.js_on_event("document_ready", CustomJS(code=A11Y_JS))
            pn.state.curdoc.js_on_event("document_ready", paint_patch())

    @property
    def dashboard(self) -> Dashboard:
        """The trajectory view (built now if this session has not shown it yet)."""
        return self.page("trajectory")

    def page(self, name: str):
        """The view ``name`` of :data:`app.pages.PAGES`, built on its first call."""
        if name not in self.built:
            self.built[name] = PAGES[name].build(self.state)
        return self.built[name]

    def _on_view(self, event) -> None:
        self.body.objects = [self.page(event.new)]

    def _sync_url(self) -> None:
        """Mirror every control in the query string (the bad values already dropped).

        Written once the controls have been still for ``URL_DELAY_MS``, so a moving slider
        does not send a URL change (and get the browser's echo of it) between its runs.
        """
        self._url_timeout = None
        location = pn.state.location
        if location is None:
            return
        # the browser's echo of a URL we wrote is no work to show as "busy"
        location._busy__ignore = [*type(location)._busy__ignore, "href", "search", "hash"]
        # written once the page is loaded: a query set while the session is being built is
        # overwritten by the browser's own (bare) one when its Location model syncs
        pn.state.onload(self._write_url)
        self.state.param.watch(self._url_changed, list(ExplorerState.URL_NAMES))

    def _url_changed(self, *events) -> None:
        doc = pn.state.curdoc
        if doc is None or doc.session_context is None:
            return
        if self._url_timeout is not None:
            try:
                doc.remove_timeout_callback(self._url_timeout)
            except ValueError:   # it has just run
                pass
        self._url_timeout = doc.add_timeout_callback(self._write_url, URL_DELAY_MS)

    def _write_url(self) -> None:
        self._url_timeout = None
        pn.state.location.update_query(**self.state.query())

    def __panel__(self):
        notice = [self.notice] if self.notice is not None else []
        return pn.Column(*notice, self.switch, self.body, self.about,
                         sizing_mode="stretch_width")
