"""Distance from gradient flow and from the central flow (app/distance.py).

xyzw at η = 0.2 from (3, 0.01, 3, 0.01), 1500 steps: S first reaches 2/η at step 4
(t = 0.8). From there the two-step average ½(θ_k + θ_{k+1}) is nearer the central flow than
gradient flow at every step; at the end it is 0.01256 from the central flow and 1.1987 from
gradient flow (REFERENCES.md: 0.013 and 1.2). Gradient flow is checked against scipy's
solve_ivp of the hand gradient (tests/reference.py) at the same times.
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import reference
from app import distance as dist
from app.anatomy import anatomy
from app.state import ExplorerState


@pytest.fixture(scope="module")
def xyzw_run():
    state = ExplorerState()
    state.param.update(eta=0.2, x0=3.0, y0=0.01, steps=1500)
    assert state.start() == (3.0, 0.01, 3.0, 0.01)
    return anatomy(state.spec())


def test_the_flows_are_sampled_at_the_runs_times(xyzw_run):
    an = xyzw_run
    assert an.n == 1501
    np.testing.assert_array_equal(an.flow.time, an.traj.time)
    np.testing.assert_array_equal(an.central.time, an.traj.time)
    np.testing.assert_allclose(an.time, 0.2 * np.arange(1501), rtol=1e-12)


def test_gradient_flow_distance_against_scipy(xyzw_run):
    d = dist.distance(xyzw_run)
    ks = [10, 100, 1500]
    sol = solve_ivp(lambda t, y: -reference.grad("xyzw", y), (0, 300), [3.0, 0.01, 3.0, 0.01],
                    t_eval=xyzw_run.time[ks], rtol=1e-12, atol=1e-14, method="DOP853")
    expected = np.linalg.norm(xyzw_run.params[ks] - sol.y.T, axis=1)
    np.testing.assert_allclose(d.gf[ks], expected, rtol=1e-6)


def test_the_two_step_average_is_nearer_the_central_flow_after_the_edge(xyzw_run):
    d = dist.distance(xyzw_run)
    assert d.edge_step == 4 and d.edge_time == pytest.approx(0.8)
    k = d.edge_step
    assert np.all(d.mean_cf[k:] < d.mean_gf[k:])
    assert d.mean_cf[-1] == pytest.approx(0.01256, abs=5e-5)
    assert d.mean_gf[-1] == pytest.approx(1.1987, abs=5e-4)
    num = d.after_edge()
    assert num["mean_closer"] == 1.0 and num["mean_ratio"] < 0.1
    assert d.gf[0] == 0.0 and d.cf[0] == 0.0   # one start


def test_words_follow_the_numbers(xyzw_run):
    d = dist.distance(xyzw_run)
    text, level = dist.words(d, xyzw_run)
    assert text.startswith("From t = 0.8, where S first reaches 2/η")
    assert "1.2 at the end" in text and "0.013 at the end" in text
    assert "the second stays small where the first grows" in text
    # in the first swings GD is as far from the central flow as from gradient flow
    assert "after the first swings" in text


def test_below_the_threshold_there_is_no_claim():
    state = ExplorerState()
    state.model = "x2y2"
    state.param.update(eta=0.05, x0=2.8, y0=0.2, steps=300)
    an = anatomy(state.spec())
    d = dist.distance(an)
    text, _ = dist.words(d, an)
    assert d.edge_step is None and text.startswith("This run stays below 2/η")
    assert "stays small" not in text
    # below 2/η the central flow is gradient flow
    np.testing.assert_allclose(an.central.params, an.flow.params, atol=1e-9)


def test_log_column_hides_zero():
    out = dist.log_column([0.0, 1e-3, -1.0, 2.0])
    assert np.isnan(out[0]) and np.isnan(out[2]) and out[1] == 1e-3 and out[3] == 2.0
