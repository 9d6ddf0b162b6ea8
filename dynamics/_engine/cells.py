"""Many cells stepped together: the compiled runners behind sweeps (``blocks.py`` drives them).

Cells are laid out (dim, cells) and stepped vectorized. The fast path takes CHECK_EVERY
unguarded steps between checks; a cell that is out of bounds at a check is put back and
replayed by the exact path, which checks every step as ``simulate`` does. Both step a
bucket CHUNK cells at a time (``_in_chunks``), so that a chunk's rows stay in cache.

Both runners work on a block's whole state, which stays on its device from round to round:
``run(block, idx, n_valid, consts, k0, n, seed) -> (block, status)`` steps the cells
``idx[:n_valid]`` (the rest of ``idx`` is padding), writes them back in place and returns
each one's status (bit 0: stopped, bit 1: out of bounds or diverged). The block's rows are
θ (dim), the optimizer's state (flat, ``packing.py``; none for GD), η, tol and the steps
taken; its last column is scratch for the padding.
"""
from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp

from ..sharpness import extreme_eigenvalues
from ..step import step_fn
from .packing import StateLayout
from .runner import is_bad

CHECK_EVERY = 16      # steps between convergence checks on the fast path
CAPACITY = 16384      # cells per block (a power of two; the state has one more column)
CHUNK = 512           # cells the fast path steps together (see _in_chunks)


def _stepper(loss_fn, components_fn, rule, layout: StateLayout):
    """``(theta (dim, cells), state (size, cells), etas, consts, key, k) -> (theta, state)``:
    step k of every cell, ``dynamics/step.py``'s step vmapped over the cells (``key`` and
    ``k`` are the same for all: every cell draws the sample simulate(seed) draws at step k)."""
    update_fn, _, _, stochastic = rule
    step = step_fn(loss_fn, components_fn, update_fn, stochastic)

    def step_flat(theta, flat, eta, consts, key, k):
        new, state = step(theta, layout.unflatten(flat), eta, consts, key, k)
        return new, layout.ravel(state)

    return jax.vmap(step_flat, in_axes=(1, 1, 0, None, None, None), out_axes=1)


def _moved(new, old):
    """max_i |new_i − old_i| per cell, one row at a time (no reduction kernel)."""
    return functools.reduce(jnp.maximum, [jnp.abs(new[i] - old[i]) for i in range(new.shape[0])])


@functools.lru_cache(maxsize=None)
def exact_runner(loss_fn, components_fn, rule, layout: StateLayout):
    """Compiled: n steps of every running cell, checking every step (as simulate does).

    The loop carries θ, the optimizer's state, each cell's status (0 running, 1 stopped,
    2 diverged) and the steps it took. XLA makes the whole step a single kernel
    (recomputing the cheap update per row) instead of one kernel per output.
    """
    step = _stepper(loss_fn, components_fn, rule, layout)

    def run(theta, state, etas, done, steps_run, consts, k0, n, tol, seed):
        key = jax.random.PRNGKey(seed)

        def body(carry):
            j, theta, state, status, taken = carry
            new, new_state = step(theta, state, etas, consts, key, k0 + j)
            bad = is_bad(new)
            running = status == 0
            take = running & ~bad
            status = jnp.where(running & bad, 2,
                               jnp.where(take & (_moved(new, theta) <= tol), 1, status))
            return (j + 1, jnp.where(take, new, theta), jnp.where(take, new_state, state),
                    status, taken + take)

        # ends once every cell has stopped (a replayed cell mostly diverges within a step
        # or two of its group's start)
        status = done.astype(jnp.int32)
        carry = (jnp.asarray(0, jnp.int32), theta, state, status, 0 * status)
        _, theta, state, status, taken = jax.lax.while_loop(
            lambda c: (c[0] < n) & jnp.any(c[3] == 0), body, carry)
        return (theta, state, status > 0, status == 2,
                steps_run + taken.astype(steps_run.dtype))

    return _on_state(_in_chunks(run), layout)


