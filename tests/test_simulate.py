"""simulate(): GD against closed forms and plain loops, published EoS numbers, schedules,
divergence, then properties of every trajectory.

Expected values: θₜ = (1 − ηλ)ᵗ θ₀ on quadratics, Zhu et al.'s eq. (2) and hand-gradient
loops (``reference.py``), intervals quoted in REFERENCES.md.
"""
import math

import jax
import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import dynamics
import reference as ref

M = dynamics.MODELS


def assert_loss_close(actual, expected):
    """Losses agree up to the rounding of the residual: L = ½r² with r = 1 − xy computed in
    float64 carries an absolute error ~1e-16 in r, i.e. ~1e-16·√L in L (cancellation)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    tol = 1e-12 * np.abs(expected) + 1e-14 * np.sqrt(np.abs(expected)) + 1e-30
    assert np.all(np.abs(actual - expected) <= tol), np.max(np.abs(actual - expected) / tol)


def check_shapes(traj, dim):
    n = len(traj.params)
    assert traj.params.shape == (n, dim) and traj.params.dtype == np.float64
    assert traj.loss.shape == (n,) and traj.sharpness.shape == (n,) and traj.time.shape == (n,)
    assert traj.eta.shape == (n - 1,)
    for a in (traj.params, traj.loss, traj.sharpness, traj.eta, traj.time):
        assert np.all(np.isfinite(a))
    assert traj.time[0] == 0.0
    np.testing.assert_allclose(traj.time, np.concatenate([[0.0], np.cumsum(traj.eta)]), rtol=1e-13)


# --- quadratic: closed form ---------------------------------------------------------------

@pytest.mark.parametrize("lam,eta", [(1.0, 0.1), (1.0, 1.5), (4.0, 0.3), (10.0, 0.15), (0.4, 2.0)])
def test_quadratic_1d_closed_form(lam, eta):
    steps = 60
    traj = dynamics.simulate(dynamics.quadratic([lam]), [1.7], eta, steps)
    check_shapes(traj, 1)
    assert traj.diverged_at is None and len(traj.params) == steps + 1
    t = np.arange(steps + 1)
    expected = (1 - eta * lam) ** t * 1.7
    np.testing.assert_allclose(traj.params[:, 0], expected, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(traj.loss, 0.5 * lam * expected**2, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(traj.sharpness, lam, rtol=1e-14)
    np.testing.assert_allclose(traj.eta, eta, rtol=0)
    np.testing.assert_allclose(traj.time, eta * t, rtol=1e-13)


def test_quadratic_3d_closed_form():
    lams = np.array([5.0, 1.0, 0.2])
    theta0 = np.array([1.0, -2.0, 0.5])
    eta, steps = 0.35, 40
    traj = dynamics.simulate(dynamics.quadratic(lams), theta0, eta, steps)
    t = np.arange(steps + 1)[:, None]
    np.testing.assert_allclose(traj.params, (1 - eta * lams) ** t * theta0, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(traj.sharpness, 5.0, rtol=1e-14)


def test_quadratic_converges_just_below_two_over_lambda():
    lam = 4.0
    eta = 0.99 * 2 / lam  # multiplier −0.98
    traj = dynamics.simulate(dynamics.quadratic([lam]), [1.0], eta, 2000)
    assert traj.diverged_at is None
    assert abs(traj.params[-1, 0]) == pytest.approx(0.98**2000, rel=1e-9)
    assert abs(traj.params[-1, 0]) < 1e-17


def diverge_step(mult, theta0):
    """First k with |mult^k θ₀| > 1e6 (closed form, checked not to be a near tie)."""
    k = math.ceil((math.log(ref.THRESHOLD) - math.log(abs(theta0))) / math.log(abs(mult)))
    while abs(mult) ** k * abs(theta0) <= ref.THRESHOLD:
        k += 1
    while abs(mult) ** (k - 1) * abs(theta0) > ref.THRESHOLD:
        k -= 1
    return k


def test_quadratic_diverges_just_above_two_over_lambda():
    lam = 4.0
    eta = 1.01 * 2 / lam  # multiplier −1.02
    k = diverge_step(1 - eta * lam, 1.0)
    assert k == 698  # ln(1e6) / ln(1.02) = 697.7
    traj = dynamics.simulate(dynamics.quadratic([lam]), [1.0], eta, 2000)
    assert traj.diverged_at == k
    assert len(traj.params) == k
    check_shapes(traj, 1)
    assert np.abs(traj.params).max() <= 1e6
    np.testing.assert_allclose(traj.params[:, 0], (1 - eta * lam) ** np.arange(k), rtol=1e-11)


def test_divergence_is_decided_by_the_top_eigenvalue():
    lams = [5.0, 1.0]
    below = dynamics.simulate(dynamics.quadratic(lams), [1.0, 1.0], 0.39, 500)  # 2/5 = 0.4
    above = dynamics.simulate(dynamics.quadratic(lams), [1.0, 1.0], 0.41, 500)
    assert below.diverged_at is None
    assert above.diverged_at == diverge_step(1 - 0.41 * 5.0, 1.0)  # 1.05^k > 1e6 at k = 284
    assert above.diverged_at == 284


def test_eta_exactly_two_over_lambda_oscillates_forever():
    traj = dynamics.simulate(dynamics.quadratic([4.0]), [0.75], 0.5, 101)  # multiplier exactly −1
    assert traj.diverged_at is None
    np.testing.assert_array_equal(traj.params[:, 0], 0.75 * (-1.0) ** np.arange(102))


def test_divergence_at_step_one_keeps_only_the_start():
    traj = dynamics.simulate(dynamics.quadratic([1.0]), [1.0], 3e6, 10)  # θ₁ = 1 − 3e6
    assert traj.diverged_at == 1
    assert traj.params.shape == (1, 1) and traj.eta.shape == (0,)
    np.testing.assert_array_equal(traj.time, [0.0])
    np.testing.assert_array_equal(traj.params, [[1.0]])


def test_non_finite_iterate_counts_as_divergence():
    # η λ θ₀ = 1e300 · 1e300 overflows to inf at the first step.
    traj = dynamics.simulate(dynamics.quadratic([1e300]), [1.0], 1e300, 5)
    assert traj.diverged_at == 1
    check_shapes(traj, 1)


def test_divergence_on_x2y2():
    # From (100, 100) the first eq. (2) step lands near −2e13: diverged at k = 1.
    loop = ref.eq2_loop(100.0, 100.0, 0.2, 1)
    assert np.abs(loop[1]).max() > 1e6
    traj = dynamics.simulate("x2y2", (100.0, 100.0), 0.2, 50)
    assert traj.diverged_at == 1
    check_shapes(traj, 2)


# --- the seed's objectives against plain loops --------------------------------------------

def test_x2y2_is_eq2_of_zhu():
    # η = 0.1 from (3.2, 0.3): x² + y² > 1/η, an EoS run that is not chaotic (two orderings
    # of the arithmetic in a numpy loop agree to 2e-15 here; at η = 0.2 they do not).
    eta, steps = 0.1, 2000
    expected = ref.eq2_loop(3.2, 0.3, eta, steps)
    traj = dynamics.simulate("x2y2", (3.2, 0.3), eta, steps)
    assert traj.diverged_at is None
    np.testing.assert_allclose(traj.params, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("start,eta", [((1.5, 0.5), 0.2), ((2.0, 0.3), 0.2), ((0.7, -1.1), 0.05)])
def test_x2y2_is_eq2_short_runs(start, eta):
    expected = ref.eq2_loop(*start, eta, 300)
    traj = dynamics.simulate("x2y2", start, eta, 300)
    np.testing.assert_allclose(traj.params, expected, rtol=1e-12, atol=1e-12)


def test_xyzw_symmetric_start_stays_symmetric_and_is_eq2():
    eta, steps = 0.1, 2000
    traj = dynamics.simulate("xyzw", (3.2, 0.3, 3.2, 0.3), eta, steps)
    p = traj.params
    np.testing.assert_allclose(p[:, 2], p[:, 0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(p[:, 3], p[:, 1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(p[:, :2], ref.eq2_loop(3.2, 0.3, eta, steps), rtol=1e-12, atol=1e-12)


def test_xyzw_on_its_plane_is_exactly_its_twin_and_measured_as_xyzw():
    # A catapult at η = 0.108 from (3.81, 0.125): chaotic for ~100 steps, so any rounding
    # difference grows to O(1). GD from the plane steps the twin x2y2 there: the run is
    # exactly symmetric, exactly x2y2's run, and exactly what sweep_init finds; its loss
    # and sharpness are xyzw's (the 4 × 4 Hessian), not x2y2's.
    x, y, eta = 3.8062991670395068, 0.12465430740747718, 0.10786698273545152
    traj = dynamics.simulate("xyzw", (x, y, x, y), eta, 600)
    twin = dynamics.simulate("x2y2", (x, y), eta, 600)
    np.testing.assert_array_equal(traj.params[:, 2:], traj.params[:, :2])
    np.testing.assert_array_equal(traj.params[:, :2], twin.params)
    sweep = dynamics.sweep_init("xyzw", eta, [x], [y], 600)
    np.testing.assert_array_equal(sweep.final_params[0, 0], traj.params[-1])
    assert sweep.final_sharpness[0, 0] == traj.sharpness[-1]
    for k in (0, 50, 600):
        assert traj.sharpness[k] == pytest.approx(ref.sharpness("xyzw", traj.params[k]), rel=1e-12)
        assert_loss_close(traj.loss[k], ref.loss("xyzw", traj.params[k]))


def test_xyzw_asymmetric_matches_hand_gradient_loop():
    start = (1.3, 0.6, 0.9, 1.1)
    traj = dynamics.simulate("xyzw", start, 0.1, 200)
    np.testing.assert_allclose(traj.params, ref.gd_loop("xyzw", start, 0.1, 200), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name,start,eta", [("xy", (4.0, 0.1), 0.2), ("xy", (-1.0, 2.5), 0.1),
                                            ("arora", (2.0, 0.5), 0.1), ("picky", (0.9,), 0.3),
                                            ("picky", (-0.3,), 0.7)])
def test_gd_matches_hand_gradient_loop(name, start, eta):
    traj = dynamics.simulate(name, start, eta, 150)
    expected = ref.gd_loop(name, start, eta, 150)
    np.testing.assert_allclose(traj.params, expected, rtol=1e-12, atol=1e-13)
    assert_loss_close(traj.loss, [ref.loss(name, t) for t in traj.params])


def test_model_object_and_name_give_the_same_run():
    a = dynamics.simulate("arora", (2.0, 0.5), 0.1, 20)
    b = dynamics.simulate(M["arora"], np.array([2.0, 0.5]), 0.1, 20)
    np.testing.assert_array_equal(a.params, b.params)


# --- Zhu et al.: convergence to just below 2/η --------------------------------------------

# Starts in the seed's window [3.0, 3.4] × [0.1, 0.5] at η = 0.2 that converge in the eq. (2)
# loop and keep doing so under 1e-7 perturbations (the boundary there is fractal, so only
# robust starts are used).
ZHU_STARTS = [(3.0, 0.1), (3.0, 0.2), (3.1, 0.2), (3.1, 0.3), (3.2, 0.3), (3.2, 0.4), (3.4, 0.4)]


@pytest.mark.parametrize("start", ZHU_STARTS)
def test_zhu_final_sharpness_just_below_two_over_eta(start):
    eta = 0.2
    x, y = start
    assert x * x + y * y > 1 / eta  # beyond the EoS minimum
    loop = ref.eq2_loop(x, y, eta, 2000)[-1]
    assert 2 / eta - 0.1 < 2 * (loop ** 2).sum() < 2 / eta
    for name, init in (("xyzw", (x, y, x, y)), ("x2y2", (x, y))):
        traj = dynamics.simulate(name, init, eta, 2000)
        assert traj.diverged_at is None
        final = traj.params[-1]
        assert abs(abs(final[0] * final[1]) - 1) < 1e-9  # on the minima xy = ±1
        assert 2 / eta - 0.1 < traj.sharpness[-1] < 2 / eta
        assert traj.sharpness[-1] == pytest.approx(2 * (final[0] ** 2 + final[1] ** 2), rel=1e-9)
        assert 2 / eta - 20 / 3 * eta < traj.sharpness[-1]  # Cor. 3.1


@pytest.mark.parametrize("eta,start,steps", [(0.1, (3.32, 0.1), 3000), (0.05, (4.7, 0.1), 10000)])
def test_zhu_corollary_3_1_interval(eta, start, steps):
    x, y = start
    assert x * x + y * y > 1 / eta
    traj = dynamics.simulate("xyzw", (x, y, x, y), eta, steps)
    assert traj.diverged_at is None
    assert 2 / eta - 20 / 3 * eta < traj.sharpness[-1] < 2 / eta
    # Not yet exactly on xy = 1 after these steps: compare with the exact sharpness there.
    loop = ref.eq2_loop(x, y, eta, steps)[-1]
    assert traj.sharpness[-1] == pytest.approx(ref.xyzw_symmetric_sharpness(*loop), rel=1e-9)


@pytest.mark.parametrize("start", [(3.0, 0.2), (3.1, 0.3), (3.2, 0.3)])
def test_degree_two_settles_flatter_than_the_edge(start):
    # Seed: (1 − xy)² does not reach the EoS minimum; its final sharpness stays well below 2/η.
    eta = 0.2
    traj = dynamics.simulate("xy", start, eta, 3000)
    assert traj.diverged_at is None
    assert traj.sharpness[-1] < 2 / eta - 0.1
    fx, fy = traj.params[-1]
    assert traj.sharpness[-1] == pytest.approx(fx * fx + fy * fy, rel=1e-9)


# --- schedules ----------------------------------------------------------------------------

def test_schedule_uses_each_eta_on_its_steps():
    sched = [(0, 0.1), (7, 0.3), (12, 0.05)]
    traj = dynamics.simulate("arora", (2.0, 0.5), sched, 20)
    expected_eta = np.array([0.1] * 7 + [0.3] * 5 + [0.05] * 8)
    np.testing.assert_array_equal(traj.eta, expected_eta)
    np.testing.assert_allclose(traj.time, np.concatenate([[0.0], np.cumsum(expected_eta)]), rtol=1e-13)


def test_schedule_drop_matches_two_concatenated_runs():
    # Cohen et al.'s step-size drop, on the quadratic with closed form per piece.
    lams = [3.0, 1.0]
    sched = [(0, 0.6), (15, 0.2)]
    traj = dynamics.simulate(dynamics.quadratic(lams), [1.0, -1.0], sched, 40)
    first = dynamics.simulate(dynamics.quadratic(lams), [1.0, -1.0], 0.6, 15)
    second = dynamics.simulate(dynamics.quadratic(lams), first.params[-1], 0.2, 25)
    np.testing.assert_allclose(traj.params, np.concatenate([first.params, second.params[1:]]),
                               rtol=1e-13, atol=1e-300)
    t = np.arange(41)[:, None]
    closed = np.where(t <= 15, (1 - 0.6 * np.array(lams)) ** np.minimum(t, 15),
                      (1 - 0.6 * np.array(lams)) ** 15 * (1 - 0.2 * np.array(lams)) ** (t - 15))
    np.testing.assert_allclose(traj.params, closed * [1.0, -1.0], rtol=1e-12, atol=1e-300)


def test_schedule_drop_on_zhu_matches_loop():
    sched = [(0, 0.1), (100, 0.05)]
    traj = dynamics.simulate("x2y2", (3.2, 0.3), sched, 300)
    first = ref.eq2_loop(3.2, 0.3, 0.1, 100)
    second = ref.eq2_loop(*first[-1], 0.05, 200)
    np.testing.assert_allclose(traj.params, np.concatenate([first, second[1:]]), rtol=1e-12, atol=1e-12)


def test_one_piece_schedule_equals_constant_eta():
    a = dynamics.simulate("xy", (4.0, 0.1), [(0, 0.2)], 50)
    b = dynamics.simulate("xy", (4.0, 0.1), 0.2, 50)
    np.testing.assert_array_equal(a.params, b.params)
    np.testing.assert_array_equal(a.eta, b.eta)


def test_schedule_change_after_the_last_step_is_harmless():
    traj = dynamics.simulate("xy", (4.0, 0.1), [(0, 0.2), (100, 0.5)], 30)
    np.testing.assert_array_equal(traj.eta, np.full(30, 0.2))


def test_many_piece_schedule_matches_the_closed_form():
    # 60 pieces (a block holds 16, so the run takes several), one of them across the
    # 16 384-step block boundary: θ_k = Π (1 − η_j λ) θ₀ step by step.
    lam = 1.5
    firsts = list(range(0, 150, 3)) + [16_380, 16_383, 16_384, 16_385, 16_390,
                                       16_400, 16_500, 17_000, 18_000, 19_000]
    rng = np.random.default_rng(3)
    sched = [(k, float(e)) for k, e in zip(firsts, rng.uniform(0.1, 1.2, len(firsts)))]
    steps = 20_000
    traj = dynamics.simulate(dynamics.quadratic([lam]), [1.0], sched, steps)
    etas = np.empty(steps)
    for (k, e), end in zip(sched, firsts[1:] + [steps]):
        etas[k:end] = e
    np.testing.assert_array_equal(traj.eta, etas)
    closed = np.concatenate([[1.0], np.cumprod(1 - etas * lam)])
    np.testing.assert_allclose(traj.params[:, 0], closed, rtol=1e-11, atol=1e-300)


def test_a_ramp_with_a_new_eta_every_step_matches_the_closed_form():
    # η changes at every step for 20 000 steps (two blocks, η taken per step): exact.
    lam, steps = 1.5, 20_000
    etas = np.linspace(0.05, 1.3, steps)
    traj = dynamics.simulate(dynamics.quadratic([lam]), [1.0], list(enumerate(etas)), steps)
    np.testing.assert_array_equal(traj.eta, etas)
    closed = np.concatenate([[1.0], np.cumprod(1 - etas * lam)])
    np.testing.assert_allclose(traj.params[:, 0], closed, rtol=1e-11, atol=1e-300)


def test_schedule_into_divergence():
    # λ = 4: η = 0.4 is stable, η = 0.6 (multiplier −1.4) diverges after the switch.
    traj = dynamics.simulate(dynamics.quadratic([4.0]), [1.0], [(0, 0.4), (10, 0.6)], 200)
    x10 = (1 - 1.6) ** 10
    expected = 10 + diverge_step(1 - 2.4, x10)
    assert traj.diverged_at == expected
    check_shapes(traj, 1)
    assert np.all(traj.eta[:10] == 0.4) and np.all(traj.eta[10:] == 0.6)


# --- every trajectory ---------------------------------------------------------------------

def test_loss_and_sharpness_are_those_of_the_iterates():
    traj = dynamics.simulate("xyzw", (1.3, 0.6, 0.9, 1.1), 0.3, 30)
    for k in (0, 7, 30):
        t = traj.params[k]
        assert_loss_close(traj.loss[k], ref.loss("xyzw", t))
        assert traj.sharpness[k] == pytest.approx(ref.sharpness("xyzw", t), rel=1e-10)
        assert traj.sharpness[k] == pytest.approx(dynamics.sharpness("xyzw", t), rel=1e-12)


def test_loss_and_sharpness_of_a_long_run_at_every_row():
    # Two blocks, each measured in windows shared out between the devices: every row is
    # checked, so every window, share and block seam is (and the last rows).
    traj = dynamics.simulate("xyzw", (3.2, 0.3, 3.0, 0.35), 0.2, 20_000)
    assert traj.diverged_at is None and len(traj.loss) == 20_001
    assert_loss_close(traj.loss, [ref.loss("xyzw", t) for t in traj.params])
    np.testing.assert_allclose(traj.sharpness, [ref.sharpness("xyzw", t) for t in traj.params],
                               rtol=1e-10)


def test_a_fixed_point_fills_the_rest_with_its_own_loss_and_sharpness():
    # GD on ½(2θ₁² + ½θ₂²) with η = ½ lands exactly on 0 in one step and stays there; the
    # run is three blocks long, filled without stepping after the first.
    traj = dynamics.simulate(dynamics.quadratic([2.0, 0.5]), [1.0, 0.0], 0.5, 40_000)
    assert traj.diverged_at is None and len(traj.params) == 40_001
    assert np.all(traj.params[1:] == 0.0) and np.all(traj.loss[1:] == 0.0)
    assert traj.loss[0] == 1.0 and np.all(traj.sharpness == 2.0)


def test_a_device_that_steps_differently_is_not_trusted(monkeypatch):
    # Every device steps the block itself and measures its share; the host takes a share
    # only if that device's rows are the first device's. Make the second device start
    # elsewhere: the figures must still be those of the returned iterates.
    from dynamics._engine import runner

    if len(jax.devices("cpu")) < 2:
        pytest.skip("one CPU device: nothing is shared")
    call = runner.Run._call

    def elsewhere(self, i, plan, per_step):
        if i > 0:
            plan = plan.copy()
            plan[0] = np.nextafter(plan[0], np.inf)
        return call(self, i, plan, per_step)

    monkeypatch.setattr(runner.Run, "_call", elsewhere)
    traj = dynamics.simulate("xyzw", (3.2, 0.3, 3.0, 0.35), 0.2, 5000)
    assert_loss_close(traj.loss, [ref.loss("xyzw", t) for t in traj.params])
    np.testing.assert_allclose(traj.sharpness, [ref.sharpness("xyzw", t) for t in traj.params],
                               rtol=1e-10)


@settings(max_examples=25, deadline=None)
@given(lams=st.lists(st.floats(0.01, 20.0), min_size=1, max_size=4),
       frac=st.floats(0.01, 0.999), theta=st.lists(st.floats(-5, 5), min_size=4, max_size=4),
       steps=st.integers(1, 200))
def test_stable_gd_on_quadratic_never_diverges_and_loss_never_rises(lams, frac, theta, steps):
    eta = frac * 2 / max(lams)
    m = dynamics.quadratic(lams)
    traj = dynamics.simulate(m, theta[: len(lams)], eta, steps)
    assert traj.diverged_at is None and len(traj.params) == steps + 1
    check_shapes(traj, len(lams))
    assert np.all(np.diff(traj.loss) <= 1e-12 * traj.loss[:-1] + 1e-300)


@settings(max_examples=25, deadline=None)
@given(lam=st.floats(0.5, 10.0), over=st.floats(1.02, 3.0), theta0=st.floats(0.1, 100.0))
def test_unstable_gd_on_quadratic_diverges_when_the_closed_form_says(lam, over, theta0):
    eta = over * 2 / lam
    mult = 1 - eta * lam
    k = diverge_step(mult, theta0)
    # Skip near ties: rounding of k multiplications could move the crossing.
    assume(abs(math.log(abs(mult) ** k * theta0 / ref.THRESHOLD)) > 1e-9)
    assume(abs(math.log(abs(mult) ** (k - 1) * theta0 / ref.THRESHOLD)) > 1e-9)
    assume(k <= 2000)
    traj = dynamics.simulate(dynamics.quadratic([lam]), [theta0], eta, 2000)
    assert traj.diverged_at == k == len(traj.params)
    check_shapes(traj, 1)
    assert np.abs(traj.params).max() <= 1e6


MODEL_STARTS = {
    "quadratic": st.lists(st.floats(-3, 3), min_size=2, max_size=2),
    "xy": st.lists(st.floats(-4, 4), min_size=2, max_size=2),
    "x2y2": st.lists(st.floats(-4, 4), min_size=2, max_size=2),
    "xyzw": st.lists(st.floats(-3, 3), min_size=4, max_size=4),
    "arora": st.lists(st.floats(-15, 15), min_size=2, max_size=2),
    "picky": st.lists(st.floats(-2, 2), min_size=1, max_size=1),
}


@st.composite
def runs(draw):
    name = draw(st.sampled_from(sorted(MODEL_STARTS)))
    m = M[name]
    optimizer = draw(st.sampled_from([o for o in dynamics.optimizers_for(m) if o != "flow"]))
    lo, hi = m.eta_range
    eta = draw(st.floats(lo, hi))
    return name, optimizer, draw(MODEL_STARTS[name]), eta, draw(st.integers(1, 120))


@settings(max_examples=40, deadline=None)
@given(run=runs(), seed=st.integers(0, 2**31 - 1))
def test_every_run_returns_finite_consistent_arrays(run, seed):
    name, optimizer, init, eta, steps = run
    m = M[name]
    try:
        traj = dynamics.simulate(m, init, eta, steps, optimizer=optimizer, seed=seed)
    except ValueError as err:   # normalized GD / GD on √L refuse a start where they are 0/0
        assert optimizer in ("normalized_gd", "sqrt_gd") and "undefined" in str(err)
        grad = dynamics.measure(m, init, "grad_norm")["grad_norm"]
        assert grad == 0 or (optimizer == "sqrt_gd" and m.loss(np.asarray(init)) == 0)
        return
    check_shapes(traj, m.dim)
    n = len(traj.params)
    if traj.diverged_at is None:
        assert n == steps + 1
    else:
        assert 1 <= traj.diverged_at <= steps and n == traj.diverged_at
    assert np.abs(traj.params).max() <= 1e6
    np.testing.assert_array_equal(traj.params[0], init)
    np.testing.assert_allclose(traj.eta, eta, rtol=0)
    k = n - 1
    # near a minimum 1 − xy cancels: the loss is only good to ~1e-16·√L absolute
    expected = m.loss(traj.params[k])
    slack = 1e-14 * np.sqrt(max(expected, traj.loss[k])) + 1e-300
    assert traj.loss[k] == pytest.approx(expected, rel=1e-12, abs=slack)
