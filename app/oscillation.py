"""The oscillation along the top eigenvector, as columns (no Bokeh here).

Past S = 2/η, gradient descent swings across its own time-averaged path along the Hessian's
top eigenvector q₁ (Cohen et al. 2021) and the cubic term of the loss pushes the sharpness
back (self-stabilization, Damian, Nichani, Lee 2022). Per iterate k, with θ̄_k the run's
central point,

    x_k = ⟨q₁, θ_k − θ̄_k⟩          (the swing along q₁; its sign alternates each step)
    r_k = ‖(θ_k − θ̄_k) − x_k q₁‖    (everything else)
    y_k = ∇S⊥·(θ_k − θ̄_k),  ∇S⊥ = ∇S − ⟨∇S, q₁⟩q₁  (Damian et al.'s y: how much sharper
                                     than the centre θ_k is, off q₁)

with q₁ and ∇S taken at the centre θ̄_k, as Damian et al. take them at their reference
path: at the iterates of a wide swing the top eigenvector can jump between directions from
one step to the next (on xyzw from (3, 0.01, 3, 0.01) it is the antisymmetric (0, 1, 0, −1)/√2
at every other iterate of steps 80–90), at the centre it moves smoothly.

θ̄_k is GD's central flow at t_k (Cohen, Damian et al. 2024) when the run is GD, else the
running two-step mean ¼θ_{k−1} + ½θ_k + ¼θ_{k+1} — the mean of ½(θ_{k−1} + θ_k) and
½(θ_k + θ_{k+1}), centred on step k so that a steady drift does not leak into x.
q₁'s sign is carried by continuity along the run (q₁(θ_k)·q₁(θ_{k−1}) ≥ 0), so the
alternation of x is the iterate's, not the eigensolver's. ∇S = q₁ᵀ(∂∇²L/∂θ)q₁, the
derivative of a simple top eigenvalue, by JAX from the model's loss.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import numpy as np

import dynamics
from dynamics.central_flow import sharpness_and_gradient
from dynamics.measure import MAX_BUCKET, bucket

from .runs import per_iterate

JUMP = 0.5       # |q₁(θ_k)·q₁(θ_{k−1})| below this: another eigenvector became the top one
TINY = 1e-12     # |x| below this is no swing (a run at rest on a minimum)


@functools.lru_cache(maxsize=None)
def _gradient_program(loss_fn):
    return jax.jit(jax.vmap(sharpness_and_gradient(loss_fn), in_axes=(0, None)))


def sharpness_gradient(model, params) -> np.ndarray:
    """∇S(θ) = ∇λ_max(∇²L(θ)) at each row of ``params`` (n, dim) -> (n, dim), float64.

    Rows are padded to the engine's buckets, so a new run length never compiles anew.
    """
    rows = np.asarray(params, dtype=np.float64).reshape(-1, model.dim)
    run = _gradient_program(model.loss_fn)
    parts = []
    for start in range(0, len(rows), MAX_BUCKET):
        piece = rows[start:start + MAX_BUCKET]
        padded = np.zeros((bucket(len(piece)), model.dim))
        padded[:len(piece)] = piece
        parts.append(np.asarray(run(padded, model.consts_array)[1])[:len(piece)])
    return np.concatenate(parts) if parts else np.zeros((0, model.dim))


def continuous_sign(vectors) -> np.ndarray:
    """Unit vectors (n, dim) with each sign chosen so that consecutive ones point alike.

    Where the top eigenvector jumps to another direction (|dot| < JUMP) continuity has no
    meaning and the given sign (the engine's: largest entry positive) is kept.
    """
    q = np.array(vectors, dtype=np.float64)
    for k in range(1, len(q)):
        dot = q[k] @ q[k - 1]
        if dot < -JUMP:
            q[k] = -q[k]
    return q


def two_step_mean(params) -> np.ndarray:
    """¼θ_{k−1} + ½θ_k + ¼θ_{k+1} (the ends: ½(θ₀ + θ₁), ½(θ_{n−2} + θ_{n−1}))."""
    p = np.asarray(params, dtype=np.float64)
    if len(p) < 2:
        return p.copy()
    out = np.empty_like(p)
    out[1:-1] = 0.25 * p[:-2] + 0.5 * p[1:-1] + 0.25 * p[2:]
    out[0], out[-1] = 0.5 * (p[0] + p[1]), 0.5 * (p[-2] + p[-1])
    return out


def first_at_or_above(values, threshold) -> int | None:
    """The first k with values_k ≥ threshold_k, or None."""
    above = np.asarray(values) >= np.asarray(threshold)
    return int(np.argmax(above)) if above.any() else None


def alternating_stretch(x, start: int = 0) -> tuple[int, int] | None:
    """The longest (k, j), start ≤ k < j, with sign(x_i) ≠ sign(x_{i+1}) for every k ≤ i < j
    (|x| > TINY throughout), or None if x never flips."""
    x = np.asarray(x, dtype=float)[start:]
    flips = (np.sign(x[:-1]) != np.sign(x[1:])) & (np.abs(x[:-1]) > TINY) & (np.abs(x[1:]) > TINY)
    best, run_start = None, None
    for i, f in enumerate(np.append(flips, False)):
        if f and run_start is None:
            run_start = i
        elif not f and run_start is not None:
            if best is None or i - run_start > best[1] - best[0]:
                best = (run_start, i)
            run_start = None
    return None if best is None else (start + best[0], start + best[1])


def falls_back(values, threshold, start: int = 0) -> int | None:
    """The k > start from which values stay below threshold to the end, having been ≥ it
    at k − 1 (S falling back for good); None if they never rise to it or end above it."""
    above = np.asarray(values)[start:] >= np.asarray(threshold)[start:]
    if not above.any() or above[-1]:
        return None
    return start + int(np.flatnonzero(above)[-1]) + 1


@dataclass(frozen=True)
class Oscillation:
    """The columns of the oscillation view and the numbers its words are made of."""

    step: np.ndarray            # (n,) k
    x: np.ndarray               # ⟨q₁, θ − θ̄⟩
    rest: np.ndarray            # ‖the rest of θ − θ̄‖
    y: np.ndarray               # ∇S⊥(θ̄)·(θ − θ̄)
    sharpness: np.ndarray       # what the rule is held to, at θ_k (S for GD)
    mean_sharpness: np.ndarray  # the same at the two-step mean (the time-averaged iterate)
    threshold: np.ndarray       # 2/η_k (the rule's own threshold)
    centre: str                 # "central flow" or "two-step mean"
    edge_step: int | None       # first k with S_k ≥ threshold
    peak_step: int | None       # where |x| is largest, from the edge on
    back_step: int | None       # from this k on the mean's S stays below the threshold
    stretch: tuple[int, int] | None   # the longest run of steps k..j over which x flips
    #                                    sign at every step (from the edge on)

    @property
    def peak(self) -> float:
        return float(abs(self.x[self.peak_step])) if self.peak_step is not None else 0.0


def oscillation(an) -> Oscillation:
    """The :class:`Oscillation` of an ``app.anatomy.Anatomy`` (its first ``an.n`` iterates)."""
    model, n = an.spec.model, an.n
    params = an.params
    traj = an.traj
    threshold = per_iterate(traj.threshold, 2.0 / an.spec.eta)[:n]
    from .plots import held_sharpness   # (plots imports HoloViews: only when asked)
    sharp = held_sharpness(traj)[0][:n]
    mean = two_step_mean(params)
    use_central = an.gd and an.central is not None
    centre = an.central.params[:n] if use_central else mean
    got = dynamics.measure(model, centre, "top_eigenvector")["top_eigenvector"]
    q = continuous_sign(got.reshape(n, model.dim))
    d = params - centre
    x = np.einsum("ij,ij->i", d, q)
    rest = np.linalg.norm(d - x[:, None] * q, axis=1)
    grad_s = sharpness_gradient(model, centre)
    grad_perp = grad_s - np.einsum("ij,ij->i", grad_s, q)[:, None] * q
    y = np.einsum("ij,ij->i", grad_perp, d)
    mean_sharp = dynamics.measure(model, mean, "sharpness")["sharpness"].reshape(n)
    if not an.gd:   # the rule's own held sharpness at the mean is not defined: S there
        mean_sharp = np.where(np.isfinite(mean_sharp), mean_sharp, np.nan)
    edge = first_at_or_above(sharp, threshold)
    peak = back = stretch = None
    if edge is not None and n - edge >= 3:
        peak = edge + int(np.argmax(np.abs(x[edge:])))
        back = falls_back(mean_sharp, threshold, edge)
        stretch = alternating_stretch(x, edge)
    return Oscillation(np.arange(n, dtype=float), x, rest, y, sharp, mean_sharp, threshold,
                       "central flow" if use_central else "two-step mean", edge, peak, back,
                       stretch)


def words(osc: Oscillation, an) -> tuple[str, str]:
    """(one paragraph true for this run, alert level) for the oscillation view."""
    from . import rules
    rule = dynamics.OPTIMIZERS[an.spec.optimizer]
    formula = rules.threshold_formula(an.spec.optimizer)
    if rule.continuous:
        return (f"{rule.title} takes no steps, so nothing oscillates: choose gradient descent "
                "to see the swing along q₁.", "info")
    head = ""
    if an.traj.diverged_at is not None:
        head = f"The run diverged at step {an.traj.diverged_at}. "
    if osc.edge_step is None:
        top = float(np.max(osc.sharpness)) if len(osc.sharpness) else float("nan")
        return (head + f"This run stays below {formula} (its sharpness peaks at {top:.3g} < "
                f"{osc.threshold.min():.3g}): no oscillation to see; raise η or start nearer "
                "a sharp minimum.", "warning")
    parts = [f"The sharpness starts above {formula}, so the swing along q₁ begins at once"
             if osc.edge_step == 0 else f"The sharpness first reaches {formula} at step "
             f"{osc.edge_step} and the swing along q₁ begins"]
    if osc.stretch is not None and osc.stretch[1] - osc.stretch[0] >= 4:
        k, j = osc.stretch
        parts.append(f"x = ⟨q₁, θ − θ̄⟩ flips sign at every step from {k} to {j}")
    peak_sentence = f"|x| peaks at step {osc.peak_step} ({osc.peak:.2g})"
    if osc.back_step is not None:
        near = abs(osc.back_step - osc.peak_step) <= 10
        peak_sentence += (", just as " if near else "; ") + (
            f"S at the two-step mean falls back below {formula} for good at step "
            f"{osc.back_step}")
    parts.append(peak_sentence)
    end = float(np.max(np.abs(osc.x[-2:])))
    if osc.peak > 0 and end < 0.5 * osc.peak:
        parts.append(f"by step {len(osc.x) - 1} it has shrunk to {end:.1g}")
    centre = ("θ̄ is GD's central flow at the same time" if osc.centre == "central flow" else
              "θ̄ is the two-step mean ¼θₖ₋₁ + ½θₖ + ¼θₖ₊₁"
              + ("" if an.gd else f" (the central flow is GD's, not {rule.title}'s)"))
    text = head + "; ".join(parts) + f". ({centre}.)"
    return text, "danger" if head else "info"
