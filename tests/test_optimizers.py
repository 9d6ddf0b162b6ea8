"""Update rules: the pure functions, then normalized GD and GD on √L (Arora et al.) and SGD
(Wu, Ma, E) through simulate(); then the rules with state (momentum, RMSProp, Adam), their
thresholds and effective sharpness.

Expected values: plain numpy loops with hand gradients (``reference.py``), invariants proved
in the comments, the published settings of REFERENCES.md.
"""
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import dynamics
import reference as ref
from dynamics import optimizers

# --- the pure update rules ----------------------------------------------------------------


NONE = optimizers.NoState()


def test_gd_rule():
    out, state = optimizers.gd(jnp.array([0.5, -4.0]), NONE, jnp.array([1.0, 2.0]), 3.0, 0.1)
    np.testing.assert_allclose(np.asarray(out), [0.95, 2.4], rtol=1e-15)
    assert state == NONE


def test_normalized_gd_rule_moves_by_eta():
    out, _ = optimizers.normalized_gd(jnp.array([3.0, 4.0]), NONE, jnp.array([1.0, 2.0]), 1.0, 0.5)
    np.testing.assert_allclose(np.asarray(out), [1.0 - 0.3, 2.0 - 0.4], rtol=1e-15)
    still, _ = optimizers.normalized_gd(jnp.zeros(2), NONE, jnp.array([1.0, 2.0]), 0.0, 0.5)
    np.testing.assert_array_equal(np.asarray(still), [1.0, 2.0])


def test_sqrt_gd_rule():
    out, _ = optimizers.sqrt_gd(jnp.array([3.0, 4.0]), NONE, jnp.array([1.0, 2.0]), 4.0, 0.5)
    np.testing.assert_allclose(np.asarray(out), [1.0 - 0.5 * 3 / 4, 2.0 - 0.5 * 4 / 4], rtol=1e-15)
    still, _ = optimizers.sqrt_gd(jnp.array([3.0, 4.0]), NONE, jnp.array([1.0, 2.0]), 0.0, 0.5)
    np.testing.assert_array_equal(np.asarray(still), [1.0, 2.0])


# --- normalized GD (Arora et al.) ---------------------------------------------------------

