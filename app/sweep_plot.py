"""The η sweep's data layers: a ``dynamics.Bifurcation`` → columns for the diagram, and its words.

Each run from the same start at one η ends one of four ways (``Bifurcation.period``):
converged (one point: its final value), a p-cycle (its p points), no period ≤ K/2 (the
cloud of its last K iterates: chaos, or a run still settling), or diverged (a grey band).
The quantity drawn is the sharpness held to the rule's threshold (S = λ_max(H) for GD and
momentum against 2/η, (2 + 2β)/η; λ_max(P⁻¹H) for RMSProp and Adam), the model's
observable (xy for the degree-4 examples, whose minima are xy = ±1) or the loss.
Pure functions of arrays: no Bokeh, no Panel.
"""
from __future__ import annotations

import numpy as np

from . import rules

QUANTITIES = ("sharpness", "observable", "loss")
COARSE = 60          # step sizes of the first, coarse picture
DEFAULT_COUNT, DEFAULT_KEEP, DEFAULT_STEPS = 300, 64, 20000
NEAR_EDGE = 0.02     # a converged S within 2 % below its threshold: at the edge of stability


def observable(model) -> tuple[str, callable]:
    """(label, θ (..., dim) -> values): xy on the xy-type models, y for Arora's toy (its
    2-cycle is ±y), else the first parameter (θ₁ of a quadratic, x of picky)."""
    if model.name in ("xy", "x2y2", "xyzw"):
        return "xy", lambda p: p[..., 0] * p[..., 1]
    if model.name == "arora":
        return "y", lambda p: p[..., 1]
    return model.param_names[0], lambda p: p[..., 0]


def sweep_defaults(model) -> dict:
    """The sweep's range and sizes for ``model``: its whole η range, a few thousand steps."""
    lo, hi = (float(f"{v:.6g}") for v in model.eta_range)
    return dict(sweep_eta_from=lo, sweep_eta_to=hi, sweep_count=DEFAULT_COUNT,
                sweep_keep=DEFAULT_KEEP, sweep_steps=DEFAULT_STEPS)


def sweep_etas(eta_from: float, eta_to: float, count: int) -> np.ndarray:
    return np.linspace(float(eta_from), float(eta_to), int(count))


def stage_counts(count: int) -> list[int]:
    """The step-size counts of the pictures: a coarse one first when the full one is big."""
    return [COARSE, count] if count > 2 * COARSE else [count]


def quantity_label(model, optimizer, quantity: str) -> str:
    if quantity == "sharpness":
        return "λ_max(P⁻¹H)" if rules.preconditioned(optimizer) else "sharpness S"
    if quantity == "observable":
        return observable(model)[0]
    return "loss L"


def tail_values(bif, quantity: str) -> np.ndarray:
    """(E, K) the quantity along every run's tail."""
    if quantity == "sharpness":
        return bif.tail_effective_sharpness   # = S for the rules held through S
    if quantity == "observable":
        return observable(bif.model)[1](bif.tail_params)
    return bif.tail_loss


def diagram_data(bif, quantity: str) -> dict:
    """Layers: ``sweep_converged``, ``sweep_cycle``, ``sweep_cloud`` (eta, value[, period]),
    ``sweep_diverged`` (left, right, bottom, top), ``sweep_threshold`` (eta, value), and
    ``y_range`` (lo, hi) holding every plotted point."""
    values = tail_values(bif, quantity)
    etas, period, keep = bif.etas, bif.period, values.shape[1]
    alive = ~bif.diverged
    conv = alive & (period == 1)
    cyc = alive & (period >= 2)
    cloud = alive & (period == 0)
    cyc_eta = [np.full(p, e) for e, p in zip(etas[cyc], period[cyc])]
    cyc_val = [v[keep - p:] for v, p in zip(values[cyc], period[cyc])]
    cyc_per = [np.full(p, p) for p in period[cyc]]
    join = lambda parts: np.concatenate(parts) if parts else np.zeros(0)
    layers = {
        "sweep_converged": {"eta": etas[conv], "value": values[conv, -1]},
        "sweep_cycle": {"eta": join(cyc_eta), "value": join(cyc_val),
                        "period": join(cyc_per).astype(np.int64)},
        "sweep_cloud": {"eta": np.repeat(etas[cloud], keep), "value": values[cloud].ravel()},
    }
    shown = np.concatenate([layers[k]["value"] for k in
                            ("sweep_converged", "sweep_cycle", "sweep_cloud")])
    shown = shown[np.isfinite(shown)]
    lo, hi = (float(np.min(shown)), float(np.max(shown))) if shown.size else (0.0, 1.0)
    if quantity == "sharpness" and shown.size:
        lo = min(lo, 0.0) if lo >= 0 else lo
    pad = 0.06 * (hi - lo) if hi > lo else max(abs(hi), 1.0) * 0.1
    lo, hi = lo - pad, hi + pad
    left, right = _bands(etas, bif.diverged)
    layers["sweep_diverged"] = {"left": left, "right": right,
                                "bottom": np.full(len(left), lo), "top": np.full(len(left), hi)}
    # the threshold is c/η (c = 2 for GD): drawn exactly on a fine grid
    fine = np.linspace(etas.min(), etas.max(), 400) if quantity == "sharpness" else np.zeros(0)
    curve = bif.threshold[0] * etas[0] / fine
    layers["sweep_threshold"] = {"eta": fine, "value": np.where(curve <= 4 * hi, curve, np.nan)}
    layers["y_range"] = (lo, hi)
    return layers


