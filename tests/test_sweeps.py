"""Sweeps over starts and over η agree with single runs; loss_on_plane is the formula.

Each cell is compared with ``simulate`` from the same start (and, for the seed's objective,
with the eq. (2) loop). Sweeps may stop a cell once its steps become negligible, so finals
are compared to 1e-6 relative (sharpness) and 1e-10 absolute (loss).
"""
import zlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import dynamics
import reference as ref


def runs_on_grid(name, xs, ys, eta, steps, **kwargs):
    """simulate from every start of the grid (the model's plane), shaped (len(ys), len(xs))."""
    model = dynamics.MODELS[name]
    runs = np.empty((len(ys), len(xs)), dtype=object)
    for j, y in enumerate(ys):
        for i, x in enumerate(xs):
            runs[j, i] = dynamics.simulate(model, model.embed([x, y]), eta, steps, **kwargs)
    return runs


def assert_cells_match(sweep, runs):
    """``runs`` is an array (same shape as the sweep) of Trajectories."""
    for idx in np.ndindex(runs.shape):
        traj = runs[idx]
        assert bool(sweep.diverged[idx]) == (traj.diverged_at is not None), idx
        if traj.diverged_at is None:
            assert sweep.final_sharpness[idx] == pytest.approx(traj.sharpness[-1], rel=1e-6, abs=1e-12), idx
            assert sweep.final_loss[idx] == pytest.approx(traj.loss[-1], rel=1e-6, abs=1e-10), idx


def check_arrays(sweep, shape):
    for a in (sweep.final_sharpness, sweep.final_loss, sweep.diverged):
        assert np.shape(a) == shape
    assert np.asarray(sweep.diverged).dtype == bool
    assert np.asarray(sweep.final_sharpness).dtype == np.float64
    assert np.asarray(sweep.final_loss).dtype == np.float64
    # Divergence is a result: no NaN/inf anywhere, diverged cells included.
    assert np.all(np.isfinite(sweep.final_sharpness)) and np.all(np.isfinite(sweep.final_loss))


def test_sweep_init_x2y2_matches_runs_and_eq2():
    # η = 0.2 in the seed's window: (3.2, 0.2), (3.4, 0.2), (3.4, 0.3) diverge, the others
    # converge to the same minimum with sharpness ≈ 9.927 < 2/η (eq. (2) loop).
    xs, ys, eta, steps = [3.0, 3.2, 3.4], [0.2, 0.3], 0.2, 1500
    sweep = dynamics.sweep_init("x2y2", eta, xs, ys, steps)
    check_arrays(sweep, (2, 3))
    runs = runs_on_grid("x2y2", xs, ys, eta, steps)
    assert_cells_match(sweep, runs)
    expected_diverged = np.array([[False, True, True], [False, False, True]])
    np.testing.assert_array_equal(sweep.diverged, expected_diverged)
    for j, y in enumerate(ys):
        for i, x in enumerate(xs):
            loop = ref.eq2_loop(x, y, eta, steps)
            assert (not np.all(np.abs(loop) < 1e6)) == expected_diverged[j, i]
    conv = ~expected_diverged
    assert np.all((sweep.final_sharpness[conv] > 2 / eta - 0.1) & (sweep.final_sharpness[conv] < 2 / eta))


def test_sweep_init_xyzw_uses_the_symmetric_plane():
    xs, ys, eta, steps = [1.0, 2.0, 3.2], [0.3, 0.6], 0.1, 400
    sweep = dynamics.sweep_init("xyzw", eta, xs, ys, steps)
    check_arrays(sweep, (2, 3))
    runs = runs_on_grid("xyzw", xs, ys, eta, steps)
    assert_cells_match(sweep, runs)


@pytest.mark.parametrize("optimizer", ["gd", "normalized_gd", "sqrt_gd"])
def test_sweep_init_other_optimizers(optimizer):
    xs, ys, eta, steps = [-1.0, 0.5, 2.0, 3.0], [0.5, 1.5, -1.0], 0.05, 60
    sweep = dynamics.sweep_init("arora", eta, xs, ys, steps, optimizer=optimizer)
    check_arrays(sweep, (3, 4))
    runs = runs_on_grid("arora", xs, ys, eta, steps, optimizer=optimizer)
    if optimizer == "gd":
        assert_cells_match(sweep, runs)
    else:
        # Normalized GD and GD on √L never settle: compare without any early stop.
        for idx in np.ndindex(runs.shape):
            assert sweep.final_sharpness[idx] == pytest.approx(runs[idx].sharpness[-1], rel=1e-9)
            assert sweep.final_loss[idx] == pytest.approx(runs[idx].loss[-1], rel=1e-9, abs=1e-14)


