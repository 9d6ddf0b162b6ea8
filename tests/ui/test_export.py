"""Export in Chromium: the offline HTML of every view draws with every request blocked and
keeps zoom and pan (a drag moves its ranges); the page's buttons download PNG, SVG, CSV and
HTML of a preset opened by link, on the trajectory view and on the oscillation view, and
"copy link" copies its URL.
"""
import struct
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from app.export_figures import Snapshot
from app.export_files import file_bytes

from .conftest import Page

SVG = "{http://www.w3.org/2000/svg}"


def _offline(browser, path):
    """Open ``path`` by file:// with every other request aborted; (page, requests tried)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    tried = []
    page = context.new_page()
    page.on("request", lambda r: tried.append(r.url))

    def block(route):
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            route.abort()
    page.route("**/*", block)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    return context, page, tried, errors


def _drawn(page) -> int:
    """How many of the page's canvases hold any non-blank pixel."""
    return page.evaluate("""() => {
      const canvases = []
      const walk = (root) => root.querySelectorAll('*').forEach((el) => {
        if (el.tagName === 'CANVAS') canvases.push(el)
        if (el.shadowRoot) walk(el.shadowRoot)
      })
      walk(document)
      return canvases.filter((c) => {
        if (!c.width || !c.height) return false
        const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data
        for (let i = 3; i < data.length; i += 4 * 97) if (data[i] !== 0) return true
        return false
      }).length
    }""")


def _check_offline_html(browser, path, figures: int, model: str = "threshold_line",
                        drag: bool = False):
    context, page, tried, errors = _offline(browser, path)
    try:
        page.wait_for_function(
            "(n) => window.Bokeh && Bokeh.documents.length > 0 && "
            "Bokeh.documents[0].get_model_by_name(n) !== null", arg=model, timeout=60000)
        page.wait_for_function(f"() => Object.keys(Bokeh.index).length >= 1", timeout=30000)
        page.wait_for_timeout(1500)
        assert _drawn(page) >= figures
        kinds = page.evaluate("() => Bokeh.documents[0].roots().map((r) => r.type)")
        assert kinds, "no root in the document"
        assert not [u for u in tried if not u.startswith("file:")], tried
        assert not errors, errors
        # zoom and hover stay: the figures carry their tools
        tools = page.evaluate("() => Array.from(Bokeh.documents[0]._all_models.values())"
                              ".filter((m) => m.type === 'HoverTool' || m.type === "
                              "'WheelZoomTool').length")
        assert tools >= 2
        if drag:
            _drag_moves_a_range(page)
        assert not errors, errors
    finally:
        context.close()


RANGES = ("JSON.stringify(Array.from(Bokeh.documents[0]._all_models.values())"
          ".filter((m) => m.type === 'Range1d' || m.type === 'DataRange1d')"
          ".map((m) => [m.start, m.end]))")


def _drag_moves_a_range(page):
    """A drag across the first plot's middle pans or box-zooms it: some range moves."""
    box = page.evaluate("""() => {
      const found = []
      const walk = (root) => root.querySelectorAll('*').forEach((el) => {
        if (el.tagName === 'CANVAS') found.push(el.getBoundingClientRect())
        if (el.shadowRoot) walk(el.shadowRoot)
      })
      walk(document)
      const r = found.find((b) => b.width > 250 && b.height > 150)
      return r ? {x: r.x, y: r.y, w: r.width, h: r.height} : null
    }""")
    assert box is not None
    page.evaluate(f"() => {{ window.rangesBefore = {RANGES} }}")
    x, y = box["x"] + box["w"] * 0.4, box["y"] + box["h"] * 0.4
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 80, y + 50, steps=8)
    page.mouse.up()
    page.wait_for_function(f"() => {RANGES} !== window.rangesBefore", timeout=15000)


# each view's offline file: (query, view, a named model it must hold, plots drawn)
VIEWS = {
    "basin": ({"preset": "zhu-fig2b-zoom", "basin_res": "12", "basin_steps": "200"},
              "basin_image", 1),
    "sweep": ({"view": "sweep", "model": "x2y2", "x0": "1.2", "y0": "0.9", "eta": "0.6",
               "sweep_eta_from": "0.3", "sweep_eta_to": "0.85", "sweep_count": "24",
               "sweep_keep": "8", "sweep_steps": "2000"}, "sweep_converged", 1),
    "ab": ({"preset": "zhu-ab", "steps": "200"}, "ab_bifurcation", 2),
    "oscillation": ({"preset": "q1-swing", "steps": "120"}, "osc_phase", 3),
    "distance": ({"preset": "q1-swing", "steps": "120"}, "dist_steps", 1),
}


@pytest.mark.parametrize("view", list(VIEWS))
def test_every_views_html_renders_offline_with_zoom_and_pan(browser, tmp_path, view):
    query, model, figures = VIEWS[view]
    path = tmp_path / f"{view}.html"
    path.write_bytes(file_bytes(Snapshot.from_query(query), view, "html"))
    _check_offline_html(browser, path, figures=figures, model=model, drag=True)


