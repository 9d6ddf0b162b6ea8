"""Many runs at once: a grid of starts (``sweep_init``) or a range of step sizes (``sweep_eta``).

Cells are stepped together, vectorized, in blocks of at most ``BLOCK`` cells (memory stays
bounded for any grid; two blocks run at once, one per core). A cell stops once it has
converged (its step moved θ by at most ``tol``) or diverged (the same rule as ``simulate``),
and between rounds of steps the block keeps only its running cells, so the work follows
the cells still running. ``tol=0`` runs every cell for all its steps.
"""
from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from . import flow as _flow
from .checks import (DIVERGENCE_BOUND, check_eta, check_params, check_steps, resolve_model,
                     resolve_optimizer)
from .sharpness import batch_metrics

BLOCK = 8192          # cells per block: a block's state stays in cache
MIN_BUCKET = 64       # running cells are padded to a power of two ≥ this (few compiled shapes)
FIRST_ROUND = 32      # steps in the first round; each next round doubles
DEFAULT_TOL = 1e-10


@dataclass(frozen=True)
class Sweep:
    """Final state of every cell; each array has the sweep's shape (plus dim for params)."""

    final_sharpness: np.ndarray
    final_loss: np.ndarray
    diverged: np.ndarray      # bool: the cell's run diverged (its finals are the last finite iterate)
    steps_run: np.ndarray     # steps each cell took before it stopped
    final_params: np.ndarray


@functools.lru_cache(maxsize=None)
def round_runner(loss_fn, components_fn, optimizer: str):
    """Compiled: n steps of every running cell; θ is laid out (dim, cells)."""
    from .optimizers import OPTIMIZERS

    opt = OPTIMIZERS[optimizer]
    value_and_grad = jax.value_and_grad(loss_fn)

    def step_one(theta, eta, consts, i):
        loss, grad = value_and_grad(theta, consts)
        if opt.stochastic:
            grad = jax.grad(lambda th: components_fn(th, consts)[i])(theta)
        return opt.update(theta, grad, loss, eta)

    step_all = jax.vmap(step_one, in_axes=(1, 0, None, None), out_axes=1)

    def run(theta, etas, done, diverged, steps_run, consts, k0, n, tol, key):
        m = components_fn(theta[:, 0], consts).shape[0] if opt.stochastic else 1

        def body(j, state):
            theta, done, diverged, steps_run = state
            # Every cell draws the same sample at step k, as simulate(seed) does.
            i = jax.random.randint(jax.random.fold_in(key, k0 + j), (), 0, m)
            new = step_all(theta, etas, consts, i)
            bad = ~jnp.all(jnp.isfinite(new), axis=0) | (
                jnp.max(jnp.abs(new), axis=0) > DIVERGENCE_BOUND)
            moved = jnp.max(jnp.abs(new - theta), axis=0)
            take = ~done & ~bad
            theta = jnp.where(take, new, theta)
            diverged = diverged | (~done & bad)
            steps_run = steps_run + take.astype(steps_run.dtype)
            done = done | bad | (take & (moved <= tol))
            return theta, done, diverged, steps_run

        return jax.lax.fori_loop(0, n, body, (theta, done, diverged, steps_run))

    return jax.jit(run)


def _bucket(n: int) -> int:
    return max(MIN_BUCKET, 1 << (int(n) - 1).bit_length())


def _run_block(run, consts, theta, etas, steps, tol, key):
    """All rounds for one block of cells: theta (dim, b), etas (b,)."""
    b = theta.shape[1]
    done = np.zeros(b, bool)
    diverged = np.zeros(b, bool)
    steps_run = np.zeros(b, np.int64)
    active = np.arange(b)
    k, n = 0, FIRST_ROUND
    while k < steps and active.size:
        size = _bucket(active.size)
        idx = np.concatenate([active, np.full(size - active.size, active[0])])
        pad = np.arange(size) >= active.size  # padding cells are marked done: they never step
        out = run(jnp.asarray(theta[:, idx]), jnp.asarray(etas[idx]), jnp.asarray(pad),
                  jnp.zeros(size, bool), jnp.asarray(steps_run[idx]), consts,
                  np.int32(k), np.int32(min(n, steps - k)), np.float64(tol), key)
        th, dn, dv, sr = (np.asarray(a) for a in out)
        real = slice(0, active.size)
        theta[:, active] = th[:, real]
        done[active] = dn[real]
        diverged[active] = dv[real]
        steps_run[active] = sr[real]
        k += min(n, steps - k)
        n *= 2
        active = active[~dn[real]]
    return theta, diverged, steps_run


