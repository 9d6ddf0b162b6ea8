"""Eigenvalues of small symmetric matrices (d ≤ 4) by cyclic Jacobi, in one XLA kernel.

The matrix is first scaled by the power of two that brings its largest entry into [½, 1)
(exact). Each rotation then zeroes a[p][q] (Rutishauser's form): with d = a_qq − a_pp,
b = a_pq and v = sgn(d)·2b, the angle φ has cos 2φ = |d| / √(d² + v²), and

    c = cos φ = √((1 + cos 2φ)/2),   s = sin φ = (v / √(d² + v²)) / (2c),   t = s / c,
    a_pp ← a_pp − t·b,   a_qq ← a_qq + t·b,   a_pq ← 0,   rows r ∉ {p, q} rotated by (c, s).

A pair with d² + v² below 1e-300 (relative to the largest entry) is left alone.

Everything is elementwise over the batch axes and written only with operations XLA counts
as cheap: the two reciprocal square roots are a first guess (from the bits of the argument,
or a polynomial on [½, 1]) refined by Newton-type steps to ~1 ulp. XLA then fuses all the
sweeps into one loop that the CPU runs vectorized out of registers, instead of a kernel per
divide or square root with the matrices streamed through memory in between.
"""
from __future__ import annotations

import functools

import jax.numpy as jnp
from jax import lax

from .._types import Array

_EXPONENT = 0x7FF0000000000000
_RSQRT_MAGIC = 0x5FE6EB50C7B537A9  # first guess of 1/√x from the bits of x, ≤ 3.5 % off
# 1/√x on [½, 1]: a degree-4 fit, ≤ 9e-5 off (relative)
_RSQRT_HALF_TO_ONE = (1.12191852, -4.32431391, 6.71116032, -5.43084908, 2.92214641)
_SMALLEST = 1e-300


MAX_DIM = 4  # the straight-line code grows as ~d³ per sweep: at d = 5 compiling takes minutes
SWEEPS = 5   # to machine precision on 4 × 4 (convergence is quadratic; tests/test_jacobi.py)
QUICK_SWEEPS = 3   # enough for most Hessians along a trajectory (see top_eigenvalue)
TAU = 2.0 ** -54   # how well the quick sweeps must pin λ_max (the largest entry being ~1)
# One sweep visits every pair once. On 4 × 4 the pairs come in disjoint twos, (0,1) with
# (2,3) and so on: each rotation of a two reads nothing the other writes, so the CPU runs
# them side by side (a sweep's chain of dependent steps is half as long: 1.2× faster).
_ORDER = {2: [(0, 1)], 3: [(0, 1), (0, 2), (1, 2)],
          4: [(0, 1), (2, 3), (0, 2), (1, 3), (0, 3), (1, 2)]}


def _bits(x: Array) -> Array:
    return lax.bitcast_convert_type(x, jnp.int64)


def _float(i: Array) -> Array:
    return lax.bitcast_convert_type(i, jnp.float64)


def _refine(x: Array, y: Array, terms: int) -> Array:
    """y·(1 − e)^(−1/2), e = 1 − x·y², to ``terms`` terms: from y ≈ 1/√x towards 1/√x."""
    e = 1.0 - x * y * y
    coefficients = (0.5, 0.375, 0.3125, 0.2734375)[:terms]  # of e, e², e³, e⁴
    series = coefficients[-1]
    for c in reversed(coefficients[:-1]):
        series = c + e * series
    return y + y * e * series


def rsqrt(x: Array) -> Array:
    """1/√x for normal floats x > 0, to ~1 ulp."""
    y = _float(jnp.int64(_RSQRT_MAGIC) - (_bits(x) >> 1))
    return _refine(x, _refine(x, y, 3), 3)


def _rsqrt_half_to_one(x: Array) -> Array:
    """1/√x for ½ ≤ x ≤ 1, to ~1 ulp."""
    y = _RSQRT_HALF_TO_ONE[0]
    for c in _RSQRT_HALF_TO_ONE[1:]:
        y = c + x * y
    return _refine(x, y, 4)


