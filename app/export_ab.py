"""The (a, b) view's two figures for export: ``ab_plane`` and ``ab_map`` (no Panel drawn).

The run is the snapshot's (the page's run, its flows not drawn); ab_plane.ab_path puts its
iterates in Zhu et al.'s (a, b) plane and ab_layers.plane_layers gives the page's layers:
even steps blue, odd steps orange, the last iterate a star, the parabola b² = aκ/2 + κ⁴/16
(degree 4) or the orbit ellipse through θ₀ (degree 2) in green, the line a = −κ³/8 (a = 0)
dashed purple. ``ab_map`` is the two-step map's bifurcation diagram (ab_plane.bifurcation)
under the run's iterates, with the period doubling a = 1/(8κ) dotted (degree 4 only).
"""
from __future__ import annotations

import numpy as np

from . import ab_layers, figures_ab
from . import ab_plane as ab
from .export_figures import Export, ExportError, Snapshot, Table, fresh
from .figures import GREEN, PURPLE
from .figures_ab import EVEN, ODD

PT = 0.75
NO_DIAGRAM = ("Degree 2 has no bifurcation diagram to show: its two steps near the EoS "
              "minimum keep b² + 4a²/κ², so the orbits are ellipses (see the plane).")


def path(snap: Snapshot) -> ab.ABPath:
    """The run in (a, b), once per snapshot (ExportError: the page's sentence why not)."""
    def compute():
        r = snap.result
        eta = float(r.traj.eta[-1]) if len(r.traj.eta) else float(r.spec.eta)
        out = ab.ab_path(r.spec.model.name, r.traj.params, eta)
        if isinstance(out, str):
            raise ExportError(out)
        return out
    return snap.memo("ab.path", compute)


def ab_data(snap: Snapshot) -> Table:
    p = path(snap)
    tab = Table({})
    tab.add("k", np.arange(len(p.a)), "[count] the step k")
    tab.add("a", p.a, "[θ] a = √(x² − y²) − (η⁻² − 4)^¼ (degree 2: (4η⁻² − 4)^¼); empty "
            "where x² < y²")
    tab.add("b", p.b, "[θ] b = xy − 1")
    return tab


def map_data(snap: Snapshot) -> Table:
    p = path(snap)
    tab = ab_data(snap)
    if p.degree != 4:   # the page shows words instead of a diagram
        return tab
    diagram = ab.bifurcation(round(p.kappa, 12))
    tab.add("map_a", diagram["a"], "[θ] a of a point of the two-step map's diagram")
    tab.add("map_b", diagram["b"], "[θ] one of the last 48 values b settles to at that a")
    return tab


def _iterates(ax, layers, size, alpha=1.0, prefix="GD: "):
    for name, colour, words in (("ab_even", EVEN, "even steps"), ("ab_odd", ODD, "odd steps")):
        ax.scatter(layers[name]["a"], layers[name]["b"], s=(size * PT) ** 2, color=colour,
                   alpha=alpha, edgecolors="none", label=prefix + words, gid=name)


def _limits(ax, window):
    (a_lo, a_hi), (b_lo, b_hi) = window
    ax.set_xlim(a_lo, a_hi)
    ax.set_ylim(b_lo, b_hi)
    ax.set_xlabel("a")
    ax.set_ylabel("b")


def draw_plane(snap: Snapshot, ax, look) -> None:
    p = path(snap)
    layers = ab_layers.plane_layers(p)
    if p.degree == 4:
        ax.plot(layers["ab_parabola"]["a"], layers["ab_parabola"]["b"], color=GREEN,
                lw=3 * PT, label="parabola b² = aκ/2 + κ⁴/16", gid="parabola")
    else:
        ax.plot(layers["ab_ellipse"]["a"], layers["ab_ellipse"]["b"], color=GREEN, lw=2 * PT,
                ls="--", label="orbit b² + 4a²/κ² = const through θ₀", gid="ellipse")
    edge = layers["ab_edge"]
    ax.axvline(edge, color=PURPLE, lw=2 * PT, ls="--", gid="edge",
               label="a = −κ³/8" if p.degree == 4 else "a = 0 (EoS minimum)")
    _iterates(ax, layers, 4, prefix="")
    last = layers["ab_last"]
    ax.scatter(last["a"], last["b"], marker="*", s=(16 * PT) ** 2, color=look.ink,
               label="last iterate", zorder=5, gid="last")
    _limits(ax, ab_layers.window([layers["ab_even"], layers["ab_odd"]], [edge], [0.0]))
    ax.set_title("The run in Zhu's (a, b) plane", fontsize="medium")
    ax.legend(loc="best", fontsize="small", framealpha=0.8)


def draw_map(snap: Snapshot, ax, look) -> None:
    p = path(snap)
    if p.degree != 4:
        ax.text(0.5, 0.5, NO_DIAGRAM, transform=ax.transAxes, ha="center", va="center",
                wrap=True)
        ax.set_axis_off()
        return
    layers = ab_layers.plane_layers(p)
    k = p.kappa
    diagram = ab.bifurcation(round(k, 12))
    ax.scatter(diagram["a"], diagram["b"], s=(2 * PT) ** 2, color="#333333" if look.name ==
               "light" else "#bbbbbb", alpha=0.6, edgecolors="none",
               label="the map's last 48 values, for each a", gid="ab_bifurcation")
    _iterates(ax, layers, 3, alpha=0.7)
    a_double = ab.period_doubling_a(k)
    ax.axvline(a_double, color=look.ink, lw=2 * PT, ls=":", gid="doubling",
               label=f"period doubling a = 1/(8κ) = {a_double:.3g}")
    a_lo, a_hi = ab.bifurcation_range(k)
    _limits(ax, ab_layers.window([layers["ab_even"], layers["ab_odd"], diagram],
                                 [a_lo, a_hi], [0.0]))
    ax.set_title("Where b settles: b'' = b(1 + 8aκ − 16b²)", fontsize="medium")
    ax.legend(loc="best", fontsize="small", framealpha=0.8)


def words(snap: Snapshot) -> str:
    """The page's two lines under its title: what is plotted, where the run ends (HTML)."""
    from html import escape
    p, r = path(snap), snap.result
    n = len(r.traj.loss)
    lines = [ab_layers.formula_line(p),
             ab_layers.summary(p, float(r.traj.sharpness[-1]), 2.0 / p.eta, n - 1,
                               r.traj.diverged_at)]
    return "<br>".join(escape(line) for line in lines)


def bokeh_figures(snap: Snapshot) -> dict:
    """The page's two figures (figures_ab), sharing their sources, filled by
    figures_ab.fill; one pair per HTML file (``fresh``)."""
    def build():
        p = path(snap)
        src = figures_ab.sources()
        plane, diagram = figures_ab.plane_figure(src), figures_ab.diagram_figure(src)
        figures_ab.fill(src, plane, diagram, p)
        figures_ab.show_legends(figures_ab.legend_items(plane, diagram))
        if p.degree != 4:   # the page says why in words, in place of the diagram
            from bokeh.models import Div
            diagram = Div(text=f"<p style='font-size:15px;max-width:520px'>{NO_DIAGRAM}</p>",
                          name="ab_no_diagram")
        return {"ab_plane": plane, "ab_map": diagram}
    return fresh(snap, "ab.figures", build)


AB_PLANE = Export("ab", "(a, b) plane", ab_data, draw_plane,
                  lambda snap: bokeh_figures(snap)["ab_plane"], words=words)
AB_MAP = Export("ab", "Two-step map", map_data, draw_map,
                lambda snap: bokeh_figures(snap)["ab_map"], words=words)
