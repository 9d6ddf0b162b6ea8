"""Pure plot functions: a Model / a run -> named columns. No state.

The ``*_data`` functions turn arrays into named layers of plain columns
(``{"iterates": {"x": …, "y": …, "step": …}, …}``); the live canvas pushes those straight
into Bokeh data sources (the hot path of a slider move, so no element objects are built
there), the exports draw them, and ``elements.py`` wraps the same columns as HoloViews
elements for notebooks and tests. A number instead of columns is a line position (NaN: none); a
``range`` picks rows of another layer (``markers`` of ``iterates``, ``manifold_settles`` of
``manifold``), so a new run sends three numbers, not copies of the rows.
"""
from __future__ import annotations

import numpy as np

import dynamics

from .fit import Range, fit_window, robust_range
from .rules import preconditioned
from .verdict import eos_step

LOSS_FLOOR = 1e-32        # log axes cannot show L = 0; draw it here
BACKGROUND_FLOOR = 1e-5   # the heat map's darkest valley; below it everything looks like "0"
WIRE = np.float32         # what travels to the browser: half the bytes, plenty of digits
MAX_MARKERS = 400         # iterates drawn as dots (the path line always has every step)


def _wire(**columns) -> dict[str, np.ndarray]:
    """Columns as float32, huge values clipped to ±1e38 (a diverging run stays drawable)."""
    return {k: np.clip(np.asarray(v, dtype=float), -1e38, 1e38).astype(WIRE)
            for k, v in columns.items()}


# --- columns ---------------------------------------------------------------------------

def background_data(model, resolution: int = 200, window=None) -> dict:
    """log₁₀ L over ``window`` (default: the model's) as an image (2-D) or the curve L(x) (1-D)."""
    (x_lo, x_hi), *rest = window if window is not None else model.window
    if not rest:
        xs = np.linspace(x_lo, x_hi, 4 * resolution)
        return {"curve": _wire(x=xs, y=dynamics.loss_on_plane(model, xs))}
    xs = np.linspace(x_lo, x_hi, resolution)
    ys = np.linspace(*rest[0], resolution)
    loss = np.asarray(dynamics.loss_on_plane(model, xs, ys), dtype=float)
    log_loss = np.log10(np.maximum(np.nan_to_num(loss, nan=np.inf), BACKGROUND_FLOOR))
    return {"image": {"image": [log_loss.astype(WIRE)], "x": [x_lo], "y": [rest[0][0]],
                      "dw": [x_hi - x_lo], "dh": [rest[0][1] - rest[0][0]]}}


def minima(model, window=None) -> list:
    """The model's minima segments inside ``window`` (default: the model's own window)."""
    if window is None or model.manifold_fn is None:
        return model.manifold()
    return model.manifold_fn(np.asarray(model.consts, dtype=np.float64), tuple(window))


def manifold_points(model, window=None) -> dict:
    """Every drawn minimum of ``model`` in ``window`` and its sharpness (the same for every η)."""
    pts, values = [], []
    for seg in minima(model, window):
        p = np.asarray(seg.points, dtype=float)
        if len(model.plane) == 1:   # a 1-D minimum is drawn on the curve L(x)
            p = np.column_stack([p[:, 0], dynamics.loss_on_plane(model, p[:, 0])])
        pts.append(p[:, :2])
        values.append(np.asarray(seg.sharpness, dtype=float))
    pts = np.concatenate(pts) if pts else np.zeros((0, 2))
    values = np.concatenate(values) if values else np.zeros(0)
    order = np.argsort(values, kind="stable")   # flattest first: 2/η splits it in two runs
    return {"x": pts[order, 0], "y": pts[order, 1], "sharpness": values[order]}


def manifold_data(model, threshold: float, window=None) -> dict:
    """The minima, split at 2/η: where GD can settle (S ≤ 2/η) and where it cannot.

    ``manifold`` holds every minimum, flattest first; the two ranges are its rows on either
    side of 2/η.
    """
    points = manifold_points(model, window)
    k = int(np.searchsorted(points["sharpness"], threshold, side="right"))
    n = len(points["sharpness"])
    return {"manifold": _wire(**points), "manifold_settles": range(0, k),
            "manifold_unstable": range(k, n)}


def plane_coords(model, params, loss=None) -> tuple[np.ndarray, np.ndarray]:
    """Plane coordinates of iterates; a 1-D model plots (x, L(x)), L given or computed."""
    coords = np.asarray(model.project(params), dtype=float)
    if len(model.plane) == 1:
        if loss is None:
            loss = dynamics.loss_on_plane(model, coords[:, 0])
        return coords[:, 0], np.asarray(loss, dtype=float)
    return coords[:, 0], coords[:, 1]


