"""app/map_jobs.py without a browser: order of stages, supersede, cache, errors, progress."""
from __future__ import annotations

import queue
import threading

import numpy as np
import pytest

from app import map_jobs
from app.map_cache import ResultCache
from app.map_jobs import MapChannel, MapServer, Stage

WAIT = 30.0


class Inbox:
    """Collects a channel's callbacks as they would run on the document (in order)."""

    def __init__(self):
        self.events: queue.Queue = queue.Queue()

    def schedule(self, fn):
        self.events.put(fn)   # run later, by ``drain`` (the document's next tick)

    def drain_until(self, done, timeout=WAIT):
        """Run scheduled callbacks until ``done()`` holds."""
        while not done():
            self.events.get(timeout=timeout)()

    def settle(self, seconds=0.3):
        try:
            while True:
                self.events.get(timeout=seconds)()
        except queue.Empty:
            pass


@pytest.fixture
def server():
    s = MapServer()
    yield s
    s.pool.shutdown(wait=True)


def make_channel(server):
    inbox = Inbox()
    return MapChannel(schedule=inbox.schedule, server=server), inbox


def grid_stage(label, n, calls):
    def work():
        calls.append(label)
        return {"z": np.arange(n * n, dtype=float).reshape(n, n)}
    return Stage(label, ("grid", n), work, cost=n * n)


def test_coarse_then_fine(server):
    channel, inbox = make_channel(server)
    got, calls = [], []
    channel.request([grid_stage("coarse", 4, calls), grid_stage("full", 16, calls)],
                    on_result=lambda r, s, final: got.append((s.label, r["z"].shape, final)))
    inbox.drain_until(lambda: len(got) == 2)
    assert got == [("coarse", (4, 4), False), ("full", (16, 16), True)]
    assert calls == ["coarse", "full"]


def test_cache_hit_serves_the_final_picture_alone(server):
    channel, inbox = make_channel(server)
    got, calls = [], []
    stages = [grid_stage("coarse", 4, calls), grid_stage("full", 16, calls)]
    channel.request(stages, on_result=lambda r, s, f: got.append(s.label))
    inbox.drain_until(lambda: len(got) == 2)
    # another session asks for the same map: no work, the full picture at once
    other, other_inbox = make_channel(server)
    again = []
    other.request(stages, on_result=lambda r, s, f: again.append((s.label, f, r)))
    other_inbox.drain_until(lambda: again)
    assert [(label, final) for label, final, _ in again] == [("full", True)]
    assert calls == ["coarse", "full"] and server.runs == 2
    with pytest.raises(ValueError):   # cached arrays are shared: read-only
        again[0][2]["z"][0, 0] = 1.0


def test_newer_request_supersedes(server):
    channel, inbox = make_channel(server)
    release, started = threading.Event(), threading.Event()
    calls, got = [], []

    def slow():
        started.set()
        release.wait(WAIT)
        calls.append("old coarse")
        return np.zeros(3)

    old = [Stage("old coarse", "old-1", slow), grid_stage("old full", 8, calls)]
    channel.request(old, on_result=lambda r, s, f: got.append(s.label))
    assert started.wait(WAIT)
    channel.request([grid_stage("new", 5, calls)], on_result=lambda r, s, f: got.append(s.label))
    release.set()
    inbox.drain_until(lambda: "new" in got)
    inbox.settle()
    assert got == ["new"]                       # the old result is dropped
    assert calls == ["old coarse", "new"]       # and its next stage never ran


def test_queued_request_is_never_run(server):
    busy, busy_inbox = make_channel(server)
    release, started = threading.Event(), threading.Event()

    def block():
        started.set()
        release.wait(WAIT)
        return np.zeros(1)

    busy.request([Stage("other session", "block", block)], on_result=lambda *a: None)
    assert started.wait(WAIT)
    channel, inbox = make_channel(server)
    calls, got = [], []
    channel.request([grid_stage("first", 3, calls)], on_result=lambda r, s, f: got.append(s.label))
    channel.request([grid_stage("second", 6, calls)], on_result=lambda r, s, f: got.append(s.label))
    release.set()
    inbox.drain_until(lambda: got)
    inbox.settle()
    assert got == ["second"] and calls == ["second"]


