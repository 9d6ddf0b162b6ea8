"""Gradient flow dθ/dt = −∇L, reported at traj.time = cumulative Σ η.

Expected values: θ(t) = θ₀ e^{−λt} on quadratics; elsewhere scipy's solve_ivp (DOP853,
rtol 1e-11) on the hand gradients of ``reference.py``.

Tolerances: the contract allows a solver tolerance up to 1e-8, relative *and* absolute
(a mixed error test), so values that decay far below 1 are only good to ~1e-8 absolutely.
Comparisons are rtol 1e-7 with atol ATOL = 1e-8.
"""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st
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


# --- the central flow (Cohen, Damian, Talwalkar, Kolter, Lee 2024) ---------------------------
# Expected values: an independent solve with scipy (DOP853; a terminal event at S = 2/η, then
# the projected field with ∇S by central differences of numpy's eigvalsh of the hand Hessian).

EDGE_TOL = 1e-8   # S stays at 2/η to this (the restoring term holds it to ~1e-10)
XYZW_START, XYZW_ETA, XYZW_STEPS = (3.0, 0.01, 3.0, 0.01), 0.2, 1000   # time 200: all converged


def fd_sharpness_gradient(name, theta, h=1e-6):
    theta = np.asarray(theta, dtype=np.float64)
    return np.array([(ref.sharpness(name, theta + h * e) - ref.sharpness(name, theta - h * e))
                     / (2 * h) for e in np.eye(len(theta))])


def reference_central_flow(name, theta0, eta, t_end):
    """θ(t_end): gradient flow to the event S = 2/η, then the projected flow (on xyzw from
    XYZW_START the flow never wants to leave the edge again, so no exit event is needed)."""
    edge = 2.0 / eta
    hit = lambda t, y: ref.sharpness(name, y) - edge
    hit.terminal, hit.direction = True, 1
    free = solve_ivp(lambda t, y: -ref.grad(name, y), (0.0, t_end), np.asarray(theta0, float),
                     method="DOP853", rtol=1e-11, atol=1e-14, events=hit)
    assert free.success and free.status == 1   # the edge is reached

    def projected(t, y):
        g, ds = ref.grad(name, y), fd_sharpness_gradient(name, y)
        return -g + (g @ ds) / (ds @ ds) * ds

    edge_part = solve_ivp(projected, (free.t[-1], t_end), free.y[:, -1], method="DOP853",
                          rtol=1e-11, atol=1e-14)
    assert edge_part.success
    return free.t_events[0][0], edge_part.y[:, -1]


@pytest.fixture(scope="module")
def xyzw_runs():
    args = ("xyzw", XYZW_START, XYZW_ETA, XYZW_STEPS)
    return {opt: dynamics.simulate(*args, optimizer=opt) for opt in ("gd", "flow", "central_flow")}


def test_xyzw_flow_sharpens_past_the_edge_and_misses_gd(xyzw_runs):
    gd, flow = xyzw_runs["gd"], xyzw_runs["flow"]
    assert gd.loss[-1] < 1e-12 and flow.loss[-1] < 1e-20       # both have converged
    assert abs(flow.sharpness[0] - 9.0) < 0.01                 # 8.9919
    assert round(flow.sharpness.max(), 1) == round(flow.sharpness[-1], 1) == 18.4
    assert round(np.linalg.norm(flow.params[-1] - gd.params[-1]), 1) == 1.2   # 1.1987


def test_xyzw_central_flow_holds_the_edge_and_ends_at_gd(xyzw_runs):
    gd, central = xyzw_runs["gd"], xyzw_runs["central_flow"]
    edge = 2.0 / XYZW_ETA
    assert central.diverged_at is None and central.optimizer == "central_flow"
    assert central.sharpness.max() <= edge + EDGE_TOL
    assert abs(central.sharpness[-1] - edge) < EDGE_TOL and central.loss[-1] < 1e-20
    assert 0.012 < np.linalg.norm(central.params[-1] - gd.params[-1]) < 0.013  # 0.01256
    t_hit, expected = reference_central_flow("xyzw", XYZW_START, XYZW_ETA, central.time[-1])
    np.testing.assert_allclose(central.params[-1], expected, atol=1e-7)
    # gradient flow up to the edge, reached between steps 2 and 3 (t = 0.4347)
    assert central.time[2] < t_hit < central.time[3]
    np.testing.assert_allclose(central.params[:3], xyzw_runs["flow"].params[:3], rtol=1e-12)


def test_central_flow_is_a_proper_trajectory(xyzw_runs):
    central = xyzw_runs["central_flow"]
    n = XYZW_STEPS + 1
    assert central.params.shape == (n, 4) and central.loss.shape == central.sharpness.shape == (n,)
    np.testing.assert_allclose(central.time, XYZW_ETA * np.arange(n), rtol=1e-13)
    np.testing.assert_array_equal(central.eta, XYZW_ETA)
    np.testing.assert_allclose(central.threshold, 2.0 / XYZW_ETA)
    np.testing.assert_array_equal(central.params[0], XYZW_START)
    for k in (0, 3, 50, n - 1):
        assert central.sharpness[k] == pytest.approx(ref.sharpness("xyzw", central.params[k]), rel=1e-12)
        assert central.loss[k] == pytest.approx(ref.loss("xyzw", central.params[k]), rel=1e-9, abs=1e-24)  # 1 − xyzw cancels


