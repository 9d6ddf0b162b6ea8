"""Update rules as pure ``init``/``update`` pairs with state, each with the threshold it is held to.

An optimizer is ``init(θ) -> state`` and ``update(grad, state, θ, loss, η) -> (θ', state')``
(optax's ``GradientTransformation`` is the model). The state is a NamedTuple of arrays; it
also carries the hyperparameters (β, ε), so they are traced values: a new β never compiles
again. ``grad`` is ∇L(θ) for every rule but SGD, whose step passes the gradient of the one
per-sample loss drawn for it (``step.py``). Gradient flow has no update rule: ``flow.py``
solves dθ/dt = −∇L instead.

Each rule is held to a threshold: GD with step η diverges on a quadratic iff ηλ > 2;
heavy-ball momentum iff ηλ > 2 + 2β; a preconditioned rule θ ← θ − ηP⁻¹∇L is held to its
threshold through the *effective* sharpness λ_max(P⁻¹H) (Cohen et al. 2022, "Adaptive
gradient methods at the edge of stability"): 2/η for RMSProp, (2 + 2β₁)/((1 − β₁)η) for Adam.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Callable, NamedTuple

import jax.numpy as jnp
import numpy as np


class NoState(NamedTuple):
    """The state of a rule without memory (GD, normalized GD, GD on √L, SGD)."""


class MomentumState(NamedTuple):
    velocity: jnp.ndarray   # v (dim,)
    beta: jnp.ndarray       # β


class RMSPropState(NamedTuple):
    nu: jnp.ndarray         # v (dim,): running mean of g²
    beta2: jnp.ndarray
    eps: jnp.ndarray


class AdamState(NamedTuple):
    count: jnp.ndarray      # t: steps taken
    mu: jnp.ndarray         # m (dim,): running mean of g
    nu: jnp.ndarray         # v (dim,): running mean of g²
    beta1: jnp.ndarray
    beta2: jnp.ndarray
    eps: jnp.ndarray


# --- stateless rules ------------------------------------------------------------------------

def no_state(theta) -> NoState:
    return NoState()


def gd(grad, state, theta, loss, eta):
    """Gradient descent: θ ← θ − η ∇L(θ)."""
    return theta - eta * grad, state


def normalized_gd(grad, state, theta, loss, eta):
    """Normalized GD (Arora et al. 2022): θ ← θ − η ∇L / ‖∇L‖; a stationary point stays put."""
    norm = jnp.sqrt(jnp.sum(grad**2))
    safe = jnp.where(norm > 0, norm, 1.0)
    return jnp.where(norm > 0, theta - eta * grad / safe, theta), state


def sqrt_gd(grad, state, theta, loss, eta):
    """GD on √L: θ ← θ − η ∇L / (2√L); a point with L = 0 stays put."""
    root = jnp.sqrt(jnp.maximum(loss, 0.0))
    safe = jnp.where(root > 0, root, 1.0)
    return jnp.where(root > 0, theta - eta * grad / (2.0 * safe), theta), state


# --- rules with state -------------------------------------------------------------------------

def momentum_init(theta, beta) -> MomentumState:
    return MomentumState(jnp.zeros_like(theta), jnp.asarray(beta, jnp.float64))


def momentum_update(grad, state, theta, loss, eta):
    """Heavy ball: v ← βv + ∇L(θ), θ ← θ − ηv (v₀ = 0)."""
    v = state.beta * state.velocity + grad
    return theta - eta * v, state._replace(velocity=v)


def rmsprop_init(theta, beta2, eps) -> RMSPropState:
    return RMSPropState(jnp.zeros_like(theta), jnp.asarray(beta2, jnp.float64),
                        jnp.asarray(eps, jnp.float64))


def rmsprop_update(grad, state, theta, loss, eta):
    """RMSProp: v ← β₂v + (1 − β₂)g², θ ← θ − η g / (√v + ε)."""
    v = state.beta2 * state.nu + (1.0 - state.beta2) * grad**2
    return theta - eta * grad / (jnp.sqrt(v) + state.eps), state._replace(nu=v)


def rmsprop_preconditioner(state):
    """P = diag(√v + ε) of the step just taken (its diagonal)."""
    return jnp.sqrt(state.nu) + state.eps


def adam_init(theta, beta1, beta2, eps) -> AdamState:
    as_float = lambda x: jnp.asarray(x, jnp.float64)
    return AdamState(as_float(0.0), jnp.zeros_like(theta), jnp.zeros_like(theta),
                     as_float(beta1), as_float(beta2), as_float(eps))


def adam_update(grad, state, theta, loss, eta):
    """Adam, bias-corrected as in PyTorch: m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g²,
    θ ← θ − η m̂ / (√v̂ + ε) with m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ)."""
    t = state.count + 1.0
    m = state.beta1 * state.mu + (1.0 - state.beta1) * grad
    v = state.beta2 * state.nu + (1.0 - state.beta2) * grad**2
    m_hat = m / (1.0 - state.beta1**t)
    v_hat = v / (1.0 - state.beta2**t)
    new = theta - eta * m_hat / (jnp.sqrt(v_hat) + state.eps)
    return new, state._replace(count=t, mu=m, nu=v)


def adam_preconditioner(state):
    """P_t = (1 − β₁ᵗ) diag(√v̂_t + ε): Adam's step is −η P⁻¹ m (its diagonal)."""
    t = state.count
    return (1.0 - state.beta1**t) * (jnp.sqrt(state.nu / (1.0 - state.beta2**t)) + state.eps)


