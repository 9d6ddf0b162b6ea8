"""Every preset opens by name and reproduces the claim its caption makes (app/presets.py)."""
import numpy as np
import pytest

import reference as ref

from app import compare
from app.presets import PRESETS
from app.state import ExplorerState


def opened(name):
    state = ExplorerState()
    assert state.apply_query({"preset": name}) == []
    assert state.preset == name
    return state


def pinned_runs(state):
    pins, notices = compare.decode(state.compare, state.model)
    assert notices == [] and compare.encode_all(pins) == state.compare   # canonical text
    runs = []
    for values in pins:
        s = ExplorerState()
        s.apply_query({n: compare._text(v) for n, v in values.items()})
        runs.append(s.run())
    return runs


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_round_trips_through_its_url(name):
    state = opened(name)
    again = ExplorerState()
    assert again.apply_query(state.query()) == []
    assert again.query() == state.query()
    result = state.run()
    assert result.ok and not result.message


def test_quadratic_split_every_direction_but_the_first_converges():
    traj = opened("quadratic-split").run().traj
    assert abs(traj.params[-1, 1]) < 1e-12                       # (1 − 2.5·0.4)^k = 0
    growth = traj.params[1:, 0] / traj.params[:-1, 0]
    assert np.allclose(growth, 1 - 2.5 * 1.0)                    # θ₁ × (−1.5) each step


def test_degree_four_settles_at_the_edge_degree_two_far_below():
    state = opened("degree-4-vs-2")
    live, (flat,) = state.run(), pinned_runs(state)
    assert 10 - 0.1 < live.traj.sharpness[-1] < 10
    assert flat.traj.sharpness[-1] < 0.85 * 10 and flat.kind == "converged"
    assert flat.traj.params[0].tolist() == live.traj.params[0].tolist()


def test_zhu_fig2a_each_run_ends_just_below_its_own_threshold():
    state = opened("zhu-fig2a")
    runs = [state.run()] + pinned_runs(state)
    for r, two_over_eta in zip(runs, (10, 8, 12)):
        assert two_over_eta - 0.1 < r.traj.sharpness[-1] < two_over_eta, r.verdict
        assert 2 / r.spec.eta == pytest.approx(two_over_eta, rel=1e-9)


def test_arora_fig1_both_rules_drift_to_flatter_points_without_converging():
    for name, steps in (("arora-fig1-sqrt", 12), ("arora-fig1-normalized", 10)):
        traj = opened(name).run().traj
        assert len(traj.loss) == steps + 1 and traj.diverged_at is None
        assert traj.sharpness[-1] < 0.5 * traj.sharpness[0]     # towards x = 0
        assert traj.params[-1, 0] < traj.params[0, 0] / 2
        assert traj.loss[-1] > 1e-3                             # not converged


def test_arora_fig2_normalized_gd_bounces_along_the_top_eigenvector():
    result = opened("arora-fig2").run()
    assert result.kind == "periodic" and result.period == 2
    assert abs(result.traj.params[-1, 1]) < 1e-5                 # on the λ = 1 axis
    assert abs(result.traj.params[-1, 0] - result.traj.params[-2, 0]) == pytest.approx(1.0)


def test_wu_ma_e_gd_stays_at_one_sgd_settles_at_zero():
    state = opened("wu-ma-e")
    sgd, (gd,) = state.run(), pinned_runs(state)
    assert state.optimizer == "sgd" and gd.spec.optimizer == "gd"
    assert gd.traj.params[-1, 0] == pytest.approx(1.0, abs=1e-4)
    assert sgd.traj.params[-1, 0] == pytest.approx(0.0, abs=1e-6)


def test_step_drop_sharpening_resumes_after_the_drop():
    """Seed Fig. 7's shape: S sits at 2/η₁ = 10, η drops to 0.1, S rises towards 15.75."""
    traj = opened("step-drop").run().traj
    assert traj.eta[598] == 0.2 and traj.eta[600] == 0.1
    S, loss = np.asarray(traj.sharpness), np.asarray(traj.loss)
    assert np.all(np.abs(S[100:600] - 10.0) < 0.1)           # 500 steps at the edge
    assert np.all(loss[100:600] > 1.0)                        # held away from the minimum
    c, _, y_star = ref.SHARPENING
    target = min(c + y_star**2, 20.0)                         # 15.75: the minimum, below 2/η₂
    assert S[-1] - S[599] >= 0.5 * (target - S[599])
    assert S[-1] == pytest.approx(15.7, abs=0.05) and S[-1] < target
    assert loss[-1] < 1e-5 * loss[599]
    # The run is a numpy GD loop on the hand-written gradient, step for step.
    t = np.array([0.5, 0.3])
    for k in range(1200):
        t = t - traj.eta[k] * ref.grad("sharpening", t)
    np.testing.assert_allclose(traj.params[-1], t, rtol=1e-9, atol=1e-12)
    assert S[-1] == pytest.approx(ref.sharpness("sharpening", t), rel=1e-9)


