"""Browser tests: one `panel serve app/main.py` per session, system Chromium via Playwright.

These tests never skip: without Chromium they fail and say how to get it.
"""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("EOS_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served(argv, log_name: str, env: dict | None = None):
    """A server started by ``argv(port)`` from the checkout's root, its output in
    ``test-artifacts/<log_name>``: yields (page URL, process) once the page answers, and
    stops the server after."""
    port = _free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / log_name, "w")
    proc = subprocess.Popen([sys.executable, *argv(port)], cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    url = f"http://127.0.0.1:{port}/main"
    deadline = time.time() + 300   # a loaded 2-core machine builds the first page slowly
    try:
        while True:
            try:
                urllib.request.urlopen(url, timeout=90)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    proc.kill()
                    pytest.fail(f"the server did not start; see {ARTIFACTS / log_name}")
                time.sleep(0.5)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def serve_args(port: int) -> list[str]:
    """`panel serve app/main.py` on ``port`` of the loopback (its own origin allowed)."""
    return ["--port", str(port), "--address", "127.0.0.1",
            f"--allow-websocket-origin=127.0.0.1:{port}"]


@pytest.fixture(scope="session")
def server_url():
    with served(lambda port: ["-m", "panel", "serve", "app/main.py", *serve_args(port)],
                "ui-server.log",
                # Bokeh's model checks; a few pages built ahead, so that bare links use them
                env={"BOKEH_VALIDATE_DOC": "true", "EOS_SPARE_PAGES": "3"}) as (url, _):
        yield url


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install it (apt-get install chromium) "
                    "or point EOS_CHROMIUM at a Chromium binary. Browser tests never skip.")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


class Page:
    """A loaded explorer page plus the console errors it produced."""

    def __init__(self, page):
        self.page = page
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def open(self, url: str) -> "Page":
        self.page.goto(url)
        self.page.wait_for_function(
            "() => window.Bokeh && Bokeh.documents.length > 0 && "
            "Bokeh.documents[0].get_model_by_name('threshold_line') !== null", timeout=60000)
        self.slider("step size η").wait_for(timeout=30000)
        return self

    def slider(self, name: str):
        return self.page.get_by_role("slider", name=name)

    def model(self, name: str, attr: str):
        return self.page.evaluate(
            "([n, a]) => { const m = Bokeh.documents[0].get_model_by_name(n);"
            " const v = m[a]; return (v && v.length !== undefined && typeof v !== 'string')"
            " ? Array.from(v) : v; }", [name, attr])

    def column(self, source: str, column: str) -> list[float]:
        return self.page.evaluate(
            "([n, c]) => Array.from(Bokeh.documents[0].get_model_by_name(n).data[c])",
            [source, column])

    def wait_until(self, js: str, arg=None, timeout: float = 15000):
        self.page.wait_for_function(js, arg=arg, timeout=timeout)


@pytest.fixture
def explorer(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = Page(context.new_page())
    yield page
    context.close()
