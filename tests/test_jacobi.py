"""The fused Jacobi eigen-solver (dynamics/jacobi.py) against numpy's eigvalsh.

Checked through the engine's own entry point, the extreme eigenvalues. Families where
Jacobi is known to be delicate: random matrices over 300 orders of
magnitude, multiple and nearly multiple eigenvalues, strongly graded spectra, matrices
with one tiny entry, the zero matrix, and non-finite input.
"""
import functools
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from dynamics._engine import jacobi
from dynamics.sharpness import extreme_eigenvalues, top_eigenvalue

# The engine's own use: smallest and largest eigenvalue. (Asking XLA for all d outputs of
# the straight-line solver at once makes it compile for many minutes.)
_extremes = jax.jit(extreme_eigenvalues)


def extremes(mats: np.ndarray) -> np.ndarray:
    """(λ_min, λ_max) of (n, d, d) matrices by the fused solver, as an (n, 2) array."""
    low, high = _extremes(jnp.asarray(np.moveaxis(mats, 0, -1)))
    return np.stack([np.asarray(low), np.asarray(high)], axis=1)


def random_orthogonal(rng, n, d):
    q, r = np.linalg.qr(rng.normal(size=(n, d, d)))
    return q * np.sign(np.diagonal(r, axis1=1, axis2=2))[:, None, :]


def with_spectrum(rng, spectrum, n=500):
    q = random_orthogonal(rng, n, len(spectrum))
    return np.einsum("nij,j,nkj->nik", q, np.asarray(spectrum, float), q)


def assert_matches_eigvalsh(mats, rel=4e-15):
    expected = np.linalg.eigvalsh(mats)
    norm = np.max(np.abs(expected), axis=1, keepdims=True)
    error = np.abs(extremes(mats) - expected[:, [0, -1]])
    np.testing.assert_array_less(error, np.broadcast_to(rel * norm + 1e-300, error.shape))


@pytest.mark.parametrize("d", [3, 4])
@pytest.mark.parametrize("log_scale", [0, -150, 150])
def test_random_symmetric_matrices(d, log_scale):
    rng = np.random.default_rng(d)
    a = rng.normal(size=(2000, d, d))
    a = (a + np.swapaxes(a, 1, 2)) * 10.0 ** (log_scale + rng.uniform(-3, 3, (2000, 1, 1)))
    assert_matches_eigvalsh(a)


@pytest.mark.parametrize("spectrum", [
    (1.0, 1.0, 1.0, 0.3),              # a triple top eigenvalue
    (1.0, 1.0 + 1e-9, 1.0 - 1e-9, -2.0),
    (2.0, 2.0, -1.0, -1.0),
    (1e6, 1.0, 1e-6, 1e-12),           # graded
    (-1.0, -2.0, -3.0, -1e-8),         # negative definite
    (0.0, 0.0, 0.0, 5.0),
])
def test_hard_spectra(spectrum):
    assert_matches_eigvalsh(with_spectrum(np.random.default_rng(1), spectrum))


def test_tiny_entries_are_not_lost():
    # Only h[0, 1] = h[1, 0] = −ε non-zero: eigenvalues ±ε, even below 1e-154 where ε²
    # underflows; and the zero matrix.
    h = np.zeros((4, 4, 4))
    for k, eps in enumerate([1e-30, 1e-160, 1e-300, 0.0]):
        h[0, 1, k] = h[1, 0, k] = -eps
    top = np.asarray(functools.reduce(jnp.maximum, jacobi.eigenvalues(jnp.asarray(h))))
    np.testing.assert_allclose(top, [1e-30, 1e-160, 1e-300, 0.0], rtol=1e-15, atol=0)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input_gives_nan_never_a_finite_guess(bad):
    h = np.tile(np.eye(4)[:, :, None], (1, 1, 2))
    h[2, 3, 1] = h[3, 2, 1] = bad
    out = extremes(np.moveaxis(h, -1, 0))
    assert np.all(out[0] == 1.0) and np.all(np.isnan(out[1]))


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=1e-300, max_value=1e300, allow_subnormal=False))
def test_rsqrt_to_an_ulp(x):
    assert float(jacobi.rsqrt(jnp.float64(x))) == pytest.approx(x ** -0.5, rel=3e-16)


