"""The objectives of the seed talk, each declared once with everything the UI needs.

Formulas (exact):
  quadratic  ½ Σ λᵢ θᵢ²
  xy         ½ (1 − xy)²
  x2y2       ¼ (1 − x²y²)²           (GD on it is the seed's eq. (2))
  xyzw       ½ (1 − xyzw)²           (Zhu et al. 2023, the minimalist example)
  arora      (1 + x²) y²             (Arora, Li, Panigrahi 2022, Fig. 1)
  picky      ½ (f₁ + f₂), f₁ = min{x², 0.1(x−1)²}, f₂ = min{x², 1.9(x−1)²}  (Wu, Ma, E 2018)
  sharpening ½ (c + y²) x² + ½ κ (y − y*)², (c, κ, y*) = (9.5, 0.1, 2.5)
                                       (self-stabilization, Damian, Nichani, Lee 2022)
"""
from __future__ import annotations

from typing import Sequence

import jax.numpy as jnp
import numpy as np

from .model import Model, Segment


# --- loss functions: module level, so that their identity (the compile-cache key) is stable --

def _quadratic_loss(theta, lams):
    return 0.5 * jnp.sum(lams * theta**2)


def _xy_loss(theta, consts):
    return 0.5 * (1.0 - theta[0] * theta[1]) ** 2


def _x2y2_loss(theta, consts):
    return 0.25 * (1.0 - (theta[0] * theta[1]) ** 2) ** 2


def _xyzw_loss(theta, consts):
    return 0.5 * (1.0 - theta[0] * theta[1] * theta[2] * theta[3]) ** 2


def _arora_loss(theta, consts):
    return (1.0 + theta[0] ** 2) * theta[1] ** 2


def _picky_components(theta, consts):
    x = theta[0]
    f1 = jnp.minimum(x**2, 0.1 * (x - 1.0) ** 2)
    f2 = jnp.minimum(x**2, 1.9 * (x - 1.0) ** 2)
    return jnp.stack([f1, f2])


def _picky_loss(theta, consts):
    return jnp.mean(_picky_components(theta, consts))


def _sharpening_loss(theta, consts):
    c, kappa, y_star = consts[0], consts[1], consts[2]
    x, y = theta[0], theta[1]
    return 0.5 * (c + y**2) * x**2 + 0.5 * kappa * (y - y_star) ** 2


# --- minima manifolds in the plotting plane ----------------------------------------------

def _hyperbola(c: float, window, sharpness_of, n: int = 400) -> list[Segment]:
    """Branches of x·y = c inside the window, sampled densely where they bend."""
    (x0, x1), (y0, y1) = window
    segments = []
    for sign in (1.0, -1.0):
        lo, hi = (max(x0, 1e-9), x1) if sign > 0 else (max(-x1, 1e-9), -x0)
        lo = max(lo, abs(c) / max(abs(y0), abs(y1), 1e-9))  # |y| must fit in the window
        if hi <= lo:
            continue
        xs = sign * np.geomspace(lo, hi, n)
        ys = c / xs
        keep = (ys >= y0) & (ys <= y1)
        if keep.sum() >= 2:
            pts = np.stack([xs[keep], ys[keep]], axis=1)
            segments.append(Segment(pts, sharpness_of(pts[:, 0], pts[:, 1])))
    return segments


def _xy_manifold(consts, window):
    return _hyperbola(1.0, window, lambda x, y: x**2 + y**2)


def _x2y2_manifold(consts, window):
    # x²y² = 1: xy = ±1; the exact sharpness there is 2(x² + y²) for x2y2 and for xyzw
    # on its symmetric plane (Zhu et al. 2023).
    sharp = lambda x, y: 2.0 * (x**2 + y**2)
    return _hyperbola(1.0, window, sharp) + _hyperbola(-1.0, window, sharp)


def _arora_manifold(consts, window):
    xs = np.linspace(*window[0], 400)
    return [Segment(np.stack([xs, np.zeros_like(xs)], axis=1), 2.0 * (1.0 + xs**2))]


def _quadratic_manifold(lams, window):
    p = min(len(lams), 2)
    return [Segment(np.zeros((1, p)), np.array([float(np.max(lams))]))]


