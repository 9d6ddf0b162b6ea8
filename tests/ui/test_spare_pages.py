"""Pages built ahead (app/spare_pages.py): a bare link gets one, each visitor their own, in a
real browser; a link with a query is built for itself; the server builds new ones after."""
from __future__ import annotations

import time

import pytest

from .conftest import ARTIFACTS, Page, serve_args, served

pytestmark = pytest.mark.ui

SPAN = "() => Bokeh.documents[0].get_model_by_name('threshold_line').location"
LOG = "spare-pages-server.log"
FULL = "2 pages are built ahead"
GIVEN = "a page built ahead"


def log_count(words: str) -> int:
    return (ARTIFACTS / LOG).read_text(errors="replace").count(words)


def wait_for_log(words: str, count: int, timeout: float = 180.0) -> None:
    deadline = time.time() + timeout
    while log_count(words) < count:
        assert time.time() < deadline, f"the server never logged {words!r} {count} times"
        time.sleep(0.5)


def wait_until_full(timeout: float = 180.0) -> None:
    """Until the server's last word on its spares is that both are built (none given since)."""
    deadline = time.time() + timeout
    while True:
        text = (ARTIFACTS / LOG).read_text(errors="replace")
        if text.rfind(FULL) > text.rfind(GIVEN):
            return
        assert time.time() < deadline, "the server never built its two spare pages again"
        time.sleep(0.5)


def wait_for_given(count: int, timeout: float = 30.0) -> None:
    """Until the server has logged ``count`` spares given (its log is written as it goes)."""
    wait_for_log(GIVEN, count, timeout)
    time.sleep(0.5)                 # and no more than that
    assert log_count(GIVEN) == count


@pytest.fixture(scope="module")
def spare_server():
    with served(lambda port: ["-m", "panel", "serve", "app/main.py", *serve_args(port),
                              "--log-level", "debug"],
                LOG, env={"EOS_SPARE_PAGES": "2"}) as (url, _):
        yield url


def open_page(browser, url):
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    return context, Page(context.new_page()).open(url)


def test_bare_links_get_pages_built_ahead_each_their_own(browser, spare_server):
    wait_until_full()
    given = log_count(GIVEN)
    first_context, first = open_page(browser, spare_server)
    second_context, second = open_page(browser, spare_server)
    try:
        wait_for_given(given + 2)   # both pages were spares
        first.slider("step size η").focus()
        for _ in range(3):
            first.page.keyboard.press("ArrowRight")
        first.wait_until(f"() => Math.abs(({SPAN})() - {2 / 0.203}) < 1e-6")
        # the page's link follows its controls (the page's load callbacks ran)
        first.wait_until("() => window.location.search.includes('eta=0.203')")
        second.page.wait_for_timeout(1000)
        assert second.model("threshold_line", "location") == pytest.approx(10.0)
        assert "eta=0.2&" in second.page.evaluate("window.location.search")
        # the verdict describes each page's own run
        first.page.get_by_text("2/η = 9.85").first.wait_for(timeout=15000)
        assert second.page.get_by_text("2/η = 10").count() > 0
        assert first.errors == [] and second.errors == []
    finally:
        first_context.close()
        second_context.close()


def test_a_link_with_a_query_is_built_for_itself_and_spares_come_back(browser, spare_server):
    wait_until_full()
    given = log_count(GIVEN)
    context, page = open_page(browser, spare_server + "?model=xy&eta=0.3&steps=400")
    try:
        assert page.model("threshold_line", "location") == pytest.approx(2 / 0.3)
        wait_for_given(given)   # not a spare: it asked for more
        assert page.errors == []
    finally:
        context.close()
    full = log_count(FULL)
    context, page = open_page(browser, spare_server)
    try:
        wait_for_given(given + 1)
        wait_for_log(FULL, full + 1)   # the one given is built again
    finally:
        context.close()
