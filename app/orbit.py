"""What the end of a run does, read from its arrays (pure numpy): settled, a p-cycle, a
steady drift, growth, or none of these.

Every test looks at the *tail* of the run and compares distances with the run's own size,
so one set of tolerances serves objectives of any scale:

* settled: the last ``SETTLE`` iterates (a quarter of a short run) lie within
  ``SETTLE_RTOL`` · extent of the last one, extent = max ‖θ_k − θ_{n−1}‖ over the run.
* period p: each iterate of the last max(4p, min(32, n/4)) lies within
  ``CYCLE_RTOL`` · spread of the iterate of the same phase in the final p,
  ‖θ_k − θ_{n−p+((k−n) mod p)}‖ ≤ rtol · spread, or the tail contracts onto such a cycle.
  Comparing with the *final* period (not the previous one) adds a slow drift up, so a
  drifting orbit is not called periodic.
* drift: over the tail the sharpness falls block by block by at least ``DRIFT_MIN`` and
  the steps keep turning back (across a valley), while the oscillation amplitude²
  a² ≈ 2L/S (exact on a quadratic valley, L = ½ S a²) does not die out: the iterate moves
  along a valley instead of settling into it.
* growing: the loss at the end is ten times every loss before the last fifth of the run,
  or its top rises quarter by quarter over the last half.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_PERIOD = 40       # longest cycle looked for (GD on √L on xyzw's default: 33)
SETTLE = 16           # iterates that must have stopped moving
SETTLE_RTOL = 1e-3    # ... relative to the run's extent
CYCLE_RTOL = 1e-2     # a cycle repeats to 1 % of the tail's spread
ATOL = 1e-12          # absolute floor of every distance test (θ of order one)
DRIFT_MIN = 0.01      # the sharpness must fall by 1 % over the tail to count as a drift


@dataclass(frozen=True)
class Cycle:
    """A p-cycle at the end of a run: its points (p, dim) in order and its amplitude,
    half the largest distance between two of them."""

    period: int
    points: np.ndarray
    amplitude: float


def extent(params: np.ndarray) -> float:
    """max_k ‖θ_k − θ_{n−1}‖: how far the run ever was from where it ends."""
    return float(np.max(np.linalg.norm(params - params[-1], axis=1))) if len(params) else 0.0


def settled(params: np.ndarray) -> bool:
    """The last SETTLE iterates (a quarter of a shorter run) sit on the last one, to
    SETTLE_RTOL · extent."""
    params = np.asarray(params, dtype=float)
    if len(params) < 2:
        return False
    tail = params[-min(SETTLE, max(2, len(params) // 4)):]
    motion = float(np.max(np.linalg.norm(tail - tail[-1], axis=1)))
    return motion <= SETTLE_RTOL * extent(params) + ATOL * _scale(params)


def find_cycle(params: np.ndarray, max_period: int = MAX_PERIOD) -> Cycle | None:
    """The smallest period 2 ≤ p ≤ max_period the tail repeats with (or is contracting
    onto), else None.

    A period needs at least three repetitions inside the run (n ≥ 3p), a tail that moves
    (a settled run has no cycle; see :func:`settled`), and final p points that span at
    least half the tail (an oscillation dying out towards one point is no cycle). The tail
    repeats if every iterate lies within CYCLE_RTOL · spread of the final period's iterate
    of the same phase; it contracts onto the cycle if its last p returns ‖θ_k − θ_{k−p}‖
    are that small and at most half its first p.
    """
    params = np.asarray(params, dtype=float)
    n = len(params)
    if n < 6:
        return None
    # A cheap screen first: every test below needs ‖θ_{n−1} − θ_{n−1−p}‖ ≤ rtol · spread,
    # and no window's spread exceeds twice the largest window's (spread ≤ 2 · diameter).
    widest = params[-min(n, max(4 * max_period, 32)):]
    bound = 4.0 * float(np.max(np.linalg.norm(widest - widest.mean(axis=0), axis=1)))
    lags = np.arange(2, min(max_period, n // 3) + 1)
    last_return = np.linalg.norm(params[-1] - params[-1 - lags], axis=1)
    for p in lags[last_return <= CYCLE_RTOL * bound]:
        p = int(p)
        window = params[-min(n, max(4 * p, min(32, n // 4))):]
        spread = 2.0 * float(np.max(np.linalg.norm(window - window.mean(axis=0), axis=1)))
        if spread <= ATOL * _scale(params):
            return None
        final = window[-p:]
        gaps = np.linalg.norm(final[:, None, :] - final[None, :, :], axis=-1)
        if gaps.max() < 0.5 * spread:
            continue
        phase = (np.arange(len(window)) - len(window)) % p
        error = float(np.max(np.linalg.norm(window - final[phase], axis=1)))
        returns = np.linalg.norm(window[p:] - window[:-p], axis=1)
        last, first = float(returns[-p:].max()), float(returns[:p].max())
        contracting = last <= CYCLE_RTOL * spread and last <= 0.5 * first
        if error <= CYCLE_RTOL * spread or contracting:
            return Cycle(p, final.copy(), 0.5 * float(gaps.max()))
    return None


def drifting(params: np.ndarray, loss: np.ndarray, sharpness: np.ndarray) -> bool:
    """Sharpness falling steadily over the tail while the oscillation does not die out.

    The tail (the last half, at least 8 iterates) is cut into four blocks; the block means
    of the sharpness must fall at every block, by DRIFT_MIN in all; at least half of the
    steps must turn back against the one before (it oscillates across the valley, unlike a
    descent into it); and the largest 2L/S of the last block must be at least a tenth of
    the first block's.
    """
    params = np.asarray(params, dtype=float).reshape(len(loss), -1)
    loss = np.asarray(loss, dtype=float)
    sharpness = np.asarray(sharpness, dtype=float)
    n = len(loss)
    if n < 9:
        return False
    m = max(8, n // 2)
    m -= m % 4
    blocks_s = sharpness[-m:].reshape(4, -1)
    ratio = (2.0 * loss[-m:] / np.maximum(np.abs(sharpness[-m:]), 1e-300)).reshape(4, -1)
    means = blocks_s.mean(axis=1)
    falling = bool(np.all(np.diff(means) < 0)) and means[-1] <= (1 - DRIFT_MIN) * means[0]
    steps = np.diff(params[-m - 1:], axis=0)
    oscillating = float(np.mean(np.sum(steps[1:] * steps[:-1], axis=1) < 0)) >= 0.5
    alive = ratio[-1].max() >= 0.1 * ratio[0].max() and ratio[-1].max() > 0
    return falling and oscillating and bool(alive)


def growing(loss: np.ndarray) -> bool:
    """The loss runs away: at the end it exceeds ten times every loss before the last fifth
    of the run, or (16 iterates or more) the tops of the four quarters of the last half
    each exceed the one before, the last at least twice the first."""
    loss = np.asarray(loss, dtype=float)
    n = len(loss)
    if n < 5:
        return n >= 2 and loss[-1] > 10 * max(float(np.max(loss[:-1])), 1e-300)
    head = loss[: n - max(1, n // 5)]
    if loss[-1] > 10 * max(float(np.max(head)), 1e-300):
        return True
    if n < 16:
        return False
    m = (n // 2) // 4 * 4
    tops = loss[-m:].reshape(4, -1).max(axis=1)
    return bool(np.all(np.diff(tops) > 0)) and tops[-1] >= 2 * tops[0]


def still_falling(loss: np.ndarray) -> bool:
    """The loss is still on its way down: over the last half of the run it rises at fewer
    than a tenth of the steps (a descent), or over its last quarter the median is below half
    the quarter before's and the top below that quarter's top (a non-monotone fall). Runs
    shorter than 8 iterates count as still falling."""
    loss = np.asarray(loss, dtype=float)
    n = len(loss)
    if n < 8:
        return True
    half = loss[-(n // 2):]
    q = n // 4
    descent = float(np.mean(np.diff(half) > 0)) < 0.1
    last, before = loss[-q:], loss[-2 * q: -q]
    shrinking = (float(np.median(last)) < 0.5 * float(np.median(before))
                 and float(np.max(last)) < float(np.max(before)))
    return descent or shrinking


def _scale(params: np.ndarray) -> float:
    return max(1.0, float(np.max(np.abs(params))))
