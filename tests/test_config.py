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


def test_the_step_loop_is_one_kernel():
    # _config lifts XLA's size limit for compiling a while loop into one kernel; without it
    # every step is a runtime call per operation (sweeps 1.5× slower). Guards the flag name.
    import numpy as np
    from dynamics._engine import cells
    from dynamics._engine.packing import StateLayout
    from dynamics._config import on_device

    model = dynamics.MODELS["x2y2"]
    gd = dynamics.OPTIMIZERS["gd"]
    runner = cells.fast_runner(model.loss_fn, model.components_fn, gd.rule, StateLayout.of(gd, 2))
    state = jnp.zeros((5, cells.CAPACITY + 1))
    hlo = runner.lower(state, np.zeros(1024, np.int32), np.int32(1),
                       on_device(model.consts, dynamics._config.devices()[0]), np.int32(0),
                       np.int32(1), np.uint32(0)).compile().as_text()
    assert 'xla_cpu_small_call="true"' in hlo


def test_a_users_own_backend_options_are_kept():
    env = dict(os.environ, XLA_FLAGS="--xla_backend_extra_options=xla_cpu_enable_fast_min_max=false")
    out = subprocess.run([sys.executable, "-c", "import os, dynamics; print(os.environ['XLA_FLAGS'])"],
                         env=env, check=True, capture_output=True, text=True).stdout
    assert "xla_cpu_small_while_loop_byte_threshold=1000000000," in out
    assert "xla_cpu_enable_fast_min_max=false" in out


def test_importing_the_engine_after_other_jax_code_works():
    # A notebook has already run JAX: the device count can no longer change, and importing
    # the engine must neither fail nor lose float64 (the run uses the devices there are).
    script = ("import jax, jax.numpy as jnp\n"
              "jnp.ones(3).sum().block_until_ready()\n"
              "import dynamics\n"
              "assert jnp.zeros(1).dtype == jnp.float64\n"
              "t = dynamics.simulate('xyzw', (3.2, 0.3, 3.0, 0.35), 0.2, 3000)\n"
              "a = dynamics.simulate('xyzw', (1.2, 0.6, 0.9, 1.1), 0.01, 50, optimizer='adam')\n"
              "s = dynamics.sweep_init('xy', 0.1, [1.0, 2.0], [0.5], 50)\n"
              "print(len(jax.devices()), t.params.dtype, len(a.effective_sharpness),"
              " s.final_loss.shape)\n")
    env = dict(os.environ, EOS_JAX_CACHE="")
    out = subprocess.run([sys.executable, "-c", script], env=env, check=True,
                         capture_output=True, text=True, cwd=os.path.dirname(os.path.dirname(
                             os.path.abspath(__file__)))).stdout.split()
    assert out == ["1", "float64", "50", "(1,", "2)"]