def test_sweep_eta_on_a_quadratic_straddles_two_over_lambda():
    # λ = (4, 1): 2/λ₁ = 0.5. Finals by closed form (1 − ηλ)^steps θ₀. At η = 0.51 the
    # multiplier is −1.04, which passes 1e6 at step 353 (1.04^300 is only 1.3e5): 600 steps.
    lams, init, steps = np.array([4.0, 1.0]), np.array([1.0, -0.5]), 600
    etas = np.array([0.05, 0.2, 0.45, 0.49, 0.51, 0.7])
    sweep = dynamics.sweep_eta(dynamics.quadratic(lams), init, etas, steps)
    check_arrays(sweep, (6,))
    np.testing.assert_array_equal(sweep.diverged, etas > 0.5)
    for k, eta in enumerate(etas):
        traj = dynamics.simulate(dynamics.quadratic(lams), init, eta, steps)
        assert bool(sweep.diverged[k]) == (traj.diverged_at is not None)
        if eta < 0.5:
            final = (1 - eta * lams) ** steps * init
            assert sweep.final_loss[k] == pytest.approx(0.5 * np.sum(lams * final**2), rel=1e-6, abs=1e-12)
            assert sweep.final_sharpness[k] == pytest.approx(4.0, rel=1e-12)


def test_sweep_eta_on_zhu():
    etas = [0.1, 0.15, 0.2]
    sweep = dynamics.sweep_eta("xyzw", (3.2, 0.3, 3.2, 0.3), etas, 2000)
    check_arrays(sweep, (3,))
    for k, eta in enumerate(etas):
        traj = dynamics.simulate("xyzw", (3.2, 0.3, 3.2, 0.3), eta, 2000)
        assert bool(sweep.diverged[k]) == (traj.diverged_at is not None)
        if traj.diverged_at is None:
            assert sweep.final_sharpness[k] == pytest.approx(traj.sharpness[-1], rel=1e-6)
            assert 2 / eta - 20 / 3 * eta < sweep.final_sharpness[k] < 2 / eta


def test_sweep_eta_sgd_matches_simulate_with_the_same_seed():
    etas = [0.3, 0.7]
    sweep = dynamics.sweep_eta("picky", [1 - 1e-5], etas, 1000, optimizer="sgd")
    for k, eta in enumerate(etas):
        traj = dynamics.simulate("picky", [1 - 1e-5], eta, 1000, optimizer="sgd")
        assert sweep.final_loss[k] == pytest.approx(traj.loss[-1], rel=1e-6, abs=1e-10)


def test_sweep_init_flow_matches_simulate():
    xs, ys = [1.0, 3.0], [0.2, 0.5]
    sweep = dynamics.sweep_init("xy", 0.1, xs, ys, 30, optimizer="flow")
    check_arrays(sweep, (2, 2))
    for j, y in enumerate(ys):
        for i, x in enumerate(xs):
            traj = dynamics.simulate("xy", (x, y), 0.1, 30, optimizer="flow")
            assert sweep.final_sharpness[j, i] == pytest.approx(traj.sharpness[-1], rel=1e-6)


# Unstable fixed points: a tiny step there is no sign of convergence. GD leaves the saddle
# of xy at the origin (H has eigenvalue −1: growth 1 + η per step), leaves 0 on a quadratic
# with η > 2/λ (multiplier −1.4), and SGD leaves x = 1 on picky (second moment 1.7476).
UNSTABLE_STARTS = [
    ("quadratic4", (1e-12,), 0.6, 200, "gd"),   # |θ_k| = 1.4^k·1e-12 > 1e6 at k = 124
    ("xy", (1e-9, 1e-9), 0.1, 500, "gd"),      # 1.1^k·1e-9 reaches O(1) by k ≈ 220
    ("picky", (1 - 1e-10,), 0.7, 2000, "sgd"),  # escapes in ~130 steps (drift 0.178/step)
]


@pytest.mark.parametrize("name,init,eta,steps,optimizer", UNSTABLE_STARTS)
def test_sweep_eta_does_not_stop_at_unstable_fixed_points(name, init, eta, steps, optimizer):
    m = dynamics.quadratic([4.0]) if name == "quadratic4" else dynamics.MODELS[name]
    traj = dynamics.simulate(m, init, eta, steps, optimizer=optimizer)
    # The single run really leaves the fixed point (hand facts in the comments above).
    assert traj.diverged_at is not None or traj.loss[-1] < 1e-20
    sweep = dynamics.sweep_eta(m, init, [eta], steps, optimizer=optimizer)
    assert bool(sweep.diverged[0]) == (traj.diverged_at is not None)
    if traj.diverged_at is None:
        assert sweep.final_loss[0] == pytest.approx(traj.loss[-1], rel=1e-6, abs=1e-10)
        assert sweep.final_sharpness[0] == pytest.approx(traj.sharpness[-1], rel=1e-6)
    # On picky both minima have loss 0 and sharpness 2: only the final point tells them apart
    # (``final_params`` is the engine's extra field, beyond the contract's two finals).
    final_params = getattr(sweep, "final_params", None)
    if final_params is not None and traj.diverged_at is None:
        np.testing.assert_allclose(np.asarray(final_params).reshape(-1), traj.params[-1], atol=1e-6)


