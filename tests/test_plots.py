"""Plot functions: the right data in the right layers, without a server."""
import holoviews as hv
import numpy as np
import pytest

import dynamics
from app import elements, plots
from app.state import ExplorerState


@pytest.fixture(scope="module")
def xyzw_run():
    state = ExplorerState(model="xyzw", steps=500)
    return state.run()


def test_run_data_columns(xyzw_run):
    r = xyzw_run
    data = plots.run_data(r.spec.model, r.traj, r.threshold)
    n = len(r.traj.loss)
    assert set(data["iterates"]) == {"x", "y", "step"} and len(data["iterates"]["x"]) == n
    assert np.allclose(data["iterates"]["x"], r.traj.params[:, 0], rtol=1e-6)
    assert np.allclose(data["iterates"]["y"], r.traj.params[:, 1], rtol=1e-6)
    assert np.array_equal(data["iterates"]["step"], np.arange(n))
    assert np.array_equal(data["run"]["t"], np.arange(n))
    assert np.allclose(data["run"]["sharpness"], r.traj.sharpness, rtol=1e-6)
    # the dots are rows of the iterates, every k-th with k odd, starting at the start
    markers = data["markers"]
    assert markers == range(0, n, plots.marker_stride(n)) and markers.step % 2 == 1
    assert len(markers) <= plots.MAX_MARKERS + 1


def test_threshold_staircase_has_a_point_per_eta_and_one_at_the_end():
    state = ExplorerState(model="quadratic", steps=20, drop_step=10, eta=1.0, drop_eta=0.5)
    r = state.run()
    steps = plots.run_data(r.spec.model, r.traj, r.threshold)["threshold_steps"]
    assert steps["t"].tolist() == [0.0, 10.0, 20.0]
    assert steps["threshold"].tolist() == [2.0, 4.0, 4.0]


def test_threshold_line_sits_at_two_over_eta(xyzw_run):
    r = xyzw_run
    eta = r.spec.eta
    data = plots.run_data(r.spec.model, r.traj, r.threshold)
    assert data["threshold_line"] == pytest.approx(2 / eta)
    layers = elements.sharpness_curves(r.spec.model, r.traj, r.threshold)
    assert isinstance(layers["threshold_line"], hv.HLine)
    assert layers["threshold_line"].data == pytest.approx(2 / eta)
    assert np.allclose(layers["threshold"].dimension_values("sharpness"), 2 / eta)


def test_eos_marker_is_the_first_rise_to_two_over_eta():
    traj = type("T", (), {})()
    traj.params = np.zeros((5, 2))
    traj.loss = np.ones(5)
    traj.sharpness = np.array([1.0, 2.0, 4.5, 3.0, 5.0])
    traj.time = np.arange(5) * 0.5
    model = dynamics.MODELS["xy"]
    assert plots.run_data(model, traj, np.full(5, 4.0))["eos"] == 2.0
    assert plots.run_data(model, traj, np.full(5, 4.0), x_axis="time")["eos"] == 1.0
    assert np.isnan(plots.run_data(model, traj, np.full(5, 9.0))["eos"])


def test_time_axis_uses_cumulative_eta():
    state = ExplorerState(model="quadratic", steps=20, drop_step=10, eta=1.0, drop_eta=0.5)
    r = state.run()
    t = plots.run_data(r.spec.model, r.traj, r.threshold, x_axis="time")["run"]["t"]
    assert t[10] == pytest.approx(10.0) and t[20] == pytest.approx(15.0)


@pytest.mark.parametrize("eta", [0.1, 0.2, 0.3])
def test_manifold_splits_at_two_over_eta(eta):
    model = dynamics.MODELS["x2y2"]
    data = plots.manifold_data(model, 2 / eta)
    points, low, high = data["manifold"], data["manifold_settles"], data["manifold_unstable"]
    assert low.start == 0 and low.stop == high.start and high.stop == len(points["x"])
    settles = {k: v[low.start:low.stop] for k, v in points.items()}
    unstable = {k: v[high.start:high.stop] for k, v in points.items()}
    assert len(settles["x"]) > 0 and len(unstable["x"]) > 0
    assert np.all(settles["sharpness"] <= 2 / eta + 1e-4)
    assert np.all(unstable["sharpness"] > 2 / eta - 1e-4)
    # on x²y² = 1 the sharpness is 2(x² + y²)
    x, y = settles["x"].astype(float), settles["y"].astype(float)
    assert np.allclose(settles["sharpness"], 2 * (x**2 + y**2), rtol=1e-4)


def test_background_image_is_log_loss_over_the_window():
    model = dynamics.MODELS["xy"]
    img = plots.background_data(model, resolution=50)["image"]
    grid = img["image"][0]
    assert grid.shape == (50, 50)
    (x_lo, x_hi), (y_lo, y_hi) = model.window
    assert (img["x"][0], img["y"][0], img["dw"][0], img["dh"][0]) == (x_lo, y_lo, x_hi - x_lo,
                                                                      y_hi - y_lo)
    # row 0 is y_lo, the last column x_hi: L = ½(1 − x y)² there
    assert grid[0, -1] == pytest.approx(np.log10(0.5 * (1 - x_hi * y_lo) ** 2), rel=1e-5)