def _picky_manifold(consts, window):
    return [Segment(np.array([[0.0], [1.0]]), np.array([2.0, 2.0]))]


def _sharpening_manifold(consts, window):
    # One minimum, (0, y*); there the Hessian is diag(c + y*², κ).
    c, kappa, y_star = consts
    return [Segment(np.array([[0.0, y_star]]), np.array([max(c + y_star**2, kappa)]))]


def _symmetric_xyzw(plane_points):
    """(x, y) -> (x, y, z = x, w = y): the plane on which xyzw reduces to eq. (2).

    Plain indexing, so it maps numpy and JAX arrays alike (the metrics lift rows with it)."""
    return plane_points[..., _XYXY]


_XYXY = np.array([0, 1, 0, 1])


# --- the registry --------------------------------------------------------------------------

def quadratic(lams: Sequence[float]) -> Model:
    """The quadratic ½ Σ λᵢ θᵢ² for the given λ (any length ≥ 1, finite values).

    Direction i of GD converges iff |1 − ηλᵢ| < 1, i.e. (for λᵢ > 0) iff λᵢ < 2/η.
    """
    lams = tuple(float(v) for v in np.atleast_1d(np.asarray(lams, dtype=np.float64)))
    if len(lams) < 1:
        raise ValueError("A quadratic needs at least one eigenvalue λ.")
    if not all(np.isfinite(lams)):
        raise ValueError(f"Every λ of a quadratic must be a finite number; got {lams}.")
    dim = len(lams)
    names = ("x", "y") if dim == 2 else tuple(f"θ{i + 1}" for i in range(dim))
    top = max(abs(v) for v in lams) or 1.0
    return Model(
        name="quadratic",
        title="Quadratic ½ Σ λᵢ θᵢ²",
        formula=r"L(\theta) = \tfrac12 \sum_i \lambda_i \theta_i^2",
        dim=dim,
        param_names=names,
        loss_fn=_quadratic_loss,
        consts=lams,
        default_init=(1.0,) * dim,
        default_eta=round(1.8 / top, 6),
        eta_range=(0.01 / top, 2.5 / top),
        default_steps=60,
        plane=names[:2] if dim >= 2 else names,
        window=((-2.5, 2.5), (-2.5, 2.5)) if dim >= 2 else ((-2.5, 2.5),),
        manifold_fn=_quadratic_manifold,
        note=("GD on a quadratic moves each eigen-direction independently: "
              "θᵢ ← (1 − ηλᵢ) θᵢ. Direction i converges iff λᵢ < 2/η, so GD converges "
              "iff the sharpness λ₁ is below 2/η."),
    )


