"""Cold start: `panel serve` started → the first plot drawn in headless Chromium.

In one run, each case a fresh server process on a free port, loaded by the same browser:

  hello     a hello-world Panel app (one Markdown pane), the floor of serve + load;
  explorer  `panel serve app/main.py` with an empty JAX cache (``EOS_JAX_CACHE`` set to a
            new temporary folder): a fresh clone's first start;
  restart   the explorer again on the cache the first start left behind (that server is
            kept alive until its background warm-up stops writing to the cache).

The clock starts when the server process is spawned and stops when the page holds the
first plot: for the explorer, the Bokeh document has the ``threshold_line`` Span and the
run's source (``run``) has rows; for hello-world, the document has its root. Prints
seconds and the ratio to hello-world. Not a test: a figure to watch (the 2 cores are
shared, so repeat it and read the spread).

    .venv/bin/python tests/benchmarks/bench_cold_start.py [--repeat 1]
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
HELLO = 'import panel as pn\n\npn.pane.Markdown("# Hello, world").servable()\n'
HELLO_READY = "() => window.Bokeh && Bokeh.documents.length > 0 && " \
              "Bokeh.documents[0].roots().length > 0"
EXPLORER_READY = ("() => { if (!(window.Bokeh && Bokeh.documents.length > 0)) return false;"
                  " const d = Bokeh.documents[0];"
                  " const run = d.get_model_by_name('run');"
                  " return d.get_model_by_name('threshold_line') !== null && run !== null &&"
                  " run.data.t !== undefined && run.data.t.length > 0; }")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(app: Path, port: int, env: dict) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "panel", "serve", str(app), "--port", str(port),
           "--address", "127.0.0.1", f"--allow-websocket-origin=127.0.0.1:{port}"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def time_to_first_plot(browser, app: Path, ready_js: str, env: dict, keep=None):
    """(wall s, server CPU s) from spawning the server to ``ready_js`` holding in a page.

    The CPU seconds are the server's own work, which other load on the machine does not
    stretch (the wall time it does)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/{app.stem}"
    t0 = time.perf_counter()
    proc = serve(app, port, env)
    try:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        while True:   # the port opens a while after the spawn: retry the load until it does
            try:
                page.goto(url, timeout=120_000)
                break
            except Exception:
                if proc.poll() is not None or time.perf_counter() - t0 > 180:
                    raise RuntimeError(f"the server for {app} did not start")
                time.sleep(0.1)
        page.wait_for_function(ready_js, timeout=180_000, polling=50)
        seconds, cpu = time.perf_counter() - t0, cpu_seconds(proc.pid)
        context.close()
        if keep is not None:
            keep()
        return seconds, cpu
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_until_still(folder: Path, quiet: float = 15.0, limit: float = 300.0) -> None:
    """Return once no file was added to ``folder`` for ``quiet`` s (the warm-up is done)."""
    start, last, count = time.time(), time.time(), -1
    while time.time() - start < limit:
        now = sum(1 for _ in folder.rglob("*"))
        if now != count:
            count, last = now, time.time()
        elif time.time() - last > quiet:
            return
        time.sleep(1.0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        hello = Path(tmp) / "hello.py"
        hello.write_text(HELLO)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for i in range(args.repeat):
            cache = Path(tmp) / f"jax-cache-{i}"
            cache.mkdir()
            env = {**os.environ, "EOS_JAX_CACHE": str(cache)}
            t_hello = time_to_first_plot(browser, hello, HELLO_READY, env)
            t_cold = time_to_first_plot(browser, ROOT / "app" / "main.py", EXPLORER_READY, env,
                                        keep=lambda: wait_until_still(cache))
            t_warm = time_to_first_plot(browser, ROOT / "app" / "main.py", EXPLORER_READY, env)
            print(f"run {i + 1}, load average {os.getloadavg()[0]:.1f}:", flush=True)
            for label, (wall, cpu) in (("hello-world", t_hello), ("explorer, empty cache", t_cold),
                                       ("explorer, warm cache", t_warm)):
                print(f"  {label:22s} {wall:5.1f} s ({wall / t_hello[0]:.1f}× hello-world);"
                      f" server CPU {cpu:5.1f} s ({cpu / t_hello[1]:.1f}×)", flush=True)
        browser.close()
    print(f"cpu count {os.cpu_count()}")


if __name__ == "__main__":
    main()