def test_normalized_gd_arora_fig2_matches_loop():
    # Fig. 2: A = diag(1, 0.4), lr 1, 11 steps.
    m = dynamics.quadratic([1.0, 0.4])
    traj = dynamics.simulate(m, [1.0, 1.0], 1.0, 11, optimizer="normalized_gd")
    expected = ref.gd_loop("quadratic", [1.0, 1.0], 1.0, 11, lams=[1.0, 0.4], update="normalized_gd")
    assert traj.diverged_at is None
    np.testing.assert_allclose(traj.params, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("lams,eta,start", [([1.0, 0.4], 1.0, [1.0, 1.0]), ([1.0, 0.4], 0.1, [1.0, 1.0]),
                                            ([5.0, 2.0, 0.5], 0.3, [1.0, 1.0, 1.0]), ([2.0], 0.25, [1.1])])
def test_normalized_gd_never_converges_on_a_quadratic(lams, eta, start):
    # Every step has length η exactly, so two consecutive iterates cannot both lie within η/2
    # of the minimum: max(L_k, L_{k+1}) ≥ ½ λ_min (η/2)² for every k. (In 1-D a start that is
    # a multiple of η lands exactly on 0, where the rule stays put; 1.1 is not.)
    traj = dynamics.simulate(dynamics.quadratic(lams), start, eta, 500,
                             optimizer="normalized_gd")
    assert traj.diverged_at is None
    steps = np.linalg.norm(np.diff(traj.params, axis=0), axis=1)
    np.testing.assert_allclose(steps, eta, rtol=1e-10)
    floor = 0.5 * min(lams) * (eta / 2) ** 2
    assert np.all(np.maximum(traj.loss[:-1], traj.loss[1:]) >= floor * (1 - 1e-9))
    assert traj.loss[-100:].max() >= floor


def test_normalized_gd_arora_fig1():
    # Fig. 1: lr 5 from (14.7, −3.0), 10 steps on (1 + x²)y².
    traj = dynamics.simulate("arora", (14.7, -3.0), 5.0, 10, optimizer="normalized_gd")
    expected = ref.gd_loop("arora", (14.7, -3.0), 5.0, 10, update="normalized_gd")
    assert traj.diverged_at is None
    np.testing.assert_allclose(traj.params, expected, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(np.diff(traj.params, axis=0), axis=1), 5.0, rtol=1e-12)
    x, y = traj.params[:, 0], traj.params[:, 1]
    assert np.all(np.diff(x) < 0)                      # drifts towards smaller |x| ...
    assert np.all(np.sign(y[1:]) == -np.sign(y[:-1]))  # ... oscillating across the valley
    assert traj.sharpness[-1] < traj.sharpness[0] / 4  # ... towards flatter minima


# --- GD on √L -----------------------------------------------------------------------------

def test_sqrt_gd_arora_fig1():
    # Fig. 1: lr 0.5 from (14.7, 3.0), 12 steps.
    traj = dynamics.simulate("arora", (14.7, 3.0), 0.5, 12, optimizer="sqrt_gd")
    expected = ref.gd_loop("arora", (14.7, 3.0), 0.5, 12, update="sqrt_gd")
    assert traj.diverged_at is None
    np.testing.assert_allclose(traj.params, expected, rtol=1e-12, atol=1e-13)
    x, y = traj.params[:, 0], traj.params[:, 1]
    assert np.all(np.diff(x) < 0)
    assert np.all(np.sign(y[1:]) == -np.sign(y[:-1]))
    assert traj.sharpness[-1] < traj.sharpness[0] / 4
    np.testing.assert_allclose(traj.sharpness, [ref.sharpness("arora", t) for t in traj.params], rtol=1e-10)


@pytest.mark.parametrize("name,start,eta", [("xy", (3.0, 0.2), 0.05), ("xyzw", (1.3, 0.6, 0.9, 1.1), 0.02),
                                            ("x2y2", (1.5, 0.5), 0.05)])
def test_sqrt_gd_matches_loop(name, start, eta):
    traj = dynamics.simulate(name, start, eta, 15, optimizer="sqrt_gd")
    np.testing.assert_allclose(traj.params, ref.gd_loop(name, start, eta, 15, update="sqrt_gd"),
                               rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("lam,eta", [(2.0, 0.1), (8.0, 0.05)])
def test_sqrt_gd_on_1d_quadratic_moves_by_a_constant(lam, eta):
    # √L = √(λ/2)|θ|, so each step moves θ by exactly η√(λ/2) towards (and past) 0.
    traj = dynamics.simulate(dynamics.quadratic([lam]), [1.01], eta, 60, optimizer="sqrt_gd")
    np.testing.assert_allclose(np.abs(np.diff(traj.params[:, 0])), eta * np.sqrt(lam / 2), rtol=1e-10)


# --- SGD on the picky example (Wu, Ma, E) -------------------------------------------------

X0 = 1 - 1e-5


def test_picky_gd_converges_to_one():
    traj = dynamics.simulate("picky", [X0], 0.7, 200)
    np.testing.assert_allclose(traj.params, ref.gd_loop("picky", [X0], 0.7, 200), rtol=1e-13, atol=1e-16)
    assert traj.params[-1, 0] == pytest.approx(1.0, abs=1e-13)  # multiplier 1 − 0.7·2 = −0.4
    assert traj.sharpness[-1] == pytest.approx(2.0, rel=1e-14)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_picky_sgd_escapes_to_zero(seed):
    # Near x = 1 SGD multiplies x − 1 by 0.86 (f₁) or −1.66 (f₂): log|x − 1| drifts up by
    # ½(ln 0.86 + ln 1.66) ≈ 0.178 per step (σ ≈ 0.33), so leaving 1e-5 takes ~60 steps;
    # near 0 both components are x² and each step multiplies x by −0.4. 2000 steps make the
    # escape certain to > 20σ; SGD cannot leave the region around 0 once inside it.
    traj = dynamics.simulate("picky", [X0], 0.7, 2000, optimizer="sgd", seed=seed)
    assert traj.diverged_at is None
    assert abs(traj.params[-1, 0]) < 1e-12
    assert traj.sharpness[-1] == pytest.approx(2.0, rel=1e-14)
    assert traj.loss[-1] < 1e-24
    np.testing.assert_allclose(traj.loss, [ref.loss("picky", t) for t in traj.params], rtol=1e-12, atol=1e-300)


def _component_steps(traj, eta):
    """Which component (0 or 1) each SGD step followed, from the hand gradients."""
    picks = []
    for a, b in zip(traj.params[:-1, 0], traj.params[1:, 0]):
        options = [a - eta * ref.picky_component_grad(a, i) for i in (0, 1)]
        errors = [abs(b - o) for o in options]
        assert min(errors) <= 1e-12 * max(1.0, abs(a)), (a, b, options)
        picks.append(int(np.argmin(errors)) if abs(options[0] - options[1]) > 1e-9 else -1)
    return np.array(picks)


@pytest.mark.parametrize("seed", [0, 7])
def test_sgd_steps_follow_one_component(seed):
    traj = dynamics.simulate("picky", [X0], 0.7, 300, optimizer="sgd", seed=seed)
    _component_steps(traj, 0.7)


def test_sgd_draws_components_uniformly():
    # From x = 2 at η = 0.01 the iterate stays in (1, 2] where f₁' = 0.2(x − 1) and
    # f₂' = 3.8(x − 1) differ, so every draw can be read off the trajectory.
    traj = dynamics.simulate("picky", [2.0], 0.01, 400, optimizer="sgd", seed=3)
    picks = _component_steps(traj, 0.01)
    assert np.all(picks >= 0)
    assert 0.4 < picks.mean() < 0.6  # Binomial(400, ½): 4σ = 0.1
    # Across seeds, the first draw is also fair.
    first = [dynamics.simulate("picky", [0.9], 0.7, 1, optimizer="sgd", seed=s).params[1, 0] for s in range(60)]
    used_f1 = np.isclose(first, 0.9 + 0.7 * 0.02, rtol=1e-14)
    used_f2 = np.isclose(first, 0.9 + 0.7 * 0.38, rtol=1e-14)
    assert np.all(used_f1 | used_f2)
    assert 15 <= used_f1.sum() <= 45  # Binomial(60, ½): ±3.9σ


def test_sgd_same_seed_same_run_other_seed_other_run():
    runs = [dynamics.simulate("picky", [X0], 0.7, 100, optimizer="sgd", seed=s).params for s in (5, 5, 6, 8)]
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not (np.array_equal(runs[0], runs[2]) and np.array_equal(runs[0], runs[3]))


# --- properties ---------------------------------------------------------------------------

@settings(max_examples=20, deadline=None)
@given(lams=st.lists(st.floats(0.1, 10.0), min_size=1, max_size=3), eta=st.floats(0.01, 1.0),
       theta=st.lists(st.floats(-3, 3).filter(lambda v: abs(v) > 1e-3), min_size=3, max_size=3))
def test_normalized_gd_step_length_is_eta(lams, eta, theta):
    traj = dynamics.simulate(dynamics.quadratic(lams), theta[: len(lams)], eta, 40, optimizer="normalized_gd")
    # Length η, except from an iterate that landed exactly on the minimum (∇L = 0: it stays).
    at_min = np.all(traj.params[:-1] == 0, axis=1)
    expected = np.where(at_min, 0.0, eta)
    np.testing.assert_allclose(np.linalg.norm(np.diff(traj.params, axis=0), axis=1), expected, rtol=1e-9)


@settings(max_examples=15, deadline=None)
@given(x=st.floats(0.5, 3.0), y=st.floats(0.1, 2.0), eta=st.floats(0.005, 0.05))
def test_sqrt_gd_property_matches_loop_on_arora(x, y, eta):
    traj = dynamics.simulate("arora", (x, y), eta, 10, optimizer="sqrt_gd")
    np.testing.assert_allclose(traj.params, ref.gd_loop("arora", (x, y), eta, 10, update="sqrt_gd"),
                               rtol=1e-11, atol=1e-12)


# --- rules with state: momentum, RMSProp, Adam ---------------------------------------------

def test_momentum_rule_and_its_state():
    opt = dynamics.momentum(beta=0.5)
    state = opt.init(jnp.array([1.0, 2.0]))
    np.testing.assert_array_equal(np.asarray(state.velocity), [0.0, 0.0])
    theta, state = opt.update(jnp.array([2.0, -4.0]), state, jnp.array([1.0, 2.0]), 0.0, 0.1)
    np.testing.assert_allclose(np.asarray(theta), [0.8, 2.4], rtol=1e-15)   # v₁ = g
    theta, state = opt.update(jnp.array([2.0, 0.0]), state, theta, 0.0, 0.1)
    np.testing.assert_allclose(np.asarray(state.velocity), [3.0, -2.0], rtol=1e-15)
    np.testing.assert_allclose(np.asarray(theta), [0.5, 2.6], rtol=1e-15)


def momentum_closed_form(lam, eta, beta, theta0, steps):
    """θ_t = a r₁ᵗ + b r₂ᵗ: θ_{t+1} = (1 + β − ηλ)θ_t − βθ_{t−1}, θ₁ = (1 − ηλ)θ₀ (v₀ = 0)."""
    c = 1.0 + beta - eta * lam
    disc = np.sqrt(complex(c * c - 4.0 * beta))
    r1, r2 = (c + disc) / 2, (c - disc) / 2
    theta1 = (1.0 - eta * lam) * theta0
    b = (theta1 - r1 * theta0) / (r2 - r1)
    a = theta0 - b
    t = np.arange(steps + 1)
    return (a * r1**t + b * r2**t).real


@pytest.mark.parametrize("lam,eta,beta", [(1.0, 0.5, 0.9), (2.0, 0.3, 0.5), (1.0, 3.0, 0.9),
                                          (0.7, 1.2, 0.2)])
def test_momentum_follows_its_linear_recurrence_on_a_quadratic(lam, eta, beta):
    traj = dynamics.simulate(dynamics.quadratic([lam]), [1.5], eta, 60,
                             optimizer=dynamics.momentum(beta=beta))
    np.testing.assert_allclose(traj.params[:, 0], momentum_closed_form(lam, eta, beta, 1.5, 60),
                               rtol=1e-9, atol=1e-12)
    assert traj.optimizer == "momentum"


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9])
def test_momentum_diverges_exactly_beyond_two_plus_two_beta(beta):
    # On ½λθ² heavy ball is stable iff ηλ < 2 + 2β (the roots of r² − (1 + β − ηλ)r + β lie
    # in the unit disc): 0.1 % below it converges, 0.1 % above it diverges.
    lam, edge = 1.0, 2.0 + 2.0 * beta
    opt = dynamics.momentum(beta=beta)
    below = dynamics.simulate(dynamics.quadratic([lam]), [1.0], edge * (1 - 1e-3), 20_000,
                              optimizer=opt)
    above = dynamics.simulate(dynamics.quadratic([lam]), [1.0], edge * (1 + 1e-3), 20_000,
                              optimizer=opt)
    assert below.diverged_at is None and abs(below.params[-1, 0]) < 1e-6
    assert above.diverged_at is not None
    np.testing.assert_allclose(below.threshold, edge / below.eta, rtol=1e-15)
    # the sharpness is λ: just below the threshold, just above it
    assert np.all(below.effective_sharpness == lam) and np.all(below.threshold > lam)
    assert np.all(above.threshold < lam)


