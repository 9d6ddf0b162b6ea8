"""ExplorerState: defaults per model, validation, URL parsing, schedules, verdicts."""
import html
import math

import numpy as np
import pytest

import dynamics
from app.runs import run, step_sizes
from app.state import ExplorerState
from app.verdict import eos_step, verdict


@pytest.mark.parametrize("name", list(dynamics.MODELS))
def test_defaults_follow_the_model(name):
    state = ExplorerState(model=name)
    model = dynamics.MODELS[name]
    assert state.eta == model.default_eta
    assert state.start() == tuple(model.default_init)
    assert state.param.eta.softbounds == tuple(model.eta_range)
    assert set(state.param.optimizer.objects) == set(dynamics.optimizers_for(model))


def test_switching_model_resets_defaults_and_optimizer():
    state = ExplorerState()
    state.model = "picky"
    state.optimizer = "sgd"
    state.model = "xy"   # SGD needs a finite sum: back to GD
    assert state.optimizer == "gd"
    assert (state.x0, state.y0) == dynamics.MODELS["xy"].default_init
    assert state.eta == dynamics.MODELS["xy"].default_eta


def test_every_model_runs_at_its_defaults():
    state = ExplorerState()
    for name in dynamics.MODELS:
        state.model = name
        result = state.run()
        assert result.ok, result.message
        assert result.verdict and result.level in {"success", "info", "warning", "danger"}


def test_symmetric_start_and_dimensions():
    state = ExplorerState()          # xyzw
    state.param.update(x0=1.5, y0=0.5, z0=9.0, w0=9.0)
    assert state.start() == (1.5, 0.5, 1.5, 0.5)
    state.symmetric = False
    assert state.start() == (1.5, 0.5, 9.0, 9.0)
    state.model = "picky"
    assert len(state.start()) == 1


def test_quadratic_uses_lambdas():
    state = ExplorerState(model="quadratic")
    state.param.update(lam1=2.0, lam2=0.5)
    assert state.model_object().consts == (2.0, 0.5)


