"""Verdicts: every (model × optimizer) default, the cases issue 9 names, and synthetic tails.

Independent truth: the cycles found are replayed with the hand-derived update rules of
``reference.py`` (p steps from a cycle point return to it); their amplitudes follow from
the rule (normalized GD moves by exactly η, GD on √L on λx²/2 by η√(λ/2)); Zhu et al.'s
Cor. 3.1 brackets the final sharpness at the edge; the synthetic tails are built by hand.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

import dynamics
import reference as ref
from app.state import ExplorerState
from app.verdict import Verdict, classify, verdict


def default_run(model, optimizer=None, **changes):
    """The run the explorer shows for ``model`` with ``optimizer`` (model defaults)."""
    state = ExplorerState(model=model)
    if optimizer is not None:
        state.optimizer = optimizer
    state.param.update(**changes)
    return state.run()


# --- every default, read correctly -----------------------------------------------------

KINDS = {
    ("quadratic", "gd"): "converged", ("quadratic", "normalized_gd"): "periodic",
    ("quadratic", "sqrt_gd"): "periodic", ("quadratic", "flow"): "converged",
    ("xy", "gd"): "converged", ("xy", "normalized_gd"): "drift",
    ("xy", "sqrt_gd"): "chaotic", ("xy", "flow"): "converged",
    ("x2y2", "gd"): "edge", ("x2y2", "normalized_gd"): "converged",
    ("x2y2", "sqrt_gd"): "periodic", ("x2y2", "flow"): "converged",
    ("xyzw", "gd"): "edge", ("xyzw", "normalized_gd"): "periodic",
    ("xyzw", "sqrt_gd"): "periodic", ("xyzw", "flow"): "converged",
    ("arora", "gd"): "diverged", ("arora", "normalized_gd"): "periodic",
    ("arora", "sqrt_gd"): "periodic", ("arora", "flow"): "converged",
    ("picky", "gd"): "converged", ("picky", "normalized_gd"): "periodic",
    ("picky", "sqrt_gd"): "periodic", ("picky", "sgd"): "converged",
    ("picky", "flow"): "converged",
    ("sharpening", "gd"): "periodic", ("sharpening", "normalized_gd"): "periodic",
    ("sharpening", "sqrt_gd"): "periodic", ("sharpening", "flow"): "converged",
    # the rules with state, and the central flow (held at S = 2/η)
    ("quadratic", "momentum"): "not_yet", ("quadratic", "rmsprop"): "converged",
    ("quadratic", "adam"): "not_yet", ("quadratic", "central_flow"): "converged",
    ("xy", "momentum"): "converged", ("xy", "rmsprop"): "edge", ("xy", "adam"): "converged",
    ("xy", "central_flow"): "edge",
    ("x2y2", "momentum"): "converged", ("x2y2", "rmsprop"): "converged",
    ("x2y2", "adam"): "converged", ("x2y2", "central_flow"): "edge",
    ("xyzw", "momentum"): "converged", ("xyzw", "rmsprop"): "chaotic",
    ("xyzw", "adam"): "converged", ("xyzw", "central_flow"): "edge",
    ("arora", "momentum"): "diverged", ("arora", "rmsprop"): "converged",
    ("arora", "adam"): "not_yet", ("arora", "central_flow"): "diverged",
    ("picky", "momentum"): "converged", ("picky", "rmsprop"): "diverged",
    ("picky", "adam"): "converged", ("picky", "central_flow"): "converged",
    ("sharpening", "momentum"): "converged", ("sharpening", "rmsprop"): "periodic",
    ("sharpening", "adam"): "converged", ("sharpening", "central_flow"): "stationary",
}
RULE = {"gd": "GD", "normalized_gd": "Normalized GD", "sqrt_gd": "GD on √L", "sgd": "SGD",
        "flow": "Gradient flow", "momentum": "Momentum GD", "rmsprop": "RMSProp", "adam": "Adam",
        "central_flow": "Central flow"}


def test_the_table_covers_every_model_and_optimizer():
    pairs = {(m, o) for m, model in dynamics.MODELS.items()
             for o in dynamics.optimizers_for(model)}
    assert pairs == set(KINDS)


@pytest.mark.parametrize("model,optimizer", sorted(KINDS))
def test_every_default_gets_its_kind(model, optimizer):
    result = default_run(model, optimizer)
    assert result.ok, result.message
    assert result.kind == KINDS[model, optimizer], result.verdict
    traj = result.traj
    if result.kind == "periodic":
        assert RULE[optimizer] in result.verdict and f"{result.period}-cycle" in result.verdict
        if optimizer in ("gd", "normalized_gd", "sqrt_gd"):   # stateless: replay by hand
            assert_replays(result)
        else:                                                   # RMSProp: its v has settled
            np.testing.assert_allclose(traj.params[-1 - result.period], traj.params[-1],
                                       atol=1e-3)
    if result.kind in ("converged", "edge") and optimizer != "flow":
        assert traj.loss[-1] < 1e-10
        assert any(w in result.verdict for w in ("Converged", "landed", "rests"))
    if result.kind != "converged" and result.kind != "edge":
        assert "Converged" not in result.verdict
    assert "Run more steps" not in result.verdict or result.kind in ("not_yet", "drift",
                                                                     "hovering")


@pytest.mark.parametrize("model", ["xy", "x2y2", "xyzw", "picky"])
@pytest.mark.parametrize("optimizer", ["rmsprop", "adam"])
def test_preconditioned_rules_are_judged_by_the_sharpness_of_p_inverse_h(model, optimizer):
    """RMSProp and Adam are held by λ_max(P⁻¹H) (Cohen et al. 2022): the verdict names it and
    quotes the engine's effective sharpness, not λ_max(H)."""
    result = default_run(model, optimizer)
    traj = result.traj
    if result.kind in ("converged", "edge", "not_yet"):   # the kinds that quote a sharpness
        assert "preconditioned sharpness" in result.verdict
    if result.kind in ("converged", "edge") and traj.diverged_at is None:
        assert f"{traj.effective_sharpness[-1]:.4g}" in result.verdict
        assert f"sharpness {traj.sharpness[-1]:.4g} " not in result.verdict


