"""The steps of one run, block by block, each block stepped and measured on every core.

A block is up to ``STEP_BLOCK`` steps of one jitted program per (loss, optimizer, what is
measured). It first steps from the block's start into a fixed (STEP_BLOCK + 1, dim) buffer
(a ``while_loop`` that runs exactly the steps asked for, or stops at the first bad
iterate), then computes loss and exact sharpness of one share of the new rows
(``metrics.window_loop``).

Every CPU device runs the same program on the same plan, each measuring its own share:
the stepping is repeated on each (it is a small part of the work, and bitwise the same
everywhere), so no iterate is ever copied from one device to another, and each device
costs one dispatch per block. The host still checks that a device's rows are the first
device's before it takes that device's figures.

Everything that changes between calls travels in one small float64 array, the plan (one
transfer per device): the start θ, up to ``PIECES`` constant-η pieces (their first steps,
then their η), and ``HEAD`` numbers: the step offset, the number of steps, the seed,
whether η comes per step instead, the first row to measure, this device's share and the
number of shares. All are whole numbers below 2⁵³, so they are exact as floats. A new η,
start, schedule, length or seed never compiles.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ._config import devices, on_device
from .checks import DIVERGENCE_BOUND
from .metrics import STAGE, WINDOW, metrics, share_bounds, window_loop
from .sharpness import batch_metrics

STEP_BLOCK = STAGE - 1  # steps per block
PIECES = 16  # constant-η pieces a plan holds; a block with more takes η per step
HEAD = 7     # k0, n_valid, seed, per_step, first, share, shares (the plan's last numbers)


def is_bad(theta):
    """θ is non-finite or max|θ| > 1e6 (along axis 0, so it also works on (dim, cells)).

    Written as one comparison per coordinate (NaN compares false) rather than a reduction:
    XLA on the CPU runs reductions inside a loop as separate kernels, 10× slower here.
    """
    if theta.shape[0] > 16:
        return ~jnp.all(jnp.abs(theta) <= DIVERGENCE_BOUND, axis=0)
    ok = functools.reduce(jnp.logical_and,
                          [jnp.abs(theta[i]) <= DIVERGENCE_BOUND for i in range(theta.shape[0])])
    return ~ok


def _step_loop(loss_fn, components_fn, optimizer: str):
    """Traced: (rows (STEP_BLOCK + 1, dim), bad step or −1) from a plan (see the module)."""
    from .optimizers import OPTIMIZERS

    opt = OPTIMIZERS[optimizer]
    value_and_grad = jax.value_and_grad(loss_fn)
    if opt.stochastic:
        def component_grad(theta, consts, i):
            return jax.grad(lambda th: components_fn(th, consts)[i])(theta)

    def steps(plan, etas_per_step, consts):
        dim = plan.shape[0] - 2 * PIECES - HEAD
        theta0, firsts = plan[:dim], plan[dim:dim + PIECES]
        etas = plan[dim + PIECES:dim + 2 * PIECES]
        k0, n_valid, seed = (plan[-HEAD].astype(jnp.int32), plan[-HEAD + 1].astype(jnp.int32),
                             plan[-HEAD + 2].astype(jnp.uint32))
        per_step = plan[-HEAD + 3] > 0
        firsts = jnp.append(firsts, jnp.inf)
        key = jax.random.PRNGKey(seed)

        def body(carry):
            j, piece, theta, rows, _ = carry
            loss, grad = value_and_grad(theta, consts)
            if opt.stochastic:
                m = components_fn(theta, consts).shape[0]
                i = jax.random.randint(jax.random.fold_in(key, k0 + j), (), 0, m)
                grad = component_grad(theta, consts, i)
            eta = jnp.where(per_step, etas_per_step[j], etas[piece])
            new = opt.update(theta, grad, loss, eta)
            rows = jax.lax.dynamic_update_index_in_dim(rows, new, j + 1, 0)
            # pieces start one after another: step k0 + j + 1 is in this piece or the next
            later = (k0 + j + 1).astype(plan.dtype) >= firsts[piece + 1]
            return j + 1, piece + later.astype(jnp.int32), new, rows, is_bad(new)

        rows = jnp.zeros((STEP_BLOCK + 1, dim)).at[0].set(theta0)
        zero = jnp.asarray(0, jnp.int32)
        carry = (zero, zero, theta0, rows, jnp.asarray(False))
        j, _, _, rows, bad = jax.lax.while_loop(lambda c: (c[0] < n_valid) & ~c[4], body, carry)
        return rows, jnp.where(bad, j, -1)

    return steps


@functools.lru_cache(maxsize=None)
def block_runner(loss_fn, components_fn, optimizer: str, measure_fn, lift=None):
    """Compiled: one block, ``(plan, etas_per_step, consts, measure_consts) ->
    (rows, bad step or −1, loss (STAGE,), sharpness (STAGE,))``.

    The loss and sharpness are ``measure_fn``'s at ``lift(row)`` (the row itself without a
    lift), filled for this device's share of the rows from ``first`` to the last valid one.
    """
    steps = _step_loop(loss_fn, components_fn, optimizer)
    measure = batch_metrics(measure_fn)

    def run(plan, etas_per_step, consts, measure_consts):
        rows, bad = steps(plan, etas_per_step, consts)
        n_valid, first, share, shares = (plan[-HEAD + i].astype(jnp.int32) for i in (1, 4, 5, 6))
        stop = jnp.where(bad < 0, n_valid + 1, bad)
        lo, hi = share_bounds(first, stop, share, shares)
        loss, sharp = window_loop(measure, rows, lo, jnp.minimum(hi, stop), measure_consts,
                                  lift)
        return rows, bad, loss, sharp

    return jax.jit(run)


def _plan(theta: np.ndarray, etas: np.ndarray, k: int, first: int):
    """(plan without its share, η per step or None, steps) for the block from step k."""
    steps = min(STEP_BLOCK, len(etas) - k)
    block = etas[k:k + steps]
    changes = np.flatnonzero(block[1:] != block[:-1]) + 1
    starts = np.full(PIECES, np.inf)
    values = np.full(PIECES, block[0])
    per_step = None
    if len(changes) >= PIECES:
        per_step = np.zeros(STEP_BLOCK)
        per_step[:steps] = block
    else:
        starts[0] = k
        starts[1:len(changes) + 1] = k + changes
        values[1:len(changes) + 1] = block[changes]
    head = [k, steps, 0.0, per_step is not None, first, 0, 1]   # seed, share set by caller
    return np.concatenate([theta, starts, values, head]), per_step, steps


@functools.lru_cache(maxsize=None)
def _placeholder(device):
    """The unused per-step η of a block with few pieces, kept on the device (no transfer)."""
    return jax.device_put(np.zeros(STEP_BLOCK), device)


_COMPILED = set()   # (runner, plan length, device) compiled already


class Run:
    """One model's run: ``Run(...).blocks(theta, etas, seed)`` steps and measures it all.

    ``model`` is stepped with ``optimizer``; loss and sharpness are ``measured``'s at
    ``lift(row)`` (a plane twin's rows measured as the full model).
    """

    def __init__(self, model, optimizer: str, measured=None, lift=None):
        measured = model if measured is None else measured
        self._run = block_runner(model.loss_fn, model.components_fn, optimizer,
                                 measured.loss_fn, lift)
        self._measured, self._lift = measured, lift
        self._devices = devices()
        self._consts = [on_device(tuple(model.consts), d) for d in self._devices]
        self._measure_consts = [on_device(tuple(measured.consts), d) for d in self._devices]

    def _call(self, i: int, plan: np.ndarray, per_step):
        device = self._devices[i]
        etas = _placeholder(device) if per_step is None else per_step
        return self._run(plan, etas, self._consts[i], self._measure_consts[i])

    def _compile_everywhere(self, plan: np.ndarray) -> None:
        """Compile for every device at the first run, not when a longer run first reaches
        the second device (a new length must never compile)."""
        for i, device in enumerate(self._devices):
            if (self._run, len(plan), device) not in _COMPILED:
                probe = plan.copy()
                probe[-HEAD + 1] = 1   # one step
                jax.block_until_ready(self._call(i, probe, None))
                _COMPILED.add((self._run, len(plan), device))

    def blocks(self, theta: np.ndarray, etas: np.ndarray, seed: int, stochastic: bool):
        """(iterates (n, dim), loss (n,), sharpness (n,), diverged_at or None)."""
        steps = len(etas)
        rows_parts, loss_parts, sharp_parts = [], [], []
        k = 0
        while k < steps:
            first = 0 if k == 0 else 1   # a block repeats its start, the last row before it
            plan, per_step, n_valid = _plan(theta, etas, k, first)
            plan[-HEAD + 2] = seed
            self._compile_everywhere(plan)
            shares = max(1, min(len(self._devices), -(-(n_valid + 1 - first) // WINDOW)))
            plan[-1] = shares
            calls = []
            for i in range(shares):
                plan[-2] = i
                calls.append(self._call(i, plan.copy(), per_step))
            dead = int(calls[0][1])
            stop = n_valid + 1 if dead < 0 else dead
            rows = np.asarray(calls[0][0])
            loss, sharp = self._collect(calls, rows, first, stop)
            rows_parts.append(rows[first:stop])
            loss_parts.append(loss)
            sharp_parts.append(sharp)
            if dead >= 0:
                return (np.concatenate(rows_parts), np.concatenate(loss_parts),
                        np.concatenate(sharp_parts), k + dead)
            theta = rows[n_valid]
            k += n_valid
            rest = steps - k
            # A deterministic fixed point stays fixed: fill the rest without stepping.
            if (rest > 0 and not stochastic and np.array_equal(rows[n_valid], rows[n_valid - 1])
                    and np.all(etas[k:] == etas[k - 1])):
                rows_parts.append(np.repeat(theta[None], rest, axis=0))
                loss_parts.append(np.repeat(loss[-1], rest))
                sharp_parts.append(np.repeat(sharp[-1], rest))
                break
        return (np.concatenate(rows_parts), np.concatenate(loss_parts),
                np.concatenate(sharp_parts), None)

    def _collect(self, calls, rows: np.ndarray, first: int, stop: int):
        """(loss, sharpness) of rows [first, stop), each share from the device that measured
        it, if that device stepped exactly as the first did."""
        dead = int(calls[0][1])
        loss, sharp = np.empty(stop - first), np.empty(stop - first)
        for i, (device_rows, device_dead, device_loss, device_sharp) in enumerate(calls):
            lo, hi = share_bounds(first, stop, i, len(calls))
            hi = min(hi, stop)
            if lo >= hi:
                continue
            part = slice(lo - first, hi - first)
            if i == 0 or (int(device_dead) == dead
                          and np.array_equal(np.asarray(device_rows)[lo:hi], rows[lo:hi])):
                loss[part] = np.asarray(device_loss)[lo:hi]
                sharp[part] = np.asarray(device_sharp)[lo:hi]
            else:   # never seen: a device stepped differently; measure the first's rows
                loss[part], sharp[part] = self._measure(rows[lo:hi])
        return loss, sharp

    def _measure(self, rows: np.ndarray):
        points = rows if self._lift is None else np.asarray(self._lift(rows))
        return metrics(self._measured.loss_fn, self._measured.consts, points)