def x_values(traj, x_axis: str) -> np.ndarray:
    """The x-axis of the curves: the step k, or the time Σ η."""
    if x_axis == "time":
        return np.asarray(traj.time, dtype=float)
    return np.arange(len(traj.loss), dtype=float)


def marker_stride(n: int) -> int:
    """Every k-th iterate gets a dot; k is odd so both sides of a 2-cycle stay visible."""
    k = max(1, -(-n // MAX_MARKERS))
    return k if k % 2 else k + 1


def held_sharpness(traj) -> tuple[np.ndarray, bool]:
    """(the sharpness the run is held to, per iterate; whether it is the preconditioned one).

    RMSProp and Adam are held through λ_max(P⁻¹H) (``traj.effective_sharpness``, one per
    step; the last iterate repeats the last step's); every other rule through λ_max(H).
    """
    sharp = np.asarray(traj.sharpness, dtype=float)
    name = getattr(traj, "optimizer", "gd")
    effective = getattr(traj, "effective_sharpness", None)
    if name not in dynamics.OPTIMIZERS or not preconditioned(name) or effective is None:
        return sharp, False
    effective = np.asarray(effective, dtype=float)
    if not len(effective):
        return sharp, True   # a run that stopped at θ₀ took no step to precondition
    return np.append(effective, effective[-1]), True


def run_data(model, traj, threshold, x_axis: str = "step") -> dict:
    """Iterates in the plane, the curves against step/time, and the two line positions.

    ``threshold`` is what each iterate's step is held to (2/η for GD); ``threshold_steps``
    is its staircase (one point where η starts or changes, one at the end),
    ``threshold_line`` its first value (the Span), ``eos`` where the held sharpness first
    rises to it, ``markers`` the iterates drawn as dots, ``drop`` where η changes (NaN:
    never) and ``drop_label`` what it says there. For RMSProp and Adam ``run.sharpness`` is
    the preconditioned sharpness λ_max(P⁻¹H) and ``run_raw`` the raw λ_max(H) (else empty).
    """
    xs, ys = plane_coords(model, traj.params, traj.loss)
    ts = x_values(traj, x_axis)
    threshold = np.asarray(threshold, dtype=float)[: len(ts)]
    held, is_preconditioned = held_sharpness(traj)
    k = eos_step(held, threshold)
    steps = np.flatnonzero(np.diff(threshold, prepend=np.nan) != 0)
    steps = np.append(steps, len(ts) - 1) if len(ts) > 1 else steps
    raw = (_wire(t=ts, sharpness=traj.sharpness) if is_preconditioned
           else _wire(t=np.zeros(0), sharpness=np.zeros(0)))
    return {
        "iterates": _wire(x=xs, y=ys, step=np.arange(len(xs))),
        "markers": range(0, len(xs), marker_stride(len(xs))),
        "run": _wire(t=ts, loss=np.maximum(traj.loss, LOSS_FLOOR), sharpness=held),
        "run_raw": raw,
        "threshold_steps": _wire(t=ts[steps], threshold=threshold[steps]),
        "threshold_line": float(threshold[0]) if len(threshold) else np.nan,
        "eos": float(ts[k]) if k is not None else np.nan,
        **drop_data(ts, threshold, getattr(traj, "eta", None)),
    }


def levels_as_dots(kind: str, period: int | None) -> bool:
    """Draw the run as a dot per step (its lines faded) when it ends in a p-cycle, p ≥ 3.

    Even and odd steps untangle a 2-cycle into two level lines; in a longer cycle each
    parity still visits several levels, and both lines are solid bands again. A dot per
    step puts the p levels the verdict names on p rows of dots.
    """
    return kind == "periodic" and period is not None and period >= 3


def parity_line(values, parity: int, log: bool = False) -> np.ndarray:
    """The curve through the steps k ≡ ``parity`` (mod 2) only, sampled at every step.

    A 2-cycle drawn through every step is a solid band; drawn as the even and the odd
    steps (two lines), it is two levels. A row of the other parity is the midpoint of its
    two neighbours — the geometric mean on a log axis — which lies on the straight segment
    between them in step (and, but at the one row where η changes, in time Σ η); the ends
    repeat their one neighbour. (figures.PARITY_JS computes the same in the browser.)
    """
    y = np.asarray(values, dtype=float)
    out = y.copy()
    n = len(y)
    if n < 2:
        return out
    other = np.arange(1 - parity, n, 2)
    inner = other[(other > 0) & (other < n - 1)]
    with np.errstate(invalid="ignore"):
        out[inner] = (np.sqrt(y[inner - 1] * y[inner + 1]) if log
                      else 0.5 * (y[inner - 1] + y[inner + 1]))
    if other[0] == 0:
        out[0] = y[1]
    if other[-1] == n - 1:
        out[-1] = y[-2]
    return out


def drop_data(ts, threshold, etas=None) -> dict:
    """The first step-size change: where (``drop``) and what (``drop_label``: "η 0.2 → 0.1").

    ``etas`` are the step sizes per step (``traj.eta``); without them η is read back from a
    threshold 2/η.
    """
    changes = np.flatnonzero(np.diff(threshold) != 0) + 1
    if len(changes) == 0:
        return {"drop": np.nan, "drop_label": {"x": np.nan, "text": ""}}
    k = int(changes[0])
    etas = np.asarray(etas if etas is not None else (), dtype=float)
    if len(etas) >= k + 1:
        before, after = etas[k - 1], etas[k]
    else:
        before, after = 2.0 / threshold[k - 1], 2.0 / threshold[k]
    return {"drop": float(ts[k]),
            "drop_label": {"x": float(ts[k]), "text": f"η {before:.4g} → {after:.4g}"}}


def curve_ranges(traj, threshold, flow=None, central_flow=None,
                 others=()) -> dict[str, Range]:
    """y-ranges of the loss (log) and sharpness plots, robust to an early spike.

    The sharpness range always holds the threshold; the flows' curves, when shown, join the
    robust part of each range (they are smooth, no spike to clip), and so does the raw
    sharpness drawn faint beside a preconditioned one. The compared runs ``others``
    (trajectories) join with the robust part of their own ranges: a compared run whose loss
    falls further than the live one's stays in view, its early spike does not stretch it.
    """
    loss = np.maximum(np.asarray(traj.loss, dtype=float), LOSS_FLOOR)
    held, is_preconditioned = held_sharpness(traj)
    extra_loss, extra_sharp = [], [np.asarray(threshold, dtype=float)]
    if is_preconditioned:
        extra_sharp.append(np.asarray(traj.sharpness, dtype=float))
    for other in (flow, central_flow):
        if other is not None:
            extra_loss.append(np.maximum(np.asarray(other.loss, dtype=float), LOSS_FLOOR))
            extra_sharp.append(np.asarray(other.sharpness, dtype=float))
    for other in others:
        own = robust_range(np.maximum(np.asarray(other.loss, dtype=float), LOSS_FLOOR),
                           log=True)
        extra_loss.append(np.array([own.lo, own.hi]))
        own = robust_range(held_sharpness(other)[0])
        extra_sharp.append(np.array([own.lo, own.hi]))
    return {"loss_range": robust_range(loss, np.concatenate([np.zeros(0), *extra_loss]),
                                       log=True),
            "sharpness_range": robust_range(held, np.concatenate(extra_sharp))}


def run_window(model, traj) -> tuple:
    """The plane window that fits the run (the model's window after a divergence)."""
    if traj.diverged_at is not None:
        return tuple(tuple(w) for w in model.window)
    xs, ys = plane_coords(model, traj.params, traj.loss)
    return fit_window(xs, None if len(model.plane) == 1 else ys, model.window)


def flow_data(model, flow, x_axis: str = "step", name: str = "flow") -> dict:
    """A flow in the plane and against step/time (empty when not shown).

    ``name`` names the layers: ``flow``/``flow_run`` for the gradient flow,
    ``central_flow``/``central_flow_run`` for the central flow.
    """
    if flow is None:
        empty = np.zeros(0)
        return {name: _wire(x=empty, y=empty),
                f"{name}_run": _wire(t=empty, loss=empty, sharpness=empty)}
    xs, ys = plane_coords(model, flow.params, flow.loss)
    return {name: _wire(x=xs, y=ys),
            f"{name}_run": _wire(t=x_values(flow, x_axis),
                                 loss=np.maximum(flow.loss, LOSS_FLOOR),
                                 sharpness=flow.sharpness)}


def start_data(model, start) -> dict:
    sx, sy = plane_coords(model, np.asarray([start], dtype=float))
    return {"start": _wire(x=sx, y=sy)}