def test_each_model_default_names_its_own_rule_and_level():
    for name, model in dynamics.MODELS.items():
        result = default_run(name)
        assert result.spec.optimizer == model.default_optimizer
        assert result.level != "danger", (name, result.verdict)
        assert RULE[model.default_optimizer] in result.verdict


def assert_replays(result):
    """p steps of the hand-written rule from the cycle's last point return to it (and one
    step does not)."""
    traj, p = result.traj, result.period
    last = traj.params[-1]
    lams = traj.model.consts if traj.model.name == "quadratic" else None
    back = ref.gd_loop(traj.model.name, last, float(traj.eta[-1]), p, lams,
                       update=result.spec.optimizer)
    np.testing.assert_allclose(back[-1], last, atol=1e-6 * max(1, np.abs(last).max()))
    assert not np.allclose(back[1], last, atol=1e-3)


@pytest.mark.parametrize("model,optimizer,changes,kind", [
    ("quadratic", "gd", dict(eta=2.0), "periodic"),       # |1 − ηλ₁| = 1: θ₁ flips for ever
    ("quadratic", "gd", dict(eta=2.02), "diverged"),      # |1 − ηλ₁| = 1.02: slowly
    ("quadratic", "gd", dict(eta=2.2), "diverged"),
    ("xyzw", "gd", dict(steps=300), "hovering"),          # Zhu's run, still at the edge
    ("xy", "gd", dict(x0=0.0, y0=0.0), "stationary"),     # the saddle at the origin
    ("picky", "gd", dict(eta=1.05, steps=500), "periodic"),   # 2/η < 2: neither minimum
    ("picky", "sgd", dict(eta=1.1), "chaotic"),           # E(1 − ηa)² = 1.02 > 1 at x → ∞
])
def test_more_runs_read_right(model, optimizer, changes, kind):
    result = default_run(model, optimizer, **changes)
    assert result.kind == kind, result.verdict
    if kind == "periodic":
        assert_replays(result)


# --- the cases issue 9 names ------------------------------------------------------------