def test_momentum_settles_just_below_two_plus_two_beta_over_eta():
    result = opened("momentum-edge").run()
    assert result.threshold[-1] == pytest.approx(15.0)
    assert 15 - 0.2 < result.traj.sharpness[-1] < 15 and result.kind == "edge"


def test_adam_preconditioned_sharpness_hovers_at_38_over_eta():
    result = opened("adam-edge").run()
    assert result.threshold[-1] == pytest.approx(380.0)
    tail = result.traj.effective_sharpness[-500:]
    assert np.median(np.abs(tail - 380) / 380) < 0.1 and result.kind == "hovering"
    assert result.traj.sharpness[-1] < 20                        # the raw one is far below


def test_central_flow_holds_two_over_eta_and_stays_near_gd_unlike_gradient_flow():
    result = opened("central-flow").run()
    gd, flow, central = result.traj, result.flow, result.central_flow
    assert central.sharpness[-1] == pytest.approx(10.0, abs=1e-6)
    assert flow.sharpness[-1] > 18
    assert np.linalg.norm(central.params[-1] - gd.params[-1]) < 0.05
    assert np.linalg.norm(flow.params[-1] - gd.params[-1]) > 1.0


def test_a_preset_resets_the_controls_it_does_not_name_and_moving_one_leaves_it():
    state = ExplorerState()
    state.apply_query({"model": "xyzw", "eta": "0.3", "compare": "model:xyzw,eta:0.25",
                       "cursor": "5"})
    state.load_preset("momentum-edge")
    assert (state.compare, state.cursor, state.steps) == ("", -1, 3000)
    state.view = "trajectory"
    assert state.preset == "momentum-edge"
    state.eta = 0.19
    assert state.preset == ""


def test_an_unknown_preset_in_a_link_says_which_exist():
    state = ExplorerState()
    (notice,) = state.apply_query({"preset": "nope", "eta": "0.1"})
    assert notice.startswith("Ignored preset=nope from the link: there is no such preset")
    assert "zhu-fig2a" in notice and state.eta == 0.1


def test_values_in_the_link_override_the_preset():
    state = ExplorerState()
    assert state.apply_query({"preset": "zhu-fig2a", "eta": "0.15"}) == []
    assert state.eta == 0.15 and state.steps == 1500


def test_zhu_fig2b_zoom_marks_about_sixty_percent_of_the_starts():
    from app import basin
    state = opened("zhu-fig2b-zoom")
    assert state.view == "basin" and state.basin_window == "3,3.4,0.1,0.5"
    spec = basin.BasinSpec(state.model_object(), "gd", (), 0.2,
                           basin.parse_window(state.basin_window, state.model_object()),
                           64, state.basin_steps)
    t = basin.threshold(spec)
    share = basin.summary(basin.compute(spec), t, spec.steps).edge
    assert t == pytest.approx(10.0) and 0.55 < share < 0.65     # 0.591 at 64², 0.599 at 512²


def test_zhu_fig2b_opens_the_basin_map_of_the_whole_plane():
    state = opened("zhu-fig2b")
    assert (state.view, state.basin_window, state.basin_steps) == ("basin", "", 50000)


def test_period_doubling_first_two_cycle_at_one_half_then_period_four():
    import dynamics
    from app.sweep_plot import sweep_etas
    state = opened("period-doubling")
    assert state.view == "sweep" and state.sweep_quantity == "observable"
    etas = sweep_etas(state.sweep_eta_from, state.sweep_eta_to, state.sweep_count)
    bif = dynamics.bifurcation(state.model_object(), state.start(), etas, state.sweep_steps,
                               keep=state.sweep_keep)
    spacing = etas[1] - etas[0]
    assert abs(bif.first_eta_with_period(2) - 0.5) < 2 * spacing
    assert 0.6 < bif.first_eta_with_period(4) < 0.64
    assert bif.converged[etas < 0.49].all()


def test_zhu_ab_ends_near_minus_kappa_cubed_over_eight():
    from app import ab_plane
    state = opened("zhu-ab")
    traj = state.run().traj
    kappa = np.sqrt(0.2)
    x, y = traj.params[-1]
    a = np.sqrt(x**2 - y**2) - (0.2**-2 - 4) ** 0.25
    assert state.view == "ab" and abs(a + kappa**3 / 8) < kappa**4 / 8
    assert abs(x * y - 1) < 1e-6
    assert hasattr(ab_plane, "__file__")


def test_swing_and_flow_presets_open_their_views_past_the_edge():
    from app.anatomy import anatomy
    from app.distance import distance
    from app.oscillation import oscillation
    swing = opened("q1-swing")
    osc = oscillation(anatomy(swing.spec()))
    assert swing.view == "oscillation" and osc.edge_step == 4 and osc.stretch is not None
    flows = opened("gd-vs-flows")
    d = distance(anatomy(flows.spec())).after_edge()
    assert flows.view == "distance"
    assert d["gf_end"] == pytest.approx(1.1987, abs=1e-3)
    assert d["cf_end"] == pytest.approx(0.01256, abs=1e-4)
