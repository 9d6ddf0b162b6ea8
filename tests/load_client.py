"""A student at a websocket: one real Bokeh session of the explorer, driven as a browser would.

A :class:`Student` opens a session with ``bokeh.client`` (Panel's model types imported so the
document resolves), sends ``document_ready`` as a browser does once the page is drawn (Panel
holds back every redraw until it arrives), then moves the η slider and the x₀ slider of its
own document. A change counts as shown when the session's document holds its result: the
2/η threshold line at 2/η and the trajectory replaced (η), or the start marker at x₀ and the
trajectory replaced (x₀). Every threshold the document ever held is kept in ``seen_etas``, every
start marker's x₀ in ``seen_x0s``, and :meth:`Student.read_back` reads the page's η and x₀ (the
sliders, the threshold, the marker) at the end, so a harness can tell whether one student's
values ever reached another student's page.

Each student runs in its own thread with its own IO loop: messages are read only while the
student waits (:meth:`Student.pump`), exactly like a browser tab that is busy between events.
"""
from __future__ import annotations

import importlib
import pkgutil
import time

import bokeh.client.connection
import panel.models
from bokeh.client import pull_session
from tornado.httpclient import HTTPRequest
from bokeh.events import DocumentReady
from bokeh.model import Model
from load_moves import Moves


def import_panel_models() -> None:
    """Import every ``panel.models`` module: the document refers to their types by name."""
    for module in pkgutil.iter_modules(panel.models.__path__):
        importlib.import_module(f"panel.models.{module.name}")


import_panel_models()

OPEN_TIMEOUT_S = 600.0


def _patient_request(url, **kwargs):
    """The websocket request of ``bokeh.client``, waiting as long as a browser would.

    Tornado gives up on a connection after 20 s; a server building fifty pages one after
    another answers later than that, and a browser tab simply waits.
    """
    kwargs.setdefault("connect_timeout", OPEN_TIMEOUT_S)
    kwargs.setdefault("request_timeout", OPEN_TIMEOUT_S)
    return HTTPRequest(url, **kwargs)


bokeh.client.connection.HTTPRequest = _patient_request



def _children(model: Model):
    """The models one property of ``model`` refers to directly."""
    for name in model.properties_with_refs():
        value = getattr(model, name, None)
        items = value if isinstance(value, (list, tuple)) else [value]
        for item in items:
            if isinstance(item, Model):
                yield item
            elif isinstance(item, (list, tuple)):   # e.g. grid children (model, row, col)
                yield from (i for i in item if isinstance(i, Model))


class Student(Moves):
    """One websocket session of ``url``; ``arguments`` become the page's query."""

    def __init__(self, url: str, arguments: dict[str, str] | None = None):
        self.url = url
        self.arguments = arguments
        self.session = None
        self.seen_etas: list[float] = []   # 2/location of every threshold the page held
        self.seen_x0s: list[float] = []    # every x₀ of the start marker the page held
        self.patches = 0
        self._changed: dict[str, int] = {}   # model id -> patches that changed it
        self._reader_pending = False

    # -- opening and closing ---------------------------------------------------------------
    def open(self) -> float:
        """Pull the page and say it is drawn; seconds until the document was here."""
        t0 = time.perf_counter()
        self.session = pull_session(url=self.url, arguments=self.arguments)
        elapsed = time.perf_counter() - t0
        doc = self.session.document
        self.threshold = doc.get_model_by_name("threshold_line")
        self.iterates = doc.get_model_by_name("iterates")
        self.start = doc.get_model_by_name("start")
        self.eta_slider = self.slider("step size η")
        self.x0_slider = self.slider("start x₀")
        self._note()
        handle = self.session._handle_patch

        def handle_and_note(message):
            handle(message)
            self.patches += 1
            for event in message.content.get("events", []):
                ref = event.get("model") or event.get("column_source") or {}
                if isinstance(ref, dict) and "id" in ref:
                    self._changed[ref["id"]] = self._changed.get(ref["id"], 0) + 1
            self._note()

        self.session._handle_patch = handle_and_note
        doc.callbacks.send_event(DocumentReady())
        return elapsed

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
            try:   # let the close frame go out before the loop is dropped
                self.session._connection._loop.run_sync(lambda: None, timeout=2)
            except Exception:
                pass
            self.session = None

    def _note(self) -> None:
        location = self.threshold.location
        if location:
            eta = 2.0 / location
            if not self.seen_etas or self.seen_etas[-1] != eta:
                self.seen_etas.append(eta)
        xs = list(self.start.data.get("x", []))
        if xs and (not self.seen_x0s or self.seen_x0s[-1] != float(xs[0])):
            self.seen_x0s.append(float(xs[0]))

    # -- reading the document --------------------------------------------------------------
    def slider(self, label: str) -> Model:
        """The Bokeh slider of Panel's editable slider titled ``label``."""
        doc = self.session.document
        parent = {}
        for model in doc.models:
            for child in _children(model):
                parent[child.id] = model
        title = next(m for m in doc.models if getattr(m, "text", None) == f"{label}:")
        node = title
        while node.id in parent:
            node = parent[node.id]
            sliders = [m for m in node.references() if type(m).__name__ == "Slider"]
            if sliders:
                return sliders[0]
        raise LookupError(f"no slider titled {label!r}")

    def shown_eta(self) -> float | None:
        """The η the page shows: 2 / the threshold line's location."""
        location = self.threshold.location
        return 2.0 / location if location else None

    def read_back(self) -> dict[str, list[float]]:
        """The η and x₀ the page shows now, each as every model that holds it."""
        xs = list(self.start.data.get("x", []))
        return dict(eta=[float(self.eta_slider.value)]
                    + ([self.shown_eta()] if self.shown_eta() is not None else []),
                    x0=[float(self.x0_slider.value)] + ([float(xs[0])] if xs else []))

    def connected(self) -> bool:
        return self.session is not None and self.session._connection.connected

    # -- moving ----------------------------------------------------------------------------
    def pump(self, done=lambda: False, timeout: float = 30.0) -> bool:
        """Handle the server's messages until ``done()`` or ``timeout`` s; True if done."""
        conn = self.session._connection
        loop = conn._loop
        if done():
            return True
        expired = []

        def expire():
            expired.append(True)
            conn._until_predicate = None
            loop.stop()

        conn._until_predicate = lambda: done() or not conn.connected
        handle = loop.call_later(timeout, expire)
        if not self._reader_pending:
            loop.add_callback(conn._next)
        loop.start()
        loop.remove_timeout(handle)
        self._reader_pending = bool(expired)   # the read that was waiting is still waiting
        return not expired and done()

    def _changes(self, model: Model) -> int:
        return self._changed.get(model.id, 0)

    def _move(self, slider: Model, value: float) -> None:
        slider.value = value   # bokeh.client sends the change

    def _start_xs(self) -> list[float]:
        return [float(v) for v in self.start.data.get("x", [])]
