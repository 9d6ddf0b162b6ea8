"""One run of an optimizer from one start: ``simulate(...) -> Trajectory``.

The steps run in blocks (``runner.py``): one jitted program per (loss, optimizer, dim)
steps a block and measures loss and exact sharpness of its iterates, on every core at
once. η (per step), the start, the step offset and the number of steps are traced values,
so a new η, start, schedule or length never recompiles. Gradient flow is solved by
``flow.py`` and measured by ``metrics.py``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import central_flow as _central_flow
from . import flow as _flow
from .checks import (check_params, check_seed, check_steps, eta_per_step, resolve_model,
                     resolve_optimizer)
from ._types import Schedule
from .metrics import Metrics
from .model import Model
from .runner import Run


@dataclass(frozen=True)
class Trajectory:
    """A run θ₀, θ₁, …, θ_{n−1}; every array is float64 and finite.

    ``n == steps + 1`` unless the run diverged: then ``diverged_at = k`` is the first
    iterate that was non-finite or had max|θ_k| > 1e6, and the arrays stop at θ_{k−1}.
    """

    params: np.ndarray        # (n, dim)
    loss: np.ndarray          # (n,)  L(θ_k)
    sharpness: np.ndarray     # (n,)  λ_max(∇²L(θ_k))
    eta: np.ndarray           # (n − 1,) step size of step k → k + 1
    time: np.ndarray          # (n,) Σ η, time[0] == 0
    diverged_at: int | None
    model: Model
    optimizer: str

    @property
    def threshold(self) -> np.ndarray:
        """2/η of each step (n − 1,): the stability threshold the sharpness is held to."""
        return 2.0 / self.eta

    @property
    def steps(self) -> int:
        return len(self.loss) - 1


def simulate(model, init, eta: Schedule, steps: int, optimizer: str = "gd",
             seed: int = 0) -> Trajectory:
    """Run ``optimizer`` on ``model`` from ``init`` for ``steps`` steps.

    Args:
      model: a name from ``MODELS`` or a :class:`Model`.
      init: the start θ₀, ``len(init) == model.dim``.
      eta: η > 0, or a piecewise-constant schedule ``[(0, η0), (k1, η1), ...]``.
      steps: number of steps, 1 ≤ steps ≤ 10 000 000.
      optimizer: ``"gd"``, ``"normalized_gd"``, ``"sqrt_gd"``, ``"sgd"``, ``"flow"`` or
        ``"central_flow"``.
      seed: SGD's random seed (which sample each step uses); ignored otherwise.

    Returns:
      A :class:`Trajectory`. Divergence is a result (``diverged_at``), never an error.

    Raises:
      ValueError: for a bad argument, with a sentence that says what to change.
    """
    model = resolve_model(model)
    opt = resolve_optimizer(model, optimizer)
    theta = check_params(model, init)
    steps = check_steps(steps)
    etas = eta_per_step(eta, steps)
    if opt.continuous:
        job = Metrics(model.loss_fn, model.consts)
        solve = _central_flow.solve if opt.name == "central_flow" else _flow.solve
        thetas, dead_at = solve(model, theta, etas, job)
        loss, sharp = job.result()
    elif on_twin_plane(model, opt.name, theta):
        # GD from xyzw's symmetric plane stays on it: step the twin (eq. (2)) there, exactly
        # symmetric and as sweeps do, and measure loss and sharpness as xyzw.
        twin = resolve_model(model.plane_twin)
        run = Run(twin, opt.name, measured=model, lift=model.embed_fn)
        plane, loss, sharp, dead_at = run.blocks(model.project(theta), etas, check_seed(seed),
                                                 opt.stochastic)
        thetas = model.embed(plane)
    else:
        run = Run(model, opt.name)
        thetas, loss, sharp, dead_at = run.blocks(theta, etas, check_seed(seed),
                                                  opt.stochastic)
    n = len(loss)
    # An overflowing loss or Hessian counts as divergence too: nothing non-finite leaves here.
    finite = np.isfinite(loss) & np.isfinite(sharp)
    if not finite[0]:
        raise ValueError(f"The loss or its Hessian overflows at the start {theta.tolist()}; "
                         "choose a start closer to the origin.")
    if not finite.all():
        first = int(np.argmin(finite))
        dead_at = first if dead_at is None else min(dead_at, first)
        n = first
    time = np.concatenate([[0.0], np.cumsum(etas[: n - 1])])
    return Trajectory(params=thetas[:n], loss=loss[:n], sharpness=sharp[:n],
                      eta=etas[: n - 1].copy(), time=time, diverged_at=dead_at,
                      model=model, optimizer=opt.name)


def on_twin_plane(model: Model, optimizer: str, starts: np.ndarray) -> bool:
    """GD from starts (..., dim) that all lie on the plane of a model with a plane twin:
    the twin's GD is then this model's, exactly (not normalized GD or GD on √L, whose
    gradient norm and loss scale differ)."""
    return (model.plane_twin is not None and optimizer == "gd"
            and np.array_equal(model.embed(model.project(starts)), starts))