CASES = [("xyzw", (1.2, 0.6, 0.9, 1.1), 0.02, None), ("arora", (1.5, 0.8), 0.05, None),
         ("xy", (2.0, 0.3), 0.1, None), ("quadratic", (1.0, -0.5, 2.0), 0.3, (3.0, 1.0, 0.2))]


@pytest.mark.parametrize("rule,hyper", [("momentum", (0.9,)), ("momentum", (0.3,)),
                                        ("rmsprop", (0.99, 1e-8)), ("rmsprop", (0.99, 1e-3)),
                                        ("adam", (0.9, 0.999, 1e-8)), ("adam", (0.8, 0.95, 1e-4))])
@pytest.mark.parametrize("name,start,eta,lams", CASES)
def test_stateful_rules_match_a_numpy_loop(rule, hyper, name, start, eta, lams):
    model = dynamics.quadratic(lams) if lams else name
    # (short enough that no run reaches its edge of stability, where rounding grows)
    schedule = [(0, eta), (60, eta / 2)]
    etas = np.r_[np.full(60, eta), np.full(60, eta / 2)]
    expected, pre = ref.stateful_loop(name, start, etas, rule, hyper, lams)
    traj = dynamics.simulate(model, start, schedule, 120, optimizer=getattr(dynamics, rule)(*hyper))
    assert len(traj.params) == len(expected)
    np.testing.assert_allclose(traj.params, expected, rtol=1e-12, atol=1e-14)
    # the effective sharpness λ_max(P⁻¹H) of each step, by numpy from the symmetric form
    # P^{-1/2} H P^{-1/2} and from the eigenvalues of P⁻¹H itself
    hess = [ref.hessian(name, t, lams) for t in expected[:-1]]
    sym = [np.linalg.eigvalsh(h / np.sqrt(np.outer(p, p))).max() for h, p in zip(hess, pre)]
    direct = [np.linalg.eigvals(h / p[:, None]).real.max() for h, p in zip(hess, pre)]
    np.testing.assert_allclose(traj.effective_sharpness, sym, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(traj.effective_sharpness, direct, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(traj.sharpness, [np.linalg.eigvalsh(h).max() for h in hess]
                               + [ref.sharpness(name, expected[-1], lams)], rtol=1e-10)


def test_adam_over_two_blocks_keeps_its_state_and_its_effective_sharpness():
    # 20 000 steps are two blocks of the runner: the state and the P of the seam's step
    # cross between them. (η small enough that the run stays far from its edge of
    # stability, where rounding differences would grow.)
    hyper = (0.9, 0.999, 1e-8)
    etas = np.full(20_000, 2e-6)
    expected, pre = ref.stateful_loop("xyzw", (1.2, 0.6, 0.9, 1.1), etas, "adam", hyper)
    traj = dynamics.simulate("xyzw", (1.2, 0.6, 0.9, 1.1), 2e-6, 20_000, optimizer="adam")
    np.testing.assert_allclose(traj.params, expected, rtol=1e-12, atol=1e-14)
    for k in (0, 16_383, 16_384, 16_385, 19_999):
        h = ref.hessian("xyzw", expected[k])
        want = np.linalg.eigvalsh(h / np.sqrt(np.outer(pre[k], pre[k]))).max()
        assert traj.effective_sharpness[k] == pytest.approx(want, rel=1e-8)


def test_thresholds_of_every_rule():
    schedule, steps = [(0, 0.1), (5, 0.05)], 10
    eta = np.r_[np.full(5, 0.1), np.full(5, 0.05)]
    expected = {"gd": 2 / eta, "normalized_gd": 2 / eta, "sqrt_gd": 2 / eta, "flow": 2 / eta,
                "momentum": 3.8 / eta, "rmsprop": 2 / eta, "adam": 38 / eta}
    for name, want in expected.items():
        traj = dynamics.simulate("xy", (1.5, 0.5), schedule, steps, optimizer=name)
        np.testing.assert_allclose(traj.threshold, want, rtol=1e-14)
        assert traj.threshold.shape == traj.effective_sharpness.shape == (steps,)
        if name not in ("rmsprop", "adam"):   # not preconditioned: the sharpness itself
            np.testing.assert_array_equal(traj.effective_sharpness, traj.sharpness[:-1])
    adam = dynamics.simulate("xy", (1.5, 0.5), 0.1, 3, optimizer=dynamics.adam(beta1=0.5))
    np.testing.assert_allclose(adam.threshold, 3.0 / (0.5 * 0.1), rtol=1e-14)
    mom = dynamics.simulate("xy", (1.5, 0.5), 0.1, 3, optimizer=dynamics.momentum(beta=0.0))
    np.testing.assert_allclose(mom.threshold, 20.0, rtol=1e-14)


def test_rmsprop_at_the_edge_of_stability():
    # Cohen et al. 2022: RMSProp's effective sharpness rises to 2/η and hovers there while
    # the raw sharpness stays far below it.
    traj = dynamics.simulate("xyzw", (1.2, 0.6, 0.9, 1.1), 0.01, 2000, optimizer="rmsprop")
    tail = traj.effective_sharpness[-500:]
    assert abs(np.median(tail) / traj.threshold[-1] - 1) < 0.05
    assert traj.sharpness[-1] < 0.1 * traj.threshold[-1]


@pytest.mark.parametrize("factory,kwargs", [
    (dynamics.momentum, {"beta": 1.0}), (dynamics.momentum, {"beta": -0.1}),
    (dynamics.momentum, {"beta": float("nan")}), (dynamics.momentum, {"beta": "0.9"}),
    (dynamics.rmsprop, {"beta2": 1.5}), (dynamics.rmsprop, {"eps": 0.0}),
    (dynamics.rmsprop, {"eps": -1e-8}), (dynamics.rmsprop, {"eps": float("nan")}),
    (dynamics.adam, {"beta1": 1.0}), (dynamics.adam, {"beta2": float("nan")}),
    (dynamics.adam, {"eps": float("inf")}), (dynamics.adam, {"beta1": True})])
def test_bad_hyperparameters_are_refused_with_a_sentence(factory, kwargs):
    with pytest.raises(ValueError, match=r"must be a (number from 0|positive, finite)"):
        factory(**kwargs)


def test_an_optimizer_object_or_its_name_give_the_same_run():
    a = dynamics.simulate("arora", (1.5, 0.8), 0.05, 50, optimizer="adam")
    b = dynamics.simulate("arora", (1.5, 0.8), 0.05, 50, optimizer=dynamics.adam())
    np.testing.assert_array_equal(a.params, b.params)
    np.testing.assert_array_equal(a.effective_sharpness, b.effective_sharpness)