def run_cells(model, optimizer: str, starts: np.ndarray, etas: np.ndarray, steps: int,
              tol: float = DEFAULT_TOL, seed: int = 0) -> Sweep:
    """Run every (start, η) cell; starts (N, dim), etas (N,). Returns a flat Sweep."""
    model = resolve_model(model)
    opt = resolve_optimizer(model, optimizer)
    steps = check_steps(steps)
    consts = model.consts_array
    metrics = jax.jit(batch_metrics(model.loss_fn))
    if opt.continuous:
        final = _flow_finals(model, starts, etas * steps)
        diverged = ~np.all(np.isfinite(final), axis=1) | (np.max(np.abs(final), axis=1) > DIVERGENCE_BOUND)
        final = np.where(diverged[:, None], starts, final)
        steps_run = np.where(diverged, 0, steps)
    else:
        run = round_runner(model.loss_fn, model.components_fn, opt.name)
        key = jax.random.PRNGKey(int(seed))
        blocks = [slice(i, i + BLOCK) for i in range(0, len(starts), BLOCK)]
        work = lambda s: _run_block(run, consts, np.ascontiguousarray(starts[s].T), etas[s],
                                    steps, tol, key)
        with ThreadPoolExecutor(max_workers=2) as pool:
            parts = list(pool.map(work, blocks))
        final = np.concatenate([p[0].T for p in parts])
        diverged = np.concatenate([p[1] for p in parts])
        steps_run = np.concatenate([p[2] for p in parts])
    loss, sharp = (np.asarray(a) for a in metrics(jnp.asarray(final), consts))
    return Sweep(sharp, loss, diverged, steps_run, final)


def _flow_finals(model, starts, t_end):
    """θ(T) of gradient flow for every cell (T per cell), vectorized over cells."""
    runner = _flow.endpoint_runner(model.loss_fn)
    out = [np.asarray(runner(jnp.asarray(starts[i:i + BLOCK]), model.consts_array,
                             jnp.asarray(t_end[i:i + BLOCK])))
           for i in range(0, len(starts), BLOCK)]
    return np.concatenate(out)


def _reshape(sweep: Sweep, shape) -> Sweep:
    return Sweep(*(a.reshape(shape + a.shape[1:]) for a in
                   (sweep.final_sharpness, sweep.final_loss, sweep.diverged, sweep.steps_run,
                    sweep.final_params)))


def sweep_init(model, eta, xs, ys, steps: int, optimizer: str = "gd", seed: int = 0,
               tol: float = DEFAULT_TOL) -> Sweep:
    """Final sharpness and loss from every start (x, y) of a grid in the model's plane.

    Models with more than two parameters sweep their plane (xyzw: z = x, w = y). For
    one-parameter models pass ``ys=None``; the result then has shape (1, len(xs)).

    Returns:
      A :class:`Sweep` whose arrays have shape (len(ys), len(xs)).
    """
    model = resolve_model(model)
    eta = check_eta(eta)
    xs = np.asarray(xs, dtype=np.float64).reshape(-1)
    if len(model.plane) == 1:
        if ys is not None and np.size(ys) > 1:
            raise ValueError(f"The model {model.name!r} has one parameter: pass ys=None.")
        grid = xs[:, None]
        shape = (1, len(xs))
    else:
        if ys is None:
            raise ValueError(f"The model {model.name!r} sweeps a plane: pass ys as well as xs.")
        ys = np.asarray(ys, dtype=np.float64).reshape(-1)
        gx, gy = np.meshgrid(xs, ys)
        grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
        shape = (len(ys), len(xs))
    if grid.size == 0 or not np.all(np.isfinite(grid)):
        raise ValueError("The grid of starts must be non-empty finite numbers.")
    starts = model.embed(grid)
    etas = np.full(len(starts), eta)
    return _reshape(run_cells(model, optimizer, starts, etas, steps, tol, seed), shape)


def sweep_eta(model, init, etas, steps: int, optimizer: str = "gd", seed: int = 0,
              tol: float = DEFAULT_TOL) -> Sweep:
    """Final sharpness and loss of runs from one start, one per step size in ``etas``."""
    model = resolve_model(model)
    theta = check_params(model, init)
    etas = np.asarray([check_eta(e) for e in np.asarray(etas, dtype=object).reshape(-1)])
    if etas.size == 0:
        raise ValueError("sweep_eta needs at least one step size.")
    starts = np.repeat(theta[None], len(etas), axis=0)
    return _reshape(run_cells(model, optimizer, starts, etas, steps, tol, seed), (len(etas),))
