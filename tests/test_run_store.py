"""The first page's run kept on disk (app/run_store.py): read back exactly, never stale."""
import numpy as np
import pytest

import dynamics
from app import run_store
from app.runs import run   # the path the views take
from app.state import ExplorerState
from dynamics import _config


@pytest.fixture
def store(tmp_path, monkeypatch):
    """An empty store in a temporary cache folder."""
    monkeypatch.setattr(_config, "CACHE_DIR", str(tmp_path))
    return tmp_path / "eos-runs"


def _default_spec():
    return ExplorerState().spec()


def test_the_first_page_run_is_kept_and_read_back_exactly(store, monkeypatch):
    spec = _default_spec()
    made = run(spec)
    assert made.ok and len(list(store.glob("*.npz"))) == 1

    def no_engine(*args, **kwargs):
        raise AssertionError("the kept run must not be simulated again")

    monkeypatch.setattr(dynamics, "simulate", no_engine)
    again = run(spec)
    for name in run_store.FIELDS:
        np.testing.assert_array_equal(getattr(again.traj, name), getattr(made.traj, name))
    assert again.traj.diverged_at == made.traj.diverged_at
    assert again.traj.optimizer == made.traj.optimizer and again.traj.model is spec.model
    assert (again.verdict, again.kind, again.level) == (made.verdict, made.kind, made.level)
    np.testing.assert_array_equal(again.threshold, made.threshold)


def test_other_runs_are_not_kept(store):
    state = ExplorerState()
    state.eta = 0.21
    assert run(state.spec()).ok
    state.eta, state.show_flow = 0.2, True
    assert not run_store.kept(state.spec())
    assert not store.exists() or not list(store.glob("*.npz"))


def test_a_changed_engine_never_reads_an_old_file(store, monkeypatch):
    spec = _default_spec()
    run(spec)
    assert run_store.load(spec) is not None
    monkeypatch.setattr(run_store, "_source_hash", "another engine")
    assert run_store.load(spec) is None


def test_an_unreadable_file_is_simulated_again(store):
    spec = _default_spec()
    run(spec)
    (path,) = store.glob("*.npz")
    path.write_bytes(b"not a numpy file")
    assert run_store.load(spec) is None
    assert run(spec).ok


def test_no_cache_folder_no_store(monkeypatch):
    monkeypatch.setattr(_config, "CACHE_DIR", "")
    assert run_store.folder() is None and not run_store.kept(_default_spec())
