"""One run of an optimizer from one start: ``simulate(...) -> Trajectory``.

The steps run in blocks of up to ``STEP_BLOCK`` through one jitted ``while_loop`` per
(loss, optimizer, dim): η (per step), the start, the step offset and the number of steps
are traced values, so a new η, start, schedule or length never recompiles. Loss and
sharpness of the iterates are then computed vectorized, on every core (``metrics.py``).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from . import flow as _flow
from .checks import (DIVERGENCE_BOUND, check_params, check_seed, check_steps,
                     eta_per_step,
                     resolve_model, resolve_optimizer)
from ._types import Schedule
from .model import Model
from ._config import devices
from .metrics import STAGE, Metrics

STEP_BLOCK = STAGE - 1  # steps per call of the compiled step runner



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


def is_bad(theta):
    """θ is non-finite or max|θ| > 1e6 (along axis 0, so it also works on (dim, cells)).

    Written as one comparison per coordinate (NaN compares false) rather than a reduction:
    XLA on the CPU runs reductions inside a loop as separate kernels, 10× slower here.
    """
    if theta.shape[0] > 16:
        return ~jnp.all(jnp.abs(theta) <= DIVERGENCE_BOUND, axis=0)
    ok = functools.reduce(jnp.logical_and,
                          [jnp.abs(theta[i]) <= DIVERGENCE_BOUND for i in range(theta.shape[0])])
    return ~ok


PIECES = 16  # constant-η pieces a block's plan holds; a block with more takes η per step


@functools.lru_cache(maxsize=None)
def step_runner(loss_fn, components_fn, optimizer: str):
    """Compiled: up to STEP_BLOCK steps for one (loss, optimizer); shapes fix the dim.

    ``plan`` packs what changes from call to call into one array (one transfer): the start
    θ (dim,), then the first step of each of up to PIECES constant-η pieces (as floats,
    increasing, +inf when unused), then their η. A block whose schedule has more pieces
    (a ramp, say) takes its η per step from ``etas`` instead (``per_step``); otherwise
    ``etas`` is a placeholder that stays on the device. A ``while_loop`` runs exactly ``n_valid``
    steps (or stops at the first bad iterate) into a fixed (STEP_BLOCK + 1, dim) buffer,
    row 0 being the start: one program for any length, η, start or schedule, and a short
    run costs only its own steps.
    """
    from .optimizers import OPTIMIZERS

    opt = OPTIMIZERS[optimizer]
    value_and_grad = jax.value_and_grad(loss_fn)
    if opt.stochastic:
        def component_grad(theta, consts, i):
            return jax.grad(lambda th: components_fn(th, consts)[i])(theta)

    def run(plan, etas_per_step, per_step, consts, k0, n_valid, seed):
        dim = plan.shape[0] - 2 * PIECES
        theta0, firsts, etas = plan[:dim], plan[dim:dim + PIECES], plan[dim + PIECES:]
        firsts = jnp.append(firsts, jnp.inf)
        key = jax.random.PRNGKey(seed)

        def body(carry):
            j, piece, theta, rows, _ = carry
            loss, grad = value_and_grad(theta, consts)
            if opt.stochastic:
                m = components_fn(theta, consts).shape[0]
                i = jax.random.randint(jax.random.fold_in(key, k0 + j), (), 0, m)
                grad = component_grad(theta, consts, i)
            eta = jnp.where(per_step, etas_per_step[j], etas[piece])
            new = opt.update(theta, grad, loss, eta)
            rows = jax.lax.dynamic_update_index_in_dim(rows, new, j + 1, 0)
            # pieces start one after another: step k0 + j + 1 is in this piece or the next
            later = (k0 + j + 1).astype(plan.dtype) >= firsts[piece + 1]
            return j + 1, piece + later.astype(jnp.int32), new, rows, is_bad(new)

        rows = jnp.zeros((STEP_BLOCK + 1, dim)).at[0].set(theta0)
        zero = jnp.asarray(0, jnp.int32)
        carry = (zero, zero, theta0, rows, jnp.asarray(False))
        j, _, _, rows, bad = jax.lax.while_loop(lambda c: (c[0] < n_valid) & ~c[4], body, carry)
        return rows, jnp.where(bad, j, -1)

    return jax.jit(run)


def _plan(theta: np.ndarray, etas: np.ndarray, k: int, device):
    """(plan, η per step, per_step, steps) for the block from step k (see step_runner)."""
    steps = min(STEP_BLOCK, len(etas) - k)
    block = etas[k:k + steps]
    firsts = np.flatnonzero(block[1:] != block[:-1]) + 1
    starts = np.full(PIECES, np.inf)
    values = np.full(PIECES, block[0])
    if len(firsts) >= PIECES:
        per_step = np.zeros(STEP_BLOCK)
        per_step[:steps] = block
        return np.concatenate([theta, starts, values]), per_step, np.bool_(True), steps
    starts[0] = k
    starts[1:len(firsts) + 1] = k + firsts
    values[1:len(firsts) + 1] = block[firsts]
    return (np.concatenate([theta, starts, values]), _placeholder(device), np.bool_(False),
            steps)


@functools.lru_cache(maxsize=None)
def _placeholder(device):
    """The unused per-step η of a block with few pieces, kept on the device (no transfer)."""
    return jax.device_put(np.zeros(STEP_BLOCK), device)


def simulate(model, init, eta: Schedule, steps: int, optimizer: str = "gd",
             seed: int = 0) -> Trajectory:
    """Run ``optimizer`` on ``model`` from ``init`` for ``steps`` steps.

    Args:
      model: a name from ``MODELS`` or a :class:`Model`.
      init: the start θ₀, ``len(init) == model.dim``.
      eta: η > 0, or a piecewise-constant schedule ``[(0, η0), (k1, η1), ...]``.
      steps: number of steps, 1 ≤ steps ≤ 10 000 000.
      optimizer: ``"gd"``, ``"normalized_gd"``, ``"sqrt_gd"``, ``"sgd"`` or ``"flow"``.
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
        thetas, dead_at = _flow.solve(model, theta, etas, job)
    elif on_twin_plane(model, opt.name, theta):
        # GD from xyzw's symmetric plane stays on it: step the twin (eq. (2)) there, exactly
        # symmetric and as sweeps do, and measure loss and sharpness as xyzw.
        job = Metrics(model.loss_fn, model.consts, lift=model.embed_fn)
        twin = resolve_model(model.plane_twin)
        plane, dead_at = _run_blocks(twin, opt, model.project(theta), etas, check_seed(seed),
                                     job)
        thetas = model.embed(plane)
    else:
        job = Metrics(model.loss_fn, model.consts)
        thetas, dead_at = _run_blocks(model, opt, theta, etas, check_seed(seed), job)
    loss, sharp = job.result()
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


