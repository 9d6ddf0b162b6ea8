"""Bad arguments raise ValueError with a sentence a student understands; divergence does not.

Each check asserts on a keyword of the message and that it reads as a sentence (several
words, not a bare repr), never on the exact wording.
"""
import math
import re

import numpy as np
import pytest

import dynamics

ETA = r"(?i)(step size|η|eta|learning rate)"
INIT = r"(?i)(init|start|param|length|dim|value|coordinate)"
STEPS = r"(?i)step"
MODEL = r"(?i)model|objective"
OPTIMIZER = r"(?i)optimi[sz]er"
SGD = r"(?i)(sgd|component|finite sum|per-sample|stochastic)"
SCHEDULE = r"(?i)(schedule|step size|η|eta)"


def raises_sentence(pattern, fn, *args, **kwargs):
    with pytest.raises(ValueError) as info:
        fn(*args, **kwargs)
    msg = str(info.value)
    assert re.search(pattern, msg), msg
    assert len(msg.split()) >= 4, f"not a sentence: {msg!r}"
    return msg


@pytest.mark.parametrize("eta", [0.0, -0.1, math.nan, math.inf, -math.inf])
def test_bad_eta(eta):
    raises_sentence(ETA, dynamics.simulate, "xy", (1.0, 1.0), eta, 10)


@pytest.mark.parametrize("init", [(1.0,), (1.0, 2.0, 3.0), ()])
def test_wrong_init_length(init):
    raises_sentence(INIT, dynamics.simulate, "xy", init, 0.1, 10)


def test_wrong_init_length_xyzw():
    raises_sentence(INIT, dynamics.simulate, "xyzw", (3.2, 0.3), 0.1, 10)


def test_unknown_model():
    msg = raises_sentence(MODEL, dynamics.simulate, "rosenbrock", (1.0, 1.0), 0.1, 10)
    assert "rosenbrock" in msg


def test_unknown_optimizer():
    raises_sentence(OPTIMIZER, dynamics.simulate, "xy", (1.0, 1.0), 0.1, 10, optimizer="lion")


@pytest.mark.parametrize("steps", [0, -1, -100])
def test_too_few_steps(steps):
    raises_sentence(STEPS, dynamics.simulate, "xy", (1.0, 1.0), 0.1, steps)


@pytest.mark.parametrize("steps", [10_000_001, 10**9, 10**30])
def test_absurd_number_of_steps(steps):
    raises_sentence(STEPS, dynamics.simulate, "xy", (1.0, 1.0), 0.1, steps)


@pytest.mark.parametrize("steps", [2.5, "10", None, math.nan])
def test_non_integer_steps(steps):
    raises_sentence(STEPS, dynamics.simulate, "xy", (1.0, 1.0), 0.1, steps)


def test_integer_valued_steps_of_numpy_type_are_fine():
    traj = dynamics.simulate("xy", (1.0, 1.0), 0.1, np.int64(5))
    assert len(traj.params) == 6


@pytest.mark.parametrize("name", ["quadratic", "xy", "x2y2", "xyzw", "arora"])
def test_sgd_needs_components(name):
    m = dynamics.MODELS[name]
    raises_sentence(SGD, dynamics.simulate, m, m.default_init, 0.1, 10, optimizer="sgd")


@pytest.mark.parametrize("schedule", [
    [],                              # empty
    [(1, 0.1)],                      # does not start at step 0
    [(0, 0.1), (5, 0.2), (5, 0.3)],  # steps not increasing
    [(0, 0.1), (10, 0.2), (4, 0.3)],
    [(0, 0.1), (5, -0.2)],           # a non-positive η
    [(0, 0.1), (5, 0.0)],
    [(0, math.nan)],
    [(0, 0.1), (5, math.inf)],
    [(0, 0.1, 3)],                   # not pairs
    [(0,)],
    [(0.5, 0.1)],                    # fractional step
    [(-1, 0.1), (3, 0.2)],
    "fast",
])
def test_malformed_schedule(schedule):
    raises_sentence(SCHEDULE, dynamics.simulate, "xy", (1.0, 1.0), schedule, 10)


def test_sharpness_checks_its_point():
    raises_sentence(INIT, dynamics.sharpness, "xyzw", (1.0, 2.0))
    raises_sentence(MODEL, dynamics.sharpness, "nope", (1.0, 2.0))


def test_sweep_init_checks_arguments():
    raises_sentence(ETA, dynamics.sweep_init, "xy", 0.0, [1.0, 2.0], [0.5], 10)
    raises_sentence(STEPS, dynamics.sweep_init, "xy", 0.1, [1.0, 2.0], [0.5], 0)
    raises_sentence(MODEL, dynamics.sweep_init, "nope", 0.1, [1.0, 2.0], [0.5], 10)
    raises_sentence(OPTIMIZER, dynamics.sweep_init, "xy", 0.1, [1.0, 2.0], [0.5], 10, optimizer="lion")
    raises_sentence(SGD, dynamics.sweep_init, "xy", 0.1, [1.0, 2.0], [0.5], 10, optimizer="sgd")


def test_sweep_eta_checks_arguments():
    raises_sentence(ETA, dynamics.sweep_eta, "xy", (1.0, 1.0), [0.1, -0.2], 10)
    raises_sentence(ETA, dynamics.sweep_eta, "xy", (1.0, 1.0), [0.1, math.nan], 10)
    raises_sentence(INIT, dynamics.sweep_eta, "xy", (1.0,), [0.1], 10)
    raises_sentence(STEPS, dynamics.sweep_eta, "xy", (1.0, 1.0), [0.1], 2.5)


@pytest.mark.parametrize("lams", [[], [1.0, math.nan], [math.inf]])
def test_quadratic_needs_finite_eigenvalues(lams):
    raises_sentence(r"(?i)(λ|lambda|eigenvalue)", dynamics.quadratic, lams)


def test_divergence_is_not_an_error():
    traj = dynamics.simulate("x2y2", (100.0, 100.0), 0.5, 10)
    assert traj.diverged_at == 1
    assert np.all(np.isfinite(traj.params))
