"""Update rules as pure functions ``update(params, grad, loss, eta) -> params``.

``grad`` is ∇L(θ) for every rule but SGD, where the runner passes the gradient of the one
per-sample loss drawn for that step. Gradient flow has no update rule: the runner solves
dθ/dt = −∇L with an adaptive ODE solver instead (see ``flow.py``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import jax.numpy as jnp


def gd(params, grad, loss, eta):
    """Gradient descent: θ ← θ − η ∇L(θ)."""
    return params - eta * grad


def normalized_gd(params, grad, loss, eta):
    """Normalized GD (Arora et al. 2022): θ ← θ − η ∇L / ‖∇L‖; a stationary point stays put."""
    norm = jnp.sqrt(jnp.sum(grad**2))
    safe = jnp.where(norm > 0, norm, 1.0)
    return jnp.where(norm > 0, params - eta * grad / safe, params)


def sqrt_gd(params, grad, loss, eta):
    """GD on √L: θ ← θ − η ∇L / (2√L); a point with L = 0 stays put."""
    root = jnp.sqrt(jnp.maximum(loss, 0.0))
    safe = jnp.where(root > 0, root, 1.0)
    return jnp.where(root > 0, params - eta * grad / (2.0 * safe), params)


@dataclass(frozen=True)
class Optimizer:
    """A named update rule and how to present it."""

    name: str
    title: str
    formula: str
    update: Callable | None
    stochastic: bool = False   # draws one per-sample loss per step (needs model components)
    continuous: bool = False   # gradient flow: no update rule, an ODE solve


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
