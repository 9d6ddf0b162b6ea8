"""Compile every (model, optimizer) program ahead of the first user.

A server calls ``warm_up()`` in a background thread at start; with the persistent cache in
``.jax_cache/`` this loads programs from disk in well under a second per model.
"""
from __future__ import annotations

from .checks import CHUNK
from .models import MODELS
from .optimizers import optimizers_for
from .simulate import simulate
from ._engine.metrics import WINDOW
from ._engine.twins import plane_twin
from ._config import devices


def warm_up(models=None) -> int:
    """Run each model with each of its optimizers once; returns how many runs it made.

    The runs are long enough to reach every CPU device with a block of metrics, so no
    later run of any length compiles again.
    """
    steps = max(CHUNK, WINDOW * len(devices())) + 1
    count = 0
    for model in (MODELS.values() if models is None else models):
        starts = [model.default_init]
        if plane_twin(model) is not None:   # GD on the plane steps the twin: warm both ways
            starts.append(tuple(model.default_init[:-1]) + (1.25 * model.default_init[-1],))
        for name in optimizers_for(model):
            for start in starts:
                simulate(model, start, model.default_eta, steps, optimizer=name)
                count += 1
    return count
