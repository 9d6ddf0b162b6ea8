"""Compared runs: their URL form round-trips, bad parts become notices, the Zhu action's η."""
from __future__ import annotations

import numpy as np
import pytest

import dynamics
from app import compare
from app.state import ExplorerState


def test_a_pinned_run_round_trips_through_its_url_form():
    state = ExplorerState(model="xyzw")
    state.param.update(eta=0.231, optimizer="sqrt_gd", x0=3.1, symmetric=False, w0=0.25,
                       steps=800, drop_step=300, drop_eta=0.05)
    values = compare.pin_values(state)
    text = compare.encode(values)
    assert text.startswith("model:xyzw,optimizer:sqrt_gd,eta:0.231,x0:3.1,symmetric:false")
    back, problem = compare.decode_one(text)
    assert problem == ""
    assert back == values
    assert compare.encode(back) == text


def test_a_list_of_runs_round_trips_and_names_only_what_differs():
    pins = [compare.pin_values(ExplorerState(model=m)) for m in ("xyzw", "xy", "quadratic")]
    pins[0]["eta"] = 0.25
    text = compare.encode_all(pins)
    assert text.split(";")[0] == "model:xyzw,eta:0.25"   # defaults stay out of the URL
    back, notices = compare.decode(text)
    assert notices == [] and back == pins


def test_a_float_from_key_stepping_is_written_short():
    state = ExplorerState()
    state.eta = 0.2 + 0.001   # 0.20099999999999998 in binary
    assert "eta:0.201" in compare.encode(compare.pin_values(state)).split(",")


def test_a_run_without_a_model_takes_the_live_model():
    back, notices = compare.decode("eta:0.25;eta:0.2,optimizer:sqrt_gd", live_model="x2y2")
    assert notices == []
    assert [(v["model"], v["eta"], v["optimizer"]) for v in back] == [
        ("x2y2", 0.25, "gd"), ("x2y2", 0.2, "sqrt_gd")]


@pytest.mark.parametrize("bad, reason", [
    ("eta:abc", "not a number"),
    ("eta:-1", "it must lie in (0, 0.5]"),
    ("eta:5000", "it must lie in (0, 0.5]"),
    ("foo:1", "not a control"),
    ("eta", "not name:value"),
    ("eta:", "not name:value"),
    ("eta:0.1,eta:0.2", "twice"),
    ("model:nonsense", "not one of the choices"),
    ("model:picky,optimizer:nope", "not one of the choices"),
    ("model:xy,steps:2.5", "whole number"),
    ("x0:1e9", "it must lie in [-1e+06, 1e+06]"),
    ("compare:eta:1", "not a control"),
])
def test_a_bad_run_is_left_out_with_a_notice(bad, reason):
    back, notices = compare.decode(f"eta:0.25;{bad};eta:0.2")
    assert [v["eta"] for v in back] == [0.25, 0.2]   # the good ones stay
    assert len(notices) == 1
    assert notices[0].startswith("Compared run 2") and reason in notices[0]


def test_at_most_four_runs():
    back, notices = compare.decode(";".join(f"eta:0.{k}" for k in range(1, 7)))
    assert len(back) == compare.MAX_RUNS == 4
    assert len(notices) == 1 and "2 more left out" in notices[0]


def test_empty_and_garbage_never_raise():
    assert compare.decode("") == ([], [])
    assert compare.decode(";;") == ([], [])
    for junk in (",,,", ":::", "eta:\x00", "é" * 500, "model:xyzw\n,eta:0.1;"):
        back, notices = compare.decode(junk)
        assert (back == [] and len(notices) == 1) or junk.startswith("model"), junk


def test_the_zhu_action_pins_eta_2_over_8_10_12_from_the_live_start():
    state = ExplorerState(model="xyzw")
    state.param.update(x0=3.0, y0=0.25, eta=0.3, drop_step=100)
    compared = compare.Compared(state)
    assert compared.zhu() == ""
    assert [v["eta"] for v in compared.pins] == pytest.approx([0.25, 0.2, 1 / 6], abs=1e-11)
    assert all((v["x0"], v["y0"], v["drop_step"]) == (3.0, 0.25, 0) for v in compared.pins)
    assert [r.spec.schedule for r in compared.results] == [((0, v["eta"]),)
                                                           for v in compared.pins]
    assert state.compare == compare.encode_all(compared.pins)
    state.model = "arora"
    assert "xyzw or x²y²" in compared.zhu()


