"""Loss and exact sharpness at every iterate of a run, spread over the CPU devices.

Iterates arrive as host arrays of any length. They travel in fixed-size stages of
``STAGE`` rows (one transfer per device and stage) and are computed in fixed windows of
``WINDOW`` rows handed to the devices in turn, asynchronously: every shape is fixed, so
no length ever compiles again, and both cores work on one run at once.
"""
from __future__ import annotations

import functools

import jax
import numpy as np

from ._config import devices
from .sharpness import batch_metrics

WINDOW = 2048       # iterates per compiled call
STAGE = 16384 + 1   # rows per transfer: one block of the step runner (simulate.STEP_BLOCK + 1)


_COMPILED = set()  # (window runner, dim, device) already compiled


@functools.lru_cache(maxsize=None)
def _window_runner(loss_fn):
    """Compiled: (loss, sharpness) of rows [start, start + WINDOW) of a (STAGE, d) array."""
    run = batch_metrics(loss_fn)

    def window(rows, start, consts):
        block = jax.lax.dynamic_slice_in_dim(rows, start, WINDOW, axis=0)
        return run(block.T, consts)

    return jax.jit(window)


class Metrics:
    """Loss and sharpness of the rows submitted so far, in order; ``result()`` collects them."""

    def __init__(self, loss_fn, consts):
        self._run = _window_runner(loss_fn)
        self._devices = devices()
        self._consts = [jax.device_put(consts, d) for d in self._devices]
        self._parts = []   # (device loss, device sharpness, offset, rows used, times repeated)
        self._turn = 0

    def submit(self, rows: np.ndarray, start: int = 0, stop: int | None = None,
               repeat: int = 1, more: bool = False) -> None:
        """Queue rows[start:stop] of a (m, d) array; with ``repeat`` > 1 each row counts that often.

        ``more=True`` says the caller keeps stepping on the first device meanwhile: the
        rows then go to the other devices only, so the two overlap.
        """
        stop = len(rows) if stop is None else stop
        while start < stop:
            if len(rows) == STAGE and rows.dtype == np.float64:
                stage, first, last = rows, start, stop
            else:
                count = min(STAGE, stop - start)
                stage = np.zeros((STAGE, rows.shape[1]))
                stage[:count] = rows[start:start + count]
                first, last = 0, count
            self._stage(stage, first, last, repeat, more)
            start += last - first

    def _stage(self, stage: np.ndarray, first: int, last: int, repeat: int, more: bool) -> None:
        self._compile_everywhere(stage.shape[1])
        on_device = {}
        skip_first = more and len(self._devices) > 1
        for w in range(first, last, WINDOW):
            i = self._turn % len(self._devices)
            self._turn += 1
            if skip_first and i == 0:
                i = self._turn % len(self._devices)
                self._turn += 1
            if i not in on_device:
                on_device[i] = jax.device_put(stage, self._devices[i])
            begin = min(w, STAGE - WINDOW)  # a window never reaches past the stage
            loss, sharp = self._run(on_device[i], np.int32(begin), self._consts[i])
            self._parts.append((loss, sharp, w - begin, min(WINDOW, last - w), repeat))

    def _compile_everywhere(self, dim: int) -> None:
        """Compile the window for every device at its first use, not when a longer run
        first reaches the second device (a new length must never compile)."""
        for i, dev in enumerate(self._devices):
            if (self._run, dim, dev) not in _COMPILED:
                self._run(jax.device_put(np.zeros((STAGE, dim)), dev), np.int32(0),
                          self._consts[i])
                _COMPILED.add((self._run, dim, dev))

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """(loss (n,), sharpness (n,)) as float64 numpy arrays, n = rows submitted."""
        if not self._parts:
            return np.empty(0), np.empty(0)
        loss = [np.repeat(np.asarray(l)[o:o + n], r) for l, _, o, n, r in self._parts]
        sharp = [np.repeat(np.asarray(s)[o:o + n], r) for _, s, o, n, r in self._parts]
        return np.concatenate(loss), np.concatenate(sharp)


def metrics(loss_fn, consts, thetas: np.ndarray):
    """Loss and sharpness at every row of ``thetas`` (n, d), as float64 numpy arrays."""
    job = Metrics(loss_fn, consts)
    job.submit(np.asarray(thetas, dtype=np.float64))
    return job.result()
