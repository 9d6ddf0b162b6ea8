"""What each control may hold, and how a typed or linked value is read (no Panel here).

One table, ``LIMITS``, serves links and typed values alike; ``_parse`` turns URL text into a
parameter's type with a reason when it cannot; ``snap`` writes floats without noise.
"""
from __future__ import annotations

import math

import param


MAX_STEPS = 20_000   # one run must stay interactive on a 2-core machine
LIMIT = 1e6          # |start| beyond this is a typo, not an experiment


def _eta_limits(model):
    """(0, the model's largest η]: beyond its slider's end every model diverges at once."""
    return (0.0, float(model.eta_range[1]))


# name -> model -> (lo, hi): the one table of limits, for typed values and links alike.
# Names in OPEN_BELOW must lie strictly above lo (a step size of 0 takes no step).
LIMITS = {
    "eta": _eta_limits, "drop_eta": _eta_limits,
    "x0": lambda m: (-LIMIT, LIMIT), "y0": lambda m: (-LIMIT, LIMIT),
    "z0": lambda m: (-LIMIT, LIMIT), "w0": lambda m: (-LIMIT, LIMIT),
    "lam1": lambda m: (-LIMIT, LIMIT), "lam2": lambda m: (-LIMIT, LIMIT),
    "steps": lambda m: (1, MAX_STEPS), "drop_step": lambda m: (0, MAX_STEPS),
    "seed": lambda m: (0, 2**31 - 1),
    # the optimizers' hyperparameters: a decay rate β ∈ [0, 1), ε ∈ (0, 1]
    "beta": lambda m: (0.0, 1.0), "beta1": lambda m: (0.0, 1.0), "beta2": lambda m: (0.0, 1.0),
    "eps": lambda m: (0.0, 1.0),
}
OPEN_BELOW = {"eta", "drop_eta", "eps"}
OPEN_ABOVE = {"beta", "beta1", "beta2"}   # β = 1: a running mean that never forgets
SYMBOLS = {"eta": "η", "drop_eta": "η after the drop", "x0": "x₀", "y0": "y₀", "z0": "z₀",
           "w0": "w₀", "lam1": "λ₁", "lam2": "λ₂", "steps": "steps", "drop_step": "drop step",
           "seed": "seed", "beta": "β", "beta1": "β₁", "beta2": "β₂", "eps": "ε"}
# optimizer name -> the state's names of its hyperparameters, in its factory's order
HYPER_NAMES = {"momentum": ("beta",), "rmsprop": ("beta2", "eps"),
               "adam": ("beta1", "beta2", "eps")}


def fine_step(lo: float, hi: float, ticks: int = 500) -> float:
    """A round slider step 10ᵏ giving about ``ticks`` positions over [lo, hi]."""
    return 10.0 ** round(math.log10(max(hi - lo, 1e-12) / ticks))


def snap(value: float, step: float | None) -> float:
    """``value`` without float noise: k·step if it is within 10⁻⁶ step of it, else 12 digits.

    A slider moved by keys sends 0.2 + 0.001 = 0.20099999999999998; that is 0.201. A typed
    0.2037 stays 0.2037 (rounding it to the step would change the run a link reproduces).
    """
    value = float(value)
    if step:
        decimals = max(0, -math.floor(math.log10(step)))
        rounded = round(value, decimals)
        if abs(value - rounded) <= 1e-6 * step:
            return rounded
    return float(f"{value:.12g}")



def _number(value) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


def _text(value, p: param.Parameter) -> str:
    """A parameter value as URL text: floats without noise at the parameter's step."""
    if isinstance(value, float) and not isinstance(p, param.Integer):
        return str(snap(value, p.step))
    return str(value)


def _for_model(p: param.Parameter) -> str:
    """' for the model …' when the choices depend on it (the optimizers)."""
    owner = getattr(p, "owner", None)
    if p.name == "optimizer" and owner is not None and hasattr(owner, "model"):
        return f" for the model {owner.model!r}"
    return ""


def _parse(p: param.Parameter, raw):
    """A query string value -> the parameter's type (ValueError with a reason if not)."""
    blank = raw is None or (isinstance(raw, str) and not raw.strip())
    if blank and not isinstance(p, param.String):   # a text parameter may be empty
        raise ValueError("it is empty")
    text = raw.strip() if isinstance(raw, str) else raw
    if isinstance(p, param.Selector):
        value = str(text)
        if value not in p.objects:
            choices = ", ".join(str(o) for o in p.objects if str(o))
            raise ValueError(f"it is not one of the choices{_for_model(p)}: {choices}")
        return value
    if isinstance(p, param.String):   # compare: parsed (strictly) by app/compare.py
        return str(text)
    if isinstance(p, param.Boolean):
        if isinstance(text, bool):
            return text
        if str(text).lower() in ("true", "1", "yes", "on"):
            return True
        if str(text).lower() in ("false", "0", "no", "off"):
            return False
        raise ValueError("it must be true or false")
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ValueError("it is not a number") from None
    if not math.isfinite(value):
        raise ValueError("it is not a finite number")
    if isinstance(p, param.Integer):
        if value != int(value):
            raise ValueError("it must be a whole number")
        lo, hi = p.bounds or (None, None)
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ValueError(f"it must lie between {lo} and {hi}")
        return int(value)
    return value


# the η sweep (view=sweep, app/views_sweep.py): its range lies where the slider's η may go
LIMITS.update({"sweep_eta_from": _eta_limits, "sweep_eta_to": _eta_limits,
               "sweep_count": lambda m: (2, 500), "sweep_keep": lambda m: (2, 256),
               "sweep_steps": lambda m: (10, 100_000)})
OPEN_BELOW |= {"sweep_eta_from", "sweep_eta_to"}
SYMBOLS.update({"sweep_eta_from": "η from", "sweep_eta_to": "η to",
                "sweep_count": "number of step sizes", "sweep_keep": "last iterates K",
                "sweep_steps": "steps per η", "sweep_quantity": "plotted quantity"})
# the basin map's grid (app/views_basin.py): up to 512 × 512 starts, 50 000 steps each
LIMITS.update({"basin_res": lambda m: (8, 512), "basin_steps": lambda m: (1, 50_000)})
SYMBOLS.update({"basin_res": "cells per side", "basin_steps": "steps per start",
                "basin_window": "map window"})
