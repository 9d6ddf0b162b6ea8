"""Independent references for the engine tests: hand-derived gradients and Hessians, loops.

Nothing here imports ``dynamics``: every expected value in the engine tests comes from these
formulas (derived by hand, written out below), a finite-difference Hessian, or a plain loop.

Hand derivations (r denotes the residual of the product):
  xy    L = ½(1 − xy)²,  r = xy − 1:   ∇ = (r y, r x),  H = [[y², 2xy − 1], [2xy − 1, x²]]
  x2y2  L = ¼(1 − x²y²)², r = x²y² − 1: ∇ = (r x y², r x² y),
        H = [[2x²y⁴ + r y², 2x³y³ + 2r xy], [·, 2x⁴y² + r x²]]
  xyzw  L = ½(1 − p)², p = xyzw, r = p − 1, qᵢ = ∏_{j≠i} θⱼ, qᵢⱼ = ∏_{k≠i,j} θₖ:
        ∇ᵢ = r qᵢ,  Hᵢᵢ = qᵢ²,  Hᵢⱼ = qᵢ qⱼ + r qᵢⱼ
  arora L = (1 + x²)y²: ∇ = (2xy², 2(1 + x²)y), H = [[2y², 4xy], [4xy, 2(1 + x²)]]
  picky f₁ = min{x², 0.1(x − 1)²}, f₂ = min{x², 1.9(x − 1)²}, L = ½(f₁ + f₂); away from the
        kinks each fᵢ is one parabola, so fᵢ' and fᵢ'' are those of the active branch.
  sharpening  L = ½(c + y²)x² + ½κ(y − y*)², (c, κ, y*) = SHARPENING:
        ∇ = ((c + y²)x, x²y + κ(y − y*)),  H = [[c + y², 2xy], [2xy, x² + κ]]
"""
from __future__ import annotations

import numpy as np

THRESHOLD = 1e6  # the contract's divergence bound on max|θ|
SHARPENING = (9.5, 0.1, 2.5)   # (c, κ, y*) of the registry's self-stabilization toy


# --- losses ---------------------------------------------------------------------------------

def picky_components(x):
    f1 = min(x * x, 0.1 * (x - 1.0) ** 2)
    f2 = min(x * x, 1.9 * (x - 1.0) ** 2)
    return np.array([f1, f2])


def loss(name, t, lams=None):
    t = np.asarray(t, dtype=np.float64)
    if name == "quadratic":
        return 0.5 * float(np.sum(np.asarray(lams) * t**2))
    if name == "xy":
        return 0.5 * (1.0 - t[0] * t[1]) ** 2
    if name == "x2y2":
        return 0.25 * (1.0 - (t[0] * t[1]) ** 2) ** 2
    if name == "xyzw":
        return 0.5 * (1.0 - t[0] * t[1] * t[2] * t[3]) ** 2
    if name == "arora":
        return (1.0 + t[0] ** 2) * t[1] ** 2
    if name == "picky":
        return float(np.mean(picky_components(t[0])))
    if name == "sharpening":
        c, kappa, y_star = SHARPENING
        return 0.5 * (c + t[1] ** 2) * t[0] ** 2 + 0.5 * kappa * (t[1] - y_star) ** 2
    raise KeyError(name)


# --- gradients ------------------------------------------------------------------------------

def _picky_component_grads(x):
    g1 = 2.0 * x if x * x < 0.1 * (x - 1.0) ** 2 else 0.2 * (x - 1.0)
    g2 = 2.0 * x if x * x < 1.9 * (x - 1.0) ** 2 else 3.8 * (x - 1.0)
    return np.array([g1, g2])


def picky_component_grad(x, i):
    return _picky_component_grads(x)[i]


def _others(t, skip):
    return float(np.prod([t[k] for k in range(len(t)) if k not in skip]))


def grad(name, t, lams=None):
    t = np.asarray(t, dtype=np.float64)
    if name == "quadratic":
        return np.asarray(lams, dtype=np.float64) * t
    x, y = t[0], (t[1] if len(t) > 1 else 0.0)
    if name == "xy":
        r = x * y - 1.0
        return np.array([r * y, r * x])
    if name == "x2y2":
        r = x * x * y * y - 1.0
        return np.array([r * x * y * y, r * x * x * y])
    if name == "xyzw":
        r = float(np.prod(t)) - 1.0
        return np.array([r * _others(t, {i}) for i in range(4)])
    if name == "arora":
        return np.array([2.0 * x * y * y, 2.0 * (1.0 + x * x) * y])
    if name == "picky":
        return np.array([0.5 * np.sum(_picky_component_grads(t[0]))])
    if name == "sharpening":
        c, kappa, y_star = SHARPENING
        return np.array([(c + y * y) * x, x * x * y + kappa * (y - y_star)])
    raise KeyError(name)


# --- Hessians -------------------------------------------------------------------------------

