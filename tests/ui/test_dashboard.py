"""The dashboard in a real browser: load, keyboard η, links, clicks, model switches."""
from __future__ import annotations

import math
import shutil

import pytest

import dynamics

from .conftest import ARTIFACTS, ROOT

pytestmark = pytest.mark.ui

SPAN = "() => Bokeh.documents[0].get_model_by_name('threshold_line').location"


def test_page_loads_without_console_errors(explorer, server_url):
    explorer.open(server_url)
    page = explorer.page
    assert "EoS Explorer" in page.title() or page.get_by_text("EoS Explorer").count() > 0
    assert page.get_by_text("What am I looking at?").count() == 1
    assert explorer.model("threshold_line", "location") == pytest.approx(2 / 0.2)
    assert len(explorer.column("iterates", "x")) > 10
    page.wait_for_timeout(1500)   # let late messages arrive
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"))
    assert explorer.errors == []


def test_repaint_patch_is_on_for_the_bokeh_it_was_written_for(explorer, server_url):
    """app/paint.py patches BokehJS 3.9 internals; on another version it must stand aside."""
    explorer.open(server_url)
    explorer.page.wait_for_function("() => window.__eos_paint_patched !== undefined ||"
                                    " !Bokeh.version.startsWith('3.9.')", timeout=10000)
    patched, version = explorer.page.evaluate(
        "() => [window.__eos_paint_patched === true, Bokeh.version]")
    assert patched == version.startswith("3.9.")
    # same text: the <style> element is left alone (no style invalidation)
    kept = explorer.page.evaluate(
        "() => { const S = new (Bokeh.require('core/dom').InlineStyleSheet)(':host {}');"
        " const node = S.el.firstChild; S.replace(':host {}'); return S.el.firstChild === node; }")
    assert kept == patched
    # a plot's base font size: read from the computed style once per task, and the same
    font = explorer.page.evaluate(
        "() => { const P = Bokeh.require('models/plots/plot_canvas').PlotView.prototype;"
        " const get = Object.getOwnPropertyDescriptor(P, 'base_font_size').get;"
        " const el = document.createElement('div'); el.style.fontSize = '17px';"
        " document.body.appendChild(el); const value = get.call({el}); el.remove();"
        " return [get.toString().includes('__eos_font'), value]; }")
    assert font == [patched, 17]


def test_every_control_has_an_accessible_name(explorer, server_url):
    explorer.open(server_url)
    page = explorer.page
    for name in ("step size η", "start x₀", "start y₀", "steps"):
        assert explorer.slider(name).count() == 1, name
    for name in ("model", "optimizer", "show gradient flow",
                 "symmetric start (z₀ = x₀, w₀ = y₀)"):
        page.get_by_label(name, exact=True).first.wait_for(timeout=10000)
    assert page.get_by_role("button", name="reset to the model's defaults").count() == 1


def test_keyboard_eta_moves_the_line_and_the_run(explorer, server_url):
    explorer.open(server_url + "?steps=800")
    before_span = explorer.model("threshold_line", "location")
    before_x = explorer.column("iterates", "x")
    handle = explorer.slider("step size η")
    handle.focus()
    for _ in range(5):
        explorer.page.keyboard.press("ArrowRight")
    # five steps of 0.001: η = 0.205, the line at 2/η (every press arrives, maybe merged)
    explorer.wait_until(f"() => Math.abs(({SPAN})() - {2 / 0.205}) < 1e-6")
    assert before_span == pytest.approx(10.0)
    explorer.wait_until("(b) => { const x = Bokeh.documents[0].get_model_by_name('iterates')"
                        ".data.x; return x.length > 0 && x[x.length - 1] !== b; }", before_x[-1])
    assert explorer.column("iterates", "x") != before_x
    explorer.wait_until("() => window.location.search.includes('eta=')")


def test_clicking_a_legend_entry_hides_its_curve(explorer, server_url):
    """Legends draw stand-ins (app/figures.py); a click must still hide the real curve."""
    explorer.open(server_url)
    visible = "(n) => Bokeh.documents[0].get_model_by_name(n).visible"
    assert explorer.page.evaluate(visible, "sharpness_line") is True
    explorer.page.locator(".bk-item", has_text="sharpness").first.click()
    explorer.wait_until(f"() => ({visible})('sharpness_line') === false")
    explorer.page.locator(".bk-item", has_text="sharpness").first.click()
    explorer.wait_until(f"() => ({visible})('sharpness_line') === true")
    assert explorer.errors == []


