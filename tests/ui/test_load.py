"""A small class on a real `panel serve`: websocket students, no lost update, no leak.

Five students at once move η and the start (each its own values), then twenty sessions are
opened and closed; every update is shown to its own student only, the last η sent is the one
shown, and once the server has discarded the closed sessions none of their objects is alive
(counted inside the server by ``tests/serve_counted.py``).
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from load_client import Student  # noqa: E402
from load_crowd import BURST, churn, etas_of, leaks, run_class, x0s_of  # noqa: E402
from load_wire import WireStudent  # noqa: E402

from .conftest import ROOT, serve_args, served  # noqa: E402

pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def counted_server(tmp_path_factory):
    counts = tmp_path_factory.mktemp("load") / "counts.json"
    argv = lambda port: ["tests/serve_counted.py", str(counts), "app/main.py", *serve_args(port),
                         "--check-unused-sessions", "1000", "--unused-session-lifetime", "1000"]
    # a script's sys.path starts at tests/: without this, `import app` finds an installed
    # copy (an editable install of another checkout), not the code under test
    path = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    with served(argv, "load-server.log",
                env={"PYTHONPATH": path, "EOS_SPARE_PAGES": "3"}) as (url, proc):

        def alive() -> dict:
            counts.unlink(missing_ok=True)
            os.kill(proc.pid, signal.SIGUSR1)
            for _ in range(100):
                if counts.exists() and counts.read_text().endswith("\n"):
                    return json.loads(counts.read_text())
                time.sleep(0.2)
            pytest.fail("the server did not count its objects")

        yield url, alive


def test_every_student_sends_values_no_one_else_sends():
    """Distinct η and x₀ per student (50 students, as the benchmark), none the page's default."""
    etas = [e for s in range(50) for e in etas_of(s, 10 + BURST)]
    x0s = [x for s in range(50) for x in x0s_of(s, 2)]
    assert len(set(etas)) == len(etas) and len(set(x0s)) == len(x0s)
    assert 0.2 not in etas and 2.8 not in x0s
    assert 0 < min(etas) and max(etas) <= 0.5 and -0.5 <= min(x0s) and max(x0s) <= 4.0


def test_the_leak_count_sees_another_students_value():
    """The count is real: a page that held another student's η or x₀ counts, its own does not."""
    own = [dict(mine=etas_of(i, 3), mine_x0=x0s_of(i, 1), seen=[0.2, *etas_of(i, 3)],
                seen_x0=[2.8, *x0s_of(i, 1)]) for i in range(3)]
    assert leaks(own) == 0
    own[0]["seen"].append(etas_of(2, 3)[1])
    own[1]["seen_x0"].append(x0s_of(0, 1)[0])
    assert leaks(own) == 2


@pytest.mark.parametrize("client", [Student, WireStudent], ids=["bokeh.client", "wire"])
def test_five_students_at_once_see_their_own_updates_and_nothing_else(counted_server, client):
    """Both clients: bokeh.client resolves every model; the benchmark's light one must agree."""
    url, _ = counted_server
    result = run_class(url, 5, moves=4, starts=1, think=0.1, budget=240, client=client)
    assert result["opened"] == 5
    assert result["errors"] == 0, result["error_texts"]
    assert result["updates"] == 5 * (4 + 1)
    assert result["lost"] == 0      # each page shows its own student's last η and x₀
    assert result["leaks"] == 0     # and never held another student's η or x₀


def test_closed_sessions_are_freed(counted_server):
    url, alive = counted_server
    result = churn(url, 20, batch=10)
    assert result["errors"] == 0, result["error_texts"]
    assert result["opened"] == 20
    deadline = time.time() + 60
    counts = alive()
    while counts["ServerSession"] and time.time() < deadline:   # the server reaps them
        time.sleep(1)
        counts = alive()
    assert counts["ServerSession"] == 0
    # what is left is the pages built ahead that no one was given yet (at most three)
    spares = counts["spare pages"]
    assert spares <= 3, counts
    assert counts["Explorer"] == spares and counts["Dashboard"] == spares, counts
    assert counts["ExplorerState"] == spares, counts
    assert counts["BootstrapTemplate"] <= spares, counts   # (a half-built one has none yet)