@pytest.mark.parametrize("solver", [
    lambda h: functools.reduce(jnp.maximum, jacobi.eigenvalues(h)),
    lambda h: jacobi._top_after(h, jacobi.QUICK_SWEEPS),
])
def test_all_sweeps_are_one_kernel(solver):
    # The design point of jacobi.py: with only "cheap" operations XLA fuses the whole
    # solver into one loop (a kernel per divide would stream the matrices through memory).
    hlo = jax.jit(solver).lower(jnp.ones((4, 4, 1024))).compile().as_text()
    assert len(re.findall(r"= \S+ fusion\(", hlo)) == 1


# --- the top eigenvalue: quick sweeps, all of them when some matrix needs it ---------------

_top = jax.jit(top_eigenvalue)


def top_of(mats: np.ndarray) -> np.ndarray:
    return np.asarray(_top(jnp.asarray(np.moveaxis(mats, 0, -1))))


def quick_converges(mats: np.ndarray) -> bool:
    h = jnp.asarray(np.moveaxis(mats, 0, -1))
    return not np.isnan(np.asarray(jacobi._top_after(h, jacobi.QUICK_SWEEPS))).any()


def assert_top_matches_eigvalsh(mats, rel=4e-15):
    expected = np.linalg.eigvalsh(mats)
    norm = np.max(np.abs(expected), axis=1)
    np.testing.assert_array_less(np.abs(top_of(mats) - expected[:, -1]), rel * norm + 1e-300)


def near_rank_one(rng, n, d, size):
    """g gᵀ + r·E with small r: the Hessians near a minimum of a product loss."""
    g = rng.normal(size=(n, d))
    e = rng.normal(size=(n, d, d))
    return g[:, :, None] * g[:, None, :] + size * (e + np.swapaxes(e, 1, 2))


@pytest.mark.parametrize("d", [3, 4])
def test_quick_sweeps_suffice_near_a_minimum_and_are_exact(d):
    mats = near_rank_one(np.random.default_rng(5), 1000, d, 1e-9)
    assert quick_converges(mats)
    assert_top_matches_eigvalsh(mats)


@pytest.mark.parametrize("d", [3, 4])
def test_one_hard_matrix_makes_the_whole_batch_sweep_to_the_end(d):
    rng = np.random.default_rng(6)
    mats = near_rank_one(rng, 1000, d, 1e-9)
    # one of the random matrices that the quick sweeps leave unsettled (a few % of them)
    a = rng.normal(size=(2000, d, d))
    a = a + np.swapaxes(a, 1, 2)
    quick = jacobi._top_after(jnp.asarray(np.moveaxis(a, 0, -1)), jacobi.QUICK_SWEEPS)
    mats[517] = a[np.flatnonzero(np.isnan(np.asarray(quick)))[0]]
    assert not quick_converges(mats)
    assert_top_matches_eigvalsh(mats)


@pytest.mark.parametrize("spectrum", [(1.0, 1.0, 1.0, 0.3), (1.0, 1.0 + 1e-9, 1.0 - 1e-9, -2.0),
                                      (1e6, 1.0, 1e-6, 1e-12), (0.0, 0.0, 0.0, 5.0)])
def test_top_eigenvalue_on_hard_spectra(spectrum):
    assert_top_matches_eigvalsh(with_spectrum(np.random.default_rng(7), spectrum))


def test_top_eigenvalue_of_random_matrices_at_extreme_scales():
    rng = np.random.default_rng(8)
    a = rng.normal(size=(2000, 4, 4))
    a = (a + np.swapaxes(a, 1, 2)) * 10.0 ** rng.uniform(-150, 150, (2000, 1, 1))
    assert_top_matches_eigvalsh(a)


def test_top_eigenvalue_of_non_finite_input_is_nan():
    mats = near_rank_one(np.random.default_rng(9), 64, 4, 1e-9)
    mats[3, 0, 1] = mats[3, 1, 0] = np.inf
    mats[4, 2, 2] = np.nan
    top = top_of(mats)
    assert np.isnan(top[3]) and np.isnan(top[4])
    assert np.isfinite(np.delete(top, [3, 4])).all()


def test_a_matrix_gets_the_same_top_whatever_shares_its_batch():
    rng = np.random.default_rng(10)
    a = rng.normal(size=(3000, 4, 4))
    a = a + np.swapaxes(a, 1, 2)
    alone = np.concatenate([top_of(a[i:i + 1]) for i in range(3000)])
    together = top_of(a)           # batched with matrices that need every sweep
    np.testing.assert_array_equal(alone, together)
