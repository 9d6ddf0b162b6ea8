"""Momentum, RMSProp, Adam and the central flow in the dashboard, without a browser.

What is drawn must be what the engine ran: the dashed threshold is ``traj.threshold`` (checked
against its closed form (2 + 2β)/η, 2/η, (2 + 2β₁)/((1 − β₁)η)), RMSProp's and Adam's curve is
``traj.effective_sharpness`` with ``traj.sharpness`` faint beside it, and every label names
the formula of the rule that ran.
"""
import html

import numpy as np
import pytest

import dynamics
from app import plots, rules
from app.state import ExplorerState
from app.views_plots import Dashboard, _light
from test_jit import compiles_during

F32 = dict(rtol=1e-6, atol=0)   # columns travel to the browser as float32


def _label(item) -> str:
    return item.label.value if hasattr(item.label, "value") else item.label


def test_threshold_formulas_are_the_engines_in_unicode():
    assert rules.threshold_formula("gd") == "2/η"
    assert rules.threshold_formula("momentum") == "(2 + 2β)/η"
    assert rules.threshold_formula("rmsprop") == "2/η"
    assert rules.threshold_formula("adam") == "(2 + 2β₁)/((1 − β₁)η)"
    assert rules.threshold_formula(dynamics.adam(beta1=0.5)) == "(2 + 2β₁)/((1 − β₁)η)"
    assert rules.compact_formula("adam") == "(2+2β₁)/((1−β₁)η)"
    assert [n for n in dynamics.OPTIMIZERS if rules.preconditioned(n)] == ["rmsprop", "adam"]


@pytest.mark.parametrize("query, closed_form", [
    ({"optimizer": "momentum", "beta": "0.5"}, lambda eta: (2 + 2 * 0.5) / eta),
    ({"optimizer": "adam", "beta1": "0.8"}, lambda eta: (2 + 2 * 0.8) / ((1 - 0.8) * eta)),
    ({"optimizer": "rmsprop"}, lambda eta: 2 / eta),
    ({"optimizer": "gd", "drop_step": "300", "drop_eta": "0.1", "steps": "600"},
     lambda eta: 2 / eta)])
def test_the_dashed_threshold_is_the_runs_own(query, closed_form):
    state = ExplorerState()
    assert state.apply_query(query) == []
    dash = Dashboard(state)
    r = dash._result
    traj = r.traj
    assert np.array_equal(r.threshold[:-1], traj.threshold) and r.threshold[-1] == traj.threshold[-1]
    assert np.allclose(traj.threshold, closed_form(traj.eta), rtol=1e-12)
    steps = dash.curves.sources["threshold_steps"].data
    ks = np.asarray(steps["t"], dtype=int)
    assert np.allclose(steps["threshold"], r.threshold[ks], **F32)
    assert dash.curves.spans["threshold_line"][0].location == pytest.approx(r.threshold[0])
    formula = rules.threshold_formula(state.optimizer)
    assert _label(dash.curves.threshold_legend) == f"threshold {formula.replace(' ', '')}"
    numbers = html.unescape(dash.readout.numbers.text)
    assert f"{formula.replace(' ', '')} = {r.threshold[-1]:.4g}" in numbers


