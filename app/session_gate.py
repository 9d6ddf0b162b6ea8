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

Installed by the first session (``install(doc)``, from ``views.serve``); a server without
sessions (tests, scripts, exports) never sees it.
"""
from __future__ import annotations

import asyncio
import collections
import time

from bokeh.application.handlers.handler import Handler

YIELD_S = 0.5          # the longest a built page's answer holds back the next build
TURN_TIMEOUT_S = 60.0  # the longest a session waits for its turn (then it goes anyway)


class _Gate(Handler):
    """A step of the application: ``on_session_created`` waits its turn, the build ends it.

    A turn is handed on only in a later turn of the event loop than the build that ended
    it: sessions queued in the same turn would otherwise find the gate free one after
    another and build back to back, before the loop reads any request again.
    """

    def __init__(self):
        super().__init__()
        self._building = False
        self._ended = 0.0
        self._waiting: collections.deque[asyncio.Future] = collections.deque()
        self._holders: set[str] = set()   # the sessions being built in their turn

    async def on_session_created(self, session_context) -> None:
        if self._building or self._waiting:
            turn = asyncio.get_running_loop().create_future()
            self._waiting.append(turn)
            try:   # a build that never ended (it cannot, but if) stalls no one for good
                await asyncio.wait_for(asyncio.shield(turn), TURN_TIMEOUT_S)
            except asyncio.TimeoutError:
                turn.cancel()
        self._building = True
        self._holders.add(session_context.id)

    def modify_document(self, doc) -> None:
        """Runs after the page's own script (the steps run in order): the turn is over."""
        context = doc.session_context
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


def install(doc) -> None:
    """Put the gate into the application serving ``doc`` (once per server)."""
    context = getattr(doc, "session_context", None)
    server = getattr(context, "server_context", None)
    app_context = getattr(server, "application_context", None)
    application = getattr(app_context, "application", None)
    if application is None or any(isinstance(h, _Gate) for h in application.handlers):
        return
    application.add(_Gate())
