"""What the plots show: the fitted landscape window and the robust curve ranges (app/fit.py)."""
import numpy as np
import pytest

from app import fit, plots
from app.state import ExplorerState

WINDOW = ((-1.0, 5.0), (-1.0, 3.0))


def _inside(window, xs, ys):
    (x_lo, x_hi), (y_lo, y_hi) = window
    return (xs >= x_lo) & (xs <= x_hi) & (ys >= y_lo) & (ys <= y_hi)


def test_window_holds_start_end_and_most_iterates_but_not_one_far_spike():
    rng = np.random.default_rng(0)
    xs = 2.0 + 0.1 * rng.standard_normal(500)
    ys = 0.5 + 0.05 * rng.standard_normal(500)
    xs[0], ys[0] = 2.6, 0.2          # the start, off the cloud
    xs[7], ys[7] = 40.0, -30.0       # one far transient
    window = fit.fit_window(xs, ys, WINDOW)
    inside = _inside(window, xs, ys)
    assert inside[0] and inside[-1]
    assert inside.mean() >= 0.95
    assert not inside[7]
    (x_lo, x_hi), (y_lo, y_hi) = window
    assert x_hi - x_lo < 2.0 and y_hi - y_lo < 2.0   # the cloud's size, not the spike's


def test_window_reaches_a_near_transient_and_keeps_a_minimum_size():
    xs = np.r_[4.0, 3.0, np.full(100, 1.0)]
    ys = np.r_[0.1, 1.7, np.full(100, 1.0)]
    window = fit.fit_window(xs, ys, WINDOW)
    assert _inside(window, xs, ys).all()   # widening by < REACH: every iterate stays
    still = fit.fit_window(np.full(10, 1.0), np.full(10, 1.0), WINDOW)
    for (lo, hi), (m_lo, m_hi) in zip(still, WINDOW):
        assert lo < 1.0 < hi and hi - lo >= fit.MIN_SPAN * (m_hi - m_lo)


def test_window_without_finite_iterates_is_the_models():
    assert fit.fit_window([np.nan], [np.inf], WINDOW) == WINDOW


def test_a_kept_window_holds_the_fit_and_is_not_much_too_big():
    fitted = ((0.0, 1.0), (0.0, 1.0))
    assert fit.keeps_window(((-0.2, 1.2), (-0.1, 1.1)), fitted)
    assert not fit.keeps_window(((0.1, 1.2), (-0.1, 1.1)), fitted)     # cuts the run
    assert not fit.keeps_window(((-5.0, 5.0), (-0.1, 1.1)), fitted)    # far too wide
    assert not fit.keeps_window(None, fitted)


def test_xy_run_ends_on_the_negative_branch_and_that_branch_is_drawn():
    """xy from (4, 0.1) ends near (−0.97, −1.03): its window and the minima drawn there hold it."""
    state = ExplorerState(model="xy", x0=4.0, y0=0.1)
    r = state.run()
    end = r.traj.params[-1, :2]
    assert end[0] < 0 and end[1] < 0
    window = plots.run_window(r.spec.model, r.traj)
    assert _inside(window, np.array([end[0]]), np.array([end[1]]))[0]
    minima = plots.manifold_points(r.spec.model, window)
    near = np.hypot(minima["x"] - end[0], minima["y"] - end[1]).min()
    assert near < 0.05
    assert np.allclose(minima["x"] * minima["y"], 1.0, rtol=1e-6)   # xy = 1 exactly
    # the model's own window draws no point of that branch near the end
    own = plots.manifold_points(r.spec.model)
    assert np.hypot(own["x"] - end[0], own["y"] - end[1]).min() > 0.05


def test_range_clips_an_early_spike_and_says_where():
    s = np.r_[1.0, 44.0, 7.0, 92.5, 7.5, np.tile([9.0, 11.0], 300)]
    r = fit.robust_range(s, extra=[10.0])
    assert r.hi < 20 and r.lo <= 1.0 and r.note == "clipped: max 92.5 at step 3"
    assert r.lo <= 9.0 and r.hi >= 11.0


def test_range_without_a_spike_shows_everything_and_no_note():
    s = np.linspace(2.0, 10.0, 400)   # progressive sharpening up to 2/η
    r = fit.robust_range(s, extra=[10.0])
    assert r.lo <= 2.0 and r.hi >= 10.0 and r.note == ""


def test_log_range_is_measured_in_decades():
    loss = np.logspace(0, -30, 300)
    r = fit.robust_range(loss, log=True)
    assert r.lo <= 1e-30 and r.hi >= 1.0 and r.note == ""
    spike = np.r_[1e-3, 1e8, np.full(200, 1e-3) * np.logspace(0, -1, 200)]
    r = fit.robust_range(spike, log=True)
    assert r.hi < 1e8 and r.note.startswith("clipped: max 1e+08 at step 1")


def test_flat_curve_gets_a_band():
    r = fit.robust_range(np.full(50, 2.0))
    assert r.lo < 2.0 < r.hi and r.note == ""


def test_x2y2_gd_on_sqrt_loss_spike_is_clipped():
    """The issue's case: an early spike to ~92 over a cycle below 12."""
    state = ExplorerState(model="x2y2", optimizer="sqrt_gd")
    r = state.run()
    ranges = plots.curve_ranges(r.traj, r.threshold)
    s = ranges["sharpness_range"]
    k = int(np.argmax(r.traj.sharpness))
    assert s.hi < 20 < r.traj.sharpness[k]
    assert s.note.startswith(f"clipped: max {r.traj.sharpness[k]:.4g} at step {k}")
    assert s.lo <= 2 / r.spec.eta <= s.hi


def test_parity_lines_split_a_two_cycle_into_two_levels():
    """Normalized GD on a quadratic: the loss alternates between two values for good."""
    state = ExplorerState(model="quadratic", optimizer="normalized_gd")
    r = state.run()
    loss = r.traj.loss
    even, odd = (plots.parity_line(loss, p, log=True) for p in (0, 1))
    assert np.array_equal(even[::2], loss[::2]) and np.array_equal(odd[1::2], loss[1::2])
    tail = slice(len(loss) // 2, None)
    # each line is nearly flat in the tail; the two levels are the two values of the cycle
    for line in (even, odd):
        assert np.ptp(np.log(line[tail])) < 0.05 * np.ptp(np.log(loss[tail]))
    assert abs(np.log(even[-2] / odd[-1])) > 0.5


def test_parity_line_runs_straight_between_its_own_steps():
    y = np.array([0.0, 100.0, 2.0, 100.0, 4.0, 100.0])
    assert plots.parity_line(y, 0).tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 4.0]
    assert plots.parity_line(y, 1).tolist() == [100.0] * 6
    log_even = plots.parity_line(np.array([1.0, 5.0, 100.0]), 0, log=True)
    assert log_even[1] == pytest.approx(10.0)   # the middle of 1 and 100 on a log axis


def test_drop_marker_says_where_and_what():
    state = ExplorerState(model="quadratic", steps=20, drop_step=10, eta=1.0, drop_eta=0.5)
    r = state.run()
    data = plots.run_data(r.spec.model, r.traj, r.threshold)
    assert data["drop"] == 10.0
    assert data["drop_label"] == {"x": 10.0, "text": "η 1 → 0.5"}
    assert np.isnan(plots.run_data(r.spec.model, r.traj, np.full(21, 2.0))["drop"])
