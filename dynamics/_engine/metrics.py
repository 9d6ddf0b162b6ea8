"""Loss and exact sharpness at every iterate of a run, spread over the CPU devices.

``window_loop`` is the compiled core: a ``while_loop`` over fixed ``WINDOW``-row windows,
as many as a share of rows needs. Each device measures one contiguous share
(``share_bounds``); the step runner (``runner.py``) measures its own rows where they lie.
``Metrics`` does the same for host arrays (gradient flow, sweeps' final points): they
travel in stages of ``STAGE`` rows. Every shape is fixed, so no length ever compiles
again, a short run pays only for its own windows, and each device costs one dispatch per
stage.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .._config import devices, on_device
from ..sharpness import batch_metrics

WINDOW = 1024       # iterates per loop turn (best of 512 … 8192 here)
STAGE = 16384 + 1   # rows per stage: one block of the step runner (runner.STEP_BLOCK + 1)


_COMPILED = set()  # (share runner, dim, device) already compiled


def share_bounds(first, stop, share, shares):
    """Rows [lo, hi) of share ``share`` of ``shares`` of the rows [first, stop): whole
    windows each, in order, the last share shortest (clip hi to stop). Works on Python
    ints and on traced integers alike."""
    windows = (stop - first + WINDOW - 1) // WINDOW
    per = (windows + shares - 1) // shares
    lo = first + share * per * WINDOW
    return lo, lo + per * WINDOW


def window_loop(measure, arrays, start, stop, consts, lift=None):
    """Traced: the measures of rows [start, stop) of ``arrays`` (each (m, d)), each (m,).

    A ``while_loop`` over windows at start, start + WINDOW, …; the last is moved back to end
    inside the rows (its overlap is computed twice, identically). Rows outside are 0.
    ``measure`` maps the windows, transposed, to its measures: ``batch_metrics(loss)`` gives
    (loss, sharpness) of the rows; ``batch_metrics_preconditioned`` takes the rows and their
    steps' P and adds the effective sharpness. ``lift`` maps the first array's rows to the
    loss's parameters first (a plane twin's rows to xyzw's).
    """
    m = arrays[0].shape[0]

    def body(carry):
        i, outs = carry
        begin = jnp.minimum(i, m - WINDOW)
        windows = [jax.lax.dynamic_slice_in_dim(a, begin, WINDOW, axis=0) for a in arrays]
        if lift is not None:
            windows[0] = lift(windows[0])
        values = measure(*(w.T for w in windows), consts)
        outs = tuple(jax.lax.dynamic_update_slice_in_dim(o, v, begin, 0)
                     for o, v in zip(outs, values))
        return i + WINDOW, outs

    def probe(rows, consts):
        rows = list(rows)
        if lift is not None:
            rows[0] = lift(rows[0])
        return measure(*(r.T for r in rows), consts)

    count = len(jax.eval_shape(probe, [a[:1] for a in arrays], consts))
    zeros = (jnp.zeros(m, arrays[0].dtype),) * count
    _, outs = jax.lax.while_loop(lambda c: c[0] < stop, body, (start, zeros))
    return outs


@functools.lru_cache(maxsize=None)
def _share_runner(loss_fn, lift=None):
    """Compiled: (loss, sharpness) (STAGE,) each, filled for rows [start, stop) of a stage."""
    measure = batch_metrics(loss_fn)
    return jax.jit(lambda rows, start, stop, consts: window_loop(measure, (rows,), start, stop,
                                                                  consts, lift))


class Metrics:
    """Loss and sharpness of the rows submitted so far, in order; ``result()`` collects them."""

    def __init__(self, loss_fn, consts: tuple, device=None, lift=None):
        self._run = _share_runner(loss_fn, lift)
        self._devices = devices() if device is None else [device]
        self._consts = [on_device(tuple(consts), d) for d in self._devices]
        self._parts = []   # (device loss, device sharpness, first row, last row)

    def submit(self, rows: np.ndarray) -> None:
        """Queue the rows of a host array (m, d)."""
        rows = np.asarray(rows, dtype=np.float64)
        for start in range(0, len(rows), STAGE):
            count = min(STAGE, len(rows) - start)
            stage = np.zeros((STAGE, rows.shape[1]))
            stage[:count] = rows[start:start + count]
            self._stage(stage, count)

    def _stage(self, stage: np.ndarray, count: int) -> None:
        self._compile_everywhere(stage.shape[1])
        # one contiguous share per device, whole windows each, the last one shortest
        shares = max(1, min(len(self._devices), -(-count // WINDOW)))
        for i in range(shares):
            lo, hi = share_bounds(0, count, i, shares)
            hi = min(hi, count)
            if lo < hi:
                rows = jax.device_put(stage, self._devices[i])
                loss, sharp = self._run(rows, np.int32(lo), np.int32(hi), self._consts[i])
                self._parts.append((loss, sharp, lo, hi))

    def _compile_everywhere(self, dim: int) -> None:
        """Compile for every device at its first use, not when a longer run first reaches
        the second device (a new length must never compile)."""
        for i, dev in enumerate(self._devices):
            if (self._run, dim, dev) not in _COMPILED:
                self._run(jax.device_put(np.zeros((STAGE, dim)), dev), np.int32(0),
                          np.int32(1), self._consts[i])
                _COMPILED.add((self._run, dim, dev))

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """(loss (n,), sharpness (n,)) as float64 numpy arrays, n = rows submitted."""
        if not self._parts:
            return np.empty(0), np.empty(0)
        loss = [np.asarray(l)[lo:hi] for l, _, lo, hi in self._parts]
        sharp = [np.asarray(s)[lo:hi] for _, s, lo, hi in self._parts]
        return np.concatenate(loss), np.concatenate(sharp)


def metrics(loss_fn, consts: tuple, thetas: np.ndarray, device=None):
    """Loss and sharpness at every row of ``thetas`` (n, d), as float64 numpy arrays
    (on ``device`` only, or spread over all)."""
    job = Metrics(loss_fn, consts, device)
    job.submit(np.asarray(thetas, dtype=np.float64))
    return job.result()
