"""Argument checks: every bad argument becomes a ValueError a student can read."""
from __future__ import annotations

import math
import numbers

import numpy as np

from .model import Model

MAX_STEPS = 10_000_000
CHUNK = 2048  # steps per call of a compiled runner (fixed, so the length never recompiles)
DIVERGENCE_BOUND = 1e6  # a run counts as diverged once max|θ| exceeds this


def resolve_model(model) -> Model:
    """A Model, or the name of one in MODELS."""
    from .models import MODELS

    if isinstance(model, Model):
        return model
    if isinstance(model, str) and model in MODELS:
        return MODELS[model]
    raise ValueError(f"Unknown model {model!r}; choose one of {', '.join(MODELS)}, "
                     "or build a quadratic with dynamics.quadratic([λ1, λ2, ...]).")


def resolve_optimizer(model: Model, optimizer):
    """An Optimizer: one from ``dynamics.momentum(...)`` and friends, or a name in OPTIMIZERS."""
    from .optimizers import OPTIMIZERS, Optimizer

    if isinstance(optimizer, Optimizer):
        opt = optimizer
    elif isinstance(optimizer, str) and optimizer in OPTIMIZERS:
        opt = OPTIMIZERS[optimizer]
    else:
        raise ValueError(f"Unknown optimizer {optimizer!r}; choose one of "
                         f"{', '.join(OPTIMIZERS)}, or pass dynamics.adam(...) and friends.")
    if opt.stochastic and model.components_fn is None:
        raise ValueError(f"SGD needs a loss that is a sum over samples; the model "
                         f"{model.name!r} is not one (try 'picky').")
    return opt


def check_params(model: Model, params, what: str = "init") -> np.ndarray:
    """A finite float64 vector of length model.dim inside the divergence bound."""
    try:
        theta = np.asarray(params, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(f"The {what} must be a list of {model.dim} numbers; got {params!r}.")
    if theta.size != model.dim:
        raise ValueError(f"The model {model.name!r} has {model.dim} parameter(s) "
                         f"({', '.join(model.param_names)}), so the {what} needs "
                         f"{model.dim} number(s); got {theta.size}.")
    if not np.all(np.isfinite(theta)):
        raise ValueError(f"The {what} must be finite numbers; got {theta.tolist()}.")
    if np.max(np.abs(theta)) > DIVERGENCE_BOUND:
        raise ValueError(f"The {what} {theta.tolist()} is beyond |θ| ≤ {DIVERGENCE_BOUND:g}, "
                         "where runs already count as diverged.")
    return theta


def check_steps(steps) -> int:
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral):
        if isinstance(steps, float) and steps.is_integer():
            steps = int(steps)
        else:
            raise ValueError(f"The number of steps must be a whole number; got {steps!r}.")
    steps = int(steps)
    if steps < 1:
        raise ValueError(f"The number of steps must be at least 1; got {steps}.")
    if steps > MAX_STEPS:
        raise ValueError(f"{steps} steps is too many for an interactive run; "
                         f"the limit is {MAX_STEPS:,}.")
    return steps


def check_eta(eta, what: str = "step size η") -> float:
    if isinstance(eta, (bool, np.bool_)) or not isinstance(eta, (numbers.Real, np.ndarray)):
        raise ValueError(f"The {what} must be a number; got {eta!r}.")
    try:
        value = float(eta)
    except (TypeError, ValueError):
        raise ValueError(f"The {what} must be a number; got {eta!r}.")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"The {what} must be a positive, finite number; got {eta!r}.")
    return value


def check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**32:
        raise ValueError(f"The seed must be a whole number from 0 to 2³² − 1; got {seed!r}.")
    return int(seed)


def eta_per_step(eta, steps: int) -> np.ndarray:
    """The step size of each of ``steps`` steps, from a float or [(0, η0), (k1, η1), ...]."""
    if isinstance(eta, (numbers.Real, np.ndarray)) and np.ndim(eta) == 0:
        return np.full(steps, check_eta(eta))
    if isinstance(eta, (str, bytes)):
        raise ValueError(f"The step size η must be a number; got {eta!r}.")
    try:
        pieces = [(k, e) for k, e in eta]
    except (TypeError, ValueError):
        raise ValueError("The step size must be a positive number or a schedule "
                         f"[(0, η0), (k1, η1), ...]; got {eta!r}.")
    if not pieces or pieces[0][0] != 0:
        raise ValueError("A step-size schedule must start at step 0: [(0, η0), (k1, η1), ...].")
    starts = []
    for k, e in pieces:
        if (isinstance(k, bool) or not isinstance(k, numbers.Real) or not math.isfinite(k)
                or not float(k).is_integer() or k < 0):
            raise ValueError(f"Schedule steps must be whole numbers ≥ 0; got {k!r}.")
        starts.append(int(k))
        check_eta(e, what=f"step size η at step {k}")
    if any(b <= a for a, b in zip(starts, starts[1:])):
        raise ValueError(f"Schedule steps must increase; got {starts}.")
    etas = np.empty(steps)
    for (k, e), end in zip(pieces, starts[1:] + [steps]):
        etas[min(k, steps):min(end, steps)] = float(e)
    return etas


def _point(theta) -> str:
    return "(" + ", ".join(f"{v:g}" for v in theta) + ")"


def check_defined_start(model: Model, opt_name: str, theta, loss0: float, moved: bool) -> None:
    """Normalized GD divides by ‖∇L‖ and GD on √L by √L: from a start where that is 0 the
    first step is 0/0, undefined. ``loss0`` is L(θ₀); ``moved`` whether θ₁ ≠ θ₀ (a step of
    normalized GD has length η > 0 unless ∇L(θ₀) = 0; the gradient is measured to be sure).
    """
    if opt_name == "sqrt_gd" and loss0 == 0.0:
        raise ValueError(f"GD on √L is undefined where L = 0 (its step ∇L/(2√L) is 0/0): "
                         f"the start {_point(theta)} is a minimum — move the start.")
    if opt_name == "normalized_gd" and not moved:
        from .measure import measure
        if float(measure(model, np.asarray(theta), "grad_norm")["grad_norm"]) == 0.0:
            raise ValueError("Normalized GD is undefined at a stationary point (∇L = 0): "
                             f"the start {_point(theta)} is one — move the start.")
