"""Type aliases shared by the engine (one private module, so signatures stay readable)."""
from __future__ import annotations

from typing import Callable, Sequence, Union

import jax

Array = jax.Array
LossFn = Callable[[Array, Array], Array]
# A step size: one float, or a piecewise-constant schedule [(0, eta0), (k1, eta1), ...].
Schedule = Union[float, Sequence[tuple[int, float]]]
