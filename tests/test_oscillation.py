"""The oscillation along q₁ (app/oscillation.py): ∇S, the sign of q₁, the centre, the swing.

∇S is checked against central differences of the sharpness (the engine's and numpy's
eigvalsh of the hand Hessian, tests/reference.py). The swing is checked on two runs past 2/η:

* x2y2 at η = 0.2 from the minimum xy = 1 with x² + y² = 5.5 (S = 11 > 2/η = 10), y nudged
  by 10⁻³: x flips sign at every step from step 12 to the end, |x| peaks at step 29 (0.063)
  and S at the two-step mean falls below 2/η for good at step 26 — 3 steps apart; the test
  allows 5.
* xyzw at η = 0.2 from (3, 0.01, 3, 0.01) (a catapult: S jumps to 40 at step 4): x flips
  sign at every step of steps 64–748, then its ~1e-5 swing is smaller than GD's fixed 0.0126
  offset from the central flow.
"""
from __future__ import annotations

import numpy as np
import pytest

import dynamics
from app import oscillation as osc
from app.anatomy import anatomy
from app.state import ExplorerState

import reference

FD_STEP = 1e-5


def _fd_gradient(f, theta):
    theta = np.asarray(theta, dtype=float)
    out = np.zeros_like(theta)
    for i in range(len(theta)):
        e = np.zeros_like(theta)
        e[i] = FD_STEP
        out[i] = (f(theta + e) - f(theta - e)) / (2 * FD_STEP)
    return out


POINTS = {"xyzw": [(3.0, 0.3, 2.5, 0.4), (1.2, -0.7, 0.9, 1.1)],
          "x2y2": [(2.8, 0.2), (1.5, 0.9)], "arora": [(1.3, 0.4), (-0.5, 2.0)],
          "xy": [(3.5, 0.1), (0.4, 2.2)]}


