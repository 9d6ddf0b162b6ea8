"""One step of a discrete optimizer, written once: ``simulate`` and the sweeps both run it.

Step k from θ_k with state s_k and step size η_k:

  1. the loss and its gradient g = ∇L(θ_k), or for SGD the gradient of one per-sample loss
     f_i, with i drawn uniformly from the model's m components by ``fold_in(key, k)``;
  2. (θ_{k+1}, s_{k+1}) = update(g, s_k, θ_k, L(θ_k), η_k).

``simulate`` runs it in a loop; the sweeps ``jax.vmap`` it over cells (``key`` and ``k`` are
the same for every cell, so every cell draws the sample that ``simulate(seed)`` draws).
"""
from __future__ import annotations

import jax



def sample(components_fn, theta, consts, key, k):
    """The per-sample loss SGD uses at step k: uniform on 0 … m − 1, from (key, k)."""
    m = components_fn(theta, consts).shape[0]
    return jax.random.randint(jax.random.fold_in(key, k), (), 0, m)


def step_fn(loss_fn, components_fn, update_fn, stochastic: bool):
    """``(theta, state, eta, consts, key, k) -> (theta', state')``: step k of the optimizer
    whose rule is ``update_fn`` (``Optimizer.update``; ``stochastic`` for SGD)."""
    value_and_grad = jax.value_and_grad(loss_fn)

    def step(theta, state, eta, consts, key, k):
        loss, grad = value_and_grad(theta, consts)
        if stochastic:
            i = sample(components_fn, theta, consts, key, k)
            grad = jax.grad(lambda th: components_fn(th, consts)[i])(theta)
        return update_fn(grad, state, theta, loss, eta)

    return step
