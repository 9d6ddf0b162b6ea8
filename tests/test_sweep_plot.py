"""The η sweep's data layers, words and state (no browser): app/sweep_plot.py, app/views_sweep.py."""
import numpy as np
import pytest

import dynamics
from app import sweep_plot
from app.state import ExplorerState
from app.views_sweep import SweepView, sweep_spec

QUAD = dynamics.quadratic([1.0, 0.4])   # 2/λ₁ = 2


@pytest.fixture(scope="module")
def quad():
    return dynamics.bifurcation(QUAD, [1.0, 1.0], np.linspace(0.05, 2.5, 120), 20000)


@pytest.fixture(scope="module")
def cascade():
    return dynamics.bifurcation("x2y2", [1.2, 0.9], np.linspace(0.301, 0.85, 120), 20000)


def test_quadratic_layers_follow_the_closed_form(quad):
    data = sweep_plot.diagram_data(quad, "sharpness")
    below = quad.etas < 2.0
    np.testing.assert_array_equal(data["sweep_converged"]["eta"], quad.etas[below])
    np.testing.assert_allclose(data["sweep_converged"]["value"], 1.0, rtol=1e-12)  # S = λ₁
    assert data["sweep_cycle"]["eta"].size == 0
    # one grey band from mid-way between the last converging and first diverging η
    first = quad.etas[~below].min()
    last = quad.etas[below].max()
    np.testing.assert_allclose(data["sweep_diverged"]["left"], [(first + last) / 2])
    np.testing.assert_allclose(data["sweep_diverged"]["right"], [quad.etas.max()])
    curve = data["sweep_threshold"]
    shown = np.isfinite(curve["value"])
    np.testing.assert_allclose(curve["value"][shown], 2.0 / curve["eta"][shown], rtol=1e-12)
    lo, hi = data["y_range"]
    assert lo < 1.0 < hi


def test_quadratic_caption_says_what_the_sweep_did(quad):
    text = sweep_plot.caption(quad, "gd")
    assert "converges iff η < 2/λ₁ = 2 and never cycles" in text
    assert "2-cycle" not in text and "period doubling" not in text
    assert f"from η ≈ {quad.etas[quad.diverged].min():.4g} runs diverge" in text


def test_cycles_draw_their_p_points_and_the_caption_reads_the_doubling_off_the_data(cascade):
    data = sweep_plot.diagram_data(cascade, "observable")
    xy = cascade.tail_params[..., 0] * cascade.tail_params[..., 1]
    two = np.flatnonzero(cascade.period == 2)
    assert two.size > 5
    for i in two[:5]:
        at = data["sweep_cycle"]["eta"] == cascade.etas[i]
        assert at.sum() == 2
        np.testing.assert_array_equal(np.sort(data["sweep_cycle"]["value"][at]), np.sort(xy[i, -2:]))
    cloud = (cascade.period == 0) & ~cascade.diverged
    assert data["sweep_cloud"]["eta"].size == cloud.sum() * cascade.tail_params.shape[1]
    assert data["sweep_threshold"]["eta"].size == 0   # no threshold for xy
    text = sweep_plot.caption(cascade, "gd")
    first = cascade.first_eta_with_period(2)
    assert 0.5 < first < 0.51
    assert f"from η ≈ {first:.4g} the fixed point has lost stability" in text
    assert f"period 4 from η ≈ {cascade.first_eta_with_period(4):.4g}" in text
    assert "chaos" in text


def test_the_default_start_of_x2y2_shows_the_edge_of_stability_and_no_cascade():
    b = dynamics.bifurcation("x2y2", [2.8, 0.2], np.linspace(0.01, 0.9, 90), 5000)
    text = sweep_plot.caption(b, "gd")
    assert "the edge of stability" in text and "period doubling" not in text
    assert "x₀ = 1.2, y₀ = 0.9" in text   # where to look instead
    edge = b.converged & (b.tail_sharpness[:, -1] > 0.98 * b.threshold)
    assert np.all(b.tail_sharpness[edge, -1] < b.threshold[edge])


def test_sweep_state_defaults_follow_the_model_and_bad_links_give_notices():
    state = ExplorerState()
    state.apply_query({"model": "quadratic"})
    assert (state.sweep_eta_from, state.sweep_eta_to) == (0.01, 2.5)
    state.apply_query({"model": "x2y2"})
    assert state.sweep_eta_to == 0.9
    notices = state.apply_query({"sweep_count": "9999", "sweep_eta_to": "nan",
                                 "sweep_keep": "1", "sweep_quantity": "colour"})
    assert len(notices) == 4 and all(n.startswith("Ignored sweep_") for n in notices)
    assert state.sweep_count == 300 and state.sweep_keep == 64
    state.apply_query({"sweep_eta_from": "0.3", "sweep_steps": "5000"})
    query = state.query()
    assert query["sweep_eta_from"] == "0.3" and query["sweep_steps"] == "5000"


def test_sweep_spec_refuses_what_cannot_run():
    state = ExplorerState(model="x2y2")
    state.param.update(sweep_eta_from=0.5, sweep_eta_to=0.4)
    assert "must be below" in sweep_spec(state)
    state.param.update(sweep_eta_from=0.1, sweep_keep=256, sweep_steps=100)
    assert "steps per η" in sweep_spec(state)
    state.sweep_steps = 1000
    state.optimizer = "flow"
    assert "flow" in sweep_spec(state)


def test_the_view_draws_follows_eta_and_a_tap_sets_eta_through_the_gate():
    state = ExplorerState()
    state.apply_query({"view": "sweep", "model": "x2y2", "x0": "1.2", "y0": "0.9",
                       "sweep_eta_from": "0.3", "sweep_eta_to": "0.85", "sweep_count": "80",
                       "sweep_steps": "5000"})
    view = SweepView(state)
    assert view.canvas.sources["sweep_cycle"].data["eta"].size > 0
    assert "period doubling" in view.caption.object
    state.eta = 0.61
    assert view.canvas.marker.location == 0.61
    view._on_tap(type("Tap", (), {"x": 0.65432, "y": 1.0})())
    assert state.eta == 0.654
    view._on_tap(type("Tap", (), {"x": 1.5, "y": 1.0})())   # beyond x2y2's η
    assert state.eta == 0.654 and "must lie in" in state.input_error
