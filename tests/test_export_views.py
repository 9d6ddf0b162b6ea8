"""Export of the new views' figures (basin, sweep, ab, oscillation, distance): each format
written at the asked size, each CSV the view's own pure data layer (to 1e-12), the CLI on a
preset, and a clear one-line refusal where a view has nothing to draw.

Truth: the image sizes from the files (PNG header, pypdf, the SVG's width attribute); the
columns from the views' data modules called directly (app/basin.py …), not through the export.
"""
import io
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from pypdf import PdfReader

from app import basin, export
from app.export_figures import Snapshot
from app.export_files import file_bytes

from test_export import SVG, png_size

EXACT = dict(rtol=1e-12, atol=1e-300, equal_nan=True)


def csv_columns(data: bytes) -> dict[str, np.ndarray]:
    rows = [r for r in data.decode().splitlines() if not r.startswith("#")]
    names = rows[0].split(",")
    cells = [r.split(",") for r in rows[1:]]
    return {n: np.array([float(c[i]) if c[i] else np.nan for c in cells])
            for i, n in enumerate(names)}


def sizes_are_asked(snap, view):
    assert png_size(file_bytes(snap, view, "png", width=4, height=3, dpi=50)) == (200, 150)
    box = PdfReader(io.BytesIO(file_bytes(snap, view, "pdf", width=5, height=3))).pages[0].mediabox
    assert (float(box.width), float(box.height)) == (360.0, 216.0)
    root = ET.fromstring(file_bytes(snap, view, "svg", width=5, height=3))
    assert root.tag == f"{SVG}svg" and root.get("width") == "360pt"


# --- basin -----------------------------------------------------------------------------

ZOOM = {"preset": "zhu-fig2b-zoom", "basin_res": "12", "basin_steps": "200"}


@pytest.fixture(scope="module")
def zoom():
    return Snapshot.from_query(ZOOM)


def test_basin_files_have_the_asked_size(zoom):
    sizes_are_asked(zoom, "basin")   # the figure and the page are one name


def test_basin_csv_is_the_maps_cells(zoom):
    col = csv_columns(file_bytes(zoom, "basin", "csv"))
    spec = basin.BasinSpec(zoom.state.model_object(), "gd", (), 0.2,
                           ((3.0, 3.4), (0.1, 0.5)), 12, 200)
    truth = basin.compute(spec)
    xs, ys = basin.axis(3.0, 3.4, 12), basin.axis(0.1, 0.5, 12)
    assert len(col["x0"]) == 144
    assert np.allclose(col["x0"], np.tile(xs, 12), **EXACT)
    assert np.allclose(col["y0"], np.repeat(ys, 12), **EXACT)
    assert np.allclose(col["final_sharpness"], truth["sharpness"].ravel(), **EXACT)
    assert np.allclose(col["final_loss"], truth["loss"].ravel(), **EXACT)
    assert np.array_equal(col["diverged"], truth["diverged"].ravel())
    assert np.array_equal(col["steps_run"], truth["steps_run"].ravel())
    s, div = truth["sharpness"].ravel(), truth["diverged"].ravel()
    assert np.array_equal(col["edge"] == 1, ~div & (s > 10 - 0.1) & (s < 10))


def test_cli_exports_the_zoomed_basin_preset(tmp_path):
    out = tmp_path / "b.png"
    query = "&".join(f"{k}={v}" for k, v in ZOOM.items())
    assert export.main(["--query", query, "--view", "basin", "--format", "png", "--out",
                        str(out), "--width", "4", "--height", "4", "--dpi", "40"]) == 0
    assert png_size(out.read_bytes()) == (160, 160)


def test_basin_of_a_flow_is_refused_in_one_line(capsys, tmp_path):
    argv = ["--query", "model=xyzw&optimizer=flow", "--view", "basin", "--format", "csv",
            "--out", str(tmp_path / "f.csv")]
    assert export.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "no basin map" in err



def test_a_one_parameter_model_exports_the_strip():
    snap = Snapshot.from_query({"model": "picky", "basin_res": "20", "basin_steps": "50"})
    col = csv_columns(file_bytes(snap, "basin", "csv"))
    spec = basin.BasinSpec(snap.state.model_object(), snap.state.optimizer, snap.state.hyper(),
                           snap.state.eta, tuple(snap.state.model_object().window), 20, 50)
    truth = basin.compute(spec)
    assert len(col["x0"]) == 20 and np.all(np.isnan(col["y0"]))
    assert np.allclose(col["final_sharpness"], truth["sharpness"].ravel(), **EXACT)
    assert png_size(file_bytes(snap, "basin", "png", width=4, height=3, dpi=50)) == (200, 150)