def hessian(name, t, lams=None):
    t = np.asarray(t, dtype=np.float64)
    if name == "quadratic":
        return np.diag(np.asarray(lams, dtype=np.float64))
    if name == "picky":
        x = t[0]
        c1 = 2.0 if x * x < 0.1 * (x - 1.0) ** 2 else 0.2
        c2 = 2.0 if x * x < 1.9 * (x - 1.0) ** 2 else 3.8
        return np.array([[0.5 * (c1 + c2)]])
    x, y = t[0], t[1]
    if name == "xy":
        return np.array([[y * y, 2 * x * y - 1.0], [2 * x * y - 1.0, x * x]])
    if name == "x2y2":
        r = x * x * y * y - 1.0
        off = 2 * x**3 * y**3 + 2 * r * x * y
        return np.array([[2 * x**2 * y**4 + r * y * y, off], [off, 2 * x**4 * y**2 + r * x * x]])
    if name == "xyzw":
        r = float(np.prod(t)) - 1.0
        q = np.array([_others(t, {i}) for i in range(4)])
        h = np.outer(q, q)
        for i in range(4):
            for j in range(4):
                if i != j:
                    h[i, j] += r * _others(t, {i, j})
        return h
    if name == "arora":
        return np.array([[2 * y * y, 4 * x * y], [4 * x * y, 2 * (1.0 + x * x)]])
    if name == "sharpening":
        c, kappa, _ = SHARPENING
        return np.array([[c + y * y, 2 * x * y], [2 * x * y, x * x + kappa]])
    raise KeyError(name)


def sharpness(name, t, lams=None):
    return float(np.linalg.eigvalsh(hessian(name, t, lams)).max())


def fd_hessian(f, t, h=1e-4):
    """Central-difference Hessian of a scalar function (O(h²) accurate)."""
    t = np.asarray(t, dtype=np.float64)
    d = len(t)
    out = np.empty((d, d))
    for i in range(d):
        for j in range(d):
            ei = np.zeros(d)
            ej = np.zeros(d)
            ei[i] = h
            ej[j] = h
            out[i, j] = (f(t + ei + ej) - f(t + ei - ej) - f(t - ei + ej) + f(t - ei - ej)) / (4 * h * h)
    return 0.5 * (out + out.T)


def zhu_lambda1(x, y):
    """Zhu et al.'s top eigenvalue of the symmetric block at (x, y, x, y)."""
    g, s = x * y, x * x + y * y
    return 0.5 * (s * (3 * g * g - 1)
                  + np.sqrt(s * s * (1 - 3 * g * g) ** 2 + 4 * g * g * (3 - 10 * g * g + 7 * g**4)))


def xyzw_symmetric_sharpness(x, y):
    """λ_max of xyzw at (x, y, x, y), derived by hand.

    The Hessian splits into the symmetric subspace (a, b, a, b), whose top eigenvalue is Zhu's
    λ₁, and the antisymmetric subspace (a, b, −a, −b), where q·v = 0 and H v = r Q v gives the
    eigenvalues −r y² and −r x², i.e. (1 − γ²)y² and (1 − γ²)x² with γ = xy.
    """
    g = x * y
    return max(zhu_lambda1(x, y), (1 - g * g) * x * x, (1 - g * g) * y * y)


# --- loops ----------------------------------------------------------------------------------

def eq2_loop(x, y, eta, steps):
    """Zhu et al. eq. (2), written as in the paper."""
    out = [(x, y)]
    for _ in range(steps):
        x, y = x - eta * x * y * y * (x * x * y * y - 1), y - eta * x * x * y * (x * x * y * y - 1)
        out.append((x, y))
    return np.array(out)


def gd_loop(name, t0, eta, steps, lams=None, update="gd"):
    """Plain loop of one update rule with the hand gradient; stops like the contract."""
    t = np.asarray(t0, dtype=np.float64)
    out = [t]
    for _ in range(steps):
        g = grad(name, t, lams)
        if update == "gd":
            t = t - eta * g
        elif update == "normalized_gd":
            t = t - eta * g / np.linalg.norm(g)
        elif update == "sqrt_gd":
            t = t - eta * g / (2.0 * np.sqrt(loss(name, t, lams)))
        else:
            raise KeyError(update)
        if not np.all(np.isfinite(t)) or np.max(np.abs(t)) > THRESHOLD:
            break
        out.append(t)
    return np.array(out)


def stateful_loop(name, t0, etas, rule, hyper, lams=None):
    """Momentum, RMSProp or Adam written out with the hand gradient, one η per step.

    Returns (iterates (n, d), P (n − 1, d)): the diagonal preconditioner each step applies
    (ones for momentum). Stops like the contract.
      momentum  v = βv + g, θ −= ηv
      rmsprop   v = β₂v + (1 − β₂)g², θ −= ηg/(√v + ε), P = √v + ε
      adam      m = β₁m + (1 − β₁)g, v = β₂v + (1 − β₂)g², m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ),
                θ −= ηm̂/(√v̂ + ε), P = (1 − β₁ᵗ)(√v̂ + ε)
    """
    t = np.asarray(t0, dtype=np.float64)
    m = np.zeros_like(t)
    v = np.zeros_like(t)
    out, pre = [t], []
    for step, eta in enumerate(etas, start=1):
        g = grad(name, t, lams)
        if rule == "momentum":
            (beta,) = hyper
            v = beta * v + g
            t = t - eta * v
            p = np.ones_like(t)
        elif rule == "rmsprop":
            beta2, eps = hyper
            v = beta2 * v + (1 - beta2) * g * g
            p = np.sqrt(v) + eps
            t = t - eta * g / p
        elif rule == "adam":
            beta1, beta2, eps = hyper
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            m_hat, v_hat = m / (1 - beta1**step), v / (1 - beta2**step)
            t = t - eta * m_hat / (np.sqrt(v_hat) + eps)
            p = (1 - beta1**step) * (np.sqrt(v_hat) + eps)
        else:
            raise KeyError(rule)
        if not np.all(np.isfinite(t)) or np.max(np.abs(t)) > THRESHOLD:
            break
        out.append(t)
        pre.append(p)
    return np.array(out), np.array(pre).reshape(-1, len(t))
