"""How far the run is from gradient flow and from the central flow, as columns (no Bokeh).

At the times t_k = Σ_{j<k} η_j, with θ_GF and θ_CF solved at those same times:

    d_GF(t_k) = ‖θ_k − θ_GF(t_k)‖,   d_CF(t_k) = ‖θ_k − θ_CF(t_k)‖,

and for the time-average over two steps, at the midpoint ½(t_k + t_{k+1}),

    a_F = ‖½(θ_k + θ_{k+1}) − ½(θ_F(t_k) + θ_F(t_{k+1}))‖   (F = GF or CF):

the flow averaged the same way, which equals θ_F at the midpoint to O(η²). Below 2/η GD
follows gradient flow to O(η); past it GD swings across a path of its own, which the central
flow tracks (Cohen, Damian et al. 2024): d_CF stays small while d_GF grows.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .oscillation import first_at_or_above
from .runs import per_iterate

CLOSER = 0.5   # the central flow "stays small" where d_CF < CLOSER · d_GF, typically


@dataclass(frozen=True)
class Distance:
    """The columns of the distance view and the numbers its words are made of."""

    time: np.ndarray            # (n,) t_k
    gf: np.ndarray              # d_GF
    cf: np.ndarray              # d_CF (NaN where there is no central flow)
    mid_time: np.ndarray        # (n − 1,) ½(t_k + t_{k+1})
    mean_gf: np.ndarray         # a_GF
    mean_cf: np.ndarray         # a_CF
    edge_step: int | None       # first k with the held sharpness ≥ the threshold
    has_central: bool

    @property
    def edge_time(self) -> float:
        return float(self.time[self.edge_step]) if self.edge_step is not None else np.nan

    def after_edge(self) -> dict:
        """Numbers from the edge on: the largest and last d_GF, d_CF; the median ratio of the
        two-step averages' distances a_CF / a_GF; the share of midpoints with a_CF < a_GF."""
        if self.edge_step is None or self.edge_step >= len(self.time) - 1:
            return {}
        k = self.edge_step
        gf, cf = self.gf[k:], self.cf[k:]
        mgf, mcf = self.mean_gf[k:], self.mean_cf[k:]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(mgf > 0, mcf / mgf, np.nan)
        return {"gf_max": float(np.max(gf)), "gf_end": float(gf[-1]),
                "cf_max": float(np.nanmax(cf)) if self.has_central else np.nan,
                "cf_end": float(cf[-1]), "mean_ratio": float(np.nanmedian(ratio)),
                "mean_closer": float(np.mean(mcf < mgf)) if self.has_central else 0.0}


def distance(an) -> Distance:
    """The :class:`Distance` of an ``app.anatomy.Anatomy``."""
    n = an.n
    theta, t = an.params, an.time
    gf = an.flow.params[:n]
    cf = an.central.params[:n] if an.central is not None else np.full_like(theta, np.nan)
    mean = 0.5 * (theta[:-1] + theta[1:])
    from .plots import held_sharpness
    sharp = held_sharpness(an.traj)[0][:n]
    threshold = per_iterate(an.traj.threshold, 2.0 / an.spec.eta)[:n]
    return Distance(t, _norm(theta - gf), _norm(theta - cf), 0.5 * (t[:-1] + t[1:]),
                    _norm(mean - 0.5 * (gf[:-1] + gf[1:])),
                    _norm(mean - 0.5 * (cf[:-1] + cf[1:])),
                    first_at_or_above(sharp, threshold), an.central is not None)


def _norm(d) -> np.ndarray:
    return np.linalg.norm(d, axis=1) if len(d) else np.zeros(0)


def log_column(values) -> np.ndarray:
    """``values`` for a log axis: 0 (the common start) and below as NaN (not drawn)."""
    v = np.asarray(values, dtype=float)
    return np.where(v > 0, v, np.nan)


def words(dist: Distance, an) -> tuple[str, str]:
    """(one paragraph true for this run, alert level) for the distance view."""
    import dynamics
    rule = dynamics.OPTIMIZERS[an.spec.optimizer]
    if rule.continuous:
        return (f"This run is {rule.title.lower()} itself, not a stepping rule: choose gradient "
                "descent to see how far its steps take it from either flow.", "info")
    head = "" if an.gd else (f"The flows are gradient descent's at the same η; the "
                             f"{rule.title} run is compared with them as it is. ")
    if an.traj.diverged_at is not None:
        head += f"The run diverged at step {an.traj.diverged_at}. "
    if not dist.has_central:
        head += an.central_message + " "
    if dist.edge_step is None:
        return (head + f"This run stays below 2/η: it follows gradient flow to within "
                f"{np.max(dist.gf):.2g} (and while S < 2/η the central flow is gradient "
                "flow).", "warning" if not an.gd else "info")
    num = dist.after_edge()
    if not num:
        return head + "The run ends as it reaches 2/η: nothing to compare after it.", "warning"
    when = ("From the start (S is above 2/η already), " if dist.edge_step == 0 else
            f"From t = {dist.edge_time:.3g}, where S first reaches 2/η, ")
    grows = num["gf_max"] > 2 * dist.gf[dist.edge_step]
    small = (dist.has_central and num["mean_ratio"] < CLOSER
             and num["cf_end"] < CLOSER * num["gf_end"])
    text = (when + f"‖θ − θ_GF‖ reaches {num['gf_max']:.2g} ({num['gf_end']:.2g} at the end)")
    early = False
    if dist.has_central:
        k = dist.edge_step + int(np.nanargmax(dist.cf[dist.edge_step:]))
        early = num["cf_max"] > CLOSER * dist.gf[k]   # as far from both, for a while
        text += (f" and ‖θ − θ_CF‖ is at most {num['cf_max']:.2g} (at t = {dist.time[k]:.3g}; "
                 f"{num['cf_end']:.2g} at the end); the two-step average is nearer the "
                 f"central flow at {num['mean_closer']:.0%} of the steps")
    if small and grows:
        text += (": after the first swings, the second stays small where the first grows."
                 if early else ": the second stays small where the first grows.")
    elif dist.has_central:
        text += ": here the central flow is not much nearer than gradient flow."
    else:
        text += "."
    return head + text, "info"
