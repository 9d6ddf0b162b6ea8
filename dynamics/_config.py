"""JAX settings the engine relies on; imported first by ``dynamics/__init__.py``.

float64 everywhere (the sharpness is compared with 2/η to many digits), and a persistent
compilation cache in a project-local folder so that a restarted server starts warm.
Set ``EOS_JAX_CACHE`` to move the cache, or to an empty string to switch it off.
"""
import os
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

_default_cache = Path(__file__).resolve().parent.parent / ".jax_cache"
CACHE_DIR = os.environ.get("EOS_JAX_CACHE", str(_default_cache))
if CACHE_DIR:
    jax.config.update("jax_compilation_cache_dir", CACHE_DIR)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
