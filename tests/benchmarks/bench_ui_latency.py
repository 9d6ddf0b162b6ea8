"""Latency of the live dashboard in a real browser: η key press -> new run on screen.

Starts one ``panel serve`` with two apps: the explorer (``app/main.py``) and a *floor* — this
file served as a bare Panel app whose slider only moves a Span and replaces one 3001-point
line (below). Presses ArrowRight on the η slider N times in each and measures, in the page,
the time from the keydown to the animation frame in which the 2/η Span *and* the watched
data sources all hold the new values (explorer: trajectory, loss and sharpness). Reports
p50 / p90 (ms) for the floor, the explorer, and the explorer with three compared runs pinned
and the replay cursor on, each p50 also as a ratio to the floor's in the same run; the pages
take turns (``--rounds``) so a busy spell of the machine falls on all of them. Not a test: a
figure to watch. ``EOS_SERVER_LOG=path`` keeps the server's log.

    .venv/bin/python tests/benchmarks/bench_ui_latency.py [--presses 40] [--steps 3000] [--rounds 2]
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
FLOOR_POINTS = 3001
COMPARED = "steps:{steps},eta:0.25;steps:{steps},eta:0.2;steps:{steps},eta:0.1666666667"


def floor_app():
    """The floor: a Panel slider whose every move sets one Span and one 3001-point line.

    The same slider widget and settings as the explorer's η (no debounce), the same float32
    columns; nothing else is computed or drawn, so its latency is Panel + Bokeh's round trip.
    """
    import numpy as np
    import panel as pn
    from bokeh.models import ColumnDataSource, Span
    from bokeh.plotting import figure

    t = np.arange(FLOOR_POINTS, dtype=np.float32)
    source = ColumnDataSource({"t": t, "y": np.zeros(FLOOR_POINTS, np.float32)}, name="run")
    fig = figure(width=470, height=270)
    fig.line("t", "y", source=source)
    span = Span(dimension="width", location=10.0, name="threshold_line")
    fig.add_layout(span)
    slider = pn.widgets.EditableFloatSlider(name="step size η", start=0.01, end=0.5, step=0.001,
                                            value=0.2, format="0.[0000]")
    for part in (slider, slider._slider, slider._value_edit):
        part._debounce = 0

    def move(event):
        eta = float(event.new)
        span.location = 2.0 / eta
        source.data = {"t": t, "y": np.sin(t * eta / 50).astype(np.float32)}

    slider.param.watch(move, "value")
    return pn.Row(slider, pn.pane.Bokeh(fig))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    cmd = [str(ROOT / ".venv" / "bin" / "panel"), "serve", "app/main.py",
           str(Path(__file__).relative_to(ROOT)), "--port", str(port),
           "--address", "127.0.0.1", f"--allow-websocket-origin=127.0.0.1:{port}"]
    if not Path(cmd[0]).exists():
        cmd[0:1] = [sys.executable, "-m", "panel"]   # ROOT: a worktree may have no .venv
    log = open(os.environ.get("EOS_SERVER_LOG", os.devnull), "w")   # the server's stderr
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log,
                            env=dict(os.environ))
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/main", timeout=60)   # a cold first page is slow
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
    if not watched or "iterates" not in watched:   # the floor has no accessible names
        handle = page.locator(".noUi-handle").first
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


def percentile(good: list[float], q: float) -> float:
    return good[min(len(good) - 1, int(round(q * (len(good) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=40, help="per page, over all rounds")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2,
                        help="turns the three pages take (each a fresh page load)")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"Chromium not found at {CHROMIUM}; install it (apt-get install chromium).")
    port = free_port()
    proc = start_server(port)
    base = f"http://127.0.0.1:{port}"
    explorer = f"{base}/main?model=xyzw&eta=0.2&steps={args.steps}"
    pages = {   # name -> (url, watched sources)
        "floor (Span + one 3001-point line)": (f"{base}/bench_ui_latency", ["run"]),
        "explorer": (explorer, WATCHED),
        "explorer, 3 compared runs + replay cursor": (
            explorer + "&compare=" + COMPARED.format(steps=args.steps) + "&cursor=1500", WATCHED),
    }
    samples = {name: [] for name in pages}
    errors: list[str] = []
    per_round = max(1, args.presses // args.rounds)
    try:
        measure(explorer, 0, WATCHED, proc.pid, 1, errors)   # warm-up: compile, fill caches
        for _ in range(args.rounds):
            for name, (url, watched) in pages.items():
                samples[name] += measure(url, per_round, watched, None, 1, errors)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    print(f"η key press -> 2/η line and watched sources redrawn ({args.steps} steps, "
          f"{per_round} presses x {args.rounds} rounds per page, fresh page loads, one server)")
    floor = None
    for name, values in samples.items():
        good = sorted(v for v in values if v >= 0)
        lost = len(values) - len(good)
        if not good:
            print(f"{name}: no update seen after any key press")
            continue
        p50 = statistics.median(good)
        floor = p50 if floor is None else floor
        print(f"{name:45s} p50 {p50:6.1f} ms   p90 {percentile(good, 0.9):6.1f} ms   "
              f"min {good[0]:6.1f}   max {good[-1]:6.1f}   {p50 / floor:4.2f}x floor"
              + (f"   ({lost} timed out)" if lost else ""))
    if errors:
        print(f"{len(errors)} console error(s), the first: {errors[0][:300]}")


if __name__ == "__main__":
    main()
elif __name__.startswith("bokeh_app"):   # served by `panel serve`: the floor page
    floor_app().servable()
