"""The oscillation and distance views in a real browser: the plotted columns are the pure
layers' (app/oscillation.py, app/distance.py), the cursor line follows ``cursor=`` and the
trajectory view's cursor, a run below 2/η says so, and nothing logs an error."""
from __future__ import annotations

import numpy as np
import pytest

from app.anatomy import anatomy
from app.distance import distance
from app.oscillation import oscillation
from app.state import ExplorerState
from app.views_distance import layers as distance_layers
from app.views_oscillation import layers as oscillation_layers

from .conftest import ARTIFACTS

pytestmark = pytest.mark.ui

RUN = "x0=3&y0=0.01&eta=0.2&steps=1500"
FILLED = ("() => { const s = Bokeh.documents.length && "
          "Bokeh.documents[0].get_model_by_name(%r);"
          " return s != null && s.data != null && (s.get_length() ?? 0) > 0 }")


def _open(explorer, url: str, source: str):
    explorer.page.goto(url, timeout=120000)
    explorer.wait_until(FILLED % source, timeout=240000)
    return explorer


def _words(explorer, name: str) -> str:
    return explorer.model(name, "text")


def _pure(**values):
    state = ExplorerState()
    if "model" in values:
        state.model = values.pop("model")
    state.param.update(**values)
    return anatomy(state.spec())


def _same(browser_column, expected):
    got = np.array([np.nan if v is None else v for v in browser_column], dtype=float)
    np.testing.assert_allclose(got, np.asarray(expected, dtype=float), rtol=1e-12,
                               equal_nan=True)


def test_oscillation_view_draws_the_pure_layers_and_the_cursor(explorer, server_url):
    _open(explorer, server_url + f"?view=oscillation&{RUN}&cursor=120", "osc_swing")
    data = oscillation_layers(oscillation(_pure(eta=0.2, x0=3.0, y0=0.01, steps=1500)))
    for source, columns in data.items():
        for column, values in columns.items():
            _same(explorer.column(source, column), values)
    explorer.wait_until("() => Bokeh.documents[0].get_model_by_name('osc_cursor_swing')"
                        ".location === 120")
    assert explorer.model("osc_cursor_sharpness", "location") == 120
    assert explorer.model("osc_edge_swing", "location") == 4
    assert explorer.column("osc_cursor", "x") == [data["osc_phase"]["x"][120]]
    text = _words(explorer, "osc_words")
    assert "first reaches 2/η at step 4" in text and "central flow" in text
    ARTIFACTS.mkdir(exist_ok=True)
    explorer.page.screenshot(path=str(ARTIFACTS / "oscillation-1400x900.png"))
    assert explorer.errors == []


def test_distance_view_draws_the_pure_layers_and_the_cursor(explorer, server_url):
    _open(explorer, server_url + f"?view=distance&{RUN}&cursor=300", "dist_steps")
    an = _pure(eta=0.2, x0=3.0, y0=0.01, steps=1500)
    data = distance_layers(distance(an))
    for source, columns in data.items():
        for column, values in columns.items():
            _same(explorer.column(source, column), values)
    explorer.wait_until("() => Math.abs(Bokeh.documents[0].get_model_by_name('dist_cursor')"
                        ".location - 60) < 1e-9")
    assert explorer.model("dist_edge", "location") == pytest.approx(0.8)
    text = _words(explorer, "dist_words")
    assert "the second stays small where the first grows" in text
    assert explorer.errors == []


def test_the_trajectory_views_cursor_carries_over(explorer, server_url):
    explorer.open(server_url + "?model=x2y2&eta=0.05&x0=2.8&y0=0.2&steps=300&cursor=50")
    explorer.page.get_by_role("button", name="Swing along q₁").click()
    explorer.wait_until(FILLED % "osc_swing", timeout=240000)
    explorer.wait_until("() => Bokeh.documents[0].get_model_by_name('osc_cursor_swing')"
                        ".location === 50")
    # this run stays below 2/η = 40: the view says so instead of inventing a swing
    explorer.wait_until("() => Bokeh.documents[0].get_model_by_name('osc_words').text"
                        ".includes('This run stays below 2/η')")
    assert "no oscillation to see" in _words(explorer, "osc_words")
    assert explorer.model("osc_edge_swing", "location") is None
    explorer.page.get_by_role("button", name="GD vs the flows").click()
    explorer.wait_until(FILLED % "dist_steps", timeout=240000)
    explorer.wait_until("() => Math.abs(Bokeh.documents[0].get_model_by_name('dist_cursor')"
                        ".location - 2.5) < 1e-9")   # t₅₀ = 50 η
    assert _words(explorer, "dist_words").startswith("<div")
    assert "This run stays below 2/η" in _words(explorer, "dist_words")
    explorer.wait_until("() => window.location.search.includes('view=distance')")
    assert explorer.errors == []