def test_picky_normalized_gd_is_a_two_cycle_not_convergence():
    result = default_run("picky", "normalized_gd", eta=0.7)
    assert result.kind == "periodic" and result.period == 2
    assert "Converged" not in result.verdict
    assert result.verdict.startswith("Normalized GD cannot settle: it ends in a 2-cycle of "
                                     "amplitude 0.35 between x ≈ 1 and x ≈ 1.7")
    v = classify(result.traj)
    assert v.amplitude == pytest.approx(0.35, rel=1e-9)        # each step moves by η = 0.7
    assert sorted(p[0] for p in v.points) == pytest.approx([1 - 1e-5, 1.7 - 1e-5], abs=1e-9)


@pytest.mark.parametrize("model,optimizer,changes,amplitude", [
    ("quadratic", "normalized_gd", {}, 0.9),                       # η / 2
    ("quadratic", "sqrt_gd", {}, 0.5 * 1.8 * np.sqrt(0.5)),        # η √(λ₁/2) / 2
    ("x2y2", "sqrt_gd", {}, None),
    ("arora", "sqrt_gd", dict(eta=0.5, steps=60), 0.25),           # Arora et al. Fig. 1
    ("arora", "normalized_gd", {}, 0.6),                           # η / 2, at x = 0
])
def test_permanent_cycles_are_named_not_told_to_run_more(model, optimizer, changes,
                                                         amplitude):
    result = default_run(model, optimizer, **changes)
    assert result.kind == "periodic", result.verdict
    assert "cannot settle" in result.verdict and "Run more steps" not in result.verdict
    if amplitude is not None:
        assert classify(result.traj).amplitude == pytest.approx(amplitude, rel=1e-3)


def test_arora_default_shows_both_phases_then_the_cycle_at_the_flattest_minimum():
    result = default_run("arora")
    traj = result.traj
    x, y = traj.params[:, 0], traj.params[:, 1]
    assert result.spec.optimizer == "normalized_gd" and traj.diverged_at is None
    assert traj.loss[2] < traj.loss[0] / 10                   # phase I: down into the valley
    crossings = np.sum(np.diff(np.sign(y[:100])) != 0)        # phase II: across it ...
    assert crossings > 80 and 3 < x[100] < 13                 # ... while drifting along it
    assert abs(x[-1]) < 1e-3 and traj.sharpness[-1] == pytest.approx(2.0, abs=0.2)
    assert "2-cycle" in result.verdict and "fell from 498.9" in result.verdict


def test_sgd_escapes_where_gd_stays_on_picky():
    sgd, gd = default_run("picky"), default_run("picky", "gd")
    assert sgd.spec.optimizer == "sgd"
    assert sgd.kind == gd.kind == "converged"
    assert abs(sgd.traj.params[-1, 0]) < 1e-8 and "SGD" in sgd.verdict and "x ≈ 0" in sgd.verdict
    assert gd.traj.params[-1, 0] == pytest.approx(1.0) and "x ≈ 1 " in gd.verdict


@pytest.mark.parametrize("model", list(dynamics.MODELS))
def test_gradient_flow_never_cycles(model):
    result = default_run(model, "flow")
    assert result.kind in ("converged", "not_yet")
    assert "cycle" not in result.verdict and "2/η" in result.verdict


def test_sharpening_default_rides_the_edge_in_a_two_cycle_held_below_y_star():
    """Self-stabilization (Damian et al. 2022): GD holds y at √(2/η − c) < y*, where
    c + y² = 2/η, and swings x ↔ −x; the loss stays positive, the sharpness at 2/η."""
    c, kappa, y_star = ref.SHARPENING
    result = default_run("sharpening")
    y_e = np.sqrt(2 / 0.2 - c)
    assert result.kind == "periodic" and result.period == 2
    cycle = classify(result.traj)
    assert all(p[1] == pytest.approx(y_e, rel=1e-6) for p in cycle.points)
    sigma = np.sqrt(kappa * (y_star - y_e) / y_e)
    assert sorted(p[0] for p in cycle.points) == pytest.approx([-sigma, sigma], rel=1e-3)
    assert "loss staying at 1.4" in result.verdict and "10.05, above 2/η = 10" in result.verdict
    assert "Converged" not in result.verdict