MODELS: dict[str, Model] = {
    "quadratic": quadratic((1.0, 0.4)),
    "xy": Model(
        name="xy",
        title="Degree 2: ½ (1 − xy)²",
        formula=r"L(x, y) = \tfrac12 (1 - xy)^2",
        dim=2, param_names=("x", "y"), loss_fn=_xy_loss,
        default_init=(3.5, 0.1), default_eta=0.2, eta_range=(0.01, 1.0), default_steps=300,
        window=((-1.0, 5.0), (-1.0, 3.0)),
        manifold_fn=_xy_manifold,
        note=("Minima xy = 1 with sharpness x² + y². Unlike the degree-4 example, GD "
              "here settles at minima flatter than 2/η instead of at the edge of stability: "
              "pin a run of each from the same start to compare (Zhu et al. 2023)."),
    ),
    "x2y2": Model(
        name="x2y2",
        title="Degree 4 in the plane: ¼ (1 − x²y²)²",
        formula=r"L(x, y) = \tfrac14 (1 - x^2 y^2)^2",
        dim=2, param_names=("x", "y"), loss_fn=_x2y2_loss,
        default_init=(2.8, 0.2), default_eta=0.2, eta_range=(0.01, 0.9), default_steps=1500,
        window=((-0.5, 4.0), (-0.5, 2.5)),
        manifold_fn=_x2y2_manifold,
        note=("The z = x, w = y slice of ½(1 − xyzw)²: GD on it is exactly eq. (2) of "
              "Zhu et al. 2023. Minima x²y² = 1 with sharpness 2(x² + y²)."),
    ),
    "xyzw": Model(
        name="xyzw",
        title="Minimalist example: ½ (1 − xyzw)²",
        formula=r"L(x, y, z, w) = \tfrac12 (1 - xyzw)^2",
        dim=4, param_names=("x", "y", "z", "w"), loss_fn=_xyzw_loss,
        default_init=(2.8, 0.2, 2.8, 0.2), default_eta=0.2, eta_range=(0.01, 0.5),
        default_steps=1500,
        window=((-0.5, 4.0), (-0.5, 2.5)),
        embed_fn=_symmetric_xyzw,
        manifold_fn=_x2y2_manifold,
        note=("Zhu, Wang, Wang, Zhou, Ge 2023. From a symmetric start (z₀ = x₀, w₀ = y₀) GD "
              "stays symmetric; started beyond the EoS minimum (xy = 1, x² + y² = 1/η) it "
              "converges with sharpness just below 2/η. The plane shows (x, y)."),
    ),
    "arora": Model(
        name="arora",
        title="Arora et al. toy: (1 + x²) y²",
        formula=r"L(x, y) = (1 + x^2)\, y^2",
        dim=2, param_names=("x", "y"), loss_fn=_arora_loss,
        default_init=(14.7, 3.0), default_eta=1.2, eta_range=(0.01, 6.0), default_steps=200,
        default_optimizer="normalized_gd",  # phase I, the drift to x = 0, then a 2-cycle
        window=((-2.0, 16.0), (-4.0, 4.0)),
        manifold_fn=_arora_manifold,
        note=("Arora, Li, Panigrahi 2022, Fig. 1. Minima y = 0 with sharpness 2(1 + x²). "
              "Normalized GD and GD on √L oscillate across the valley and drift along it "
              "towards flatter minima (smaller |x|)."),
    ),
    "picky": Model(
        name="picky",
        title="SGD is more picky (Wu, Ma, E 2018)",
        formula=(r"L(x) = \tfrac12 (f_1 + f_2),\ f_1 = \min\{x^2, 0.1(x-1)^2\},\ "
                 r"f_2 = \min\{x^2, 1.9(x-1)^2\}"),
        dim=1, param_names=("x",), loss_fn=_picky_loss, components_fn=_picky_components,
        default_init=(1.0 - 1e-5,), default_eta=0.7, eta_range=(0.01, 1.2), default_steps=200,
        default_optimizer="sgd",            # GD stays at x = 1; SGD escapes to x = 0
        plane=("x",), window=((-0.6, 1.6),),
        manifold_fn=_picky_manifold,
        note=("Both minima have sharpness 2, so GD at η = 0.7 (2/η ≈ 2.86) is stable at "
              "either. SGD picks f₁ or f₂: at x = 1 their curvatures are 0.2 and 3.8 and "
              "the second moment grows by 1.7476 per step, so SGD escapes to x = 0."),
    ),
    "sharpening": Model(
        name="sharpening",
        title="Self-stabilization (Damian et al. 2022)",
        formula=r"L(x, y) = \tfrac12 (c + y^2)\, x^2 + \tfrac12 \kappa\, (y - y^*)^2",
        dim=2, param_names=("x", "y"), loss_fn=_sharpening_loss,
        consts=(9.5, 0.1, 2.5),
        default_init=(0.5, 0.3), default_eta=0.2, eta_range=(0.01, 0.25), default_steps=1000,
        window=((-1.5, 1.5), (-0.5, 3.0)),
        manifold_fn=_sharpening_manifold,
        note=("Damian, Nichani, Lee 2022 (self-stabilization), with c = 9.5, κ = 0.1, "
              "y* = 2.5. The sharpness along x is c + y²; gradient flow pulls y to y* "
              "(sharpness 15.75). GD at η = 0.2 stops where c + y² = 2/η = 10: x swings "
              "±σ every step and the x² term holds y there, so S stays at 2/η and the loss "
              "stays positive. Cut η (drop to 0.1) and the sharpening resumes."),
    ),
}
