"""Gradient flow dθ/dt = −∇L(θ), solved accurately and reported at the times Σ η.

An adaptive Runge–Kutta solver (diffrax Tsit5 with a PID step-size controller, relative
tolerance 1e-12, absolute 1e-14) integrates chunk by chunk over the same CHUNK-long
blocks of report times as the discrete runner, so the compiled program does not depend on
the run's length either.
"""
from __future__ import annotations

import functools

import diffrax
import jax
import jax.numpy as jnp
import numpy as np

from .checks import CHUNK, DIVERGENCE_BOUND

RTOL, ATOL = 1e-12, 1e-14  # the loss then keeps falling to ~1e-24 before solver noise
MAX_SOLVER_STEPS = 1 << 16  # per chunk of report times


def _flow(loss_fn, theta0, consts, t0, t1, saveat):
    """One diffrax solve of dθ/dt = −∇L(θ) from θ(t0) = theta0 to t1 (traceable)."""
    grad = jax.grad(loss_fn)
    return diffrax.diffeqsolve(
        diffrax.ODETerm(lambda t, y, c: -grad(y, c)), diffrax.Tsit5(), t0=t0, t1=t1,
        # a small explicit first step: diffrax's own guess can overshoot on steep starts,
        # overflow, and then reject every step after it
        dt0=jnp.minimum(1e-4, 1e-3 * (t1 - t0)), y0=theta0, args=consts, saveat=saveat,
        stepsize_controller=diffrax.PIDController(rtol=RTOL, atol=ATOL),
        max_steps=MAX_SOLVER_STEPS, throw=False).ys


@functools.lru_cache(maxsize=None)
def flow_runner(loss_fn):
    """Compiled: θ at each report time ts (CHUNK + 1,) from θ(ts[0]) = theta0."""
    return jax.jit(lambda theta0, consts, ts: _flow(loss_fn, theta0, consts, ts[0], ts[-1],
                                                    diffrax.SaveAt(ts=ts)))


@functools.lru_cache(maxsize=None)
def endpoint_runner(loss_fn):
    """Compiled: θ(T) for a batch of starts (N, dim) and end times T (N,)."""
    one = lambda theta0, consts, t_end: _flow(loss_fn, theta0, consts, 0.0, t_end,
                                              diffrax.SaveAt(t1=True))[-1]
    return jax.jit(jax.vmap(one, in_axes=(0, None, 0)))


def solve(model, theta: np.ndarray, etas: np.ndarray, job):
    """θ(t) at t = 0, η₀, η₀ + η₁, …; returns (iterates (n, dim), diverged_at or None)."""
    run = flow_runner(model.loss_fn)
    consts = model.consts_array
    times = np.concatenate([[0.0], np.cumsum(etas)])
    steps = len(etas)
    pieces = []
    k = 0
    while k < steps:
        n_valid = min(CHUNK, steps - k)
        ts = times[k:k + n_valid + 1]
        ts = np.concatenate([ts, np.full(CHUNK + 1 - len(ts), ts[-1])])
        ys = np.array(run(jnp.asarray(theta), consts, jnp.asarray(ts)))[:n_valid + 1]
        ys[0] = theta  # exact; a failed solve (step limit) reports inf from its first time on
        dead_at = keep_block(ys, k, pieces, job)
        if dead_at is not None:
            return np.concatenate(pieces), dead_at
        theta = ys[-1]
        k += n_valid
    return np.concatenate(pieces), None


def keep_block(ys, k: int, pieces: list, job) -> int | None:
    """Keep one block of report points solved from θ_k (``ys[0]`` is θ_k itself, already kept
    unless k = 0) and hand it to the metrics ``job``; return the index of the first point
    that is non-finite or beyond the divergence bound, or None if every point is usable."""
    bad = (~np.all(np.isfinite(ys), axis=1)
           | (np.max(np.abs(np.nan_to_num(ys, nan=np.inf)), axis=1) > DIVERGENCE_BOUND))
    first = 0 if k == 0 else 1
    stop = int(np.argmax(bad)) if bad.any() else len(ys)
    pieces.append(ys[first:stop])
    job.submit(pieces[-1])
    return k + stop if stop < len(ys) else None
