"""``app.session_gate``: pages built one at a time, each answered before the next is built.

Three sessions are created at once, as when a class opens the link together. Each build
(pure Python, no await: as a page's script is) leaves a request behind it, as a built
page's document request arrives while the server is busy. With the gate, that request is
answered before the next page is built; without it, every build runs first.
"""
from __future__ import annotations

import asyncio
from types import SimpleNamespace

from bokeh.application import Application
from bokeh.application.handlers.function import FunctionHandler

from app import session_gate


class _FakeDoc:
    def __init__(self, context):
        self.session_context = context


def _create_sessions(application, log: list[str], count: int) -> None:
    """Create ``count`` sessions concurrently as Bokeh's server does; the order of events."""
    async def create(i):
        context = SimpleNamespace(id=f"s{i}")
        await application.on_session_created(context)
        doc = _FakeDoc(context)
        for handler in application.handlers:   # Application.initialize_document's loop
            handler.modify_document(doc)

    async def main():
        await asyncio.gather(*(create(i) for i in range(count)))
        await asyncio.sleep(0)

    asyncio.run(main())


def _served_application():
    """The page's script as an application, as a server holds it; the events' log."""
    log: list[str] = []

    def build(doc):
        i = doc.session_context.id
        log.append(f"build {i}")
        asyncio.get_running_loop().call_soon(log.append, f"answer {i}")

    application = Application(FunctionHandler(build))
    server = SimpleNamespace(application_context=SimpleNamespace(application=application))
    first = SimpleNamespace(session_context=SimpleNamespace(server_context=server, id="s-first"))
    return application, first, log


def test_each_built_page_is_answered_before_the_next_is_built():
    application, first, log = _served_application()
    session_gate.install(first)
    session_gate.install(first)   # once per server
    assert sum(isinstance(h, session_gate._Gate) for h in application.handlers) == 1
    _create_sessions(application, log, 3)
    assert log == ["build s0", "answer s0", "build s1", "answer s1", "build s2", "answer s2"]


def test_without_the_gate_every_build_runs_first():
    application, _, log = _served_application()
    _create_sessions(application, log, 3)
    assert log[:3] == ["build s0", "build s1", "build s2"]


def test_a_document_of_its_own_installs_nothing():
    session_gate.install(SimpleNamespace(session_context=None))
    session_gate.install(object())


def test_a_build_that_never_ends_holds_the_others_back_only_for_a_while(monkeypatch):
    monkeypatch.setattr(session_gate, "TURN_TIMEOUT_S", 0.05)
    gate = session_gate._Gate()
    built = []

    async def main():
        await gate.on_session_created(SimpleNamespace(id="stuck"))   # never ends its turn
        for i in range(2):
            context = SimpleNamespace(id=f"s{i}")
            await gate.on_session_created(context)
            built.append(context.id)
            gate.modify_document(_FakeDoc(context))
        await asyncio.sleep(0.01)

    asyncio.run(main())
    assert built == ["s0", "s1"]


class _Context:
    """A session context as Bokeh's has it in ``on_session_created``: its document is there,
    and ``with_locked_document`` hands it over."""

    def __init__(self, i, server=None):
        self.id, self.server_context = f"s{i}", server
        self.document = _FakeDoc(self)

    async def with_locked_document(self, func):
        await func(self.document)


def test_a_page_is_built_in_two_parts_with_the_waiting_requests_answered_between():
    log: list[str] = []

    def prepare(doc):   # the first part (the explorer), in the session's turn
        i = doc.session_context.id
        log.append(f"prepare {i}")
        asyncio.get_running_loop().call_soon(log.append, f"a slider moved during {i}")
        return f"explorer {i}"

    def build(doc):   # the page's script: takes the first part, builds the rest
        log.append(f"build {doc.session_context.id} from {session_gate.prepared(doc)}")
        log.append(f"taken again: {session_gate.prepared(doc)}")

    application = Application(FunctionHandler(build))
    server = SimpleNamespace(application_context=SimpleNamespace(application=application))
    session_gate.install(_FakeDoc(SimpleNamespace(server_context=server)), prepare=prepare)

    async def create(i):
        context = _Context(i, server)
        await application.on_session_created(context)
        for handler in application.handlers:
            handler.modify_document(context.document)

    async def main():
        await asyncio.gather(*(create(i) for i in range(2)))
        await asyncio.sleep(0)

    asyncio.run(main())
    assert log == ["prepare s0", "a slider moved during s0", "build s0 from explorer s0",
                   "taken again: None",
                   "prepare s1", "a slider moved during s1", "build s1 from explorer s1",
                   "taken again: None"]


def test_a_first_part_that_fails_leaves_the_script_to_build_the_page():
    def prepare(doc):
        raise RuntimeError("no explorer")

    built = []
    application = Application(FunctionHandler(
        lambda doc: built.append(session_gate.prepared(doc))))
    server = SimpleNamespace(application_context=SimpleNamespace(application=application))
    session_gate.install(_FakeDoc(SimpleNamespace(server_context=server)), prepare=prepare)

    async def main():
        context = _Context(0, server)
        await application.on_session_created(context)
        for handler in application.handlers:
            handler.modify_document(context.document)

    asyncio.run(main())
    assert built == [None]
