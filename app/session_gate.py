"""One page built at a time, and the pages already built answered in between.

Building a session's page is pure Python on the server's one event loop (~0.5 s). When a
class opens the link at once, Bokeh starts building every queued page back to back in
one turn of the loop, before it reads another request: the first student's page was
built first but sent last, with everyone else's (the first documents of fifty students
all arrived together, after two minutes).

This adds a step to the server's application, in front of every new session's build:
wait until the previous build has finished and the loop has run what was ready by then
(at most ``YIELD_S``), so that the requests that arrived meanwhile (a built page's
document, its scripts, another student's slider) are answered before the next page is
built: students get their pages one after another, the first ones within a second.

A page is also built in two parts (``install(doc, prepare)``): the gate builds the first
part (the explorer: its state, controls, figures and first run) in the session's turn, lets
the loop answer what arrived meanwhile, and the page's script then takes it
(:func:`prepared`) and builds the rest (the template's Bokeh models). No single step of a
build then holds the loop for a whole page, so a student already in waits for at most
part of one page before an η change is redrawn.

Installed by the first session (``install(doc)``, from ``views.serve``); a server without
sessions (tests, scripts, exports) never sees it.
"""
from __future__ import annotations

import asyncio
import collections
import time
import weakref

from bokeh.application.handlers.handler import Handler

from . import spare_pages

YIELD_S = 0.5          # the longest a built page's answer holds back the next build
BETWEEN_PARTS_S = 0.1  # the longest what arrived during a page's first part holds back the rest
TURN_TIMEOUT_S = 60.0  # the longest a session waits for its turn (then it goes anyway)


_GATES: "weakref.WeakSet[_Gate]" = weakref.WeakSet()   # (one per server application)


def busy() -> bool:
    """A page is being built in its turn, or waits for one."""
    return any(gate._building or gate._waiting for gate in _GATES)


class _Gate(Handler):
    """A step of the application: ``on_session_created`` waits its turn, the build ends it.

    A turn is handed on only in a later turn of the event loop than the build that ended
    it: sessions queued in the same turn would otherwise find the gate free one after
    another and build back to back, before the loop reads any request again.
    """

    def __init__(self, prepare=None):
        super().__init__()
        _GATES.add(self)
        self._prepare = prepare   # doc -> the first part of its page (see the top)
        self._prepared: dict[str, object] = {}   # session id -> its first part, until taken
        self._building = False
        self._ended = 0.0
        self._waiting: collections.deque[asyncio.Future] = collections.deque()
        self._holders: set[str] = set()   # the sessions being built in their turn

    async def on_session_created(self, session_context) -> None:
        if spare_pages.is_spare(getattr(session_context, "_document", None)):
            return   # built ahead (app/spare_pages.py): nothing to build in a turn
        if self._building or self._waiting:
            turn = asyncio.get_running_loop().create_future()
            self._waiting.append(turn)
            try:   # a build that never ended (it cannot, but if) stalls no one for good
                await asyncio.wait_for(asyncio.shield(turn), TURN_TIMEOUT_S)
            except asyncio.TimeoutError:
                turn.cancel()
        self._building = True
        self._holders.add(session_context.id)
        if self._prepare is not None:
            await session_context.with_locked_document(self._first_part(session_context.id))
            await _answer_ready()

    def _first_part(self, key: str):
        async def build(doc) -> None:
            try:
                self._prepared[key] = self._prepare(doc)
            except Exception:   # the page's script then builds it whole (and shows why not)
                pass
        return build

    def modify_document(self, doc) -> None:
        """Runs after the page's own script (the steps run in order): the turn is over."""
        context = doc.session_context
        if context is not None:
            self._prepared.pop(context.id, None)   # (a first part the script did not take)
        if context is not None and context.id in self._holders:
            self._holders.discard(context.id)
            self._ended = time.monotonic()
            asyncio.get_running_loop().call_soon(self._next)

    def _next(self) -> None:
        """Once the loop has nothing else to run (at most ``YIELD_S``): the next build.

        Answering a built page is many short steps of the loop (Tornado writes each
        websocket frame of the document in a task of its own); a build started after the
        first of them would hold the rest back for its half second.
        """
        loop = asyncio.get_running_loop()
        if getattr(loop, "_ready", None) and time.monotonic() - self._ended < YIELD_S:
            loop.call_soon(self._next)   # behind the work that is ready now
            return
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():   # (a session whose creation was given up)
                turn.set_result(None)
                return
        self._building = False


async def _answer_ready() -> None:
    """Let the loop run what is ready (at most ``BETWEEN_PARTS_S``): the requests that
    arrived while the first part of a page was built (a slider's change takes a few steps)."""
    loop = asyncio.get_running_loop()
    start = time.monotonic()
    await asyncio.sleep(0)
    while getattr(loop, "_ready", None) and time.monotonic() - start < BETWEEN_PARTS_S:
        await asyncio.sleep(0)


def _application(doc):
    context = getattr(doc, "session_context", None)
    server = getattr(context, "server_context", None)
    app_context = getattr(server, "application_context", None)
    return getattr(app_context, "application", None)


def install(doc, prepare=None) -> None:
    """Put the gate into the application serving ``doc`` (once per server); ``prepare(doc)``
    builds the first part of each later session's page in its turn (see the top)."""
    application = _application(doc)
    if application is None or any(isinstance(h, _Gate) for h in application.handlers):
        return
    application.add(_Gate(prepare))


def prepared(doc):
    """The first part of ``doc``'s page, if the gate built it (taken: asked once), or None."""
    application = _application(doc)
    context = getattr(doc, "session_context", None)
    for handler in getattr(application, "handlers", ()):
        if isinstance(handler, _Gate) and context is not None:
            return handler._prepared.pop(context.id, None)
    return None
