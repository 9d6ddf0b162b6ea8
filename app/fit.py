"""What a plot shows: the landscape window that fits a run, and curve ranges robust to a spike.

Pure functions of arrays (no Bokeh, no state), so the choices are testable on their own.

* :func:`fit_window` — per axis, the central ``COVERAGE`` quantile interval of the iterates,
  widened to hold the start and the end (the minimum the run approaches), then to every
  iterate on a side where that does not make the span more than ``REACH``× wider, then to
  a minimum span, then by a margin. One far transient (a few iterates) moves a quantile by
  at most a few rows, so it cannot blow the window up to its own size.
* :func:`robust_range` — the y-range of a curve: the span of its quantiles and of its tail
  (what the run settles into) — clipped, with a note naming the largest value cut off, when
  the whole range would squeeze that part into less than ``1 / SQUEEZE`` of the axis (on a
  linear axis the part's scale is at least its distance from 0).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

COVERAGE = 0.98   # central quantile interval per axis: ≥ 96 % of the iterates in both axes
MARGIN = 0.12     # of the fitted span, on each side
MIN_SPAN = 0.15   # of the model's window span: a run that barely moves still shows a valley
SQUEEZE = 2.0     # clip when the full range is more than this times the robust span
REACH = 3.0       # a window reaches out to iterates that widen it at most this much
TAIL = 0.5        # the last half of a run is what it settles into: always in range
ASPECT = 0.4      # no axis of a fitted window spans less than this × the other (relative
                  # to the model window's own aspect), so a path is not squashed flat


def _interval(values, keep, min_span: float) -> tuple[float, float]:
    """[lo, hi] of ``values``' central ``COVERAGE`` quantiles, holding ``keep``, ≥ ``min_span``."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    q = (1 - COVERAGE) / 2
    lo, hi = np.quantile(v, [q, 1 - q])
    keep = [float(k) for k in keep if np.isfinite(k)]
    lo, hi = min([lo, *keep]), max([hi, *keep])
    # the iterates beyond the quantiles too, on each side where they do not squeeze the rest
    span = max(hi - lo, min_span)
    lo, hi = (min(lo, float(v.min())) if hi - v.min() <= REACH * span else lo,
              max(hi, float(v.max())) if v.max() - lo <= REACH * span else hi)
    if hi - lo < min_span:
        mid = (lo + hi) / 2
        lo, hi = mid - min_span / 2, mid + min_span / 2
    pad = MARGIN * (hi - lo)
    return float(lo - pad), float(hi + pad)


def fit_window(xs, ys, model_window) -> tuple[tuple[float, float], ...]:
    """The plane window ((x_lo, x_hi), (y_lo, y_hi)) that fits iterates ``xs``, ``ys``.

    ``ys`` is None for a 1-D model (the y-axis is then the loss, fitted by the caller).
    Holds the first and the last finite iterate; falls back to ``model_window`` when no
    iterate is finite.
    """
    axes = [np.asarray(xs, dtype=float)] + ([] if ys is None else [np.asarray(ys, dtype=float)])
    finite = np.all([np.isfinite(a) for a in axes], axis=0)
    if not finite.any():
        return tuple(tuple(map(float, w)) for w in model_window)
    rows = np.flatnonzero(finite)
    first, last = rows[0], rows[-1]
    window = [_interval(a[finite], (a[first], a[last]), MIN_SPAN * (w[1] - w[0]))
              for a, w in zip(axes, model_window)]
    if len(window) == 2:
        scale = [w[1] - w[0] for w in model_window]   # spans measured in the model's units
        rel = [(hi - lo) / s for (lo, hi), s in zip(window, scale)]
        for i in (0, 1):
            need = ASPECT * rel[1 - i]
            if rel[i] < need:
                mid, half = sum(window[i]) / 2, need * scale[i] / 2
                window[i] = (mid - half, mid + half)
    return tuple(window)


