"""Zhu et al.'s (a, b) plane of the minimalist example and its two-step map (no Panel here).

Degree 4 — x2y2 = ¼(1 − x²y²)², and xyzw = ½(1 − xyzw)² on its symmetric plane z = x, w = y,
where GD is the same map (Zhu, Wang, Wang, Zhou, Ge 2023, Def. 2), with κ = √η:

    a = √(x² − y²) − (η⁻² − 4)^{1/4},    b = xy − 1.

a = b = 0 is the EoS minimum xy = 1, x² + y² = 1/η (sharpness 2(x² + y²) = 2/η); on the
minima b = 0 the sharpness is below 2/η exactly where a < 0. Two GD steps near it, to the
paper's order:  a'' ≈ a − 4b²κ³,  b'' ≈ b(1 + 8aκ − 16b²). The iterates follow the parabola
b² = aκ/2 + κ⁴/16 (the period-2 points of that map) down to its vertex a = −κ³/8.

Degree 2 — xy = ½(1 − xy)². Gradient flow keeps x² − y² and GD multiplies it by
1 − η²(xy − 1)²; the EoS minimum is xy = 1, x² + y² = 2/η, so here

    a = √(x² − y²) − (4η⁻² − 4)^{1/4},    b = xy − 1,

and two GD steps, to leading order (derived the same way): b'' ≈ b(1 + 4√2 aκ),
a'' ≈ a − √2 κ³b². There is no −b³ pull-back at this order, and b² + 4a²/κ² is kept: the
orbits are ellipses around a = 0, so a run started at a₀ > 0 ends near a = −a₀ < 0, on a
minimum flatter than 2/η, instead of at the edge.

The transform needs x² > y² and an EoS minimum (η < ½ for degree 4, η < 1 for degree 2).
A run that ends with |y| > |x| is read with x and y swapped, and a degree-4 run ending on
xy = −1 with y → −y (both are symmetries of the loss); iterates with x² < y² have no a.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

DEGREE = {"x2y2": 4, "xyzw": 4, "xy": 2}   # the models the (a, b) plane is defined for
ETA_LIMIT = {4: 0.5, 2: 1.0}                # the EoS minimum with x > y exists for η below
ESCAPE = 2.0   # 8aκ beyond which b'' = b(1 + 8aκ − 16b²) sends almost every b to infinity


def kappa(eta: float) -> float:
    return float(np.sqrt(eta))


def edge_radius(eta: float, degree: int = 4) -> float:
    """√(x² − y²) at the EoS minimum: (η⁻² − 4)^{1/4} (degree 4), (4η⁻² − 4)^{1/4} (degree 2)."""
    inside = eta**-2 - 4.0 if degree == 4 else 4.0 * eta**-2 - 4.0
    return float(inside**0.25) if inside > 0 else float("nan")


def undefined_reason(model_name: str, eta: float) -> str:
    """'' if (a, b) is defined for this model and η, else one sentence saying why not."""
    degree = DEGREE.get(model_name)
    if degree is None:
        return (f"Zhu's (a, b) plane is defined only for the minimalist example (x2y2, xyzw) "
                f"and the degree-2 xy; the model {model_name!r} has no such coordinates.")
    limit = ETA_LIMIT[degree]
    if not eta < limit:
        minimum = "xy = 1, x² + y² = 1/η" if degree == 4 else "xy = 1, x² + y² = 2/η"
        return (f"(a, b) is undefined at η = {eta:g}: the EoS minimum {minimum} with x > y "
                f"exists only for η < {limit:g}.")
    return ""


def coordinates(x, y, eta: float, degree: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """The formulas of the module docstring; a is NaN where x² < y²."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    u = x * x - y * y
    with np.errstate(invalid="ignore"):
        a = np.where(u >= 0, np.sqrt(np.abs(u)), np.nan) - edge_radius(eta, degree)
    return a, x * y - 1.0


@dataclass
class ABPath:
    """A run in the (a, b) plane, and what was assumed to put it there."""

    a: np.ndarray
    b: np.ndarray
    eta: float
    degree: int
    swapped: bool = False       # x and y exchanged (the run ends with |y| > |x|)
    mirrored: bool = False      # y → −y (a degree-4 run ending on xy = −1)
    no_a: int = 0               # iterates with x² < y²: no a, not drawn
    notes: list = field(default_factory=list)

    @property
    def kappa(self) -> float:
        return kappa(self.eta)


def ab_path(model_name: str, params, eta: float) -> ABPath | str:
    """The iterates ``params`` (n, dim) of ``model_name`` at step size ``eta`` in (a, b).

    Returns the sentence of :func:`undefined_reason` when there is no (a, b) plane.
    For xyzw, (x, y) are the first two coordinates: the transform assumes z = x, w = y.
    """
    reason = undefined_reason(model_name, eta)
    if reason:
        return reason
    degree = DEGREE[model_name]
    params = np.asarray(params, dtype=float)
    x, y, notes = params[:, 0], params[:, 1], []
    if model_name == "xyzw":
        gap = np.max(np.abs(params[:, 2:4] - params[:, 0:2])) if len(params) else 0.0
        if gap > 1e-9 * max(1.0, float(np.max(np.abs(params)))):
            notes.append(f"this xyzw start is not symmetric (z ≠ x or w ≠ y, up to {gap:.2g}): "
                         "(a, b) uses its x and y only, while Zhu's transform assumes z = x, "
                         "w = y")
    swapped = bool(len(x) and abs(y[-1]) > abs(x[-1]))
    if swapped:
        x, y = y, x
        notes.append("the run ends with |y| > |x|: read with x and y exchanged (a symmetry "
                     "of the loss)")
    mirrored = bool(degree == 4 and len(x) and x[-1] * y[-1] < 0)
    if mirrored:
        y = -y
        notes.append("the run ends on the branch xy = −1: read with y → −y, so b = −xy − 1")
    a, b = coordinates(x, y, eta, degree)
    no_a = int(np.sum(~np.isfinite(a) & np.isfinite(b)))
    if no_a:
        notes.append(f"{no_a} of {len(a)} iterates have x² < y² and no a: not drawn")
    return ABPath(a, b, float(eta), degree, swapped, mirrored, no_a, notes)


