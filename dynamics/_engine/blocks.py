"""One block of cells run to the end on one device, round by round (the driver of sweeps).

The block's state lives on its device for the whole run (``cells.py``). A round steps the
cells still running, padded to a bucket size (2^k or 3·2^(k−1)) so that few shapes are
ever compiled; the host only sends which cells those are and gets back, per cell, whether
it stopped. Rounds double in length, so a block takes about log₂(steps) of them.
"""
from __future__ import annotations

import jax
import numpy as np

from .._config import on_device
from .cells import CAPACITY, CHECK_EVERY, exact_runner, fast_runner
from .packing import StateLayout

MIN_BUCKET = 16       # the smallest bucket of running cells (see _bucket)
FIRST_ROUND = 32      # steps in the first round; each next round doubles


def _bucket(n: int) -> int:
    """The smallest 2^k or 3·2^(k−1) ≥ n (and ≥ MIN_BUCKET): at most a third is padding."""
    n = max(MIN_BUCKET, int(n))
    power = 1 << (n - 1).bit_length()
    return 3 * power // 4 if 3 * power // 4 >= n else power


class Block:
    """Up to CAPACITY cells (θ (dim, b), η (b,)) on one device, run until every cell stops.

    After ``run``: ``theta`` (dim, b), ``steps_run`` (b,) and ``diverged`` (b,) on the host.
    """

    def __init__(self, model, opt, theta, etas, tol, seed, device):
        dim, b = theta.shape
        if b > CAPACITY:
            raise ValueError(f"A block holds at most {CAPACITY} cells; got {b}.")
        layout = StateLayout.of(opt, dim)
        self.fast = fast_runner(model.loss_fn, model.components_fn, opt.rule, layout)
        self.exact = exact_runner(model.loss_fn, model.components_fn, opt.rule, layout)
        self.consts = on_device(tuple(model.consts), device)
        self.device, self.seed = device, np.uint32(seed)
        self.stochastic = opt.stochastic
        self.dim, self.size, self.rows = dim, b, dim + layout.size
        state = np.zeros((self.rows + 3, CAPACITY + 1))
        state[:dim, :b] = theta
        if layout.size:
            state[dim:self.rows, :b] = layout.flatten_cells(jax.vmap(opt.init)(theta.T))
        state[self.rows, :b] = etas
        # SGD never stops early: a quiet step says nothing about the next sample's; nor
        # does a rule with state (a quiet step of θ says nothing about its velocity).
        state[self.rows + 1, :b] = -1.0 if self.stochastic or layout.size else tol
        self.state = jax.device_put(state, device)
        self.diverged = np.zeros(b, bool)
        self.theta = self.steps_run = None

    def _call(self, runner, cells, k, count):
        """Run ``count`` steps (exact) or groups (fast) of ``cells`` from step k: (stopped, flag)."""
        idx = np.full(_bucket(cells.size), CAPACITY, np.int32)
        idx[:cells.size] = cells
        self.state, status = runner(self.state, idx, np.int32(cells.size), self.consts,
                                    np.int32(k), np.int32(count), self.seed)
        status = np.asarray(status)[:cells.size]
        # (flag: the fast path's "left the bound" or the exact path's "diverged")
        return (status & 1) > 0, (status & 2) > 0

    def run(self, steps: int):
        active = np.arange(self.size)
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
        host = np.array(self.state)
        self.theta = host[:self.dim, :self.size]
        self.steps_run = host[self.rows + 2, :self.size].astype(np.int64)
        return self

    def _replay(self, cells):
        """Step flagged cells through their group again to find where they diverged."""
        if not cells.size:
            return
        # Only SGD's steps depend on the step number (Adam's count is in its state); other
        # rules replay all cells at once.
        if self.stochastic:
            starts = np.asarray(self.state)[self.rows + 2, cells].astype(np.int64)
        else:
            starts = np.zeros(cells.size, int)
        for start in np.unique(starts):
            self._trace(cells[starts == start], int(start), CHECK_EVERY)

    def _trace(self, cells, k: int, count: int):
        """Take up to ``count`` steps of ``cells``, checking every step (the exact path)."""
        _, diverged = self._call(self.exact, cells, k, count)
        self.diverged[cells] |= diverged