def test_central_flow_of_sharpening_rests_on_the_edge_not_at_a_critical_point():
    """The central flow stops at (0, y_e) where ∇L = (0, κ(y_e − y*)) ≠ 0: the verdict must
    not claim ∇L = 0 there; it says the sharpness is held at 2/η with the loss above 0."""
    c, kappa, y_star = ref.SHARPENING
    result = default_run("sharpening", "central_flow")
    y_e = np.sqrt(2 / 0.2 - c)
    np.testing.assert_allclose(result.traj.params[-1], [0.0, y_e], atol=1e-6)
    assert np.linalg.norm(ref.grad("sharpening", result.traj.params[-1])) > 0.1
    assert "∇L = 0" not in result.verdict and result.level == "info"
    assert "edge of stability" in result.verdict and "2/η = 10" in result.verdict
    assert f"{ref.loss('sharpening', [0.0, y_e]):.3g} > 0" in result.verdict


def test_zhu_default_converges_at_the_edge():
    result = default_run("xyzw")
    s, eta = result.traj.sharpness[-1], 0.2
    assert 2 / eta - 20 / 3 * eta < s < 2 / eta                   # Zhu et al. Cor. 3.1
    assert result.kind == "edge" and "edge of stability" in result.verdict
    assert "9.927" in result.verdict and "just below 2/η = 10" in result.verdict


def test_switching_model_picks_its_optimizer():
    state = ExplorerState()
    for name, model in dynamics.MODELS.items():
        state.model = name
        assert state.optimizer == model.default_optimizer
    state.apply_query({"model": "arora", "optimizer": "sqrt_gd"})   # a link's choice wins
    assert state.optimizer == "sqrt_gd"


# --- synthetic tails, one per kind --------------------------------------------------------

@dataclass
class Fake:
    """The fields ``classify`` reads, built by hand."""

    params: np.ndarray
    loss: np.ndarray
    sharpness: np.ndarray
    eta: np.ndarray = None
    optimizer: str = "gd"
    diverged_at: int | None = None
    threshold: np.ndarray = field(default=None)

    def __post_init__(self):
        n = len(self.loss)
        self.params = np.asarray(self.params, dtype=float).reshape(n, -1)
        self.eta = np.full(n - 1, 0.2) if self.eta is None else self.eta
        self.threshold = 2.0 / self.eta if self.threshold is None else self.threshold


def quadratic_fake(points, lam=1.0, **kw):
    points = np.asarray(points, dtype=float).reshape(len(points), -1)
    loss = 0.5 * lam * np.sum(points**2, axis=1)
    return Fake(points, loss, np.full(len(points), lam), **kw)


def test_exact_two_cycle():
    v = classify(quadratic_fake([(-1.0) ** k for k in range(100)]))
    assert (v.kind, v.period, v.amplitude) == ("periodic", 2, 1.0)
    assert "between x ≈ −1 and x ≈ 1" in v.sentence


def test_four_cycle_through_its_points():
    square = [(1, 0), (0, 1), (-1, 0), (0, -1)]
    v = classify(quadratic_fake([square[k % 4] for k in range(203)]))
    assert (v.kind, v.period) == ("periodic", 4)
    assert v.amplitude == pytest.approx(1.0)
    assert len(v.points) == 4 and tuple(v.points[-1]) == (-1.0, 0.0)   # θ₂₀₂ = square[2]


def test_logistic_chaos_is_bounded_not_periodic():
    x = [0.2]
    for _ in range(599):
        x.append(3.9 * x[-1] * (1 - x[-1]))
    v = classify(quadratic_fake(np.array(x) + 0.5))
    assert v.kind == "chaotic" and "no period up to" in v.sentence


def test_drift_along_a_valley():
    # Arora's valley by hand: y flips ±0.5 across y = 0 while x walks from 10 to 5
    k = np.arange(120)
    x, y = 10 - k / 24, 0.5 * (-1.0) ** k
    v = classify(Fake(np.stack([x, y], 1), (1 + x**2) * y**2, 2 * (1 + x**2),
                      optimizer="normalized_gd"))
    assert v.kind == "drift" and "phase II" in v.sentence and "Normalized GD" in v.sentence


