"""Loss and exact sharpness at every iterate of a run, spread over the CPU devices.

Iterates travel in stages of ``STAGE`` rows (the step runner's output stays on its device;
host arrays are copied in). Each device gets one contiguous share of a stage and runs one
compiled call over it: a ``while_loop`` over fixed ``WINDOW``-row windows, as many as the
share needs. Every shape is fixed, so no length ever compiles again, a short run pays only
for its own windows, and each device costs one dispatch per stage.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ._config import devices, on_device
from .sharpness import batch_metrics

WINDOW = 1024       # iterates per loop turn (best of 512 … 8192 here)
STAGE = 16384 + 1   # rows per stage: one block of the step runner (simulate.STEP_BLOCK + 1)


_COMPILED = set()  # (share runner, dim, device) already compiled


@functools.lru_cache(maxsize=None)
def _share_runner(loss_fn, lift=None):
    """Compiled: (loss, sharpness) (STAGE,) each, filled for rows [start, stop) of a stage.

    Windows start at start, start + WINDOW, …; the last is moved back to end inside the
    stage (its overlap is computed twice, identically). Rows outside [start, stop) are 0.
    ``lift`` maps the rows to the loss's parameters first (a plane twin's rows to xyzw's).
    """
    run = batch_metrics(loss_fn)

    def share(rows, start, stop, consts):
        def body(carry):
            i, loss, sharp = carry
            begin = jnp.minimum(i, STAGE - WINDOW)
            window = jax.lax.dynamic_slice_in_dim(rows, begin, WINDOW, axis=0)
            if lift is not None:
                window = lift(window)
            l, s = run(window.T, consts)
            loss = jax.lax.dynamic_update_slice_in_dim(loss, l, begin, 0)
            sharp = jax.lax.dynamic_update_slice_in_dim(sharp, s, begin, 0)
            return i + WINDOW, loss, sharp

        zeros = jnp.zeros(STAGE, rows.dtype)
        _, loss, sharp = jax.lax.while_loop(lambda c: c[0] < stop, body, (start, zeros, zeros))
        return loss, sharp

    return jax.jit(share)


class Metrics:
    """Loss and sharpness of the rows submitted so far, in order; ``result()`` collects them."""

    def __init__(self, loss_fn, consts: tuple, device=None, lift=None):
        self._run = _share_runner(loss_fn, lift)
        self._devices = devices() if device is None else [device]
        self._consts = [on_device(tuple(consts), d) for d in self._devices]
        self._parts = []   # (device loss, device sharpness, first row, last row, times repeated)

    def submit(self, rows, start: int = 0, stop: int | None = None,
               repeat: int = 1, more: bool = False) -> None:
        """Queue rows[start:stop] of a (m, d) array; with ``repeat`` > 1 each row counts that often.

        ``rows`` is a host array, or a (STAGE, d) device array from the step runner (it is
        used where it lies). ``more=True`` says the caller keeps stepping on the first
        device meanwhile: the rows then go to the other devices only, so the two overlap.
        """
        stop = len(rows) if stop is None else stop
        while start < stop:
            if rows.shape[0] == STAGE and rows.dtype == np.float64:
                stage, first, last = rows, start, stop
            else:
                count = min(STAGE, stop - start)
                stage = np.zeros((STAGE, rows.shape[1]))
                stage[:count] = np.asarray(rows[start:start + count])
                first, last = 0, count
            self._stage(stage, first, last, repeat, more)
            start += last - first

    def _stage(self, stage, first: int, last: int, repeat: int, more: bool) -> None:
        self._compile_everywhere(stage.shape[1])
        targets = list(range(len(self._devices)))
        if more and len(targets) > 1:
            targets = targets[1:]
        # one contiguous share per device, whole windows each, the last one shortest
        windows = -(-(last - first) // WINDOW)
        targets = targets[:max(1, windows)]
        per = -(-windows // len(targets))
        home = _device_of(stage)
        # the device the rows lie on starts first; the others get them through the host
        # (a device-to-device copy costs 3× more here)
        order = sorted(targets, key=lambda i: self._devices[i] != home)
        host = None
        for n, i in enumerate(order):
            lo = first + n * per * WINDOW
            hi = min(last, lo + per * WINDOW)
            if lo >= hi:
                continue
            device = self._devices[i]
            if device == home:
                rows = stage
            else:
                host = np.asarray(stage) if host is None else host
                rows = jax.device_put(host, device)
            loss, sharp = self._run(rows, np.int32(lo), np.int32(hi), self._consts[i])
            self._parts.append((loss, sharp, lo, hi, repeat))

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
        loss = [_take(l, lo, hi, r) for l, _, lo, hi, r in self._parts]
        sharp = [_take(s, lo, hi, r) for _, s, lo, hi, r in self._parts]
        return np.concatenate(loss), np.concatenate(sharp)


def _device_of(array):
    """The device a committed jax array lies on; None for a host array."""
    if isinstance(array, jax.Array):
        (device,) = array.devices()
        return device
    return None


def _take(values, lo: int, hi: int, repeat: int) -> np.ndarray:
    part = np.asarray(values)[lo:hi]
    return part if repeat == 1 else np.repeat(part, repeat)


def metrics(loss_fn, consts: tuple, thetas: np.ndarray, device=None):
    """Loss and sharpness at every row of ``thetas`` (n, d), as float64 numpy arrays
    (on ``device`` only, or spread over all)."""
    job = Metrics(loss_fn, consts, device)
    job.submit(np.asarray(thetas, dtype=np.float64))
    return job.result()
