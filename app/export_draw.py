"""The trajectory view's plots drawn with Matplotlib, as the page draws them (no Panel).

The same layers of plots.py and the same colours as views_plots.Dashboard on figures.py's
canvases: the log-loss landscape in greys, its minima coloured by their sharpness (viridis)
and crossed where too sharp for the rule, the iterates from light to dark orange, the loss in
vermillion and the sharpness in green (even steps dark, odd steps light), the threshold
dashed in purple, the flows in blue, the compared runs in their own colours.
"""
from __future__ import annotations

import numpy as np
from bokeh.palettes import Greys256, Oranges256, Viridis256
from matplotlib.cm import ScalarMappable
from matplotlib.colors import ListedColormap, Normalize
from matplotlib.lines import Line2D
from matplotlib.transforms import offset_copy

import dynamics

from . import plots, rules
from .compare import COLOURS
from .export_figures import Snapshot
from .figures import BLUE, GREEN, LIGHT, PURPLE, SKY, VERMILLION
from .fit import union

GREYS = ListedColormap(list(Greys256[90:])[::-1])     # figures.landscape_canvas's maps
ORANGES = ListedColormap(list(Oranges256[:190])[::-1])
VIRIDIS = ListedColormap(list(Viridis256))
BACKGROUND_PAD, RESOLUTION = 0.15, 200   # as views_plots.BACKGROUND_PAD / _RESOLUTION
PT = 0.75   # a Bokeh screen pixel in points


def _minima_threshold(result) -> float:
    """views_plots._minima_threshold: the rule's own threshold, else GD's 2/η."""
    if rules.preconditioned(result.spec.optimizer):
        etas = result.traj.eta
        return 2.0 / float(etas[-1]) if len(etas) else 2.0 / result.spec.eta
    return float(result.threshold[-1])


def window(snap: Snapshot) -> tuple:
    """(the window shown: the run's and the compared runs' fit, it padded for the background)."""
    def compute():
        r = snap.result
        model = r.spec.model
        target = plots.run_window(model, r.traj)
        for _, other in snap.compared:
            if tuple(other.spec.model.plane) == tuple(model.plane):
                target = union(target, plots.run_window(other.spec.model, other.traj))
        padded = tuple((lo - BACKGROUND_PAD * (hi - lo), hi + BACKGROUND_PAD * (hi - lo))
                       for lo, hi in target)
        return target, padded
    return snap.memo("trajectory.window", compute)


