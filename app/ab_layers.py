"""The (a, b) view's data layers and words: a run's ABPath -> named columns and sentences.

Pure functions of arrays (no Panel, no Bokeh): ``views_ab.py`` pushes the columns into its
sources as they are, and the tests read them without a browser. Even and odd iterates are
separate layers: past 2/η they sit on opposite sides of b = 0 (a period-2 oscillation).
"""
from __future__ import annotations

import numpy as np

from . import ab_plane as ab

ZHU_FIG3 = dict(model="x2y2", optimizer="gd", eta=0.01, x0=12.5, y0=0.05)
SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
ZHU_EDGE_STEPS = 150_000   # measured: from (12.5, 0.05) at η = 0.01, |b| < 5·10⁻⁴ by then


def _rows(path: ab.ABPath, parity: int) -> dict:
    steps = np.arange(len(path.a))
    keep = (steps % 2 == parity) & np.isfinite(path.a) & np.isfinite(path.b)
    return {"a": path.a[keep], "b": path.b[keep], "step": steps[keep].astype(float)}


def last_index(path: ab.ABPath) -> int:
    """The last iterate with both coordinates (−1 if none)."""
    ok = np.flatnonzero(np.isfinite(path.a) & np.isfinite(path.b))
    return int(ok[-1]) if len(ok) else -1


def plane_layers(path: ab.ABPath) -> dict:
    """Iterates (even, odd), the last iterate, and the curves of the theory for this run."""
    k, i = path.kappa, last_index(path)
    layers = {"ab_even": _rows(path, 0), "ab_odd": _rows(path, 1),
              "ab_last": ({"a": [float(path.a[i])], "b": [float(path.b[i])]} if i >= 0
                          else {"a": [], "b": []})}
    finite = np.isfinite(path.a)
    a_hi = float(np.max(path.a[finite])) if finite.any() else 1.0
    if path.degree == 4:
        layers["ab_parabola"] = ab.parabola(k, max(a_hi, ab.bifurcation_range(k)[1]))
        layers["ab_ellipse"] = {"a": [], "b": []}
        layers["ab_edge"] = ab.edge_a(k)
    else:
        start = 0 if finite[0] else (int(np.argmax(finite)) if finite.any() else -1)
        layers["ab_parabola"] = {"a": [], "b": []}
        layers["ab_ellipse"] = (ab.ellipse(float(path.a[start]), float(path.b[start]), k)
                                if start >= 0 else {"a": [], "b": []})
        layers["ab_edge"] = 0.0
    return layers


def cursor_row(path: ab.ABPath, k: int) -> dict:
    """The cursor at iterate k (past the end: the last one; k < 0 or no a there: none)."""
    n = len(path.a)
    if k < 0 or n == 0:
        return {"a": [], "b": [], "step": []}
    i = min(int(k), n - 1)
    if not (np.isfinite(path.a[i]) and np.isfinite(path.b[i])):
        return {"a": [], "b": [], "step": []}
    return {"a": [float(path.a[i])], "b": [float(path.b[i])], "step": [float(i)]}


def window(columns: list[dict], extra_a=(), extra_b=(), pad: float = 0.06) -> tuple:
    """((a_lo, a_hi), (b_lo, b_hi)) holding every point of ``columns`` and the extras."""
    def span(values):
        v = np.concatenate([np.asarray(x, dtype=float).ravel() for x in values] or [[0.0]])
        v = v[np.isfinite(v)]
        lo, hi = (float(v.min()), float(v.max())) if len(v) else (-1.0, 1.0)
        if hi - lo <= 0:
            lo, hi = lo - max(abs(lo), 1e-3) * 0.5, hi + max(abs(hi), 1e-3) * 0.5
        return lo - pad * (hi - lo), hi + pad * (hi - lo)
    return (span([c["a"] for c in columns] + [list(extra_a)]),
            span([c["b"] for c in columns] + [list(extra_b)]))


