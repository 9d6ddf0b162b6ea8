"""The basin map's data: which starts end where, as arrays (no Bokeh, no Panel here).

A map runs the chosen rule from every start of a res × res grid in the model's plane
(``dynamics.sweep_init``; xyzw: the symmetric plane z = x, w = y) and keeps, per cell, the
final sharpness S = λ_max(∇²L), the final loss, whether it diverged and the step at which
it stopped (``steps_run``: a GD cell stops once a step moves θ by at most ``tol``).

A cell is *at the edge* if it did not diverge and T − BAND < S < T, where T is the rule's
threshold (2/η for GD, (2 + 2β)/η for momentum). RMSProp and Adam are held through
λ_max(P⁻¹H), which depends on their state, not through S: no cell is marked for them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

import dynamics

BAND = 0.1            # an edge cell ends with S in (T − BAND, T) (Zhu et al. 2023, Fig. 2b)
COARSE = 64           # cells per side of the first, quick picture
# cells per chunk of a long stage: one block of 4096 per core. An XLA CPU device runs one
# computation at a time, so another session's run waits for the map's round on its device;
# measured here, chunks of 32 768 cells made a 1.5 ms trajectory run take 24 ms, 8192 none
# longer (a 512² map then takes ~1.5× as long as in one piece).
CHUNK_CELLS = 8192
DIGITS = 12           # starts are rounded to this many significant digits (a link's text)
COLOURS = {"sharpness": "final sharpness S", "loss": "final loss (log₁₀ L)",
           "settled": "step at which it settled"}
REFUSED = ("flow", "central_flow")   # continuous: no steps, no threshold to settle at


@dataclass(frozen=True)
class BasinSpec:
    """What one map computes (hashable: it is the cache key, with the resolution)."""

    model: object            # dynamics.Model (frozen)
    optimizer: str
    hyper: tuple
    eta: float
    window: tuple            # ((x_lo, x_hi), (y_lo, y_hi)), or ((x_lo, x_hi),) for 1-D
    res: int
    steps: int
    seed: int = 0

    @property
    def key(self) -> tuple:
        m = self.model
        return (m.name, m.consts, self.optimizer, self.hyper, self.eta, self.window,
                self.res, self.steps, self.seed)

    def at(self, res: int) -> "BasinSpec":
        return BasinSpec(self.model, self.optimizer, self.hyper, self.eta, self.window,
                         res, self.steps, self.seed)

    def optimizer_object(self):
        from .runs import FACTORIES   # the rules with hyperparameters
        factory = FACTORIES.get(self.optimizer)
        return factory(*self.hyper) if factory and self.hyper else \
            dynamics.OPTIMIZERS[self.optimizer]


def refusal(optimizer: str) -> str:
    """'' if a map of ``optimizer`` can be made, else the sentence saying why not."""
    if optimizer in REFUSED:
        name = dynamics.OPTIMIZERS[optimizer].title
        return (f"{name} takes no steps, so there is no step-size threshold to settle at and "
                "no basin map of it here (the engine's sweeps do not run the central flow, "
                "and the gradient flow would need one ODE solve per start). Choose a "
                "discrete rule such as gradient descent.")
    return ""


def spec_of(state) -> "BasinSpec | str":
    """The map an ``ExplorerState`` asks for (its basin_ controls), or why there is none."""
    problem = refusal(state.optimizer) or state.check()
    if problem:
        return problem
    model = state.model_object()
    try:
        window = parse_window(state.basin_window, model)
    except ValueError as err:
        return f"The map window {state.basin_window!r} cannot be used: {err}."
    return BasinSpec(model, state.optimizer, state.hyper(), float(state.eta), window,
                     int(state.basin_res), int(state.basin_steps), int(state.seed))


def axis(lo: float, hi: float, res: int) -> np.ndarray:
    """``res`` cell centres from lo to hi (ends included), rounded to DIGITS digits."""
    values = np.linspace(lo, hi, res)
    return np.array([float(f"{v:.{DIGITS}g}") for v in values])


def compute(spec: BasinSpec, rows: slice | None = None) -> dict:
    """Run the map (or the band ``rows`` of it): arrays of shape (rows, res)."""
    xs = axis(*spec.window[0], spec.res)
    ys = axis(*spec.window[1], spec.res)[rows or slice(None)] if len(spec.window) > 1 else None
    sweep = dynamics.sweep_init(spec.model, spec.eta, xs, ys, spec.steps,
                                optimizer=spec.optimizer_object(), seed=spec.seed)
    return {"sharpness": np.asarray(sweep.final_sharpness, np.float64),
            "loss": np.asarray(sweep.final_loss, np.float64),
            "diverged": np.asarray(sweep.diverged, bool),
            "steps_run": np.asarray(sweep.steps_run, np.int64)}


def join(bands: list[dict]) -> dict:
    return {k: np.concatenate([b[k] for b in bands], axis=0) for k in bands[0]}


def bands(spec: BasinSpec) -> list[slice]:
    """Row bands of at most CHUNK_CELLS cells (one band for a 1-D map)."""
    if len(spec.window) == 1:
        return [slice(None)]
    per = max(1, CHUNK_CELLS // spec.res)
    return [slice(i, min(i + per, spec.res)) for i in range(0, spec.res, per)]


def threshold(spec: BasinSpec) -> float | None:
    """T the final sharpness is compared with, or None (RMSProp, Adam: held through P⁻¹H)."""
    rule = spec.optimizer_object()
    if rule.preconditioner_fn is not None:
        return None
    return float(rule.threshold(spec.eta))


def edge_mask(result: dict, t: float | None) -> np.ndarray:
    """Cells that did not diverge and end with T − BAND < S < T (none if T is None)."""
    s = result["sharpness"]
    if t is None:
        return np.zeros(s.shape, bool)
    return ~result["diverged"] & (s > t - BAND) & (s < t)


def colour_values(result: dict, colour: str) -> np.ndarray:
    """The quantity to colour by, NaN where the cell diverged (drawn grey)."""
    if colour == "sharpness":
        z = result["sharpness"].astype(np.float64)
    elif colour == "loss":
        z = np.log10(np.maximum(result["loss"], 1e-300))
    else:
        z = result["steps_run"].astype(np.float64)
    return np.where(result["diverged"] | ~np.isfinite(z), np.nan, z)


def colour_range(z: np.ndarray, colour: str, steps: int) -> tuple[float, float]:
    """The colour bar's (low, high): robust (1st–99th percentile) over the finite cells."""
    if colour == "settled":
        return 0.0, float(steps)
    finite = z[np.isfinite(z)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = np.percentile(finite, [1, 99]) if finite.size > 50 else (finite.min(), finite.max())
    span = 1e-3 * max(1.0, abs(hi))   # all cells (nearly) alike: a bar that reads as such
    if hi - lo < span:
        mid = 0.5 * (lo + hi)
        lo, hi = mid - span / 2, mid + span / 2
    return float(lo), float(hi)


@dataclass(frozen=True)
class Summary:
    cells: int
    edge: float        # fraction of all cells at the edge
    diverged: float    # fraction of all cells that diverged
    unsettled: float   # fraction still moving at the last step (ran every step, finite)


def summary(result: dict, t: float | None, steps: int) -> Summary:
    n = result["sharpness"].size
    mask = edge_mask(result, t)
    still = ~result["diverged"] & (result["steps_run"] >= steps)
    return Summary(n, float(mask.mean()), float(result["diverged"].mean()), float(still.mean()))


# --- the window as URL text --------------------------------------------------------------

def window_text(window) -> str:
    """'x_lo,x_hi,y_lo,y_hi' with digits enough for the window's size (about 5)."""
    out = []
    for lo, hi in window:
        digits = max(0, 4 - math.floor(math.log10(max(hi - lo, 1e-300))))
        out += [f"{round(lo, digits):.{digits}f}".rstrip("0").rstrip("."),
                f"{round(hi, digits):.{digits}f}".rstrip("0").rstrip(".")]
    return ",".join(v if v not in ("-0", "") else "0" for v in out)


def parse_window(text: str, model) -> tuple:
    """'' -> the model's window; else the numbers of ``text`` (ValueError saying why not)."""
    if not str(text).strip():
        return tuple(tuple(float(v) for v in w) for w in model.window)
    parts = str(text).replace(" ", "").split(",")
    need = 2 * len(model.plane)
    if len(parts) != need:
        names = "x₀,x₁" if need == 2 else "x₀,x₁,y₀,y₁"
        raise ValueError(f"it must be {need} numbers {names} separated by commas")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise ValueError("it must be numbers separated by commas") from None
    if not all(math.isfinite(v) and abs(v) <= 1e6 for v in values):
        raise ValueError("its numbers must be finite and at most 10⁶ in size")
    window = tuple((values[i], values[i + 1]) for i in range(0, need, 2))
    for lo, hi in window:
        if not hi - lo > 1e-12 * max(1.0, abs(lo)):
            raise ValueError("each range must run from a smaller to a larger number")
    return window


# --- colours (packed RGBA 0xRRGGBBAA, painted here so the browser gets one image) --------

EDGE_COLOUR = "#D55E00"       # vermillion (Okabe–Ito): far from every viridis colour
DIVERGED_COLOUR = "#A9A9A9"   # grey


def _packed(hex_colour: str) -> np.uint32:
    return np.uint32(int(hex_colour.lstrip("#")[:6], 16) << 8 | 0xFF)


def paint(values: np.ndarray, edge: np.ndarray, low: float, high: float,
          palette) -> np.ndarray:
    """``values`` through ``palette`` over [low, high]; edge cells vermillion, NaN grey."""
    table = np.array([_packed(c) for c in palette], dtype=np.uint32)
    scale = len(table) / (high - low) if high > low else 0.0
    with np.errstate(invalid="ignore"):
        index = np.clip(np.floor((values - low) * scale), 0, len(table) - 1)
    out = table[np.nan_to_num(index).astype(np.intp)]
    out[~np.isfinite(values)] = _packed(DIVERGED_COLOUR)
    out[edge] = _packed(EDGE_COLOUR)
    return out


def image_bytes(packed: np.ndarray) -> np.ndarray:
    """0xRRGGBBAA values as Bokeh's ``image_rgba`` wants them: bytes R, G, B, A in memory."""
    return np.ascontiguousarray(packed.astype(">u4")).view(np.uint32)
