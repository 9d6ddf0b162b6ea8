"""The bifurcation diagram: one start, many step sizes, the last iterates of every run.

For each η in ``etas`` the optimizer runs ``steps`` steps from the same θ₀ (the step of
``step.py``, vmapped over η; ``_tails.py``) and keeps its last K = ``keep`` iterates
θ_{n−K+1}, …, θ_n, with their loss, sharpness S = λ_max(∇²L) and effective sharpness
(λ_max(P⁻¹H) for RMSProp and Adam, else S). What the tail does classifies the run:

  diverged   some θ_k was non-finite or had max|θ_k| > 1e6 (``checks.DIVERGENCE_BOUND``);
             ``diverged_at`` is that k (as ``Trajectory.diverged_at``), the tail the last
             finite iterates before it;
  converged  the tail is one point: max_k ‖θ_{k+1} − θ_k‖_∞ ≤ tol · max(1, max‖θ‖_∞);
  period p   the smallest p ≤ K/2 with max_k ‖θ_{k+p} − θ_k‖_∞ ≤ tol · scale over the tail
             (p = 1: converged) and, for p ≥ 2, points that are really apart
             (max_k ‖θ_{k+1} − θ_k‖_∞ > √tol · scale: a run still spiralling slowly into
             a fixed point is no cycle); 0: none found (chaos, a longer cycle, or a run still
             settling).

On a quadratic ½Σλᵢθᵢ², GD is θᵢ ← (1 − ηλᵢ)θᵢ: it converges iff η < 2/λ_max and diverges
for η > 2/λ_max; it never cycles (a 2-cycle needs 1 − ηλ = −1 exactly). On a loss with a
manifold of minima (x2y2, xyzw) GD converges to a minimum with S < 2/η while one is in
reach; past that, the fixed points lose stability and period doubling begins.

One compiled program per (model, optimizer rule, keep): η, θ₀, ``steps``, the seed and the
hyperparameters are traced values, and any number of step sizes runs in chunks of one
shape, so a new range, count or length never compiles.
"""
from __future__ import annotations

import math
import numbers
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import jax
import numpy as np

from ._config import devices, on_device
from ._engine.packing import StateLayout
from ._engine.twins import on_twin_plane, plane_twin
from ._tails import CHUNK, tail_runner
from .checks import check_eta, check_params, check_seed, check_steps, resolve_model, \
    resolve_optimizer
from .model import Model

MAX_KEEP = 512
MAX_ETAS = 4096
_COMPILED = set()   # (runner, device) pairs that have run once


@dataclass(frozen=True)
class Bifurcation:
    """Tails of runs from one start, one run per step size; E = len(etas), K = keep."""

    etas: np.ndarray                      # (E,) ascending as given
    tail_params: np.ndarray               # (E, K, dim) θ_{n−K+1} … θ_n (NaN rows: none)
    tail_loss: np.ndarray                 # (E, K)
    tail_sharpness: np.ndarray            # (E, K) λ_max(∇²L) of the tail
    tail_effective_sharpness: np.ndarray  # (E, K) λ_max(P⁻¹H) (RMSProp, Adam), else S
    threshold: np.ndarray                 # (E,) what the rule holds S to: 2/η for GD
    diverged: np.ndarray                  # (E,) bool
    diverged_at: np.ndarray               # (E,) int: first bad iterate k ≥ 1, 0 if none
    converged: np.ndarray                 # (E,) bool: the tail is one point
    period: np.ndarray                    # (E,) int: 1 converged, p a p-cycle, 0 none
    steps: int
    model: Model
    optimizer: str

    def first_eta_with_period(self, p: int) -> float | None:
        """The smallest η of the sweep whose run ends on a p-cycle (None if none does)."""
        hits = np.flatnonzero(self.period == p)
        return None if hits.size == 0 else float(np.min(self.etas[hits]))


def check_etas(etas) -> np.ndarray:
    """A non-empty float64 vector of positive, finite step sizes."""
    if isinstance(etas, (str, bytes)):
        raise ValueError(f"The step sizes must be a list of positive numbers; got {etas!r}.")
    try:
        values = np.asarray(etas, dtype=object).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(f"The step sizes must be a list of positive numbers; got {etas!r}.")
    if values.size == 0:
        raise ValueError("The bifurcation diagram needs at least one step size η.")
    if values.size > MAX_ETAS:
        raise ValueError(f"{values.size} step sizes is too many; the limit is {MAX_ETAS}.")
    return np.asarray([check_eta(e) for e in values], dtype=np.float64)


def check_keep(keep, steps: int) -> int:
    if isinstance(keep, bool) or not isinstance(keep, numbers.Integral) or keep < 2:
        raise ValueError(f"keep (the last iterates kept per run) must be a whole number "
                         f"≥ 2; got {keep!r}.")
    if keep > MAX_KEEP:
        raise ValueError(f"keep = {keep} is too many; the limit is {MAX_KEEP}.")
    if keep > steps + 1:
        raise ValueError(f"A run of {steps} steps has {steps + 1} iterates, fewer than "
                         f"keep = {keep}: run more steps or keep fewer.")
    return int(keep)