def _rotate(a: list, p: int, q: int) -> None:
    b = a[p][q]
    d = a[q][q] - a[p][p]
    v = jnp.where(d >= 0, 2.0 * b, -2.0 * b)
    w = d * d + v * v
    y = rsqrt(w)                          # 1 / √(d² + v²)
    cos2 = 0.5 + 0.5 * jnp.abs(d) * y     # cos² φ ∈ [½, 1]
    z = _rsqrt_half_to_one(cos2)          # 1 / cos φ
    skip = ~(w >= _SMALLEST)              # nothing to rotate (or NaN, caught at the end)
    c = jnp.where(skip, 1.0, cos2 * z)
    s = jnp.where(skip, 0.0, 0.5 * v * y * z)
    t = s * z
    a[p][p] = a[p][p] - t * b
    a[q][q] = a[q][q] + t * b
    a[p][q] = a[q][p] = jnp.zeros_like(b)
    for k in range(len(a)):
        if k not in (p, q):
            akp, akq = a[k][p], a[k][q]
            a[k][p] = a[p][k] = c * akp - s * akq
            a[k][q] = a[q][k] = s * akp + c * akq


def _diagonalize(h: Array, sweeps: int):
    """(a, unscale, finite): a = h scaled so its largest entry is in [½, 1), after ``sweeps``
    sweeps; eigenvalue ≈ a[i][i] · unscale; finite says h had no NaN or infinity."""
    d = h.shape[0]
    entries = [h[i, j] for i in range(d) for j in range(i, d)]
    largest = entries[0] * 0.0
    for x in entries:
        largest = jnp.maximum(largest, jnp.abs(x))
    e = jnp.minimum(_bits(largest) & _EXPONENT, jnp.int64(2044 << 52))
    scale = _float(jnp.int64(2045 << 52) - e)    # 2^(1022 − E): largest·scale ∈ [½, 1)
    unscale = _float(e + jnp.int64(1 << 52))      # 2^(E − 1022)
    a = [[h[i, j] * scale for j in range(d)] for i in range(d)]
    for _ in range(sweeps):
        for p, q in _ORDER[d]:
            _rotate(a, p, q)
    return a, unscale, jnp.isfinite(largest)


def eigenvalues(h: Array) -> list[Array]:
    """Eigenvalues (unsorted) of symmetric h (d, d, *batch), d ≤ MAX_DIM, each of shape batch.

    Non-finite entries give NaN eigenvalues (never a finite guess).
    """
    a, unscale, finite = _diagonalize(h, SWEEPS)
    return [jnp.where(finite, a[i][i] * unscale, jnp.nan) for i in range(len(a))]


def _top_after(h: Array, sweeps: int) -> Array:
    """λ_max after ``sweeps`` sweeps; NaN where it is not yet known to 2^-54 of the scale.

    Known means: for some k, with u the rest of row k and B the rest of the matrix, every
    Gershgorin disc of B lies left of a_kk, by δ at least, and |u|² ≤ TAU·δ. Then a_kk ≤
    λ_max ≤ a_kk + |u|²/δ (from λ − a_kk = uᵀ(λ − B)⁻¹u), so a_kk is λ_max to within TAU
    of the largest entry, which is ~1 here. B itself need not have converged: the small
    eigenvalues of a Hessian near a minimum take every sweep, its top does not.
    """
    a, unscale, finite = _diagonalize(h, sweeps)
    d = len(a)
    size = [[jnp.abs(a[i][j]) for j in range(d)] for i in range(d)]
    known = None
    for k in range(d):
        rest = [i for i in range(d) if i != k]
        u2 = functools.reduce(jnp.add, [a[k][j] * a[k][j] for j in rest])
        edge = functools.reduce(jnp.maximum, [
            a[i][i] + sum(size[i][j] for j in rest if j != i) for i in rest])
        here = u2 <= TAU * (a[k][k] - edge)
        known = here if known is None else known | here
    top = functools.reduce(jnp.maximum, [a[i][i] for i in range(d)])
    return jnp.where(finite & known, top * unscale, jnp.nan)


def top_eigenvalue(h: Array) -> Array:
    """λ_max of symmetric h (d, d, *batch), d ≤ MAX_DIM: QUICK_SWEEPS sweeps, and all SWEEPS
    (from the start again) only if some matrix of the batch has not converged by then.

    Converged means λ_max is then known to within 2^-53 of the largest entry (see
    ``_top_after``), so more sweeps would change nothing that counts. A trajectory's
    Hessians mostly converge in the quick sweeps. Either path is a single fused kernel.
    """
    quick = _top_after(h, QUICK_SWEEPS)
    # Only the unsettled matrices take the full value: a row's result never depends on
    # which other rows share its batch (the two paths can differ in the last bit).
    return lax.cond(jnp.any(jnp.isnan(quick)),
                    lambda: jnp.where(jnp.isnan(quick),
                                      functools.reduce(jnp.maximum, eigenvalues(h)), quick),
                    lambda: quick)
