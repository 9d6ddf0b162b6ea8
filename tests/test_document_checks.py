"""Every view's page passes Bokeh's model checks (which serving skips: app/document_checks.py)."""
from __future__ import annotations

import pytest
from bokeh.core.validation.check import check_integrity
from bokeh.document import Document
from panel.io.state import set_curdoc

from app.pages import PAGES
from app.views import Explorer, page_template, serve


@pytest.mark.parametrize("view", list(PAGES))
def test_the_page_of_each_view_has_no_model_warnings(view):
    doc = Document()
    with set_curdoc(doc):
        explorer = Explorer()
        serve(page_template(explorer), doc)
        explorer.state.view = view
    issues = check_integrity(doc.models)
    assert [str(i) for i in issues.error] == []
    assert [str(i) for i in issues.warning] == []
    assert len(doc.models) > 100   # the page, with the view, is in the document


def test_serving_skips_the_check_unless_asked(monkeypatch):
    from bokeh.settings import settings

    from app import document_checks
    monkeypatch.delenv("BOKEH_VALIDATE_DOC", raising=False)
    try:
        document_checks.skip_unless_asked()
        assert settings.perform_document_validation() is False
        settings.perform_document_validation.unset_value()
        monkeypatch.setenv("BOKEH_VALIDATE_DOC", "true")
        document_checks.skip_unless_asked()
        assert settings.perform_document_validation() is True
    finally:
        settings.perform_document_validation.unset_value()
