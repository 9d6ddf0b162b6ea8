"""Gradient flow dθ/dt = −∇L(θ), solved accurately and reported at the times Σ η.

An adaptive Runge–Kutta solver (diffrax Tsit5 with a PID step-size controller, relative
and absolute tolerance 1e-10) integrates chunk by chunk over the same CHUNK-long
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
from .sharpness import batch_metrics

RTOL = ATOL = 1e-10
MAX_SOLVER_STEPS = 1 << 16  # per chunk of report times


@functools.lru_cache(maxsize=None)
def flow_runner(loss_fn):
    grad = jax.grad(loss_fn)
    term = diffrax.ODETerm(lambda t, y, consts: -grad(y, consts))
    metrics = batch_metrics(loss_fn)

    def run(theta0, consts, ts):
        sol = diffrax.diffeqsolve(
            term, diffrax.Tsit5(), t0=ts[0], t1=ts[-1], dt0=None, y0=theta0, args=consts,
            saveat=diffrax.SaveAt(ts=ts),
            stepsize_controller=diffrax.PIDController(rtol=RTOL, atol=ATOL),
            max_steps=MAX_SOLVER_STEPS, throw=False)
        ys = sol.ys
        loss, sharp = metrics(ys, consts)
        return ys, loss, sharp

    return jax.jit(run)


@functools.lru_cache(maxsize=None)
def endpoint_runner(loss_fn):
    """Compiled: θ(T) for a batch of starts (N, dim) and end times T (N,)."""
    grad = jax.grad(loss_fn)
    term = diffrax.ODETerm(lambda t, y, consts: -grad(y, consts))

    def one(theta0, consts, t_end):
        sol = diffrax.diffeqsolve(
            term, diffrax.Tsit5(), t0=0.0, t1=t_end, dt0=None, y0=theta0, args=consts,
            saveat=diffrax.SaveAt(t1=True),
            stepsize_controller=diffrax.PIDController(rtol=RTOL, atol=ATOL),
            max_steps=MAX_SOLVER_STEPS, throw=False)
        return sol.ys[-1]

    return jax.jit(jax.vmap(one, in_axes=(0, None, 0)))


def solve(model, theta: np.ndarray, etas: np.ndarray):
    """θ(t) at t = 0, η₀, η₀ + η₁, …; returns (thetas, loss, sharpness, diverged_at)."""
    run = flow_runner(model.loss_fn)
    consts = model.consts_array
    times = np.concatenate([[0.0], np.cumsum(etas)])
    steps = len(etas)
    out_theta, out_loss, out_sharp = [], [], []
    k = 0
    while k < steps:
        n_valid = min(CHUNK, steps - k)
        ts = times[k:k + n_valid + 1]
        ts = np.concatenate([ts, np.full(CHUNK + 1 - len(ts), ts[-1])])
        ys, loss, sharp = (np.asarray(a) for a in run(jnp.asarray(theta), consts, jnp.asarray(ts)))
        ys, loss, sharp = ys[:n_valid + 1], loss[:n_valid + 1], sharp[:n_valid + 1]
        bad = ~np.all(np.isfinite(ys), axis=1) | (np.max(np.abs(ys), axis=1) > DIVERGENCE_BOUND)
        first = 0 if k == 0 else 1
        if bad.any():
            stop = int(np.argmax(bad))
            out_theta.append(ys[first:stop])
            out_loss.append(loss[first:stop])
            out_sharp.append(sharp[first:stop])
            return (np.concatenate(out_theta), np.concatenate(out_loss),
                    np.concatenate(out_sharp), k + stop)
        out_theta.append(ys[first:])
        out_loss.append(loss[first:])
        out_sharp.append(sharp[first:])
        theta = ys[-1]
        k += n_valid
    return np.concatenate(out_theta), np.concatenate(out_loss), np.concatenate(out_sharp), None
