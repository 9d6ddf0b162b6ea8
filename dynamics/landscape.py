"""The loss over the plotting plane, for heat maps and contours."""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .checks import resolve_model


@functools.lru_cache(maxsize=None)
def _grid_loss(loss_fn):
    return jax.jit(jax.vmap(loss_fn, in_axes=(0, None)))


def loss_on_plane(model, xs, ys=None) -> np.ndarray:
    """L at every point of the model's plane: shape (len(ys), len(xs)); (len(xs),) for 1-D.

    Models with more than two parameters are evaluated on their plane (xyzw: z = x, w = y).
    Values that overflow are returned as +inf, so a log-scale map can clip them.
    """
    model = resolve_model(model)
    xs = np.asarray(xs, dtype=np.float64).reshape(-1)
    if len(model.plane) == 1:
        points, shape = xs[:, None], (len(xs),)
    else:
        ys = np.asarray(ys, dtype=np.float64).reshape(-1)
        gx, gy = np.meshgrid(xs, ys)
        points, shape = np.stack([gx.ravel(), gy.ravel()], axis=1), (len(ys), len(xs))
    values = np.asarray(_grid_loss(model.loss_fn)(jnp.asarray(model.embed(points)),
                                                  model.consts_array))
    return np.where(np.isnan(values), np.inf, values).reshape(shape)