@functools.lru_cache(maxsize=None)
def fast_runner(loss_fn, components_fn, rule, layout: StateLayout):
    """Compiled: n_checks × CHECK_EVERY steps, checking convergence between groups.

    Within a group cells step without stopping; a cell that was out of bounds at any step
    of a group is put back to the group's start (θ and state) and flagged, for an exact
    replay of that group (which finds the step and keeps the last iterate before it). A
    cell whose last step moved it by at most its ``tol`` stops if it sits where GD stays.
    """
    step = _stepper(loss_fn, components_fn, rule, layout)
    stable = _stable_fn(loss_fn)
    check_each_step = rule[3] or layout.size > 0   # SGD, or a rule with state

    def run(theta, state, etas, done, steps_run, consts, k0, n_checks, tol, seed):
        key = jax.random.PRNGKey(seed)

        def group(carry):
            g, theta, state, done, flagged, steps_run = carry
            k = k0 + g * CHECK_EVERY

            def inner(j, carry):
                th, st, _ = carry
                new, st = step(th, st, etas, consts, key, k + j)
                return new, st, th

            def inner_checked(j, carry):
                th, st, _, bad = carry
                new, st = step(th, st, etas, consts, key, k + j)
                return new, st, th, bad | is_bad(new)

            if check_each_step:
                # SGD alternates losses, and a rule with state carries a velocity: an
                # iterate out of bounds mid-group can come back by the group's end, and
                # the run has diverged there. Check every step.
                new, new_state, prev, bad = jax.lax.fori_loop(
                    0, CHECK_EVERY, inner_checked, (theta, state, theta, jnp.zeros_like(done)))
            else:
                # One deterministic map: past the bound its iterates only grow (or turn
                # NaN), so a cell out of bounds mid-group is still out at the group's end
                # (tests/test_sweeps.py checks this against simulate on every model).
                new, new_state, prev = jax.lax.fori_loop(0, CHECK_EVERY, inner,
                                                         (theta, state, theta))
                bad = is_bad(new)
            take = ~done & ~bad
            flagged = flagged | (~done & bad)
            quiet = take & (_moved(new, prev) <= tol)
            # the Hessians only when some cell is quiet (rarely, for most of a run)
            settled = jax.lax.cond(jnp.any(quiet), lambda: quiet & stable(new, etas, consts),
                                   lambda: jnp.zeros_like(quiet))
            done = done | bad | settled
            theta = jnp.where(take, new, theta)
            state = jnp.where(take, new_state, state)
            steps_run = steps_run + CHECK_EVERY * take.astype(steps_run.dtype)
            return g + 1, theta, state, done, flagged, steps_run

        # a round ends early once every cell has stopped
        carry = (jnp.asarray(0, jnp.int32), theta, state, done, jnp.zeros_like(done), steps_run)
        carry = jax.lax.while_loop(lambda c: (c[0] < n_checks) & ~jnp.all(c[3]), group, carry)
        return carry[1:]

    return _on_state(_in_chunks(run), layout)


def _in_chunks(core):
    """``core`` run on CHUNK cells at a time, one chunk after another (cells are independent).

    A chunk's rows stay in the core's first-level cache for all its groups, where a whole
    bucket would stream through memory at every step; and a chunk whose cells have all
    stopped ends its round early.
    """
    def run(theta, state, etas, done, steps_run, consts, k0, n, tol, seed):
        cells = theta.shape[1]
        chunk = math.gcd(cells, CHUNK)
        if cells <= CHUNK or chunk < CHUNK // 2:
            return core(theta, state, etas, done, steps_run, consts, k0, n, tol, seed)
        m = cells // chunk

        def split(a):   # (..., cells) -> (m, ..., chunk)
            return jnp.moveaxis(a.reshape(a.shape[:-1] + (m, chunk)), -2, 0)

        def join(a):    # (m, ..., chunk) -> (..., cells)
            return jnp.moveaxis(a, 0, -2).reshape(a.shape[1:-1] + (cells,))

        def one(xs):
            th, st, et, dn, sr, tl = xs
            return core(th, st, et, dn, sr, consts, k0, n, tl, seed)

        outs = jax.lax.map(one, tuple(split(a) for a in (theta, state, etas, done, steps_run,
                                                         tol)))
        return tuple(join(a) for a in outs)

    return run


def _stable_fn(loss_fn):
    """``(theta (dim, cells), etas, consts) -> bool``: is θ a point GD with step η cannot leave?

    That is 0 ≤ λᵢ < 2/η for every Hessian eigenvalue (|1 − ηλᵢ| < 1 on the quadratic
    model), up to rounding in λ_min. A tiny step elsewhere (near a saddle, or a minimum
    sharper than 2/η) is no convergence: such cells keep running.
    """
    grad = jax.grad(loss_fn)

    def column(theta, e, consts):   # H e: the derivative of the gradient along e
        return jax.jvp(lambda u: grad(u, consts), (theta,), (e,))[1]

    columns = jax.vmap(column, in_axes=(1, None, None), out_axes=1)

    def stable(theta, etas, consts):
        # the Hessian (dim, dim, cells) built column by column: each column one elementwise
        # pass over the (dim, cells) rows (jax.hessian's vmap would lay the batch first and
        # transpose, 3× slower here)
        eye = jnp.eye(theta.shape[0], dtype=theta.dtype)
        hess = jnp.stack([columns(theta, eye[i], consts) for i in range(theta.shape[0])], axis=1)
        low, high = extreme_eigenvalues(hess)
        return (low >= -1e-10 * jnp.maximum(1.0, jnp.abs(high))) & (high * etas < 2.0)

    return stable


def _on_state(core, layout: StateLayout):
    """Compile ``core(theta, state, etas, done, steps_run, consts, k0, n, tol, seed)`` to
    run on the cells ``idx[:n_valid]`` of a block state kept on the device (see the top)."""
    size = layout.size

    def run(block, idx, n_valid, consts, k0, n, seed):
        dim = block.shape[0] - 3 - size
        cells = jnp.take(block, idx, axis=1)
        theta, state = cells[:dim], cells[dim:dim + size]
        etas, tol, steps_run = cells[dim + size], cells[dim + size + 1], cells[dim + size + 2]
        padding = jnp.arange(idx.shape[0]) >= n_valid   # counts as stopped: never steps
        theta, state, done, flag, steps_run = core(theta, state, etas, padding, steps_run,
                                                   consts, k0, n, tol, seed)
        cells = jnp.concatenate([theta, state, etas[None], tol[None], steps_run[None]])
        block = block.at[:, idx].set(cells)   # the padding all lands in the scratch column
        return block, done.astype(jnp.int8) + 2 * flag.astype(jnp.int8)

    return jax.jit(run, donate_argnums=0)