def test_one_parameter_models_plot_the_curve_with_iterates():
    state = ExplorerState(model="picky", steps=50)
    r = state.run()
    layers = elements.landscape(r.spec.model, r.traj, r.threshold, start=r.spec.init)
    assert isinstance(layers["curve"], hv.Curve) and "image" not in layers
    it = layers["iterates"]
    assert np.allclose(it.dimension_values("y"), r.traj.loss[:: plots.marker_stride(51)],
                       rtol=1e-5, atol=1e-12)
    data = plots.manifold_data(r.spec.model, 2 / r.spec.eta)
    settles = data["manifold_settles"]
    assert sorted(data["manifold"]["x"][settles.start:settles.stop].tolist()) == [0.0, 1.0]


def test_flow_layers_empty_without_flow_and_filled_with(xyzw_run):
    r = xyzw_run
    assert len(plots.flow_data(r.spec.model, None)["flow"]["x"]) == 0
    flow = dynamics.simulate(r.spec.model, r.spec.init, r.spec.eta, 50, optimizer="flow")
    data = plots.flow_data(r.spec.model, flow)
    assert len(data["flow"]["x"]) == len(flow.loss) == len(data["flow_run"]["t"])


def test_elements_render_with_bokeh(xyzw_run):
    hv.extension("bokeh")
    r = xyzw_run
    m = r.spec.model
    for layers in (elements.landscape(m, r.traj, r.threshold, start=r.spec.init),
                   elements.loss_curves(m, r.traj, r.threshold),
                   elements.sharpness_curves(m, r.traj, r.threshold)):
        assert hv.render(elements.overlay(layers)) is not None


def test_huge_values_stay_finite_on_the_wire():
    cols = plots._wire(loss=[1.0, 1e300, np.nan])
    assert cols["loss"].dtype == np.float32
    assert np.isfinite(cols["loss"][1]) and np.isnan(cols["loss"][2])


def test_manifold_colours_follow_the_colour_bar():
    """Coloured on the server like BokehJS' LinearColorMapper: ends, middle, NaN."""
    from bokeh.models import LinearColorMapper

    from app.canvas import rgba
    mapper = LinearColorMapper(palette=["#000000", "#ff0000", "#00ff00", "#0000ff"],
                               low=0.0, high=4.0)
    out = rgba([-1.0, 0.0, 1.5, 2.0, 3.99, 4.0, 9.0, np.nan], mapper)
    assert out.dtype == np.uint32
    assert [hex(v) for v in out] == ["0xff", "0xff", "0xff0000ff", "0xff00ff", "0xffff",
                                     "0xffff", "0xffff", "0x808080ff"]


def test_a_new_run_sends_only_the_columns_that_changed(xyzw_run):
    """Unchanged columns stay in the browser; row ranges and short columns are JSON."""
    from bokeh.document import Document
    from bokeh.document.events import ColumnDataChangedEvent

    from app.figures import configure_landscape, curves_canvas, landscape_canvas

    r = xyzw_run
    model = r.spec.model
    curves, land = curves_canvas(), landscape_canvas()
    doc = Document()
    for fig in curves.figures + land.figures:
        doc.add_root(fig)
    configure_landscape(land, model, plots.background_data(model, resolution=20))

    def layers(result):
        data = plots.run_data(model, result.traj, result.threshold)
        data.update(plots.manifold_data(model, float(result.threshold[-1])))
        return data

    for canvas in (curves, land):
        canvas.push(layers(r))
    events = []
    doc.on_change(lambda event: events.append(event))
    other = ExplorerState(model="xyzw", steps=500, eta=0.21).run()
    for canvas in (curves, land):
        canvas.push(layers(other))
    sent = {e.model.name: set(e.cols) for e in events if isinstance(e, ColumnDataChangedEvent)}
    assert sent == {"run": {"loss", "sharpness"}, "iterates": {"x", "y"},
                    "threshold_steps": {"threshold"}}
    assert isinstance(curves.sources["threshold_steps"].data["threshold"], list)
    sharpness = plots.manifold_points(model)["sharpness"]
    k = int(np.sum(sharpness <= 2 / 0.21))
    assert dict(land.filters["manifold_settles"].args) == {"start": 0, "stop": k, "step": 1}
    assert dict(land.filters["manifold_unstable"].args) == {"start": k, "stop": len(sharpness),
                                                            "step": 1}
    markers = layers(other)["markers"]
    assert dict(land.filters["markers"].args) == {"start": 0, "stop": 501, "step": markers.step}


def test_curve_ranges_hold_the_compared_runs_robust_parts():
    """Zhu Fig. 2a compared at 300 steps: the η = 2/12 run's loss falls further than the
    live run's; it must stay in view, while no run's early spike stretches the axis."""
    from app.plots import curve_ranges
    live = dynamics.simulate("xyzw", (2.8, 0.2, 2.8, 0.2), 0.2, 60)
    other = dynamics.simulate("xyzw", (2.8, 0.2, 2.8, 0.2), 2 / 12, 1500)
    alone = curve_ranges(live, np.full(61, 10.0))
    both = curve_ranges(live, np.full(61, 10.0), others=[other])
    assert alone["loss_range"].lo > 1e-10 > other.loss[-1]   # the compared tail was cut off
    assert both["loss_range"].lo <= other.loss[-1] * 1.01
    assert both["sharpness_range"].lo <= other.sharpness[-100:].min()
    assert both["sharpness_range"].hi >= other.sharpness[-100:].max()
