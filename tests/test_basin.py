"""The basin map's data layer (app/basin.py, app/basin_words.py) against single runs."""
from __future__ import annotations

import numpy as np
import pytest

import dynamics
from app import basin
from app.basin_words import caption
from app.state import ExplorerState

XYZW = dynamics.MODELS["xyzw"]
ZHU = ((3.0, 3.4), (0.1, 0.5))   # Zhu et al. 2023 Fig. 2b's window, η = 0.2
CHECK_EVERY = 16                  # the engine checks for a quiet step every 16 steps


def spec(res, window=ZHU, model=XYZW, optimizer="gd", steps=2000, eta=0.2, seed=0, hyper=()):
    return basin.BasinSpec(model, optimizer, hyper, eta, window, res, steps, seed)


@pytest.mark.parametrize("model,optimizer,window,eta", [
    (XYZW, "gd", ZHU, 0.2),
    (dynamics.MODELS["x2y2"], "momentum", ((-0.5, 4.0), (-0.5, 2.5)), 0.05),
    (dynamics.MODELS["arora"], "normalized_gd", None, None),
])
def test_cells_are_single_simulate_runs(model, optimizer, window, eta):
    window = window or model.window
    eta = eta or model.default_eta
    s = spec(10, window, model, optimizer, steps=1500, eta=eta)
    result = basin.compute(s)
    xs, ys = basin.axis(*window[0], 10), basin.axis(*window[1], 10)
    rng = np.random.default_rng(3)
    for i, j in rng.integers(0, 10, size=(6, 2)):
        start = model.embed(np.array([xs[j], ys[i]]))
        traj = dynamics.simulate(model, tuple(start), eta, 1500, optimizer=optimizer)
        k = int(result["steps_run"][i, j])
        assert bool(result["diverged"][i, j]) == (traj.diverged_at is not None)
        if traj.diverged_at is not None:   # the finals are the last finite iterate's
            assert k == traj.diverged_at - 1
            assert result["sharpness"][i, j] == pytest.approx(traj.sharpness[-1], rel=1e-12)
            continue
        assert result["sharpness"][i, j] == pytest.approx(traj.sharpness[k], rel=1e-12)
        assert result["loss"][i, j] == pytest.approx(traj.loss[k], rel=1e-9, abs=1e-300)
        moves = np.max(np.abs(np.diff(traj.params, axis=0)), axis=1)
        quiet = np.flatnonzero(moves <= basin_tol()) + 1
        if k < 1500:   # it stopped: at the first quiet step, to the engine's check interval
            assert quiet.size and quiet[0] <= k < quiet[0] + CHECK_EVERY
        elif not dynamics.OPTIMIZERS[optimizer].stateful:
            assert not quiet.size or quiet[0] > 1500 - CHECK_EVERY


def basin_tol():
    from dynamics.sweeps import DEFAULT_TOL
    return DEFAULT_TOL


def test_edge_fraction_in_zhus_window_is_stable_across_resolutions():
    """The marked cells estimate the area of {start: GD ends in (9.9, 10)} in the window.

    Cells whose outcome a finer grid could change lie along the boundary of that set; a
    boundary of box-counting dimension D < 2 touches a fraction ~ n^(D − 2) of the cells,
    which shrinks as n grows. Measured here: 0.591 (64²), 0.595 (128²), 0.598 (256²; 0.599
    at 512²), so 0.02 (the share of one row of boundary cells three windows long at 64²,
    3 · 64 / 64² ≈ 0.05, halved; five times the 0.004 seen) allows the grid's own error and
    still catches a wrong band: (2/η − 0.1 + 0.1, 2/η + 0.1) marks no cell at all.
    """
    t = basin.threshold(spec(64))
    assert t == pytest.approx(10.0)
    fractions = {n: basin.summary(basin.compute(spec(n)), t, 2000).edge for n in (64, 128)}
    assert 0.5 < fractions[64] < 0.7
    assert abs(fractions[64] - fractions[128]) < 0.02
    wrong = basin.edge_mask(basin.compute(spec(64)), t + 0.1).mean()
    assert abs(wrong - fractions[64]) > 0.3


