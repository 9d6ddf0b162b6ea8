"""Engine speed, measured side by side in one run; prints figures, asserts nothing.

    .venv/bin/python tests/benchmarks/bench_engine.py

1. ``simulate`` of 10 000 GD steps on xyzw with per-step loss and sharpness, warm, against
   a plain numpy per-step loop computing the same (analytic gradient and Hessian,
   ``np.linalg.eigvalsh``): the ratio of medians.
1b. ``simulate`` of 10 000 Adam steps on xyzw with loss, sharpness and effective sharpness
   λ_max(P⁻¹H) at every step, warm, against a plain numpy loop computing the same (Adam's
   update with the analytic gradient, ``eigvalsh`` of H and of P^{-1/2} H P^{-1/2}).
2. Raw stepping rate of a sweep: 256 × 256 starts × 2 000 steps, no cell stopping early.
3. A basin map as users make it: 160 × 160 starts at η = 0.2, up to 50 000 steps per cell,
   cells stopping once converged or diverged.
4. A new η, start or length after warm-up: time per call and compilations (should be 0).
"""
from __future__ import annotations

import statistics
import time

import jax
import numpy as np

import dynamics


def numpy_xyzw(theta, eta, steps):
    """The reference: GD on ½(1 − xyzw)² with loss and exact sharpness at every iterate."""
    theta = np.array(theta, dtype=float)
    params, loss, sharp = np.empty((steps + 1, 4)), np.empty(steps + 1), np.empty(steps + 1)
    for k in range(steps + 1):
        x, y, z, w = theta
        r = x * y * z * w - 1.0
        dp = np.array([y * z * w, x * z * w, x * y * w, x * y * z])
        d2p = np.array([[0, z * w, y * w, y * z], [z * w, 0, x * w, x * z],
                        [y * w, x * w, 0, x * y], [y * z, x * z, x * y, 0]])
        params[k], loss[k] = theta, 0.5 * r * r
        sharp[k] = np.linalg.eigvalsh(np.outer(dp, dp) + r * d2p)[-1]
        if k < steps:
            theta = theta - eta * r * dp
    return params, loss, sharp


def numpy_adam_xyzw(theta, eta, steps, beta1=0.9, beta2=0.999, eps=1e-8):
    """The reference for Adam (bias-corrected, as PyTorch): iterates, loss, sharpness, and
    the effective sharpness λ_max(P⁻¹H) of each step, P = (1 − β₁ᵗ)diag(√v̂ + ε)."""
    theta = np.array(theta, dtype=float)
    m, v = np.zeros(4), np.zeros(4)
    params, loss, sharp = np.empty((steps + 1, 4)), np.empty(steps + 1), np.empty(steps + 1)
    effective = np.empty(steps)
    for k in range(steps + 1):
        x, y, z, w = theta
        r = x * y * z * w - 1.0
        dp = np.array([y * z * w, x * z * w, x * y * w, x * y * z])
        d2p = np.array([[0, z * w, y * w, y * z], [z * w, 0, x * w, x * z],
                        [y * w, x * w, 0, x * y], [y * z, x * z, x * y, 0]])
        hess = np.outer(dp, dp) + r * d2p
        params[k], loss[k] = theta, 0.5 * r * r
        sharp[k] = np.linalg.eigvalsh(hess)[-1]
        if k < steps:
            t, g = k + 1, r * dp
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            root = np.sqrt(v / (1 - beta2**t)) + eps
            p = (1 - beta1**t) * root
            effective[k] = np.linalg.eigvalsh(hess / np.sqrt(np.outer(p, p)))[-1]
            theta = theta - eta * (m / (1 - beta1**t)) / root
    return params, loss, sharp, effective


