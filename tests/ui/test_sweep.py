"""The η sweep (view=sweep) in a real browser: its data, the η marker, a click, bad links."""
from __future__ import annotations

import pytest

from .conftest import ARTIFACTS

pytestmark = pytest.mark.ui

CASCADE = ("?view=sweep&model=x2y2&x0=1.2&y0=0.9&eta=0.6&sweep_eta_from=0.3"
           "&sweep_eta_to=0.85&sweep_count=150")
MARKER = "() => Bokeh.documents[0].get_model_by_name('sweep_eta_marker').location"
POINTS = ("() => { const d = (n) => Bokeh.documents[0].get_model_by_name(n).data.eta.length;"
          " return d('sweep_converged') + d('sweep_cycle') + d('sweep_cloud'); }")


def _open_sweep(explorer, url: str) -> None:
    explorer.page.goto(url)
    explorer.wait_until("() => window.Bokeh && Bokeh.documents.length > 0 && "
                        "Bokeh.documents[0].get_model_by_name('sweep_eta_marker') !== null",
                        timeout=180000)
    explorer.wait_until(f"() => ({POINTS})() > 0", timeout=180000)
    explorer.slider("step size η").wait_for(timeout=30000)


def _full_picture(explorer, count: int) -> None:
    """The coarse picture first, then the full one: wait for the caption of all the runs."""
    explorer.page.get_by_text(f"{count} runs from").wait_for(timeout=60000)


def test_the_diagram_shows_the_cascade_and_the_marker_follows_the_slider(explorer, server_url):
    _open_sweep(explorer, server_url + CASCADE)
    _full_picture(explorer, 150)   # x2y2 from (1.2, 0.9): no run diverges below η = 0.85
    cycle_etas = explorer.column("sweep_cycle", "eta")
    periods = explorer.column("sweep_cycle", "period")
    assert min(e for e, p in zip(cycle_etas, periods) if p == 2) == pytest.approx(0.5, abs=0.01)
    assert 4 in periods
    converged = explorer.column("sweep_converged", "eta")
    assert max(converged) < 0.5 < min(cycle_etas) + 0.01
    threshold = explorer.column("sweep_threshold", "value")
    etas = explorer.column("sweep_threshold", "eta")
    assert all(abs(v - 2 / e) < 1e-9 for v, e in zip(threshold, etas) if v == v)
    caption = explorer.page.get_by_text("period doubling")
    assert caption.count() == 1
    assert explorer.page.evaluate(MARKER) == pytest.approx(0.6)
    explorer.slider("step size η").focus()
    explorer.page.keyboard.press("ArrowRight")
    explorer.wait_until(f"() => Math.abs(({MARKER})() - 0.601) < 1e-9")
    explorer.page.screenshot(path=str(ARTIFACTS / "sweep-x2y2-cascade.png"))
    assert explorer.errors == []


def test_a_click_on_the_diagram_sets_eta(explorer, server_url):
    _open_sweep(explorer, server_url + CASCADE)
    canvas = explorer.page.locator(".bk-Canvas").first
    box = canvas.bounding_box()
    explorer.page.mouse.click(box["x"] + 0.3 * box["width"], box["y"] + 0.6 * box["height"])
    explorer.wait_until(f"() => Math.abs(({MARKER})() - 0.6) > 0.01")
    eta = explorer.page.evaluate(MARKER)
    assert 0.3 < eta < 0.85
    assert round(eta, 3) == pytest.approx(eta, abs=1e-12)   # on the slider's step
    explorer.wait_until("(e) => window.location.search.includes('eta=' + e)", arg=str(eta))
    assert explorer.errors == []


def test_bad_sweep_values_in_the_link_give_a_notice(explorer, server_url):
    _open_sweep(explorer, server_url + "?view=sweep&model=quadratic&sweep_count=9999"
                "&sweep_eta_to=-1&sweep_steps=5000")
    explorer.page.get_by_text("Ignored sweep_count=9999").wait_for(timeout=60000)
    assert explorer.page.get_by_text("Ignored sweep_eta_to=-1").count() == 1
    # the defaults ran: the quadratic converges below 2/λ₁ = 2 and diverges above
    _full_picture(explorer, 300)
    # the full grid's band (spacing 0.0083; the coarse one's starts at 2.015)
    explorer.wait_until("() => { const d = Bokeh.documents[0].get_model_by_name("
                        "'sweep_diverged').data.left; return d.length === 1 && d[0] < 2.01; }",
                        timeout=60000)
    assert max(explorer.column("sweep_converged", "eta")) < 2.0
    left = explorer.column("sweep_diverged", "left")
    assert len(left) == 1 and 2.0 <= left[0] < 2.01
    assert explorer.errors == []
