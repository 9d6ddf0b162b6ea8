"""The trajectory view's three figures for export: landscape, loss, sharpness (no Panel).

Their drawings are in app/export_draw.py; here are their data, the float64 arrays the
plotted columns come from (the page sends them as float32), and their registration.
"""
from __future__ import annotations

import numpy as np

from . import plots, rules
from .export_draw import draw_landscape, draw_loss, draw_sharpness
from .export_figures import Export, Snapshot, Table
from .runs import step_sizes


def _plane_names(model) -> tuple[str, str]:
    return model.plane[0], model.plane[1] if len(model.plane) > 1 else "loss"


# --- data ------------------------------------------------------------------------------

def landscape_data(snap: Snapshot) -> Table:
    r = snap.result
    model = r.spec.model
    px, py = _plane_names(model)
    tab = Table({})
    tab.add("step", np.arange(len(r.traj.loss)), "[count] the step k of the iterate θ_k")
    xs, ys = plots.plane_coords(model, r.traj.params, r.traj.loss)
    tab.add(px, xs, f"[θ] the iterate's {px}")
    tab.add(py, ys, "[L] the loss L(θ_k)" if py == "loss" else f"[θ] the iterate's {py}")
    for name, title, flow in (("flow", "gradient flow", r.flow),
                              ("central_flow", "central flow", r.central_flow)):
        if flow is not None:
            fx, fy = plots.plane_coords(model, flow.params, flow.loss)
            tab.add(f"{name}_{px}", fx, f"[θ] {px} of the {title} at the same time Σ η")
            tab.add(f"{name}_{py}", fy, f"[θ] {py} of the {title} at the same time Σ η")
    for i, (label, other) in enumerate(snap.compared, 1):
        if tuple(other.spec.model.plane) == tuple(model.plane):
            cx, cy = plots.plane_coords(other.spec.model, other.traj.params, other.traj.loss)
            tab.add(f"compare{i}_{px}", cx, f"[θ] {px} of compared run {i} ({label}), by step")
            tab.add(f"compare{i}_{py}", cy, f"[θ] {py} of compared run {i} ({label}), by step")
    return tab


def _time_columns(snap: Snapshot, tab: Table) -> None:
    r = snap.result
    n = len(r.traj.loss)
    tab.add("step", np.arange(n), "[count] the step k")
    tab.add("time", r.traj.time, "[Σ η] the time t_k = η_0 + … + η_(k−1)")
    tab.add("eta", step_sizes(r.spec.schedule, n), "[step size] η in force at step k")


def loss_data(snap: Snapshot) -> Table:
    r = snap.result
    tab = Table({})
    _time_columns(snap, tab)
    tab.add("loss", r.traj.loss, "[L] the loss L(θ_k) (the plot's log axis floors it at 1e-32)")
    for name, title, flow in (("flow", "gradient flow", r.flow),
                              ("central_flow", "central flow", r.central_flow)):
        if flow is not None:
            tab.add(f"{name}_loss", flow.loss, f"[L] the loss of the {title} at time t_k")
    for i, (label, other) in enumerate(snap.compared, 1):
        tab.add(f"compare{i}_loss", other.traj.loss, f"[L] compared run {i} ({label}), by step")
        if snap.state.x_axis == "time":
            tab.add(f"compare{i}_time", other.traj.time, f"[Σ η] compared run {i}'s time")
    return tab


def sharpness_data(snap: Snapshot) -> Table:
    r = snap.result
    held, pre = plots.held_sharpness(r.traj)
    tab = Table({})
    _time_columns(snap, tab)
    tab.add("sharpness", held, "[1/η] " + ("λ_max(P⁻¹H(θ_k)), the preconditioned sharpness"
                                           if pre else "S(θ_k) = λ_max(∇²L(θ_k))"))
    tab.add("threshold", r.threshold, f"[1/η] the threshold {rules.threshold_formula(r.spec.optimizer)}"
            " step k is held to")
    if pre:
        tab.add("raw_sharpness", r.traj.sharpness, "[1/η] λ_max(∇²L(θ_k)), drawn faint")
    for name, title, flow in (("flow", "gradient flow", r.flow),
                              ("central_flow", "central flow", r.central_flow)):
        if flow is not None:
            tab.add(f"{name}_sharpness", flow.sharpness, f"[1/η] the {title}'s sharpness at t_k")
    for i, (label, other) in enumerate(snap.compared, 1):
        tab.add(f"compare{i}_sharpness", plots.held_sharpness(other.traj)[0],
                f"[1/η] compared run {i} ({label}), by step")
        tab.add(f"compare{i}_threshold", other.threshold, f"[1/η] compared run {i}'s threshold")
        if snap.state.x_axis == "time":
            tab.add(f"compare{i}_time", other.traj.time, f"[Σ η] compared run {i}'s time")
    return tab


def _bokeh(attr: str):
    def build(snap):
        from .export_html import dashboard_figures
        return dashboard_figures(snap)[attr]
    return build


LANDSCAPE = Export("trajectory", "Landscape", landscape_data, draw_landscape, _bokeh("landscape"))
LOSS = Export("trajectory", "Loss", loss_data, draw_loss, _bokeh("loss"))
SHARPNESS = Export("trajectory", "Sharpness", sharpness_data, draw_sharpness, _bokeh("sharpness"))