def test_sweep_init_leaves_the_saddle_of_xy():
    xs, ys = [1e-9, 0.5], [1e-9, 0.5]
    sweep = dynamics.sweep_init("xy", 0.1, xs, ys, 500)
    runs = runs_on_grid("xy", xs, ys, 0.1, 500)
    assert runs[0, 0].loss[-1] < 1e-20  # GD escapes the saddle and reaches xy = 1
    assert_cells_match(sweep, runs)


# --- loss_on_plane ------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["quadratic", "xy", "x2y2", "xyzw", "arora"])
def test_loss_on_plane_is_the_formula(name):
    m = dynamics.MODELS[name]
    xs = np.linspace(-1.0, 3.0, 5)
    ys = np.linspace(-0.5, 2.0, 3)
    grid = dynamics.loss_on_plane(m, xs, ys)
    assert np.shape(grid) == (3, 5)
    lams = (1.0, 0.4) if name == "quadratic" else None
    for j, y in enumerate(ys):
        for i, x in enumerate(xs):
            theta = (x, y, x, y) if name == "xyzw" else (x, y)
            assert grid[j, i] == pytest.approx(ref.loss(name, theta, lams), rel=1e-12, abs=1e-300)


# --- properties ---------------------------------------------------------------------------

@settings(max_examples=8, deadline=None)
@given(xs=st.lists(st.floats(-3, 3), min_size=1, max_size=3),
       ys=st.lists(st.floats(-3, 3), min_size=1, max_size=3), eta=st.floats(0.01, 1.0))
def test_sweep_init_cells_are_runs(xs, ys, eta):
    sweep = dynamics.sweep_init("xy", eta, xs, ys, 50)
    check_arrays(sweep, (len(ys), len(xs)))
    runs = runs_on_grid("xy", xs, ys, eta, 50)
    assert_cells_match(sweep, runs)


# --- divergence: the step and the last finite iterate, as simulate finds them --------------

def _cases():
    for name, model in dynamics.MODELS.items():
        for optimizer in dynamics.optimizers_for(model):
            if optimizer not in ("flow", "central_flow"):
                yield name, optimizer


@pytest.mark.parametrize("name,optimizer", list(_cases()))
def test_diverging_cells_stop_where_simulate_does(name, optimizer):
    # η from the model's range up to 6× past it: cells converge, sit at the edge, or
    # diverge at any step of a check group. A diverged cell must report the same last
    # finite iterate as simulate (SGD can leave the bound mid-group and come back).
    model = dynamics.MODELS[name]
    rng = np.random.default_rng(zlib.crc32(f"{name} {optimizer}".encode()))
    low, high = model.eta_range
    etas = np.geomspace(low, 6 * high, 12)
    for _ in range(2):
        start = (np.asarray(model.default_init) * rng.uniform(0.5, 2.0, model.dim)
                 * rng.choice([-1, 1], model.dim))
        sweep = dynamics.sweep_eta(model, start, etas, 300, optimizer=optimizer, seed=1)
        for k, eta in enumerate(etas):
            traj = dynamics.simulate(model, start, eta, 300, optimizer=optimizer, seed=1)
            assert bool(sweep.diverged[k]) == (traj.diverged_at is not None), (start, eta)
            if traj.diverged_at is not None:
                assert sweep.steps_run[k] == traj.diverged_at - 1, (start, eta)
            if dynamics.OPTIMIZERS[optimizer].stateful:
                # The same step, vmapped: XLA on the CPU contracts a·b + c into one fused
                # multiply-add where it fuses, and a rule with state offers it more than one
                # way (βv + g), so cells and runs may differ in the last bits.
                np.testing.assert_allclose(sweep.final_params[k], traj.params[-1], rtol=1e-12)
            elif traj.diverged_at is not None:
                np.testing.assert_array_equal(sweep.final_params[k], traj.params[-1])


@pytest.mark.parametrize("optimizer", [dynamics.momentum(beta=0.5), dynamics.rmsprop(),
                                       dynamics.adam(beta1=0.8, eps=1e-6)])