def test_errors_become_messages_and_the_channel_keeps_working(server, capsys):
    channel, inbox = make_channel(server)
    errors, got = [], []

    def broken():
        raise ZeroDivisionError("deep inside")

    def refused():
        raise ValueError("Sweeps do not run the central flow.")

    channel.request([Stage("a", "broken", broken)], on_result=lambda *a: got.append(a),
                    on_error=errors.append)
    inbox.drain_until(lambda: errors)
    channel.request([Stage("b", "refused", refused)], on_result=lambda *a: got.append(a),
                    on_error=errors.append)
    inbox.drain_until(lambda: len(errors) == 2)
    assert errors[0] == "The map could not be computed (ZeroDivisionError); try other settings."
    assert errors[1] == "Sweeps do not run the central flow."
    assert "broken" not in server.cache and "Traceback" not in capsys.readouterr().err
    calls = []
    channel.request([grid_stage("fine", 2, calls)], on_result=lambda r, s, f: got.append(s.label))
    inbox.drain_until(lambda: got)
    assert got == ["fine"]


def test_a_failing_view_callback_is_reported(server):
    channel, inbox = make_channel(server)
    errors = []

    def draw(result, stage, final):
        raise KeyError("glyph")

    channel.request([grid_stage("full", 2, [])], on_result=draw, on_error=errors.append)
    inbox.drain_until(lambda: errors)
    assert errors == ["The map could not be shown (KeyError)."]


def test_progress_appears_for_a_slow_map_and_goes_away(server, monkeypatch):
    monkeypatch.setattr(map_jobs, "PROGRESS_DELAY_S", 0.05)
    channel, inbox = make_channel(server)
    release = threading.Event()
    progress, got = [], []

    def slow():
        release.wait(WAIT)
        return np.ones(2)

    channel.request([Stage("coarse 64×64", "quick", lambda: np.zeros(1), cost=1),
                     Stage("full 512×512", "slow", slow, cost=3)],
                    on_result=lambda r, s, f: got.append(s.label),
                    on_progress=lambda text, fraction: progress.append((text, fraction)))
    inbox.drain_until(lambda: progress)
    release.set()
    inbox.drain_until(lambda: progress[-1][0] is None)
    assert ("full 512×512", 0.25) in progress
    assert progress[-1] == (None, 1.0) and got == ["coarse 64×64", "full 512×512"]


def test_a_quick_map_shows_no_progress(server):
    channel, inbox = make_channel(server)
    progress, got = [], []
    channel.request([grid_stage("full", 3, [])], on_result=lambda r, s, f: got.append(s),
                    on_progress=lambda *a: progress.append(a))
    inbox.drain_until(lambda: got)
    inbox.settle(map_jobs.PROGRESS_DELAY_S + 0.2)
    assert progress == []


def test_cache_is_lru_bounded_by_bytes():
    cache = ResultCache(max_bytes=3 * 800)
    for k in range(3):
        cache.put(k, np.zeros(100))   # 800 bytes each
    cache.get(0)                      # 0 is now the most recent
    cache.put(3, np.zeros(100))
    assert 1 not in cache and all(k in cache for k in (0, 2, 3))
    cache.put("huge", np.zeros(10_000))   # larger than the whole cache: not kept
    assert "huge" not in cache and 0 in cache


def test_a_stage_in_chunks_interleaves_with_another_session_and_stops_when_superseded(server):
    channel, inbox = make_channel(server)
    other, other_inbox = make_channel(server)
    order, got, other_got = [], [], []
    release, started = threading.Event(), threading.Event()

    def chunk(i):
        def run():
            if i == 0:
                started.set()
                release.wait(WAIT)
            order.append(f"band {i}")
            return np.full((2, 3), float(i))
        return run

    stage = Stage("full", "bands", chunks=tuple(chunk(i) for i in range(3)),
                  combine=np.concatenate, cost=6)
    channel.request([stage], on_result=lambda r, s, f: got.append(r))
    assert started.wait(WAIT)
    other.request([grid_stage("coarse", 2, order)],
                  on_result=lambda r, s, f: other_got.append(s.label))
    release.set()
    inbox.drain_until(lambda: got)
    other_inbox.drain_until(lambda: other_got)
    assert order == ["band 0", "coarse", "band 1", "band 2"]   # the other one waits one band
    np.testing.assert_array_equal(got[0][:, 0], [0, 0, 1, 1, 2, 2])
    # a superseded stage stops after the band it is in
    order.clear()
    release.clear()
    started.clear()
    stage2 = Stage("full", "bands-2", chunks=tuple(chunk(i) for i in range(3)),
                   combine=np.concatenate)
    channel.request([stage2], on_result=lambda r, s, f: got.append(r))
    assert started.wait(WAIT)
    channel.request([grid_stage("newer", 7, order)], on_result=lambda r, s, f: got.append(s))
    release.set()
    inbox.drain_until(lambda: len(got) == 2)
    inbox.settle()
    assert order == ["band 0", "newer"] and "bands-2" not in server.cache


def test_a_stage_has_work_or_chunks():
    with pytest.raises(ValueError):
        Stage("neither", "k")
    with pytest.raises(ValueError):
        Stage("chunks without combine", "k", chunks=(lambda: 1,))
