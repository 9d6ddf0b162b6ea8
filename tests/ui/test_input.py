"""Typed input, the URL and the explanations, in a real browser."""
from __future__ import annotations

import re

import pytest

import dynamics

from .conftest import ARTIFACTS, Page

pytestmark = pytest.mark.ui

SPAN = "() => Bokeh.documents[0].get_model_by_name('threshold_line').location"
# every slider of the page as [start, end] (Bokeh's Slider models, whatever their names)
SLIDER_RANGES = ("() => Array.from(Bokeh.documents[0].all_models)"
                 ".filter((m) => m.type === 'Slider').map((m) => [m.start, m.end])")
ETA_BOX = "input[aria-label='step size η']"


def _server_log() -> str:
    return (ARTIFACTS / "ui-server.log").read_text(errors="replace")


def _type(explorer: Page, text: str) -> None:
    box = explorer.page.locator(ETA_BOX)
    box.fill(text)
    box.press("Enter")


def test_eta_beyond_the_slider_is_refused_and_the_range_kept(explorer, server_url):
    explorer.open(server_url)
    ranges = sorted(explorer.page.evaluate(SLIDER_RANGES))
    assert [0.01, 0.5] in ranges   # the η slider of the default model
    canvas = explorer.page.locator(".bk-Canvas").first
    top = canvas.bounding_box()["y"]
    _type(explorer, "1000")
    explorer.page.get_by_text("η = 1000 —").wait_for(timeout=10000)
    explorer.page.wait_for_timeout(300)
    assert canvas.bounding_box()["y"] == pytest.approx(top, abs=1)   # no layout jump
    assert explorer.page.get_by_text("must lie in (0, 0.5]").count() == 1
    # the box shows the kept η, the slider's range is the model's, the run is η = 0.2's
    explorer.wait_until(f"() => Math.abs(({SPAN})() - 10) < 1e-9")
    box = explorer.page.locator(ETA_BOX)
    for _ in range(100):
        if box.input_value() == "0.2":
            break
        explorer.page.wait_for_timeout(100)
    assert box.input_value() == "0.2"
    assert sorted(explorer.page.evaluate(SLIDER_RANGES)) == ranges
    assert "eta=1000" not in explorer.page.evaluate("window.location.search")
    # the message stands in the verdict's place: one state on screen
    verdict = explorer.page.get_by_text("Converged").first
    assert not verdict.is_visible()
    # the next accepted change brings the verdict back
    explorer.slider("step size η").focus()
    explorer.page.keyboard.press("ArrowRight")
    explorer.wait_until(f"() => Math.abs(({SPAN})() - 2 / 0.201) < 1e-9")
    explorer.page.get_by_text("must lie in").wait_for(state="hidden", timeout=10000)
    verdict.wait_for(state="visible", timeout=10000)
    assert explorer.errors == []


def test_empty_eta_box_is_a_message_not_a_traceback(explorer, server_url):
    explorer.open(server_url)
    before = len(_server_log())
    _type(explorer, "")
    explorer.page.get_by_text("the η box is empty").wait_for(timeout=10000)
    explorer.page.wait_for_timeout(500)
    assert "Traceback" not in _server_log()[before:]
    assert explorer.model("threshold_line", "location") == pytest.approx(10.0)
    # and the page still works
    explorer.slider("step size η").focus()
    explorer.page.keyboard.press("ArrowRight")
    explorer.wait_until(f"() => ({SPAN})() < 9.99")


def test_the_url_is_written_on_first_load(explorer, server_url):
    explorer.open(server_url)
    explorer.wait_until("() => window.location.search.includes('eta=0.2')", timeout=10000)
    search = explorer.page.evaluate("window.location.search")
    assert "model=xyzw" in search and "steps=" in search


def test_key_stepped_eta_is_written_without_float_noise(explorer, server_url):
    explorer.open(server_url + "?steps=300")
    explorer.slider("step size η").focus()
    for _ in range(3):
        explorer.page.keyboard.press("ArrowRight")
    # patient: on a busy CI server the first key press may wait for the warm-up's compilation
    explorer.wait_until(f"() => Math.abs(({SPAN})() - 2 / 0.203) < 1e-9", timeout=60000)
    explorer.wait_until("() => window.location.search.includes('eta=0.203')", timeout=30000)
    value = re.search(r"eta=([^&]*)", explorer.page.evaluate("window.location.search")).group(1)
    assert len(value.split(".")[1]) <= 3   # the η step is 0.001


def test_intro_and_card_follow_the_optimizer_and_model(explorer, server_url):
    explorer.open(server_url)
    page = explorer.page
    note = dynamics.MODELS["xyzw"].note
    page.get_by_text(note[:40]).first.wait_for(timeout=10000)
    assert page.get_by_text("The model: " + dynamics.MODELS["xyzw"].title).count() == 1
    page.get_by_label("optimizer", exact=True).select_option(
        label=dynamics.OPTIMIZERS["normalized_gd"].title)
    title = dynamics.OPTIMIZERS["normalized_gd"].title
    page.get_by_text("The update rule: " + title).wait_for(timeout=10000)
    intro = page.locator("p", has_text="What am I looking at?")
    assert title in intro.first.inner_text()
    assert "cannot settle" in intro.first.inner_text()
    page.get_by_label("model", exact=True).select_option(label=dynamics.MODELS["picky"].title)
    page.get_by_text(dynamics.MODELS["picky"].note[:40]).first.wait_for(timeout=10000)
    assert explorer.errors == []


@pytest.mark.parametrize("width, height", [(1024, 768), (1400, 900)])
def test_screenshots_of_sidebar_error_and_card(browser, server_url, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        explorer = Page(context.new_page()).open(server_url + "?model=picky")
        page = explorer.page
        page.wait_for_timeout(1000)
        # every line of the picky formula is inside the sidebar
        sidebar = page.locator("#sidebar").bounding_box()
        lines = page.locator("#sidebar .katex")
        assert lines.count() >= 3
        for i in range(lines.count()):
            box = lines.nth(i).bounding_box()
            assert box["x"] + box["width"] <= sidebar["x"] + sidebar["width"] + 0.5
        page.screenshot(path=str(ARTIFACTS / f"input-sidebar-picky-{width}.png"))
        _type(explorer, "5")
        page.get_by_text("η = 5 —").wait_for(timeout=10000)
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / f"input-error-{width}.png"))
        page.get_by_text("The update rule:").first.scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / f"input-about-{width}.png"))
        assert explorer.errors == []
    finally:
        context.close()
