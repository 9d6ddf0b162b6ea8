"""Many visitors on one server: sessions are isolated, and bad input never stops the server."""
from __future__ import annotations

import pytest

from .conftest import Page

pytestmark = pytest.mark.ui

SPAN = "() => Bokeh.documents[0].get_model_by_name('threshold_line').location"


def open_page(browser, url):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    return context, Page(context.new_page()).open(url)


def test_two_visitors_do_not_see_each_others_moves(browser, server_url):
    first_context, first = open_page(browser, server_url + "?steps=400")
    second_context, second = open_page(browser, server_url + "?model=xy&eta=0.3&steps=400")
    try:
        first.slider("step size η").focus()
        for _ in range(3):
            first.page.keyboard.press("ArrowRight")
        first.wait_until(f"() => Math.abs(({SPAN})() - {2 / 0.203}) < 1e-6")
        second.page.wait_for_timeout(1000)
        assert second.model("threshold_line", "location") == pytest.approx(2 / 0.3)
        assert "model=xy" in second.page.evaluate("window.location.search")
        assert first.errors == [] and second.errors == []
    finally:
        first_context.close()
        second_context.close()


@pytest.mark.parametrize("query,words", [
    ("x0=1e300", "Ignored x0=1e300"),          # beyond any sensible start: a notice
    ("eta=nan", "Ignored eta=nan"),
    ("steps=-5", "Ignored steps=-5"),
    ("model=xy&x0=40&y0=40&eta=0.5", "Diverg"),  # overflow within a few steps: a verdict
])
def test_bad_or_explosive_input_gets_words_and_the_server_keeps_serving(
        browser, server_url, query, words):
    context, page = open_page(browser, server_url + "?" + query)
    try:
        page.page.get_by_text(words).first.wait_for(timeout=15000)
        assert page.page.get_by_text("Traceback").count() == 0
    finally:
        context.close()
    context, fresh = open_page(browser, server_url)   # a new visitor still gets the page
    try:
        assert fresh.model("threshold_line", "location") == pytest.approx(10.0)
    finally:
        context.close()