# --- the curves of the degree-4 analysis ---------------------------------------------------

def edge_a(k: float) -> float:
    """The vertex of the parabola, a = −κ³/8: where GD converges (Zhu et al.)."""
    return -k**3 / 8.0


def parabola(k: float, a_hi: float, n: int = 400) -> dict:
    """b = ±√(aκ/2 + κ⁴/16) for a from the vertex −κ³/8 to ``a_hi`` (denser near the vertex)."""
    lo = edge_a(k)
    a = lo + (max(a_hi, lo) - lo) * np.linspace(0.0, 1.0, n) ** 2
    b = np.sqrt(np.maximum(a * k / 2.0 + k**4 / 16.0, 0.0))
    return {"a": np.concatenate([a[::-1], a]), "b": np.concatenate([-b[::-1], b])}


def two_step(a, b, k: float, degree: int = 4):
    """(a'', b'') after two GD steps, to leading order near the EoS minimum."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if degree == 4:
        return a - 4.0 * b**2 * k**3, b * (1.0 + 8.0 * a * k - 16.0 * b**2)
    return a - np.sqrt(2.0) * k**3 * b**2, b * (1.0 + 4.0 * np.sqrt(2.0) * a * k)


def ellipse(a0: float, b0: float, k: float, n: int = 361) -> dict:
    """The degree-2 orbit through (a₀, b₀): b² + 4a²/κ² = b₀² + 4a₀²/κ²."""
    level = b0**2 + 4.0 * a0**2 / k**2
    t = np.linspace(0.0, 2.0 * np.pi, n)
    return {"a": 0.5 * k * np.sqrt(level) * np.cos(t), "b": np.sqrt(level) * np.sin(t)}


def period_doubling_a(k: float) -> float:
    """Where the period-2 points ±b*, 16b*² = 8aκ, lose stability: 1 − 16aκ = −1, a = 1/(8κ)."""
    return 1.0 / (8.0 * k)


def escape_a(k: float) -> float:
    """Beyond a = 1/(4κ) the map sends almost every b to infinity.

    With r = 1 + 8aκ and b = β√r/4 the map is β ↦ r(β − β³); its orbits stay in
    |β| ≤ √(1 + 1/r) (the 2-cycle ±√(1 + 1/r)) as long as the hump r·2/(3√3) does not pass
    that bound: 4r³/27 ≤ r + 1, i.e. r ≤ 3, 8aκ ≤ 2.
    """
    return ESCAPE / (8.0 * k)


def bifurcation_range(k: float) -> tuple[float, float]:
    """The a-range of the diagram: 8aκ from −0.2 (b → 0) to just past the escape (8aκ = 2)."""
    return -0.025 / k, 1.02 * escape_a(k)


@lru_cache(maxsize=32)
def bifurcation(k: float, n_a: int = 360, transient: int = 1500, keep: int = 48) -> dict:
    """Bifurcation diagram of b'' = b(1 + 8aκ − 16b²): for each a, the last ``keep`` values.

    Iterated from b₀ = ±½·√(1 + 8aκ)/4 (inside the invariant interval |b| ≤ √(2 + 8aκ)/4)
    for ``transient`` steps; orbits that escape are dropped; repeated values (a fixed point,
    a cycle) are kept once. Identical for every session: cached per κ (immutable arrays).
    """
    a_lo, a_hi = bifurcation_range(k)
    a = np.linspace(a_lo, a_hi, n_a)
    c = 8.0 * a * k
    half = 0.5 * np.sqrt(1.0 + c) / 4.0
    b = np.stack([half, -half], axis=1)          # (n_a, 2): both attractors of the odd map
    gain = (1.0 + c)[:, None]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(transient):
            b = b * (gain - 16.0 * b * b)
        tail = np.empty((keep,) + b.shape)
        for i in range(keep):
            b = b * (gain - 16.0 * b * b)
            tail[i] = b
    a_out, b_out = [], []
    for j in range(n_a):
        values = tail[:, j, :].ravel()
        values = values[np.isfinite(values) & (np.abs(values) < 10.0)]
        if len(values):
            values = np.unique(np.round(values, 5))
            a_out.append(np.full(len(values), a[j]))
            b_out.append(values)
    if not a_out:
        return {"a": np.zeros(0), "b": np.zeros(0)}
    out = {"a": np.concatenate(a_out), "b": np.concatenate(b_out)}
    for v in out.values():
        v.setflags(write=False)
    return out
