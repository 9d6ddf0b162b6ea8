"""A page that closes while the server writes to it is news, not an error.

When a student reloads or leaves the page while a redraw is on its way, Panel's writes to
that websocket fail with tornado's ``WebSocketClosedError``; nobody awaits those write tasks
(Panel issue #3341), so asyncio logs each one as "Task exception was never retrieved" with a
traceback. This handler logs such a task as one line and passes every other exception on,
unchanged, to the handler that was there before (asyncio's default).

A page can also close while the server is still handling a message from it (an η change
on its way): Bokeh then detaches the session from the connection, and the handler's next
look at ``connection.session`` fails an ``assert`` inside Bokeh; Bokeh and tornado log that
with a traceback. A filter on their loggers turns exactly that case into the same one line.
"""
from __future__ import annotations

import asyncio
import logging

from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketClosedError

log = logging.getLogger(__name__)
CLOSED = (WebSocketClosedError, StreamClosedError)
LINE = "A page closed while a message to it was being written; dropped."
GONE = "A page closed while its message was being handled; dropped."
# where Bokeh and tornado log a handler's exception with its traceback
LOGGERS = ("bokeh.server.protocol_handler", "tornado.application")


def detached(exc: BaseException | None) -> bool:
    """Is ``exc`` Bokeh's ``assert`` on a connection whose page has closed (its session
    detached), raised from ``ServerConnection.session``?"""
    if not isinstance(exc, AssertionError) or exc.__traceback__ is None:
        return False
    tb = exc.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    return code.co_name == "session" and code.co_filename.replace("\\", "/").endswith(
        "bokeh/server/connection.py")


class _ClosedPage(logging.Filter):
    """A record of :func:`detached`'s case becomes one line at INFO; others pass unchanged."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and detached(record.exc_info[1]):
            record.msg, record.args, record.exc_info, record.exc_text = GONE, (), None, None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


_FILTER = _ClosedPage()


def install() -> None:
    """Install the handler on the running event loop, and the filter on Bokeh's and
    tornado's loggers (each once; no handler without a loop)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:   # no server loop: a notebook cell, a test, the export
        return
    previous = loop.get_exception_handler()
    if getattr(previous, "closed_sockets", False):
        return

    def handler(loop, context):
        exc = context.get("exception")
        if isinstance(exc, CLOSED):
            log.info(LINE)
            return
        if detached(exc):
            log.info(GONE)
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    handler.closed_sockets = True
    loop.set_exception_handler(handler)
