"""The engine's basin map against a second implementation: plain JavaScript in Chromium.

``tests/benchmarks/basin_map.js`` steps GD on x2y2 = ¼(1 − x²y²)² cell by cell with the
hand-derived gradient and the closed-form top eigenvalue of the 2 × 2 Hessian; it shares no
code with the engine. With the engine's two fused multiply-adds emulated exactly (checked
here against exact rational arithmetic) and the engine's stopping rule, its map is the
engine's bit for bit; with its own rule (stop at the first step that moves by ≤ tol) and
plain rounding, the same cells diverge and the final sharpness agrees to 1e-6.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import dynamics
from dynamics._engine.cells import CHECK_EVERY

pytestmark = pytest.mark.ui

JS = Path(__file__).resolve().parents[1] / "benchmarks" / "basin_map.js"
ETA, TOL = 0.2, 1e-13
# Zhu et al. Fig. 2b's fractal boundary at η = 0.2: chaotic early phases, diverging cells
# interleaved with cells that settle just below 2/η.
XS, YS = np.linspace(3.0, 3.4, 40), np.linspace(0.1, 0.5, 40)
STEPS = 4000   # a multiple of CHECK_EVERY: the engine checks every group to the end


@pytest.fixture(scope="module")
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.add_script_tag(content=JS.read_text())
    yield page
    context.close()


def js_map(page, fused, check_every):
    out = page.evaluate("args => timedBasinMap(args)",
                        {"xs": XS.tolist(), "ys": YS.tolist(), "eta": ETA, "steps": STEPS,
                         "tol": TOL, "fused": fused, "checkEvery": check_every})
    shape = (len(YS), len(XS))
    return {k: np.asarray(v, dtype=float).reshape(shape) for k, v in out.items() if k != "ms"}


@pytest.fixture(scope="module")
def engine():
    return dynamics.sweep_init("x2y2", ETA, XS, YS, STEPS, tol=TOL)


def test_the_emulated_fused_multiply_add_rounds_once(page):
    # a·b + c rounded once, against exact rationals: random magnitudes, and c ≈ −a·b where
    # the cancellation leaves only the product's rounding error
    rng = np.random.default_rng(11)
    n = 2000
    a = rng.standard_normal(n) * np.exp(rng.uniform(-30, 30, n))
    b = rng.standard_normal(n) * np.exp(rng.uniform(-30, 30, n))
    c = rng.standard_normal(n) * np.exp(rng.uniform(-30, 30, n))
    c[: n // 2] = -(a[: n // 2] * b[: n // 2]) * (1 + 1e-12 * rng.standard_normal(n // 2))
    exact = [float(Fraction(x) * Fraction(y) + Fraction(z)) for x, y, z in zip(a, b, c)]
    got = page.evaluate("([a, b, c]) => a.map((x, i) => fma(x, b[i], c[i]))",
                        [a.tolist(), b.tolist(), c.tolist()])
    np.testing.assert_array_equal(np.asarray(got, dtype=float), exact)


def test_with_the_engines_rounding_and_rule_the_maps_are_equal(page, engine):
    js = js_map(page, fused=True, check_every=CHECK_EVERY)
    assert 0.2 < engine.diverged.mean() < 0.8            # both kinds of cells are in the map
    np.testing.assert_array_equal(engine.diverged, js["diverged"].astype(bool))
    np.testing.assert_array_equal(engine.steps_run, js["steps"])
    np.testing.assert_array_equal(engine.final_params[..., 0], js["x"])
    np.testing.assert_array_equal(engine.final_params[..., 1], js["y"])
    np.testing.assert_allclose(engine.final_sharpness, js["sharpness"], rtol=1e-9)


def test_with_its_own_rule_the_js_map_agrees(page, engine):
    # The JavaScript stops a cell at the first step that moves it by at most TOL; the engine
    # checks the last step of each group of 16 (CHECK_EVERY), and only where GD cannot leave.
    # With the same arithmetic the engine stops at the end of the JavaScript's group: the
    # same count, rounded up to a multiple of 16. With plain rounding the runs differ in the
    # last bits after the chaotic start, and the first quiet step can fall a group or two
    # either way; the finals still agree to far better than 1e-6.
    for fused in (True, False):
        js = js_map(page, fused=fused, check_every=1)
        diverged = js["diverged"].astype(bool)
        np.testing.assert_array_equal(engine.diverged, diverged)
        settled = ~diverged & (js["steps"] < STEPS)
        assert settled.mean() > 0.2
        assert np.all(~engine.diverged[settled] & (engine.steps_run[settled] < STEPS))
        rounded_up = -(-js["steps"][settled] // CHECK_EVERY) * CHECK_EVERY
        late = engine.steps_run[settled] - rounded_up
        if fused:
            np.testing.assert_array_equal(late, 0)
        else:
            assert np.all(np.abs(late) <= 2 * CHECK_EVERY) and np.mean(late == 0) > 0.7
        gap = (np.abs(engine.final_sharpness - js["sharpness"])
               / np.maximum(1.0, np.abs(js["sharpness"])))
        assert gap[~diverged].max() < 1e-6
        # the cells that settle sit just below 2/η, as in Zhu et al. Fig. 2b
        assert np.all(js["sharpness"][settled] < 2 / ETA)
