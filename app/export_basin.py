"""The basin map view's figure for export: ``basin`` (no Panel, no Bokeh objects).

The map is app/basin.py's, computed once per snapshot (``snap.memo``) from the BasinSpec the
page builds (views_basin.BasinView.spec: basin_window, basin_res, basin_steps, the rule and
its hyperparameters). Drawn as the page paints it: viridis over ``colour_range``, diverged
cells grey, edge cells (T − BAND < S < T) vermillion, the current start a crossed circle.
A 1-D model gets the page's strip: the final value against the start x₀.
"""
from __future__ import annotations

import numpy as np
from bokeh.palettes import Viridis256
from matplotlib.cm import ScalarMappable
from matplotlib.colors import ListedColormap, Normalize
from matplotlib.lines import Line2D
from matplotlib.transforms import offset_copy

import dynamics

from . import basin
from .basin_figure import BAR_TITLE, BasinFigures, paint
from .export_figures import Export, ExportError, Snapshot, Table

VIRIDIS = ListedColormap(list(Viridis256))
PT = 0.75


def basin_spec(state) -> basin.BasinSpec:
    """The map the state asks for (the page's own :func:`app.basin.spec_of`), ExportError
    if none."""
    spec = basin.spec_of(state)
    if isinstance(spec, str):
        raise ExportError(spec)
    return spec


def computed(snap: Snapshot) -> tuple[basin.BasinSpec, dict]:
    """(spec, result) of the snapshot's map, computed once (in the page's row bands)."""
    def compute():
        spec = basin_spec(snap.state)
        return spec, basin.join([basin.compute(spec, b) for b in basin.bands(spec)])
    return snap.memo("basin.map", compute)


def header(snap: Snapshot) -> dict[str, str]:
    """The CSV header's lines of the map: its step budget and its grid."""
    spec, _ = computed(snap)
    (xl, xh), *rest = spec.window
    grid = (f"{spec.res} × {spec.res} starts over x₀ ∈ [{xl:g}, {xh:g}], "
            f"y₀ ∈ [{rest[0][0]:g}, {rest[0][1]:g}]" if rest else
            f"{spec.res} starts over x₀ ∈ [{xl:g}, {xh:g}]")
    plane = (" (xyzw: z₀ = x₀, w₀ = y₀)" if snap.state.model == "xyzw" else "")
    return {"start": f"every cell of the grid{plane}; the marked start is "
                     f"{snap.start_text()}",
            "steps": f"{spec.steps} per start at most (a cell stops early once a step "
                     "hardly moves θ, or once it diverges)",
            "grid": grid + f"; colour: {basin.COLOURS[snap.state.basin_colour]}"}


def heading(spec: basin.BasinSpec, colour: str) -> str:
    rule = dynamics.OPTIMIZERS[spec.optimizer].title
    return f"{basin.COLOURS[colour]}: {rule}, η = {spec.eta:g}, ≤ {spec.steps:,} steps"


def basin_data(snap: Snapshot) -> Table:
    spec, result = computed(snap)
    (xl, xh), *rest = spec.window
    xs = basin.axis(xl, xh, spec.res)
    ys = basin.axis(*rest[0], spec.res) if rest else np.array([np.nan])
    gx, gy = np.meshgrid(xs, ys)   # rows of y, as the result's arrays
    edge = basin.edge_mask(result, basin.threshold(spec))
    tab = Table({})
    tab.add("x0", gx.ravel(), "[θ] the cell's start x₀")
    tab.add("y0", gy.ravel(), "[θ] the cell's start y₀ (nan for a 1-D model)")
    tab.add("final_sharpness", result["sharpness"].ravel(), "[1/η] S = λ_max(∇²L) at the end")
    tab.add("final_loss", result["loss"].ravel(), "[L] the loss at the end")
    tab.add("diverged", result["diverged"].ravel(), "[0/1] 1 if the run diverged (grey)")
    tab.add("steps_run", result["steps_run"].ravel(), "[count] the step at which it stopped")
    tab.add("edge", edge.ravel(), f"[0/1] 1 if it ends with T − {basin.BAND:g} < S < T "
            "(drawn vermillion)")
    return tab


