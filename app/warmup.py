"""Compile the engine's programs once per server process, in the background.

``panel serve`` runs ``main.py`` once per session, but imports this module once per
process, so the first visitor starts the warm-up and nobody waits for compilation twice.

The first page comes first: its own run (the default model's) is compiled while the
session is built, and the warm-up waits until that page has loaded in the browser
(:func:`page_ready`, or ``WAIT_S`` at most), so it does not compete with it for the two
cores and the interpreter lock. Then the default model's other optimizers, then the rest.
"""
import threading

import dynamics

from .state import ExplorerState

WAIT_S = 20.0   # start anyway if no page says it is ready

_lock = threading.Lock()
_thread: threading.Thread | None = None
_page_ready = threading.Event()


def page_ready() -> None:
    """A page has drawn its first run: the warm-up may use the machine now."""
    _page_ready.set()


def warm_up_order() -> list:
    """Every model, the explorer's default model first."""
    first = ExplorerState.param.model.default
    return [dynamics.MODELS[first]] + [m for n, m in dynamics.MODELS.items() if n != first]


def _warm_up() -> None:
    _page_ready.wait(WAIT_S)
    dynamics.warm_up(warm_up_order())


def start_once() -> threading.Thread:
    """Start the warm-up in a daemon thread, unless it already started."""
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_warm_up, name="eos-warm-up", daemon=True)
            _thread.start()
        return _thread
