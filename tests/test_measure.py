"""dynamics.measure: per-iterate quantities, vmapped over iterates.

Expected values: numpy's eigh of the hand-written Hessians in ``reference.py``; the gradient
norm from central differences of the hand-written loss.
"""
import jax
import numpy as np
import pytest

import dynamics
import reference as ref
from dynamics.measure import MAX_BUCKET, QUANTITIES

LAMS = [3.0, -0.5, 1.25]
ALL = ("loss", "sharpness", "eigenvalues", "top_eigenvector", "grad_norm")
CASES = [("xy", 2, None), ("x2y2", 2, None), ("xyzw", 4, None), ("quadratic", 3, LAMS)]


def model_of(name, lams):
    return dynamics.quadratic(lams) if name == "quadratic" else name


def points(dim, n=37, seed=0):
    return np.random.default_rng(seed).uniform(-2.0, 2.0, size=(n, dim))


def fd_grad_norm(name, theta, lams, h=1e-6):
    g = [(ref.loss(name, theta + h * e, lams) - ref.loss(name, theta - h * e, lams)) / (2 * h)
         for e in np.eye(len(theta))]
    return np.linalg.norm(g)


@pytest.mark.parametrize("name,dim,lams", CASES)
def test_against_numpy_eigh_of_the_hand_hessian(name, dim, lams):
    thetas = points(dim)
    out = dynamics.measure(model_of(name, lams), thetas, *ALL)
    assert set(out) == set(ALL)
    for k, theta in enumerate(thetas):
        h = ref.hessian(name, theta, lams)
        values, vectors = np.linalg.eigh(h)
        scale = max(1.0, np.abs(values).max())
        np.testing.assert_allclose(out["eigenvalues"][k], values, rtol=0, atol=1e-12 * scale)
        assert out["sharpness"][k] == pytest.approx(values[-1], rel=1e-12, abs=1e-12)
        assert out["loss"][k] == pytest.approx(ref.loss(name, theta, lams), rel=1e-12, abs=1e-15)
        v = out["top_eigenvector"][k]
        assert np.linalg.norm(v) == pytest.approx(1.0, abs=1e-12)
        np.testing.assert_allclose(h @ v, values[-1] * v, atol=1e-10 * scale)
        gap = values[-1] - values[-2] if dim > 1 else np.inf
        if gap > 1e-6 * scale:   # a simple top eigenvalue: v is numpy's, up to the sign
            w = vectors[:, -1] * np.sign(vectors[np.argmax(np.abs(vectors[:, -1])), -1])
            np.testing.assert_allclose(v, w, atol=1e-9 * scale / gap)
        assert out["grad_norm"][k] == pytest.approx(fd_grad_norm(name, theta, lams), rel=1e-7, abs=1e-8)
        assert out["grad_norm"][k] == pytest.approx(np.linalg.norm(ref.grad(name, theta, lams)), rel=1e-12, abs=1e-14)


def test_top_eigenvector_sign_puts_its_largest_entry_positive():
    # quadratic with λ = (1, 3): the top eigenvector is ±e₂ everywhere; numpy may give −e₂
    out = dynamics.measure(dynamics.quadratic([1.0, 3.0]), points(2, 5), "top_eigenvector")
    np.testing.assert_array_equal(out["top_eigenvector"], np.tile([0.0, 1.0], (5, 1)))
    vs = dynamics.measure("xyzw", points(4, 50, seed=3), "top_eigenvector")["top_eigenvector"]
    biggest = vs[np.arange(len(vs)), np.argmax(np.abs(vs), axis=1)]
    assert np.all(biggest > 0)
    # xy at (1, 1): H = [[1, 1], [1, 1]], top eigenvector (1, 1)/√2 — equal entries, positive
    v = dynamics.measure("xy", [1.0, 1.0], "top_eigenvector")["top_eigenvector"]
    np.testing.assert_allclose(v, [2**-0.5, 2**-0.5], rtol=1e-14)


