"""``app.held.hold``: changes batched while a page is between its pull and document_ready arrive.

A server session's document, before Panel has counted it as connected, is where Panel's own
hold drops the changes it collected (the page had already pulled the document, so the
changes never reached it: a sweep's full picture never replaced the coarse one).
"""
from __future__ import annotations

from types import SimpleNamespace

import panel as pn
from bokeh.document import Document
from bokeh.models import ColumnDataSource, Div

from app.held import hold


def _session_doc():
    """A document that looks like a server session's whose page has not said it is ready."""
    doc = Document()
    context = SimpleNamespace(session=object(), id="s", request=None)
    doc._session_context = lambda: context   # Bokeh keeps a weak reference to it
    source, div = ColumnDataSource({"x": [0.0]}), Div(text="coarse")
    doc.add_root(div)
    doc.add_root(source)
    sent = []
    doc.on_change(lambda event: sent.append(event))   # what a session sends its connections
    return doc, source, div, sent


def test_changes_before_document_ready_are_sent_once_as_one_batch():
    doc, source, div, sent = _session_doc()
    assert not pn.state._connected.get(doc)
    with hold(doc):
        source.data = {"x": [1.0, 2.0, 3.0]}
        div.text = "full"
        div.text = "full, 150 runs"
        assert sent == []   # held until the end of the block
    kinds = sorted((type(e.model).__name__, e.attr) for e in sent)
    assert kinds == [("ColumnDataSource", "data"), ("Div", "text")]   # combined
    assert [e.new for e in sent if e.attr == "text"] == ["full, 150 runs"]


def test_an_outer_hold_keeps_the_batch():
    doc, source, div, sent = _session_doc()
    doc.hold("combine")
    with hold(doc):
        div.text = "inner"
    assert sent == []   # the outer hold still holds it
    doc.unhold()
    assert [e.new for e in sent] == ["inner"]


def test_without_a_document_it_only_runs_the_block():
    ran = []
    with hold(None):
        ran.append(True)
    assert ran == [True]