def _g(v: float) -> str:
    """A number for the page: 4 digits, a true minus sign, ·10ⁿ for tiny values."""
    if abs(v) >= 1e-4 or v == 0:
        text = f"{v:.4g}"
    else:
        mantissa, exponent = f"{v:.2e}".split("e")
        text = f"{float(mantissa):g}·10" + str(int(exponent)).translate(SUPERSCRIPT)
    return text.replace("-", "−")


def formula_line(path: ab.ABPath) -> str:
    """What is plotted, with its numbers for this η (plain text with Unicode)."""
    k, r = path.kappa, ab.edge_radius(path.eta, path.degree)
    inner = "η⁻² − 4" if path.degree == 4 else "4η⁻² − 4"
    b_text = "b = −xy − 1" if path.mirrored else "b = xy − 1"
    root = "√(y² − x²)" if path.swapped else "√(x² − y²)"
    return (f"Plotted: a = {root} − ({inner})^¼ = {root} − {r:.4g},  {b_text},  "
            f"κ = √η = {k:.4g}, at every iterate.")


def summary(path: ab.ABPath, final_sharpness: float, threshold: float, steps: int,
            diverged_at=None) -> str:
    """One or two sentences, true for this run: where its last iterate is in (a, b)."""
    k, i = path.kappa, last_index(path)
    if i < 0:
        return "No iterate of this run has x² ≥ y², so none has an a to plot."
    a, b = float(path.a[i]), float(path.b[i])
    where = f"Last iterate (step {i}): a = {_g(a)}, b = {_g(b)}"
    s = (f"sharpness {final_sharpness:.4g} {'<' if final_sharpness < threshold else '≥'} "
         f"2/η = {threshold:.4g}")
    if diverged_at is not None:
        return f"The run diverged at step {diverged_at}. {where}."
    if path.degree == 2:
        side = ("a < 0: a minimum flatter than 2/η" if a < 0 else
                "a ≥ 0: not below the EoS minimum's x² − y²")
        start = int(np.argmax(np.isfinite(path.a)))
        crossing = -0.5 * k * np.sqrt(path.b[start]**2 + 4.0 * path.a[start]**2 / k**2)
        return (f"{where}; {side} ({s}). Degree 2 has no parabola: for small b the orbits are "
                f"the ellipses b² + 4a²/κ² = const; the one through θ₀ (dashed) meets b = 0 "
                f"again at a = {_g(crossing)}, this run ends at a = {_g(a)}.")
    edge = ab.edge_a(k)
    if abs(a - edge) <= k**4 and abs(b) <= k**2:
        verdict = (f"at the edge: within κ⁴ = {_g(k**4)} of the vertex a = −κ³/8 = {_g(edge)}, "
                   "where Zhu et al. show GD converges")
    elif a > edge:
        verdict = (f"not at the edge yet: a − (−κ³/8) = {_g(a - edge)}; a falls by about "
                   "4b²κ³ every two steps")
    else:
        verdict = f"left of the vertex a = −κ³/8 = {_g(edge)}: a minimum flatter than 2/η"
    return f"{where}; {verdict} ({s})."


def zhu_note(state_values: dict, steps: int, last_a: float) -> str:
    """For Zhu's Fig. 3 setting: how far its run gets within the explorer's step limit."""
    if any(state_values.get(n) != v for n, v in ZHU_FIG3.items()):
        return ""
    if last_a <= 0:
        return ""
    k = ab.kappa(ZHU_FIG3["eta"])
    doubling = ab.period_doubling_a(k)
    passed = (f"past the first period doubling at a = 1/(8κ) = {doubling:.3g}"
              if last_a < doubling else
              f"not yet down to the first period doubling at a = 1/(8κ) = {doubling:.3g}")
    return (f"Zhu's Fig. 3 run needs about {_thousands(ZHU_EDGE_STEPS)} steps to reach the "
            f"edge; these {_thousands(steps)} steps bring a from 2.5 down to {last_a:.3g}, "
            f"{passed}.")


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")   # a narrow space: 150 000
