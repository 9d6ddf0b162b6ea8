"""Pages built before anyone asks for them: a class opening the bare link gets them at once.

A page costs the server's one event loop ~0.4 s to build, and the pages of a class that
opens the link together are built one after another, so the last of fifty students waited
for fifty builds. Yet every page of the bare link (no query: the default run, the
trajectory view) is built the same way. So while the server is idle, this builds such pages
ahead, each in a Bokeh document of its own that no browser has seen, up to ``SPARES``
(``EOS_SPARE_PAGES``). When a new session asks for the bare link, Bokeh's fresh document
for it is one of these (``take``), and the page's script only finishes it. A spare page is
given to one session only and then never to another: nothing is shared. A link with a query
(compared runs, another view, a start) is built as before, in its turn.

A spare is built in the same two parts as a session's page (the explorer, then the
template's Bokeh models), each only when the server is idle: no message from a browser for
``IDLE_S`` and no page waiting for its turn (``app/session_gate.py``), so that building
spares never delays a student's page or slider. Started by the server's first page.
"""
from __future__ import annotations

import asyncio
import collections
import contextvars
import logging
import os
import time
import weakref

import panel as pn
from bokeh.document import Document
from bokeh.server import contexts
from bokeh.server.protocol_handler import ProtocolHandler
from panel.io.document import init_doc
from panel.io.state import set_curdoc

DEFAULT_SPARES = 50
IDLE_S = 1.0    # no browser message for this long: the server is idle
POLL_S = 0.5    # how often an idle check is retried
log = logging.getLogger("bokeh.server.eos_spare_pages")


def spares_asked(text: str | None) -> int:
    """How many spare pages ``EOS_SPARE_PAGES`` asks for: a whole number ≥ 0 (0: none);
    unset, or anything else, is the default, with a warning in the server's log."""
    if text is None or not text.strip():
        return DEFAULT_SPARES
    try:
        count = int(text.strip())
    except ValueError:
        count = -1
    if count < 0:
        log.warning("EOS_SPARE_PAGES=%r is not a whole number of pages (0 or more); "
                    "%d pages are built ahead.", text, DEFAULT_SPARES)
        return DEFAULT_SPARES
    return count


SPARES = spares_asked(os.environ.get("EOS_SPARE_PAGES"))  # spare pages kept ready at most

_pool: collections.deque = collections.deque()     # spare documents, oldest first
_spares: weakref.WeakSet = weakref.WeakSet()        # every document built here
_handoff: list = [None]                             # the spare for the Document() made now
_last_activity = [0.0]
_started = [False]
_half_built = [0]                                   # 1 between a spare's two parts


def _bare(request, token) -> bool:
    """The page asked for is the bare link: no query argument (Bokeh's own aside)."""
    args = None
    if token:
        from bokeh.util.token import get_token_payload
        args = get_token_payload(token).get("arguments")
    if args is None:
        args = getattr(request, "arguments", None) or {}
    return not [name for name in args if not name.startswith("bokeh-")]


def _fresh_document() -> Document:
    """What Bokeh's session makes as its document: the spare handed over, or a new one."""
    doc, _handoff[0] = _handoff[0], None
    return doc if doc is not None else Document()


def _install() -> None:
    """Bokeh's session creation takes a spare for a new bare-link session; every message
    from a browser marks the server busy."""
    create = contexts.ApplicationContext.create_session_if_needed
    handle = ProtocolHandler.handle

    async def create_session_if_needed(self, session_id, request=None, token=None):
        _last_activity[0] = time.monotonic()
        new = session_id not in self._sessions and session_id not in self._pending_sessions
        if new and _pool and _bare(request, token):
            # Bokeh makes the session's document before its first await: this one
            _handoff[0] = _pool.popleft()
            log.debug("session %s: a page built ahead (%d left)", session_id, len(_pool))
        try:
            return await create(self, session_id, request, token)
        finally:
            _handoff[0] = None

    async def handle_message(self, message, connection):
        _last_activity[0] = time.monotonic()
        return await handle(self, message, connection)

    contexts.Document = _fresh_document
    contexts.ApplicationContext.create_session_if_needed = create_session_if_needed
    ProtocolHandler.handle = handle_message


def start() -> None:
    """Keep up to ``SPARES`` spare pages from now on (once per server; the first page)."""
    if _started[0] or SPARES <= 0:
        return
    _started[0] = True
    _install()
    # in a context of its own: scheduled from here, it would keep the first page's context,
    # and in it (Panel's current document) that session's document, alive for good
    asyncio.get_running_loop().call_later(IDLE_S, _fill, context=contextvars.Context())


def is_spare(doc) -> bool:
    """``doc`` was built here (a session given it only finishes the page)."""
    return doc in _spares


def finish(doc) -> None:
    """What a session's page does once it has a document, for a spare: Panel's record of
    the session (it starts at the first message from the browser)."""
    with set_curdoc(doc):
        init_doc(doc)


def held() -> int:
    """Spare pages alive and not given to a session: waiting, or half built."""
    return len(_pool) + _half_built[0]


def _idle() -> bool:
    """No browser message for ``IDLE_S``, no page in its turn, nothing else ready to run."""
    from . import session_gate
    loop = asyncio.get_running_loop()
    return (time.monotonic() - _last_activity[0] >= IDLE_S and not session_gate.busy()
            and not getattr(loop, "_ready", None))


def _fill() -> None:
    loop = asyncio.get_running_loop()
    if len(_pool) >= SPARES or not _idle():
        loop.call_later(POLL_S, _fill)
        return
    from .views import explorer_for   # (this module is imported by app.views)
    doc = Document()
    pn.state._loaded[doc] = False   # its page is not loaded: callbacks wait for the browser
    _half_built[0] = 1              # (from before its first object: held() counts it)
    try:
        explorer = explorer_for(doc)
    except Exception:   # never expected; the bare link is then built in its turn
        _half_built[0] = 0
        log.exception("A spare page could not be built; pages are built per session.")
        return
    loop.call_soon(_second_part, doc, explorer)


def _second_part(doc, explorer) -> None:
    loop = asyncio.get_running_loop()
    if not _idle():
        loop.call_later(POLL_S, _second_part, doc, explorer)
        return
    from .views import page_template, serve
    try:
        with set_curdoc(doc):
            serve(page_template(explorer), doc)
    except Exception:
        log.exception("A spare page could not be built; pages are built per session.")
        return
    else:
        _spares.add(doc)
        _pool.append(doc)
    finally:
        _half_built[0] = 0   # (only now: held() counts this page until it is in the pool)
    if len(_pool) == SPARES:
        log.info("%d pages are built ahead for the bare link", SPARES)
    loop.call_soon(_fill)