def keeps_window(current, fitted, shrink: float = 0.5) -> bool:
    """True if ``current`` still serves: it holds ``fitted`` and no axis is ``shrink``× too wide.

    A window that is kept does not jump while a slider moves the run a little.
    """
    if current is None:
        return False
    for (c_lo, c_hi), (f_lo, f_hi) in zip(current, fitted):
        if f_lo < c_lo or f_hi > c_hi or (f_hi - f_lo) < shrink * (c_hi - c_lo):
            return False
    return True


class Range(NamedTuple):
    """A y-range and, when it cuts the curve, the sentence that says so ('' when not)."""

    lo: float
    hi: float
    note: str = ""


def robust_range(values, extra=(), log: bool = False, pad: float = 0.06) -> Range:
    """The y-range for ``values`` (one per step) and ``extra`` lines that must stay in view.

    The robust span is the central ``COVERAGE`` quantile interval ∪ the last ``TAIL`` of the
    run ∪ ``extra``. If the full range is wider than ``SQUEEZE`` × that span, the axis shows
    the robust span and the note names the largest value beyond it (and its step), e.g.
    "clipped: max 92.5 at step 3". With ``log`` the spans are measured in decades.
    """
    v = np.asarray(values, dtype=float)
    e = np.asarray(extra, dtype=float).ravel()
    if log:
        with np.errstate(divide="ignore", invalid="ignore"):
            v, e = np.log10(np.where(v > 0, v, np.nan)), np.log10(np.where(e > 0, e, np.nan))
    steps = np.flatnonzero(np.isfinite(v))
    e = e[np.isfinite(e)]
    if len(steps) == 0 and len(e) == 0:
        return Range(1e-3, 1.0) if log else Range(0.0, 1.0)
    finite = v[steps]
    q = (1 - COVERAGE) / 2
    core = list(e)
    if len(finite):
        tail = finite[int(len(finite) * (1 - TAIL)):]
        core += [*np.quantile(finite, [q, 1 - q]), tail.min(), tail.max()]
    lo, hi = min(core), max(core)
    if not len(finite):
        full_lo, full_hi = lo, hi
    else:
        full_lo, full_hi = finite.min(), finite.max()
    # the scale of the robust part: its span, and on a linear axis its distance from 0 too
    # (a sharpness rising from 1 to a cycle at 9–11 is no transient)
    span = max(hi - lo, 1e-300) if log else max(hi - lo, abs(lo), abs(hi), 1e-300)
    # each side reaches the curve's extreme unless that squeezes the robust part
    lo_all = hi - full_lo <= SQUEEZE * span
    hi_all = full_hi - lo <= SQUEEZE * span
    if lo_all and hi_all and full_hi - full_lo > SQUEEZE * span:
        lo_all = hi_all = False
    cut = []
    if hi_all or full_hi <= hi:
        hi = max(hi, full_hi)
    else:
        cut.append(f"max {_show(full_hi, log)} at step {steps[int(np.argmax(finite))]}")
    if lo_all or full_lo >= lo:
        lo = min(lo, full_lo)
    else:
        cut.append(f"min {_show(full_lo, log)} at step {steps[int(np.argmin(finite))]}")
    note = "clipped: " + ", ".join(cut) if cut else ""
    if hi - lo <= 0:   # a flat curve: a small band around it
        half = 0.5 if log else max(0.05 * abs(lo), 0.5 if lo == 0 else 0.0)
        lo, hi = lo - half, hi + half
    margin = pad * (hi - lo)
    lo, hi = lo - margin, hi + margin * (3 if note else 1)   # room for the note at the top
    if note and not log:   # a value inside the padding is in view after all
        shown = (finite >= lo) & (finite <= hi)
        if shown.all():
            note = ""
    return Range(10.0**lo, 10.0**hi, note) if log else Range(lo, hi, note)


def _show(value: float, log: bool) -> str:
    return f"{10.0**value:.3g}" if log else f"{value:.4g}"


def union(a: tuple, b: tuple) -> tuple:
    """The smallest window holding windows ``a`` and ``b`` (axis by axis)."""
    return tuple((min(lo1, lo2), max(hi1, hi2)) for (lo1, hi1), (lo2, hi2) in zip(a, b))