def test_rules_without_a_fixed_sharpness_threshold_mark_nothing():
    s = spec(8, optimizer="adam", hyper=(0.9, 0.999, 1e-8))
    assert basin.threshold(s) is None
    result = {"sharpness": np.full((2, 2), 9.95), "diverged": np.zeros((2, 2), bool),
              "loss": np.zeros((2, 2)), "steps_run": np.full((2, 2), 8)}
    assert not basin.edge_mask(result, None).any()
    assert "No cells are marked" in caption(s, result, None, "sharpness")
    momentum = spec(8, optimizer="momentum", hyper=(0.9,))
    assert basin.threshold(momentum) == pytest.approx((2 + 2 * 0.9) / 0.2)


def test_flows_are_refused_with_a_reason():
    assert "no basin map" in basin.refusal("central_flow")
    assert "no basin map" in basin.refusal("flow")
    assert basin.refusal("gd") == "" and basin.refusal("sgd") == ""


def test_one_parameter_model_maps_a_line_and_sgd_names_its_seed():
    picky = dynamics.MODELS["picky"]
    s = spec(40, picky.window, picky, "sgd", steps=300, eta=picky.default_eta, seed=7)
    result = basin.compute(s)
    assert result["sharpness"].shape == (1, 40)
    text = caption(s, result, basin.threshold(s), "settled")
    assert "seed 7" in text and "runs every one of its steps" in text


def test_caption_states_the_band_and_the_marked_share():
    s = spec(32)
    result = basin.compute(s)
    t = basin.threshold(s)
    share = basin.edge_mask(result, t).mean()
    text = caption(s, result, t, "sharpness")
    assert "(9.9, 10)" in text and f"{100 * share:.1f} %" in text and "1,024 starts" in text


def test_paint_marks_edge_cells_and_greys_diverged_ones():
    values = np.array([[0.0, 1.0], [np.nan, 0.5]])
    edge = np.array([[False, True], [False, False]])
    out = basin.paint(values, edge, 0.0, 1.0, ["#000000", "#ffffff"])
    assert out[0, 0] == 0x000000FF and out[0, 1] == 0xD55E00FF
    assert out[1, 0] == 0xA9A9A9FF and out[1, 1] == 0xFFFFFFFF
    raw = basin.image_bytes(out).tobytes()[4:8]   # the edge cell: bytes R, G, B, A
    assert raw == bytes([0xD5, 0x5E, 0x00, 0xFF])


def test_window_text_round_trips_and_bad_windows_are_refused():
    text = basin.window_text(((3.0000001234, 3.4), (0.1, 0.5)))
    assert text == "3,3.4,0.1,0.5"
    assert basin.parse_window(text, XYZW) == ZHU
    assert basin.parse_window("", XYZW) == XYZW.window
    fine = basin.window_text(((3.1234567, 3.1234999), (0.2, 0.2001)))
    window = basin.parse_window(fine, XYZW)
    assert window[0][0] < window[0][1] and abs(window[0][0] - 3.1234567) < 1e-8
    for bad in ("3,2,0,1", "1,2,3", "a,b,c,d", "0,1,0,nan"):
        with pytest.raises(ValueError):
            basin.parse_window(bad, XYZW)


@pytest.mark.parametrize("query,words", [
    ({"basin_res": "1000"}, "Ignored basin_res=1000"),
    ({"basin_steps": "0"}, "Ignored basin_steps=0"),
    ({"basin_window": "3,2,0,1"}, "Ignored basin_window=3,2,0,1"),
    ({"model": "picky", "basin_window": "3,3.4,0.1,0.5"}, "2 numbers"),
    ({"basin_colour": "rainbow"}, "Ignored basin_colour=rainbow"),
])
def test_bad_basin_values_in_a_link_give_a_notice(query, words):
    state = ExplorerState()
    notices = state.apply_query(query)
    assert any(words in n for n in notices)
    assert state.basin_res == 160 and state.basin_steps == 2000


def test_good_basin_values_in_a_link_are_kept():
    state = ExplorerState()
    assert state.apply_query({"view": "basin", "basin_res": "256", "basin_steps": "50000",
                              "basin_window": "3,3.4,0.1,0.5", "basin_colour": "settled"}) == []
    assert state.query()["basin_window"] == "3,3.4,0.1,0.5"
    assert (state.basin_res, state.basin_steps, state.basin_colour) == (256, 50000, "settled")
