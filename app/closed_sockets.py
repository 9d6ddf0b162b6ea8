"""A page that closes while the server writes to it is news, not an error.

When a student reloads or leaves the page while a redraw is on its way, Panel's writes to
that websocket fail with tornado's ``WebSocketClosedError``; nobody awaits those write tasks
(Panel issue #3341), so asyncio logs each one as "Task exception was never retrieved" with a
traceback. This handler logs such a task as one line and passes every other exception on,
unchanged, to the handler that was there before (asyncio's default).
"""
from __future__ import annotations

import asyncio
import logging

from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketClosedError

log = logging.getLogger(__name__)
CLOSED = (WebSocketClosedError, StreamClosedError)


def install() -> None:
    """Install the handler on the running event loop (once; nothing without a loop)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:   # no server loop: a notebook cell, a test, the export
        return
    previous = loop.get_exception_handler()
    if getattr(previous, "closed_sockets", False):
        return

    def handler(loop, context):
        if isinstance(context.get("exception"), CLOSED):
            log.info("A page closed while a message to it was being written; dropped.")
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    handler.closed_sockets = True
    loop.set_exception_handler(handler)