def test_compared_runs_are_the_engines_runs_and_are_frozen():
    state = ExplorerState(model="xyzw")
    compared = compare.Compared(state)
    assert compared.pin() == ""
    state.eta = 0.25   # the live run moves; the pinned one does not
    (result,) = compared.results
    direct = dynamics.simulate("xyzw", (2.8, 0.2, 2.8, 0.2), 0.2, state.steps)
    np.testing.assert_array_equal(result.traj.loss, direct.loss)
    layers = compare.layers(result, "step", ("x", "y"))
    np.testing.assert_allclose(layers["path"]["x"], direct.params[:, 0], rtol=1e-6)
    steps = layers["run"]["t"].astype(int)   # a long curve keeps its envelope's rows
    assert steps[0] == 0 and steps[-1] == len(direct.loss) - 1
    np.testing.assert_allclose(layers["run"]["sharpness"], direct.sharpness[steps], rtol=1e-6)
    assert list(layers["threshold"]["threshold"]) == [10.0, 10.0]
    assert compare.layers(result, "step", ("x",))["path"]["x"] == []   # another plane


def test_pin_remove_clear_and_the_limit():
    state = ExplorerState()
    compared = compare.Compared(state)
    for eta in (0.1, 0.15, 0.2, 0.25):
        state.eta = eta
        assert compared.pin() == ""
    assert "At most 4" in compared.pin()
    compared.remove(1)
    assert [v["eta"] for v in compared.pins] == [0.1, 0.2, 0.25]
    compared.clear()
    assert compared.pins == [] and state.compare == ""


def test_labels_say_what_differs_from_the_live_run():
    live = compare.pin_values(ExplorerState(model="xyzw"))
    assert compare.label({**live, "eta": 0.25}, live) == "η = 0.25"
    assert compare.label({**live, "optimizer": "sqrt_gd"}, live) == "GD on √L"
    assert compare.label({**live, "model": "x2y2"}, live) == "x²y² (degree 4)"
    assert compare.label(live, live) == "η = 0.2 (as live)"


def test_a_long_curve_keeps_every_buckets_extremes():
    rng = np.random.default_rng(0)
    n = 10_001
    sharp = 10 + np.where(np.arange(n) % 2, 1.0, -1.0) * np.exp(-np.arange(n) / 3000)  # 2-cycle
    sharp[4321] = 90.0   # one spike
    loss = np.exp(-np.arange(n) / 500) * (1 + 0.1 * rng.random(n))
    rows = compare.envelope_rows([loss, sharp])
    assert len(rows) <= 4 * compare.BUCKETS + compare.BUCKETS + 1
    assert rows[0] == 0 and rows[-1] == n - 1 and np.all(np.diff(rows) > 0)
    size = -(-n // compare.BUCKETS)
    for start in range(0, n, size):
        inside = rows[(rows >= start) & (rows < start + size)]
        for col in (loss, sharp):
            assert col[inside].max() == col[start:start + size].max()
            assert col[inside].min() == col[start:start + size].min()
    assert list(compare.envelope_rows([loss[:500], sharp[:500]])) == list(range(500))


def test_the_fitted_landscape_holds_every_compared_run():
    """Zhu et al. Fig. 2a from the default start: the η = 0.25 run ends on the xy = −1 branch,
    outside the live run's own window; the fitted window must hold every compared iterate."""
    from app.views_plots import Dashboard
    state = ExplorerState()
    dashboard = Dashboard(state)
    assert dashboard.compare.runs.zhu() in (None, "")
    compared = dashboard.compare.shown(state.model_object().plane)
    assert len(compared) == 3
    (x_lo, x_hi), (y_lo, y_hi) = dashboard._window
    for result in compared:
        xy = result.spec.model.project(result.traj.params)
        inside = ((xy[:, 0] >= x_lo) & (xy[:, 0] <= x_hi) & (xy[:, 1] >= y_lo)
                  & (xy[:, 1] <= y_hi))
        assert inside[-1] and inside.mean() > 0.95