# --- thresholds (host side, numpy) ------------------------------------------------------------

def two_over_eta(eta, *hyper):
    return 2.0 / np.asarray(eta, dtype=np.float64)


def momentum_threshold(eta, beta):
    return (2.0 + 2.0 * beta) / np.asarray(eta, dtype=np.float64)


def adam_threshold(eta, beta1, beta2, eps):
    return (2.0 + 2.0 * beta1) / ((1.0 - beta1) * np.asarray(eta, dtype=np.float64))


@dataclass(frozen=True)
class Optimizer:
    """A named update rule, its hyperparameters and how to present it.

    ``update`` and ``init_fn(θ, *hyper)`` are module-level functions: with ``stochastic``
    and ``preconditioner_fn`` they are the compiled program's identity (``rule``), while
    ``hyper`` only enters through the state, as data.
    """

    name: str
    title: str
    formula: str
    update: Callable | None                 # (grad, state, θ, loss, η) -> (θ', state')
    stochastic: bool = False   # draws one per-sample loss per step (needs model components)
    continuous: bool = False   # an ODE solve, no update rule
    init_fn: Callable = no_state             # (θ, *hyper) -> state
    hyper: tuple[float, ...] = ()
    threshold_fn: Callable = two_over_eta    # (η, *hyper) -> what a step is held to
    preconditioner_fn: Callable | None = None   # state after a step -> diag P of that step
    threshold_formula: str = r"2/\eta"

    def init(self, theta):
        """The state before the first step."""
        return self.init_fn(theta, *self.hyper)

    def threshold(self, eta) -> np.ndarray:
        """What a step with step size η is held to (2/η for GD), elementwise in η."""
        return self.threshold_fn(eta, *self.hyper)

    def preconditioner(self, state):
        """diag P of the step that produced ``state`` (None: not preconditioned)."""
        return None if self.preconditioner_fn is None else self.preconditioner_fn(state)

    @property
    def rule(self) -> tuple:
        """What a compiled program depends on (not the hyperparameters: those are data)."""
        return (self.update, self.init_fn, self.preconditioner_fn, self.stochastic)

    @property
    def stateful(self) -> bool:
        return self.init_fn is not no_state


def _fraction(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a number from 0 up to (not including) 1; "
                         f"got {value!r}.")
    return float(value)


