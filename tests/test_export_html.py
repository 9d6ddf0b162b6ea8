"""Offline HTML of every view and the CSV headers (app/export_html.py, app/export_files.py).

The HTML: a complete document that links nothing (no script or stylesheet by URL), holds the
page's own named Bokeh models filled with the snapshot's data (compared with the views' pure
data layers, computed here directly), and builds anew for each file. The CSV: its '#' header
names model, optimizer, η and start, and for the basin map and the η sweep their step budget
and their grid or η range, read against the state asked for.
"""
import re

import numpy as np
import pytest

from app.export_figures import EXPORTS, Snapshot, get
from app.export_files import file_bytes
from app.export_html import standalone_html

from test_export_views import SWEEP, SWING, ZOOM, csv_columns

LINKED = re.compile(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*['\"]?(?:https?:)?//",
                    re.I)


@pytest.fixture(scope="module")
def snaps():
    return {"basin": Snapshot.from_query(ZOOM), "sweep": Snapshot.from_query(SWEEP),
            "ab": Snapshot.from_query({"preset": "zhu-ab", "steps": "200"}),
            "anatomy": Snapshot.from_query(SWING)}


VIEWS = [("basin", "basin", ["basin_image", "basin_marker"]),
         ("sweep", "sweep", ["sweep_converged", "sweep_cycle", "sweep_threshold"]),
         ("ab", "ab", ["ab_even", "ab_odd", "ab_bifurcation", "ab_edge", "ab_doubling"]),
         ("anatomy", "oscillation", ["osc_swing", "osc_sharpness", "osc_phase"]),
         ("anatomy", "distance", ["dist_steps", "dist_means", "dist_edge"])]


@pytest.mark.parametrize("snap, view, models", VIEWS)
def test_every_views_html_links_nothing_and_holds_the_pages_models(snaps, snap, view, models):
    html = file_bytes(snaps[snap], view, "html").decode()
    assert html.startswith("<!DOCTYPE html>") and "</html>" in html
    assert not LINKED.findall(html), LINKED.findall(html)[:3]
    assert "<link" not in html and "<script src" not in html
    for name in models:
        assert f'"name":"{name}"' in html, name
    header = html[html.index("<header"):html.index("</header>")]
    assert snaps[snap].headline().split(" · ")[0] in header   # the rule, readable on top


def test_the_sweep_figure_is_filled_with_the_diagrams_layers(snaps):
    import dynamics
    from app import sweep_plot
    fig = get("sweep").bokeh(snaps["sweep"])
    bif = dynamics.bifurcation(dynamics.MODELS["x2y2"], (1.2, 0.9), np.linspace(0.3, 0.85, 24),
                               2000, keep=8)
    truth = sweep_plot.diagram_data(bif, "sharpness")
    for name in ("sweep_converged", "sweep_cycle", "sweep_cloud"):
        source = fig.select_one({"name": name})
        assert np.allclose(np.asarray(source.data["value"], float), truth[name]["value"],
                           rtol=1e-6), name   # float32 on the wire, as on the page
    assert fig.select_one({"name": "sweep_eta_marker"}).location == 0.6
    assert "click" not in fig.title.text   # a click sets η only on the live page


def test_the_basin_map_is_the_computed_map_and_its_window(snaps):
    from app import basin
    snap = snaps["basin"]
    fig = get("basin").bokeh(snap)
    spec = basin.BasinSpec(snap.state.model_object(), "gd", (), 0.2, ((3.0, 3.4), (0.1, 0.5)),
                           12, 200)
    truth = basin.compute(spec)
    shown = fig.select_one({"name": "basin_image"}).data["value"][0]
    values = basin.colour_values(truth, "sharpness")   # the page's: diverged cells NaN
    assert np.isnan(values).any() and np.isfinite(values).any()
    assert np.allclose(shown, values.astype(np.float32), equal_nan=True)
    assert (fig.x_range.start, fig.x_range.end, fig.y_range.start, fig.y_range.end) == \
        (3.0, 3.4, 0.1, 0.5)
    assert fig.select_one({"name": "basin_marker"}).data_source.data["x"] == [snap.state.x0]


def test_the_oscillation_figures_are_the_oscillation_layers(snaps):
    from app import oscillation
    from app.anatomy import anatomy
    snap = snaps["anatomy"]
    o = oscillation.oscillation(anatomy(snap.state.spec()))
    phase = get("phase_plane").bokeh(snap)
    data = phase.select_one({"name": "osc_phase"}).data
    assert np.array_equal(data["x"], o.x) and np.array_equal(data["y"], o.y)
    swing = get("swing").bokeh(snap)
    assert np.array_equal(swing.select_one({"name": "osc_sharpness"}).data["mean_sharpness"],
                          o.mean_sharpness)


def test_a_snapshot_makes_one_html_file_after_another(snaps):
    """Each file gets new models (a Bokeh model belongs to one document)."""
    first = standalone_html(snaps["ab"], "ab")
    again = standalone_html(snaps["ab"], "ab_plane")
    assert '"name":"ab_even"' in first and '"name":"ab_even"' in again
    assert not [k for k in snaps["ab"]._memo if isinstance(k, tuple) and k[0] == "bokeh"]


def test_every_figure_has_an_html_export():
    assert all(get(name).bokeh is not None for name in EXPORTS)


# --- CSV headers ----------------------------------------------------------------------------

def header(snap, view) -> dict[str, str]:
    lines = file_bytes(snap, view, "csv").decode().splitlines()
    pairs = [line[2:].split(": ", 1) for line in lines
             if line.startswith("# ") and not line.startswith("# column") and ": " in line]
    return dict(pairs)


@pytest.mark.parametrize("snap, view", [(s, v) for s, v, _ in VIEWS] +
                         [("anatomy", "phase_plane"), ("ab", "ab_map")])
def test_every_csv_header_names_model_optimizer_eta_and_start(snaps, snap, view):
    state = snaps[snap].state
    h = header(snaps[snap], view)
    assert h["model"].startswith(f"{state.model} — ")
    assert h["optimizer"].startswith(f"{state.optimizer} — ")
    assert "η" in h["step size"] and f"{state.eta:g}" in h["step size"]
    start = ", ".join(f"{n} = {v:g}" for n, v in zip(state.model_object().param_names,
                                                       state.start()))
    assert f"({start})" in h["start"]
    assert "steps" in h and "link query" in h


def test_the_basin_header_names_its_step_budget_and_grid(snaps):
    h = header(snaps["basin"], "basin")
    assert h["steps"].startswith("200 per start")   # basin_steps, not the trajectory's 1500
    assert h["grid"].startswith("12 × 12 starts over x₀ ∈ [3, 3.4], y₀ ∈ [0.1, 0.5]")
    assert "z₀ = x₀, w₀ = y₀" in h["start"]


def test_the_sweep_header_names_its_step_budget_and_eta_range(snaps):
    h = header(snaps["sweep"], "sweep")
    assert h["step size"].startswith("24 step sizes η from 0.3 to 0.85")
    assert "η = 0.6" in h["step size"]
    assert h["steps"].startswith("2000 per η") and "K = 8" in h["steps"]
    col = csv_columns(file_bytes(snaps["sweep"], "sweep", "csv"))
    etas = col["eta"][np.isfinite(col["eta"])]
    assert etas.min() >= 0.3 and etas.max() <= 0.85
    # the file's title names the range swept, not the sidebar's one η
    assert "24 step sizes η from 0.3 to 0.85" in snaps["sweep"].headline("sweep")
    assert "η = 0.6" in snaps["sweep"].headline("trajectory")


def test_the_phase_plane_csv_is_the_oscillation_layer(snaps):
    from app import oscillation
    from app.anatomy import anatomy
    snap = snaps["anatomy"]
    o = oscillation.oscillation(anatomy(snap.state.spec()))
    col = csv_columns(file_bytes(snap, "phase_plane", "csv"))
    assert list(col) == ["step", "x", "y"]
    for name in ("step", "x", "y"):
        assert np.allclose(col[name], getattr(o, name), rtol=1e-12, atol=1e-300,
                           equal_nan=True), name


def test_the_cli_writes_the_html_of_a_view_that_is_not_the_trajectory(tmp_path):
    from app import export
    out = tmp_path / "sweep.html"
    query = "&".join(f"{k}={v}" for k, v in SWEEP.items())
    assert export.main(["--query", query, "--view", "sweep", "--format", "html",
                        "--out", str(out)]) == 0
    html = out.read_text()
    assert '"name":"sweep_converged"' in html and not LINKED.findall(html)
