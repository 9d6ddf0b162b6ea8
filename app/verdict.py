"""A run read out in plain words: converged below 2/η, at the edge, diverged, or not yet."""
from __future__ import annotations

import numpy as np

CONVERGED_LOSS = 1e-10   # L below this counts as "at a minimum"
EDGE = 0.05              # sharpness within 5 % of 2/η counts as "at the edge"


def verdict(traj, etas: np.ndarray, optimizer: str = "gd") -> tuple[str, str]:
    """(sentence, level) for a Trajectory; ``etas`` is η in force at each iterate.

    The level is an alert colour: success (settled), info (still moving), warning
    (stuck at a point that is not a minimum), danger (diverged or diverging).
    """
    loss = np.asarray(traj.loss, dtype=float)
    sharp = np.asarray(traj.sharpness, dtype=float)
    params = np.asarray(traj.params, dtype=float)
    n = len(loss)
    threshold = 2.0 / float(etas[-1]) if len(etas) else np.inf
    if traj.diverged_at is not None:
        return (f"Diverged at step {traj.diverged_at}: θ{_subscript(traj.diverged_at)} is beyond "
                f"|θ| = 10⁶. The sharpness on the way exceeded 2/η = {threshold:.4g}; try a "
                "smaller η.", "danger")
    if n == 0:
        return "No iterates to show.", "warning"
    if (n >= 2 and loss[0] > CONVERGED_LOSS and np.all(params == params[0])
            and optimizer != "flow"):
        return ("Started at a stationary point that is not a minimum (∇L = 0 but "
                f"L = {loss[0]:.3g}): the iterates never move. Pick another start.", "warning")
    final, s_final = loss[-1], sharp[-1]
    if final > 10 * loss[0] and final > CONVERGED_LOSS:
        return (f"Diverging: the loss grew from {loss[0]:.3g} to {final:.3g}; sharpness "
                f"{s_final:.4g} is above 2/η = {threshold:.4g}, where GD is unstable.", "danger")
    if final < CONVERGED_LOSS:
        if s_final < threshold * (1 - EDGE):
            return (f"Converged below 2/η: a minimum with sharpness {s_final:.4g} < "
                    f"2/η = {threshold:.4g}.", "success")
        if s_final <= threshold * (1 + EDGE):
            return (f"Converged at the edge of stability: sharpness {s_final:.4g} ≈ "
                    f"2/η = {threshold:.4g}.", "success")
        return (f"Converged to a minimum with sharpness {s_final:.4g} above 2/η = "
                f"{threshold:.4g} (this update rule is not GD's).", "info")
    tail = sharp[-max(2, n // 10):]
    if abs(np.median(tail) / threshold - 1) <= EDGE:
        return (f"At the edge of stability: sharpness hovers at 2/η = {threshold:.4g} while "
                f"the loss ({final:.3g}) keeps falling, not monotonically. Run more steps.",
                "info")
    return (f"Not converged yet after {n - 1} steps: loss {final:.3g}, sharpness "
            f"{s_final:.4g} (2/η = {threshold:.4g}). Run more steps.", "info")


def _subscript(k: int) -> str:
    return str(k).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def eos_step(sharpness, threshold) -> int | None:
    """First step k at which the sharpness rises to 2/η: S_{k-1} < 2/η ≤ S_k (else None)."""
    sharpness = np.asarray(sharpness, dtype=float)
    threshold = np.broadcast_to(np.asarray(threshold, dtype=float), sharpness.shape)
    above = sharpness >= threshold
    hits = np.flatnonzero(above[1:] & ~above[:-1]) + 1
    return int(hits[0]) if len(hits) else None
