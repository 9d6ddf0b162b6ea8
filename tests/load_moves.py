"""What a student does to a page, whatever the client: move η or x₀, wait for its redraw.

A client (:class:`load_client.Student`, :class:`load_wire.WireStudent`) provides
``_move(slider, value)`` (send the slider's new value), ``pump(done, timeout)``,
``shown_eta()``, ``_start_xs()`` (the start marker's x), ``_changes(model)`` (patches that
changed a model so far) and the models ``iterates``, ``eta_slider``, ``x0_slider``.
"""
from __future__ import annotations

import time

SHOWN = 1e-9   # relative tolerance for "the document shows this value"


class Moves:
    def set_eta(self, eta: float, timeout: float = 30.0, wait: bool = True) -> float | None:
        """Move η; seconds until the page shows its run (None: not shown in ``timeout``)."""
        before = self._changes(self.iterates)
        t0 = time.perf_counter()
        self._move(self.eta_slider, eta)
        if not wait:
            return None

        def shown():
            now = self.shown_eta()
            return (now is not None and abs(now - eta) <= SHOWN * eta
                    and self._changes(self.iterates) > before)
        return time.perf_counter() - t0 if self.pump(shown, timeout) else None

    def set_x0(self, x0: float, timeout: float = 30.0) -> float | None:
        """Move the start's x₀; seconds until the start marker and the run show it."""
        before = self._changes(self.iterates)
        t0 = time.perf_counter()
        self._move(self.x0_slider, x0)

        def shown():
            xs = self._start_xs()
            return (bool(xs) and abs(xs[0] - x0) <= 1e-6 * max(1.0, abs(x0))   # float32
                    and self._changes(self.iterates) > before)
        return time.perf_counter() - t0 if self.pump(shown, timeout) else None
