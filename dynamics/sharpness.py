"""Sharpness S(θ) = λ_max(∇²L(θ)), exact in float64, and the effective sharpness of a
preconditioned step θ ← θ − ηP⁻¹g (P = diag p > 0): λ_max(P⁻¹H) = λ_max(P^{-1/2} H P^{-1/2}),
the top eigenvalue of the symmetric matrix H_ij / √(p_i p_j) (similar to P⁻¹H).

The Hessian comes from ``jax.hessian``; its top eigenvalue from
  * d = 1: the second derivative itself;
  * d = 2: the closed form (a + c)/2 + √(((a − c)/2)² + b²) for [[a, b], [b, c]];
  * d = 3, 4: cyclic Jacobi (``jacobi.py``), one fused XLA kernel vectorized over whole
    trajectories, converged to machine precision (tested against ``eigvalsh``);
  * d > 4: ``jnp.linalg.eigvalsh``.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from ._engine import jacobi
from ._types import Array



def _top_eig_2x2(h: Array) -> Array:
    a, b, c = h[0, 0], h[0, 1], h[1, 1]
    return 0.5 * (a + c) + jnp.hypot(0.5 * (a - c), b)


def extreme_eigenvalues(h: Array) -> tuple[Array, Array]:
    """(λ_min, λ_max) of symmetric matrices h (d, d, *batch)."""
    d = h.shape[0]
    if d == 1:
        return h[0, 0], h[0, 0]
    if d == 2:
        mid, radius = 0.5 * (h[0, 0] + h[1, 1]), jnp.hypot(0.5 * (h[0, 0] - h[1, 1]), h[0, 1])
        return mid - radius, mid + radius
    if d <= jacobi.MAX_DIM:
        diagonal = jacobi.eigenvalues(h)
        return functools.reduce(jnp.minimum, diagonal), functools.reduce(jnp.maximum, diagonal)
    batch = h.shape[2:]
    values = jnp.linalg.eigvalsh(jnp.moveaxis(h.reshape(d, d, -1), 2, 0))
    return values[:, 0].reshape(batch), values[:, -1].reshape(batch)


def top_eigenvalue(h: Array) -> Array:
    """λ_max of symmetric matrices h (d, d, *batch)."""
    d = h.shape[0]
    if d == 1:
        return h[0, 0]
    if d == 2:
        return _top_eig_2x2(h)
    if d <= jacobi.MAX_DIM:
        return jacobi.top_eigenvalue(h)
    return extreme_eigenvalues(h)[1]


def sharpness_fn(loss_fn):
    """``(theta, consts) -> λ_max(∇²L(θ))`` for a loss ``loss_fn(theta, consts)``."""
    hess = jax.hessian(loss_fn)

    def sharpness(theta, consts):
        return top_eigenvalue(hess(theta, consts))

    return sharpness


def batch_metrics(loss_fn):
    """``(thetas (d, n), consts) -> (loss (n,), sharpness (n,))``.

    Points are columns: every Hessian entry becomes a contiguous length-n row, which is
    the layout the elementwise Jacobi code vectorizes best.
    """
    hess = jax.vmap(jax.hessian(loss_fn), in_axes=(1, None), out_axes=2)
    loss = jax.vmap(loss_fn, in_axes=(1, None))

    def run(thetas, consts):
        # The barrier keeps XLA from fusing (and so recomputing) the Hessian inside every
        # Jacobi rotation: 1.5× faster here.
        h = jax.lax.optimization_barrier(hess(thetas, consts))
        return loss(thetas, consts), top_eigenvalue(h)

    return run


def batch_metrics_preconditioned(loss_fn):
    """``(thetas (d, n), p (d, n), consts) -> (loss, sharpness, effective sharpness)`` (n,)
    each: the effective sharpness λ_max(P⁻¹H) with P = diag(p) of each column, from the same
    Hessian as the sharpness."""
    hess = jax.vmap(jax.hessian(loss_fn), in_axes=(1, None), out_axes=2)
    loss = jax.vmap(loss_fn, in_axes=(1, None))

    def run(thetas, p, consts):
        h = jax.lax.optimization_barrier(hess(thetas, consts))
        scale = 1.0 / jnp.sqrt(p)   # P^{-1/2}
        return (loss(thetas, consts), top_eigenvalue(h),
                top_eigenvalue(h * scale[:, None] * scale[None, :]))

    return run


@functools.lru_cache(maxsize=None)
def _point_sharpness(loss_fn):
    return jax.jit(sharpness_fn(loss_fn))


def sharpness(model, params) -> float:
    """Exact sharpness λ_max(∇²L(θ)) of ``model`` at one point ``params`` (length model.dim)."""
    from .checks import resolve_model, check_params

    model = resolve_model(model)
    theta = check_params(model, params, what="params")
    return float(_point_sharpness(model.loss_fn)(jnp.asarray(theta), model.consts_array))
