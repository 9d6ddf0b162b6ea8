"""Pure plot functions: a Model / a run -> named HoloViews elements. No state, no Panel.

Each function returns a dict ``layer name -> element`` so the live canvas can push one
layer into one Bokeh data source, and ``overlay(...)`` can draw the same layers statically
(notebooks, export). Dimension names are fixed ("x", "y", "t", "loss", …) and carry the
human labels, so the columns a layer produces never depend on the model.
"""
from __future__ import annotations

import holoviews as hv
import numpy as np

import dynamics

from .verdict import eos_step

LOSS_FLOOR = 1e-32        # log axes cannot show L = 0; draw it here
BACKGROUND_FLOOR = 1e-5   # the heat map's darkest valley; below it everything looks like "0"


def _dims(model):
    """Plane dimensions: (x, y) for 2-D models, (x, L) for 1-D ones."""
    x = hv.Dimension("x", label=model.plane[0])
    y = hv.Dimension("y", label=model.plane[1] if len(model.plane) > 1 else "loss L")
    return x, y


def background(model, resolution: int = 200) -> dict[str, hv.Element]:
    """The landscape: log₁₀ L over the plane (2-D) or the curve L(x) (1-D)."""
    x, y = _dims(model)
    (x_lo, x_hi), *rest = model.window
    xs = np.linspace(x_lo, x_hi, resolution if rest else 4 * resolution)
    if not rest:
        loss = np.asarray(dynamics.loss_on_plane(model, xs), dtype=float)
        return {"curve": hv.Curve((xs, loss), x, y, label="L")}
    ys = np.linspace(*rest[0], resolution)
    loss = np.asarray(dynamics.loss_on_plane(model, xs, ys), dtype=float)
    log_loss = np.log10(np.maximum(np.nan_to_num(loss, nan=np.inf), BACKGROUND_FLOOR))
    return {"image": hv.Image((xs, ys, log_loss), [x, y], hv.Dimension("log_loss",
                                                                    label="log₁₀ L"))}


def manifold(model, threshold: float) -> dict[str, hv.Points]:
    """The minima, split at 2/η: where GD can settle (S ≤ 2/η) and where it cannot."""
    x, y = _dims(model)
    sharp = hv.Dimension("sharpness", label="sharpness of the minimum")
    pts, values = [], []
    for seg in model.manifold():
        p = np.asarray(seg.points, dtype=float)
        if len(model.plane) == 1:  # a 1-D minimum is drawn on the curve L(x)
            p = np.column_stack([p[:, 0], dynamics.loss_on_plane(model, p[:, 0])])
        pts.append(p[:, :2])
        values.append(np.asarray(seg.sharpness, dtype=float))
    pts = np.concatenate(pts) if pts else np.zeros((0, 2))
    values = np.concatenate(values) if values else np.zeros(0)
    settles = values <= threshold
    return {
        "manifold_settles": hv.Points((pts[settles, 0], pts[settles, 1], values[settles]),
                                      [x, y], [sharp], label="minima where GD can settle"),
        "manifold_unstable": hv.Points((pts[~settles, 0], pts[~settles, 1], values[~settles]),
                                       [x, y], [sharp], label="minima too sharp for η"),
    }


def _plane_coords(model, params, loss=None) -> tuple[np.ndarray, np.ndarray]:
    """Plane coordinates of iterates; a 1-D model plots (x, L(x)), L given or computed."""
    coords = np.asarray(model.project(params), dtype=float)
    if len(model.plane) == 1:
        if loss is None:
            loss = dynamics.loss_on_plane(model, coords[:, 0])
        return coords[:, 0], np.asarray(loss, dtype=float)
    return coords[:, 0], coords[:, 1]