def median_ms(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


class CompileCounter:
    """Counts XLA compilations (JAX's own monitoring events) while active."""

    def __init__(self):
        self.count = 0
        jax.monitoring.register_event_duration_secs_listener(self._listen)

    def _listen(self, event, duration, **kwargs):
        if event == "/jax/core/compile/backend_compile_duration":
            self.count += 1


def main():
    compiles = CompileCounter()
    init = (3.2, 0.3, 3.0, 0.35)   # an asymmetric start: the full 4 × 4 Hessian matters
    steps = 10_000
    print(f"devices: {jax.devices()}")

    # 1. simulate against the numpy loop
    etas = iter(np.linspace(0.19, 0.21, 1000))
    run = lambda: dynamics.simulate("xyzw", init, next(etas), steps).sharpness
    # Warm: compiled programs, allocator and caches settled. On this VM the first ~150 calls
    # of a fresh process run up to 1.5× slower (both cores taking up work), so warm long.
    median_ms(run, 300)
    jax_ms = median_ms(run, 201)
    numpy_ms = median_ms(lambda: numpy_xyzw(init, 0.2, steps), 5)
    # The two runs part ways after a few dozen steps (the early EoS phase is chaotic and
    # they round differently), so compare the sharpness at the reference's own iterates.
    ref_params, _, ref_sharp = numpy_xyzw(init, 0.2, steps)
    ours = np.array([dynamics.sharpness("xyzw", p) for p in ref_params[::97]])
    agree = np.max(np.abs(ours - ref_sharp[::97]) / np.abs(ref_sharp[::97]))
    print(f"1. simulate xyzw 10 000 steps + sharpness: {jax_ms:.2f} ms (median of 201); "
          f"numpy loop {numpy_ms:.0f} ms (median of 5); ratio {numpy_ms / jax_ms:.0f}x; "
          f"sharpness at the same iterates agrees to {agree:.1e} (relative)")

    # 1b. Adam with its effective sharpness against the numpy loop
    adam_init, adam_eta = (1.2, 0.6, 0.9, 1.1), 0.01
    etas = iter(np.linspace(0.0099, 0.0101, 1000))
    run = lambda: dynamics.simulate("xyzw", adam_init, next(etas), steps,
                                    optimizer="adam").effective_sharpness
    median_ms(run, 100)
    adam_ms = median_ms(run, 101)
    numpy_adam_ms = median_ms(lambda: numpy_adam_xyzw(adam_init, adam_eta, steps), 5)
    ref_params, _, _, ref_eff = numpy_adam_xyzw(adam_init, adam_eta, steps)
    traj = dynamics.simulate("xyzw", adam_init, adam_eta, steps, optimizer="adam")
    early = np.max(np.abs(traj.params[:200] - ref_params[:200]) / np.abs(ref_params[:200]))
    tail = np.median(traj.effective_sharpness[-2000:]) / traj.threshold[-1]
    print(f"1b. simulate xyzw 10 000 Adam steps + sharpness + effective sharpness: "
          f"{adam_ms:.2f} ms (median of 101); numpy loop {numpy_adam_ms:.0f} ms (median of 5); "
          f"ratio {numpy_adam_ms / adam_ms:.0f}x; first 200 iterates agree to {early:.1e}; "
          f"median effective sharpness of the last 2 000 steps / (38/eta) = {tail:.3f}")

    # 2. raw stepping rate of a sweep
    xs, ys = np.linspace(0.6, 1.6, 256), np.linspace(0.6, 1.6, 256)
    run = lambda: dynamics.sweep_init("xyzw", 0.2, xs, ys, 2000, tol=None)
    sweep = run()
    raw_ms = median_ms(run, 5)
    cell_steps = sweep.steps_run.sum()
    print(f"2. raw sweep 256 x 256 x 2000 (xyzw, eta 0.2, no early stop): {raw_ms:.0f} ms "
          f"(median of 5); {cell_steps / 1e6:.0f} M cell-steps, "
          f"{raw_ms * 1e6 / cell_steps:.2f} ns per cell-step; "
          f"cells that ran all 2000 steps: {np.mean(sweep.steps_run == 2000):.0%}")

    # 3. basin map as users make it
    xs, ys = np.linspace(0.5, 4.0, 160), np.linspace(0.05, 2.0, 160)
    run = lambda: dynamics.sweep_init("xyzw", 0.2, xs, ys, 50_000)
    sweep = run()
    map_ms = median_ms(run, 21)
    eos = np.mean((sweep.final_sharpness > 10 - 0.1) & (sweep.final_sharpness < 10)
                  & ~sweep.diverged)
    print(f"3. basin map 160 x 160, eta 0.2, <= 50 000 steps, early stop: {map_ms:.0f} ms "
          f"(median of 21); {sweep.steps_run.sum() / 1e6:.1f} M cell-steps, longest cell "
          f"{sweep.steps_run.max()} steps; diverged {sweep.diverged.mean():.0%}, "
          f"final sharpness in (2/eta - 0.1, 2/eta): {eos:.1%}")

    # 4. new arguments after warm-up
    for k in (300, 3000):
        dynamics.simulate("xyzw", init, 0.2, k)
    before = compiles.count
    rng = np.random.default_rng(0)
    calls = [lambda: dynamics.simulate("xyzw", rng.uniform(0.5, 3, 4), rng.uniform(0.05, 0.3),
                                       int(rng.integers(100, 3000)))]
    call_ms = median_ms(calls[0], 50)
    print(f"4. simulate with a new eta, start and length (<= 3000 steps): {call_ms:.2f} ms "
          f"(median of 50); compilations during those calls: {compiles.count - before}")


if __name__ == "__main__":
    main()
