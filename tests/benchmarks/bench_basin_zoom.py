"""From a zoom to the first coarse and to the full basin map in the browser.

    .venv/bin/python tests/benchmarks/bench_basin_zoom.py [--zooms N] [--res 160 512]

Serves the app (``panel serve app/main.py`` on a free port), opens ``?view=basin`` (GD on
x2y2, η = 0.2, 50 000 steps per start: the app's defaults) in headless Chromium with
``basin_res`` cells per side, and box-zooms into Zhu et al.'s window [3.0, 3.4] × [0.1, 0.5]
by dragging the mouse, as a user does. Each zoom after the first is shifted by 0.002 in x
and y, so that no map comes from the server's cache; between zooms the view's "reset
window" button brings back the model's window (cached: at once).

Times are taken inside the page (``performance.now()``): from the mouse release to the
moment the map's image source (the model named ``basin_image``) first holds the coarse
64 × 64 picture of the new window, and then the full res × res one. They include the
view's debounce of a zoom (``ZOOM_DEBOUNCE_MS``, 300 ms) and the trip through the server;
each map is computed cold (a new window), warm in compilation. Medians of ``--zooms``.
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

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("EOS_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SOURCE = "Bokeh.documents[0].get_model_by_name('basin_image')"
COARSE = 64

# Polls the image source every millisecond from the mouse release on; resolves with the
# times (ms after the release) at which the coarse and the full picture of a window no
# wider than 1 first appear.
WATCH = """res => { window.zoomTimes = new Promise(done => {
  const t = {up: null, coarse: null, full: null};
  document.addEventListener('mouseup', () => { t.up = performance.now(); },
                            {capture: true, once: true});
  const tick = () => {
    const d = %s.data, n = d.value[0].length;
    if (t.up !== null && d.dw[0] < 1) {
      if (t.coarse === null && n === %d * %d) t.coarse = performance.now() - t.up;
      if (n === res * res) {
        t.full = performance.now() - t.up;
        if (t.coarse === null) t.coarse = t.full;
        return done(t);
      }
    }
    setTimeout(tick, 1);
  };
  tick();
}); }""" % (SOURCE, COARSE, COARSE)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve():
    """(process, url) of a fresh ``panel serve app/main.py``."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "panel", "serve", "app/main.py", "--port", str(port),
         "--address", "127.0.0.1", f"--allow-websocket-origin=127.0.0.1:{port}"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/main"
    deadline = time.time() + 300
    while True:
        try:
            urllib.request.urlopen(url, timeout=90)
            return proc, url
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise SystemExit("panel serve did not start")
            time.sleep(0.5)


def home_map(page, res: int, timeout=600_000) -> None:
    """Wait for the full map of the model's window (wider than 1)."""
    page.wait_for_function(
        f"() => window.Bokeh && Bokeh.documents.length > 0 && {SOURCE} !== null && "
        f"{SOURCE}.data.value.length > 0 && {SOURCE}.data.value[0].length === {res * res} && "
        f"{SOURCE}.data.dw[0] > 1", timeout=timeout)


def screen(page, x, y):
    """Page pixel coordinates of the data point (x, y) on the map."""
    return page.evaluate(
        "([x, y]) => { const v = Bokeh.index.get_one(Bokeh.documents[0]"
        ".get_model_by_name('basin_map'));"
        " const r = v.canvas_view.el.getBoundingClientRect();"
        " return [r.left + v.frame.x_scale.compute(x), r.top + v.frame.y_scale.compute(y)]; }",
        [x, y])


def zoom_once(page, res: int, shift: float) -> dict:
    """One box zoom into [3.0, 3.4] × [0.1, 0.5] shifted by ``shift``: the page's times."""
    (x0, y0), (x1, y1) = screen(page, 3.0 + shift, 0.5 + shift), screen(page, 3.4 + shift,
                                                                          0.1 + shift)
    page.evaluate(WATCH, res)
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x1, y1, steps=8)
    page.mouse.up()
    return page.evaluate("() => window.zoomTimes")   # awaits the promise


def measure(browser, url: str, res: int, zooms: int) -> list[dict]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(600_000)
    page = context.new_page()
    page.goto(f"{url}?view=basin&basin_res={res}")
    home_map(page, res)
    times = []
    for i in range(zooms + 1):            # the first zoom warms the new window's path
        t = zoom_once(page, res, 0.002 * i)
        if i:
            times.append(t)
            print(f"  {res}² zoom {i}: coarse {t['coarse']:.0f} ms, full {t['full']:.0f} ms",
                  flush=True)
        page.get_by_role("button", name="reset window").click()
        home_map(page, res)
    context.close()
    return times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zooms", type=int, default=5, help="timed zooms per resolution")
    parser.add_argument("--res", type=int, nargs="+", default=[160, 512])
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    print(f"load average before: {os.getloadavg()}; cpus: {os.cpu_count()}")
    proc, url = serve()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            results = {res: measure(browser, url, res, args.zooms) for res in args.res}
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    print("\nzoom → picture in the browser (medians; includes the 300 ms zoom debounce):")
    for res, times in results.items():
        coarse = statistics.median(t["coarse"] for t in times)
        full = statistics.median(t["full"] for t in times)
        print(f"  {res} × {res}: first coarse {COARSE}² {coarse:.0f} ms, full {res}² "
              f"{full:.0f} ms (of {len(times)} zooms)")
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
