"""Many cells stepped together: the compiled runners behind sweeps (``blocks.py`` drives them).

Cells are laid out (dim, cells) and stepped vectorized. The fast path takes CHECK_EVERY
unguarded steps between checks; a cell that is out of bounds at a check is put back and
replayed by the exact path, which checks every step as ``simulate`` does.

Both runners work on a block's whole state, which stays on its device from round to round:
``run(state, idx, n_valid, consts, k0, n, seed) -> (state, status)`` steps the cells
``idx[:n_valid]`` (the rest of ``idx`` is padding), writes them back in place and returns
each one's status (bit 0: stopped, bit 1: out of bounds or diverged). The state's rows are
θ (dim), η, tol and the steps taken; its last column is scratch for the padding.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from .optimizers import OPTIMIZERS
from .sharpness import extreme_eigenvalues
from .runner import is_bad

CHECK_EVERY = 16      # steps between convergence checks on the fast path
CAPACITY = 16384      # cells per block (a power of two; the state has one more column)


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

        def body(j, carry):
            theta, status, taken = carry
            new = step(theta, etas, consts, key, k0 + j)
            bad = is_bad(new)
            running = status == 0
            take = running & ~bad
            status = jnp.where(running & bad, 2,
                               jnp.where(take & (_moved(new, theta) <= tol), 1, status))
            return jnp.where(take, new, theta), status, taken + take

        status = done.astype(jnp.int32)
        theta, status, taken = jax.lax.fori_loop(0, n, body, (theta, status, 0 * status))
        return theta, status > 0, status == 2, steps_run + taken.astype(steps_run.dtype)

    return _on_state(run)


@functools.lru_cache(maxsize=None)
def fast_runner(loss_fn, components_fn, optimizer: str):
    """Compiled: n_checks × CHECK_EVERY steps, checking convergence between groups.

    Within a group cells step without stopping; a cell that was out of bounds at any step
    of a group is put back to the group's start and flagged, for an exact replay of that
    group (which finds the step and keeps the last iterate before it). A
    cell whose last step moved it by at most its ``tol`` stops if it sits where GD stays.
    """
    step = _stepper(loss_fn, components_fn, optimizer)
    stable = _stable_fn(loss_fn)
    opt = OPTIMIZERS[optimizer]

    def run(theta, etas, done, steps_run, consts, k0, n_checks, tol, seed):
        key = jax.random.PRNGKey(seed)

        def group(state):
            g, theta, done, flagged, steps_run = state
            k = k0 + g * CHECK_EVERY

            def inner(j, carry):
                th, _ = carry
                return step(th, etas, consts, key, k + j), th

            def inner_checked(j, carry):
                th, _, bad = carry
                new = step(th, etas, consts, key, k + j)
                return new, th, bad | is_bad(new)

            if opt.stochastic:
                # SGD alternates losses: an iterate out of bounds mid-group can come back
                # by the group's end, and the run has diverged there. Check every step.
                new, prev, bad = jax.lax.fori_loop(0, CHECK_EVERY, inner_checked,
                                                   (theta, theta, jnp.zeros_like(done)))
            else:
                # One deterministic map: past the bound its iterates only grow (or turn
                # NaN), so a cell out of bounds mid-group is still out at the group's end
                # (tests/test_sweeps.py checks this against simulate on every model).
                new, prev = jax.lax.fori_loop(0, CHECK_EVERY, inner, (theta, theta))
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

    return _on_state(run)


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


def _on_state(core):
    """Compile ``core(theta, etas, done, steps_run, consts, k0, n, tol, seed)`` to run on
    the cells ``idx[:n_valid]`` of a block state kept on the device (see the top)."""

    def run(state, idx, n_valid, consts, k0, n, seed):
        dim = state.shape[0] - 3
        cells = jnp.take(state, idx, axis=1)
        etas, tol = cells[dim], cells[dim + 1]
        padding = jnp.arange(idx.shape[0]) >= n_valid   # counts as stopped: never steps
        theta, done, flag, steps_run = core(cells[:dim], etas, padding, cells[dim + 2],
                                            consts, k0, n, tol, seed)
        cells = jnp.concatenate([theta, etas[None], tol[None], steps_run[None]])
        state = state.at[:, idx].set(cells)   # the padding all lands in the scratch column
        return state, done.astype(jnp.int8) + 2 * flag.astype(jnp.int8)

    return jax.jit(run, donate_argnums=0)
