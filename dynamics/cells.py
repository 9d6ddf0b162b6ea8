"""Many cells stepped together: the compiled runners and the block driver behind sweeps.

Cells are laid out (dim, cells) and stepped vectorized. The fast path takes CHECK_EVERY
unguarded steps between checks; a cell that is out of bounds at a check is put back and
replayed by the exact path, which checks every step as ``simulate`` does. Between rounds
(whose length doubles) a block keeps only its running cells, padded to a power of two so
that few shapes are ever compiled.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .optimizers import OPTIMIZERS
from .sharpness import extreme_eigenvalues
from .simulate import is_bad

MIN_BUCKET = 128      # running cells are padded to a power of two ≥ this (few compiled shapes)
CHECK_EVERY = 16      # steps between convergence checks on the fast path
FIRST_ROUND = 32      # steps in the first round; each next round doubles


def _stepper(loss_fn, components_fn, optimizer: str):
    """``(theta (dim, cells), etas, consts, key, k) -> theta``: step k of every cell."""
    opt = OPTIMIZERS[optimizer]
    value_and_grad = jax.value_and_grad(loss_fn)

    def step_one(theta, eta, consts, i):
        loss, grad = value_and_grad(theta, consts)
        if opt.stochastic:
            grad = jax.grad(lambda th: components_fn(th, consts)[i])(theta)
        return opt.update(theta, grad, loss, eta)

    step_all = jax.vmap(step_one, in_axes=(1, 0, None, None), out_axes=1)

    def step(theta, etas, consts, key, k):
        i = 0
        if opt.stochastic:  # every cell draws the sample simulate(seed) draws at step k
            m = components_fn(theta[:, 0], consts).shape[0]
            i = jax.random.randint(jax.random.fold_in(key, k), (), 0, m)
        return step_all(theta, etas, consts, i)

    return step


def _moved(new, old):
    """max_i |new_i − old_i| per cell, one row at a time (no reduction kernel)."""
    return functools.reduce(jnp.maximum, [jnp.abs(new[i] - old[i]) for i in range(new.shape[0])])


@functools.lru_cache(maxsize=None)
def exact_runner(loss_fn, components_fn, optimizer: str):
    """Compiled: n steps of every running cell, checking every step (as simulate does).

    The loop carries one array (dim + 2, cells): θ, then each cell's status (0 running,
    1 stopped, 2 diverged), then the steps it took. One array in, one out: XLA makes the
    whole step a single kernel (recomputing the cheap update per row) instead of one kernel
    per output with copies between.
    """
    step = _stepper(loss_fn, components_fn, optimizer)

    def run(theta, etas, done, steps_run, consts, k0, n, tol, seed):
        key = jax.random.PRNGKey(seed)
        dim = theta.shape[0]

        def body(j, state):
            theta, status, taken = state[:dim], state[dim], state[dim + 1]
            new = step(theta, etas, consts, key, k0 + j)
            bad = is_bad(new)
            running = status == 0
            take = running & ~bad
            status = jnp.where(running & bad, 2.0,
                               jnp.where(take & (_moved(new, theta) <= tol), 1.0, status))
            theta = jnp.where(take, new, theta)
            return jnp.concatenate([theta, status[None], (taken + take)[None]])

        state = jnp.concatenate([theta, done.astype(theta.dtype)[None],
                                 jnp.zeros_like(theta[:1])])
        state = jax.lax.fori_loop(0, n, body, state)
        status = state[dim]
        return (state[:dim], status > 0, status == 2,
                steps_run + state[dim + 1].astype(steps_run.dtype))

    return jax.jit(run)


@functools.lru_cache(maxsize=None)
def fast_runner(loss_fn, components_fn, optimizer: str):
    """Compiled: n_checks × CHECK_EVERY steps, checking convergence between groups.

    Within a group cells step unguarded; a cell found out of bounds at the end of a group
    is put back to the group's start and flagged, for an exact replay of that group. A
    cell whose last step moved it by at most its ``tol`` stops if it sits where GD stays.
    """
    step = _stepper(loss_fn, components_fn, optimizer)
    stable = _stable_fn(loss_fn)

    def run(theta, etas, done, steps_run, consts, k0, n_checks, tol, seed):
        key = jax.random.PRNGKey(seed)

        def group(state):
            g, theta, done, flagged, steps_run = state
            k = k0 + g * CHECK_EVERY

            def inner(j, carry):
                th, _ = carry
                return step(th, etas, consts, key, k + j), th

            new, prev = jax.lax.fori_loop(0, CHECK_EVERY, inner, (theta, theta))
            # Checked once per group: past the bound these iterates only grow (or turn
            # NaN), so a cell that left it mid-group is still out at the group's end.
            bad = is_bad(new)
            take = ~done & ~bad
            flagged = flagged | (~done & bad)
            quiet = take & (_moved(new, prev) <= tol)
            # the Hessians only when some cell is quiet (rarely, for most of a run)
            settled = jax.lax.cond(jnp.any(quiet), lambda: quiet & stable(new, etas, consts),
                                   lambda: jnp.zeros_like(quiet))
            done = done | bad | settled
            theta = jnp.where(take, new, theta)
            steps_run = steps_run + CHECK_EVERY * take.astype(steps_run.dtype)
            return g + 1, theta, done, flagged, steps_run

        # a round ends early once every cell has stopped
        state = (jnp.asarray(0, jnp.int32), theta, done, jnp.zeros_like(done), steps_run)
        state = jax.lax.while_loop(lambda s: (s[0] < n_checks) & ~jnp.all(s[2]), group, state)
        return state[1:]

    return jax.jit(run)


def _stable_fn(loss_fn):
    """``(theta (dim, cells), etas, consts) -> bool``: is θ a point GD with step η cannot leave?

    That is 0 ≤ λᵢ < 2/η for every Hessian eigenvalue (|1 − ηλᵢ| < 1 on the quadratic
    model), up to rounding in λ_min. A tiny step elsewhere (near a saddle, or a minimum
    sharper than 2/η) is no convergence: such cells keep running.
    """
    hess = jax.vmap(jax.hessian(loss_fn), in_axes=(1, None), out_axes=2)

    def stable(theta, etas, consts):
        low, high = extreme_eigenvalues(hess(theta, consts))
        return (low >= -1e-10 * jnp.maximum(1.0, jnp.abs(high))) & (high * etas < 2.0)

    return stable


def _bucket(n: int) -> int:
    """The smallest power of two ≥ n (and ≥ MIN_BUCKET). Finer sizes (3·2^k too) cut the
    padding but compiled twice as many shapes, for no clear gain on the basin map."""
    return max(MIN_BUCKET, 1 << (int(n) - 1).bit_length())


class Block:
    """One block of cells on one device, run round by round until every cell stops."""

    def __init__(self, model, opt_name, theta, etas, tol, seed, device):
        self.fast = fast_runner(model.loss_fn, model.components_fn, opt_name)
        self.exact = exact_runner(model.loss_fn, model.components_fn, opt_name)
        self.consts = jax.device_put(model.consts_array, device)
        self.device, self.seed = device, np.uint32(seed)
        self.stochastic = OPTIMIZERS[opt_name].stochastic
        self.theta, self.etas = theta, etas                   # (dim, b), (b,)
        b = theta.shape[1]
        # SGD never stops early: a quiet step says nothing about the next sample's.
        self.tol = np.full(b, -1.0 if self.stochastic else tol)
        self.diverged = np.zeros(b, bool)
        self.steps_run = np.zeros(b, np.int64)

    def _call(self, runner, cells, k, count):
        size = _bucket(cells.size)
        idx = np.concatenate([cells, np.full(size - cells.size, cells[0])])
        pad = np.arange(size) >= cells.size  # padding cells count as done: they never step
        put = lambda a: jax.device_put(a, self.device)
        out = runner(put(self.theta[:, idx]), put(self.etas[idx]), put(pad),
                     put(self.steps_run[idx]), self.consts, np.int32(k), np.int32(count),
                     put(self.tol[idx]), self.seed)
        theta, done, flag, steps_run = (np.array(a)[..., :cells.size] for a in out)
        # (flag: the fast path's "left the bound" or the exact path's "diverged")
        self.theta[:, cells] = theta
        self.steps_run[cells] = steps_run
        return done, flag

    def run(self, steps: int):
        active = np.arange(self.theta.shape[1])
        replay = []  # cells found out of bounds, put back to the start of that group
        k, n = 0, FIRST_ROUND
        while k < steps and active.size:
            groups = min(n, steps - k) // CHECK_EVERY
            if groups == 0:   # the last few steps, traced one by one
                self._trace(active, k, steps - k)
                break
            done, flagged = self._call(self.fast, active, k, groups)
            replay.append(active[flagged])
            k += groups * CHECK_EVERY
            n *= 2
            active = active[~done]
        self._replay(np.concatenate(replay) if replay else np.zeros(0, int))
        return self

    def _replay(self, cells):
        """Step flagged cells through their group again to find where they diverged."""
        if not cells.size:
            return
        # Only SGD's steps depend on the step number; other rules replay all cells at once.
        starts = self.steps_run[cells] if self.stochastic else np.zeros(cells.size, int)
        for start in np.unique(starts):
            self._trace(cells[starts == start], int(start), CHECK_EVERY)

    def _trace(self, cells, k: int, count: int):
        """Take up to ``count`` steps of ``cells``, checking every step (the exact path)."""
        _, diverged = self._call(self.exact, cells, k, count)
        self.diverged[cells] |= diverged
