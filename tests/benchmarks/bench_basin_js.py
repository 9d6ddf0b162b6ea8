"""The engine's basin map against a plain single-thread JavaScript one, side by side in one run.

    .venv/bin/python tests/benchmarks/bench_basin_js.py [--repeats N]

GD on x2y2 = ¼(1 − x²y²)² at η = 0.2, up to 50 000 steps per cell, on two grids:

1. 160 × 160 over the model's window [−0.5, 4.0] × [−0.5, 2.5] (what the app shows for x2y2;
   Zhu et al. Fig. 2b's map over the plane);
2. 512 × 512 over [3.0, 3.4] × [0.1, 0.5], the zoom into Fig. 2b's fractal boundary.

The engine is ``dynamics.sweep_init`` (warm: compiled before timing). The JavaScript is
``basin_map.js`` run in headless Chromium (system Chromium through Playwright), timed inside
the page with ``performance.now()``. Both use the tolerance 1e-13 on a step's move: the
JavaScript stops a cell at the first step that moves it by at most that (its ``checkEvery = 1``
rule), the engine checks after every 16th step (so it stops up to 15 steps later, by then
moving less still). Engine and JavaScript repeats alternate, so a change of load hits both;
the ratio is JS time / engine time of the medians.

Agreement is measured twice: against the plain JavaScript (the timed one; every operation
rounded) and against the same JavaScript with the engine's two fused multiply-adds emulated
exactly (``fused: true``), which is the engine's arithmetic bit for bit. Where the early
phase is chaotic, the plain rounding sends a few cells elsewhere; the fused one must agree
everywhere: the same cells diverge and the final sharpness within 1e-6. (The fused version
is ~10× slower; for the 512² map it runs only with ``--fused-zoom``, ~2 minutes.)
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import dynamics

HERE = Path(__file__).resolve().parent
JS = HERE / "basin_map.js"
CHROMIUM = os.environ.get("EOS_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TOL = 1e-13

CASES = [
    ("160 x 160, model window [-0.5, 4] x [-0.5, 2.5]",
     np.linspace(-0.5, 4.0, 160), np.linspace(-0.5, 2.5, 160)),
    ("512 x 512, zoom [3.0, 3.4] x [0.1, 0.5]",
     np.linspace(3.0, 3.4, 512), np.linspace(0.1, 0.5, 512)),
]
ETA, STEPS = 0.2, 50_000


def open_page(playwright):
    """A blank page in headless Chromium with basin_map.js loaded."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    page = browser.new_page()
    page.add_script_tag(content=JS.read_text())
    return browser, page


def js_map(page, xs, ys, eta, steps, tol, fused=False, check_every=1):
    """The JavaScript map as numpy arrays shaped (len(ys), len(xs)), and its time in ms."""
    out = page.evaluate("args => timedBasinMap(args)",
                        {"xs": list(map(float, xs)), "ys": list(map(float, ys)), "eta": eta,
                         "steps": steps, "tol": tol, "fused": fused, "checkEvery": check_every})
    shape = (len(ys), len(xs))
    arrays = {k: np.asarray(v).reshape(shape) for k, v in out.items() if k != "ms"}
    arrays["diverged"] = arrays["diverged"].astype(bool)
    return arrays, out["ms"]


def agreement(sweep, js):
    """(cells whose divergence differs, cells compared, max |Δ sharpness| / max(1, |S|) over
    the cells that converge in both)."""
    differ = int(np.sum(sweep.diverged != js["diverged"]))
    both = ~sweep.diverged & ~js["diverged"]
    s = sweep.final_sharpness[both]
    gap = np.abs(s - js["sharpness"][both]) / np.maximum(1.0, np.abs(s))
    return differ, int(both.sum()), float(gap.max()) if gap.size else 0.0


def engine_map(xs, ys):
    start = time.perf_counter()
    sweep = dynamics.sweep_init("x2y2", ETA, xs, ys, STEPS, tol=TOL)
    return sweep, 1e3 * (time.perf_counter() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats of each map")
    parser.add_argument("--fused-zoom", action="store_true",
                        help="also compare the 512² map with the fused JavaScript (~2 min)")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    print(f"load average before: {os.getloadavg()}; cpus: {os.cpu_count()}; "
          f"engine devices: {len(dynamics._config.devices())}")
    with sync_playwright() as p:
        browser, page = open_page(p)
        for case, (label, xs, ys) in enumerate(CASES):
            engine_map(xs, ys)                       # compile and warm
            js_map(page, xs, ys, ETA, STEPS, TOL)    # let V8 optimise the loop
            engine_ms, js_ms = [], []
            for _ in range(args.repeats):
                sweep, ms = engine_map(xs, ys)
                engine_ms.append(ms)
                plain, ms = js_map(page, xs, ys, ETA, STEPS, TOL)
                js_ms.append(ms)
            compared = [("plain JavaScript", plain)]
            if case == 0 or args.fused_zoom:
                fused, fused_ms = js_map(page, xs, ys, ETA, STEPS, TOL, fused=True)
                compared.append((f"fused JavaScript ({fused_ms / 1e3:.1f} s)", fused))
            e, j = statistics.median(engine_ms), statistics.median(js_ms)
            print(f"\n{label}, eta {ETA}, <= {STEPS} steps, tol {TOL:g}:")
            print(f"  engine {e:.1f} ms, JavaScript {j:.1f} ms (medians of {args.repeats}; "
                  f"engine runs {', '.join(f'{m:.0f}' for m in engine_ms)}); "
                  f"ratio JS / engine {j / e:.1f}x")
            print(f"  {sweep.steps_run.sum() / 1e6:.1f} M cell-steps in the engine, "
                  f"{plain['steps'].sum() / 1e6:.1f} M in the JavaScript; diverged "
                  f"{sweep.diverged.mean():.1%}; longest cell {sweep.steps_run.max()} steps")
            for name, js in compared:
                differ, both, gap = agreement(sweep, js)
                print(f"  vs {name}: divergence differs in {differ} of {xs.size * ys.size} "
                      f"cells; final sharpness of the {both} converged in both within "
                      f"{gap:.1e} (relative)")
        browser.close()
    print(f"\nload average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
