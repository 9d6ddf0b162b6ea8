"""What a model is: an objective L(θ) as data plus a pure loss function.

A :class:`Model` is data plus ``loss_fn(theta, consts)``. Every number a user can change
(the λ of a quadratic, say) travels in ``consts`` as an array leaf, so one compiled
program serves every value of it. The objectives themselves are declared in ``models.py``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

import jax.numpy as jnp
import numpy as np

from ._config import devices, on_device
from ._types import Array, LossFn


class Segment(NamedTuple):
    """A piece of the minima manifold in the model's plotting plane.

    ``points`` has shape (k, p), p = len(model.plane); ``sharpness`` (k,) is the exact
    sharpness of the full objective at those minima (NaN where no closed form is known).
    """

    points: np.ndarray
    sharpness: np.ndarray


@dataclass(frozen=True, eq=False)
class Model:
    """One objective L(θ) and how to show it.

    Attributes:
      name: registry key (``"xyzw"``).
      title: a short human title.
      formula: LaTeX of L, shown in the UI.
      dim: number of parameters.
      param_names: one short name per parameter.
      loss_fn: ``loss_fn(theta, consts) -> scalar``, pure JAX.
      consts: numbers the loss depends on (traced, never baked into a program).
      components_fn: ``(theta, consts) -> (m,)`` per-sample losses whose mean is L, or None.
      default_init, default_eta, eta_range, default_steps: what the UI starts from.
      default_optimizer: the update rule whose run shows this model's phenomenon.
      plane: names of the plotting-plane axes (one axis for 1-D models).
      window: ((x_min, x_max), (y_min, y_max)) of the plane; one pair for 1-D models.
      embed_fn: plane coordinates (..., p) -> parameters (..., dim).
      manifold_fn: ``(consts, window) -> list[Segment]``: the minima in the plane.
      note: one paragraph, for the UI, with the paper it comes from.
    """

    name: str
    title: str
    formula: str
    dim: int
    param_names: tuple[str, ...]
    loss_fn: LossFn
    consts: tuple[float, ...] = ()
    components_fn: Callable[[Array, Array], Array] | None = None
    default_init: tuple[float, ...] = ()
    default_eta: float = 0.1
    eta_range: tuple[float, float] = (0.01, 1.0)
    default_steps: int = 1000
    default_optimizer: str = "gd"
    plane: tuple[str, ...] = ("x", "y")
    window: tuple[tuple[float, float], ...] = ((-2.0, 2.0), (-2.0, 2.0))
    embed_fn: Callable[[np.ndarray], np.ndarray] | None = None
    manifold_fn: Callable[..., list[Segment]] | None = None
    note: str = ""

    @property
    def n_components(self) -> int:
        """How many per-sample losses SGD can pick from (0: not a finite sum)."""
        if self.components_fn is None:
            return 0
        return int(np.shape(self.components_fn(jnp.zeros(self.dim), self.consts_array))[0])

    @property
    def consts_array(self) -> Array:
        """``consts`` as a float64 array on the first CPU device (transferred once)."""
        return on_device(tuple(self.consts), devices()[0])

    def embed(self, plane_points) -> np.ndarray:
        """Plane coordinates (..., p) -> parameters (..., dim)."""
        pts = np.asarray(plane_points, dtype=np.float64)
        if self.embed_fn is not None:
            return self.embed_fn(pts)
        pad = self.dim - pts.shape[-1]
        return np.concatenate([pts, np.zeros(pts.shape[:-1] + (pad,))], axis=-1) if pad else pts

    def project(self, params) -> np.ndarray:
        """Parameters (..., dim) -> plane coordinates (..., p): the first p parameters."""
        return np.asarray(params, dtype=np.float64)[..., : len(self.plane)]

    def manifold(self) -> list[Segment]:
        """The minima of L drawn in the plane (empty if the model declares none)."""
        if self.manifold_fn is None:
            return []
        return self.manifold_fn(np.asarray(self.consts, dtype=np.float64), self.window)

    def loss(self, params) -> float:
        """L(θ) at one point, as a Python float."""
        return float(self.loss_fn(jnp.asarray(params, dtype=jnp.float64), self.consts_array))

    def __repr__(self) -> str:
        consts = f", consts={self.consts}" if self.consts else ""
        return f"Model({self.name!r}, dim={self.dim}{consts})"