def _run_blocks(model: Model, opt, theta: np.ndarray, etas: np.ndarray, seed: int,
                job: Metrics):
    """Run all steps block by block, feeding ``job``; returns (iterates, diverged_at or None)."""
    run = step_runner(model.loss_fn, model.components_fn, opt.name)
    consts = model.consts_array
    steps = len(etas)
    pieces = []
    k = 0
    while k < steps:
        plan, per_step_etas, per_step, n_valid = _plan(theta, etas, k, devices()[0])
        out, dead = run(plan, per_step_etas, per_step, consts, np.int32(k), np.int32(n_valid),
                        np.uint32(seed))
        dead = int(dead)
        first = 0 if k == 0 else 1  # a block repeats its start, the last iterate before it
        stop = n_valid + 1 if dead < 0 else dead
        # the metrics start on the rows where they lie, then the rows come to the host
        job.submit(out, first, stop, more=dead < 0 and k + n_valid < steps)
        rows = np.asarray(out)
        pieces.append(rows[first:stop])
        if dead >= 0:
            return np.concatenate(pieces), k + dead
        theta = rows[n_valid]
        k += n_valid
        rest = steps - k
        # A deterministic fixed point stays fixed: fill the rest without stepping.
        if (rest > 0 and not opt.stochastic and np.array_equal(rows[n_valid], rows[n_valid - 1])
                and np.all(etas[k:] == etas[k - 1])):
            pieces.append(np.repeat(theta[None], rest, axis=0))
            job.submit(theta[None], repeat=rest)
            break
    return np.concatenate(pieces), None
