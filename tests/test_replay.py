"""Replay: the cursor layer at step k is iterate k of the run, as the browser holds it."""
from __future__ import annotations

import math

import pytest

import dynamics
from app import plots, replay
from app.runs import step_sizes


@pytest.fixture(scope="module")
def run():
    model = dynamics.MODELS["xyzw"]
    traj = dynamics.simulate(model, (2.8, 0.2, 2.8, 0.2), 0.2, 400)
    return model, traj, plots.run_data(model, traj, 2 / step_sizes(((0, 0.2),), 401))


@pytest.mark.parametrize("k", [0, 1, 137, 400])
def test_the_cursor_at_step_k_is_iterate_k(run, k):
    model, traj, data = run
    layer = replay.cursor_layer(data, k)
    row = layer["cursor"]
    assert row["x"][0] == pytest.approx(traj.params[k][0], rel=1e-6)   # the plane is (x, y)
    assert row["y"][0] == pytest.approx(traj.params[k][1], rel=1e-6)
    assert row["loss"][0] == pytest.approx(max(traj.loss[k], plots.LOSS_FLOOR), rel=1e-6)
    assert row["sharpness"][0] == pytest.approx(traj.sharpness[k], rel=1e-6)
    assert row["t"][0] == layer["cursor_t"] == k


def test_past_the_end_is_the_last_iterate_and_negative_is_no_cursor(run):
    _, traj, data = run
    assert replay.cursor_layer(data, 10_000)["cursor"]["x"][0] == pytest.approx(
        traj.params[-1][0], rel=1e-6)
    none = replay.cursor_layer(data, -1)
    assert none["cursor"]["x"] == [] and math.isnan(none["cursor_t"])


def test_on_the_time_axis_the_line_is_at_the_time_of_step_k():
    model = dynamics.MODELS["xy"]
    traj = dynamics.simulate(model, (4.0, 0.1), [(0, 0.2), (50, 0.1)], 100)
    data = plots.run_data(model, traj, 2 / step_sizes(((0, 0.2), (50, 0.1)), 101), "time")
    assert replay.cursor_layer(data, 70)["cursor_t"] == pytest.approx(50 * 0.2 + 20 * 0.1)


@pytest.mark.parametrize("rate", list(replay.SPEEDS.values()))
def test_the_player_pace_gives_the_speed(rate):
    interval, step = replay.player_pace(rate)
    assert interval >= replay.FRAME_MS and step >= 1
    assert step * 1000 / interval == pytest.approx(rate, rel=0.05)


def test_the_dashboard_moves_the_cursor_without_a_rerun():
    from app.state import ExplorerState
    from app.views_plots import Dashboard
    state = ExplorerState(steps=300)
    dashboard = Dashboard(state)
    runs = []
    dashboard.state.param.watch(lambda e: runs.append(e), ["eta"])
    source_before = dashboard.curves.sources["run"].data
    state.cursor = 120
    assert dashboard.replay.source.data["t"] == [120.0]
    assert [s.location for s in dashboard.replay.spans] == [120.0, 120.0]
    assert dashboard.replay.player.value == 120
    assert dashboard.curves.sources["run"].data is source_before   # nothing re-ran
    traj = dynamics.simulate("xyzw", state.start(), state.eta, 300)
    assert dashboard.replay.source.data["x"][0] == pytest.approx(traj.params[120][0], rel=1e-6)
    state.cursor = -1
    assert dashboard.replay.source.data["x"] == [] and dashboard.replay.spans[0].location is None
