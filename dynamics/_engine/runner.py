"""The steps of one run, block by block, each block stepped and measured on every core.

A block is up to ``STEP_BLOCK`` steps of one jitted program per (loss, optimizer rule, what
is measured). It first steps from the block's start into a fixed (STEP_BLOCK + 1, dim)
buffer (a ``while_loop`` of ``dynamics/step.py``'s step that runs exactly the steps asked
for, or stops at the first bad iterate), then computes loss and exact sharpness of one
share of the new rows (``metrics.window_loop``). A preconditioned rule also keeps the
diagonal P of every step and measures the effective sharpness λ_max(P⁻¹H) of its rows.

Every CPU device runs the same program on the same plan, each measuring its own share:
the stepping is repeated on each (it is a small part of the work, and bitwise the same
everywhere), so no iterate is ever copied from one device to another, and each device
costs one dispatch per block. The host still checks that a device's rows are the first
device's before it takes that device's figures.

Everything that changes between calls travels in one small float64 array, the plan (one
transfer per device): the start θ, the optimizer's state (``packing.py``; nothing for GD),
up to ``PIECES`` constant-η pieces (their first steps, then their η), and ``HEAD`` numbers:
the step offset, the number of steps, the seed, whether η comes per step instead, the first
row to measure, this device's share and the number of shares. All are whole numbers below
2⁵³, so they are exact as floats. A new η, start, schedule, length, seed or hyperparameter
never compiles.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .._config import devices, on_device
from ..checks import DIVERGENCE_BOUND
from ..sharpness import batch_metrics, batch_metrics_preconditioned
from ..step import step_fn
from .metrics import STAGE, WINDOW, share_bounds, window_loop
from .packing import StateLayout

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


def _step_loop(loss_fn, components_fn, rule, layout: StateLayout):
    """Traced: (rows (STEP_BLOCK + 1, dim), bad step or −1, final state, P rows or None)
    from a plan (see the module)."""
    update_fn, _, preconditioner_fn, stochastic = rule
    step = step_fn(loss_fn, components_fn, update_fn, stochastic)
    size = layout.size

    def steps(plan, etas_per_step, consts):
        dim = plan.shape[0] - size - 2 * PIECES - HEAD
        theta0, state0 = plan[:dim], layout.unflatten(plan[dim:dim + size])
        firsts = plan[dim + size:dim + size + PIECES]
        etas = plan[dim + size + PIECES:dim + size + 2 * PIECES]
        k0, n_valid, seed = (plan[-HEAD].astype(jnp.int32), plan[-HEAD + 1].astype(jnp.int32),
                             plan[-HEAD + 2].astype(jnp.uint32))
        per_step = plan[-HEAD + 3] > 0
        firsts = jnp.append(firsts, jnp.inf)
        key = jax.random.PRNGKey(seed)

        def body(carry):
            j, piece, theta, state, rows, p_rows, _ = carry
            eta = jnp.where(per_step, etas_per_step[j], etas[piece])
            new, state = step(theta, state, eta, consts, key, k0 + j)
            rows = jax.lax.dynamic_update_index_in_dim(rows, new, j + 1, 0)
            if preconditioner_fn is not None:   # row j: the P that step j applies
                p_rows = jax.lax.dynamic_update_index_in_dim(p_rows, preconditioner_fn(state),
                                                             j, 0)
            # pieces start one after another: step k0 + j + 1 is in this piece or the next
            later = (k0 + j + 1).astype(plan.dtype) >= firsts[piece + 1]
            return j + 1, piece + later.astype(jnp.int32), new, state, rows, p_rows, is_bad(new)

        rows = jnp.zeros((STEP_BLOCK + 1, dim)).at[0].set(theta0)
        p_rows = jnp.ones((STEP_BLOCK + 1, dim)) if preconditioner_fn is not None else None
        zero = jnp.asarray(0, jnp.int32)
        carry = (zero, zero, theta0, state0, rows, p_rows, jnp.asarray(False))
        j, _, _, state, rows, p_rows, bad = jax.lax.while_loop(
            lambda c: (c[0] < n_valid) & ~c[6], body, carry)
        return rows, jnp.where(bad, j, -1), layout.ravel(state), p_rows

    return steps


@functools.lru_cache(maxsize=None)
def block_runner(loss_fn, components_fn, rule, layout: StateLayout, measure_fn, lift=None):
    """Compiled: one block, ``(plan, etas_per_step, consts, measure_consts) ->
    (rows, bad step or −1, loss (STAGE,), sharpness (STAGE,)[, effective (STAGE,)]
    [, final state])``; the state only for a rule with state, the effective sharpness
    only for a preconditioned one.

    The loss and sharpness are ``measure_fn``'s at ``lift(row)`` (the row itself without a
    lift), filled for this device's share of the rows from ``first`` to the last valid one.
    """
    steps = _step_loop(loss_fn, components_fn, rule, layout)
    preconditioned = rule[2] is not None
    measure = (batch_metrics_preconditioned(measure_fn) if preconditioned
               else batch_metrics(measure_fn))

    def run(plan, etas_per_step, consts, measure_consts):
        rows, bad, state, p_rows = steps(plan, etas_per_step, consts)
        n_valid, first, share, shares = (plan[-HEAD + i].astype(jnp.int32) for i in (1, 4, 5, 6))
        stop = jnp.where(bad < 0, n_valid + 1, bad)
        lo, hi = share_bounds(first, stop, share, shares)
        arrays = (rows,) if p_rows is None else (rows, p_rows)
        measured = window_loop(measure, arrays, lo, jnp.minimum(hi, stop), measure_consts,
                               lift)
        return (rows, bad, *measured) + ((state,) if layout.size else ())

    return jax.jit(run)


def _plan(theta: np.ndarray, state: np.ndarray, etas: np.ndarray, k: int, first: int):
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
    return np.concatenate([theta, state, starts, values, head]), per_step, steps


@functools.lru_cache(maxsize=None)
def _placeholder(device):
    """The unused per-step η of a block with few pieces, kept on the device (no transfer)."""
    return jax.device_put(np.zeros(STEP_BLOCK), device)


_COMPILED = set()   # (runner, plan length, device) compiled already


class Run:
    """One model's run: ``Run(...).blocks(theta, etas, seed)`` steps and measures it all.

    ``model`` is stepped with ``opt``; loss and sharpness are ``measured``'s at
    ``lift(row)`` (a plane twin's rows measured as the full model).
    """

    def __init__(self, model, opt, measured=None, lift=None):
        measured = model if measured is None else measured
        self._opt = opt
        self._layout = StateLayout.of(opt, model.dim)
        self._preconditioned = opt.preconditioner_fn is not None
        self._run = block_runner(model.loss_fn, model.components_fn, opt.rule, self._layout,
                                 measured.loss_fn, lift)
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

    def blocks(self, theta: np.ndarray, etas: np.ndarray, seed: int):
        """(iterates (n, dim), loss (n,), sharpness (n,), effective sharpness (n − 1,) or
        None, diverged_at or None)."""
        steps = len(etas)
        state = self._layout.flatten(self._opt.init(theta))
        parts = ([], [], [], [])   # rows, loss, sharpness, effective sharpness
        k = 0
        while k < steps:
            # A block repeats its start, the last row before it: measure it only where the
            # effective sharpness of its step is wanted (it is measured with that step's P).
            keep = 0 if k == 0 else 1
            first = 0 if self._preconditioned else keep
            plan, per_step, n_valid = _plan(theta, state, etas, k, first)
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
            measured = self._collect(calls, rows, first, stop, plan, per_step)
            parts[0].append(rows[keep:stop])
            for part, values in zip(parts[1:3], measured[:2]):
                part.append(values[keep - first:])
            if self._preconditioned:   # steps from rows 0 … stop − 2 of this block
                parts[3].append(measured[2][:stop - 1])
            if dead >= 0:
                return self._joined(parts, k + dead)
            theta = rows[n_valid]
            if self._layout.size:
                state = np.asarray(calls[0][-1])
            k += n_valid
            rest = steps - k
            # A deterministic fixed point of a rule without state stays fixed: fill the rest
            # without stepping.
            if (rest > 0 and not self._opt.stochastic and not self._layout.size
                    and np.array_equal(rows[n_valid], rows[n_valid - 1])
                    and np.all(etas[k:] == etas[k - 1])):
                parts[0].append(np.repeat(theta[None], rest, axis=0))
                parts[1].append(np.repeat(parts[1][-1][-1], rest))
                parts[2].append(np.repeat(parts[2][-1][-1], rest))
                break
        return self._joined(parts, None)

    def _joined(self, parts, dead_at):
        rows, loss, sharp, effective = (np.concatenate(p) if p else None for p in parts)
        return rows, loss, sharp, effective, dead_at

    def _collect(self, calls, rows: np.ndarray, first: int, stop: int, plan, per_step):
        """The measures (loss, sharpness[, effective]) of rows [first, stop), each share
        from the device that measured it, if that device stepped exactly as the first did;
        otherwise (never seen) the first device measures the whole block again."""
        dead = int(calls[0][1])
        count = 3 if self._preconditioned else 2
        out = [np.empty(stop - first) for _ in range(count)]
        for i, call in enumerate(calls):
            lo, hi = share_bounds(first, stop, i, len(calls))
            hi = min(hi, stop)
            if lo >= hi:
                continue
            part = slice(lo - first, hi - first)
            if i > 0 and (int(call[1]) != dead
                          or not np.array_equal(np.asarray(call[0])[lo:hi], rows[lo:hi])):
                alone = plan.copy()
                alone[-2], alone[-1] = 0, 1
                whole = self._call(0, alone, per_step)
                return [np.asarray(m)[first:stop] for m in whole[2:2 + count]]
            for values, measure in zip(out, call[2:2 + count]):
                values[part] = np.asarray(measure)[lo:hi]
        return out
