"""The oscillation and distance views' figures for export: ``swing``, ``phase_plane``, and
``distance``.

All read one run with its two flows, app.anatomy.anatomy(state.spec()) (the pages' cache),
once per snapshot. ``phase_plane`` is Damian et al.'s (x, y) of every iterate, coloured by
step (the oscillation page's right-hand plot). ``swing`` is its left column:
x = ⟨q₁, θₖ − θ̄ₖ⟩ (vermillion) and ‖the rest‖ (blue, dashed) against step k, over the sharpness S(θₖ) (faint
green), S at the two-step mean (green) and the threshold (black, dashed); the first step with
S ≥ threshold dotted orange. ``distance`` is ‖θₖ − θ_GF(tₖ)‖ and ‖θₖ − θ_CF(tₖ)‖ against
t = Σ η on a log axis, their two-step averages dotted (app.oscillation, app.distance).
"""
from __future__ import annotations

from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize

from . import distance as dist
from . import oscillation as osc
from .anatomy import anatomy
from .fit import robust_range
from .export_figures import Export, ExportError, Snapshot, Table, fresh
from .figures import BLUE, CENTRAL_FLOW, GREEN, ORANGE, SKY, VERMILLION
from .rules import compact_formula

PT = 0.75


def _anatomy(snap: Snapshot):
    def compute():
        an = anatomy(snap.state.spec())
        if not an.ok:
            raise ExportError(an.message)
        return an
    return snap.memo("anatomy", compute)


def oscillation_of(snap: Snapshot) -> osc.Oscillation:
    return snap.memo("anatomy.oscillation", lambda: osc.oscillation(_anatomy(snap)))


def distance_of(snap: Snapshot) -> dist.Distance:
    return snap.memo("anatomy.distance", lambda: dist.distance(_anatomy(snap)))


def swing_data(snap: Snapshot) -> Table:
    o = oscillation_of(snap)
    tab = Table({})
    tab.add("step", o.step, "[count] the step k")
    tab.add("x", o.x, f"[θ] x = ⟨q₁, θₖ − θ̄ₖ⟩, θ̄ the {o.centre}")
    tab.add("rest", o.rest, "[θ] ‖the rest of θₖ − θ̄ₖ‖ (⊥ q₁)")
    tab.add("y", o.y, "[1/η] y = ∇S⊥(θ̄)·(θₖ − θ̄ₖ), the phase plane's vertical")
    tab.add("sharpness", o.sharpness, "[1/η] S(θₖ), what the rule is held to")
    tab.add("mean_sharpness", o.mean_sharpness, "[1/η] the same at the two-step mean")
    tab.add("threshold", o.threshold, "[1/η] the rule's threshold at step k")
    return tab


def phase_data(snap: Snapshot) -> Table:
    o = oscillation_of(snap)
    tab = Table({})
    tab.add("step", o.step, "[count] the step k (the plot's colour)")
    tab.add("x", o.x, f"[θ] x = ⟨q₁, θₖ − θ̄ₖ⟩, θ̄ the {o.centre} (horizontal)")
    tab.add("y", o.y, "[1/η] y = ∇S⊥(θ̄)·(θₖ − θ̄ₖ), ∇S⊥ = ∇S − ⟨∇S, q₁⟩q₁ (vertical)")
    return tab


def distance_data(snap: Snapshot) -> Table:
    d = distance_of(snap)
    tab = Table({})
    tab.add("time", d.time, "[Σ η] t_k")
    tab.add("gf", d.gf, "[θ] ‖θₖ − θ_GF(tₖ)‖")
    tab.add("cf", d.cf, "[θ] ‖θₖ − θ_CF(tₖ)‖ (empty without a central flow)")
    tab.add("mid_time", d.mid_time, "[Σ η] ½(tₖ + tₖ₊₁)")
    tab.add("mean_gf", d.mean_gf, "[θ] ‖½(θₖ + θₖ₊₁) − ½(θ_GF(tₖ) + θ_GF(tₖ₊₁))‖")
    tab.add("mean_cf", d.mean_cf, "[θ] the same from the central flow")
    return tab


def draw_swing(snap: Snapshot, ax, look) -> None:
    o = oscillation_of(snap)
    (top, bottom) = _split(ax)
    top.plot(o.step, o.x, color=VERMILLION, lw=1.5 * PT, marker="o", ms=3 * PT,
             label="x = ⟨q₁, θₖ − θ̄ₖ⟩", gid="swing_x")
    top.plot(o.step, o.rest, color=BLUE, lw=2 * PT, ls="--", label="‖rest of θₖ − θ̄ₖ‖ (⊥ q₁)",
             gid="swing_rest")
    top.set_ylabel("displacement from θ̄")
    top.set_title("Oscillation along the top eigenvector q₁", fontsize="medium")
    bottom.plot(o.step, o.sharpness, color=GREEN, lw=1 * PT, alpha=0.35, label="S(θₖ)",
                gid="sharpness")
    bottom.plot(o.step, o.mean_sharpness, color=GREEN, lw=3 * PT,
                label="S at the two-step mean", gid="mean_sharpness")
    bottom.plot(o.step, o.threshold, color=look.ink, lw=2 * PT, ls="--", gid="threshold",
                label=compact_formula(snap.state.optimizer))
    bottom.set_xlabel("step k")
    bottom.set_ylabel("sharpness")
    bottom.set_title("Sharpness S and the threshold", fontsize="medium")
    for a in (top, bottom):
        if o.edge_step is not None:
            a.axvline(o.edge_step, color=ORANGE, lw=2 * PT, ls=":")
        a.set_xlim(0, max(len(o.step) - 1, 1))
        a.legend(loc="upper right", fontsize="small", framealpha=0.7)


