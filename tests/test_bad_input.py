"""The table of bad inputs (tests/bad_inputs.py), every row end to end without a browser.

api: the engine raises ValueError with the row's words (or returns a diverged run);
link: the words the page would show for the query (its notices, the message or verdict of the
run, a view's own message), and the state stays usable; typed: the message a control gets and
then a good value is taken; cli: a real ``python -m app.export`` subprocess, one line on stderr,
exit status 2, no traceback.
"""
from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

import dynamics
from app import basin
from app.compare import decode
from app.state import ExplorerState
from app.views_sweep import sweep_spec

from bad_inputs import CASES, DIVERGED, cases

ROOT = Path(__file__).resolve().parents[1]


def test_every_place_has_rows_and_no_row_is_repeated():
    assert {c.where for c in CASES} == {"api", "link", "typed", "cli"}
    ids = [repr((c.where, c.given, c.start)) for c in CASES]
    assert len(ids) == len(set(ids))


# --- the engine ---------------------------------------------------------------------------

@pytest.mark.parametrize("case", cases("api"), ids=lambda c: c.id)
def test_api(case):
    name, args, kwargs = case.given
    fn = getattr(dynamics, name)
    if case.expect == DIVERGED:
        traj = fn(*args, **kwargs)
        assert traj.diverged_at is not None
        return
    with pytest.raises(ValueError) as info:
        fn(*args, **kwargs)
    assert case.expect in str(info.value)


# --- what the page says: links and typed values -------------------------------------------

def view_words(state: ExplorerState) -> list[str]:
    """What the page shows besides the link's notices: the run's message or verdict, the
    compared runs left out, the open view's own message."""
    result = state.run()
    words = [result.message or result.verdict, *decode(state.compare, state.model)[1]]
    if state.view == "sweep" and isinstance(sweep_spec(state), str):
        words.append(sweep_spec(state))
    if state.view == "basin" and isinstance(basin.spec_of(state), str):
        words.append(basin.spec_of(state))
    return words


def query(text: str) -> dict[str, str]:
    return dict(parse_qsl(text, keep_blank_values=True))


def still_usable(state: ExplorerState) -> None:
    """A good value afterwards is taken and runs."""
    assert state.set_from_control("eta", "0.05") == ""
    assert state.eta == 0.05 and state.input_error == ""
    result = state.run()
    assert result.ok or state.check() == "" and result.message


@pytest.mark.parametrize("case", cases("link"), ids=lambda c: c.id)
def test_link(case):
    state = ExplorerState()
    words = state.apply_query(query(case.given)) + view_words(state)
    assert any(case.expect in w for w in words), words
    assert not any("Traceback" in w for w in words)
    still_usable(state)


@pytest.mark.parametrize("case", cases("typed"), ids=lambda c: c.id)
def test_typed(case):
    state = ExplorerState()
    assert state.apply_query(query(case.start)) == []
    for name, text in case.given:
        state.set_from_control(name, text)
    if not case.expect:   # accepted as typed
        assert state.input_error == ""
        assert getattr(state, name) == type(getattr(state, name))(text)
        assert state.run().ok
        return
    words = [state.input_error] + view_words(state)
    assert any(case.expect in w for w in words), words
    still_usable(state)


# --- the export CLI -----------------------------------------------------------------------

def _export(argv: list[str], out: Path) -> subprocess.CompletedProcess:
    if "--format" not in argv:
        argv = argv + ["--format", "png"]
    return subprocess.run([sys.executable, "-m", "app.export", *argv, "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_cli(tmp_path):
    """Every CLI row in a real subprocess (two at a time: each pays Python's and JAX's start)."""
    rows = cases("cli")
    with ThreadPoolExecutor(2) as pool:
        done = list(pool.map(lambda ic: _export(ic[1].given, tmp_path / f"{ic[0]}.png"),
                             enumerate(rows)))
    failures = []
    for case, proc in zip(rows, done):
        lines = [ln for ln in proc.stderr.splitlines() if "app.export" in ln or "error" in ln]
        ok = (proc.returncode == 2 and len(lines) == 1 and case.expect in lines[0]
              and "Traceback" not in proc.stderr and proc.stdout == "")
        if not ok:
            failures.append(f"{case.given}: status {proc.returncode}, stderr {proc.stderr!r}")
    assert not failures, "\n".join(failures)
    assert not list(tmp_path.iterdir())   # no file written for a refused export


def test_a_page_closed_mid_write_is_one_line_not_a_traceback(caplog):
    """The server's loop logs a write to a closed page as a line; other errors as before."""
    import asyncio
    import logging

    from tornado.websocket import WebSocketClosedError

    from app import closed_sockets

    async def main():
        closed_sockets.install()
        closed_sockets.install()   # once only
        loop = asyncio.get_running_loop()
        loop.call_exception_handler({"message": "Task exception was never retrieved",
                                     "exception": WebSocketClosedError()})
        loop.call_exception_handler({"message": "something else broke",
                                     "exception": ValueError("boom")})

    with caplog.at_level(logging.INFO):
        asyncio.run(main())
    assert caplog.text.count("A page closed while a message to it was being written") == 1
    assert "something else broke" in caplog.text and "boom" in caplog.text


def test_a_page_closed_while_its_message_is_handled_is_one_line_not_a_traceback(caplog):
    """Bokeh's assert on a detached connection (the page closed mid-PATCH-DOC), as Bokeh's
    protocol handler, tornado and the loop report it: one line each; other errors as before."""
    import asyncio
    import logging

    from bokeh.server.connection import ServerConnection
    from tornado.log import app_log

    from app import closed_sockets

    gone = ServerConnection.__new__(ServerConnection)   # a connection whose page has closed
    gone._session = None
    with pytest.raises(AssertionError) as caught:
        gone.session
    exc = caught.value
    assert closed_sockets.detached(exc) and not closed_sockets.detached(AssertionError("x"))

    async def main():
        closed_sockets.install()
        closed_sockets.install()   # once only
        handler = logging.getLogger("bokeh.server.protocol_handler")
        handler.error("error handling message\n message: %r \n error: %r", "PATCH-DOC", exc,
                      exc_info=(type(exc), exc, exc.__traceback__))
        app_log.error("Uncaught exception %s", exc, exc_info=(type(exc), exc, exc.__traceback__))
        asyncio.get_running_loop().call_exception_handler({"message": "in on_close",
                                                           "exception": exc})
        try:
            raise ValueError("boom")
        except ValueError as other:
            handler.error("error handling message: %r", other, exc_info=True)

    with caplog.at_level(logging.INFO):
        asyncio.run(main())
    assert caplog.text.count(closed_sockets.GONE) == 3
    assert "connection.py" not in caplog.text.split("boom")[0]   # no traceback before it
    boom = [r for r in caplog.records if "boom" in r.getMessage()]
    assert len(boom) == 1 and boom[0].levelno == logging.ERROR and boom[0].exc_info
    assert len(logging.getLogger("tornado.application").filters) == 1
