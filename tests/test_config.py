"""Engine settings: float64, and a persistent compilation cache that a new process reuses."""
import os
import subprocess
import sys

import jax.numpy as jnp

import dynamics  # noqa: F401  (applies the settings)

SCRIPT = """
import jax, dynamics
hits = []
jax.monitoring.register_event_listener(
    lambda event, **kw: hits.append(event) if event == "/jax/compilation_cache/cache_hits" else None)
dynamics.simulate("xy", (2.0, 0.5), 0.1, 100)
print(len(hits))
"""


def test_float64_everywhere():
    assert jnp.zeros(1).dtype == jnp.float64
    traj = dynamics.simulate("xy", (2.0, 0.5), 0.1, 10)
    assert traj.params.dtype == traj.loss.dtype == traj.sharpness.dtype == "float64"


def test_a_restarted_process_starts_warm(tmp_path):
    env = dict(os.environ, EOS_JAX_CACHE=str(tmp_path))
    run = lambda: subprocess.run([sys.executable, "-c", SCRIPT], env=env, check=True,
                                 capture_output=True, text=True).stdout.split()[-1]
    assert run() == "0"                    # cold: compiles and writes the cache
    assert any(tmp_path.iterdir())
    assert int(run()) >= 2                 # warm: the chunk runner and the metrics come from disk