def draw_basin(snap: Snapshot, ax, look) -> None:
    spec, result = computed(snap)
    colour = snap.state.basin_colour
    t = basin.threshold(spec)
    edge = basin.edge_mask(result, t)
    values = basin.colour_values(result, colour)
    low, high = basin.colour_range(values, colour, spec.steps)
    norm = Normalize(low, high)
    (xl, xh), *rest = spec.window
    x, y = snap.state.x0, snap.state.y0
    if rest:
        (yl, yh), = rest
        rgba = VIRIDIS(norm(values))
        rgba[~np.isfinite(values)] = (*_rgb(basin.DIVERGED_COLOUR), 1.0)
        rgba[edge] = (*_rgb(basin.EDGE_COLOUR), 1.0)
        dx, dy = (xh - xl) / max(spec.res - 1, 1), (yh - yl) / max(spec.res - 1, 1)
        ax.imshow(rgba, origin="lower", aspect="auto", interpolation="nearest", gid="basin_map",
                  extent=(xl - dx / 2, xh + dx / 2, yl - dy / 2, yh + dy / 2))
        ax.set_xlim(xl, xh)
        ax.set_ylim(yl, yh)
        ax.scatter([x], [y], s=(18 * PT) ** 2, facecolors="white", edgecolors="black",
                   linewidths=2 * PT, zorder=7, gid="start")
        ax.scatter([x], [y], s=(18 * PT) ** 2, marker="+", color="black", linewidths=2 * PT,
                   zorder=8)
        ax.set_ylabel("start y₀")
    else:
        xs = basin.axis(xl, xh, spec.res)
        row = values[0]
        colours = VIRIDIS(norm(row))
        colours[~np.isfinite(row)] = (*_rgb(basin.DIVERGED_COLOUR), 1.0)
        colours[edge[0]] = (*_rgb(basin.EDGE_COLOUR), 1.0)
        ax.scatter(xs, np.where(np.isfinite(row), row, low), c=colours, s=(6 * PT) ** 2,
                   gid="basin_points")
        if t is not None and colour == "sharpness":
            ax.axhline(t, color=look.ink, ls="--", lw=1.5 * PT, gid="threshold")
        ax.axvline(x, color=look.ink, lw=2 * PT, gid="start")
        pad = 0.05 * (high - low)
        ax.set_ylim(low - pad, high + pad)
        ax.set_xlim(xl, xh)
        ax.set_ylabel(basin.COLOURS[colour])
    ax.set_xlabel("start x₀")
    ax.set_title(heading(spec, colour), fontsize="small")
    bar = ax.figure.colorbar(ScalarMappable(norm, VIRIDIS), ax=ax, pad=0.01, fraction=0.05)
    bar.set_label(BAR_TITLE[colour])
    if t is not None:
        ax.legend(handles=[Line2D([], [], ls="", marker="s", color=basin.EDGE_COLOUR,
                                  label=f"edge: {t - basin.BAND:g} < S < {t:g}"),
                           Line2D([], [], ls="", marker="s", color=basin.DIVERGED_COLOUR,
                                  label="diverged")],
                  loc="upper center", bbox_to_anchor=(0.5, 0), ncol=2, frameon=False,
                  bbox_transform=offset_copy(ax.transAxes, ax.figure, y=-0.5, units="inches"),
                  borderaxespad=0)


def _rgb(hex_colour: str) -> tuple[float, float, float]:
    h = hex_colour.lstrip("#")
    return tuple(int(h[i:i + 2], 16) / 255 for i in (0, 2, 4))


def words(snap: Snapshot) -> str:
    """The page's caption of this map (HTML); what only the live page does left out."""
    from .basin_words import caption
    spec, result = computed(snap)
    lines = caption(spec, result, basin.threshold(spec), snap.state.basin_colour).split("<br>")
    start = (snap.state.x0, snap.state.y0)[:len(spec.window)]
    inside = all(lo <= v <= hi for v, (lo, hi) in zip(start, spec.window))
    mark = [f"◎ the current start {snap.start_text()}."] if inside else []
    return "<br>".join([line for line in lines if not line.startswith("◎")] + mark)


def bokeh_basin(snap: Snapshot):
    """The page's map (or 1-D strip), painted by basin_figure.paint, its start marked."""
    spec, result = computed(snap)
    figs = BasinFigures()
    paint(figs, spec, result, snap.state.basin_colour)
    figs.start.data = {"x": [snap.state.x0], "y": [snap.state.y0]}
    figs.start_line.location = snap.state.x0
    two_d = len(spec.window) > 1
    fig = figs.map if two_d else figs.strip
    fig.visible = True
    ranges = [fig.x_range] + ([fig.y_range] if two_d else [])
    for r, (lo, hi) in zip(ranges, spec.window):
        r.update(start=lo, end=hi, reset_start=lo, reset_end=hi)
    return fig


BASIN = Export("basin", "Basin map", basin_data, draw_basin, bokeh_basin, header, words)
