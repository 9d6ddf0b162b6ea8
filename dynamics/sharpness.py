"""Sharpness S(θ) = λ_max(∇²L(θ)), exact in float64.

The Hessian comes from ``jax.hessian``; its top eigenvalue from
  * d = 1: the second derivative itself;
  * d = 2: the closed form (a + c)/2 + √(((a − c)/2)² + b²) for [[a, b], [b, c]];
  * 3 ≤ d ≤ 8: cyclic Jacobi rotations written as straight-line scalar code, which XLA
    fuses and vectorizes over whole trajectories (converged to machine precision after the
    fixed number of sweeps below; tested against ``eigvalsh``);
  * d > 8: ``jnp.linalg.eigvalsh``.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ._config import devices
from ._types import Array

JACOBI_MAX_DIM = 8
METRIC_BLOCK = 2048  # points per compiled call of the trajectory metrics


def _top_eig_2x2(h: Array) -> Array:
    a, b, c = h[0, 0], h[0, 1], h[1, 1]
    return 0.5 * (a + c) + jnp.hypot(0.5 * (a - c), b)


def _jacobi_sweeps(dim: int) -> int:
    # Cyclic Jacobi converges quadratically: on 4×4 Hessians the top eigenvalue is at
    # machine precision after 4 sweeps (3 leave ~1e-9; tests/test_sharpness.py).
    return 4 if dim <= 4 else 8


def _rotate(a, p: int, q: int) -> None:
    """One Jacobi rotation zeroing a[p][q] of the symmetric matrix ``a`` (lists of arrays).

    θ = (a_qq − a_pp) / (2a_pq), t = tan φ = sgn θ / (|θ| + √(1 + θ²)) (the smaller root,
    for stability), c = 1/√(1 + t²), s = t c. Written with ratios only, so that no square
    of a tiny or huge entry underflows or overflows; θ² = ∞ gives t = 0, as it should.
    """
    apq = a[p][q]
    theta = (a[q][q] - a[p][p]) / (2.0 * apq)
    t = jnp.where(theta >= 0, 1.0, -1.0) / (jnp.abs(theta) + jnp.sqrt(1.0 + theta * theta))
    t = jnp.where(apq == 0, 0.0, t)  # an already diagonal pair (θ = ±∞ or NaN)
    c = jax.lax.rsqrt(1.0 + t * t)
    s = t * c
    a[p][p] = a[p][p] - t * apq
    a[q][q] = a[q][q] + t * apq
    a[p][q] = a[q][p] = jnp.zeros_like(apq)
    for r in range(len(a)):
        if r not in (p, q):
            arp, arq = a[r][p], a[r][q]
            a[r][p] = a[p][r] = c * arp - s * arq
            a[r][q] = a[q][r] = s * arp + c * arq


def _jacobi_eigenvalues(h: Array) -> list:
    """Eigenvalues (unsorted) of small symmetric matrices ``h`` (d, d, ...) by cyclic Jacobi.

    Trailing axes are a batch: each entry h[i, j] is an array, and one sweep is a
    ``fori_loop`` body of straight-line elementwise code that XLA fuses well.
    """
    d = h.shape[0]
    flat = tuple(h[i, j] for i in range(d) for j in range(d))

    def sweep(_, flat):
        a = [list(flat[i * d:(i + 1) * d]) for i in range(d)]
        for p in range(d - 1):
            for q in range(p + 1, d):
                _rotate(a, p, q)
        return tuple(a[i][j] for i in range(d) for j in range(d))

    flat = jax.lax.fori_loop(0, _jacobi_sweeps(d), sweep, flat)
    return [flat[i * d + i] for i in range(d)]


def extreme_eigenvalues(h: Array) -> tuple[Array, Array]:
    """(λ_min, λ_max) of symmetric matrices h (d, d, *batch)."""
    d = h.shape[0]
    if d == 1:
        return h[0, 0], h[0, 0]
    if d == 2:
        mid, radius = 0.5 * (h[0, 0] + h[1, 1]), jnp.hypot(0.5 * (h[0, 0] - h[1, 1]), h[0, 1])
        return mid - radius, mid + radius
    if d <= JACOBI_MAX_DIM:
        diagonal = _jacobi_eigenvalues(h)
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
    if d <= JACOBI_MAX_DIM:
        return functools.reduce(jnp.maximum, _jacobi_eigenvalues(h))
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


@functools.lru_cache(maxsize=None)
def _point_sharpness(loss_fn):
    return jax.jit(sharpness_fn(loss_fn))


def sharpness(model, params) -> float:
    """Exact sharpness λ_max(∇²L(θ)) of ``model`` at one point ``params`` (length model.dim)."""
    from .checks import resolve_model, check_params

    model = resolve_model(model)
    theta = check_params(model, params, what="params")
    return float(_point_sharpness(model.loss_fn)(jnp.asarray(theta), model.consts_array))


@functools.lru_cache(maxsize=None)
def _jit_metrics(loss_fn):
    return jax.jit(batch_metrics(loss_fn))


class Metrics:
    """Loss and sharpness along a run, computed while the run is still stepping.

    Rows are submitted in pieces; each goes out in fixed-size blocks (one compiled shape
    for any length) to the CPU devices in turn, asynchronously, so the cores compute the
    metrics of earlier steps while the optimizer's scan computes later ones.
    """

    def __init__(self, loss_fn, consts, block: int = METRIC_BLOCK):
        self._run = _jit_metrics(loss_fn)
        self._devices = devices()
        self._consts = [jax.device_put(consts, d) for d in self._devices]
        self._block = block
        self._parts = []   # (device loss, device sharpness, rows used, times repeated)
        self._turn = 0

    def submit(self, thetas: np.ndarray, repeat: int = 1) -> None:
        """Queue rows (m, d); with ``repeat`` > 1 a single row stands for that many."""
        for start in range(0, len(thetas), self._block):
            rows = thetas[start:start + self._block]
            pad = np.repeat(rows[-1:], self._block - len(rows), axis=0)
            i = self._turn % len(self._devices)
            self._turn += 1
            dev = self._devices[i]
            loss, sharp = self._run(jax.device_put(np.concatenate([rows, pad]).T, dev),
                                    self._consts[i])
            self._parts.append((loss, sharp, len(rows), repeat))

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        loss = [np.repeat(np.asarray(l)[:n], r) for l, _, n, r in self._parts]
        sharp = [np.repeat(np.asarray(s)[:n], r) for _, s, n, r in self._parts]
        return np.concatenate(loss), np.concatenate(sharp)


def metrics(loss_fn, consts, thetas: np.ndarray):
    """Loss and sharpness at every row of ``thetas`` (n, d), as float64 numpy arrays."""
    job = Metrics(loss_fn, consts)
    job.submit(thetas)
    return job.result()
