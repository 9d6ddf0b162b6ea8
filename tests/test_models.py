"""The model registry: each objective is the formula of DESIGN.md, with consistent metadata.

Expected values come from ``reference.py`` (formulas typed from the objectives table).
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import dynamics
import reference as ref

NAMES = ["quadratic", "xy", "x2y2", "xyzw", "arora", "picky", "sharpening"]
QUADRATIC_LAMS = (1.0, 0.4)  # the registry's default quadratic (Arora et al. Fig. 2)


def lams_of(name):
    return QUADRATIC_LAMS if name == "quadratic" else None


# --- analytic checks ----------------------------------------------------------------------

def test_registry_has_the_seven_objectives():
    assert set(dynamics.MODELS) == set(NAMES)
    assert set(dynamics.OPTIMIZERS) >= {"gd", "normalized_gd", "sqrt_gd", "sgd", "flow",
                                        "central_flow", "momentum", "rmsprop", "adam"}


@pytest.mark.parametrize("name,dim", [("quadratic", 2), ("xy", 2), ("x2y2", 2), ("xyzw", 4),
                                      ("arora", 2), ("picky", 1), ("sharpening", 2)])
def test_metadata_is_consistent(name, dim):
    m = dynamics.MODELS[name]
    assert m.dim == dim
    assert len(m.default_init) == dim
    assert isinstance(m.formula, str) and m.formula.strip()
    lo, hi = m.eta_range
    assert 0 < lo < hi
    assert lo <= m.default_eta <= hi
    assert len(m.window) == len(m.plane)
    for a, b in m.window:
        assert a < b
    # The default start is visible in the plane.
    start = m.project(np.asarray(m.default_init))
    for c, (a, b) in zip(start, m.window):
        assert a <= c <= b


def test_default_quadratic_is_arora_fig2():
    m = dynamics.MODELS["quadratic"]
    np.testing.assert_array_equal(np.asarray(m.consts), QUADRATIC_LAMS)


@pytest.mark.parametrize("point,expected", [
    ((0.0, 0.0), 0.5), ((2.0, 0.5), 0.0), ((3.0, 0.2), 0.5 * 0.4**2), ((-1.0, 2.0), 4.5)])
def test_xy_loss_by_hand(point, expected):
    assert dynamics.MODELS["xy"].loss(point) == pytest.approx(expected, rel=1e-15, abs=1e-300)


def test_x2y2_loss_by_hand():
    m = dynamics.MODELS["x2y2"]
    assert m.loss((0.0, 5.0)) == 0.25
    assert m.loss((2.0, 0.5)) == 0.0
    assert m.loss((2.0, -0.5)) == 0.0  # xy = −1 is a minimum too
    assert m.loss((2.0, 1.0)) == pytest.approx(0.25 * 9.0, rel=1e-15)


def test_xyzw_loss_by_hand():
    m = dynamics.MODELS["xyzw"]
    assert m.loss((1.0, 2.0, 0.5, 1.0)) == 0.0
    assert m.loss((1.0, 2.0, 3.0, 0.5)) == pytest.approx(0.5 * 4.0, rel=1e-15)


def test_arora_loss_by_hand():
    m = dynamics.MODELS["arora"]
    assert m.loss((14.7, 3.0)) == pytest.approx((1 + 14.7**2) * 9.0, rel=1e-15)
    assert m.loss((5.0, 0.0)) == 0.0


def test_sharpening_loss_by_hand():
    m = dynamics.MODELS["sharpening"]
    assert tuple(m.consts) == ref.SHARPENING
    assert m.loss((0.0, 2.5)) == 0.0                                      # the one minimum
    assert m.loss((1.0, 1.0)) == pytest.approx(0.5 * 10.5 + 0.05 * 2.25, rel=1e-15)
    assert m.loss((0.0, 0.5)) == pytest.approx(0.05 * 4.0, rel=1e-15)


def test_sharpening_gd_two_cycle_is_the_closed_form():
    """GD at η holds y where c + y² = 2/η, with x ↔ −x of amplitude σ, σ² = κ(y* − y)/y.

    At y_e = √(2/η − c) the x-update is x ← (1 − η(c + y_e²))x = −x, and ∂L/∂y = 0 along
    the cycle iff x²y_e = κ(y* − y_e). A plain numpy GD loop from the registry's start
    lands on this cycle; its sharpness is the top eigenvalue of [[2/η, 2σy_e], [2σy_e, σ² + κ]]."""
    c, kappa, y_star = ref.SHARPENING
    eta = 0.2
    y_e = np.sqrt(2 / eta - c)
    sigma = np.sqrt(kappa * (y_star - y_e) / y_e)
    t = np.array(dynamics.MODELS["sharpening"].default_init, dtype=float)
    for _ in range(1000):
        t = t - eta * ref.grad("sharpening", t)
    assert abs(t[0]) == pytest.approx(sigma, rel=1e-6) and t[1] == pytest.approx(y_e, rel=1e-6)
    assert ref.loss("sharpening", t) == pytest.approx(
        0.5 * (2 / eta) * sigma**2 + 0.5 * kappa * (y_star - y_e) ** 2, rel=1e-6)
    expected = np.linalg.eigvalsh([[2 / eta, 2 * sigma * y_e], [2 * sigma * y_e, sigma**2 + kappa]])[-1]
    assert ref.sharpness("sharpening", t) == pytest.approx(expected, rel=1e-6)
    assert abs(expected - 2 / eta) < 0.1


@pytest.mark.parametrize("x,f1,f2", [
    (0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (0.1, 0.01, 0.01),          # both x² branches
    (0.5, 0.025, 0.25),                                            # f₁ switched, f₂ not yet
    (2.0, 0.1, 1.9), (-1.0, 0.4, 1.0)])
def test_picky_components_by_hand(x, f1, f2):
    m = dynamics.MODELS["picky"]
    assert m.n_components == 2
    comps = np.asarray(m.components_fn(np.array([x]), m.consts_array), dtype=float)
    np.testing.assert_allclose(comps, [f1, f2], rtol=1e-14, atol=1e-300)
    assert m.loss((x,)) == pytest.approx(0.5 * (f1 + f2), rel=1e-14, abs=1e-300)


@pytest.mark.parametrize("name", ["quadratic", "xy", "x2y2", "xyzw", "arora", "sharpening"])
def test_only_picky_is_a_finite_sum(name):
    m = dynamics.MODELS[name]
    assert m.n_components == 0
    assert "sgd" not in dynamics.optimizers_for(m)
    assert {"gd", "normalized_gd", "sqrt_gd", "flow"} <= set(dynamics.optimizers_for(m))


def test_picky_offers_sgd():
    assert set(dynamics.optimizers_for(dynamics.MODELS["picky"])) == set(dynamics.OPTIMIZERS)


def test_xyzw_plane_is_the_symmetric_slice():
    m = dynamics.MODELS["xyzw"]
    np.testing.assert_array_equal(m.embed([3.2, 0.3]), [3.2, 0.3, 3.2, 0.3])
    np.testing.assert_array_equal(m.project([1.0, 2.0, 3.0, 4.0]), [1.0, 2.0])
    # On the plane xyzw is x2y2 times 2 (½ vs ¼ and (xy)² = xyzw there).
    for p in ([3.2, 0.3], [0.5, -1.5], [1.1, 0.9]):
        assert m.loss(m.embed(p)) == pytest.approx(2 * dynamics.MODELS["x2y2"].loss(p), rel=1e-14)


@pytest.mark.parametrize("lams", [(3.0,), (1.0, 0.4), (5.0, 2.0, 0.5), (-1.0, 2.0)])
def test_quadratic_factory(lams):
    m = dynamics.quadratic(lams)
    assert m.dim == len(lams)
    t = np.linspace(-1.3, 2.1, len(lams))
    assert m.loss(t) == pytest.approx(0.5 * sum(l * v * v for l, v in zip(lams, t)), rel=1e-14)
    assert len(m.default_init) == len(lams)


@pytest.mark.parametrize("name", NAMES)
def test_manifold_points_are_minima_with_the_stated_sharpness(name):
    m = dynamics.MODELS[name]
    segments = m.manifold()
    assert segments, f"{name} declares no minima"
    for seg in segments:
        pts = np.asarray(seg.points)
        assert pts.ndim == 2 and pts.shape[1] == len(m.plane)
        assert len(seg.sharpness) == len(pts)
        for p, s in zip(pts[:: max(1, len(pts) // 7)], np.asarray(seg.sharpness)[:: max(1, len(pts) // 7)]):
            theta = m.embed(p)
            assert ref.loss(name, theta, lams_of(name)) < 1e-20
            if np.isfinite(s):
                expected = ref.sharpness(name, theta, lams_of(name))
                assert s == pytest.approx(expected, rel=1e-9)
                assert dynamics.sharpness(m, theta) == pytest.approx(expected, rel=1e-9)


# --- properties ---------------------------------------------------------------------------

coord = st.floats(-3.0, 3.0, allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(NAMES), pts=st.lists(coord, min_size=4, max_size=4))
def test_loss_is_the_formula(name, pts):
    m = dynamics.MODELS[name]
    t = np.asarray(pts[: m.dim])
    expected = ref.loss(name, t, lams_of(name))
    assert m.loss(t) == pytest.approx(expected, rel=1e-12, abs=1e-300)


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(["quadratic", "xy", "x2y2", "xyzw", "arora", "sharpening"]),
       pts=st.lists(coord, min_size=2, max_size=2))
def test_project_inverts_embed(name, pts):
    m = dynamics.MODELS[name]
    np.testing.assert_array_equal(m.project(m.embed(np.asarray(pts))), pts)
    assert m.embed(np.asarray(pts)).shape == (m.dim,)
