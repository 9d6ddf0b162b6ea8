"""Latency of the live dashboard in a real browser: η key press -> new run on screen.

Starts ``panel serve app/main.py`` on a free port, opens a 3000-step run, presses
ArrowRight on the η slider N times and measures, in the page, the time from the keydown
to the animation frame in which the 2/η Span *and* the trajectory, loss and sharpness
data sources all hold the new run. Prints p50 / p90 (ms) and any console errors. Not a
test: a figure to watch. ``--pages`` repeats the presses in fresh page loads (the spread
between pages is part of the figure); ``EOS_SERVER_LOG=path`` keeps the server's log.

    .venv/bin/python tests/benchmarks/bench_ui_latency.py [--presses 40] [--steps 3000] [--pages 1]
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

# Arms a watcher: resolves with ms from the next keydown to the frame where every watched
# model changed (Span location, and the data object of each watched source).
ARM_JS = """
(names) => { window.__latency = new Promise((resolve) => {
  const doc = Bokeh.documents[0];
  const span = doc.get_model_by_name("threshold_line");
  const sources = names.map((n) => doc.get_model_by_name(n));
  const before = {loc: span.location, data: sources.map((s) => s.data)};
  let t0 = null;
  const onKey = () => { if (t0 === null) t0 = performance.now(); };
  window.addEventListener("keydown", onKey, {capture: true, once: true});
  const check = () => {
    const changed = span.location !== before.loc &&
      sources.every((s, i) => s.data !== before.data[i]);
    if (t0 !== null && changed) {
      // one more frame: the one in which the new data is painted
      requestAnimationFrame(() => resolve(performance.now() - t0));
    } else if (t0 !== null && performance.now() - t0 > 10000) {
      resolve(-1);
    } else {
      requestAnimationFrame(check);
    }
  };
  requestAnimationFrame(check);
}); }
"""
WATCHED = ["iterates", "run"]   # the trajectory; the loss and sharpness curves share "run"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    cmd = [str(ROOT / ".venv" / "bin" / "panel"), "serve", "app/main.py", "--port", str(port),
           "--address", "127.0.0.1", f"--allow-websocket-origin=127.0.0.1:{port}"]
    if not Path(cmd[0]).exists():
        cmd[0:1] = [sys.executable, "-m", "panel"]
    log = open(os.environ.get("EOS_SERVER_LOG", os.devnull), "w")   # the server's stderr
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log,
                            env=dict(os.environ))
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/main", timeout=5)
            return proc
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError("panel serve did not come up within 90 s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_until_idle(pid: int, limit: float = 90.0) -> None:
    """Wait until the server uses < 5 % of a core for a second (its warm-up has finished).

    The first visit starts compiling every model's programs in the background; key presses
    measured meanwhile would time the compiler, not the dashboard.
    """
    deadline, last = time.time() + limit, cpu_seconds(pid)
    while time.time() < deadline:
        time.sleep(1.0)
        now = cpu_seconds(pid)
        if now - last < 0.05:
            return
        last = now


def measure(url: str, presses: int, watched: list[str], server_pid: int | None = None,
            pages: int = 1, errors: list[str] | None = None) -> list[float]:
    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for i in range(pages):
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            if errors is not None:
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url)
            if i == 0 and server_pid is not None and Path(f"/proc/{server_pid}/stat").exists():
                wait_until_idle(server_pid)
            out += _presses(page, presses, watched)
            page.close()
        browser.close()
    return out


def _presses(page, presses: int, watched: list[str]) -> list[float]:
    """Warm up, then time ``presses`` ArrowRight presses on the η slider (ms; -1: none seen)."""
    handle = page.get_by_role("slider", name="step size η")
    handle.wait_for(timeout=30000)
    page.wait_for_function("() => window.Bokeh && Bokeh.documents.length > 0 && "
                           "Bokeh.documents[0].get_model_by_name('threshold_line')")
    page.wait_for_timeout(1500)
    handle.focus()
    for _ in range(3):   # warm-up: first runs compile / fill caches
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(400)
    out = []
    for _ in range(presses):
        page.evaluate(ARM_JS, watched)
        page.keyboard.press("ArrowRight")
        ms = page.evaluate("() => window.__latency")
        out.append(ms)
        page.wait_for_timeout(60)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=40)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--watch", default=",".join(WATCHED),
                        help="data sources that must change too (comma-separated; '' = Span only)")
    parser.add_argument("--url", help="an already running server's page (skip starting one)")
    parser.add_argument("--pages", type=int, default=1,
                        help="fresh page loads, each with --presses presses")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"Chromium not found at {CHROMIUM}; install it (apt-get install chromium).")
    query = f"?model=xyzw&eta=0.2&steps={args.steps}"
    proc = None
    if args.url:
        url = args.url + query
    else:
        port = free_port()
        proc = start_server(port)
        url = f"http://127.0.0.1:{port}/main{query}"
    errors: list[str] = []
    try:
        samples = measure(url, args.presses, [n for n in args.watch.split(",") if n],
                          proc.pid if proc is not None else None, args.pages, errors)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=20)
    lost = [s for s in samples if s < 0]
    good = sorted(s for s in samples if s >= 0)
    if not good:
        sys.exit("no update was seen after any key press")
    p90 = good[min(len(good) - 1, int(round(0.9 * (len(good) - 1))))]
    print(f"η key press -> 2/η line, trajectory, loss and sharpness redrawn "
          f"({args.steps} steps, {len(good)} presses in {args.pages} page(s), "
          f"{len(lost)} timed out)")
    print(f"p50 {statistics.median(good):.1f} ms   p90 {p90:.1f} ms   "
          f"min {good[0]:.1f} ms   max {good[-1]:.1f} ms")
    if errors:
        print(f"{len(errors)} console error(s), the first: {errors[0][:300]}")


if __name__ == "__main__":
    main()
