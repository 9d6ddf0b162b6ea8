"""EoS Explorer engine: gradient descent and friends on toy objectives, in float64 JAX.

The public names below are the engine contract (see DESIGN.md); nothing here imports a UI
package.
"""
from . import _config  # noqa: F401  (float64 and the compilation cache, before anything runs)
from .landscape import loss_on_plane
from .measure import measure
from .model import Model, Segment
from .models import MODELS, quadratic
from .optimizers import OPTIMIZERS, Optimizer, adam, momentum, optimizers_for, rmsprop
from .sharpness import sharpness
from .simulate import Trajectory, simulate
from .sweeps import Sweep, sweep_eta, sweep_init
from .warmup import warm_up

__all__ = [
    "MODELS", "Model", "OPTIMIZERS", "Optimizer", "Segment", "Sweep", "Trajectory", "adam",
    "loss_on_plane", "measure", "momentum", "optimizers_for", "quadratic", "rmsprop",
    "sharpness", "simulate", "sweep_eta", "sweep_init", "warm_up",
]

from .bifurcation import Bifurcation, bifurcation  # noqa: E402  (η sweep, issue 11)
__all__ += ["Bifurcation", "bifurcation"]