def trajectory(model, traj, flow=None, start=None) -> dict[str, hv.Element]:
    """The run in the plane: path, iterates coloured by step, the start, the flow."""
    x, y = _dims(model)
    step = hv.Dimension("step")
    layers = {}
    if traj is not None:
        xs, ys = _plane_coords(model, traj.params, traj.loss)
        layers["path"] = hv.Path([(xs, ys)], [x, y], label="iterates")
        layers["iterates"] = hv.Points((xs, ys, np.arange(len(xs))), [x, y], [step],
                                       label="iterates")
    if start is not None:
        sx, sy = _plane_coords(model, np.asarray([start], dtype=float))
        layers["start"] = hv.Points((sx, sy), [x, y], label="start")
    fx, fy = (_plane_coords(model, flow.params, flow.loss) if flow is not None
              else (np.zeros(0), np.zeros(0)))
    layers["flow"] = hv.Path([(fx, fy)], [x, y], label="gradient flow")
    return layers


def _axis(traj, x_axis: str) -> np.ndarray:
    return np.asarray(traj.time, dtype=float) if x_axis == "time" else \
        np.arange(len(traj.loss), dtype=float)


def _t_dim(x_axis: str) -> hv.Dimension:
    return hv.Dimension("t", label="time Σ η" if x_axis == "time" else "step")


def loss_curves(traj, flow=None, threshold=None, x_axis: str = "step") -> dict[str, hv.Element]:
    """Loss against step (or time), the flow's, and the first step at the edge (dotted)."""
    t = _t_dim(x_axis)
    loss = hv.Dimension("loss", label="loss L")
    ts = _axis(traj, x_axis)
    layers = {"loss": hv.Curve((ts, np.maximum(traj.loss, LOSS_FLOOR)), t, loss, label="loss")}
    if flow is not None:
        layers["flow_loss"] = hv.Curve((_axis(flow, x_axis), np.maximum(flow.loss, LOSS_FLOOR)),
                                       t, loss, label="gradient flow")
    else:
        layers["flow_loss"] = hv.Curve(([], []), t, loss, label="gradient flow")
    layers["eos"] = hv.VLine(_eos_location(traj, threshold, ts))
    return layers


def sharpness_curves(traj, threshold, flow=None, x_axis: str = "step") -> dict[str, hv.Element]:
    """Sharpness against step (or time), 2/η (a line; a staircase once η drops), the flow's."""
    t = _t_dim(x_axis)
    sharp = hv.Dimension("sharpness", label="sharpness S = λ_max(∇²L)")
    ts = _axis(traj, x_axis)
    threshold = np.asarray(threshold, dtype=float)
    layers = {
        "sharpness": hv.Curve((ts, traj.sharpness), t, sharp, label="sharpness"),
        "threshold": hv.Curve((ts, threshold), t, sharp, label="2/η"),  # piecewise constant
        # the Span at the *first* 2/η; the staircase shows any later one
        "threshold_line": hv.HLine(float(threshold[0]) if len(threshold) else np.nan),
        "eos": hv.VLine(_eos_location(traj, threshold, ts)),
    }
    if flow is not None:
        layers["flow_sharpness"] = hv.Curve((_axis(flow, x_axis), flow.sharpness), t, sharp,
                                            label="gradient flow")
    else:
        layers["flow_sharpness"] = hv.Curve(([], []), t, sharp, label="gradient flow")
    return layers


def _eos_location(traj, threshold, ts) -> float:
    if threshold is None or len(ts) == 0:
        return np.nan
    k = eos_step(traj.sharpness, np.asarray(threshold)[: len(ts)])
    return float(ts[k]) if k is not None else np.nan


def columns(element: hv.Element) -> dict[str, np.ndarray]:
    """The element's data as plain columns named by its dimensions (for a data source)."""
    return {d.name: np.asarray(element.dimension_values(d)) for d in element.dimensions()}


def overlay(*layer_dicts: dict) -> hv.Overlay:
    """All layers of one plot as a static HoloViews overlay (notebooks, export)."""
    elements = [e for layers in layer_dicts for e in layers.values()
                if not (isinstance(e, (hv.HLine, hv.VLine)) and not np.isfinite(e.data))]
    return hv.Overlay(elements)