@pytest.mark.parametrize("lams,eta", [([1.0], 0.5), ([3.0, 0.5], 0.6), ([10.0, 1.0, 0.1], 0.19)])
def test_central_flow_below_the_edge_is_gradient_flow(lams, eta):
    theta0 = np.linspace(1.0, -0.5, len(lams))
    model = dynamics.quadratic(lams)
    central = dynamics.simulate(model, theta0, eta, 30, optimizer="central_flow")
    flow = dynamics.simulate(model, theta0, eta, 30, optimizer="flow")
    np.testing.assert_allclose(central.params, flow.params, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(central.params, theta0 * np.exp(-np.outer(central.time, lams)),
                               rtol=1e-7, atol=ATOL)


@settings(max_examples=8, deadline=None)
@given(name=st.sampled_from(["xy", "x2y2"]), x=st.floats(1.5, 3.5), y=st.floats(0.05, 0.4),
       eta=st.floats(0.15, 0.4))
def test_central_flow_sharpness_never_passes_the_edge(name, x, y, eta):
    assume(ref.sharpness(name, (x, y)) < 2.0 / eta)
    traj = dynamics.simulate(name, (x, y), eta, 300, optimizer="central_flow")
    assert traj.diverged_at is None
    assert traj.sharpness.max() <= 2.0 / eta + EDGE_TOL
    flow = dynamics.simulate(name, (x, y), eta, 300, optimizer="flow")
    # below the edge it is the gradient flow, step for step
    below = np.cumprod(flow.sharpness < 2.0 / eta - 1e-6).astype(bool)
    np.testing.assert_allclose(traj.params[below], flow.params[below], rtol=1e-9, atol=1e-12)


def test_on_the_edge_the_field_is_orthogonal_to_the_sharpness_gradient(xyzw_runs):
    from dynamics.central_flow import central_field, edge_field, sharpness_and_gradient

    central, edge = xyzw_runs["central_flow"], 2.0 / XYZW_ETA
    model = dynamics.MODELS["xyzw"]
    consts = model.consts_array
    jit = jax.jit   # eager third derivatives are slow
    defined, solved = jit(central_field(model.loss_fn)), jit(edge_field(model.loss_fn))
    top = jit(sharpness_and_gradient(model.loss_fn))
    checked = 0
    for theta in central.params[3:200:7]:
        s, ds = (np.asarray(a) for a in top(theta, consts))
        np.testing.assert_allclose(ds, fd_sharpness_gradient("xyzw", theta), rtol=1e-6, atol=1e-8)
        g = ref.grad("xyzw", theta)
        assert abs(s - edge) < EDGE_TOL and -(g @ ds) > 0     # on the edge, pushing up
        f = np.asarray(defined(theta, consts, min(s, edge)))   # S here is 2/η ± 1e-12
        assert abs(f @ ds) <= 1e-12 * np.linalg.norm(f) * np.linalg.norm(ds)
        assert f @ g < 0                                       # and still descending
        np.testing.assert_allclose(solved(theta, consts, edge, 1.0 / XYZW_ETA), f, atol=1e-8)
        checked += 1
    assert checked > 20


def test_sharpness_gradient_is_the_eigh_gradient():
    from dynamics.central_flow import sharpness_and_gradient

    model = dynamics.MODELS["xyzw"]
    hess = jax.hessian(model.loss_fn)
    by_eigh = jax.grad(lambda t: jnp.linalg.eigh(hess(t, model.consts_array))[0][-1])
    theta = np.array([2.5, 0.4, 1.7, 0.6])
    np.testing.assert_allclose(sharpness_and_gradient(model.loss_fn)(theta, model.consts_array)[1],
                               by_eigh(theta), rtol=1e-12)


def test_central_flow_follows_a_schedule():
    # on the edge at 2/0.2 = 10 when η grows to 0.25: S comes down to 8 (a factor e per
    # step of time 0.25, or faster); when η falls to 0.1, S is free below 20.
    sched = [(0, 0.2), (40, 0.25), (120, 0.1)]
    traj = dynamics.simulate("xyzw", XYZW_START, sched, 200, optimizer="central_flow")
    assert traj.diverged_at is None
    assert abs(traj.sharpness[40] - 10.0) < EDGE_TOL
    assert np.all(traj.sharpness[41:121] < 10.0)
    np.testing.assert_allclose(traj.sharpness[70:121], 8.0, atol=EDGE_TOL)
    assert np.all(traj.sharpness[121:] < 20.0)
    np.testing.assert_allclose(traj.time[-1], 40 * 0.2 + 80 * 0.25 + 80 * 0.1, rtol=1e-13)


def test_central_flow_never_recompiles():
    compiles = []
    jax.monitoring.register_event_duration_secs_listener(
        lambda event, duration, **kw: compiles.append(event)
        if event.endswith("backend_compile_duration") else None)
    dynamics.simulate("x2y2", (2.8, 0.2), 0.2, 2500, optimizer="central_flow")
    before = len(compiles)
    for start, eta, steps in [((2.5, 0.3), 0.25, 10), ((3.1, 0.1), [(0, 0.2), (5, 0.3)], 2049),
                              ((0.5, 0.5), 0.1, 4000)]:
        dynamics.simulate("x2y2", start, eta, steps, optimizer="central_flow")
    assert len(compiles) == before


def test_sweeps_refuse_the_central_flow():
    with pytest.raises(ValueError, match="do not run the central flow"):
        dynamics.sweep_eta("xy", (1.0, 1.0), [0.1, 0.2], 10, optimizer="central_flow")
