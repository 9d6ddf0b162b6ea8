"""Replay in a real browser: play moves the cursor, a scrub puts it on iterate k, the URL."""
from __future__ import annotations

import time
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

from .conftest import ARTIFACTS

pytestmark = pytest.mark.ui

CURSOR = "() => Bokeh.documents[0].get_model_by_name('cursor_sharpness').location"


def test_play_moves_the_cursor_line_over_time(explorer, server_url):
    explorer.open(server_url + "?steps=1000&cursor=0")
    page = explorer.page
    explorer.wait_until(f"() => ({CURSOR})() === 0")
    page.get_by_role("button", name="play replay").click()
    explorer.wait_until(f"() => ({CURSOR})() > 20")
    first = page.evaluate(CURSOR)
    page.wait_for_timeout(600)
    second = page.evaluate(CURSOR)
    assert second > first
    page.get_by_role("button", name="pause replay").click()
    page.wait_for_timeout(300)
    paused = page.evaluate(CURSOR)
    page.wait_for_timeout(600)
    assert page.evaluate(CURSOR) == paused
    # both plots' lines and the landscape marker moved together
    assert explorer.model("cursor_loss", "location") == paused
    k = int(paused)
    assert explorer.column("cursor", "x") == [explorer.column("iterates", "x")[k]]
    explorer.wait_until(f"() => window.location.search.includes('cursor={k}')")
    assert explorer.errors == []


def test_scrubbing_to_k_puts_the_marker_on_iterate_k_and_the_url_has_it(explorer, browser,
                                                                        server_url):
    explorer.open(server_url + "?steps=600")
    page = explorer.page
    # no cursor until asked for: its glyphs are built with the first scrub
    assert page.evaluate("() => Bokeh.documents[0].get_model_by_name('cursor')") is None
    started = time.perf_counter()
    page.locator("input[type=range]").fill("237")
    explorer.wait_until("() => Bokeh.documents[0].get_model_by_name('cursor')?.data.x.length")
    ARTIFACTS.mkdir(exist_ok=True)
    with open(ARTIFACTS / "lazy-times.txt", "a") as f:   # a figure for the record only
        f.write(f"first scrub: input -> cursor drawn: "
                f"{(time.perf_counter() - started) * 1000:.0f} ms\n")
    xs, ys = explorer.column("iterates", "x"), explorer.column("iterates", "y")
    assert explorer.column("cursor", "x") == [xs[237]]
    assert explorer.column("cursor", "y") == [ys[237]]
    assert explorer.column("cursor", "loss") == [explorer.column("run", "loss")[237]]
    assert explorer.model("cursor_loss", "location") == 237
    explorer.wait_until("() => window.location.search.includes('cursor=237')")
    # the link opens with the cursor at the same iterate (the page's own URL: Playwright's
    # page.url follows a replaceState a moment later)
    url = page.evaluate("() => window.location.href")
    ARTIFACTS.mkdir(exist_ok=True)
    for w, h in ((1024, 768), (1400, 900)):
        context = browser.new_context(viewport={"width": w, "height": h})
        query = {**parse_qs(urlparse(url).query), "compare": ["eta:0.25"]}
        link = urlparse(url)._replace(query=urlencode(query, doseq=True)).geturl()
        other = type(explorer)(context.new_page()).open(link)   # the cursor and one pinned run
        other.wait_until("() => Bokeh.documents[0].get_model_by_name('cursor')?.data.x.length")
        assert other.column("cursor", "x") == [xs[237]]
        assert other.model("cursor_sharpness", "location") == 237
        other.wait_until("() => Bokeh.documents[0].get_model_by_name('compare0_run')"
                         "?.data.t.length > 0", timeout=60000)
        other.page.wait_for_timeout(1000)
        other.page.screenshot(path=str(ARTIFACTS / f"replay-{w}x{h}.png"))
        assert other.errors == []
        context.close()