def test_sweep_init_cells_are_runs_for_rules_with_state(optimizer):
    # cells with state run all their steps: each final is simulate's last iterate
    xs, ys, eta, steps = [0.6, 1.1, 2.0], [0.4, 0.9], 0.03, 400
    sweep = dynamics.sweep_init("xyzw", eta, xs, ys, steps, optimizer=optimizer)
    check_arrays(sweep, (2, 3))
    runs = runs_on_grid("xyzw", xs, ys, eta, steps, optimizer=optimizer)
    for idx in np.ndindex(runs.shape):
        traj = runs[idx]
        assert bool(sweep.diverged[idx]) == (traj.diverged_at is not None)
        assert sweep.steps_run[idx] == len(traj.params) - 1
        np.testing.assert_allclose(sweep.final_params[idx], traj.params[-1], rtol=1e-9)
        assert sweep.final_sharpness[idx] == pytest.approx(traj.sharpness[-1], rel=1e-9)


def test_sgd_with_the_largest_seed_draws_the_same_samples_in_sweeps_and_simulate():
    # The seed reaches simulate's compiled program inside a float64 plan and the sweeps'
    # as an integer: both must draw the same sample at every step, for any 32-bit seed.
    etas = [0.3, 0.7]
    for seed in (2**32 - 1, 2**32 - 2):
        sweep = dynamics.sweep_eta("picky", [0.9], etas, 200, optimizer="sgd", seed=seed)
        for k, eta in enumerate(etas):
            traj = dynamics.simulate("picky", [0.9], eta, 200, optimizer="sgd", seed=seed)
            np.testing.assert_array_equal(sweep.final_params[k], traj.params[-1])
    a, b = (dynamics.simulate("picky", [0.9], 0.7, 200, optimizer="sgd", seed=s).params
            for s in (2**32 - 1, 2**32 - 2))
    assert not np.array_equal(a, b)


def test_sgd_leaving_the_bound_mid_group_is_caught():
    # picky with SGD from 0.9: at these η the run leaves |θ| ≤ 1e6 and comes back within
    # a check group; simulate stops at the first iterate out (found by the sweep before).
    etas = [1.75, 2.5, 2.75, 3.0]
    sweep = dynamics.sweep_eta("picky", [0.9], etas, 400, optimizer="sgd", seed=3)
    for k, eta in enumerate(etas):
        traj = dynamics.simulate("picky", [0.9], eta, 400, optimizer="sgd", seed=3)
        assert traj.diverged_at is not None and sweep.diverged[k]
        assert sweep.steps_run[k] == traj.diverged_at - 1
        np.testing.assert_array_equal(sweep.final_params[k], traj.params[-1])


def test_zhu_fig_2b_basin_near_the_fractal_boundary():
    # Zhu et al. Fig. 2b: η = 0.2, 50 000 steps on a grid of starts; in [3.0, 3.4] × [0.1, 0.5]
    # runs that converge end at the edge of stability, just below 2/η, and they lie
    # interleaved with runs that diverge (the fractal boundary).
    eta = 0.2
    xs, ys = np.linspace(3.0, 3.4, 48), np.linspace(0.1, 0.5, 48)
    sweep = dynamics.sweep_init("x2y2", eta, xs, ys, 50_000)
    converged = ~sweep.diverged
    sharp = sweep.final_sharpness[converged]
    assert 0.2 < converged.mean() < 0.9
    assert np.all(sweep.final_loss[converged] < 1e-12)
    assert np.all(sharp < 2 / eta)                     # never settles sharper than 2/η
    assert np.mean(sharp > 2 / eta - 0.1) > 0.95       # the highlighted band of the figure
    d = sweep.diverged
    changes = (d[:, 1:] != d[:, :-1]).sum() + (d[1:, :] != d[:-1, :]).sum()
    assert changes > 0.05 * (d[:, 1:].size + d[1:, :].size)


def test_cells_stepped_in_chunks_are_runs():
    # 40 × 40 = 1600 cells: buckets of 1536 and more are stepped CHUNK cells at a time
    # (cells.py's _in_chunks); cells in every chunk, converging and diverging, are runs.
    from dynamics._engine.cells import CHUNK
    xs, ys = np.linspace(3.0, 3.4, 40), np.linspace(0.1, 0.5, 40)
    sweep = dynamics.sweep_init("x2y2", 0.2, xs, ys, 3000, tol=1e-13)
    assert xs.size * ys.size > 2 * CHUNK
    assert 0 < sweep.diverged.sum() < sweep.diverged.size
    rng = np.random.default_rng(0)
    for flat in rng.choice(xs.size * ys.size, 12, replace=False):
        i, j = divmod(int(flat), xs.size)
        steps = 3000 if sweep.diverged[i, j] else int(sweep.steps_run[i, j])
        traj = dynamics.simulate("x2y2", (xs[j], ys[i]), 0.2, steps)
        np.testing.assert_array_equal(sweep.final_params[i, j], traj.params[-1])
