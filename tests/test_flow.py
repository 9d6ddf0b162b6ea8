"""Gradient flow dθ/dt = −∇L, reported at traj.time = cumulative Σ η.

Expected values: θ(t) = θ₀ e^{−λt} on quadratics; elsewhere scipy's solve_ivp (DOP853,
rtol 1e-11) on the hand gradients of ``reference.py``.

Tolerances: the contract allows a solver tolerance up to 1e-8, relative *and* absolute
(a mixed error test), so values that decay far below 1 are only good to ~1e-8 absolutely.
Comparisons are rtol 1e-7 with atol ATOL = 1e-8.
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.integrate import solve_ivp

import dynamics
import reference as ref

ATOL = 1e-8


def reference_flow(name, theta0, times, lams=None):
    sol = solve_ivp(lambda t, y: -ref.grad(name, y, lams), (0.0, float(times[-1])),
                    np.asarray(theta0, dtype=np.float64), method="DOP853",
                    t_eval=times, rtol=1e-11, atol=1e-14)
    assert sol.success
    return sol.y.T


@pytest.mark.parametrize("lams,eta,steps", [([1.0], 0.1, 30), ([3.0, 0.5], 0.25, 20), ([10.0, 1.0, 0.1], 0.05, 40)])
def test_flow_on_a_quadratic_is_an_exponential(lams, eta, steps):
    theta0 = np.linspace(1.0, -0.5, len(lams))
    traj = dynamics.simulate(dynamics.quadratic(lams), theta0, eta, steps, optimizer="flow")
    assert traj.diverged_at is None and len(traj.params) == steps + 1
    np.testing.assert_allclose(traj.time, eta * np.arange(steps + 1), rtol=1e-13)
    np.testing.assert_allclose(traj.eta, eta)
    expected = theta0 * np.exp(-np.outer(traj.time, lams))
    np.testing.assert_allclose(traj.params, expected, rtol=1e-7, atol=ATOL)
    np.testing.assert_allclose(traj.sharpness, max(lams), rtol=1e-14)
    np.testing.assert_allclose(traj.loss, [0.5 * np.sum(np.asarray(lams) * t**2) for t in traj.params],
                               rtol=1e-13, atol=1e-300)


def test_flow_does_not_care_about_the_edge():
    # η = 3 > 2/λ: GD would diverge, the flow just decays.
    traj = dynamics.simulate(dynamics.quadratic([1.0]), [2.0], 3.0, 5, optimizer="flow")
    assert traj.diverged_at is None
    np.testing.assert_allclose(traj.params[:, 0], 2.0 * np.exp(-3.0 * np.arange(6)), rtol=1e-7, atol=ATOL)


def test_flow_divergence_in_an_unstable_direction():
    # λ = −1: θ(t) = e^{t}, which passes 1e6 at t = ln 1e6 ≈ 13.82, i.e. at k = 14 for η = 1.
    traj = dynamics.simulate(dynamics.quadratic([-1.0]), [1.0], 1.0, 30, optimizer="flow")
    assert math.exp(13) < 1e6 < math.exp(14)
    assert traj.diverged_at == 14 and len(traj.params) == 14
    np.testing.assert_allclose(traj.params[:, 0], np.exp(np.arange(14.0)), rtol=1e-7)


def test_flow_relative_accuracy_while_values_are_of_order_one():
    # λt ≤ 3: every coordinate stays above 0.05, where a 1e-8 tolerance means rtol 1e-7.
    lams = [2.0, 0.7]
    traj = dynamics.simulate(dynamics.quadratic(lams), [1.0, -1.0], 0.05, 30, optimizer="flow")
    expected = np.array([1.0, -1.0]) * np.exp(-np.outer(traj.time, lams))
    assert np.abs(expected).min() > 0.04
    np.testing.assert_allclose(traj.params, expected, rtol=1e-7, atol=0)
    for a in (traj.params, traj.loss, traj.sharpness, traj.time, traj.eta):
        assert np.all(np.isfinite(a))


@pytest.mark.parametrize("name,start,eta,steps", [
    ("xy", (4.0, 0.1), 0.2, 50), ("x2y2", (3.2, 0.3), 0.2, 40), ("xyzw", (1.3, 0.6, 0.9, 1.1), 0.1, 40),
    ("xyzw", (3.2, 0.3, 3.2, 0.3), 0.05, 40), ("arora", (14.7, 3.0), 0.01, 30), ("picky", (0.9,), 0.2, 30)])
def test_flow_matches_solve_ivp(name, start, eta, steps):
    traj = dynamics.simulate(name, start, eta, steps, optimizer="flow")
    assert traj.diverged_at is None
    np.testing.assert_allclose(traj.time, eta * np.arange(steps + 1), rtol=1e-13)
    expected = reference_flow(name, start, traj.time)
    np.testing.assert_allclose(traj.params, expected, rtol=1e-7, atol=ATOL)
    np.testing.assert_allclose(traj.sharpness, [dynamics.sharpness(name, t) for t in traj.params], rtol=1e-12)


def test_flow_with_a_schedule_reports_at_cumulative_times():
    sched = [(0, 0.1), (10, 0.5)]
    traj = dynamics.simulate(dynamics.quadratic([2.0, 0.3]), [1.0, 1.0], sched, 20, optimizer="flow")
    eta = np.array([0.1] * 10 + [0.5] * 10)
    np.testing.assert_array_equal(traj.eta, eta)
    time = np.concatenate([[0.0], np.cumsum(eta)])
    np.testing.assert_allclose(traj.time, time, rtol=1e-13)
    np.testing.assert_allclose(traj.params, np.exp(-np.outer(time, [2.0, 0.3])), rtol=1e-7, atol=ATOL)


def test_flow_stays_symmetric_on_xyzw():
    traj = dynamics.simulate("xyzw", (2.0, 0.4, 2.0, 0.4), 0.1, 30, optimizer="flow")
    np.testing.assert_allclose(traj.params[:, 2:], traj.params[:, :2], rtol=1e-9, atol=1e-12)


@settings(max_examples=10, deadline=None)
@given(x=st.floats(0.2, 3.0), y=st.floats(0.2, 3.0), eta=st.floats(0.01, 0.3),
       name=st.sampled_from(["xy", "x2y2", "arora"]))
def test_flow_loss_never_increases(x, y, eta, name):
    # dL/dt = −‖∇L‖² ≤ 0 along the flow.
    traj = dynamics.simulate(name, (x, y), eta, 25, optimizer="flow")
    assert traj.diverged_at is None
    assert np.all(np.diff(traj.loss) <= 1e-9 * traj.loss[:-1] + 1e-14)


@settings(max_examples=10, deadline=None)
@given(lams=st.lists(st.floats(0.1, 5.0), min_size=1, max_size=3), eta=st.floats(0.01, 0.5),
       theta=st.lists(st.floats(-2, 2), min_size=3, max_size=3))
def test_flow_quadratic_property(lams, eta, theta):
    theta0 = np.asarray(theta[: len(lams)])
    traj = dynamics.simulate(dynamics.quadratic(lams), theta0, eta, 15, optimizer="flow")
    expected = theta0 * np.exp(-np.outer(traj.time, lams))
    np.testing.assert_allclose(traj.params, expected, rtol=1e-7, atol=ATOL)
