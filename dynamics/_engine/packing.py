"""An optimizer's state (a NamedTuple of arrays) as one flat float64 vector, and back.

The loops carry the state next to θ in the same float arrays (a run's plan, a sweep's
block state), so a stateful rule travels through the loop GD uses. Every leaf is a float64
array; the step count t is a whole number below 2⁵³, so it is exact as a float.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np


@dataclass(frozen=True)
class StateLayout:
    """The tree structure and leaf shapes of one optimizer's state for one dim (hashable)."""

    treedef: object
    shapes: tuple

    @classmethod
    def of(cls, opt, dim: int) -> "StateLayout":
        shape = jax.eval_shape(opt.init, jax.ShapeDtypeStruct((dim,), jnp.float64))
        leaves, treedef = jax.tree_util.tree_flatten(shape)
        return cls(treedef, tuple(tuple(leaf.shape) for leaf in leaves))

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