def draw_phase(snap: Snapshot, ax, look) -> None:
    """Damian et al.'s phase plane: (x, y) of every iterate coloured by step (viridis), the
    axes fitted to most of the run as on the page (robust_range)."""
    from .export_basin import VIRIDIS
    o = oscillation_of(snap)
    norm = Normalize(0, max(len(o.step) - 1, 1))
    ax.scatter(o.x, o.y, c=o.step, cmap=VIRIDIS, norm=norm, s=(4 * PT) ** 2,
               edgecolors="none", gid="phase_points")
    for axis, values in (("x", o.x), ("y", o.y)):
        rng = robust_range(values, extra=[0.0])
        getattr(ax, f"set_{axis}lim")(rng.lo, rng.hi)
    ax.axhline(0, color=look.grid, lw=1, zorder=0)
    ax.axvline(0, color=look.grid, lw=1, zorder=0)
    ax.set_xlabel("x = ⟨q₁, θ − θ̄⟩")
    ax.set_ylabel("y = ∇S⊥·(θ − θ̄)")
    ax.set_title("Self-stabilization: x against y", fontsize="medium")
    bar = ax.figure.colorbar(ScalarMappable(norm, VIRIDIS), ax=ax, pad=0.01, fraction=0.05)
    bar.set_label("step k")


def _split(ax):
    """The figure's one Axes made two stacked ones sharing step (swing over sharpness)."""
    spec = ax.get_subplotspec()
    fig = ax.figure
    ax.remove()
    inner = spec.subgridspec(2, 1, height_ratios=[1.1, 1], hspace=0.08)
    top = fig.add_subplot(inner[0])
    bottom = fig.add_subplot(inner[1], sharex=top)
    top.tick_params(labelbottom=False)
    return top, bottom


def draw_distance(snap: Snapshot, ax, look) -> None:
    d = distance_of(snap)
    log = dist.log_column
    ax.plot(d.time, log(d.gf), color=BLUE, lw=2.5 * PT, label="‖θ − θ_GF(t)‖ gradient flow",
            gid="gf")
    if d.has_central:
        ax.plot(d.time, log(d.cf), color=SKY, lw=2.5 * PT, label="‖θ − θ_CF(t)‖ central flow",
                gid="cf")
    ax.plot(d.mid_time, log(d.mean_gf), color=BLUE, lw=2 * PT, ls=":",
            label="two-step average, from gradient flow", gid="mean_gf")
    if d.has_central:
        ax.plot(d.mid_time, log(d.mean_cf), color=CENTRAL_FLOW["color"], lw=2 * PT, ls=":",
                label="two-step average, from the central flow", gid="mean_cf")
    if d.edge_step is not None:
        ax.axvline(d.edge_time, color=ORANGE, lw=2 * PT, ls=":", gid="edge",
                   label="S first reaches the threshold")
    ax.set_yscale("log")
    ax.set_xlabel("time t = Σ η")
    ax.set_ylabel("distance ‖·‖")
    ax.set_title("Distance of the run from the two flows", fontsize="medium")
    ax.legend(loc="center right", fontsize="small", framealpha=0.7)


def oscillation_words(snap: Snapshot) -> str:
    from html import escape
    return escape(osc.words(oscillation_of(snap), _anatomy(snap))[0])


def distance_words(snap: Snapshot) -> str:
    from html import escape
    return escape(dist.words(distance_of(snap), _anatomy(snap))[0])


def oscillation_figures(snap: Snapshot):
    """The page's three figures (anatomy_figures.OscillationFigures) filled with the run."""
    def build():
        from .anatomy_figures import OscillationFigures
        figs = OscillationFigures()
        figs.fill(oscillation_of(snap), snap.state.optimizer)
        return figs
    return fresh(snap, "oscillation.figures", build)


def bokeh_swing(snap: Snapshot):
    from bokeh.layouts import column
    figs = oscillation_figures(snap).figures
    return column(figs["swing"], figs["sharpness"], sizing_mode="stretch_width")


def bokeh_phase(snap: Snapshot):
    return oscillation_figures(snap).figures["phase"]


def bokeh_distance(snap: Snapshot):
    from .anatomy_figures import DistanceFigure
    fig = DistanceFigure()
    fig.fill(distance_of(snap))
    return fig.figure


SWING = Export("oscillation", "Swing along q₁", swing_data, draw_swing, bokeh_swing,
               words=oscillation_words)
PHASE = Export("oscillation", "Phase plane (x, y)", phase_data, draw_phase, bokeh_phase,
               words=oscillation_words)
DISTANCE = Export("distance", "Distance from the flows", distance_data, draw_distance,
                  bokeh_distance, words=distance_words)
