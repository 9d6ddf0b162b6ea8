"""Many runs at once: a grid of starts (``sweep_init``) or a range of step sizes (``sweep_eta``).

Each cell takes the one step of ``step.py``, as ``simulate`` does, vmapped over the cells,
in blocks of at most ``BLOCK`` cells (memory stays bounded for any grid; one block per CPU
device runs at once). A cell stops once it has converged (its step moved θ by at most
``tol`` at a point GD cannot leave; never for SGD or a rule with state, which run all their
steps) or diverged (the same rule as ``simulate``), and the work follows the cells still
running (``_engine/blocks.py`` drives the rounds, ``_engine/cells.py`` holds the compiled
steppers). ``tol=None`` runs every cell for all its steps (or until it diverges). Each
device then measures its own blocks' finals (``_engine/metrics.py``).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from ._config import devices
from ._engine.blocks import Block
from ._engine.cells import CAPACITY
from ._engine.metrics import metrics
from ._engine.twins import on_twin_plane, plane_twin
from .checks import (DIVERGENCE_BOUND, check_eta, check_params, check_seed, check_steps,
                     resolve_model, resolve_optimizer)

BLOCK = CAPACITY      # cells per block (at most): bounds memory, keeps rounds few
DEFAULT_TOL = 1e-9


@dataclass(frozen=True)
class Sweep:
    """Final state of every cell; each array has the sweep's shape (plus dim for params)."""

    final_sharpness: np.ndarray
    final_loss: np.ndarray
    diverged: np.ndarray      # bool: the run diverged (finals are its last finite iterate)
    steps_run: np.ndarray     # steps each cell took before it stopped
    final_params: np.ndarray


def run_cells(model, optimizer, starts: np.ndarray, etas: np.ndarray, steps: int,
              tol: float = DEFAULT_TOL, seed: int = 0, measure=None) -> Sweep:
    """Run every (start, η) cell; starts (N, dim), etas (N,). Returns a flat Sweep.

    ``measure`` is the model whose loss and sharpness the finals get, at ``measure.embed``
    of them (the xyzw plane is stepped by its twin x2y2 but measured as xyzw); by default
    ``model`` itself.
    """
    model = resolve_model(model)
    opt = resolve_optimizer(model, optimizer)
    if opt.name == "central_flow":   # its solve switches modes on the host, cell by cell
        raise ValueError("Sweeps do not run the central flow; sweep 'flow' or 'gd', or "
                         "simulate the central flow from one start.")
    steps = check_steps(steps)
    seed = check_seed(seed)
    tol = -1.0 if tol is None else float(tol)  # a step never moves θ by less than −1
    lift = (lambda final: final) if measure is None else measure.embed
    measure = model if measure is None else measure
    if opt.continuous:
        final = _flow_finals(model, starts, etas * steps)
        diverged = np.isnan(final).any(axis=1) | ~(np.abs(final) <= DIVERGENCE_BOUND).all(axis=1)
        final = lift(np.where(diverged[:, None], starts, final))
        steps_run = np.where(diverged, 0, steps)
        loss, sharp = metrics(measure.loss_fn, measure.consts, final)
        return Sweep(sharp, loss, diverged, steps_run, final)
    if on_twin_plane(model, opt.name, starts):
        return run_cells(plane_twin(model), opt, model.project(starts), etas, steps, tol,
                         seed, measure=model)
    devs = devices()
    # Cells are dealt out like cards (cell i to block i mod n), so that every block
    # holds a fair share of the slow cells and the devices finish together.
    n = len(devs) * -(-len(starts) // (BLOCK * len(devs)))
    members = [np.arange(j, len(starts), n) for j in range(n)]
    members = [m for m in members if m.size]
    blocks = [None] * len(members)

    def work(own):
        """One worker per device: its blocks in turn, each set up, run and measured where
        it runs (so a device sets up and measures while others still step)."""
        for j in own:
            b = blocks[j] = Block(model, opt, np.ascontiguousarray(starts[members[j]].T),
                                  etas[members[j]], tol, seed, devs[j % len(devs)])
            b.run(steps)
            b.final = lift(b.theta.T)
            b.loss, b.sharp = metrics(measure.loss_fn, measure.consts, b.final, b.device)

    with ThreadPoolExecutor(max_workers=len(devs)) as pool:
        list(pool.map(work, [range(len(members))[j::len(devs)] for j in range(len(devs))]))
    cells = np.concatenate(members)   # put each block's cells back in place
    gather = lambda parts: _scatter(cells, np.concatenate(parts))
    return Sweep(gather([b.sharp for b in blocks]), gather([b.loss for b in blocks]),
                 gather([b.diverged for b in blocks]), gather([b.steps_run for b in blocks]),
                 gather([b.final for b in blocks]))


def _scatter(cells: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``out[cells] = values``: back in the caller's order."""
    out = np.empty_like(values)
    out[cells] = values
    return out


def _flow_finals(model, starts, t_end):
    """θ(T) of gradient flow for every cell (T per cell), vectorized over cells."""
    from .flow import endpoint_runner   # the ODE stack is imported on first use
    runner = endpoint_runner(model.loss_fn)
    out = [np.asarray(runner(jnp.asarray(starts[i:i + BLOCK]), model.consts_array,
                             jnp.asarray(t_end[i:i + BLOCK])))
           for i in range(0, len(starts), BLOCK)]
    return np.concatenate(out)


def _reshape(sweep: Sweep, shape) -> Sweep:
    return Sweep(*(a.reshape(shape + a.shape[1:]) for a in
                   (sweep.final_sharpness, sweep.final_loss, sweep.diverged, sweep.steps_run,
                    sweep.final_params)))


def sweep_init(model, eta, xs, ys, steps: int, optimizer="gd", seed: int = 0,
               tol: float = DEFAULT_TOL) -> Sweep:
    """Final sharpness and loss from every start (x, y) of a grid in the model's plane.

    Models with more than two parameters sweep their plane (xyzw: z = x, w = y). For
    one-parameter models pass ``ys=None``; the result then has shape (1, len(xs)).

    GD on xyzw's plane steps its exact twin x2y2 (the seed's eq. (2)), and the finals are
    measured as xyzw; ``simulate`` does the same from a start on the plane, so a cell is
    bitwise that run. (Another float implementation of the map, such as a 4-D numpy loop,
    rounds differently and can end elsewhere after a chaotic phase, a catapult at large η.)

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


def sweep_eta(model, init, etas, steps: int, optimizer="gd", seed: int = 0,
              tol: float = DEFAULT_TOL) -> Sweep:
    """Final sharpness and loss of runs from one start, one per step size in ``etas``."""
    model = resolve_model(model)
    theta = check_params(model, init)
    etas = np.asarray([check_eta(e) for e in np.asarray(etas, dtype=object).reshape(-1)])
    if etas.size == 0:
        raise ValueError("sweep_eta needs at least one step size.")
    starts = np.repeat(theta[None], len(etas), axis=0)
    return _reshape(run_cells(model, optimizer, starts, etas, steps, tol, seed), (len(etas),))
