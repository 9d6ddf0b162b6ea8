"""Long map work off the event loop: one map at a time per server, newest request wins.

A view asks for a picture in *stages* (e.g. a coarse 64² grid, then the full resolution);
each stage is a pure function of hashable inputs returning numpy arrays. This module runs
the stages on one worker thread shared by every session of the server and hands each
result back on the session's own document (``doc.add_next_tick_callback``, the one
Bokeh Document method that is safe to call from another thread).

Why one worker per server: a single map already uses every core (the engine spreads its
blocks over one XLA device per core), so a second map at the same time would only halve
the speed of both while taking the CPU the event loop needs to answer other sessions'
sliders. The worker thread also runs at a lower scheduling priority (nice +10, where the
OS allows it), so the event loop's short runs get a core first. Stages (or chunks of
one), not whole maps, are the unit of the queue: each goes to the back, so a second
student's coarse picture waits for at most one chunk of the first student's map.

Per channel (one per view per session): a new request supersedes the older ones; their
stages still queued are never run, and a result that finishes after a newer request was
made is dropped. Finished stages are kept in a per-server LRU cache keyed by their inputs
(``map_cache.py``: immutable arrays only, never Bokeh objects), so a repeated window comes
back at once.
An exception in the work becomes a one-sentence message for the UI (``on_error``); it is
never raised into the session nor logged as a traceback.

API::

    channel = MapChannel(doc)                      # per view per session
    channel.request([Stage("coarse 64×64", key64, fn64, cost=64**2),
                     Stage("full 512×512", key512, chunks=(rows0, rows1, ...),
                           combine=np.concatenate, cost=512**2)],
                    on_result=lambda result, stage, final: ...,
                    on_progress=lambda text, fraction: ...,   # text None: hide it
                    on_error=lambda message: ...)
    channel.cancel()                               # e.g. when the session ends
"""
from __future__ import annotations

import dataclasses
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Hashable, Sequence

from .map_cache import CACHE_BYTES, ResultCache

PROGRESS_DELAY_S = 0.5        # a request still running after this shows its progress
WORKER_NICE = 10              # the worker thread's niceness (lower priority than the loop)


@dataclasses.dataclass(frozen=True)
class Stage:
    """One picture of a request: ``work()`` -> result, a pure function of ``inputs``.

    ``inputs`` is the cache key (hashable; equal inputs must give equal results);
    ``cost`` weighs the stage in the progress fraction (e.g. its number of cells).
    A long stage may instead come in ``chunks`` (callables, e.g. bands of rows) joined by
    ``combine(list of their results)``: each chunk is one task of the queue, so another
    session's stage can run between two chunks, a superseded stage stops after the chunk
    it is in, and the progress fraction moves within the stage.
    """

    label: str
    inputs: Hashable
    work: Callable[[], Any] | None = None
    cost: float = 1.0
    chunks: tuple = ()
    combine: Callable[[list], Any] | None = None

    def __post_init__(self):
        if (self.work is None) == (not self.chunks):
            raise ValueError("A stage has either work or chunks (with combine).")
        if self.chunks and self.combine is None:
            raise ValueError("A stage in chunks needs combine(results).")


def _lower_priority() -> None:
    """Run this thread (and the threads it starts) at ``WORKER_NICE`` where Linux allows."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICE)
    except (AttributeError, OSError):   # not Linux, or not permitted: same priority then
        pass


class MapServer:
    """The per-server worker (one thread: one stage at a time) and result cache."""

    def __init__(self, max_bytes: int = CACHE_BYTES):
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="map-jobs",
                                       initializer=_lower_priority)
        self.cache = ResultCache(max_bytes)
        self.runs = 0   # stages computed (not served from the cache): for tests and figures


SERVER = MapServer()


def error_message(err: BaseException) -> str:
    """A sentence for the UI: the engine's own for a ValueError, else a plain one."""
    if isinstance(err, ValueError) and str(err):
        return str(err)
    if isinstance(err, MemoryError):
        return "The map needs more memory than the server has: lower the resolution."
    return f"The map could not be computed ({type(err).__name__}); try other settings."


# --- one channel per view per session -------------------------------------------------------