def _positive(value, name: str) -> float:
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not math.isfinite(value) or value <= 0):
        raise ValueError(f"{name} must be a positive, finite number; got {value!r}.")
    return float(value)


def momentum(beta: float = 0.9) -> Optimizer:
    """Heavy-ball momentum: v ← βv + ∇L, θ ← θ − ηv; threshold (2 + 2β)/η."""
    return Optimizer("momentum", "Momentum GD (heavy ball)",
                     r"v \leftarrow \beta v + \nabla L(\theta),\ \theta \leftarrow \theta - \eta v",
                     momentum_update, init_fn=momentum_init, hyper=(_fraction(beta, "β"),),
                     threshold_fn=momentum_threshold, threshold_formula=r"(2 + 2\beta)/\eta")


def rmsprop(beta2: float = 0.99, eps: float = 1e-8) -> Optimizer:
    """RMSProp: v ← β₂v + (1 − β₂)g², θ ← θ − ηg/(√v + ε); P = diag(√v + ε), threshold 2/η."""
    return Optimizer("rmsprop", "RMSProp",
                     r"v \leftarrow \beta_2 v + (1-\beta_2) g^2,\ "
                     r"\theta \leftarrow \theta - \eta \frac{g}{\sqrt{v} + \epsilon}",
                     rmsprop_update, init_fn=rmsprop_init,
                     hyper=(_fraction(beta2, "β₂"), _positive(eps, "ε")),
                     preconditioner_fn=rmsprop_preconditioner)


def adam(beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> Optimizer:
    """Adam (bias-corrected); P_t = (1 − β₁ᵗ)diag(√v̂_t + ε), threshold (2 + 2β₁)/((1 − β₁)η)."""
    return Optimizer("adam", "Adam",
                     r"\theta \leftarrow \theta - \eta \frac{\hat m}{\sqrt{\hat v} + \epsilon}",
                     adam_update, init_fn=adam_init,
                     hyper=(_fraction(beta1, "β₁"), _fraction(beta2, "β₂"), _positive(eps, "ε")),
                     threshold_fn=adam_threshold, preconditioner_fn=adam_preconditioner,
                     threshold_formula=r"(2 + 2\beta_1)/((1 - \beta_1)\eta)")


OPTIMIZERS: dict[str, Optimizer] = {
    "gd": Optimizer("gd", "Gradient descent",
                    r"\theta \leftarrow \theta - \eta \nabla L(\theta)", gd),
    "normalized_gd": Optimizer("normalized_gd", "Normalized GD",
                               r"\theta \leftarrow \theta - \eta \frac{\nabla L}{\|\nabla L\|}",
                               normalized_gd),
    "sqrt_gd": Optimizer("sqrt_gd", "GD on √L",
                         r"\theta \leftarrow \theta - \eta \frac{\nabla L}{2\sqrt{L}}", sqrt_gd),
    "sgd": Optimizer("sgd", "SGD (one sample per step)",
                     r"\theta \leftarrow \theta - \eta \nabla f_{i_t}(\theta),\ "
                     r"i_t \sim \mathrm{Uniform}", gd, stochastic=True),
    "momentum": momentum(),
    "rmsprop": rmsprop(),
    "adam": adam(),
    "flow": Optimizer("flow", "Gradient flow",
                      r"\dot\theta = -\nabla L(\theta)", None, continuous=True),
    # Cohen, Damian et al. 2024: solved by central_flow.py (gradient flow held at S = 2/η)
    "central_flow": Optimizer("central_flow", "Central flow",
                              r"\dot\theta = -\nabla L + \frac{\langle \nabla L, \nabla S"
                              r"\rangle}{\|\nabla S\|^2} \nabla S \ \text{at } S = 2/\eta",
                              None, continuous=True),
}


def optimizers_for(model) -> list[str]:
    """The optimizer names that make sense for ``model`` (SGD needs a finite sum)."""
    return [name for name, opt in OPTIMIZERS.items()
            if not opt.stochastic or model.components_fn is not None]
