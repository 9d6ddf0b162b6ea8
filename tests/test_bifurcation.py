"""dynamics.bifurcation: closed forms (the quadratic), the map's own stability (x2y2), and
single simulate runs as a second method."""
import jax
import numpy as np
import pytest

import dynamics

_COMPILES = []
jax.monitoring.register_event_duration_secs_listener(
    lambda event, duration, **kw: _COMPILES.append(event)
    if event == "/jax/core/compile/backend_compile_duration" else None)


def compiles_during(fn):
    before = len(_COMPILES)
    fn()
    return len(_COMPILES) - before


# --- the quadratic: θᵢ ← (1 − ηλᵢ)θᵢ ----------------------------------------------------------

QUAD = dynamics.quadratic([4.0, 1.0])   # λ₁ = 4: GD converges iff η < 2/λ₁ = 0.5


def test_quadratic_converges_iff_eta_below_two_over_lambda_and_never_cycles():
    etas = np.linspace(0.05, 0.8, 300)   # 0.5 itself is not on the grid (measure zero)
    assert np.min(np.abs(etas - 0.5)) > 1e-3
    b = dynamics.bifurcation(QUAD, [1.0, 1.0], etas, 20000)
    below = etas < 0.5
    np.testing.assert_array_equal(b.diverged, ~below)
    np.testing.assert_array_equal(b.converged, below)
    assert not np.any(b.period >= 2)      # a 2-cycle needs 1 − ηλ = −1 exactly
    np.testing.assert_array_equal(b.diverged_at > 0, ~below)
    # the converged runs sit at the minimum θ = 0, sharpness λ₁ = 4 < 2/η
    assert np.all(np.abs(b.tail_params[below]) < 1e-9)
    np.testing.assert_allclose(b.tail_sharpness[below], 4.0, rtol=1e-12)
    np.testing.assert_allclose(b.threshold, 2.0 / etas, rtol=1e-15)


def test_quadratic_tails_match_the_closed_form():
    etas, steps, keep = np.array([0.1, 0.3, 0.45, 0.49]), 200, 16
    b = dynamics.bifurcation(QUAD, [1.0, -2.0], etas, steps, keep=keep)
    k = np.arange(steps - keep + 1, steps + 1)
    for i, eta in enumerate(etas):
        truth = np.stack([(1 - eta * 4.0) ** k * 1.0, (1 - eta * 1.0) ** k * -2.0], axis=1)
        np.testing.assert_allclose(b.tail_params[i], truth, rtol=1e-12, atol=1e-300)


def test_quadratic_diverges_at_the_step_the_bound_is_crossed():
    eta = 0.7   # |1 − 4η| = 1.8: |θ₁| = 1.8ᵏ passes 10⁶ at k = ⌈6 / log₁₀ 1.8⌉ = 24
    b = dynamics.bifurcation(QUAD, [1.0, 1.0], [eta], 200, keep=8)
    assert b.diverged[0] and b.diverged_at[0] == 24 and b.period[0] == 0
    traj = dynamics.simulate(QUAD, [1.0, 1.0], eta, 200)
    assert traj.diverged_at == 24
    np.testing.assert_array_equal(b.tail_params[0], traj.params[-8:])


# --- x2y2: the first period doubling is where its last stable fixed point loses stability ----

def _x2y2_map(theta, eta):
    """GD on ¼(1 − x²y²)² in numpy (Zhu et al. eq. (2))."""
    x, y = theta
    r = x * x * y * y - 1.0
    return np.array([x - eta * x * y * y * r, y - eta * x * x * y * r])


def _jacobian(fn, theta, h=1e-6):
    """Central finite differences of fn at theta."""
    cols = [(fn(theta + h * e) - fn(theta - h * e)) / (2 * h) for e in np.eye(len(theta))]
    return np.stack(cols, axis=1)


def _eta_where_fixed_point_loses_stability(theta_star):
    """Bisect η until an eigenvalue of the GD map's Jacobian at θ* passes −1."""
    lo, hi = 0.1, 2.0
    unstable = lambda eta: np.min(np.linalg.eigvals(
        _jacobian(lambda t: _x2y2_map(t, eta), theta_star)).real) < -1.0
    assert not unstable(lo) and unstable(hi)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if unstable(mid) else (mid, hi)
    return 0.5 * (lo + hi)