# --- sweep -----------------------------------------------------------------------------

SWEEP = {"view": "sweep", "model": "x2y2", "x0": "1.2", "y0": "0.9", "eta": "0.6",
         "sweep_eta_from": "0.3", "sweep_eta_to": "0.85", "sweep_count": "24",
         "sweep_keep": "8", "sweep_steps": "2000"}


@pytest.fixture(scope="module")
def sweep():
    return Snapshot.from_query(SWEEP)


def test_sweep_files_have_the_asked_size(sweep):
    sizes_are_asked(sweep, "sweep")


def test_sweep_csv_is_the_diagrams_points(sweep):
    import dynamics
    from app import sweep_plot
    col = csv_columns(file_bytes(sweep, "sweep", "csv"))
    etas = np.linspace(0.3, 0.85, 24)
    bif = dynamics.bifurcation(dynamics.MODELS["x2y2"], (1.2, 0.9), etas, 2000, keep=8)
    truth = sweep_plot.diagram_data(bif, "sharpness")
    n = 0
    for kind, name in enumerate(("converged", "cycle", "cloud")):
        layer = truth[f"sweep_{name}"]
        m = len(layer["eta"])
        assert np.allclose(col["eta"][n:n + m], layer["eta"], **EXACT)
        assert np.allclose(col["value"][n:n + m], layer["value"], **EXACT)
        assert np.all(col["kind"][n:n + m] == kind)
        n += m
    assert n > 0 and np.all(np.isnan(col["eta"][n:]))
    assert len(truth["sweep_cycle"]["eta"]) > 0   # x²y² from (1.2, 0.9) period-doubles here
    th = truth["sweep_threshold"]
    shown = np.isfinite(th["value"])
    assert shown.any() and np.allclose(th["value"][shown], 2 / th["eta"][shown], rtol=1e-12)
    assert np.allclose(col["threshold"][:len(th["eta"])], th["value"], **EXACT)


# --- ab --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def zhu_ab():
    return Snapshot.from_query({"preset": "zhu-ab", "steps": "200"})


@pytest.mark.parametrize("view", ["ab_plane", "ab_map", "ab"])
def test_ab_files_have_the_asked_size(zhu_ab, view):
    sizes_are_asked(zhu_ab, view)


def test_ab_csv_is_zhus_coordinates_of_the_run(zhu_ab):
    from app import ab_plane
    col = csv_columns(file_bytes(zhu_ab, "ab_plane", "csv"))
    x, y = zhu_ab.result.traj.params[:, 0], zhu_ab.result.traj.params[:, 1]
    assert np.array_equal(col["k"], np.arange(201))
    # a = √(x² − y²) − (η⁻² − 4)^¼, b = xy − 1 (Zhu et al. Def. 2), written out here
    assert np.allclose(col["a"], np.sqrt(x * x - y * y) - (0.2 ** -2 - 4) ** 0.25, **EXACT)
    assert np.allclose(col["b"], x * y - 1, **EXACT)
    diagram = ab_plane.bifurcation(round(np.sqrt(0.2), 12))
    both = csv_columns(file_bytes(zhu_ab, "ab_map", "csv"))
    m = len(diagram["a"])
    assert np.allclose(both["map_a"][:m], diagram["a"], **EXACT)
    assert np.allclose(both["map_b"][:m], diagram["b"], **EXACT)