def test_shapes_for_runs_single_points_and_no_rows():
    traj = dynamics.simulate("xyzw", (2.8, 0.2, 2.8, 0.2), 0.2, 40)
    out = dynamics.measure("xyzw", traj.params, *ALL)
    assert out["loss"].shape == out["sharpness"].shape == out["grad_norm"].shape == (41,)
    assert out["eigenvalues"].shape == out["top_eigenvector"].shape == (41, 4)
    assert all(a.dtype == np.float64 for a in out.values())
    np.testing.assert_allclose(out["loss"], traj.loss, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(out["sharpness"], traj.sharpness, rtol=1e-12)
    np.testing.assert_array_equal(np.diff(out["eigenvalues"], axis=1) >= 0, True)
    one = dynamics.measure("xyzw", traj.params[7], *ALL)
    assert one["loss"].shape == () and one["eigenvalues"].shape == (4,)
    for name in ALL:
        np.testing.assert_allclose(one[name], out[name][7], rtol=1e-13, atol=1e-300)
    none = dynamics.measure("xyzw", np.empty((0, 4)), "loss", "eigenvalues")
    assert none["loss"].shape == (0,) and none["eigenvalues"].shape == (0, 4)


def test_longer_than_one_bucket_and_each_name_once():
    thetas = points(2, 2 * MAX_BUCKET + 5, seed=1)
    out = dynamics.measure("xy", thetas, "sharpness", "loss", "sharpness")
    assert list(out) == ["sharpness", "loss"]
    expected = [ref.sharpness("xy", t) for t in thetas[::97]]
    np.testing.assert_allclose(out["sharpness"][::97], expected, rtol=1e-12, atol=1e-12)
    assert out["loss"].shape == (len(thetas),)


def test_a_model_object_and_a_new_lambda_share_a_program():
    compiles = []
    jax.monitoring.register_event_duration_secs_listener(
        lambda event, duration, **kw: compiles.append(event)
        if event.endswith("backend_compile_duration") else None)
    dynamics.measure(dynamics.quadratic([1.0, 2.0]), points(2, 10), "sharpness", "loss")
    dynamics.measure(dynamics.quadratic([1.0, 2.0]), points(2, 1000), "sharpness", "loss")
    before = len(compiles)
    for n, lams in [(3, [5.0, 1.0]), (9, [0.1, 0.2]), (700, [2.0, 2.0]), (1000, [1.0, 7.0])]:
        out = dynamics.measure(dynamics.quadratic(lams), points(2, n), "sharpness", "loss")
        np.testing.assert_allclose(out["sharpness"], max(lams), rtol=1e-14)
    assert len(compiles) == before   # n ≤ 16 and 513…1024 rows: buckets already compiled
    dynamics.measure(dynamics.quadratic([1.0, 2.0]), points(2, 3000), "sharpness", "loss")
    assert len(compiles) == before + 1   # a new bucket (4096 rows) compiles, once


@pytest.mark.parametrize("names,words", [((), "at least one"), (("curvature",), "'curvature'"),
                                         (("loss", 3), "called 3")])
def test_unknown_or_missing_names_are_a_sentence(names, words):
    with pytest.raises(ValueError) as err:
        dynamics.measure("xy", [1.0, 2.0], *names)
    message = str(err.value)
    assert all(f"'{known}'" in message for known in QUANTITIES)
    assert words in message


@pytest.mark.parametrize("params", [[1.0, 2.0, 3.0], np.zeros((3, 3)), np.zeros((2, 2, 2)),
                                    [1.0, np.nan], "ab"])
def test_bad_params_are_a_sentence(params):
    with pytest.raises(ValueError, match="params"):
        dynamics.measure("xy", params, "loss")


def test_unknown_model_is_a_sentence():
    with pytest.raises(ValueError, match="Unknown model"):
        dynamics.measure("nope", [1.0], "loss")