def test_a_drop_label_names_the_step_sizes_not_a_threshold_read_back():
    state = ExplorerState(optimizer="momentum", beta=0.5, steps=40, drop_step=20, eta=0.2,
                          drop_eta=0.1)
    r = state.run()
    data = plots.run_data(r.spec.model, r.traj, r.threshold)
    assert data["drop_label"]["text"] == "η 0.2 → 0.1"


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop"])
def test_preconditioned_rules_plot_the_effective_sharpness_and_the_raw_one_faint(optimizer):
    state = ExplorerState(optimizer=optimizer)
    dash = Dashboard(state)
    traj = dash._result.traj
    run = dash.curves.sources["run"].data
    raw = dash.curves.sources["run_raw"].data
    assert np.allclose(run["sharpness"][:-1], traj.effective_sharpness, **F32)
    assert run["sharpness"][-1] == run["sharpness"][-2]   # the last iterate takes no step
    assert not np.allclose(traj.effective_sharpness, traj.sharpness[:-1], rtol=1e-3)
    assert np.allclose(raw["sharpness"], traj.sharpness, **F32)
    assert np.array_equal(raw["t"], run["t"])
    assert "P⁻¹H" in _label(dash.curves.sharpness_legend)
    assert dash.curves.sharpness_figure.yaxis[0].axis_label == "preconditioned sharpness"
    [raw_entry] = dash.curves.optional["run_raw"]
    assert raw_entry.visible and _label(raw_entry) == "raw sharpness λ_max(H)"
    numbers = html.unescape(dash.readout.numbers.text)
    assert f"final λ_max(P⁻¹H)</b> {float(run['sharpness'][-1]):.4g}" in numbers
    # back to GD: the faint line empties, the labels name the sharpness again
    state.optimizer = "gd"
    assert len(dash.curves.sources["run_raw"].data["t"]) == 0 and not raw_entry.visible
    assert np.allclose(dash.curves.sources["run"].data["sharpness"], dash._result.traj.sharpness,
                       **F32)
    assert _label(dash.curves.sharpness_legend) == "sharpness: even steps"
    assert _label(dash.curves.threshold_legend) == "threshold 2/η"


def test_the_central_flow_overlays_every_plot_and_is_held_at_two_over_eta():
    state = ExplorerState(steps=600)
    dash = Dashboard(state)
    assert len(dash.curves.sources["central_flow_run"].data["t"]) == 0
    state.show_central_flow = True
    central = dash._result.central_flow
    assert central is not None and central.optimizer == "central_flow"
    # Cohen, Damian et al. 2024: the central flow's sharpness never exceeds 2/η
    assert np.max(central.sharpness) <= 2 / state.eta * (1 + 1e-8)
    curves = dash.curves.sources["central_flow_run"].data
    plane = dash.landscape.sources["central_flow"].data
    assert np.allclose(curves["sharpness"], central.sharpness, **F32)
    assert np.allclose(curves["loss"], np.maximum(central.loss, plots.LOSS_FLOOR), **F32)
    assert np.allclose(plane["x"], central.params[:, 0], **F32)
    assert all(item.visible for item in dash.curves.optional["central_flow_run"])
    assert all(item.visible for item in dash.landscape.optional["central_flow"])
    assert state.query()["show_central_flow"] == "True"
    state.show_central_flow = False
    assert len(dash.curves.sources["central_flow_run"].data["t"]) == 0
    assert not any(item.visible for item in dash.curves.optional["central_flow_run"])


def test_the_central_flow_runs_off_the_event_loop():
    state = ExplorerState(steps=10)
    assert _light(state.spec())
    state.show_central_flow = True
    assert not _light(state.spec())


def test_minima_split_at_the_rules_own_threshold_when_it_holds_the_raw_sharpness():
    state = ExplorerState(optimizer="momentum", beta=0.5)
    dash = Dashboard(state)
    src = dash.landscape.sources["manifold"].data
    split = dash.landscape.filters["manifold_settles"].args["stop"]
    t = 3.0 / state.eta
    assert np.all(np.asarray(src["sharpness"][:split]) <= t * (1 + 1e-6))
    assert np.all(np.asarray(src["sharpness"][split:]) > t * (1 - 1e-6))
    settles, _ = dash.landscape.minima_legends
    assert _label(settles) == "minima, S ≤ (2+2β)/η: can settle"


def test_a_new_hyperparameter_never_recompiles():
    state = ExplorerState(steps=3000)
    for optimizer in ("momentum", "rmsprop", "adam"):
        state.optimizer = optimizer
        assert state.run().ok   # compiled (or loaded) once here

    def moves():
        for optimizer, values in (("momentum", {"beta": 0.3}), ("momentum", {"beta": 0.0}),
                                  ("rmsprop", {"beta2": 0.9, "eps": 1e-4}),
                                  ("adam", {"beta1": 0.5, "beta2": 0.99, "eps": 1e-3})):
            state.optimizer = optimizer
            state.param.update(**values)
            assert state.run().ok

    assert compiles_during(moves) == 0