@pytest.mark.parametrize("eta", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_eta_is_a_message_not_an_exception(eta):
    state = ExplorerState()
    state.eta = eta
    result = state.run()
    assert not result.ok
    assert "η" in result.message and result.level == "danger"


def test_bad_start_is_a_message():
    state = ExplorerState()
    state.x0 = float("nan")
    assert "x₀" in state.run().message


def test_schedule_with_and_without_drop():
    state = ExplorerState()
    state.param.update(eta=0.2, steps=1000, drop_step=0)
    assert state.schedule() == ((0, 0.2),)
    state.param.update(drop_step=400, drop_eta=0.1)
    assert state.schedule() == ((0, 0.2), (400, 0.1))
    state.drop_step = 5000   # beyond the run: no drop
    assert state.schedule() == ((0, 0.2),)


def test_drop_gives_a_staircase_threshold():
    state = ExplorerState()
    state.param.update(eta=0.2, steps=300, drop_step=100, drop_eta=0.1)
    result = state.run()
    assert result.ok
    assert np.allclose(result.threshold[:100], 10.0)
    assert np.allclose(result.threshold[100:], 20.0)
    assert np.allclose(step_sizes(((0, 0.2), (100, 0.1)), 301)[99:101], [0.2, 0.1])


def test_apply_query_reproduces_a_state():
    state = ExplorerState()
    notices = state.apply_query({"model": "x2y2", "eta": "0.25", "x0": "2.5", "y0": "0.4",
                                 "steps": "3000", "show_flow": "true", "x_axis": "time"})
    assert notices == []
    assert (state.model, state.eta, state.x0, state.y0) == ("x2y2", 0.25, 2.5, 0.4)
    assert state.steps == 3000 and state.show_flow and state.x_axis == "time"
    again = ExplorerState()
    assert again.apply_query(state.query()) == []
    assert again.query() == state.query()


@pytest.mark.parametrize("query, name", [
    ({"eta": "-1"}, "eta"), ({"eta": "nan"}, "eta"), ({"eta": "1e308"}, "eta"),
    ({"drop_eta": "inf"}, "drop_eta"), ({"x0": "abc"}, "x0"),
    ({"model": "nope"}, "model"), ({"steps": "2.5"}, "steps"), ({"steps": "99999999"}, "steps"),
    ({"optimizer": "sgd"}, "optimizer"), ({"show_flow": "maybe"}, "show_flow"),
])
def test_bad_query_values_are_ignored_with_a_notice(query, name):
    state = ExplorerState()
    before = state.query()
    notices = state.apply_query(query)
    assert len(notices) == 1 and name in notices[0]
    assert state.query() == before
    assert state.run().ok


def test_a_link_naming_z0_or_w0_gets_that_start():
    state = ExplorerState()
    assert state.apply_query({"model": "xyzw", "x0": "3.2", "y0": "0.3", "z0": "3.0",
                              "w0": "0.35"}) == []
    assert state.start() == (3.2, 0.3, 3.0, 0.35)
    state = ExplorerState()
    state.apply_query({"model": "xyzw", "z0": "3.0", "symmetric": "true"})  # said explicitly
    assert state.symmetric and state.start()[2] == state.x0


def test_unknown_query_names_are_ignored():
    state = ExplorerState()
    assert state.apply_query({"utm_source": "x", "eta": "0.3"}) == []
    assert state.eta == 0.3


# --- verdicts, against hand-computed cases ----------------------------------------------

def _run(model, init, eta, steps, optimizer="gd"):
    state = ExplorerState()
    state.model = model
    state.param.update(eta=eta, steps=steps, optimizer=optimizer,
                       **dict(zip(("x0", "y0"), init)))
    return state.run()


def test_quadratic_diverges_above_two_over_lambda():
    # λ = (1, 0.4), η = 2.2: |1 − ηλ₁| = 1.2 > 1, the loss grows like 1.44^k
    result = _run("quadratic", (1.0, 1.0), 2.2, 60)
    assert result.level == "danger" and "Diverg" in result.verdict


def test_quadratic_converges_below():
    # η = 1.8 < 2/λ₁ = 2: converges; sharpness 1 < 2/η = 1.11
    result = _run("quadratic", (1.0, 1.0), 1.8, 200)
    assert result.level == "success" and "below 2/η" in result.verdict


def test_xyzw_ends_at_the_edge():
    result = _run("xyzw", (3.2, 0.3), 0.2, 1000)
    assert "edge of stability" in result.verdict
    assert math.isclose(result.traj.sharpness[-1], 10.0, rel_tol=0.05)


def test_diverged_at_step_is_reported():
    result = _run("xyzw", (3.2, 0.3), 0.45, 200)
    assert result.traj.diverged_at is not None
    assert f"step {result.traj.diverged_at}" in result.verdict
    # the readout names the last finite iterate, the step just before
    from app.readout import Readout
    readout = Readout()
    readout.show(result)
    assert f"last finite θ</b> (" in html.unescape(readout.numbers.text)
    assert f"at step {result.traj.diverged_at - 1}" in readout.numbers.text


def test_saddle_start_is_named():
    result = _run("xy", (0.0, 0.0), 0.2, 100)
    assert result.level == "warning" and "stationary point" in result.verdict


def test_not_converged_yet():
    result = _run("xy", (4.0, 0.1), 0.01, 10)
    assert "Not converged yet" in result.verdict


def test_verdict_is_pure_on_arrays():
    class T:
        params = np.array([[1.0, 0.0], [1e-6, 0.0], [1e-7, 0.0]])
        loss = np.array([1.0, 1e-12, 1e-14])
        sharpness = np.array([1.0, 1.0, 1.0])
        diverged_at = None
    text, level = verdict(T, np.full(3, 0.5))
    assert level == "success" and "below" in text   # 1 < 2/0.5 = 4


def test_eos_step_is_the_first_upward_crossing():
    assert eos_step([1, 2, 5, 3, 6], 4) == 2
    assert eos_step([5, 3, 6], 4) == 2          # starting above does not count
    assert eos_step([1, 2, 3], 4) is None


def test_run_never_raises_on_a_message():
    assert run("because").message == "because"


# --- one gate for links and controls: the table of limits, float noise, refusals ----------

from app.state import LIMITS, OPEN_ABOVE, fine_step, snap  # noqa: E402


@pytest.mark.parametrize("name", sorted(LIMITS))
def test_links_and_controls_share_the_limits(name):
    """Just inside the table's limits both paths take a value; just outside both refuse."""
    for model in dynamics.MODELS:
        state = ExplorerState(model=model)
        lo, hi = state.limits(name)
        # the top end is allowed on every entry but a decay rate β (β < 1)
        inside = hi - 0.001 if name in OPEN_ABOVE else hi
        outside = hi if name in OPEN_ABOVE else hi * 1.5 + 1
        for path in ("link", "control"):
            fresh = ExplorerState(model=model)
            before = getattr(fresh, name)
            if path == "link":
                refused = bool(fresh.apply_query({name: str(outside)}))
            else:
                refused = bool(fresh.set_from_control(name, outside))
            assert refused and getattr(fresh, name) == before, (model, name, path)
            if path == "link":
                assert fresh.apply_query({name: str(inside)}) == []
            else:
                assert fresh.set_from_control(name, inside) == ""
            assert getattr(fresh, name) == inside


def test_eta_limit_is_the_sliders_end():
    for name, model in dynamics.MODELS.items():
        state = ExplorerState(model=name)
        assert state.limits("eta") == (0.0, model.eta_range[1])
        assert state.apply_query({"eta": str(model.eta_range[1] * 1.01)})   # refused
        assert state.set_from_control("eta", model.eta_range[1] * 1.01)


@pytest.mark.parametrize("bad", [-0.1, 0, 0.0, 1e9, float("nan"), float("inf"), "abc", "",
                                 "  ", None])
def test_every_bad_control_value_gives_a_message_and_keeps_the_value(bad):
    state = ExplorerState()
    state.eta = 0.21
    message = state.set_from_control("eta", bad)
    assert message and "η" in message and "Kept η = 0.21" in message
    assert state.eta == 0.21 and state.input_error == message
    assert state.run().ok
    state.x0 = 3.0   # any accepted change clears the message
    assert state.input_error == ""


@pytest.mark.parametrize("name", ["steps", "drop_step", "seed", "x0", "lam1", "drop_eta"])
@pytest.mark.parametrize("bad", ["", None, "abc", float("nan")])
def test_bad_values_of_other_controls_are_refused(name, bad):
    state = ExplorerState(model="quadratic")
    before = state.query()
    assert state.set_from_control(name, bad)
    assert state.query() == before


def test_a_whole_number_control_refuses_a_fraction():
    state = ExplorerState()
    assert "whole number" in state.set_from_control("steps", 10.5)


def test_url_values_have_no_float_noise():
    state = ExplorerState()   # xyzw: η step 0.001
    assert state.param.eta.step == fine_step(*dynamics.MODELS["xyzw"].eta_range) == 0.001
    stepped = 0.2
    for _ in range(7):        # what a slider moved by keys sends
        stepped += 0.001
    assert stepped != 0.207
    assert state.set_from_control("eta", stepped) == ""
    assert state.eta == 0.207 and state.query()["eta"] == "0.207"
    assert state.set_from_control("x0", 3.2 + 0.01 + 0.01) == ""
    assert state.query()["x0"] == "3.22"
    # a typed value finer than the step is kept as typed: the link reproduces the run
    assert state.set_from_control("eta", "0.2037") == "" and state.query()["eta"] == "0.2037"
    again = ExplorerState()
    assert again.apply_query(state.query()) == [] and again.eta == 0.2037


def test_snap_against_decimal_arithmetic():
    from decimal import Decimal
    for k in range(1, 500):
        noisy = 0.01 + k * 0.001
        exact = float(Decimal("0.01") + k * Decimal("0.001"))
        assert snap(noisy, 0.001) == exact
    assert snap(1 / 3, 0.001) == float(f"{1 / 3:.12g}")


def test_every_url_value_is_short():
    for name in dynamics.MODELS:
        state = ExplorerState(model=name)
        for key, text in state.query().items():
            assert len(text) <= 14, (name, key, text)


# --- the optimizers' hyperparameters ----------------------------------------------------

def test_hyperparameters_default_to_the_engines_and_follow_the_rule():
    """β, β₁, β₂, ε start at the factories' defaults; RMSProp takes its own β₂ = 0.99."""
    state = ExplorerState()
    assert (state.beta, state.beta1, state.beta2, state.eps) == (0.9, 0.9, 0.999, 1e-8)
    state.optimizer = "rmsprop"
    assert state.hyper() == dynamics.OPTIMIZERS["rmsprop"].hyper == (0.99, 1e-8)
    state.optimizer = "adam"
    assert state.hyper() == dynamics.OPTIMIZERS["adam"].hyper == (0.9, 0.999, 1e-8)
    state.optimizer = "gd"
    assert state.hyper() == ()
    assert ExplorerState(optimizer="rmsprop").beta2 == 0.99


def test_hyperparameters_travel_in_the_link_and_the_spec():
    state = ExplorerState()
    assert state.apply_query({"optimizer": "rmsprop", "beta2": "0.9", "eps": "1e-3",
                              "show_central_flow": "true"}) == []
    assert (state.beta2, state.eps, state.show_central_flow) == (0.9, 1e-3, True)
    spec = state.spec()
    assert spec.hyper == (0.9, 1e-3) and spec.show_central_flow
    hash(spec)   # still a frozen, hashable snapshot
    opt = spec.optimizer_object()
    assert opt.name == "rmsprop" and opt.hyper == (0.9, 1e-3)
    again = ExplorerState()
    assert again.apply_query(state.query()) == []
    assert again.query() == state.query() and again.spec().hyper == (0.9, 1e-3)


@pytest.mark.parametrize("name, bad, says", [
    ("beta", "1", "[0, 1)"), ("beta1", "-0.1", "[0, 1)"), ("beta2", "1.5", "[0, 1)"),
    ("eps", "0", "(0, 1]"), ("eps", "-1e-8", "(0, 1]")])
def test_hyperparameters_out_of_range_are_refused_with_the_interval(name, bad, says):
    state = ExplorerState(optimizer="adam")
    before = getattr(state, name)
    [notice] = state.apply_query({name: bad})
    assert says in notice and getattr(state, name) == before
    assert says in state.set_from_control(name, bad) and getattr(state, name) == before


def test_the_view_is_a_url_name_and_a_bad_one_is_refused():
    from app.pages import PAGES
    state = ExplorerState()
    assert state.view == "trajectory" and state.query()["view"] == "trajectory"
    assert set(state.param.view.objects) == set(PAGES)
    notices = state.apply_query({"view": "nonsense", "eta": "0.1"})
    assert state.view == "trajectory" and state.eta == 0.1
    assert notices == ["Ignored view=nonsense from the link: it is not one of the choices: "
                       + ", ".join(PAGES) + "."]