def test_link_opens_that_exact_state(explorer, server_url):
    explorer.open(server_url + "?model=x2y2&eta=0.25&x0=2.5&y0=0.4&steps=500&x_axis=time")
    assert float(explorer.page.locator("input[aria-label='step size η']").input_value()) == 0.25
    assert explorer.model("threshold_line", "location") == pytest.approx(8.0)
    start = (explorer.column("start", "x")[0], explorer.column("start", "y")[0])
    assert start == pytest.approx((2.5, 0.4), rel=1e-6)
    t = explorer.column("run", "t")
    assert len(t) == 501 and t[-1] == pytest.approx(0.25 * 500, rel=1e-5)
    assert explorer.page.get_by_text("L(x, y) =").count() >= 0   # formula rendered by KaTeX


def test_click_on_the_landscape_moves_the_start(explorer, server_url):
    explorer.open(server_url)
    before = (explorer.column("start", "x")[0], explorer.column("start", "y")[0])
    canvas = explorer.page.locator(".bk-Canvas").first
    box = canvas.bounding_box()
    explorer.page.mouse.click(box["x"] + box["width"] * 0.35, box["y"] + box["height"] * 0.3)
    explorer.wait_until(
        "(b) => { const d = Bokeh.documents[0].get_model_by_name('start').data;"
        " return Math.abs(d.x[0] - b[0]) > 1e-3 || Math.abs(d.y[0] - b[1]) > 1e-3; }",
        list(before))
    explorer.wait_until("() => window.location.search.includes('x0=')")
    x0 = explorer.column("start", "x")[0]
    assert -0.5 <= x0 <= 4.0 and math.isfinite(x0)


def test_switching_model_and_optimizer(explorer, server_url):
    explorer.open(server_url)
    page = explorer.page
    page.get_by_label("model", exact=True).select_option(label=dynamics.MODELS["picky"].title)
    explorer.wait_until("() => Bokeh.documents[0].get_model_by_name('curve') !== null &&"
                        " Bokeh.documents[0].get_model_by_name('curve').data.x.length > 0")
    explorer.wait_until(f"() => Math.abs(({SPAN})() - 2 / 0.7) < 1e-6")
    page.get_by_label("optimizer", exact=True).select_option(
        label=dynamics.OPTIMIZERS["sgd"].title)
    page.get_by_text("SGD seed").first.wait_for(timeout=10000)
    explorer.wait_until("() => window.location.search.includes('optimizer=sgd')")
    # SGD escapes x = 1 towards x = 0 (Wu, Ma, E 2018)
    explorer.wait_until("() => { const x = Bokeh.documents[0].get_model_by_name('iterates')"
                        ".data.x; return Math.abs(x[x.length - 1]) < 0.05; }")
    assert explorer.errors == []


def test_bad_link_shows_a_notice_and_the_page_still_works(explorer, server_url):
    explorer.open(server_url + "?eta=-1&x0=abc&model=nope&steps=300")
    page = explorer.page
    notice = page.get_by_text("Ignored eta=-1")
    notice.wait_for(timeout=10000)
    assert page.get_by_text("Ignored x0=abc").count() == 1
    assert page.get_by_text("Ignored model=nope").count() == 1
    assert explorer.model("threshold_line", "location") == pytest.approx(10.0)
    explorer.slider("step size η").focus()
    page.keyboard.press("ArrowRight")
    explorer.wait_until(f"() => ({SPAN})() < 9.99")


def test_typed_bad_eta_shows_an_alert_not_a_traceback(explorer, server_url):
    explorer.open(server_url)
    page = explorer.page
    box = page.locator("input[aria-label='step size η']")
    box.fill("-1")
    box.press("Enter")
    page.get_by_text("Cannot run this").wait_for(timeout=10000)
    assert page.get_by_text("Traceback").count() == 0
    assert explorer.model("threshold_line", "location") == pytest.approx(10.0)


def test_saddle_start_is_explained(explorer, server_url):
    explorer.open(server_url + "?model=xy&x0=0&y0=0")
    explorer.page.get_by_text("stationary point that is not a minimum").wait_for(timeout=10000)


def test_screenshot_for_the_readme(explorer, server_url):
    explorer.open(server_url + "?model=xyzw&steps=1000")
    explorer.page.wait_for_timeout(1500)
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "screenshot.png"
    explorer.page.screenshot(path=str(shot))
    assert shot.stat().st_size > 20_000
    assert (ROOT / "assets").is_dir()
    shutil.copyfile(shot, ARTIFACTS / "screenshot-latest.png")
