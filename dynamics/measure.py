"""Per-iterate quantities: ``measure(model, params, *names) -> dict[str, np.ndarray]``.

Each quantity is one function of a :class:`Point` in ``QUANTITIES`` (add one with the
``@quantity`` decorator, below the others); a Point builds what quantities share (the
gradient, the Hessian, its eigendecomposition) once per compiled program. ``measure`` runs
them vmapped over the iterates, in float64:

  loss             L(θ)
  grad_norm        ‖∇L(θ)‖₂
  sharpness        λ_max(∇²L(θ))
  eigenvalues      all eigenvalues of ∇²L(θ), ascending (dim,)
  top_eigenvector  the unit eigenvector of λ_max, signed so that its largest-magnitude
                   entry (the first of equal ones) is positive (dim,)

One program per (loss, names, dim, bucket): the rows are padded to a power of two from
MIN_BUCKET to MAX_BUCKET rows and longer runs go through in MAX_BUCKET-row pieces, so a new
number of iterates never compiles beyond those few shapes.
"""
from __future__ import annotations

import functools
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from ._types import Array

MIN_BUCKET, MAX_BUCKET = 16, 4096


class Point:
    """One θ inside a traced program; each shared piece is built once, when first asked."""

    def __init__(self, loss_fn, theta: Array, consts: Array):
        self.loss_fn, self.theta, self.consts = loss_fn, theta, consts

    @functools.cached_property
    def loss(self) -> Array:
        return self.loss_fn(self.theta, self.consts)

    @functools.cached_property
    def grad(self) -> Array:
        return jax.grad(self.loss_fn)(self.theta, self.consts)

    @functools.cached_property
    def hessian(self) -> Array:
        return jax.hessian(self.loss_fn)(self.theta, self.consts)

    @functools.cached_property
    def eigh(self) -> tuple[Array, Array]:
        """(eigenvalues ascending (dim,), unit eigenvectors as columns (dim, dim))."""
        return jnp.linalg.eigh(self.hessian)


QUANTITIES: dict[str, Callable[[Point], Array]] = {}


def quantity(fn: Callable[[Point], Array]) -> Callable[[Point], Array]:
    """Register ``fn(point) -> array`` under its own name."""
    QUANTITIES[fn.__name__] = fn
    return fn


@quantity
def loss(point: Point) -> Array:
    """L(θ)."""
    return point.loss


@quantity
def grad_norm(point: Point) -> Array:
    """‖∇L(θ)‖₂."""
    return jnp.sqrt(point.grad @ point.grad)


@quantity
def sharpness(point: Point) -> Array:
    """λ_max(∇²L(θ))."""
    return point.eigh[0][-1]


@quantity
def eigenvalues(point: Point) -> Array:
    """Every eigenvalue of ∇²L(θ), ascending."""
    return point.eigh[0]


@quantity
def top_eigenvector(point: Point) -> Array:
    """Unit eigenvector of λ_max; its largest-magnitude entry is positive."""
    v = point.eigh[1][:, -1]
    return v * jnp.where(v[jnp.argmax(jnp.abs(v))] < 0, -1.0, 1.0)


@functools.lru_cache(maxsize=None)
def _program(loss_fn, names: tuple[str, ...]):
    """Compiled: rows (m, dim), consts -> one (m, …) array per name."""
    def at(theta, consts):
        point = Point(loss_fn, theta, consts)
        return tuple(QUANTITIES[name](point) for name in names)

    return jax.jit(jax.vmap(at, in_axes=(0, None)))


def bucket(m: int) -> int:
    """The padded number of rows for m ≤ MAX_BUCKET rows: a power of two ≥ MIN_BUCKET."""
    return max(MIN_BUCKET, 1 << (m - 1).bit_length())


def _check_names(names) -> tuple[str, ...]:
    known = ", ".join(repr(n) for n in QUANTITIES)
    if not names:
        raise ValueError(f"Name at least one quantity to measure: {known}.")
    for name in names:
        if not isinstance(name, str) or name not in QUANTITIES:
            raise ValueError(f"There is no quantity called {name!r}; "
                             f"the quantities are {known}.")
    return tuple(dict.fromkeys(names))   # each once, in the order asked


def _check_rows(model, params) -> np.ndarray:
    try:
        rows = np.asarray(params, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"The params must be numbers, one row of {model.dim} per iterate; "
                         f"got {params!r}.")
    if rows.ndim not in (1, 2) or rows.shape[-1] != model.dim:
        raise ValueError(f"The model {model.name!r} has {model.dim} parameter(s), so params "
                         f"must have shape ({model.dim},) or (n, {model.dim}); "
                         f"got shape {rows.shape}.")
    if not np.all(np.isfinite(rows)):
        raise ValueError("The params must be finite numbers; some are inf or NaN.")
    return rows


def measure(model, params, *names: str) -> dict[str, np.ndarray]:
    """The named quantities at every iterate of ``params``.

    Args:
      model: a name from ``MODELS`` or a :class:`Model`.
      params: iterates (n, dim), e.g. ``traj.params``, or one point (dim,).
      names: quantities from ``QUANTITIES``: "loss", "grad_norm", "sharpness",
        "eigenvalues", "top_eigenvector".

    Returns:
      ``{name: float64 array}``: (n,) or (n, dim) per name; without the leading n for a
      single point.

    Raises:
      ValueError: for an unknown name or params of the wrong shape, in a sentence.
    """
    from .checks import resolve_model

    model = resolve_model(model)
    names = _check_names(names)
    rows = _check_rows(model, params)
    single = rows.ndim == 1
    rows = rows.reshape(-1, model.dim)
    run = _program(model.loss_fn, names)
    consts = model.consts_array
    parts = []
    for start in range(0, max(len(rows), 1), MAX_BUCKET):   # once even for no rows: shapes
        piece = rows[start:start + MAX_BUCKET]
        padded = np.zeros((bucket(len(piece)), model.dim))
        padded[:len(piece)] = piece
        parts.append([np.asarray(a)[:len(piece)] for a in run(padded, consts)])
    out = {name: np.concatenate([p[i] for p in parts]) for i, name in enumerate(names)}
    return {name: a[0] for name, a in out.items()} if single else out