def _bands(etas: np.ndarray, diverged: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[left, right] of each run of neighbouring diverged step sizes, to mid-way between."""
    order = np.argsort(etas)
    e, d = etas[order], diverged[order]
    if not d.any():
        return np.zeros(0), np.zeros(0)
    mids = np.concatenate([[e[0]], 0.5 * (e[1:] + e[:-1]), [e[-1]]])
    edges = np.diff(np.concatenate([[0], d.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return mids[starts], mids[stops]


def _runs(n: int, verb: str = "show") -> str:
    return f"1 run {verb}s" if n == 1 else f"{n} runs {verb}"


def _eta(v: float) -> str:
    return f"{v:.4g}"


def caption(bif, optimizer) -> str:
    """What to look for, in words true for this sweep (every η named is read off it)."""
    etas, period, div = bif.etas, bif.period, bif.diverged
    rule = rules._rule(optimizer)
    name = "GD" if rule.name == "gd" else rule.title
    held = "λ_max(P⁻¹H)" if rules.preconditioned(optimizer) else "S"
    formula = rules.threshold_formula(optimizer)
    final = bif.tail_effective_sharpness[:, -1]
    words = []
    conv = period == 1
    not_conv = np.flatnonzero(~conv)
    if conv.any():
        prefix = conv[:not_conv[0]] if not_conv.size else conv
        below = bool(np.all(final[conv] < bif.threshold[conv]))
        where = (f"For η < {_eta(etas[not_conv[0]])}" if not_conv.size and prefix.size
                 else "At every η shown" if not not_conv.size else
                 f"At {conv.sum()} of the {len(etas)} step sizes")
        words.append(f"{where}, {name} converges" + (f" to a minimum with {held} < {formula}"
                                                    if below else ""))
        edge = conv & (final < bif.threshold) & (final > (1 - NEAR_EDGE) * bif.threshold)
        # at the edge, S follows the threshold as η moves (not a fixed minimum's S near it)
        if edge.sum() >= 3 and final[edge].max() > 1.05 * final[edge].min():
            e = etas[edge]
            words.append(f"from η ≈ {_eta(e.min())} to {_eta(e.max())} its final {held} sits "
                         f"just below {formula}: the edge of stability")
    first2 = bif.first_eta_with_period(2)
    if first2 is not None:
        lost = conv[etas < first2].any()
        words.append(f"from η ≈ {_eta(first2)} " + ("the fixed point has lost stability and "
                     "the run ends on a 2-cycle: period doubling" if lost else
                     "the run ends on a 2-cycle"))
        last, seen = first2, []
        for p in (4, 8, 16):
            at = etas[(period == p) & (etas > last)]
            if not at.size:
                break
            last = float(at.min())
            seen.append(f"{p} from η ≈ {_eta(last)}")
        if seen:
            words.append("period " + ", ".join(seen))
        cloud = etas[(period == 0) & ~div & (etas > last)]
        if cloud.size:
            windows = ((period > 0) & (etas > cloud.min())).any()
            words.append(f"from η ≈ {_eta(cloud.min())} no period ≤ "
                         f"{bif.tail_params.shape[1] // 2} shows (chaos)"
                         + (", with windows of short periods" if windows else ""))
    elif (period >= 2).any():
        found = ", ".join(str(p) for p in np.unique(period[period >= 2])[:4])
        words.append(f"from η ≈ {_eta(etas[period >= 2].min())} some runs end on cycles "
                     f"(period {found})")
    else:
        words.append("no run ends on a cycle")
    if first2 is None and (~div & (period == 0)).any():
        n = int((~div & (period == 0)).sum())
        words.append(f"{_runs(n)} no period ≤ {bif.tail_params.shape[1] // 2} in "
                     f"{'its' if n == 1 else 'their'} last iterates (still moving, or chaotic)")
    if div.any():
        first = etas[div].min()
        words.append(f"from η ≈ {_eta(first)} runs diverge (grey)" if np.all(div[etas >= first])
                     else f"{_runs(int(div.sum()), 'diverge')} (grey)")
    text = "; ".join(words) + "." if words else ""
    if bif.model.name == "quadratic" and rule.name == "gd":
        top = max(bif.model.consts)
        text += (f" On a quadratic GD is θᵢ ← (1 − ηλᵢ)θᵢ: it converges iff η < 2/λ₁ = "
                 f"{_eta(2 / top)} and never cycles." if top > 0 else "")
    if rules.preconditioned(optimizer):
        text += (f" {rule.title} is held through its preconditioned sharpness λ_max(P⁻¹H), "
                 f"not S, to {formula} (Cohen et al. 2022).")
    if first2 is None and bif.model.name in ("x2y2", "xyzw") and rule.name == "gd":
        # the cascade lies past η = ½, where no minimum is stable (S ≥ 4 on x²y² = 1)
        text += (" For the period-doubling cascade, start near the flattest minimum (1, 1), "
                 "e.g. x₀ = 1.2, y₀ = 0.9, and sweep η from 0.3 to 0.85"
                 + (" (on x2y2, the same map: xyzw's η stops at 0.5)."
                    if bif.model.name == "xyzw" else "."))
    return text[0].upper() + text[1:] if text else text