def draw_landscape(snap: Snapshot, ax, look) -> None:
    r = snap.result
    model, traj = r.spec.model, r.traj
    target, padded = window(snap)
    one_d = len(model.plane) == 1
    back = plots.background_data(model, RESOLUTION, padded)
    if one_d:
        ax.plot(back["curve"]["x"], back["curve"]["y"], color="#888888" if look.name == "dark"
                else "#444444", lw=2 * PT, gid="loss_curve")
    else:
        image = np.asarray(back["image"]["image"][0], dtype=float)
        (x0, x1), (y0, y1) = padded
        ax.imshow(image, extent=(x0, x1, y0, y1), origin="lower", aspect="auto", cmap=GREYS,
                  vmin=np.nanmin(image), vmax=np.nanmax(image), interpolation="bilinear",
                  gid="log_loss")
    minima = plots.manifold_data(model, _minima_threshold(r), padded)
    cols = minima["manifold"]
    all_sharp = np.asarray(cols["sharpness"], dtype=float)
    lo, hi = (float(all_sharp.min()), float(all_sharp.max())) if len(all_sharp) else (0.0, 1.0)
    norm = Normalize(lo, hi if hi > lo else lo + 1.0)
    for rows, marker, size, kw in ((minima["manifold_settles"], "o", 14 if one_d else 9, {}),
                                   (minima["manifold_unstable"], "x", 12 if one_d else 6,
                                    {"alpha": 0.7, "linewidths": 1.5})):
        pick = slice(rows.start, rows.stop)
        ax.scatter(cols["x"][pick], cols["y"][pick], c=all_sharp[pick], cmap=VIRIDIS, norm=norm,
                   marker=marker, s=(size * PT) ** 2, edgecolors="none" if marker == "o" else None,
                   zorder=2, gid=f"minima_{'settles' if marker == 'o' else 'unstable'}", **kw)
    bar = ax.figure.colorbar(ScalarMappable(norm, VIRIDIS), ax=ax, pad=0.01, fraction=0.05)
    bar.set_label("sharpness of minimum")
    handles = _minima_handles(r.spec.optimizer, look)
    for i, (label, other) in enumerate(snap.compared):
        if tuple(other.spec.model.plane) == tuple(model.plane):
            cx, cy = plots.plane_coords(other.spec.model, other.traj.params, other.traj.loss)
            ax.plot(cx, cy, color=COLOURS[i], lw=2.5 * PT, alpha=0.9, zorder=3)
            ax.scatter(cx[-1:], cy[-1:], marker="s", s=(12 * PT) ** 2, color=COLOURS[i],
                       edgecolors="white", linewidths=1.5, zorder=6)
            handles.append(Line2D([], [], color=COLOURS[i], lw=2.5 * PT, label=label))
    for flow, style, label in ((r.flow, dict(color=BLUE, ls="--"), "gradient flow"),
                               (r.central_flow, dict(color=SKY, ls="-."), "central flow")):
        if flow is not None:
            fx, fy = plots.plane_coords(model, flow.params, flow.loss)
            ax.plot(fx, fy, lw=3 * PT, zorder=4, gid=label.replace(" ", "_"), **style)
            handles.append(Line2D([], [], lw=3 * PT, label=label, **style))
    xs, ys = plots.plane_coords(model, traj.params, traj.loss)
    ax.plot(xs, ys, color=look.ink, lw=1 * PT, alpha=0.45, zorder=4, gid="path")
    rows = plots.run_data(model, traj, r.threshold)["markers"]
    steps = np.arange(len(xs))[rows.start:rows.stop:rows.step]
    ax.scatter(xs[steps], ys[steps], c=steps, cmap=ORANGES, vmin=0, vmax=max(len(xs) - 1, 1),
               s=(6 * PT) ** 2, edgecolors="none", zorder=5, gid="iterates")
    start = plots.start_data(model, r.spec.init)["start"]
    ax.scatter(start["x"], start["y"], s=(18 * PT) ** 2, facecolors="white",
               edgecolors="black", linewidths=2 * PT, zorder=7, gid="start")
    ax.scatter(start["x"], start["y"], s=(18 * PT) ** 2, marker="+", color="black",
               linewidths=2 * PT, zorder=8)
    handles += [Line2D([], [], ls="", marker="o", color=ORANGES(0.0), ms=6 * PT,
                       label="iterates (darker = later)"),
                Line2D([], [], ls="", marker="o", mfc="white", mec="black", ms=12 * PT,
                       label="start")]
    (x_lo, x_hi), *rest = target
    if rest:
        y_lo, y_hi = rest[0]
    else:   # figures.set_landscape_window: L(x) over the window, padded 5 %
        bx, by = (np.asarray(back["curve"][k], dtype=float) for k in ("x", "y"))
        by = by[np.isfinite(by) & (bx >= x_lo) & (bx <= x_hi)]
        pad = 0.05 * (float(by.max() - by.min()) or 1.0) if len(by) else 1.0
        y_lo, y_hi = (float(by.min()) - pad, float(by.max()) + pad) if len(by) else (0, 1)
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_xlabel(model.plane[0])
    ax.set_ylabel("loss L" if one_d else model.plane[1])
    under = offset_copy(ax.transAxes, ax.figure, y=-0.55, units="inches")   # below "x"
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0), ncol=2 if
              _narrow(ax) else 3, frameon=False, bbox_transform=under, borderaxespad=0)


def _minima_handles(optimizer: str, look) -> list:
    """The legend's minima entries, named after the rule's threshold (Dashboard._name_rule)."""
    formula = rules.compact_formula(optimizer)
    if rules.preconditioned(optimizer) or formula == "2/η":
        words = ("minima, S ≤ 2/η: GD can settle", "minima, S > 2/η: too sharp")
    else:
        words = (f"minima, S ≤ {formula}: can settle", f"minima, S > {formula}: too sharp")
    flattest = Viridis256[0] if look.name == "light" else Viridis256[100]   # seen on dark
    return [Line2D([], [], ls="", marker="o", color=flattest, ms=9 * PT, label=words[0]),
            Line2D([], [], ls="", marker="x", color=flattest, ms=6 * PT, mew=1.5,
                   label=words[1])]