def test_ab_of_a_model_without_a_b_is_one_line_and_exit_2(capsys, tmp_path):
    out = tmp_path / "ab.png"
    assert export.main(["--query", "model=quadratic", "--view", "ab", "--format", "png",
                        "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("app.export: error: ")
    assert "(a, b) plane is defined only for" in err and "'quadratic'" in err
    assert not out.exists()


def test_ab_page_of_degree_2_says_there_is_no_diagram():
    snap = Snapshot.from_query({"model": "xy", "eta": "0.2", "x0": "2", "y0": "0.3",
                                "steps": "60"})
    assert png_size(file_bytes(snap, "ab", "png", width=6, height=3, dpi=40)) == (240, 120)
    assert "map_a" not in csv_columns(file_bytes(snap, "ab", "csv"))


# --- oscillation and distance -----------------------------------------------------------

SWING = {"preset": "q1-swing", "steps": "120"}


@pytest.fixture(scope="module")
def swing():
    return Snapshot.from_query(SWING)


@pytest.mark.parametrize("view", ["swing", "phase_plane", "oscillation", "distance"])
def test_anatomy_files_have_the_asked_size(swing, view):
    sizes_are_asked(swing, view)


def test_swing_csv_is_the_oscillation_layer(swing):
    from app import oscillation
    from app.anatomy import anatomy
    col = csv_columns(file_bytes(swing, "oscillation", "csv"))
    o = oscillation.oscillation(anatomy(swing.state.spec()))
    for name in ("step", "x", "rest", "y", "sharpness", "mean_sharpness", "threshold"):
        assert np.allclose(col[name], getattr(o, name), **EXACT), name
    assert np.allclose(col["threshold"], 2 / 0.2, rtol=1e-12)


def test_distance_csv_is_the_distance_from_each_flow(swing):
    import dynamics
    col = csv_columns(file_bytes(swing, "distance", "csv"))
    model, init = swing.state.model_object(), swing.state.spec().init
    gd = dynamics.simulate(model, init, 0.2, 120)
    gf = dynamics.simulate(model, init, 0.2, 120, optimizer="flow")
    n = min(len(gd.loss), len(gf.loss))
    truth = np.linalg.norm(gd.params[:n] - gf.params[:n], axis=1)   # ‖θ_k − θ_GF(t_k)‖
    assert np.allclose(col["gf"][:n], truth, rtol=1e-9, atol=1e-12)
    assert np.allclose(col["time"][:n], gd.time[:n], **EXACT)
    mean = 0.5 * (gd.params[:n - 1] + gd.params[1:n]) - 0.5 * (gf.params[:n - 1] + gf.params[1:n])
    assert np.allclose(col["mean_gf"][:n - 1], np.linalg.norm(mean, axis=1), rtol=1e-9,
                       atol=1e-12)
    assert np.all(np.isfinite(col["cf"][:n]))   # xyzw: the central flow is solved


# --- the pages' export rows ---------------------------------------------------------------

@pytest.mark.parametrize("page, figures", [("basin", []), ("sweep", []),
                                           ("ab", ["ab_plane", "ab_map"]),
                                           ("oscillation", ["swing", "phase_plane"]),
                                           ("distance", [])])
def test_each_new_page_has_its_export_row(page, figures):
    """Built as the app builds it (no server; another view shown, so nothing is computed)."""
    from app.pages import PAGES
    from app.state import ExplorerState
    import panel as pn
    state = ExplorerState()
    state.param.update(basin_res=8, basin_steps=5, sweep_count=4, sweep_steps=10, steps=20)
    layout = PAGES[page].build(state).__panel__()
    # the downloads are built on the first "Export…"
    toggle = [w for w in layout.select(pn.widgets.Toggle) if w.name == "Export…"]
    assert len(toggle) == 1 and not layout.select(pn.widgets.FileDownload)
    toggle[0].value = True
    which = [w for w in layout.select(pn.widgets.Select) if w.name == "export figure"]
    assert len(which) == 1 and which[0].value == page
    assert sorted(which[0].options.values()) == sorted([page] + figures)
    downloads = {w.label: w for w in layout.select(pn.widgets.FileDownload)}
    assert {"PNG", "SVG", "PDF", "CSV", "HTML"} <= set(downloads)
    assert downloads["HTML"].visible   # every figure of the page has its Bokeh builder


@pytest.mark.parametrize("fixture, view, gids", [
    ("zoom", "basin", ["basin_map"]),
    ("sweep", "sweep", ["threshold", "eta_now", "sweep_converged", "sweep_cycle"]),
    ("zhu_ab", "ab_plane", ["parabola", "edge", "ab_even", "ab_odd", "last"]),
    ("zhu_ab", "ab_map", ["ab_bifurcation", "doubling"]),
    ("swing", "swing", ["swing_x", "swing_rest", "sharpness", "mean_sharpness", "threshold"]),
    ("swing", "phase_plane", ["phase_points"]),
    ("swing", "distance", ["gf", "cf", "mean_gf", "mean_cf", "edge"]),
])
def test_each_svg_holds_the_pages_layers(request, fixture, view, gids):
    root = ET.fromstring(file_bytes(request.getfixturevalue(fixture), view, "svg"))
    found = {e.get("id") for e in root.iter()}   # <g> groups, an <image>
    assert set(gids) <= found, set(gids) - found
