"""The η sweep view's figure for export: ``sweep``, the bifurcation diagram (no Panel drawn).

The runs are the page's (views_sweep.sweep_spec → dynamics.bifurcation over sweep_etas, at
the full count), computed once per snapshot; the layers are sweep_plot.diagram_data's:
converged runs' final values (blue), cycles' p points (vermillion), the last K iterates of
runs with no short period (purple), diverged step sizes as grey bands, the threshold c/η
dashed (orange), the current η a black vertical line.
"""
from __future__ import annotations

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from . import rules, sweep_plot
from .export_figures import Export, ExportError, Snapshot, Table
from .figures import BLUE, ORANGE, PURPLE, VERMILLION
from .sweep_figure import DIVERGED_GREY, fill, sweep_canvas

PT = 0.75
KINDS = ("converged", "cycle", "cloud")   # the layers of points, as the CSV's kind 0, 1, 2


def computed(snap: Snapshot):
    """(spec, Bifurcation) of the snapshot's sweep, run once (ExportError if none)."""
    def compute():
        from .views_sweep import sweep_spec   # the page's own state → runs
        spec = sweep_spec(snap.state)
        if isinstance(spec, str):
            raise ExportError(spec)
        try:
            return spec, spec.run(spec.count)
        except ValueError as err:
            raise ExportError(str(err)) from None
    return snap.memo("sweep.bifurcation", compute)


def layers(snap: Snapshot) -> dict:
    _, bif = computed(snap)
    return sweep_plot.diagram_data(bif, snap.state.sweep_quantity)


def sweep_data(snap: Snapshot) -> Table:
    data = layers(snap)
    eta = np.concatenate([data[f"sweep_{k}"]["eta"] for k in KINDS])
    value = np.concatenate([data[f"sweep_{k}"]["value"] for k in KINDS])
    kind = np.concatenate([np.full(len(data[f"sweep_{k}"]["eta"]), i)
                           for i, k in enumerate(KINDS)])
    tab = Table({})
    tab.add("eta", eta, "[step size] the run's η")
    tab.add("value", value, f"[{snap.state.sweep_quantity}] a plotted value of its tail")
    tab.add("kind", kind, "[0/1/2] 0 converged (final value), 1 a cycle's points, "
            "2 no period ≤ K/2 (last K iterates)")
    bands = data["sweep_diverged"]
    tab.add("diverged_from", bands["left"], "[step size] a grey band of diverged runs starts")
    tab.add("diverged_to", bands["right"], "[step size] … and ends")
    tab.add("threshold_eta", data["sweep_threshold"]["eta"], "[step size] the threshold curve's η")
    tab.add("threshold", data["sweep_threshold"]["value"], "[1/η] the threshold c/η there")
    return tab


def draw_sweep(snap: Snapshot, ax, look) -> None:
    spec, bif = computed(snap)
    quantity = snap.state.sweep_quantity
    data = layers(snap)
    lo_y, hi_y = data["y_range"]
    formula = rules.compact_formula(spec.optimizer)
    for left, right in zip(data["sweep_diverged"]["left"], data["sweep_diverged"]["right"]):
        ax.axvspan(left, right, color=DIVERGED_GREY, alpha=0.45, lw=0, zorder=0)
    th = data["sweep_threshold"]
    ax.plot(th["eta"], th["value"], color=ORANGE, lw=3 * PT, ls="--", gid="threshold")
    for kind, colour, size, alpha in (("cloud", PURPLE, 2, 0.5), ("cycle", VERMILLION, 4, 1),
                                      ("converged", BLUE, 4, 1)):
        layer = data[f"sweep_{kind}"]
        ax.scatter(layer["eta"], layer["value"], s=(size * PT) ** 2, color=colour, alpha=alpha,
                   edgecolors="none", gid=f"sweep_{kind}")
    ax.axvline(snap.state.eta, color=look.ink, lw=2 * PT, gid="eta_now")
    lo, hi = float(bif.etas.min()), float(bif.etas.max())
    pad = 0.01 * (hi - lo)
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(lo_y, hi_y)
    ax.set_xlabel("step size η")
    ax.set_ylabel(sweep_plot.quantity_label(bif.model, spec.optimizer, quantity))
    dot = dict(ls="", marker="o", ms=8 * PT)
    handles = [Line2D([], [], color=BLUE, label="converged: final value", **dot),
               Line2D([], [], color=VERMILLION, label="cycle: its p points", **dot),
               Line2D([], [], color=PURPLE, label="no short period: last K iterates", **dot),
               Patch(color=DIVERGED_GREY, alpha=0.45, label="diverged"),
               Line2D([], [], color=look.ink, lw=2 * PT, label="η now")]
    if len(th["eta"]):
        handles.insert(4, Line2D([], [], color=ORANGE, lw=3 * PT, ls="--",
                                 label=f"threshold {formula}"))
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1.01, 1, 0.2),
              mode="expand", ncol=3, frameon=False, borderaxespad=0, fontsize="small")


def header(snap: Snapshot) -> dict[str, str]:
    """The CSV header's lines of the sweep: its η range, its step budget, K."""
    spec, bif = computed(snap)
    return {"step size": f"{len(bif.etas)} step sizes η from {spec.eta_from:g} to "
                         f"{spec.eta_to:g} (the sidebar's η = {snap.state.eta:g} is the "
                         "vertical line)",
            "steps": f"{spec.steps} per η; plotted: the last K = {spec.keep} iterates"
                     + (f"; SGD seed {spec.seed}" if snap.state.optimizer == "sgd" else ""),
            "plotted": sweep_plot.quantity_label(bif.model, spec.optimizer,
                                                 snap.state.sweep_quantity)}


def words(snap: Snapshot) -> str:
    """The page's caption of this sweep (HTML)."""
    from html import escape
    spec, bif = computed(snap)
    start = ", ".join(f"{v:g}" for v in bif.model.project(np.asarray(spec.init)))
    return (f"<b>{len(bif.etas)} runs from ({escape(start)}), {bif.steps:,} steps each; the "
            f"last K = {bif.tail_params.shape[1]} iterates.</b> "
            + escape(sweep_plot.caption(bif, spec.optimizer)))


def bokeh_sweep(snap: Snapshot):
    """The page's diagram (sweep_figure), its layers and window by sweep_figure.fill."""
    spec, bif = computed(snap)
    canvas = sweep_canvas()
    canvas.figure.title.text = "Bifurcation diagram"   # a click sets η only on the page
    fill(canvas, bif, spec.optimizer, snap.state.sweep_quantity)
    canvas.push({"sweep_eta": snap.state.eta})
    return canvas.figure


SWEEP = Export("sweep", "Bifurcation diagram", sweep_data, draw_sweep, bokeh_sweep, header, words)
