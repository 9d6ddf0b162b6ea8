"""Momentum, Adam and the central flow in a real browser: sliders, threshold line, overlays."""
from __future__ import annotations

import pytest

from .conftest import ARTIFACTS

pytestmark = pytest.mark.ui

SPAN = "() => Bokeh.documents[0].get_model_by_name('threshold_line').location"
LENGTH = "(n) => Bokeh.documents[0].get_model_by_name(n).get_length() ?? 0"


def _screenshots(explorer, name: str) -> None:
    """The page at 1400×900, then at 1024×768 (for a look: tests/ui artifacts)."""
    page = explorer.page
    page.wait_for_timeout(800)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    page.set_viewport_size({"width": 1024, "height": 768})
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ARTIFACTS / f"{name}_1024.png"), full_page=True)


def test_momentum_link_sets_beta_and_its_threshold(explorer, server_url):
    explorer.open(server_url + "?optimizer=momentum&beta=0.5")
    eta = 0.2
    explorer.wait_until(f"() => Math.abs(({SPAN})() - {(2 + 2 * 0.5) / eta}) < 1e-9")
    assert explorer.slider("momentum β").is_visible()
    assert explorer.slider("step size η").is_visible()
    assert explorer.slider("Adam β₁").count() == 0 or not explorer.slider("Adam β₁").is_visible()
    steps = explorer.column("threshold_steps", "threshold")
    assert steps and all(abs(t - 15.0) < 1e-4 for t in steps)
    explorer.page.locator(".bk-item", has_text="threshold (2+2β)/η").first.wait_for(timeout=10000)
    explorer.page.get_by_text("(2+2β)/η = 15").first.wait_for(timeout=10000)
    _screenshots(explorer, "momentum")
    assert explorer.errors == []


def test_switching_to_adam_draws_the_preconditioned_sharpness(explorer, server_url):
    explorer.open(server_url + "?optimizer=momentum&beta=0.5")
    explorer.page.get_by_label("optimizer", exact=True).first.select_option(label="Adam")
    # Adam's default β₁ = 0.9: (2 + 2·0.9)/((1 − 0.9)·0.2) = 190
    explorer.wait_until(f"() => Math.abs(({SPAN})() - 190) < 1e-6", timeout=60000)
    explorer.wait_until(f"() => ({LENGTH})('run_raw') > 10", timeout=30000)
    assert explorer.slider("Adam β₁").is_visible() and explorer.slider("β₂").is_visible()
    assert not explorer.slider("momentum β").is_visible()
    effective = explorer.column("run", "sharpness")
    raw = explorer.column("run_raw", "sharpness")
    assert len(effective) == len(raw) and effective != raw
    explorer.page.locator(".bk-item", has_text="λ_max(P⁻¹H): even steps").first.wait_for(timeout=10000)
    explorer.page.locator(".bk-item", has_text="raw sharpness λ_max(H)").first.wait_for(timeout=10000)
    explorer.wait_until("() => window.location.search.includes('optimizer=adam')")
    _screenshots(explorer, "adam")
    assert explorer.errors == []


def test_the_central_flow_switch_adds_its_lines(explorer, server_url):
    explorer.open(server_url)
    assert explorer.page.evaluate(LENGTH, "central_flow_run") == 0
    explorer.page.get_by_label("show central flow", exact=True).first.check()
    explorer.wait_until(f"() => ({LENGTH})('central_flow_run') > 10", timeout=60000)
    explorer.wait_until(f"() => ({LENGTH})('central_flow') > 10", timeout=10000)
    sharp = explorer.column("central_flow_run", "sharpness")
    assert max(sharp) <= 2 / 0.2 * (1 + 1e-5)   # held at S ≤ 2/η
    explorer.page.locator(".bk-item", has_text="central flow").first.wait_for(timeout=10000)
    explorer.wait_until("() => window.location.search.includes('show_central_flow=True')")
    _screenshots(explorer, "central_flow")
    assert explorer.errors == []


def test_switching_to_a_3_cycle_adds_its_dots_to_the_live_page(explorer, server_url):
    """The dots of a cycle longer than 2 are not in a first page; choosing x2y2 and GD on √L
    in the menus builds them into the live page and shows them, with their legend entry."""
    explorer.open(server_url)
    page = explorer.page
    assert page.evaluate("() => Bokeh.documents[0].get_model_by_name('loss_dots')") is None
    selects = page.locator("select")
    selects.nth(1).select_option(label="Degree 4 in the plane: ¼ (1 − x²y²)²")
    page.wait_for_timeout(1500)
    selects.nth(2).select_option(label="GD on √L")
    explorer.wait_until("() => { const d = Bokeh.documents[0];"
                        " const m = d.get_model_by_name('loss_dots');"
                        " return m !== null && m.visible && d.get_model_by_name('sharpness_dots').visible }",
                        timeout=30000)
    entries = page.evaluate("() => [...Bokeh.documents[0]._all_models.values()]"
                            ".filter(m => m.label && m.label.value === 'every step' && m.visible).length")
    assert entries == 2
    assert explorer.errors == []
