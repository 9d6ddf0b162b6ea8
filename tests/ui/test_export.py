"""Export in Chromium: the offline HTML draws with every request blocked; the page's buttons
download PNG, SVG, CSV and HTML of a preset opened by link, and "copy link" copies its URL.
"""
import io
import struct
import xml.etree.ElementTree as ET

import numpy as np

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


def _check_offline_html(browser, path, figures: int):
    context, page, tried, errors = _offline(browser, path)
    try:
        page.wait_for_function(
            "() => window.Bokeh && Bokeh.documents.length > 0 && "
            "Bokeh.documents[0].get_model_by_name('threshold_line') !== null", timeout=60000)
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
    finally:
        context.close()


def test_offline_html_renders_with_the_network_blocked(browser, tmp_path):
    snap = Snapshot.from_preset("zhu-fig2a")
    path = tmp_path / "zhu.html"
    path.write_bytes(file_bytes(snap, "trajectory", "html"))
    _check_offline_html(browser, path, figures=3)


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