def bifurcation(model, init, etas, steps: int, keep: int = 64, optimizer="gd",
                seed: int = 0, tol: float = 1e-9) -> Bifurcation:
    """Run ``optimizer`` from ``init`` for ``steps`` steps at every η in ``etas``.

    Args:
      model: a name from ``MODELS`` or a :class:`Model`.
      init: the start θ₀ shared by every run.
      etas: the step sizes (positive, finite; at most 4096).
      steps: steps per run (1 … 10 000 000).
      keep: how many last iterates each run keeps, 2 ≤ keep ≤ min(512, steps + 1).
      optimizer: a discrete rule (a name in ``OPTIMIZERS`` or ``dynamics.momentum(β)``…).
      seed: SGD's seed (every run draws the samples ``simulate(seed)`` draws).
      tol: the relative tolerance of "the same point" (see the module).

    Returns:
      A :class:`Bifurcation`; run i equals ``simulate(model, init, etas[i], steps, ...)``'s
      last ``keep`` iterates.
    """
    model = resolve_model(model)
    opt = resolve_optimizer(model, optimizer)
    if opt.continuous:
        raise ValueError(f"The bifurcation diagram runs update rules with a step size; "
                         f"{opt.name!r} is a flow. Choose 'gd' or another discrete rule.")
    theta = check_params(model, init)
    steps = check_steps(steps)
    etas = check_etas(etas)
    keep = check_keep(keep, steps)
    seed = check_seed(seed)
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not 0 < tol < 1:
        raise ValueError(f"tol must be a number between 0 and 1; got {tol!r}.")
    stepped, lift = model, None
    if on_twin_plane(model, opt.name, theta[None]):   # GD on xyzw's plane: step x2y2
        stepped, lift = plane_twin(model), model.embed_fn
    start = stepped.project(theta) if lift is not None else theta
    layout = StateLayout.of(opt, stepped.dim)
    runner = tail_runner(stepped.loss_fn, stepped.components_fn, opt.rule, layout, keep,
                         model.loss_fn, lift)
    state0 = layout.flatten(opt.init(jax.numpy.asarray(start)))
    chunks = [etas[i:i + CHUNK] for i in range(0, len(etas), CHUNK)]
    devs = devices()

    def run_chunk(j):
        if j >= len(chunks):   # a device with no chunk compiles now, not when a longer
            part, dev, n = etas[:1], devs[j], 0   # sweep first reaches it (0 steps)
            if (runner, dev) in _COMPILED:
                return None
        else:
            part, dev, n = chunks[j], devs[j % len(devs)], steps
        padded = np.concatenate([part, np.full(CHUNK - len(part), part[-1])])
        put = lambda a: jax.device_put(np.ascontiguousarray(a), dev)
        out = runner(put(np.repeat(start[None], CHUNK, 0)),
                     put(np.repeat(state0[None], CHUNK, 0).reshape(CHUNK, layout.size)),
                     put(padded), np.int32(n), on_device(tuple(stepped.consts), dev),
                     on_device(tuple(model.consts), dev), np.uint32(seed))
        _COMPILED.add((runner, dev))
        return [np.asarray(a)[:len(part)] for a in out]

    with ThreadPoolExecutor(max_workers=len(devs)) as pool:
        parts = list(pool.map(run_chunk, range(max(len(chunks), len(devs)))))[:len(chunks)]
    tail, loss, sharp, effective, taken, diverged = (np.concatenate(a) for a in zip(*parts))
    if lift is not None:
        tail = model.embed(tail)
    # an overflowing loss or Hessian in the tail counts as divergence too (as in simulate)
    overflow = ~np.isnan(tail[..., 0]) & ~(np.isfinite(loss) & np.isfinite(sharp))
    diverged = diverged.astype(bool) | overflow.any(axis=1)
    diverged_at = np.where(taken < steps, taken + 1, 0)
    diverged_at = np.where(overflow.any(axis=1) & (diverged_at == 0), steps, diverged_at)
    period = np.where(diverged, 0, tail_period(tail, keep // 2, tol))
    return Bifurcation(etas=etas, tail_params=tail, tail_loss=loss, tail_sharpness=sharp,
                       tail_effective_sharpness=effective,
                       threshold=np.asarray(opt.threshold(etas), dtype=np.float64),
                       diverged=diverged, diverged_at=diverged_at.astype(np.int64),
                       converged=period == 1, period=period.astype(np.int64), steps=steps,
                       model=model, optimizer=opt.name)


def tail_period(tail: np.ndarray, max_period: int, tol: float) -> np.ndarray:
    """(E,) the smallest p ≤ max_period with θ_{k+p} ≈ θ_k over each tail (E, K, dim),
    relative to max(1, max‖θ‖_∞); 0 if none (see the module for the rule)."""
    scale = np.maximum(1.0, np.nanmax(np.abs(tail), axis=(1, 2)))
    spread = lambda p: np.max(np.abs(tail[:, p:] - tail[:, :-p]), axis=(1, 2))
    apart = spread(1) > math.sqrt(tol) * scale
    period = np.zeros(len(tail), dtype=np.int64)
    with np.errstate(invalid="ignore"):
        for p in range(1, max_period + 1):
            hit = (period == 0) & (spread(p) <= tol * scale) & ((p == 1) | apart)
            period[hit] = p
    return period
