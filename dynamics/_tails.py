"""The compiled core of ``bifurcation``: many runs from one start, one per η, keeping tails.

``tail_runner(...)`` compiles once per (loss, optimizer rule, state layout, keep, measured
loss, lift): a ``while_loop`` over steps of ``dynamics/step.py``'s step vmapped over the
runs (η per run; the start, the state, the number of steps and the seed are traced too).
Each run writes iterate θ_k into slot k mod keep of a ring of ``keep`` iterates and stops
at its first bad iterate (non-finite or max|θ| > 1e6, ``runner.is_bad``), keeping the
last finite ones. At the end the ring is put in order, θ_{n−keep+1} … θ_n for a run that
took n steps (NaN rows where a run has fewer), and every kept iterate is measured: loss,
exact sharpness λ_max(H) and, for a preconditioned rule, λ_max(P⁻¹H) with the P of the
step from that iterate (the last one's from one more step, not taken).

Runs go through in chunks of ``CHUNK`` (the padding repeats the last η), so any number of
step sizes uses the one compiled shape.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from ._engine.packing import StateLayout
from ._engine.runner import is_bad
from .sharpness import batch_metrics, batch_metrics_preconditioned
from .step import step_fn

CHUNK = 128   # runs per compiled call


@functools.lru_cache(maxsize=None)
def tail_runner(loss_fn, components_fn, rule, layout: StateLayout, keep: int, measure_fn,
                lift=None):
    """Compiled ``(theta0 (C, d), state0 (C, s), etas (C,), steps, consts, measure_consts,
    seed) -> (tail (C, keep, d), loss, sharpness, effective (C, keep), taken (C,),
    diverged (C,))``; ``taken`` is the number of steps each run kept (n above)."""
    update_fn, _, preconditioner_fn, stochastic = rule
    one_step = step_fn(loss_fn, components_fn, update_fn, stochastic)

    def step_flat(theta, flat, eta, consts, key, k):
        new, state = one_step(theta, layout.unflatten(flat), eta, consts, key, k)
        p = (preconditioner_fn(state) if preconditioner_fn is not None
             else jnp.ones_like(theta))
        return new, layout.ravel(state), p

    step = jax.vmap(step_flat, in_axes=(0, 0, 0, None, None, None))
    step_each = jax.vmap(step_flat, in_axes=(0, 0, 0, None, None, 0))   # k per run
    measure = (batch_metrics_preconditioned(measure_fn) if preconditioner_fn is not None
               else batch_metrics(measure_fn))

    def run(theta0, state0, etas, steps, consts, measure_consts, seed):
        runs, dim = theta0.shape
        key = jax.random.PRNGKey(seed)
        ring = jnp.full((keep, runs, dim), jnp.nan).at[0].set(theta0)
        p_ring = jnp.ones((keep, runs, dim))

        def body(carry):
            k, theta, state, ring, p_ring, alive, taken = carry
            new, new_state, p = step(theta, state, etas, consts, key, k)
            take = alive & ~is_bad(new.T)
            slot, here = (k + 1) % keep, k % keep
            ring = ring.at[slot].set(jnp.where(take[:, None], new, ring[slot]))
            p_ring = p_ring.at[here].set(jnp.where(take[:, None], p, p_ring[here]))
            return (k + 1, jnp.where(take[:, None], new, theta),
                    jnp.where(take[:, None], new_state, state), ring, p_ring, take,
                    taken + take.astype(jnp.int32))

        alive = jnp.ones(runs, bool)
        carry = (jnp.asarray(0, jnp.int32), theta0, state0, ring, p_ring, alive,
                 jnp.zeros(runs, jnp.int32))
        _, theta, state, ring, p_ring, alive, taken = jax.lax.while_loop(
            lambda c: (c[0] < steps) & jnp.any(c[5]), body, carry)
        # the P of the step from the last iterate (for the effective sharpness there)
        _, _, p_last = step_each(theta, state, etas, consts, key, taken)
        last = taken % keep
        p_ring = p_ring.at[last, jnp.arange(runs)].set(p_last)
        # in order: slot of θ_{n−keep+1+j} is (n − keep + 1 + j) mod keep
        index = taken[:, None] - (keep - 1) + jnp.arange(keep)[None, :]
        slots = index % keep
        gather = lambda r: jnp.take_along_axis(jnp.moveaxis(r, 0, 1), slots[:, :, None], axis=1)
        tail = jnp.where((index >= 0)[:, :, None], gather(ring), jnp.nan)
        p_tail = gather(p_ring)
        rows = tail.reshape(runs * keep, dim)
        columns = (lift(rows) if lift is not None else rows).T
        safe = jnp.where(jnp.isnan(columns), 0.0, columns)
        if preconditioner_fn is not None:
            loss, sharp, effective = measure(safe, p_tail.reshape(runs * keep, dim).T,
                                             measure_consts)
        else:
            loss, sharp = measure(safe, measure_consts)
            effective = sharp
        shape = (runs, keep)
        missing = (index < 0)
        fix = lambda a: jnp.where(missing, jnp.nan, a.reshape(shape))
        return tail, fix(loss), fix(sharp), fix(effective), taken, taken < steps

    return jax.jit(run)