def _draw_curves(snap: Snapshot, ax, look, kind: str) -> None:
    """Loss (log axis) or sharpness against step / time Σ η, as the page draws them."""
    r = snap.result
    model, traj, optimizer = r.spec.model, r.traj, r.spec.optimizer
    x_axis = snap.state.x_axis
    rule = dynamics.OPTIMIZERS[optimizer]
    pre = rules.preconditioned(optimizer)
    data = plots.run_data(model, traj, r.threshold, x_axis)
    ts = plots.x_values(traj, x_axis)
    log = kind == "loss"
    y = (np.maximum(traj.loss, plots.LOSS_FLOOR) if log else plots.held_sharpness(traj)[0])
    colour = VERMILLION if log else GREEN
    formula = rules.compact_formula(optimizer)
    lines = []
    if not log:
        steps = data["threshold_steps"]
        style = dict(color=PURPLE, ls="--", label=f"threshold {formula}", gid="threshold")
        if len(r.spec.schedule) == 1:   # one threshold: a line across the plot
            lines.append(ax.axhline(float(r.threshold[0]), lw=2.5 * PT, **style))
        else:
            lines += ax.step(steps["t"], steps["threshold"], where="post", lw=3 * PT, **style)
        if pre:
            ax.plot(ts, traj.sharpness, color=GREEN, lw=1.5 * PT, alpha=0.3, gid="raw_sharpness")
            lines.append(Line2D([], [], color=GREEN, lw=1.5 * PT, alpha=0.3,
                                label="raw sharpness λ_max(H)"))
    name = rule.title if log else ("λ_max(P⁻¹H)" if pre else "sharpness")
    dots = plots.levels_as_dots(r.kind, r.period)
    if rule.continuous:
        lines += ax.plot(ts, y, color=colour, lw=2 * PT, label=name, gid=f"{kind}_even")
    elif dots:   # a cycle longer than 2: faded lines, a dot per step on each level
        alpha = 0.25
        ax.plot(ts, plots.parity_line(y, 1, log), color=LIGHT[colour], lw=2 * PT, alpha=alpha,
                gid=f"{kind}_odd")
        even, = ax.plot(ts, plots.parity_line(y, 0, log), color=colour, lw=2 * PT, alpha=alpha,
                        label=name, gid=f"{kind}_even")
        dot, = ax.plot(ts, y, ls="", marker="o", ms=3 * PT, mew=0, color=colour,
                       label="every step", gid=f"{kind}_dots")
        lines += [even, dot]
    else:
        odd, = ax.plot(ts, plots.parity_line(y, 1, log), color=LIGHT[colour], lw=2 * PT,
                       gid=f"{kind}_odd", label="odd steps")
        even, = ax.plot(ts, plots.parity_line(y, 0, log), color=colour, lw=2 * PT,
                        label=f"{name}: even steps", gid=f"{kind}_even")
        lines += [even, odd]
    t_hi = float(ts[-1]) if len(ts) else 1.0
    for i, (label, other) in enumerate(snap.compared):
        ot = plots.x_values(other.traj, x_axis)
        oy = (np.maximum(other.traj.loss, plots.LOSS_FLOOR) if log
              else plots.held_sharpness(other.traj)[0])
        lines += ax.plot(ot, oy, color=COLOURS[i], lw=1.5 * PT, alpha=1 if log else 0.85,
                         label=label, zorder=1.5, gid=f"compare{i + 1}_{kind}")
        if not log:
            od = plots.run_data(other.spec.model, other.traj, other.threshold, x_axis)
            ax.step(od["threshold_steps"]["t"], od["threshold_steps"]["threshold"], where="post",
                    color=COLOURS[i], lw=2 * PT, ls="--", zorder=1.5)
        t_hi = max(t_hi, float(ot[-1]) if len(ot) else t_hi)
    for flow, style, label in ((r.flow, dict(color=BLUE, ls="--"), "gradient flow"),
                               (r.central_flow, dict(color=SKY, ls="-."), "central flow")):
        if flow is not None:
            fy = (np.maximum(flow.loss, plots.LOSS_FLOOR) if log else flow.sharpness)
            lines += ax.plot(plots.x_values(flow, x_axis), fy, lw=3 * PT, label=label, **style)
    if np.isfinite(data["eos"]):
        words = "first reaches the threshold" if pre else f"S first reaches {formula}"
        lines.append(ax.axvline(data["eos"], color=look.ink, ls=":", lw=2 * PT, label=words))
    if np.isfinite(data["drop"]):
        ax.axvline(data["drop"], color=PURPLE, ls="-.", lw=2 * PT)
        ax.annotate(data["drop_label"]["text"], (data["drop"], 1), xycoords=("data", "axes fraction"),
                    xytext=(4, -4), textcoords="offset points", va="top", color=PURPLE,
                    bbox=dict(fc=look.paper, ec="none", alpha=0.8, pad=1))
    rng = plots.curve_ranges(traj, r.threshold, r.flow, r.central_flow)[f"{kind}_range"]
    if log:
        ax.set_yscale("log")
    ax.set_ylim(float(rng.lo), float(rng.hi))
    t_lo = float(ts[0]) if len(ts) else 0.0
    pad = 0.02 * ((t_hi - t_lo) or 1.0)
    ax.set_xlim(t_lo - pad, t_hi + pad)
    if rng.note:
        ax.text(0.99, 0.97, rng.note, transform=ax.transAxes, ha="right", va="top",
                color=VERMILLION, bbox=dict(fc=look.paper, ec="none", alpha=0.85, pad=1))
    ax.set_xlabel("time Σ η" if x_axis == "time" else "step")
    ax.set_ylabel("loss L" if log else ("preconditioned sharpness" if pre else "sharpness S"))
    ax.legend(handles=lines, loc="lower left", bbox_to_anchor=(0, 1.01, 1, 0.2), mode="expand",
              ncol=2 if pre or _narrow(ax) else 3, frameon=False, borderaxespad=0,
              fontsize="small")


def _narrow(ax) -> bool:
    """True if ``ax`` is under 7 in wide (three legend columns would overlap)."""
    rows, cols, *_ = ax.get_subplotspec().get_geometry()
    return ax.figure.get_figwidth() / cols < 7


def draw_loss(snap, ax, look) -> None:
    _draw_curves(snap, ax, look, "loss")


def draw_sharpness(snap, ax, look) -> None:
    _draw_curves(snap, ax, look, "sharpness")


