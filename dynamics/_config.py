"""JAX settings the engine relies on; imported first by ``dynamics/__init__.py``.

* float64 everywhere: the sharpness is compared with 2/η to many digits.
* 512-bit vectors where the CPU has AVX-512 (XLA prefers 256 by default).
* One XLA CPU device per core (up to 8): a single CPU device runs one computation at a
  time, so sweeps and trajectory metrics spread their blocks over ``DEVICES`` to use every
  core. This only takes effect if JAX's backend has not started yet (imported after other
  JAX code has run, the engine uses the devices there are: no error, float64 still on).
* A persistent compilation cache in a project-local folder, so a restarted server starts
  warm. Set ``EOS_JAX_CACHE`` to move it, or to an empty string to switch it off.
"""
import functools
import os
from pathlib import Path

import numpy as np

# 512-bit vectors where the CPU has them (AVX-512): the exact sharpness kernel is bound by
# arithmetic, and XLA's default preference is 256-bit. Must be set before XLA starts.
if "xla_cpu_prefer_vector_width" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                               + " --xla_cpu_prefer_vector_width=512").strip()
# A while loop whose buffers exceed 1 kB (XLA's default) runs as one runtime call per
# operation per turn; above it XLA compiles the whole loop into one kernel. The sweeps'
# rounds carry whole blocks of cells: 1.5× faster stepping with the limit lifted.
_LOOPS = "xla_cpu_small_while_loop_byte_threshold=1000000000"
if "xla_cpu_small_while_loop_byte_threshold" not in os.environ["XLA_FLAGS"]:
    if "--xla_backend_extra_options=" in os.environ["XLA_FLAGS"]:   # join the user's list
        os.environ["XLA_FLAGS"] = os.environ["XLA_FLAGS"].replace(
            "--xla_backend_extra_options=", f"--xla_backend_extra_options={_LOOPS},", 1)
    else:
        os.environ["XLA_FLAGS"] += f" --xla_backend_extra_options={_LOOPS}"

import jax  # noqa: E402  (after XLA_FLAGS)

# Must run before JAX's CPU backend starts (the first computation). Imported after other
# JAX code has run (a notebook), the backend keeps the devices it has: one, most likely.
try:
    jax.config.update("jax_num_cpu_devices", max(1, min(8, os.cpu_count() or 1)))
except RuntimeError:
    pass
jax.config.update("jax_enable_x64", True)

_default_cache = Path(__file__).resolve().parent.parent / ".jax_cache"
CACHE_DIR = os.environ.get("EOS_JAX_CACHE", str(_default_cache))
if CACHE_DIR:
    jax.config.update("jax_compilation_cache_dir", CACHE_DIR)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def devices():
    """The CPU devices work is spread over (one per core when the flag took effect)."""
    return jax.devices("cpu")


@functools.lru_cache(maxsize=256)
def on_device(values: tuple, device) -> jax.Array:
    """``values`` as a float64 array on ``device``, transferred once (each transfer of a
    host array into a computation costs tens of microseconds)."""
    return jax.device_put(np.asarray(values, dtype=np.float64), device)