def test_divergence_reported_or_seen_growing():
    grown = quadratic_fake(1.2 ** np.arange(60), lam=1.0, eta=np.full(59, 2.2))
    v = classify(grown)
    assert v.kind == "diverged" and v.level == "danger" and v.sentence.startswith("Diverging")
    v = classify(Fake(np.ones((3, 2)), np.ones(3), np.ones(3), diverged_at=3))
    assert v.kind == "diverged" and "step 3" in v.sentence


def test_stationary_start_and_stationary_end():
    still = Fake(np.zeros((50, 2)), np.full(50, 0.5), np.ones(50))
    v = classify(still)
    assert v.kind == "stationary" and v.sentence.startswith("Started at a stationary point")
    approach = np.stack([0.5 ** np.arange(200), np.zeros(200)], 1)   # to a saddle, L = ½
    v = classify(Fake(approach, np.full(200, 0.5), np.ones(200)))
    assert v.kind == "stationary" and "stopped at a stationary point" in v.sentence


def test_converged_below_at_and_above_the_edge():
    decay = 0.5 ** np.arange(80)
    below = quadratic_fake(decay, lam=1.0)                           # 1 < 2/0.2 = 10
    assert classify(below).kind == "converged"
    assert "Converged below 2/η" in classify(below).sentence
    edge = quadratic_fake(decay, lam=9.93)                           # Zhu's 9.93 ≈ 10
    assert classify(edge).kind == "edge" and "just below 2/η = 10" in classify(edge).sentence
    adam = quadratic_fake(decay, lam=37.0, threshold=np.full(79, 38.0))   # traj.threshold wins
    assert classify(adam).kind == "edge" and "its threshold = 38" in classify(adam).sentence


def test_hovering_at_the_edge_while_the_loss_falls():
    k = np.arange(300)
    sharp = 10 + 0.3 * np.sin(k)
    loss = 1e-2 * np.exp(-k / 300) * (1.5 + np.sin(1.7 * k))
    params = np.stack([2 + 1e-2 * np.sin(1.3 * k), 0.5 + 1e-3 * k], 1)
    v = classify(Fake(params, loss, sharp))
    assert v.kind == "hovering" and "hovers at 2/η = 10" in v.sentence


def test_not_yet_and_sgd_noise_and_flow():
    slow = quadratic_fake(0.99 ** np.arange(30))
    assert classify(slow).kind == "not_yet" and "Run more steps" in classify(slow).sentence
    rng = np.random.default_rng(0)
    noise = quadratic_fake(1 + 0.1 * rng.standard_normal(300), optimizer="sgd")
    assert classify(noise).kind == "chaotic" and "randomly drawn" in classify(noise).sentence
    flipping = quadratic_fake([(-1.0) ** k for k in range(100)], optimizer="flow")
    assert classify(flipping).kind != "periodic"


def test_verdict_keeps_its_pair_and_etas_fallback():
    class Bare:      # no eta, no threshold: the etas given are used
        params = np.array([[1.0], [1e-6], [1e-7]])
        loss = np.array([1.0, 1e-12, 1e-14])
        sharpness = np.ones(3)
        diverged_at = None
    sentence, level = verdict(Bare, np.full(3, 0.5))
    assert level == "success" and "2/η = 4" in sentence
    assert isinstance(classify(Bare, np.full(3, 0.5)), Verdict)


def test_adam_s_edge_of_stability_episode_is_told_not_hidden():
    """xyzw with Adam: λ_max(P⁻¹H) first rises through 38/η at some step k and the loss spikes
    there (Cohen et al. 2022); the verdict names k (found here from the engine's arrays) and
    that the preconditioned sharpness is rising again at the end."""
    result = default_run("xyzw", "adam")
    eff, thr = result.traj.effective_sharpness, result.traj.threshold
    above = eff > thr
    k = int(np.flatnonzero(above[1:] & ~above[:-1])[0]) + 1
    assert result.traj.loss[k:].max() > 1e6 * result.traj.loss[k - 1]
    assert f"at step {k}, its preconditioned sharpness rose above" in result.verdict
    assert "rising again" in result.verdict and eff[-1] > eff[-len(eff) // 4]
