"""Plane twins: GD from a start on a model's plane may step a cheaper model exactly.

On xyzw's symmetric plane z = x, w = y, ∂L/∂x at (x, y, x, y) is −(1 − x²y²)xy², as for
x2y2 = ¼(1 − x²y²)²: GD on xyzw from (x, y, x, y) stays there and is GD on x2y2 from (x, y)
(the seed's eq. (2)). Stepping the 2-D twin is cheaper and exactly symmetric; its rows are
measured as xyzw. Only plain GD: normalized GD and GD on √L see xyzw's gradient norm and
loss, which differ from the twin's.
"""
from __future__ import annotations

import functools

import numpy as np


@functools.lru_cache(maxsize=None)
def _table():
    from .. import models

    # (the model's loss, its plane's embedding) → its twin in MODELS
    return {(models._xyzw_loss, models._symmetric_xyzw): "x2y2"}


def plane_twin(model):
    """The twin of ``model`` (a Model), or None."""
    from ..models import MODELS

    name = _table().get((model.loss_fn, model.embed_fn))
    return None if name is None else MODELS[name]


def on_twin_plane(model, optimizer: str, starts: np.ndarray) -> bool:
    """GD from starts (..., dim) that all lie on the plane of a model with a plane twin."""
    return (optimizer == "gd" and plane_twin(model) is not None
            and np.array_equal(model.embed(model.project(starts)), starts))
