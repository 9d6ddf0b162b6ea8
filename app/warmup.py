"""Compile the engine's programs once per server process, in the background.

``panel serve`` runs ``main.py`` once per session, but imports this module once per
process, so the first visitor starts the warm-up and nobody waits for compilation twice.
"""
import threading

import dynamics

_lock = threading.Lock()
_thread: threading.Thread | None = None


def start_once() -> threading.Thread:
    """Start ``dynamics.warm_up()`` in a daemon thread, unless it already started."""
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=dynamics.warm_up, name="eos-warm-up", daemon=True)
            _thread.start()
        return _thread
