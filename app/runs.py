"""One run as the views need it: a frozen spec in, the trajectory and the words out.

``run`` never raises: a bad spec or a failing engine becomes a message for the UI.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import dynamics

from . import run_store
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
    hyper: tuple = ()         # the optimizer's hyperparameters, in its factory's order
    show_central_flow: bool = False

    @property
    def eta(self) -> float:
        return self.schedule[0][1]

    def optimizer_object(self):
        """The engine's Optimizer with these hyperparameters (ValueError if they are bad)."""
        factory = FACTORIES.get(self.optimizer)
        if factory is None or not self.hyper:
            return dynamics.OPTIMIZERS[self.optimizer]
        return factory(*self.hyper)


# the rules with hyperparameters: name -> factory(*hyper), see dynamics/optimizers.py
FACTORIES = {"momentum": dynamics.momentum, "rmsprop": dynamics.rmsprop, "adam": dynamics.adam}


@dataclass
class RunResult:
    """What the views draw: the run, the optional flows, its threshold per iterate, the words.

    ``threshold[k]`` is what step k is held to (``traj.threshold``: 2/η for GD, (2 + 2β)/η
    for momentum, …), the last value repeated for the last iterate.
    """

    spec: RunSpec | None
    traj: object = None
    flow: object = None
    threshold: np.ndarray = field(default_factory=lambda: np.zeros(0))
    verdict: str = ""
    level: str = "info"       # info / success / warning / danger (the alert colour)
    message: str = ""         # non-empty: the run could not be made; say why
    kind: str = ""            # what the run did: a Verdict kind (app/verdict.py)
    period: int | None = None   # of the cycle the run ends in (kind "periodic")
    central_flow: object = None   # the central flow's Trajectory, when asked for

    @property
    def ok(self) -> bool:
        return self.traj is not None


def run(spec: RunSpec | str) -> RunResult:
    """Simulate ``spec`` (and its gradient flow, its central flow when asked); never raises."""
    if isinstance(spec, str):
        return RunResult(None, message=spec, level="danger")
    sched = [list(piece) for piece in spec.schedule]
    eta = sched if len(sched) > 1 else spec.eta
    try:
        opt = spec.optimizer_object()
        traj = run_store.load(spec)   # the first page's run, kept from an earlier start
        if traj is None:
            traj = dynamics.simulate(spec.model, spec.init, eta, spec.steps, optimizer=opt,
                                     seed=spec.seed)
            run_store.save(spec, traj)
        flow = central = None
        if spec.show_flow and spec.optimizer != "flow":
            flow = dynamics.simulate(spec.model, spec.init, eta, spec.steps, optimizer="flow")
        if spec.show_central_flow and spec.optimizer != "central_flow":
            central = dynamics.simulate(spec.model, spec.init, eta, spec.steps,
                                        optimizer="central_flow")
    except ValueError as err:
        return RunResult(spec, message=str(err), level="danger")
    except Exception as err:  # the engine failed: say so, keep serving
        return RunResult(spec, message=f"The simulation failed: {type(err).__name__}: {err}",
                         level="danger")
    etas = step_sizes(spec.schedule, len(traj.loss))
    v = classify(traj, etas, spec.optimizer)
    return RunResult(spec, traj, flow, per_iterate(traj.threshold, opt.threshold(etas[:1])),
                     v.sentence, v.level, kind=v.kind, period=v.period, central_flow=central)


def per_iterate(per_step, first) -> np.ndarray:
    """A (n − 1,) per-step column as (n,) per iterate: the last step's value carries on.

    A run that stopped at θ₀ (n = 1) has no step: its one value is ``first``.
    """
    per_step = np.asarray(per_step, dtype=np.float64)
    if not len(per_step):
        return np.asarray(first, dtype=np.float64).reshape(1)
    return np.append(per_step, per_step[-1])


def step_sizes(schedule, n: int) -> np.ndarray:
    """η in force at each of the n iterates (the last piece carries on)."""
    etas = np.empty(n)
    for k, eta in schedule:
        etas[int(k):] = eta
    return etas
