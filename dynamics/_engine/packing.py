"""An optimizer's state (a NamedTuple of arrays) as one flat float64 vector, and back.

The loops carry the state next to θ in the same float arrays (a run's plan, a sweep's
block state), so a stateful rule travels through the loop GD uses. Every leaf is a float64
array; the step count t is a whole number below 2⁵³, so it is exact as a float.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np


@functools.lru_cache(maxsize=None)
def _layout(init_fn, hyper: tuple, dim: int) -> "StateLayout":
    # (keyed by the hyperparameters too, whose values never change the shapes: a cheap key)
    shape = jax.eval_shape(lambda theta: init_fn(theta, *hyper),
                           jax.ShapeDtypeStruct((dim,), jnp.float64))
    leaves, treedef = jax.tree_util.tree_flatten(shape)
    return StateLayout(treedef, tuple(tuple(leaf.shape) for leaf in leaves))


@dataclass(frozen=True)
class StateLayout:
    """The tree structure and leaf shapes of one optimizer's state for one dim (hashable)."""

    treedef: object
    shapes: tuple

    @classmethod
    def of(cls, opt, dim: int) -> "StateLayout":
        """The layout of ``opt.init(θ)`` for θ of length dim (traced once per rule and dim)."""
        return _layout(opt.init_fn, opt.hyper, dim)

    @property
    def size(self) -> int:
        return sum(math.prod(s) for s in self.shapes)

    def flatten(self, state) -> np.ndarray:
        """Host: the state's leaves, raveled and joined (length ``size``)."""
        leaves = jax.tree_util.tree_leaves(state)
        if not leaves:
            return np.zeros(0)
        return np.concatenate([np.ravel(np.asarray(leaf, dtype=np.float64)) for leaf in leaves])

    def flatten_cells(self, states) -> np.ndarray:
        """Host: states of many cells (each leaf with a leading cells axis) as (size, cells)."""
        leaves = jax.tree_util.tree_leaves(states)
        if not leaves:
            return np.zeros((0, 0))
        cells = np.shape(leaves[0])[0]
        return np.concatenate([np.asarray(leaf, dtype=np.float64).reshape(cells, -1)
                               for leaf in leaves], axis=1).T

    def ravel(self, state):
        """Traced: the same as ``flatten``, inside a computation."""
        leaves = jax.tree_util.tree_leaves(state)
        if not leaves:
            return jnp.zeros(0)
        return jnp.concatenate([jnp.ravel(leaf) for leaf in leaves])

    def unflatten(self, flat):
        """Traced or host: the state from its flat vector."""
        leaves, at = [], 0
        for shape in self.shapes:
            n = math.prod(shape)
            leaves.append(flat[at:at + n].reshape(shape))
            at += n
        return jax.tree_util.tree_unflatten(self.treedef, leaves)
