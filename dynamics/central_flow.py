"""The central flow for one unstable direction (Cohen, Damian, Talwalkar, Kolter, Lee 2024).

GD at the edge of stability oscillates along the top eigenvector while its time average
follows a smooth path: the *central flow* (arXiv 2410.24206). With one unstable direction
it is dθ/dt = −[∇L + ½σ²∇S], S(θ) = λ_max(∇²L(θ)), with σ² ≥ 0 the smallest value that keeps
S ≤ 2/η. So it is gradient flow dθ/dt = −∇L while S < 2/η; once S reaches 2/η it is the
flow projected onto the level set S = 2/η,

    dθ/dt = −∇L + (⟨∇L, ∇S⟩ / ‖∇S‖²) ∇S     while ⟨−∇L, ∇S⟩ > 0 (the plain flow would raise S),

and plain gradient flow again wherever ⟨−∇L, ∇S⟩ ≤ 0 (the flow itself lowers S).
∇S = vᵀ(∂∇²L/∂θ)v, v the unit top eigenvector (``jnp.linalg.eigh``): the derivative of a
simple top eigenvalue, which is what autodiff through ``eigh`` gives; where the top
eigenvalue is repeated it is the derivative along v. Where ∇S = 0 (a quadratic, a piecewise
quadratic) nothing can hold S and the central flow is the gradient flow.

How it is solved (the same adaptive solver and tolerances as ``flow.py``: diffrax Tsit5 with
a PID controller, rtol 1e-12, atol 1e-14, reported at the times Σ η):
  * two modes, switched by diffrax events located by bisection: *free* (plain gradient
    flow) until S crosses 2/η upwards, exactly there; *edge* until S falls below
    2/η (1 − EDGE_EXIT), then free again. The switch is an event, not a kink inside one
    solve, so the solver never steps across it.
  * on the edge the field is −∇L − max(0, ⟨−∇L, ∇S⟩ + κ(S − 2/η)) ∇S/‖∇S‖², κ = 1/η:
    on S = 2/η this is the projected field above (or the plain one where the flow lowers
    S); off it, a restoring term (Baumgarte stabilisation) makes dS/dt = −κ(S − 2/η), so
    solver error cannot drift S off 2/η (on xyzw it stays within 1e-10), and a start above
    2/η (or a larger η in a schedule, a lower 2/η) is brought down to it by a factor e
    per step's worth of time η.
  * η is constant between report times: each run of equal η is solved on its own.
"""
from __future__ import annotations

import functools

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx

from .checks import CHUNK
from .flow import ATOL, MAX_SOLVER_STEPS, RTOL, keep_block

EDGE_EXIT = 1e-9     # the edge mode ends once S < 2/η (1 − EDGE_EXIT): hysteresis
MAX_SWITCHES = 64    # mode switches per block of report times before events are switched off
_ROOT = optx.Bisection(rtol=1e-13, atol=1e-12)


def sharpness_and_gradient(loss_fn):
    """``(theta, consts) -> (S, ∇S)``: S = λ_max(∇²L(θ)) and ∇S = ∇(vᵀ∇²L(θ)v), v fixed."""
    hess = jax.hessian(loss_fn)

    def top(theta, consts):
        values, vectors = jnp.linalg.eigh(hess(theta, consts))
        v = jax.lax.stop_gradient(vectors[:, -1])
        return values[-1], jax.grad(lambda th: v @ hess(th, consts) @ v)(theta)

    return top


def edge_field(loss_fn):
    """``(theta, consts, s_edge, kappa) -> dθ/dt`` on the edge (see the module docstring)."""
    grad = jax.grad(loss_fn)
    top = sharpness_and_gradient(loss_fn)

    def field(theta, consts, s_edge, kappa):
        g = grad(theta, consts)
        s, ds = top(theta, consts)
        norm2 = ds @ ds
        push = jnp.maximum(0.0, -(g @ ds) + kappa * (s - s_edge))
        push = jnp.where(norm2 > 0, push / jnp.where(norm2 > 0, norm2, 1.0), 0.0)
        return -g - push * ds

    return field


def central_field(loss_fn):
    """``(theta, consts, s_edge) -> dθ/dt`` as the central flow is defined: the projected
    field where S ≥ 2/η and the plain flow would raise S, else −∇L (no restoring term)."""
    grad = jax.grad(loss_fn)
    top = sharpness_and_gradient(loss_fn)

    def field(theta, consts, s_edge):
        g = grad(theta, consts)
        s, ds = top(theta, consts)
        rate = -(g @ ds)
        project = (s >= s_edge) & (rate > 0) & (ds @ ds > 0)
        return jnp.where(project, -g - rate / jnp.where(project, ds @ ds, 1.0) * ds, -g)

    return field


