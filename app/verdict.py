"""A run read out in plain words, from what its tail does (see ``orbit.py``).

Kinds, tested in this order:
  diverged    θ left |θ| ≤ 10⁶, or the loss is still growing tenfold
  converged   settled at a minimum (L ≈ 0): below the threshold S < (1 − EDGE)·T, or above
              it (a rule not bound by T, or GD resting exactly on ∇L = 0)
  edge        settled at a minimum with |S/T − 1| ≤ EDGE: at the edge of stability
  stationary  settled where ∇L = 0 but L > 0 (from the start, or later)
  periodic    a p-cycle, 2 ≤ p ≤ 40, with its points and amplitude
  hovering    the sharpness sits at T while the run still moves (GD at the edge of stability)
  drift       oscillating across a valley while the sharpness falls (Arora et al.'s phase II)
  not_yet     the loss is still falling
  chaotic     bounded, not settled, not periodic, the loss not falling
T is the stability threshold of the rule that ran: ``traj.threshold[-1]`` (2/η for GD).
Gradient flow has no step and SGD a random one: neither is read as a cycle, an edge or a
drift (SGD that neither settles nor falls is "chaotic": its noise).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import dynamics

from . import orbit

CONVERGED_LOSS = 1e-10   # L below this (times max(1, L₀)) counts as "at a minimum"
EDGE = 0.05              # sharpness within 5 % of the threshold counts as "at the edge"
LEVELS = {"diverged": "danger", "converged": "success", "edge": "success",
          "stationary": "warning"}   # every other kind: "info" (still moving, as it should)
SHORT = {"gd": "GD", "sgd": "SGD", "flow": "Gradient flow", "sqrt_gd": "GD on √L"}
UNBOUND = {"normalized_gd", "sqrt_gd", "flow"}   # no 2/η holds them: the step never shrinks


@dataclass(frozen=True)
class Verdict:
    """What a run did: its kind (above), the sentence, the alert level; for a cycle its
    period, its points (p rows of θ, in the order visited) and amplitude."""

    kind: str
    sentence: str
    level: str
    period: int | None = None
    points: tuple = ()
    amplitude: float = 0.0


def verdict(traj, etas=None, optimizer: str | None = None) -> tuple[str, str]:
    """(sentence, level) of :func:`classify`."""
    v = classify(traj, etas, optimizer)
    return v.sentence, v.level


def classify(traj, etas=None, optimizer: str | None = None) -> Verdict:
    """Read a Trajectory (or anything with ``params``, ``loss``, ``sharpness``,
    ``diverged_at``); ``etas`` is η per iterate, used when ``traj`` has no ``eta``."""
    r = _Run(traj, etas, optimizer)
    loss, sharp, params, n = r.loss, r.sharp, r.params, len(r.loss)
    if traj.diverged_at is not None:
        k = traj.diverged_at
        return r.say("diverged", f"Diverged at step {k}: θ{_sub(k)} is beyond |θ| = 10⁶."
                     + r.over_threshold() + " Try a smaller η.")
    if n == 0:
        return Verdict("stationary", "No iterates to show.", "warning")
    tol = CONVERGED_LOSS * max(1.0, loss[0])
    if orbit.settled(params):
        if loss[-1] <= tol:
            if n >= 2 and np.all(params == params[0]):
                return r.say("converged", f"Started exactly on a minimum{r.where()}: ∇L = 0 "
                             f"there, so {r.rule} never moves ({r.s_name} {sharp[0]:.4g}, "
                             f"{r.t_name} = {r.threshold:.4g}).")
            return r.converged()
        if n >= 2 and np.all(params == params[0]):
            return r.say("stationary", "Started at a stationary point that is not a minimum "
                         f"(∇L = 0 but L = {loss[0]:.3g}): {r.rule} never moves. "
                         "Pick another start.")
        if abs(loss[-1] - loss[-orbit.SETTLE:][0]) <= 1e-9 * loss[-1]:
            if r.name == "central_flow" and abs(sharp[-1] / r.threshold - 1) <= 1e-3:
                return r.rests_on_the_edge()
            return r.say("stationary", f"{r.rule} stopped at a stationary point that is not "
                         f"a minimum{r.where()}: ∇L = 0 there but L = {loss[-1]:.3g} > 0.")
    if orbit.growing(loss):
        m = max(1, n // 2)
        return r.say("diverged", f"Diverging: over the last {m} steps the loss grew from "
                     f"{loss[-m - 1]:.3g} to {loss[-1]:.3g}." + r.over_threshold())
    steps = not (r.stochastic or r.continuous)   # a deterministic map: cycle, edge, drift
    cycle = orbit.find_cycle(params) if steps else None
    if cycle is not None:
        return r.periodic(cycle)
    if steps and r.name not in UNBOUND:
        median = float(np.median(sharp[-max(2, n // 10):]))
        if abs(median / r.threshold - 1) <= EDGE:
            trend = ("falls, not monotonically" if orbit.still_falling(loss) else
                     "bounces without falling further")
            return r.say("hovering", f"At the edge of stability: {r.rule}'s {r.s_name} hovers "
                         f"at {r.t_name} = {r.threshold:.4g} while the loss ({loss[-1]:.3g}) "
                         f"{trend}. Run more steps.")
    if steps and orbit.drifting(params, loss, sharp):
        m = max(8, n // 2) // 4 * 4
        phase = " (phase II of Arora et al.)" if r.name in UNBOUND else ""
        return r.say("drift", f"{r.rule} drifts along the valley of minima{phase}: it "
                     "oscillates across it while the sharpness falls from "
                     f"{sharp[-m]:.4g} to {sharp[-1]:.4g} in the last {m} steps, the loss "
                     f"not going to 0 (it is {loss[-1]:.3g}). Run more steps to see where "
                     "it ends.")
    q = max(1, n // 4)
    falling = (np.median(loss[-q:]) < 0.01 * np.median(loss[:q]) if r.stochastic else
               orbit.still_falling(loss))   # SGD's noise: only a fall by 100× counts
    if r.continuous or n < 64 or falling:
        return r.say("not_yet", f"Not converged yet after {n - 1} step{'s' * (n != 2)} of {r.rule}: loss "
                     f"{loss[-1]:.3g}, {r.s_name} {sharp[-1]:.4g} ({r.t_name} = "
                     f"{r.threshold:.4g}). Run more steps.")
    tail = params[-64:]
    centre = tail.mean(axis=0)
    radius = float(np.max(np.linalg.norm(tail - centre, axis=1)))
    around = f"within {radius:.2g} of {r.points(centre)}"
    lo, hi = float(np.min(loss[-64:])), float(np.max(loss[-64:]))
    if r.stochastic:
        return r.say("chaotic", f"{r.rule} does not settle: each step follows one randomly "
                     f"drawn sample, so it keeps moving {around}, {_loss_range(lo, hi)}.")
    return r.say("chaotic", f"{r.rule} neither settles nor repeats: it keeps bouncing "
                 f"{around}, {_loss_range(lo, hi)}, and no period up to "
                 f"{orbit.MAX_PERIOD} fits its last {len(tail)} steps: chaotic, or a longer "
                 "cycle.")


class _Run:
    """The arrays of one run and the phrases that name its rule, threshold and points."""

    def __init__(self, traj, etas, optimizer):
        self.loss = np.asarray(traj.loss, dtype=float)
        self.sharp = np.asarray(traj.sharpness, dtype=float)
        self.params = np.asarray(traj.params, dtype=float).reshape(len(self.loss), -1)
        name = optimizer if optimizer is not None else getattr(traj, "optimizer", "gd")
        self.name = name if isinstance(name, str) else getattr(name, "name", str(name))
        opt = dynamics.OPTIMIZERS.get(self.name)
        self.rule = SHORT.get(self.name, opt.title if opt is not None else self.name)
        self.stochastic = bool(getattr(opt, "stochastic", self.name == "sgd"))
        self.continuous = bool(getattr(opt, "continuous", self.name == "flow"))
        eta = np.asarray(getattr(traj, "eta", ()), dtype=float)
        eta = eta if eta.size else np.asarray(etas if etas is not None else (), dtype=float)
        self.eta = float(eta[-1]) if eta.size else float("nan")
        threshold = np.asarray(getattr(traj, "threshold", ()), dtype=float)
        self.threshold = float(threshold[-1]) if threshold.size else 2.0 / self.eta
        self.t_name = "2/η" if np.isclose(self.threshold, 2.0 / self.eta) else "its threshold"
        self.model = getattr(traj, "model", None)
        # RMSProp and Adam are held by the sharpness of P⁻¹H, not of H (Cohen et al. 2022)
        self.s_name = "sharpness"
        effective = np.asarray(getattr(traj, "effective_sharpness", ()), dtype=float)
        if getattr(opt, "preconditioner_fn", None) is not None and effective.size:
            self.sharp = np.append(effective, effective[-1])   # one value per iterate
            self.s_name = "preconditioned sharpness"

    def say(self, kind: str, sentence: str, **cycle) -> Verdict:
        return Verdict(kind, sentence, LEVELS.get(kind, "info"), **cycle)

    def points(self, thetas, joiner: str = " → ") -> str:
        """'x ≈ 1 → 1.7' or '(x, y) ≈ (0, 1.46) → (0, −0.538)': in the model's plane when
        every point lies on it (xyzw's symmetric plane), else in θ; 3 digits each."""
        thetas = np.atleast_2d(np.asarray(thetas, dtype=float))
        names = tuple(getattr(self.model, "param_names", ()))
        try:
            plane = self.model.project(thetas)
            if np.allclose(self.model.embed(plane), thetas, rtol=1e-9, atol=1e-12):
                thetas, names = plane, tuple(self.model.plane)
        except (AttributeError, TypeError, ValueError):
            pass
        if len(names) != thetas.shape[1] or len(set(names)) != len(names):
            names = ("x",) if thetas.shape[1] == 1 else ("θ",)
        scale = float(np.max(np.abs(thetas)))
        rows = [[_num(v, scale) for v in theta] for theta in thetas]
        if len(rows[0]) == 1:
            return f"{names[0]} ≈ " + joiner.join(r[0] for r in rows)
        label = f"({', '.join(names)})" if len(names) > 1 else names[0]
        return f"{label} ≈ " + joiner.join(f"({', '.join(r)})" for r in rows)

    def where(self) -> str:
        return f" at {self.points(self.params[-1])}"

    def over_threshold(self) -> str:
        top = float(np.max(self.sharp)) if len(self.sharp) else 0.0
        if self.name in UNBOUND or self.continuous or not top > self.threshold:
            return ""
        return f" The {self.s_name} on the way reached {top:.4g}, above {self.t_name} = " \
               f"{self.threshold:.4g}, where {self.rule} is unstable."

    def converged(self) -> Verdict:
        s, t, tn = float(self.sharp[-1]), self.threshold, self.t_name
        at = f"a minimum{self.where()}"
        if self.name == "flow":
            tail = (f"above 2/η = {t:.4g}: a flow takes no steps, so 2/η (GD's limit at "
                    f"η = {self.eta:.3g}) does not hold it." if s > t else
                    f"below 2/η = {t:.4g} (GD's limit at η = {self.eta:.3g}; a flow takes no "
                    "steps, so that limit does not bind it).")
            return self.say("converged", f"Gradient flow converged to {at} with sharpness "
                            f"{s:.4g}, " + tail)
        if self.name in UNBOUND:
            zero = "∇L" if self.name == "normalized_gd" else "L"
            return self.say("converged", f"{self.rule} landed on {at} so exactly that "
                            f"{zero} = 0 in floating point, and stops there (sharpness {s:.4g}; "
                            f"{tn} = {t:.4g}). Elsewhere its step does not shrink near a "
                            "minimum, so it cannot converge by approaching one.")
        if s < t * (1 - EDGE):
            return self.say("converged", f"Converged below {tn}: {self.rule} settled at {at} "
                            f"with {self.s_name} {s:.4g} < {tn} = {t:.4g}."
                            + self.preconditioned_episodes())
        if s <= t * (1 + EDGE):
            side = "just below" if s < t else "at or just above"
            return self.say("edge", f"Converged at the edge of stability: {self.rule} settled "
                            f"at {at} with {self.s_name} {s:.4g}, {side} {tn} = {t:.4g}."
                            + self.preconditioned_episodes())
        return self.say("converged", f"{self.rule} rests at {at} with {self.s_name} {s:.4g} above "
                        f"{tn} = {t:.4g}: an unstable fixed point, kept only because ∇L = 0 "
                        "there exactly; any perturbation would leave it.")

    def preconditioned_episodes(self) -> str:
        """For RMSProp and Adam: where λ_max(P⁻¹H) crossed the threshold (the loss spikes
        there), and whether it is rising again as the preconditioner's v shrinks."""
        if self.s_name != "preconditioned sharpness":
            return ""
        words, t, n = "", self.threshold, len(self.sharp)
        above = self.sharp > t
        rises = np.flatnonzero(above[1:] & ~above[:-1]) + 1   # crossings upwards, not a start
        k = int(rises[0]) if rises.size else None
        spike = float(np.max(self.loss[k:])) if k is not None else 0.0
        if k is not None and spike > 10 * self.loss[k - 1]:
            words += (f" On the way, at step {k}, its preconditioned sharpness rose above "
                      f"{self.t_name} (to {float(np.max(self.sharp)):.4g}) and the loss "
                      f"jumped back up to {spike:.2g}: its edge of stability (Cohen et al. "
                      "2022).")
        m = max(4, n // 4)
        a, b = float(self.sharp[-m]), float(self.sharp[-1])
        if n > 8 and b > 1.1 * a:
            words += (f" It is rising again ({a:.4g} → {b:.4g} over the last {m} steps) as "
                      f"v shrinks: if it reaches {self.t_name}, the loss spikes again.")
        return words

    def rests_on_the_edge(self) -> Verdict:
        """The central flow at rest with S = 2/η and L > 0: ∇L ≠ 0 there, but the implicit
        oscillation term of the flow (GD's swing along the top eigenvector) cancels it."""
        return Verdict("stationary", f"{self.rule} came to rest on the edge of stability"
                       f"{self.where()}: its sharpness is held at {self.t_name} = "
                       f"{self.threshold:.4g}, and the oscillation it stands for cancels −∇L "
                       f"there, so the loss stays at {self.loss[-1]:.3g} > 0 (GD rides a "
                       "2-cycle around this point).", "info")

    def periodic(self, cycle: orbit.Cycle) -> Verdict:
        p = cycle.period
        if p == 2:
            axis = int(np.argmax(np.abs(cycle.points[1] - cycle.points[0])))
            pair = cycle.points[np.argsort(cycle.points[:, axis])]   # along the oscillation
            route = "between " + (self.points(pair, " and ") if pair.shape[1] > 1 else
                                  " and ".join(self.points(q) for q in pair))
        elif p <= 6:
            route = "through " + self.points(cycle.points)
        else:
            centre = cycle.points.mean(axis=0)
            route = f"around {self.points(centre)}"
        lo, hi = float(np.min(self.loss[-p:])), float(np.max(self.loss[-p:]))
        top = float(np.max(self.sharp[-p:]))
        if self.name == "normalized_gd":
            why = f" Every step has length η = {self.eta:.3g}, so it cannot come to rest."
        elif self.name == "sqrt_gd":
            why = (" Near a minimum its step η∇L/(2√L) does not shrink, so it cannot come to "
                   "rest.")
        elif top > self.threshold:
            why = (f" The {self.s_name} along it reaches {top:.4g}, above {self.t_name} = "
                   f"{self.threshold:.4g}.")
        else:
            why = ""
        verb = "cannot settle" if self.name in UNBOUND else "does not settle"
        before = float(self.sharp[0])
        if before > 1.5 * top:   # the cycle was reached by a drift to flatter minima
            why += (f" On the way the sharpness fell from {before:.4g}; along the cycle it is "
                    f"at most {top:.4g}.")
        return self.say("periodic", f"{self.rule} {verb}: it ends in a {p}-cycle of amplitude "
                        f"{cycle.amplitude:.2g} {route}, {_loss_range(lo, hi)}.{why}", period=p,
                        points=tuple(map(tuple, cycle.points.tolist())),
                        amplitude=cycle.amplitude)


def _num(v: float, scale: float) -> str:
    """3 significant digits; 0 for what is below 10⁻⁴ of the point's size (and −0)."""
    return "0" if abs(v) < 1e-4 * max(scale, 1.0) else f"{v:.3g}".replace("-", "−")


def _loss_range(lo: float, hi: float) -> str:
    """'the loss between 0.03 and 1.1', or 'the loss staying at 0.5' when they agree."""
    if np.isclose(lo, hi, rtol=1e-3):
        return f"the loss staying at {hi:.2g}"
    return f"the loss between {lo:.2g} and {hi:.2g}"


def _sub(k: int) -> str:
    return str(k).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def eos_step(sharpness, threshold) -> int | None:
    """First step k at which the sharpness rises to 2/η: S_{k-1} < 2/η ≤ S_k (else None)."""
    sharpness = np.asarray(sharpness, dtype=float)
    threshold = np.broadcast_to(np.asarray(threshold, dtype=float), sharpness.shape)
    above = sharpness >= threshold
    hits = np.flatnonzero(above[1:] & ~above[:-1]) + 1
    return int(hits[0]) if len(hits) else None
