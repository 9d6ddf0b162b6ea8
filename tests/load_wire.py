"""A student at a websocket, as light as a browser tab is for the server's machine.

:class:`WireStudent` speaks Bokeh's websocket protocol itself, as BokehJS does: it pulls the
document, sends ``document_ready``, sends the η and x₀ sliders' changes as ``PATCH-DOC``
messages and reads the server's patches. Unlike ``bokeh.client`` (:mod:`load_client`), it
does not turn the document into Python models: it keeps the JSON of the few models it
watches (found by name and by the sliders' titles) and counts the changes of the others.
In a classroom the students' browsers run on their own machines; ``bokeh.client`` building
each page's ~400 models in Python took more CPU on the server's two cores than the server
itself, so the crowd measured mostly itself. Same interface as :class:`load_client.Student`.
"""
from __future__ import annotations

import asyncio
import base64
import json
import time
from itertools import count

import numpy as np
from bokeh.util.token import generate_jwt_token, generate_session_id
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from load_moves import Moves

OPEN_TIMEOUT_S = 600.0
_IDS = count()
_READY = {"kind": "MessageSent", "msg_type": "bokeh_event",
          "msg_data": {"type": "event", "name": "document_ready", "values": {"type": "map"}}}


def _walk(value, models: dict, parent: str | None, parents: dict) -> None:
    """Index every model object inside ``value`` by id (and its parent's id)."""
    if isinstance(value, dict):
        if value.get("type") == "object" and "id" in value:
            value.setdefault("attributes", {})
            models[value["id"]] = value
            if parent is not None:
                parents.setdefault(value["id"], parent)
            parent = value["id"]
            value = value.get("attributes", {})
        elif "id" in value and len(value) == 1 and parent is not None:   # a reference
            parents.setdefault(value["id"], parent)
            return
        for v in value.values():
            _walk(v, models, parent, parents)
    elif isinstance(value, list):
        for v in value:
            _walk(v, models, parent, parents)


def _decode(value, buffers: dict):
    """A serialized value as Python: numbers, lists, typed arrays (from their buffers), maps."""
    if isinstance(value, dict):
        kind = value.get("type")
        if kind == "number":
            return float(value["value"])
        if kind == "ndarray":
            data = value["array"]
            raw = (buffers[data["data"]["id"]] if isinstance(data.get("data"), dict)
                   else base64.b64decode(data["data"]))
            return np.frombuffer(raw, dtype=value["dtype"]).reshape(value["shape"])
        if kind == "map":
            return {k: _decode(v, buffers) for k, v in value.get("entries", [])}
        if kind == "typed_array":
            return np.frombuffer(buffers[value["array"]["data"]["id"]], dtype=value["dtype"])
        return value
    if isinstance(value, list):
        return [_decode(v, buffers) for v in value]
    return value


