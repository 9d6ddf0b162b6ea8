"""The table of bad inputs (tests/bad_inputs.py) in a real browser, on one page.

Every ``browser=True`` link is opened in turn (one server, one page, navigating): its words are
on screen, no traceback is, and afterwards a good link still draws its run. Then values are
typed into the η box and the start boxes: each gets its message, the box keeps the last good
value, and a good value afterwards is taken. No console error, and the server log gets no
"Traceback" meanwhile.
"""
from __future__ import annotations

import pytest

from bad_inputs import cases

from .conftest import ARTIFACTS, Page

pytestmark = pytest.mark.ui

SPAN = "() => Bokeh.documents[0].get_model_by_name('threshold_line').location"
BOXES = {"eta": "input[aria-label='step size η']", "x0": "input[aria-label='start x₀']",
         "y0": "input[aria-label='start y₀']"}
TIMEOUT = 120000  # a loaded 2-core CI machine builds a page and its run slowly


def _log() -> str:
    return (ARTIFACTS / "ui-server.log").read_text(errors="replace")


def _goto(explorer: Page, url: str) -> None:
    explorer.page.goto(url, timeout=TIMEOUT)
    explorer.wait_until("() => window.Bokeh && Bokeh.documents.length > 0", timeout=TIMEOUT)


def _on_screen(explorer: Page, words: str) -> None:
    explorer.page.get_by_text(words).first.wait_for(state="visible", timeout=TIMEOUT)
    assert explorer.page.get_by_text("Traceback").count() == 0


def _draws(explorer: Page, eta: float) -> None:
    """The trajectory view shows η's run: its 2/η line."""
    explorer.wait_until(f"() => {{ const m = Bokeh.documents[0].get_model_by_name("
                        f"'threshold_line'); return m && Math.abs(m.location - {2 / eta}) "
                        "< 1e-9; }", timeout=TIMEOUT)


def _type(explorer: Page, name: str, text: str) -> None:
    box = explorer.page.locator(BOXES[name])
    box.wait_for(timeout=TIMEOUT)
    box.fill(text)
    box.press("Enter")


def test_bad_links_are_answered_on_screen_and_the_page_still_works(browser, server_url):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    explorer = Page(context.new_page())
    before = len(_log())
    try:
        rows = cases("link", browser=True)
        assert len(rows) >= 10
        for case in rows:
            _goto(explorer, f"{server_url}?{case.given}")
            _on_screen(explorer, case.expect)
            assert explorer.errors == [], (case.given, explorer.errors)
        _goto(explorer, f"{server_url}?eta=0.1")   # a good link afterwards draws
        _draws(explorer, 0.1)
        assert explorer.page.get_by_text("from the link").count() == 0
        assert explorer.errors == []
        assert "Traceback" not in _log()[before:]
    finally:
        context.close()


def test_bad_typed_values_are_answered_and_a_good_one_is_taken(browser, server_url):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    explorer = Page(context.new_page())
    before = len(_log())
    try:
        rows = cases("typed", browser=True)
        assert {name for c in rows for name, _ in c.given} >= {"eta", "x0"}
        start = None
        for case in rows:
            if case.start != start or case.start:   # a row with its own link opens it
                start = case.start
                _goto(explorer, f"{server_url}?{case.start}" if case.start else server_url)
                explorer.slider("step size η").wait_for(timeout=TIMEOUT)
            for name, text in case.given:
                _type(explorer, name, text)
            _on_screen(explorer, case.expect)
            assert explorer.errors == [], (case.given, explorer.errors)
        # the session is still usable: a good value is taken, the message goes
        _type(explorer, "x0", "1.5")
        _type(explorer, "eta", "0.1")
        _draws(explorer, 0.1)
        explorer.page.get_by_text("Cannot run this").wait_for(state="hidden", timeout=TIMEOUT)
        assert explorer.errors == []
        assert "Traceback" not in _log()[before:]
    finally:
        context.close()
