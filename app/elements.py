"""The plot columns of ``plots.py`` as HoloViews elements, for notebooks and tests.

The live page never builds an element (HoloViews takes ~0.5 s to import): it pushes the
same columns into its Bokeh sources. Here each layer becomes an element, named as its
layer, ready to overlay (``hv.render(overlay(landscape(...)))``).
"""
from __future__ import annotations

import holoviews as hv
import holoviews.operation as hv_operation
import numpy as np

import dynamics

from .plots import background_data, flow_data, manifold_data, parity_line, run_data, start_data
from .rules import sharpness_name, threshold_formula


def _plane_dims(model):
    x = hv.Dimension("x", label=model.plane[0])
    y = hv.Dimension("y", label=model.plane[1] if len(model.plane) > 1 else "loss L")
    return x, y


def landscape(model, traj=None, threshold=None, flow=None, start=None,
              central_flow=None) -> dict:
    """The plane as elements: log-loss image (or L(x)), minima, iterates, start, flows."""
    x, y = _plane_dims(model)
    layers = {}
    back = background_data(model)
    if "image" in back:
        img = back["image"]
        (x_lo, x_hi), (y_lo, y_hi) = model.window
        rows, cols = img["image"][0].shape
        layers["image"] = hv.Image((np.linspace(x_lo, x_hi, cols), np.linspace(y_lo, y_hi, rows),
                                    img["image"][0]), [x, y], hv.Dimension("log_loss",
                                                                           label="log₁₀ L"))
    else:
        layers["curve"] = hv.Curve((back["curve"]["x"], back["curve"]["y"]), x, y, label="L")
    if threshold is not None:
        sharp = hv.Dimension("sharpness", label="sharpness of the minimum")
        data = manifold_data(model, float(np.asarray(threshold).flat[-1]))
        for name in ("manifold_settles", "manifold_unstable"):
            layers[name] = hv.Points(_rows(data["manifold"], data[name]), [x, y], [sharp],
                                     label=name.replace("_", " "))
    if traj is not None:
        data = run_data(model, traj, threshold if threshold is not None else
                        np.full(len(traj.loss), np.inf))
        cols = data["iterates"]
        layers["path"] = hv.Path([(cols["x"], cols["y"])], [x, y], label="iterates")
        layers["iterates"] = hv.Points(_rows(cols, data["markers"]), [x, y], ["step"],
                                       label="iterates")
    if start is not None:
        layers["start"] = hv.Points(start_data(model, start)["start"], [x, y], label="start")
    if flow is not None:
        cols = flow_data(model, flow)["flow"]
        layers["flow"] = hv.Path([(cols["x"], cols["y"])], [x, y], label="gradient flow")
    if central_flow is not None:
        cols = flow_data(model, central_flow, name="central_flow")["central_flow"]
        layers["central_flow"] = hv.Path([(cols["x"], cols["y"])], [x, y], label="central flow")
    return layers


def _rows(columns: dict, rows: range) -> dict:
    return {k: np.asarray(v)[rows.start:rows.stop:rows.step] for k, v in columns.items()}


def _t_dim(x_axis: str) -> hv.Dimension:
    return hv.Dimension("t", label="time Σ η" if x_axis == "time" else "step")


def _parity_curves(run: dict, kind: str, t, dim, log: bool = False) -> dict:
    """``kind`` as two curves, even steps and odd steps (see :func:`parity_line`)."""
    return {f"{kind}{suffix}": hv.Curve((run["t"], parity_line(run[kind], parity, log)),
                                        t, dim, label=f"{kind}: {name} steps")
            for parity, (suffix, name) in enumerate((("", "even"), ("_odd", "odd")))}


def _flow_curves(model, kind: str, t, dim, x_axis: str, flow, central_flow) -> dict:
    """``kind`` of the gradient flow and the central flow, those given."""
    layers = {}
    for name, label, f in (("flow", "gradient flow", flow),
                           ("central_flow", "central flow", central_flow)):
        if f is not None:
            cols = flow_data(model, f, x_axis, name=name)[f"{name}_run"]
            layers[f"{name}_{kind}"] = hv.Curve((cols["t"], cols[kind]), t, dim, label=label)
    return layers


def loss_curves(model, traj, threshold, flow=None, x_axis: str = "step",
                central_flow=None) -> dict:
    """Loss (log axis) against step/time, the flows', and a dotted line where S first hits
    the threshold."""
    data = run_data(model, traj, threshold, x_axis)
    t, loss = _t_dim(x_axis), hv.Dimension("loss", label="loss L")
    run = data["run"]
    layers = {**_parity_curves(run, "loss", t, loss, log=True), "eos": hv.VLine(data["eos"])}
    return {**layers, **_flow_curves(model, "loss", t, loss, x_axis, flow, central_flow)}


def sharpness_curves(model, traj, threshold, flow=None, x_axis: str = "step",
                     central_flow=None) -> dict:
    """Sharpness against step/time with the rule's threshold (2/η for GD, named by its
    formula): a line (HLine) and, after a drop, a staircase. For RMSProp and Adam the
    curves are the preconditioned sharpness λ_max(P⁻¹H), and ``raw_sharpness`` is λ_max(H)."""
    data = run_data(model, traj, threshold, x_axis)
    rule = getattr(traj, "optimizer", "gd")
    rule = rule if rule in dynamics.OPTIMIZERS else "gd"
    t = _t_dim(x_axis)
    sharp = hv.Dimension("sharpness", label=sharpness_name(rule))
    run = data["run"]
    steps = data["threshold_steps"]
    formula = threshold_formula(rule)
    layers = {**_parity_curves(run, "sharpness", t, sharp),
              "threshold": hv_operation.interpolate_curve(
                  hv.Curve((steps["t"], steps["threshold"]), t, sharp,
                           label=f"threshold {formula}"), interpolation="steps-post"),
              "threshold_line": hv.HLine(data["threshold_line"]),
              "eos": hv.VLine(data["eos"])}
    if len(data["run_raw"]["t"]):
        layers["raw_sharpness"] = hv.Curve((data["run_raw"]["t"], data["run_raw"]["sharpness"]),
                                           t, sharp, label="raw sharpness λ_max(H)")
    return {**layers, **_flow_curves(model, "sharpness", t, sharp, x_axis, flow, central_flow)}


def overlay(layers: dict) -> hv.Overlay:
    """One plot's layers as a static overlay (lines at NaN left out)."""
    return hv.Overlay([e for e in layers.values()
                       if not (isinstance(e, (hv.HLine, hv.VLine)) and not np.isfinite(e.data))])
