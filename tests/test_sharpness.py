"""Sharpness S(θ) = λ_max(∇²L(θ)): closed forms, Zhu et al.'s λ₁, then eigvalsh properties.

Expected values: hand-derived Hessians (``reference.py``), their numpy eigvalsh, central
finite differences, and ``jax.hessian`` of the loss typed in this file as a second method.
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import dynamics
import reference as ref

M = dynamics.MODELS


# --- closed forms -------------------------------------------------------------------------

@pytest.mark.parametrize("lams", [(1.0, 0.4), (3.0,), (0.5, 7.0, 2.0), (-1.0, 0.5), (-2.0, -3.0)])
def test_quadratic_sharpness_is_max_lambda(lams):
    m = dynamics.quadratic(lams)
    for t in (np.zeros(len(lams)), np.linspace(-2, 3, len(lams))):
        assert dynamics.sharpness(m, t) == pytest.approx(max(lams), rel=1e-14)


@pytest.mark.parametrize("x", [0.3, 1.0, 2.5, -4.0, 10.0])
def test_xy_minimum_sharpness_is_x2_plus_y2(x):
    y = 1.0 / x
    assert dynamics.sharpness(M["xy"], (x, y)) == pytest.approx(x * x + y * y, rel=1e-12)


@pytest.mark.parametrize("x,sign", [(0.3, 1), (1.0, 1), (3.2, 1), (-2.0, 1), (2.0, -1), (7.0, -1)])
def test_x2y2_minimum_sharpness_is_twice_x2_plus_y2(x, sign):
    y = sign / x
    assert dynamics.sharpness(M["x2y2"], (x, y)) == pytest.approx(2 * (x * x + y * y), rel=1e-12)


@pytest.mark.parametrize("x", [0.5, 1.0, 2.9, -3.3])
def test_xyzw_symmetric_minimum_sharpness_is_twice_x2_plus_y2(x):
    y = 1.0 / x
    assert dynamics.sharpness(M["xyzw"], (x, y, x, y)) == pytest.approx(2 * (x * x + y * y), rel=1e-12)


@pytest.mark.parametrize("eta", [0.2, 0.1, 0.05, 0.01])
def test_eos_minimum_has_sharpness_two_over_eta(eta):
    # xy = 1 and x² + y² = 1/η  =>  x² = (1/η + √(1/η² − 4)) / 2.
    x = np.sqrt((1 / eta + np.sqrt(1 / eta**2 - 4)) / 2)
    y = 1 / x
    assert x * x + y * y == pytest.approx(1 / eta, rel=1e-14)
    assert dynamics.sharpness(M["xyzw"], (x, y, x, y)) == pytest.approx(2 / eta, rel=1e-12)
    assert dynamics.sharpness(M["x2y2"], (x, y)) == pytest.approx(2 / eta, rel=1e-12)


@pytest.mark.parametrize("x,y", [(3.2, 0.3), (1.5, 1.5), (0.8, 2.0), (-2.0, -0.9), (1.2, 1.0)])
def test_zhu_lambda1_formula_where_the_symmetric_mode_is_top(x, y):
    # |xy| ≥ 1 (or near it) makes the antisymmetric eigenvalues (1 − γ²)x², (1 − γ²)y² small.
    g = x * y
    assert ref.zhu_lambda1(x, y) >= (1 - g * g) * max(x * x, y * y)
    assert dynamics.sharpness(M["xyzw"], (x, y, x, y)) == pytest.approx(ref.zhu_lambda1(x, y), rel=1e-12)


@pytest.mark.parametrize("eps", [1e-30, 1e-77, 1e-78, 1e-100, 1e-150])  # ε² stays a normal float
def test_xyzw_sharpness_near_the_origin_is_scale_free(eps):
    # At (0, 0, ε, ε) only H_xy = H_yx = r·zw = −ε² is non-zero, so λ_max = ε² exactly
    # (the symmetric 4×4 eigen-solver must not lose this when ε² is below 1e-154).
    assert ref.sharpness("xyzw", (0.0, 0.0, eps, eps)) == pytest.approx(eps * eps, rel=1e-12, abs=0)
    assert dynamics.sharpness(M["xyzw"], (0.0, 0.0, eps, eps)) == pytest.approx(eps * eps, rel=1e-12, abs=0)


@pytest.mark.parametrize("x", [0.0, 1.0, -3.0, 14.7])
def test_arora_valley_sharpness(x):
    assert dynamics.sharpness(M["arora"], (x, 0.0)) == pytest.approx(2 * (1 + x * x), rel=1e-14)


@pytest.mark.parametrize("x,expected", [(0.0, 2.0), (1.0, 2.0), (0.1, 2.0), (0.4, 0.5 * (0.2 + 2.0)),
                                        (2.0, 2.0), (5.0, 0.5 * (0.2 + 2.0)), (-1.0, 0.5 * (0.2 + 2.0))])
def test_picky_sharpness_by_branch(x, expected):
    assert dynamics.sharpness(M["picky"], (x,)) == pytest.approx(expected, rel=1e-14)


def test_sharpness_returns_a_python_float():
    s = dynamics.sharpness("xy", (1.0, 1.0))
    assert isinstance(s, float)
    assert s == pytest.approx(2.0, rel=1e-14)


# --- properties: eigvalsh of independent Hessians -----------------------------------------

coord = st.floats(-3.0, 3.0, allow_nan=False)


def _close(actual, h):
    expected = float(np.linalg.eigvalsh(h).max())
    scale = float(np.abs(h).max()) + 1.0
    assert actual == pytest.approx(expected, rel=1e-10, abs=1e-12 * scale)


@settings(max_examples=30, deadline=None)
@given(name=st.sampled_from(["xy", "x2y2", "arora"]), x=coord, y=coord)
def test_sharpness_is_max_eigvalsh_of_hand_hessian_2d(name, x, y):
    _close(dynamics.sharpness(M[name], (x, y)), ref.hessian(name, (x, y)))


@settings(max_examples=30, deadline=None)
@given(pts=st.lists(coord, min_size=4, max_size=4))
def test_sharpness_xyzw_general_points(pts):
    # Asymmetric starts are allowed: compare with the full 4×4 hand Hessian.
    _close(dynamics.sharpness(M["xyzw"], pts), ref.hessian("xyzw", pts))


@settings(max_examples=30, deadline=None)
@given(x=coord, y=coord)
def test_xyzw_symmetric_sharpness_closed_form(x, y):
    # λ_max = max(Zhu's λ₁, (1 − γ²)x², (1 − γ²)y²), see reference.xyzw_symmetric_sharpness.
    expected = ref.xyzw_symmetric_sharpness(x, y)
    scale = float(np.abs(ref.hessian("xyzw", (x, y, x, y))).max()) + 1.0
    assert dynamics.sharpness(M["xyzw"], (x, y, x, y)) == pytest.approx(expected, rel=1e-9, abs=1e-11 * scale)


@settings(max_examples=20, deadline=None)
@given(name=st.sampled_from(["xy", "x2y2", "xyzw", "arora"]),
       pts=st.lists(st.floats(-2.0, 2.0, allow_nan=False), min_size=4, max_size=4))
def test_sharpness_matches_finite_difference_hessian(name, pts):
    m = M[name]
    t = np.asarray(pts[: m.dim])
    h = ref.fd_hessian(lambda v: ref.loss(name, v), t, h=1e-4)
    expected = float(np.linalg.eigvalsh(h).max())
    assert dynamics.sharpness(m, t) == pytest.approx(expected, rel=1e-5, abs=1e-5)


def _picky_jax(t):
    x = t[0]
    return 0.5 * (jnp.minimum(x**2, 0.1 * (x - 1) ** 2) + jnp.minimum(x**2, 1.9 * (x - 1) ** 2))


JAX_LOSSES = {
    "xy": lambda t: 0.5 * (1 - t[0] * t[1]) ** 2,
    "x2y2": lambda t: 0.25 * (1 - t[0] ** 2 * t[1] ** 2) ** 2,
    "xyzw": lambda t: 0.5 * (1 - t[0] * t[1] * t[2] * t[3]) ** 2,
    "arora": lambda t: (1 + t[0] ** 2) * t[1] ** 2,
    "picky": _picky_jax,
}
PICKY_KINKS = (np.sqrt(0.1) / (1 + np.sqrt(0.1)), -np.sqrt(0.1) / (1 - np.sqrt(0.1)),
               np.sqrt(1.9) / (1 + np.sqrt(1.9)), np.sqrt(1.9) / (np.sqrt(1.9) - 1))


@settings(max_examples=30, deadline=None)
@given(name=st.sampled_from(sorted(JAX_LOSSES)), pts=st.lists(coord, min_size=4, max_size=4))
def test_sharpness_matches_jax_hessian_of_the_typed_formula(name, pts):
    m = M[name]
    t = np.asarray(pts[: m.dim])
    if name == "picky":
        assume(min(abs(t[0] - k) for k in PICKY_KINKS) > 1e-6)
    h = np.asarray(jax.hessian(JAX_LOSSES[name])(jnp.asarray(t, dtype=jnp.float64)))
    assert h.dtype == np.float64
    _close(dynamics.sharpness(m, t), h)


@settings(max_examples=20, deadline=None)
@given(lams=st.lists(st.floats(-10.0, 10.0, allow_nan=False), min_size=1, max_size=5),
       pts=st.lists(coord, min_size=5, max_size=5))
def test_quadratic_sharpness_property(lams, pts):
    m = dynamics.quadratic(lams)
    assert dynamics.sharpness(m, pts[: len(lams)]) == pytest.approx(max(lams), rel=1e-13, abs=1e-13)


@settings(max_examples=15, deadline=None)
@given(x=st.floats(-1.5, 3.0, allow_nan=False))
def test_picky_sharpness_away_from_kinks(x):
    assume(min(abs(x - k) for k in PICKY_KINKS) > 1e-9)
    assert dynamics.sharpness(M["picky"], (x,)) == pytest.approx(ref.sharpness("picky", (x,)), rel=1e-14)
