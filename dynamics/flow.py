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


def _first_step(span):
    # A small explicit first step: diffrax's automatic choice can overshoot on steep
    # starts, overflow, and then reject every step after it.
    return jnp.minimum(1e-4, 1e-3 * span)


@functools.lru_cache(maxsize=None)
def flow_runner(loss_fn):
    grad = jax.grad(loss_fn)
    term = diffrax.ODETerm(lambda t, y, consts: -grad(y, consts))

    def run(theta0, consts, ts):
        sol = diffrax.diffeqsolve(
            term, diffrax.Tsit5(), t0=ts[0], t1=ts[-1], dt0=_first_step(ts[-1] - ts[0]), y0=theta0, args=consts,
            saveat=diffrax.SaveAt(ts=ts),
            stepsize_controller=diffrax.PIDController(rtol=RTOL, atol=ATOL),
            max_steps=MAX_SOLVER_STEPS, throw=False)
        return sol.ys

    return jax.jit(run)


@functools.lru_cache(maxsize=None)
def endpoint_runner(loss_fn):
    """Compiled: θ(T) for a batch of starts (N, dim) and end times T (N,)."""
    grad = jax.grad(loss_fn)
    term = diffrax.ODETerm(lambda t, y, consts: -grad(y, consts))

    def one(theta0, consts, t_end):
        sol = diffrax.diffeqsolve(
            term, diffrax.Tsit5(), t0=0.0, t1=t_end, dt0=_first_step(t_end), y0=theta0, args=consts,
            saveat=diffrax.SaveAt(t1=True),
            stepsize_controller=diffrax.PIDController(rtol=RTOL, atol=ATOL),
            max_steps=MAX_SOLVER_STEPS, throw=False)
        return sol.ys[-1]

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
        bad = ~np.all(np.isfinite(ys), axis=1) | (np.max(np.abs(np.nan_to_num(ys, nan=np.inf)), axis=1) > DIVERGENCE_BOUND)
        first = 0 if k == 0 else 1
        if bad.any():
            stop = int(np.argmax(bad))
            pieces.append(ys[first:stop])
            job.submit(pieces[-1])
            return np.concatenate(pieces), k + stop
        pieces.append(ys[first:])
        job.submit(pieces[-1])
        theta = ys[-1]
        k += n_valid
    return np.concatenate(pieces), None