def test_x2y2_first_period_doubling_is_where_the_flattest_minimum_loses_stability():
    # Minima x²y² = 1 have S = 2(x² + y²) ≥ 4, the flattest at (1, 1): for η just below
    # that minimum's limit only minima near it are stable, so the last fixed point to lose
    # stability is (1, 1), at the η found from the Jacobian alone (2/4 = 0.5 in closed form).
    eta_star = _eta_where_fixed_point_loses_stability(np.array([1.0, 1.0]))
    assert eta_star == pytest.approx(0.5, abs=1e-6)
    etas = np.linspace(0.301, 0.8, 200)   # η* is not on the grid
    spacing = etas[1] - etas[0]
    assert np.min(np.abs(etas - eta_star)) > 0.1 * spacing
    b = dynamics.bifurcation("x2y2", [1.2, 0.9], etas, 100_000)   # slow near η*
    first = b.first_eta_with_period(2)
    assert first is not None and eta_star <= first <= eta_star + spacing
    # below it GD converges, to a minimum with S < 2/η
    settled = etas < eta_star - spacing
    assert np.all(b.converged[settled])
    assert np.all(b.tail_sharpness[settled, -1] < 2.0 / etas[settled])
    # the 2-cycle's points are a cycle of the numpy map too
    i = int(np.argmin(np.abs(etas - first)))
    cycle = b.tail_params[np.flatnonzero(b.period == 2)[0]][-1]
    np.testing.assert_allclose(_x2y2_map(_x2y2_map(cycle, etas[i]), etas[i]), cycle,
                               atol=1e-8)
    # and the cascade goes on: period 4 after period 2, then no short period (chaos)
    assert b.first_eta_with_period(4) > first
    assert np.any((b.period == 0) & ~b.diverged & (etas > b.first_eta_with_period(4)))


# --- tails equal single runs -----------------------------------------------------------------

@pytest.mark.parametrize("model,init,optimizer,etas", [
    ("x2y2", (1.2, 0.9), "gd", [0.35, 0.55, 0.64, 0.7]),
    ("xyzw", (1.2, 0.9, 1.2, 0.9), "gd", [0.2, 0.55]),        # the plane twin
    ("xyzw", (2.0, 0.4, 1.5, 0.5), "gd", [0.05, 0.1]),        # off the plane
    ("xy", (1.5, 0.5), dynamics.momentum(beta=0.5), [0.1, 0.3]),
    ("xy", (1.5, 0.5), "adam", [0.01, 0.05]),
    ("picky", (0.5,), "sgd", [0.3, 0.7]),
    ("arora", (2.0, 0.5), "normalized_gd", [0.2, 0.9]),
])
def test_tails_equal_simulate_runs(model, init, optimizer, etas):
    steps, keep = 1500, 32
    b = dynamics.bifurcation(model, init, etas, steps, keep=keep, optimizer=optimizer, seed=3)
    for i, eta in enumerate(etas):
        traj = dynamics.simulate(model, init, eta, steps, optimizer=optimizer, seed=3)
        n = min(keep, len(traj.params))
        np.testing.assert_allclose(b.tail_params[i, -n:], traj.params[-n:], rtol=1e-12, atol=0)
        np.testing.assert_allclose(b.tail_sharpness[i, -n:], traj.sharpness[-n:], rtol=1e-12)
        np.testing.assert_allclose(b.tail_loss[i, -n:], traj.loss[-n:], rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(b.tail_effective_sharpness[i, -n:-1],
                                   traj.effective_sharpness[-(n - 1):], rtol=1e-12)
        assert b.diverged[i] == (traj.diverged_at is not None)


def test_a_new_range_count_or_length_does_not_compile():
    etas = np.linspace(0.3, 0.8, 40)
    dynamics.bifurcation("x2y2", (1.2, 0.9), etas, 500, keep=16)
    assert compiles_during(lambda: [
        dynamics.bifurcation("x2y2", (1.0, 0.7), np.linspace(0.1, 0.9, n), steps, keep=16)
        for n, steps in ((7, 100), (300, 3000), (129, 16))]) == 0


# --- bad input -----------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs,words", [
    (dict(etas=[0.1, -0.2]), "positive"),
    (dict(etas=[0.1, 0.0]), "positive"),
    (dict(etas=[float("nan")]), "positive"),
    (dict(etas=[]), "at least one"),
    (dict(etas="0.1"), "list"),
    (dict(keep=1), "keep"),
    (dict(keep=600), "limit"),
    (dict(steps=10, keep=64), "fewer than"),
    (dict(steps=0), "at least 1"),
    (dict(optimizer="flow"), "flow"),
    (dict(init=(1.0,)), "2 number"),
    (dict(tol=0.0), "tol"),
])
def test_bad_input_raises_a_clear_value_error(kwargs, words):
    args = dict(model="x2y2", init=(1.2, 0.9), etas=[0.1, 0.2], steps=100)
    args.update(kwargs)
    with pytest.raises(ValueError, match=words):
        dynamics.bifurcation(**args)