def test_a_pinned_run_keeps_its_hyperparameters():
    """A compared run is a full frozen spec: its β stays when the live β moves."""
    from app import compare
    state = ExplorerState(optimizer="momentum", beta=0.5)
    pin = compare.pin_values(state)
    assert pin["beta"] == 0.5 and "beta1" not in pin
    [again], notices = compare.decode(compare.encode(pin))
    assert notices == [] and again["beta"] == 0.5
    scratch = ExplorerState()
    scratch.apply_query({n: compare._text(v) for n, v in again.items()})
    assert scratch.spec().hyper == (0.5,)
    assert compare.label(again, {**again, "beta": 0.9}) == "β = 0.5"


@pytest.mark.parametrize("optimizer, label, odd", [
    ("gd", "Gradient descent: even steps", True),
    ("flow", "Gradient flow", False),
    ("central_flow", "Central flow", False),
])
def test_a_flow_is_one_curve_not_even_and_odd_steps(optimizer, label, odd):
    state = ExplorerState()
    state.optimizer = optimizer
    dash = Dashboard(state)
    assert _label(dash.curves.run_legend) == label
    assert all(item.visible == odd for item in dash.curves.odd_legends)
    assert _label(dash.curves.sharpness_legend).endswith(": even steps") == odd


def test_a_3_cycle_is_drawn_as_a_dot_per_step_on_its_levels():
    """x2y2 with GD on √L ends in a 3-cycle: each parity visits all three levels, so the
    even/odd lines would be two solid bands. A dot per step shows the levels (the lines
    fade); a 2-cycle or a converging run keeps its two lines and no dots."""
    assert Dashboard(ExplorerState()).curves.dots == []   # built on first need only
    state = ExplorerState()
    state.apply_query({"model": "x2y2", "optimizer": "sqrt_gd"})
    dash = Dashboard(state)
    result = dash._result
    assert len(dash.curves.dots) == 2
    for fig, item in zip((dash.curves.loss_figure, dash.curves.sharpness_figure),
                         dash.curves.dot_legends):   # its entry right after "odd steps"
        labels = [_label(i) for i in fig.legend[0].items]
        assert labels[labels.index("odd steps") + 1] == "every step" and item in fig.legend[0].items
    assert (result.kind, result.period) == ("periodic", 3)
    tail = np.asarray(result.traj.loss)[-300:]
    assert len(np.unique(np.round(np.log(tail), 6))) == 3   # three levels, not a band
    assert all(r.visible for r in dash.curves.dots)
    assert all(item.visible for item in dash.curves.dot_legends)
    assert not any(item.visible for item in dash.curves.odd_legends)
    assert all(r.glyph.line_alpha < 0.5 for r in dash.curves.run_lines)
    assert _label(dash.curves.run_legend) == "GD on √L"
    assert _label(dash.curves.sharpness_legend) == "sharpness"
    # every dot is a step of the run: the dots read the run's own columns
    assert all(r.data_source is dash.curves.sources["run"] for r in dash.curves.dots)
    state.model = "xyzw"   # GD by default: at the edge, its even and odd steps
    assert (dash._result.kind, dash._result.period) != ("periodic", 3)
    assert not any(r.visible for r in dash.curves.dots)
    assert not any(item.visible for item in dash.curves.dot_legends)
    assert all(item.visible for item in dash.curves.odd_legends)
    assert all(r.glyph.line_alpha == 1.0 for r in dash.curves.run_lines)
    assert _label(dash.curves.sharpness_legend) == "sharpness: even steps"


@pytest.mark.parametrize("kind, period, dots", [
    ("periodic", 2, False), ("periodic", 3, True), ("periodic", 7, True),
    ("converged", None, False), ("chaotic", None, False)])
def test_which_runs_get_dots(kind, period, dots):
    assert plots.levels_as_dots(kind, period) is dots