class WireStudent(Moves):
    """One websocket session of ``url`` (query ``arguments``), read and driven by hand."""

    def __init__(self, url: str, arguments: dict[str, str] | None = None):
        self.url, self.arguments = url, arguments
        self.session = None          # the websocket while open
        self.seen_etas: list[float] = []
        self.seen_x0s: list[float] = []
        self.patches = 0
        self._models: dict[str, dict] = {}
        self._parents: dict[str, str] = {}
        self._changed: dict[str, int] = {}
        self._loop = asyncio.new_event_loop()   # this student's thread's own
        asyncio.set_event_loop(self._loop)
        self._buffers: dict = {}

    # -- the wire ---------------------------------------------------------------------------
    def _run(self, coroutine, timeout: float):
        return self._loop.run_until_complete(asyncio.wait_for(coroutine, timeout))

    async def _frame(self):
        frame = await self.session.read_message()
        if frame is None:
            raise ConnectionError("the server closed the websocket")
        return frame

    async def _message(self) -> tuple[dict, dict, dict]:
        header = json.loads(await self._frame())
        await self._frame()   # metadata
        content = json.loads(await self._frame())
        buffers = {}
        for _ in range(header.get("num_buffers", 0)):
            ref = json.loads(await self._frame())
            buffers[ref["id"]] = await self._frame()
        return header, content, buffers

    def _send(self, msgtype: str, content: dict) -> None:
        header = {"msgid": f"w{next(_IDS)}", "msgtype": msgtype}
        for part in (header, {}, content):
            self.session.write_message(json.dumps(part))

    # -- opening and closing ----------------------------------------------------------------
    def open(self) -> float:
        """Pull the page and say it is drawn; seconds until the document was here."""
        t0 = time.perf_counter()
        ws = self.url.replace("http://", "ws://").rstrip("/") + "/ws"
        if self.arguments:
            ws += "?" + "&".join(f"{k}={v}" for k, v in self.arguments.items())
        token = generate_jwt_token(generate_session_id())
        request = HTTPRequest(ws, connect_timeout=OPEN_TIMEOUT_S, request_timeout=OPEN_TIMEOUT_S)

        async def pull():
            self.session = await websocket_connect(request, subprotocols=["bokeh", token],
                                                   max_message_size=64 * 2**20)
            header, _, _ = await self._message()   # ACK
            self._send("PULL-DOC-REQ", {})
            while True:
                header, content, buffers = await self._message()
                if header["msgtype"] == "PULL-DOC-REPLY":
                    return content, buffers
        content, buffers = self._run(pull(), OPEN_TIMEOUT_S)
        elapsed = time.perf_counter() - t0
        _walk(content["doc"]["roots"], self._models, None, self._parents)
        self._buffers = buffers
        self.threshold = self._named("threshold_line")
        self.iterates = self._named("iterates")
        self.start = self._named("start")
        self.eta_slider = _Slider(self, self._slider("step size η"))
        self.x0_slider = _Slider(self, self._slider("start x₀"))
        self._note()
        self._send("PATCH-DOC", {"events": [_READY]})
        return elapsed

    def close(self) -> None:
        if self._pending is not None:   # the read that was waiting: ends with the socket
            self._pending.cancel()
            self._pending = None
        if self.session is not None:
            self.session.close()
            try:
                self._loop.run_until_complete(asyncio.sleep(0.05))
            except Exception:
                pass
            self.session = None

    def connected(self) -> bool:
        return self.session is not None and self.session.protocol is not None

    # -- reading the document ---------------------------------------------------------------
    def _named(self, name: str) -> str:
        return next(i for i, m in self._models.items() if m["attributes"].get("name") == name)

    def _slider(self, label: str) -> str:
        """The id of the Slider under the nearest ancestor of the title ``label:``."""
        title = next(i for i, m in self._models.items()
                     if m["attributes"].get("text") == f"{label}:")
        node = title
        while node in self._parents:
            node = self._parents[node]
            below = [i for i, m in self._models.items()
                     if m["name"] == "Slider" and self._under(i, node)]
            if below:
                return below[0]
        raise LookupError(f"no slider titled {label!r}")

    def _under(self, model: str, ancestor: str) -> bool:
        while model in self._parents:
            model = self._parents[model]
            if model == ancestor:
                return True
        return False

    def _attr(self, model: str, name: str):
        return _decode(self._models[model]["attributes"].get(name), self._buffers)

    def shown_eta(self) -> float | None:
        location = self._attr(self.threshold, "location")
        return 2.0 / location if location else None

    def _start_xs(self) -> list[float]:
        data = self._attr(self.start, "data") or {}
        return [float(v) for v in np.ravel(data.get("x", []))]

    def _note(self) -> None:
        eta = self.shown_eta()
        if eta is not None and (not self.seen_etas or self.seen_etas[-1] != eta):
            self.seen_etas.append(eta)
        xs = self._start_xs()
        if xs and (not self.seen_x0s or self.seen_x0s[-1] != xs[0]):
            self.seen_x0s.append(xs[0])

    def read_back(self) -> dict[str, list[float]]:
        xs = self._start_xs()
        eta = self.shown_eta()
        return dict(eta=[float(self.eta_slider.value)] + ([eta] if eta is not None else []),
                    x0=[float(self.x0_slider.value)] + xs[:1])

    # -- the server's patches ---------------------------------------------------------------
    def _apply(self, content: dict, buffers: dict) -> None:
        self._buffers = {**self._buffers, **buffers}
        for event in content.get("events", []):
            ref = event.get("model") or event.get("column_source") or {}
            target = ref.get("id") if isinstance(ref, dict) else None
            if target is not None:
                self._changed[target] = self._changed.get(target, 0) + 1
            kind = event.get("kind")
            if kind == "ModelChanged" and target in self._models:
                self._models[target]["attributes"][event["attr"]] = event["new"]
                _walk(event["new"], self._models, target, self._parents)
            elif kind == "ColumnDataChanged" and target in self._models:
                old = self._models[target]["attributes"].get("data", {"type": "map"})
                entries = dict(old.get("entries", []))
                entries.update(dict(event["data"].get("entries", [])))
                self._models[target]["attributes"]["data"] = {"type": "map",
                                                              "entries": list(entries.items())}
            elif kind == "RootAdded":
                _walk(event["model"], self._models, None, self._parents)
        self.patches += 1
        self._note()

    def pump(self, done=lambda: False, timeout: float = 30.0) -> bool:
        """Handle the server's messages until ``done()`` or ``timeout`` s; True if done."""
        end = time.monotonic() + timeout

        async def loop():
            while not done():
                left = end - time.monotonic()
                if left <= 0:
                    return False
                try:
                    header, content, buffers = await asyncio.wait_for(
                        asyncio.shield(self._message_task()), left)
                except asyncio.TimeoutError:
                    return False
                self._pending = None
                if header["msgtype"] == "PATCH-DOC":
                    self._apply(content, buffers)
            return True
        return self._loop.run_until_complete(loop())

    _pending = None

    def _message_task(self):
        """The message being read (kept across a timeout: its frames are not lost)."""
        if self._pending is None:
            self._pending = asyncio.ensure_future(self._message())
        return self._pending

    def _changes(self, model: str) -> int:
        return self._changed.get(model, 0)

    # -- moving -----------------------------------------------------------------------------
    def _move(self, slider: "_Slider", value: float) -> None:
        slider.value = value
        self._send("PATCH-DOC", {"events": [{"kind": "ModelChanged", "model": {"id": slider.id},
                                             "attr": "value", "new": value}]})


class _Slider:
    """A slider of the page: its id and the value the page holds (the server's or ours)."""

    def __init__(self, student: WireStudent, model: str):
        self._student, self.id = student, model

    @property
    def value(self) -> float:
        return float(self._student._attr(self.id, "value"))

    @value.setter
    def value(self, new: float) -> None:
        self._student._models[self.id]["attributes"]["value"] = new
