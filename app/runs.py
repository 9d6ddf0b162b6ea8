"""One run as the views need it: a frozen spec in, the trajectory and the words out.

``run`` never raises: a bad spec or a failing engine becomes a message for the UI.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import dynamics

from .verdict import classify


@dataclass(frozen=True)
class RunSpec:
    """A frozen snapshot of what to simulate (taken on the event loop, run anywhere)."""

    model: object
    optimizer: str
    schedule: tuple           # ((0, η0), (k1, η1)) — always a schedule, maybe of one piece
    init: tuple
    steps: int
    seed: int
    show_flow: bool

    @property
    def eta(self) -> float:
        return self.schedule[0][1]


@dataclass
class RunResult:
    """What the views draw: the run, the optional flow, the 2/η per step, and the words."""

    spec: RunSpec | None
    traj: object = None
    flow: object = None
    threshold: np.ndarray = field(default_factory=lambda: np.zeros(0))
    verdict: str = ""
    level: str = "info"       # info / success / warning / danger (the alert colour)
    message: str = ""         # non-empty: the run could not be made; say why
    kind: str = ""            # what the run did: a Verdict kind (app/verdict.py)
    period: int | None = None   # of the cycle the run ends in (kind "periodic")

    @property
    def ok(self) -> bool:
        return self.traj is not None


def run(spec: RunSpec | str) -> RunResult:
    """Simulate ``spec`` (and its gradient flow when asked); never raises."""
    if isinstance(spec, str):
        return RunResult(None, message=spec, level="danger")
    sched = [list(piece) for piece in spec.schedule]
    try:
        traj = dynamics.simulate(spec.model, spec.init, sched if len(sched) > 1 else spec.eta,
                                 spec.steps, optimizer=spec.optimizer, seed=spec.seed)
        flow = None
        if spec.show_flow and spec.optimizer != "flow":
            flow = dynamics.simulate(spec.model, spec.init, sched if len(sched) > 1 else spec.eta,
                                     spec.steps, optimizer="flow")
    except ValueError as err:
        return RunResult(spec, message=str(err), level="danger")
    except Exception as err:  # the engine failed: say so, keep serving
        return RunResult(spec, message=f"The simulation failed: {type(err).__name__}: {err}",
                         level="danger")
    etas = step_sizes(spec.schedule, len(traj.loss))
    v = classify(traj, etas, spec.optimizer)
    return RunResult(spec, traj, flow, 2.0 / etas, v.sentence, v.level,
                     kind=v.kind, period=v.period)


def step_sizes(schedule, n: int) -> np.ndarray:
    """η in force at each of the n iterates (the last piece carries on)."""
    etas = np.empty(n)
    for k, eta in schedule:
        etas[int(k):] = eta
    return etas