def _download(page, name: str, tmp_path):
    with page.expect_download(timeout=120000) as info:
        page.get_by_role("button", name=name, exact=True).click()
    download = info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    return target


def test_a_preset_by_link_downloads_png_svg_csv_html(browser, server_url, tmp_path):
    context = browser.new_context(viewport={"width": 1400, "height": 900},
                                  accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = Page(context.new_page())
    try:
        page.open(server_url + "?preset=zhu-fig2a")
        p = page.page
        assert p.get_by_role("button", name="PNG", exact=True).count() == 0   # built on use
        p.get_by_role("button", name="Export…").click()
        png = _download(p, "PNG", tmp_path)
        assert png.name == "eos_xyzw_eta0.2_trajectory.png"
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", data[16:24]) == (1920, 1080)

        csv = _download(p, "CSV", tmp_path).read_text()
        rows = [r for r in csv.splitlines() if not r.startswith("#")]
        names = rows[0].split(",")
        cells = [r.split(",") for r in rows[1:]]
        col = {n: np.array([float(c[i]) if c[i] else np.nan for c in cells])
               for i, n in enumerate(names)}
        shown_loss = np.asarray(page.column("run", "loss"))
        n = len(shown_loss)
        assert np.allclose(np.maximum(col["loss"][:n], 1e-32), shown_loss, rtol=1e-6)
        assert np.allclose(col["x"][:n], page.column("iterates", "x"), rtol=1e-6)
        assert "compare1_loss" in names and "compare2_loss" in names

        p.locator("select").filter(has_text="all plots").select_option(label="sharpness")
        svg = _download(p, "SVG", tmp_path)
        assert svg.name == "eos_xyzw_eta0.2_sharpness.svg"
        root = ET.fromstring(svg.read_bytes())
        assert any(g.get("id") == "threshold" for g in root.iter(f"{SVG}g"))

        html = _download(p, "HTML", tmp_path)
        assert html.name == "eos_xyzw_eta0.2_trajectory.html"
        assert b"<script src" not in html.read_bytes()
        _check_offline_html(browser, html, figures=3)

        p.get_by_role("button", name="copy link").click()
        p.get_by_role("button", name="link copied ✓").wait_for(timeout=10000)
        copied = p.evaluate("() => navigator.clipboard.readText()")
        assert copied == p.url and "eta=0.2" in copied and "compare=" in copied
        assert not page.errors, page.errors
    finally:
        context.close()


def test_a_preset_by_link_on_the_oscillation_view_downloads_every_format(browser, server_url,
                                                                         tmp_path):
    context = browser.new_context(viewport={"width": 1400, "height": 900},
                                  accept_downloads=True)
    page = Page(context.new_page())
    try:
        p = page.page
        p.goto(server_url + "?preset=q1-swing", timeout=120000)
        page.wait_until("() => { const s = window.Bokeh && Bokeh.documents.length && "
                        "Bokeh.documents[0]"
                        ".get_model_by_name('osc_phase'); return s != null && s.data != null && "
                        "(s.get_length() ?? 0) > 1000 }", timeout=240000)
        p.get_by_role("button", name="Export…").click()   # the download row is built on use
        png = _download(p, "PNG", tmp_path)
        assert png.name == "eos_xyzw_eta0.2_oscillation.png"
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", data[16:24]) == (1920, 1080)

        csv = _download(p, "CSV", tmp_path).read_text()
        head = [r for r in csv.splitlines() if r.startswith("# ")]
        assert any(r.startswith("# model: xyzw") for r in head)
        assert "# start: (x = 3, y = 0.01, z = 3, w = 0.01)" in head
        assert "# step size: η = 0.2" in head
        rows = [r for r in csv.splitlines() if not r.startswith("#")]
        names = rows[0].split(",")
        cells = [r.split(",") for r in rows[1:]]
        col = {n: np.array([float(c[i]) if c[i] else np.nan for c in cells])
               for i, n in enumerate(names)}
        for name in ("x", "y", "step"):   # the phase plane's points, as plotted
            shown = np.asarray(page.column("osc_phase", name), dtype=float)
            assert len(shown) == 1001
            assert np.allclose(col[name], shown, rtol=1e-12, atol=1e-300), name
        assert np.allclose(col["mean_sharpness"],
                           np.asarray(page.column("osc_sharpness", "mean_sharpness"), float),
                           rtol=1e-12)

        p.locator("select").filter(has_text="all plots").select_option(
            label="phase plane (x, y)")
        svg = _download(p, "SVG", tmp_path)
        assert svg.name == "eos_xyzw_eta0.2_phase_plane.svg"
        root = ET.fromstring(svg.read_bytes())
        assert any(g.get("id") == "phase_points" for g in root.iter(f"{SVG}g"))
        assert any(True for _ in root.iter(f"{SVG}path"))

        html = _download(p, "HTML", tmp_path)
        assert html.name == "eos_xyzw_eta0.2_oscillation.html"
        assert b"<script src" not in html.read_bytes()
        _check_offline_html(browser, html, figures=3, model="osc_phase")
        assert not page.errors, page.errors
    finally:
        context.close()
