"""``hold(doc)``: many Bokeh changes, one message to the browser, and none of them lost.

Every view batches a redraw with Panel's ``pn.io.hold(doc)``. Panel (1.9) drops the
changes collected by such a hold when the session has not yet sent ``document_ready``,
on the grounds that the page will be serialised in full when it connects. There is a
window where that is false: the browser has already pulled the document but has not yet
said it is ready. A picture delivered in that window (a first run read from disk, a sweep
or basin map finishing on the worker) was never shown: the caption (a Panel pane, which
Panel sends later) said "150 runs" over the coarse picture's 60 points.

So until Panel counts the session as connected, this uses Bokeh's own hold, which sends
the changes to every connection the session already has (and to none before the
websocket opens, when the full serialisation does carry them). Afterwards it is
``pn.io.hold``.
"""
from __future__ import annotations

from contextlib import contextmanager

import panel as pn


def _waiting_for_ready(doc) -> bool:
    """A server session whose page may have pulled the document but not said it is ready."""
    context = getattr(doc, "session_context", None)
    return (getattr(context, "session", None) is not None
            and not pn.state._connected.get(doc))


@contextmanager
def hold(doc):
    """Batch the Bokeh changes made inside into one patch of ``doc`` (default: the current one)."""
    doc = doc or pn.state.curdoc
    if doc is None or not _waiting_for_ready(doc):
        with pn.io.hold(doc):
            yield
        return
    if doc.callbacks.hold_value:   # an outer hold collects them and sends them
        yield
        return
    doc.hold("combine")
    try:
        yield
    finally:
        doc.unhold()