@pytest.mark.parametrize("name", list(POINTS))
def test_sharpness_gradient_matches_finite_differences(name):
    model = dynamics.MODELS[name]
    rows = np.array(POINTS[name])
    got = osc.sharpness_gradient(model, rows)
    assert got.shape == rows.shape and got.dtype == np.float64
    for row, g in zip(rows, got):
        engine = _fd_gradient(lambda t: float(dynamics.measure(model, t, "sharpness")
                                              ["sharpness"]), row)
        numpy = _fd_gradient(lambda t: reference.sharpness(name, t), row)
        np.testing.assert_allclose(g, engine, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(g, numpy, rtol=1e-6, atol=1e-6)


def test_continuous_sign_undoes_flips_but_not_jumps():
    q = np.array([[0.6, 0.8], [-0.6, -0.8], [0.62, 0.78], [-0.8, 0.6]])
    q[2] /= np.linalg.norm(q[2])
    fixed = osc.continuous_sign(q)
    assert fixed[1] @ fixed[0] > 0 and fixed[2] @ fixed[1] > 0
    np.testing.assert_array_equal(fixed[3], q[3])   # another direction: sign as given


def test_two_step_mean_removes_a_period_two_swing_and_keeps_a_drift():
    k = np.arange(40.0)[:, None]
    drift = np.array([1.0, -2.0, 0.5]) + k * np.array([0.01, 0.03, -0.02])
    swing = 0.3 * (-1.0) ** k * np.array([0.6, 0.8, 0.0])
    mean = osc.two_step_mean(drift + swing)
    np.testing.assert_allclose(mean[1:-1], drift[1:-1], atol=1e-14)


def test_falls_back_and_alternating_stretch():
    s = np.array([9, 11, 12, 9.5, 10.5, 9.8, 9.7, 9.9])
    assert osc.falls_back(s, np.full(8, 10.0)) == 5
    assert osc.falls_back(np.full(5, 9.0), np.full(5, 10.0)) is None
    x = np.array([0.1, 0.2, -0.1, 0.1, -0.2, -0.1, 0.1])
    assert osc.alternating_stretch(x) == (1, 4)


def _state(**values) -> ExplorerState:
    state = ExplorerState()
    if "model" in values:
        state.model = values.pop("model")
    state.param.update(**values)
    return state


@pytest.fixture(scope="module")
def manifold_run():
    x0 = float(np.sqrt((5.5 + np.sqrt(5.5**2 - 4)) / 2))   # x² + y² = 5.5 on xy = 1
    state = _state(model="x2y2", eta=0.2, x0=x0, y0=1 / x0 + 1e-3, steps=400)
    return anatomy(state.spec())


def test_swing_alternates_and_peaks_where_the_mean_sharpness_falls_back(manifold_run):
    o = osc.oscillation(manifold_run)
    assert o.centre == "central flow"
    assert o.edge_step == 0 and manifold_run.traj.sharpness[0] == pytest.approx(11.0, abs=0.1)
    k, j = o.stretch
    assert k <= 30 and j == 400
    assert np.all(np.sign(o.x[k:j]) == -np.sign(o.x[k + 1:j + 1]))   # period 2
    assert o.back_step is not None and abs(o.peak_step - o.back_step) <= 5
    assert 0.05 < o.peak < 0.08
    assert np.max(np.abs(o.x[-2:])) < 0.2 * o.peak   # and it shrinks after
    # the mean's S rose above 2/η before and stays below it after
    assert o.mean_sharpness[0] > 10 and np.all(o.mean_sharpness[o.back_step:] < 10)
    text, _ = osc.words(o, manifold_run)
    assert text.startswith("The sharpness starts above 2/η, so the swing along q₁ begins")
    assert f"|x| peaks at step {o.peak_step}" in text and "just as" in text


def test_catapult_run_alternates_from_step_64_on():
    state = _state(model="xyzw", eta=0.2, x0=3.0, y0=0.01, steps=1500)
    an = anatomy(state.spec())
    o = osc.oscillation(an)
    assert o.edge_step == 4 and o.stretch[0] <= 70 and o.stretch[1] >= 740
    assert o.peak_step == 19 and 1.0 < o.peak < 1.1
    assert np.max(np.abs(o.x[-2:])) < 1e-4


def test_a_run_below_the_threshold_says_so():
    state = _state(model="x2y2", eta=0.05, x0=2.8, y0=0.2, steps=300)   # 2/η = 40
    an = anatomy(state.spec())
    o = osc.oscillation(an)
    assert o.edge_step is None and o.peak_step is None
    text, level = osc.words(o, an)
    assert text.startswith("This run stays below 2/η") and "no oscillation to see" in text
    assert level == "warning"


def test_other_rules_take_the_two_step_mean_and_say_whose_central_flow_it_is():
    state = _state(model="x2y2", eta=0.05, x0=2.8, y0=0.2, steps=300, optimizer="momentum")
    an = anatomy(state.spec())
    o = osc.oscillation(an)
    assert o.centre == "two-step mean"
    np.testing.assert_allclose(o.x, np.einsum(
        "ij,ij->i", an.params - osc.two_step_mean(an.params),
        osc.continuous_sign(dynamics.measure(an.spec.model, osc.two_step_mean(an.params),
                                             "top_eigenvector")["top_eigenvector"])))


def test_the_view_slider_says_when_no_iterate_is_marked():
    """The anatomy views' step slider shows no "k: 0" while no replay cursor is set."""
    from bokeh.document import Document
    from panel.io.state import set_curdoc

    from app.state import ExplorerState
    from app.views_oscillation import OscillationView

    state = ExplorerState(view="oscillation")
    with set_curdoc(Document()):
        view = OscillationView(state)
    assert not view.slider.show_value and "none marked" in view.slider.name
    state.cursor = 40
    assert view.slider.show_value and view.slider.name == "replay step k"
    state.cursor = -1
    assert not view.slider.show_value
