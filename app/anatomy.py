"""One run with its two flows, for the views that take a run apart (oscillation, distance).

``anatomy(spec)`` simulates the run of the state's spec, gradient flow and GD's central flow
(Cohen, Damian et al. 2024) from the same start at the same times Σ η, and cuts all three to
the iterates they share. The flows are ODE solves (seconds), so the result is cached per
server, keyed by the numbers that define it: every session asking for the same run gets the
same immutable arrays, and the oscillation and distance views of one session share one solve.
It never raises: a failure is a message for the UI.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

import dynamics

from .runs import RunSpec

CACHE_SIZE = 16   # runs kept per server (a few MB at most: 20 000 steps × 4 parameters × 3)


@dataclass(frozen=True)
class Anatomy:
    """The run θ_k, gradient flow θ_GF(t_k) and GD's central flow θ_CF(t_k), k < n.

    Every array has the same n rows (the shortest of the three, so a run or a flow that
    stopped early cuts the others there); ``time[k] = Σ_{j<k} η_j`` for all three.
    ``central`` is None when it could not be solved (``central_message`` says why).
    """

    ok = True   # (a class attribute, not a field: see Failed)

    spec: RunSpec
    traj: object                 # the run's Trajectory (full length)
    flow: object                 # gradient flow's Trajectory
    central: object | None       # the central flow's Trajectory, or None
    central_message: str = ""
    n: int = 0                   # iterates every array below shares

    @property
    def params(self) -> np.ndarray:
        return self.traj.params[:self.n]

    @property
    def time(self) -> np.ndarray:
        return self.traj.time[:self.n]

    @property
    def gd(self) -> bool:
        """True when the run is GD itself, so the central flow is its own."""
        return self.spec.optimizer == "gd"


@dataclass(frozen=True)
class Failed:
    """No run to take apart: ``message`` says why."""

    ok = False

    spec: object
    message: str


def key(spec: RunSpec) -> tuple:
    """What a cached run is known by: the model by its name and numbers, not its identity."""
    m = spec.model
    return (m.name, m.dim, tuple(m.consts), spec.optimizer, spec.schedule, spec.init,
            spec.steps, spec.seed, spec.hyper)


def anatomy(spec: RunSpec | str):
    """The :class:`Anatomy` of ``spec`` (cached per server), or :class:`Failed` with a sentence."""
    if isinstance(spec, str):
        return Failed(None, spec)
    k = key(spec)
    with _lock:
        if k in _cache:
            _cache.move_to_end(k)
            return _cache[k]
        solving = _solving.setdefault(k, threading.Lock())
    with solving:   # two views (or sessions) asking at once: one solve, the other waits
        with _lock:
            if k in _cache:
                return _cache[k]
        result = _solve(spec)
        with _lock:
            _cache[k] = result
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
            _solving.pop(k, None)
    return result


_lock = threading.Lock()
_cache: OrderedDict = OrderedDict()
_solving: dict = {}


def _solve(spec: RunSpec):
    sched = [list(piece) for piece in spec.schedule]
    eta = sched if len(sched) > 1 else spec.eta
    try:
        traj = dynamics.simulate(spec.model, spec.init, eta, spec.steps,
                                 optimizer=spec.optimizer_object(), seed=spec.seed)
        flow = dynamics.simulate(spec.model, spec.init, eta, spec.steps, optimizer="flow")
    except ValueError as err:
        return Failed(spec, str(err))
    except Exception as err:   # the engine failed: say so, keep serving
        return Failed(spec, f"The simulation failed: {type(err).__name__}: {err}")
    central, note = None, ""
    try:
        central = dynamics.simulate(spec.model, spec.init, eta, spec.steps,
                                    optimizer="central_flow")
    except Exception as err:
        note = f"The central flow could not be solved here ({type(err).__name__})."
    n = min(len(traj.loss), len(flow.loss), len(central.loss) if central else len(flow.loss))
    for other in (flow, central):   # the same times, or the comparison means nothing
        if other is not None and not np.allclose(other.time[:n], traj.time[:n],
                                                 rtol=1e-12, atol=1e-12):
            return Failed(spec, "The flows were not reported at the run's times.")
    return Anatomy(spec, traj, flow, central, note, n)
