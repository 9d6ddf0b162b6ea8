"""The (a, b) view in a real browser: its data is the transform of the run, the cursor moves
its marker, a model without (a, b) says so and offers x2y2, Zhu's Fig. 3 button, screenshots."""
from __future__ import annotations

import math

import numpy as np
import pytest

import dynamics
from app import ab_plane as ab

from .conftest import ARTIFACTS

pytestmark = pytest.mark.ui

HAS_RUN = ("() => { const s = Bokeh.documents[0]?.get_model_by_name('ab_even');"
           " return s != null && s.get_length() > 0 }")


def open_ab(explorer, url: str, ready: str = HAS_RUN):
    explorer.page.goto(url)
    explorer.wait_until("() => window.Bokeh && Bokeh.documents.length > 0", timeout=60000)
    explorer.wait_until(ready, timeout=60000)
    return explorer


def test_the_plotted_points_are_zhus_transform_of_the_run(explorer, server_url):
    open_ab(explorer, server_url + "?view=ab&model=x2y2&eta=0.2")
    traj = dynamics.simulate("x2y2", (2.8, 0.2), 0.2, 1500)
    path = ab.ab_path("x2y2", traj.params, 0.2)
    for name, rows in (("ab_even", slice(0, None, 2)), ("ab_odd", slice(1, None, 2))):
        assert np.allclose(explorer.column(name, "a"), path.a[rows], rtol=0, atol=1e-12)
        assert np.allclose(explorer.column(name, "b"), path.b[rows], rtol=0, atol=1e-12)
    k = math.sqrt(0.2)
    a, b = np.array(explorer.column("ab_parabola", "a")), np.array(explorer.column("ab_parabola", "b"))
    assert np.allclose(b**2, a * k / 2 + k**4 / 16, atol=1e-12)
    assert explorer.model("ab_edge", "location") == pytest.approx(-k**3 / 8)
    assert explorer.model("ab_doubling", "location") == pytest.approx(1 / (8 * k))
    assert len(explorer.column("ab_bifurcation", "a")) > 1000
    text = explorer.page.get_by_text("Last iterate (step 1500)")
    assert "at the edge" in text.inner_text() and "9.927 < 2/η = 10" in text.inner_text()
    assert explorer.errors == []


def test_the_cursor_moves_the_marker_and_is_in_the_url(explorer, server_url):
    open_ab(explorer, server_url + "?view=ab&model=x2y2&eta=0.2&cursor=40")
    path = ab.ab_path("x2y2", dynamics.simulate("x2y2", (2.8, 0.2), 0.2, 1500).params, 0.2)
    explorer.wait_until("() => Bokeh.documents[0].get_model_by_name('ab_cursor').get_length()")
    assert explorer.column("ab_cursor", "a") == pytest.approx([path.a[40]], abs=1e-12)
    handle = explorer.slider("replay step k")
    handle.wait_for(timeout=15000)
    handle.focus()
    for _ in range(3):
        explorer.page.keyboard.press("ArrowRight")
    explorer.wait_until("() => Bokeh.documents[0].get_model_by_name('ab_cursor').data.step[0]"
                        " === 43")
    assert explorer.column("ab_cursor", "b") == pytest.approx([path.b[43]], abs=1e-12)
    explorer.wait_until("() => window.location.search.includes('cursor=43')")
    assert explorer.errors == []


def test_a_model_without_ab_says_so_and_offers_x2y2(explorer, server_url):
    open_ab(explorer, server_url + "?view=ab&model=quadratic",
            ready="() => Bokeh.documents[0].get_model_by_name('ab_plane') !== null")
    page = explorer.page
    message = page.get_by_text("has no such coordinates")
    message.wait_for(timeout=15000)
    assert "'quadratic'" in message.inner_text()
    page.get_by_role("button", name="Switch to x2y2").click()
    explorer.wait_until(HAS_RUN, timeout=30000)
    explorer.wait_until("() => window.location.search.includes('model=x2y2')")
    assert not message.is_visible()
    assert explorer.errors == []


def test_eta_at_one_half_is_undefined_and_said(explorer, server_url):
    open_ab(explorer, server_url + "?view=ab&model=x2y2&eta=0.5",
            ready="() => Bokeh.documents[0].get_model_by_name('ab_plane') !== null")
    explorer.page.get_by_text("exists only for η < 0.5").wait_for(timeout=15000)
    assert explorer.errors == []


@pytest.mark.parametrize("w, h", [(1024, 768), (1400, 900)])
def test_zhus_fig3_button_and_screenshots(browser, server_url, w, h):
    from .conftest import Page
    context = browser.new_context(viewport={"width": w, "height": h})
    explorer = open_ab(Page(context.new_page()), server_url + "?view=ab&model=x2y2&eta=0.2")
    page = explorer.page
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_timeout(800)
    page.screenshot(path=str(ARTIFACTS / f"ab-x2y2-{w}x{h}.png"))
    page.get_by_role("button", name="Zhu's Fig. 3 setting").click()
    explorer.wait_until("() => Bokeh.documents[0].get_model_by_name('ab_even').get_length()"
                        " === 10001", timeout=90000)
    page.get_by_text("150 000 steps").wait_for(timeout=15000)
    explorer.wait_until("() => window.location.search.includes('eta=0.01')", timeout=60000)
    href = page.evaluate("() => window.location.href")   # (page.url follows a moment later)
    assert "x0=12.5" in href and "steps=20000" in href
    a = np.array(explorer.column("ab_even", "a"))
    assert a[0] == pytest.approx(math.sqrt(12.5**2 - 0.05**2) - (1e4 - 4) ** 0.25)
    page.wait_for_timeout(800)
    page.screenshot(path=str(ARTIFACTS / f"ab-zhu-{w}x{h}.png"))
    explorer.page.goto(server_url + "?view=ab&model=xy")
    explorer.wait_until(HAS_RUN, timeout=60000)
    page.get_by_text("Degree 2 has no bifurcation diagram").wait_for(timeout=15000)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.wait_for_timeout(800)
    page.screenshot(path=str(ARTIFACTS / f"ab-xy-{w}x{h}.png"))
    assert explorer.errors == []
    context.close()