@functools.lru_cache(maxsize=None)
def segment_runner(loss_fn):
    """Compiled: one solve from θ(t0) = theta0 over report times ts (CHUNK + 1,) in one mode.

    Returns (θ at ts, inf where ts ≤ t0 or after an event; t_end; θ(t_end); whether the
    mode's event ended it). args: consts, s_edge = 2/η, on_edge and events_on (0. or 1.).
    """
    # inner jits: diffrax calls these many times while tracing; each is traced only once
    grad = jax.jit(jax.grad(loss_fn))
    on_edge_field = jax.jit(edge_field(loss_fn))
    hess = jax.hessian(loss_fn)
    sharpness = jax.jit(lambda theta, consts: jnp.linalg.eigvalsh(hess(theta, consts))[-1])

    def vector_field(t, y, args):
        consts, s_edge, on_edge, _ = args
        return jax.lax.cond(on_edge > 0, lambda: on_edge_field(y, consts, s_edge, 0.5 * s_edge),
                            lambda: -grad(y, consts))

    def crossing(t, y, args, **kwargs):
        # rises through 0 when the mode should end: S up through 2/η when free, S down
        # through 2/η (1 − EDGE_EXIT) on the edge
        consts, s_edge, on_edge, events_on = args
        s = sharpness(y, consts)
        value = jnp.where(on_edge > 0, s_edge * (1.0 - EDGE_EXIT) - s, s - s_edge)
        return jnp.where(events_on > 0, value, -1.0)

    def run(theta0, consts, ts, t0, s_edge, on_edge, events_on):
        t1 = ts[-1]
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(vector_field), diffrax.Tsit5(), t0=t0, t1=t1,
            dt0=jnp.minimum(1e-4, 1e-3 * (t1 - t0)), y0=theta0,
            args=(consts, s_edge, on_edge, events_on),
            saveat=diffrax.SaveAt(subs=(diffrax.SubSaveAt(ts=jnp.maximum(ts, t0)),
                                        diffrax.SubSaveAt(t1=True))),
            stepsize_controller=diffrax.PIDController(rtol=RTOL, atol=ATOL),
            event=diffrax.Event(crossing, _ROOT, direction=True),
            max_steps=MAX_SOLVER_STEPS, throw=False)
        (ys, y_end), (_, t_end) = sol.ys, sol.ts
        return ys, t_end[0], y_end[0], sol.event_mask

    return jax.jit(run)


@functools.lru_cache(maxsize=None)
def _point_sharpness(loss_fn):
    top = sharpness_and_gradient(loss_fn)
    return jax.jit(lambda theta, consts: top(theta, consts)[0])


def _solve_block(model, theta, ts, s_edge, on_edge):
    """θ at report times ts (m + 1,) from θ(ts[0]) = theta, at one η; returns
    (iterates (m + 1, dim), mode at the end). A failed solve leaves inf in its rows."""
    run = segment_runner(model.loss_fn)
    consts = model.consts_array
    m = len(ts) - 1
    padded = np.concatenate([ts, np.full(CHUNK + 1 - len(ts), ts[-1])])
    out = np.full((m + 1, len(theta)), np.inf)
    out[0] = theta
    f64 = np.float64   # every scalar the same type each call: one compiled program
    t_now, y, switches = f64(ts[0]), jnp.asarray(theta), 0
    while True:
        ys, t_end, y_end, hit = run(y, consts, jnp.asarray(padded), t_now, f64(s_edge),
                                    f64(on_edge), f64(switches < MAX_SWITCHES))
        ys, t_end = np.asarray(ys)[:m + 1], f64(t_end)
        fresh = (ts > t_now) & (ts <= t_end)
        out[fresh] = ys[fresh]
        if not bool(hit) or t_end >= ts[-1] or not np.all(np.isfinite(y_end)):
            return out, on_edge
        t_now, y, on_edge, switches = t_end, y_end, not on_edge, switches + 1


def solve(model, theta: np.ndarray, etas: np.ndarray, job):
    """The central flow at t = 0, η₀, η₀ + η₁, …; returns (iterates (n, dim), diverged_at or
    None), like ``flow.solve``; ``job.submit`` gets each block of iterates as it is done."""
    times = np.concatenate([[0.0], np.cumsum(etas)])
    steps = len(etas)
    sharpness = _point_sharpness(model.loss_fn)
    pieces, k, on_edge, eta_before = [], 0, False, None
    while k < steps:
        # a block: at most CHUNK steps, all of one η
        same = np.flatnonzero(etas[k:k + CHUNK] != etas[k])
        n_valid = int(same[0]) if same.size else min(CHUNK, steps - k)
        s_edge = 2.0 / etas[k]
        if etas[k] != eta_before:   # a new η: the mode follows from where S stands
            on_edge = float(sharpness(jnp.asarray(theta), model.consts_array)) >= s_edge
            eta_before = etas[k]
        ys, on_edge = _solve_block(model, theta, times[k:k + n_valid + 1], s_edge, on_edge)
        ys[0] = theta
        dead_at = keep_block(ys, k, pieces, job)
        if dead_at is not None:
            return np.concatenate(pieces), dead_at
        theta = ys[-1]
        k += n_valid
    return np.concatenate(pieces), None
