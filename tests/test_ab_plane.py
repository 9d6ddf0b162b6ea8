"""Zhu et al.'s (a, b) plane (app/ab_plane.py) against the paper's formulas, computed by hand.

GD steps here are eq. (2) of Zhu et al. (and its degree-2 analogue) written out in numpy,
independent of the engine and of the module under test.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import dynamics
from app import ab_layers, ab_plane as ab


def gd_step(x, y, eta, degree):
    """One GD step: eq. (2) of Zhu et al. (degree 4) or on ½(1 − xy)² (degree 2)."""
    if degree == 4:
        g = x * x * y * y - 1.0
        return x - eta * x * y * y * g, y - eta * x * x * y * g
    g = x * y - 1.0
    return x - eta * y * g, y - eta * x * g


def from_ab(a, b, eta, degree):
    """The point (x > y > 0) with these (a, b): x² − y² = (a + r)², xy = 1 + b."""
    r = (eta**-2 - 4) ** 0.25 if degree == 4 else (4 * eta**-2 - 4) ** 0.25
    u, g = (a + r) ** 2, 1.0 + b
    x = math.sqrt((u + math.sqrt(u * u + 4 * g * g)) / 2)
    return x, g / x


def test_transform_is_zhus_definition_2_by_hand():
    x, y, eta = 3.0, 0.5, 0.2
    a, b = ab.coordinates([x], [y], eta)
    assert a[0] == pytest.approx(math.sqrt(9.0 - 0.25) - 21.0**0.25, abs=1e-14)
    assert b[0] == pytest.approx(0.5, abs=1e-15)
    a2, b2 = ab.coordinates([x], [y], eta, degree=2)   # (4η⁻² − 4)^{1/4} = 96^{1/4}
    assert a2[0] == pytest.approx(math.sqrt(8.75) - 96.0**0.25, abs=1e-14)
    assert np.isnan(ab.coordinates([0.5], [3.0], eta)[0][0])   # x² < y²: no a


@pytest.mark.parametrize("eta", [0.01, 0.1, 0.2, 0.45])
def test_the_eos_minimum_is_the_origin_and_a_below_zero_means_flatter(eta):
    # xy = 1, x² + y² = 1/η: x² = (1/η + √(1/η² − 4))/2
    x = math.sqrt((1 / eta + math.sqrt(eta**-2 - 4)) / 2)
    a, b = ab.coordinates([x], [1 / x], eta)
    assert abs(a[0]) < 1e-12 and abs(b[0]) < 1e-12
    # along the minima xy = 1 the sharpness 2(x² + y²) is below 2/η exactly where a < 0
    xs = x * np.array([0.9, 0.99, 1.01, 1.1])
    a, _ = ab.coordinates(xs, 1 / xs, eta)
    assert np.array_equal(a < 0, 2 * (xs**2 + xs**-2) < 2 / eta)


def test_undefined_where_there_is_no_eos_minimum():
    assert ab.undefined_reason("x2y2", 0.2) == ""
    assert "η < 0.5" in ab.undefined_reason("x2y2", 0.5)
    assert "η < 1" in ab.undefined_reason("xy", 1.0)
    assert "no such coordinates" in ab.undefined_reason("quadratic", 0.2)
    assert isinstance(ab.ab_path("arora", np.ones((3, 2)), 0.2), str)


def test_parabola_and_its_vertex_by_hand():
    k = math.sqrt(0.2)
    curve = ab.parabola(k, a_hi=0.5)
    assert np.allclose(curve["b"] ** 2, curve["a"] * k / 2 + k**4 / 16, atol=1e-15)
    assert curve["a"].min() == pytest.approx(-k**3 / 8) == ab.edge_a(k)
    assert curve["a"].max() == pytest.approx(0.5)


@pytest.mark.parametrize("model, start", [
    ("xyzw", (3.0, 0.01, 3.0, 0.01)), ("x2y2", (2.8, 0.2)),   # Zhu's start, the app's default
    ("x2y2", (3.0, 0.1)), ("x2y2", (3.1, 0.3)), ("x2y2", (3.2, 0.3)), ("x2y2", (3.3, 0.4))])
def test_a_run_at_eta_02_ends_within_zhus_bounds_of_the_vertex(model, start):
    """Cor. 3.1: the final sharpness lies in (2/η − (20/3)η, 2/η). On the minima b = 0 it is
    2(x² + y²) = 2√(u² + 4), u = (a + r)², so the bound reads a_min < a < 0 with
    a_min = ((1/η − 10η/3)² − 4)^{1/4} − r. Tighter, and what the view says: the last a is
    within κ⁴/8 of −κ³/8 (the next order after the vertex's κ³; measured 0.0019 at κ⁴/8 = 0.005).
    (3.0, 0.1) and (3.3, 0.4) end on xy = −1: the path reads them mirrored (y → −y)."""
    eta, k = 0.2, math.sqrt(0.2)
    traj = dynamics.simulate(model, start, eta, 3000)
    assert traj.diverged_at is None
    path = ab.ab_path(model, traj.params, eta)
    a, b = path.a[-1], path.b[-1]
    r = (eta**-2 - 4) ** 0.25
    a_min = ((1 / eta - 10 * eta / 3) ** 2 - 4) ** 0.25 - r
    assert abs(b) < 1e-8
    assert a_min < a < 0
    assert 2 / eta - 20 * eta / 3 < traj.sharpness[-1] < 2 / eta
    assert abs(a - ab.edge_a(k)) < k**4 / 8
    assert path.mirrored == (start in ((3.0, 0.1), (3.3, 0.4)))


@pytest.mark.parametrize("degree", [4, 2])
def test_two_step_map_is_two_gd_steps_to_the_papers_order(degree):
    """Near the EoS minimum (a = ακ³, b = βκ², Zhu et al.'s scale) two GD steps change b by
    O(κ⁶) and a by O(κ⁷); the map's error is a factor O(κ²) smaller (constants measured:
    b: 2κ⁸, a: 0.8κ⁹ for degree 4), so it shrinks 4× with every η/4."""
    errors = []
    for eta in (0.04, 0.01, 0.0025):
        k = math.sqrt(eta)
        a, b = 0.5 * k**3, 0.4 * k**2
        x, y = gd_step(*gd_step(*from_ab(a, b, eta, degree), eta, degree), eta, degree)
        (a_gd,), (b_gd,) = ab.coordinates([x], [y], eta, degree)
        a_map, b_map = ab.two_step(a, b, k, degree)
        assert abs(b_gd - b) > 0.1 * k**6      # the step is not trivially zero
        assert abs(b_map - b_gd) < 3 * k**8
        assert abs(a_map - a_gd) < 1 * k**9
        errors.append(abs(b_map - b_gd) / k**6)
    assert errors[0] > errors[1] > errors[2]


def test_period_doubling_where_the_fixed_points_derivative_reaches_minus_one():
    """Fixed points 16b*² = 8aκ; d b''/d b there = 1 + 8aκ − 48b*² = 1 − 16aκ = −1 at aκ = 1/8."""
    k = 0.1
    a_pd = ab.period_doubling_a(k)
    assert a_pd == pytest.approx(1 / (8 * k))
    for a in (0.5 * a_pd, a_pd, 1.5 * a_pd):
        b_star = math.sqrt(a * k / 2)
        h = 1e-7
        slope = (ab.two_step(a, b_star + h, k)[1] - ab.two_step(a, b_star - h, k)[1]) / (2 * h)
        assert slope == pytest.approx(1 - 16 * a * k, abs=1e-6)
    diagram = ab.bifurcation(k)
    columns = np.unique(diagram["a"])

    def positive_values(a):
        col = columns[np.argmin(np.abs(columns - a))]
        return diagram["b"][(diagram["a"] == col) & (diagram["b"] > 0)], col

    below, col = positive_values(0.8 * a_pd)   # one stable period-2 point: b* = √(aκ/2)
    assert len(below) == 1 and below[0] == pytest.approx(math.sqrt(col * k / 2), abs=1e-4)
    above, _ = positive_values(1.15 * a_pd)    # past it: a 2-cycle of the two-step map
    assert len(above) == 2
    assert ab.escape_a(k) == pytest.approx(1 / (4 * k))   # 4r³/27 = r + 1 at r = 1 + 8aκ = 3
    assert diagram["a"].max() <= ab.escape_a(k) * 1.001   # beyond it every orbit escapes
    assert np.abs(diagram["b"]).max() <= math.sqrt(2 + 8 * diagram["a"].max() * k) / 4 + 1e-9


def test_degree_2_orbits_follow_the_ellipse_and_end_flatter():
    """A start just past the EoS minimum of ½(1 − xy)² (η = 0.05): b grows, a falls through 0
    and the run ends near the ellipse's other crossing a ≈ −a₀ (measured within 4 %)."""
    eta = 0.05
    k = math.sqrt(eta)
    r = (4 * eta**-2 - 4) ** 0.25
    u = r**2 * 1.02   # x² − y² 2 % above the EoS minimum's
    x = math.sqrt((u + math.sqrt(u * u + 4 * 1.01**2)) / 2)
    traj = dynamics.simulate("xy", (x, 1.01 / x), eta, 4000)
    path = ab.ab_path("xy", traj.params, eta)
    a0, b0 = path.a[0], path.b[0]
    crossing = -0.5 * k * math.sqrt(b0**2 + 4 * a0**2 / k**2)
    assert a0 > 0 and path.a[-1] < 0 and abs(path.b[-1]) < 1e-8
    assert path.a[-1] == pytest.approx(crossing, rel=0.1)
    level = path.b**2 + 4 * path.a**2 / k**2   # kept to within 10 % along the run
    assert level.max() < 1.1 * level[0] and level.min() > 0.9 * level[0]
    assert traj.sharpness[-1] < 2 / eta


def test_paths_read_symmetric_copies_and_say_so():
    params = np.array([[0.2, 2.8], [0.3, 3.0]])   # |y| > |x|: read as (y, x)
    path = ab.ab_path("x2y2", params, 0.2)
    assert path.swapped and np.allclose(path.a, ab.coordinates(params[:, 1], params[:, 0], 0.2)[0])
    params = np.array([[2.8, -0.2], [3.0, -0.33]])   # ends on xy = −1: b = −xy − 1
    path = ab.ab_path("x2y2", params, 0.2)
    assert path.mirrored and np.allclose(path.b, -params[:, 0] * params[:, 1] - 1)
    asym = np.array([[3.0, 0.2, 2.0, 0.2]])
    assert "not symmetric" in ab.ab_path("xyzw", asym, 0.2).notes[0]
    mixed = np.array([[0.5, 3.0], [3.0, 0.5], [3.0, 0.4]])
    assert ab.ab_path("x2y2", mixed, 0.2).no_a == 1


def test_layers_split_even_and_odd_steps_and_the_words_are_true():
    traj = dynamics.simulate("x2y2", (2.8, 0.2), 0.2, 1500)
    path = ab.ab_path("x2y2", traj.params, 0.2)
    layers = ab_layers.plane_layers(path)
    assert np.array_equal(layers["ab_even"]["step"], np.arange(0, 1501, 2))
    assert np.array_equal(layers["ab_odd"]["b"], path.b[1::2])
    # past 2/η the two parities sit on opposite sides of b = 0 (period 2)
    late = slice(200, 400)
    assert np.all(np.sign(path.b[::2][late]) == -np.sign(path.b[1::2][late]))
    assert ab_layers.cursor_row(path, 40)["a"] == [path.a[40]]
    assert ab_layers.cursor_row(path, 10**6)["step"] == [1500.0]
    assert ab_layers.cursor_row(path, -1)["a"] == []
    words = ab_layers.summary(path, float(traj.sharpness[-1]), 10.0, 1500)
    assert "at the edge" in words and "9.927 < 2/η = 10" in words
    short = dynamics.simulate("x2y2", (12.5, 0.05), 0.01, 2000)
    path = ab.ab_path("x2y2", short.params, 0.01)
    assert "not at the edge yet" in ab_layers.summary(path, float(short.sharpness[-1]), 200, 2000)
    note = ab_layers.zhu_note(ab_layers.ZHU_FIG3, 2000, float(path.a[-1]))
    assert "not yet down to the first period doubling" in note


def test_the_view_slider_says_when_no_iterate_is_marked():
    """With no replay cursor the slider names no step (no misleading "k: 0")."""
    from bokeh.document import Document
    from panel.io.state import set_curdoc

    from app.state import ExplorerState
    from app.views_ab import ABView

    state = ExplorerState(view="ab", model="x2y2")
    with set_curdoc(Document()):
        view = ABView(state)
    assert not view.slider.show_value and "none marked" in view.slider.name
    state.cursor = 40
    assert view.slider.show_value and view.slider.name == "replay step k"
    assert view.slider.value == 40
