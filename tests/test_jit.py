"""Moving a slider never recompiles: count XLA compilations with JAX's own monitoring events."""
import jax
import numpy as np
import pytest

import dynamics

_COMPILES = []


def _listen(event, duration, **kwargs):
    if event == "/jax/core/compile/backend_compile_duration":
        _COMPILES.append(event)


jax.monitoring.register_event_duration_secs_listener(_listen)


def compiles_during(fn):
    before = len(_COMPILES)
    fn()
    return len(_COMPILES) - before


@pytest.mark.parametrize("name,optimizer", [
    ("xyzw", "gd"), ("xy", "normalized_gd"), ("arora", "sqrt_gd"), ("picky", "sgd"),
    ("x2y2", "flow")])
def test_new_eta_start_schedule_and_length_do_not_recompile(name, optimizer):
    model = dynamics.MODELS[name]
    init = np.asarray(model.default_init, dtype=float)
    eta = model.default_eta
    # warm-up: a run long enough to send metric blocks to every CPU device once (from the
    # model's plane and off it: GD on xyzw's plane steps its twin x2y2)
    dynamics.simulate(model, init, eta, 6000, optimizer=optimizer)
    dynamics.simulate(model, init * np.linspace(1.0, 1.2, init.size), eta, 6000,
                      optimizer=optimizer)

    def moves():
        rng = np.random.default_rng(1)
        for steps in (1, 7, 300, 2047, 2048, 2049, 5000):
            start = init * rng.uniform(0.9, 1.1, size=init.shape)
            dynamics.simulate(model, start, eta * rng.uniform(0.8, 1.0), steps,
                              optimizer=optimizer, seed=int(rng.integers(100)))
        dynamics.simulate(model, init, [(0, eta), (40, eta / 2)], 100, optimizer=optimizer)
        dynamics.simulate(model, init * 1.05, eta, 300, optimizer=optimizer)  # on the plane

    assert compiles_during(moves) == 0


def test_a_longer_run_after_a_short_first_one_does_not_compile():
    # The first run is short (its metrics fit one device); the next one spreads over all.
    model = dynamics.quadratic([3.0, 1.0, 0.5])   # a model no other test has run
    dynamics.simulate(model, [1.0, 1.0, 1.0], 0.1, 10)
    assert compiles_during(lambda: dynamics.simulate(model, [0.5, 1.0, 2.0], 0.2, 9000)) == 0


def test_new_quadratic_eigenvalues_do_not_recompile():
    dynamics.simulate(dynamics.quadratic([1.0, 0.4]), [1.0, 1.0], 0.5, 6000)
    assert compiles_during(lambda: [
        dynamics.simulate(dynamics.quadratic([lam, 0.3]), [1.0, -1.0], 0.5, 20)
        for lam in (0.5, 2.0, 7.0)]) == 0


def test_sweeps_reuse_their_programs(monkeypatch):
    # A sweep's rounds step the cells still running, padded to a bucket size: a program is
    # compiled once per (runner, bucket, device) and reused by every later sweep. Which
    # buckets a new sweep needs depends on where its cells stop (and so on the CPU's
    # rounding), so count the new shapes it ran and require no compile beyond them.
    from dynamics._engine import blocks
    shapes = set()
    call = blocks.Block._call

    def recording(self, runner, cells, k, count):
        shapes.add((runner, blocks._bucket(cells.size), self.device))
        return call(self, runner, cells, k, count)

    monkeypatch.setattr(blocks.Block, "_call", recording)

    def new_shapes_and_compiles(fn):
        before = set(shapes)
        compiled = compiles_during(fn)
        return len(shapes - before), compiled

    xs, ys = np.linspace(0.5, 3.5, 40), np.linspace(0.1, 2.0, 30)
    dynamics.sweep_init("xyzw", 0.2, xs, ys, 3000)
    fresh, compiled = new_shapes_and_compiles(
        lambda: dynamics.sweep_init("xyzw", 0.2, xs + 1e-9, ys, 3000))
    assert compiled <= fresh
    dynamics.sweep_eta("xy", (2.0, 0.5), np.linspace(0.05, 0.5, 64), 500)
    fresh, compiled = new_shapes_and_compiles(
        lambda: dynamics.sweep_eta("xy", (2.5, 0.4), np.linspace(0.05, 0.5, 64), 500))
    assert compiled <= fresh
    # the same sweep again: every shape has been seen, nothing compiles
    assert new_shapes_and_compiles(
        lambda: dynamics.sweep_eta("xy", (2.5, 0.4), np.linspace(0.05, 0.5, 64), 500)) == (0, 0)


def test_after_warm_up_no_model_or_optimizer_compiles():
    dynamics.warm_up()

    def every_combination():
        for model in dynamics.MODELS.values():
            for name in dynamics.optimizers_for(model):
                dynamics.simulate(model, model.default_init, model.default_eta * 0.9, 777,
                                  optimizer=name)
                off_plane = np.asarray(model.default_init) * np.linspace(1.0, 1.1, model.dim)
                dynamics.simulate(model, off_plane, model.default_eta, 500, optimizer=name)

    assert compiles_during(every_combination) == 0


@pytest.mark.parametrize("factory,values", [
    (dynamics.momentum, [{"beta": 0.5}, {"beta": 0.0}, {"beta": 0.99}]),
    (dynamics.rmsprop, [{"beta2": 0.9, "eps": 1e-6}, {"beta2": 0.5, "eps": 1e-3}]),
    (dynamics.adam, [{"beta1": 0.8}, {"beta1": 0.5, "beta2": 0.99, "eps": 1e-4}])])
def test_new_hyperparameters_and_eta_do_not_recompile(factory, values):
    model = dynamics.MODELS["xyzw"]
    init = np.asarray(model.default_init) * np.linspace(1.0, 1.2, 4)   # off the plane
    dynamics.simulate(model, init, 0.01, 6000, optimizer=factory())
    dynamics.sweep_eta(model, init, [0.01, 0.02], 300, optimizer=factory())

    def moves():
        for i, kwargs in enumerate(values):
            for steps in (5, 2049, 3000):
                dynamics.simulate(model, init * (1 + 0.01 * i), 0.01 * (1 + i), steps,
                                  optimizer=factory(**kwargs))
            dynamics.simulate(model, init, [(0, 0.01), (30, 0.004)], 100,
                              optimizer=factory(**kwargs))
            dynamics.sweep_eta(model, init, [0.03, 0.005], 300, optimizer=factory(**kwargs))

    assert compiles_during(moves) == 0