class MapChannel:
    """Requests of one view of one session; the newest supersedes the older ones.

    ``doc`` is the session's Bokeh Document (callbacks run on its event loop); without
    one (tests, scripts), ``schedule(fn)`` is used, by default calling ``fn`` at once on
    the worker thread.
    """

    def __init__(self, doc=None, schedule: Callable[[Callable], None] | None = None,
                 server: MapServer | None = None):
        self.server = server or SERVER
        if schedule is None:
            schedule = doc.add_next_tick_callback if doc is not None else (lambda fn: fn())
        self._schedule = schedule
        self._lock = threading.Lock()
        self._generation = 0
        self._timer: threading.Timer | None = None
        self.status: tuple[str, float] | None = None   # (stage text, fraction) while running

    # -- the caller's side (the event loop)

    def request(self, stages: Sequence[Stage], on_result: Callable[[Any, Stage, bool], None],
                on_progress: Callable[[str | None, float], None] | None = None,
                on_error: Callable[[str], None] | None = None) -> int:
        """Compute ``stages`` in order, delivering each result; returns the request's id.

        Stages already cached are delivered without computing; if the last one is cached
        it alone is delivered. ``on_result(result, stage, final)`` gets each picture,
        ``on_progress(text, fraction)`` the stage being computed once the request has run
        for ``PROGRESS_DELAY_S`` (and ``(None, 1.0)`` when it ends), ``on_error(message)``
        the reason a stage failed (the request then stops).
        """
        stages = list(stages)
        if not stages:
            raise ValueError("A map request needs at least one stage.")
        with self._lock:
            self._generation += 1
            gen = self._generation
            self._stop_timer()
        job = _Job(self, gen, stages, on_result, on_progress or (lambda t, f: None),
                   on_error or (lambda m: None))
        if stages[-1].inputs in self.server.cache:
            job.next = len(stages) - 1
        job.advance()
        return gen

    def cancel(self) -> None:
        """Drop every request made so far (queued stages never run, results never arrive)."""
        with self._lock:
            self._generation += 1
            self._stop_timer()
        self.status = None

    def current(self, gen: int) -> bool:
        return gen == self._generation

    # -- internals

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _deliver(self, gen: int, fn: Callable, *args) -> None:
        """Run ``fn(*args)`` on the session's document if ``gen`` is still the newest."""
        def call():
            if self.current(gen):
                fn(*args)
        self._schedule(call)


class _Job:
    """One request's walk through its stages (each stage or chunk is one task of the pool)."""

    def __init__(self, channel, gen, stages, on_result, on_progress, on_error):
        self.channel, self.gen, self.stages = channel, gen, stages
        self.on_result, self.on_progress, self.on_error = on_result, on_progress, on_error
        self.next = 0          # the stage being computed
        self.parts: list = []  # its chunks' results so far
        self.total = sum(s.cost for s in stages) or 1.0
        self.t0 = time.monotonic()
        self.shown = False     # progress is on screen

    def done_fraction(self) -> float:
        done = sum(s.cost for s in self.stages[:self.next])
        if self.next < len(self.stages) and self.stages[self.next].chunks:
            stage = self.stages[self.next]
            done += stage.cost * len(self.parts) / len(stage.chunks)
        return done / self.total

    def advance(self) -> None:
        """Deliver cached stages at once; queue the first one that must be computed."""
        channel, cache = self.channel, self.channel.server.cache
        while self.next < len(self.stages):
            stage = self.stages[self.next]
            result = cache.get(stage.inputs)
            if result is None:
                break
            self._result(result, stage)
        if self.next >= len(self.stages):
            return self._finish()
        self._progress()
        if not self.shown and channel._timer is None and channel.current(self.gen):
            delay = max(0.0, PROGRESS_DELAY_S - (time.monotonic() - self.t0))
            timer = threading.Timer(delay, self._show_progress)
            timer.daemon = True
            with channel._lock:
                if channel.current(self.gen):
                    channel._timer = timer
                    timer.start()
        channel.server.pool.submit(self._run)

    def _progress(self) -> None:
        """Record (and show, once shown) the stage being computed and the fraction done."""
        channel = self.channel
        status = (self.stages[self.next].label, self.done_fraction())
        if channel.current(self.gen):
            channel.status = status
        if self.shown:
            channel._deliver(self.gen, self._safe, self.on_progress, *status)

    def _show_progress(self) -> None:
        channel = self.channel
        status = channel.status
        if channel.current(self.gen) and status is not None and not self.shown:
            self.shown = True
            channel._deliver(self.gen, self._safe, self.on_progress, *status)

    def _run(self) -> None:
        """On the worker thread: one stage (or one chunk of it) unless superseded."""
        channel = self.channel
        if not channel.current(self.gen):
            return
        stage = self.stages[self.next]
        try:
            result = channel.server.cache.get(stage.inputs)
            if result is None and stage.chunks:
                self.parts.append(stage.chunks[len(self.parts)]())
                if len(self.parts) < len(stage.chunks):   # the next chunk: back of the queue
                    self._progress()
                    channel.server.pool.submit(self._run)
                    return
                result, self.parts = stage.combine(self.parts), []
                channel.server.runs += 1
                channel.server.cache.put(stage.inputs, result)
            elif result is None:
                result = stage.work()
                channel.server.runs += 1
                channel.server.cache.put(stage.inputs, result)
        except Exception as err:   # noqa: BLE001 — every failure becomes a message
            self._finish()
            channel._deliver(self.gen, self._safe, self.on_error, error_message(err))
            return
        if not channel.current(self.gen):
            return
        self._result(result, stage)
        self.advance()

    def _result(self, result, stage: Stage) -> None:
        self.next += 1
        final = self.next == len(self.stages)
        self.channel._deliver(self.gen, self._safe, self.on_result, result, stage, final)

    def _finish(self) -> None:
        channel = self.channel
        with channel._lock:
            if channel.current(self.gen):
                channel._stop_timer()
                channel.status = None
        if self.shown:
            channel._deliver(self.gen, self._safe, self.on_progress, None, 1.0)

    def _safe(self, fn, *args) -> None:
        """A view's callback that raises shows a message instead of breaking the session."""
        try:
            fn(*args)
        except Exception as err:   # noqa: BLE001
            if fn is not self.on_error:
                try:
                    self.on_error(f"The map could not be shown ({type(err).__name__}).")
                except Exception:   # noqa: BLE001
                    pass
