"""One run of an optimizer from one start: ``simulate(...) -> Trajectory``.

Every discrete optimizer takes the one step of ``step.py`` — the gradient (or SGD's
sample), then the optimizer's ``update`` (``optimizers.py``) with its state — again and
again. The engine behind (``_engine/runner.py``) runs those steps in blocks: one jitted
program per (loss, optimizer rule, dim) steps a block and measures loss and exact sharpness
of its iterates (and the effective sharpness of a preconditioned rule), on every core at
once. η (per step), the start, the hyperparameters, the step offset and the number of steps
are traced values, so none of them ever recompiles. Gradient flow is solved by ``flow.py``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .checks import (check_defined_start, check_params, check_seed, check_steps, eta_per_step,
                     resolve_model, resolve_optimizer)
from ._engine.metrics import Metrics
from ._engine.runner import Run
from ._engine.twins import on_twin_plane, plane_twin
from ._types import Schedule
from .model import Model


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
    threshold: np.ndarray = None            # (n − 1,) what step k is held to: 2/η_k for
    #                     GD (the default), (2 + 2β)/η_k for momentum, 38/η_k for Adam (β₁ = 0.9)
    effective_sharpness: np.ndarray = None  # (n − 1,) the sharpness step k is held to:
    #                     λ_max(H(θ_k)) (the default), λ_max(P_{k+1}⁻¹ H(θ_k)) for RMSProp, Adam

    def __post_init__(self):
        if self.threshold is None:
            object.__setattr__(self, "threshold", 2.0 / self.eta)
        if self.effective_sharpness is None:
            object.__setattr__(self, "effective_sharpness", self.sharpness[:-1].copy())

    @property
    def steps(self) -> int:
        return len(self.loss) - 1


def _ode_solver(name: str):
    """The ODE solve of a continuous rule, imported on first use: the ODE stack (diffrax,
    equinox, optimistix, lineax) takes about a second to import and most runs never need it."""
    if name == "central_flow":
        from .central_flow import solve
    else:
        from .flow import solve
    return solve


def simulate(model, init, eta: Schedule, steps: int, optimizer="gd",
             seed: int = 0) -> Trajectory:
    """Run ``optimizer`` on ``model`` from ``init`` for ``steps`` steps.

    Args:
      model: a name from ``MODELS`` or a :class:`Model`.
      init: the start θ₀, ``len(init) == model.dim``.
      eta: η > 0, or a piecewise-constant schedule ``[(0, η0), (k1, η1), ...]``.
      steps: number of steps, 1 ≤ steps ≤ 10 000 000.
      optimizer: a name in ``OPTIMIZERS`` (``"gd"``, ``"normalized_gd"``, ``"sqrt_gd"``,
        ``"sgd"``, ``"momentum"``, ``"rmsprop"``, ``"adam"``, ``"flow"``, ``"central_flow"``),
        or an optimizer with its own hyperparameters, such as ``dynamics.adam(beta1=0.8)``.
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
    effective = None
    if opt.continuous:
        job = Metrics(model.loss_fn, model.consts)
        solve = _ode_solver(opt.name)
        thetas, dead_at = solve(model, theta, etas, job)
        loss, sharp = job.result()
    elif on_twin_plane(model, opt.name, theta):
        # GD from xyzw's symmetric plane stays on it: step the twin (eq. (2)) there, exactly
        # symmetric and as sweeps do, and measure loss and sharpness as xyzw.
        run = Run(plane_twin(model), opt, measured=model, lift=model.embed_fn)
        plane, loss, sharp, _, dead_at = run.blocks(model.project(theta), etas,
                                                    check_seed(seed))
        thetas = model.embed(plane)
    else:
        run = Run(model, opt)
        thetas, loss, sharp, effective, dead_at = run.blocks(theta, etas, check_seed(seed))
    n = len(loss)
    if effective is None:
        effective = sharp[:-1]
    # An overflowing loss or Hessian counts as divergence too: nothing non-finite leaves here.
    finite = np.isfinite(loss) & np.isfinite(sharp)
    finite[1:] &= np.isfinite(effective)   # the step from θ_k is only as good as θ_{k+1}
    if not finite[0]:
        raise ValueError(f"The loss or its Hessian overflows at the start {theta.tolist()}; "
                         "choose a start closer to the origin.")
    check_defined_start(model, opt.name, theta, float(loss[0]),
                        n < 2 or not np.array_equal(thetas[1], thetas[0]))
    if not finite.all():
        first = int(np.argmin(finite))
        dead_at = first if dead_at is None else min(dead_at, first)
        n = first
    time = np.concatenate([[0.0], np.cumsum(etas[: n - 1])])
    return Trajectory(params=thetas[:n], loss=loss[:n], sharpness=sharp[:n],
                      eta=etas[: n - 1].copy(), time=time, diverged_at=dead_at,
                      model=model, optimizer=opt.name,
                      threshold=np.asarray(opt.threshold(etas[: n - 1]), dtype=np.float64),
                      effective_sharpness=effective[: n - 1].copy())
