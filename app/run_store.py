"""The first page's run, kept on disk so that a restarted server draws it without JAX.

Before a fresh server can show its first page it must trace, lower and load the block
program of the default run (~1–2 s of one core, most of it Python tracing, which the
persistent compilation cache does not save). The default run's :class:`Trajectory` is the
same on every start, so it is saved once, next to the compilation cache, and a restart reads
it back in a few milliseconds; the background warm-up (``app/warmup.py``) then traces the
programs after that page has drawn, before anyone moves a control.

Only the bare URL's run is kept (no flows: their ODE solves are never the first page). The
file is named by a hash of the spec, of every source file of the engine and of the JAX and
NumPy versions, so any change to those makes a new name and an old file is never read.
"""
from __future__ import annotations

import functools
import hashlib
import os
import zipfile
from pathlib import Path

import numpy as np

import dynamics
from dynamics import _config

ENGINE = Path(dynamics.__file__).resolve().parent
FIELDS = ("params", "loss", "sharpness", "eta", "time", "threshold", "effective_sharpness")
_source_hash: str | None = None


def folder() -> Path | None:
    """Where runs are kept: beside the JAX cache (none when that cache is switched off)."""
    return Path(_config.CACHE_DIR) / "eos-runs" if _config.CACHE_DIR else None


def _engine_hash() -> str:
    """One hash of every engine source file and the versions that compute the run."""
    global _source_hash
    if _source_hash is None:
        h = hashlib.sha256()
        for path in sorted(ENGINE.rglob("*.py")):
            h.update(str(path.relative_to(ENGINE)).encode())
            h.update(path.read_bytes())
        import jax
        h.update(f"{jax.__version__} {np.__version__}".encode())
        _source_hash = h.hexdigest()
    return _source_hash


def spec_key(spec) -> str:
    """What fixes the run: the model and its constants, the rule, η, start, length, seed."""
    return repr((spec.model.name, tuple(map(float, spec.model.consts)), spec.optimizer,
                 tuple(tuple(map(float, p)) for p in spec.schedule),
                 tuple(map(float, spec.init)), int(spec.steps), int(spec.seed),
                 tuple(map(float, spec.hyper))))


@functools.lru_cache(maxsize=1)
def _first_page_key() -> str:
    from .state import ExplorerState   # (state imports runs, which imports this module)
    spec = ExplorerState().spec()
    return spec_key(spec)


def kept(spec) -> bool:
    """Whether ``spec`` is the run kept on disk: the bare URL's, without flows."""
    if folder() is None or isinstance(spec, str) or spec.show_flow or spec.show_central_flow:
        return False
    return spec_key(spec) == _first_page_key()


def _path(spec) -> Path:
    digest = hashlib.sha256(f"{spec_key(spec)} {_engine_hash()}".encode()).hexdigest()
    return folder() / f"{digest[:32]}.npz"


def load(spec):
    """The kept Trajectory of ``spec``, or None (not kept, never saved, or unreadable)."""
    if not kept(spec):
        return None
    try:
        with np.load(_path(spec), allow_pickle=False) as stored:
            arrays = {name: np.array(stored[name], dtype=np.float64) for name in FIELDS}
            dead = int(stored["diverged_at"])
            optimizer = str(stored["optimizer"])
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None
    return dynamics.Trajectory(**arrays, diverged_at=None if dead < 0 else dead,
                               model=spec.model, optimizer=optimizer)


def save(spec, traj) -> None:
    """Keep ``traj`` if ``spec`` is the kept run; a failure to write is no error."""
    if not kept(spec):
        return
    path = _path(spec)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(partial, **{name: getattr(traj, name) for name in FIELDS},
                 diverged_at=-1 if traj.diverged_at is None else traj.diverged_at,
                 optimizer=traj.optimizer)
        partial.replace(path)   # atomic: a reader never sees half a file
    except OSError:
        pass
