"""Legends in a real browser: kept through an η step, and every entry's glyph still drawn.

BokehJS 3.9 draws each legend entry on a small canvas of its own. An η step must neither
rebuild a legend (new entries, new canvases) nor leave an entry blank: app/paint.py draws
the entries again only when they change, and app/figures.py keeps the stand-ins' views from
flipping on every repaint.
"""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.ui

# counts legend rebuilds from now on (window.__rebuilds)
COUNT_REBUILDS = """
() => {
  window.__rebuilds = 0
  const legend = Bokeh.require("models/annotations/legend").LegendView.prototype
  const render = legend._render_items
  legend._render_items = function () { window.__rebuilds += 1; return render.call(this) }
}
"""
# every legend entry's label and how many of its glyph canvas's pixels are not transparent
ENTRIES = """
() => {
  const out = []
  const walk = (root) => {
    for (const el of root.querySelectorAll("*")) {
      if (el.classList?.contains("bk-item")) {
        const canvas = el.querySelector("canvas")
        const {width, height} = canvas
        const pixels = canvas.getContext("2d").getImageData(0, 0, width, height).data
        let inked = 0
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) inked += 1
        out.push([el.textContent.trim(), inked])
      }
      if (el.shadowRoot) walk(el.shadowRoot)
    }
  }
  walk(document)
  return out
}
"""
LAST_X = ("() => { const x = Bokeh.documents[0].get_model_by_name('iterates').data.x;"
          " return x[x.length - 1]; }")


def _entries(explorer) -> dict[str, int]:
    entries = explorer.page.evaluate(ENTRIES)
    return {f"{label} #{i}": inked for i, (label, inked) in enumerate(entries)}


def test_an_eta_step_keeps_every_legend_and_its_glyphs(explorer, server_url):
    explorer.open(server_url + "?steps=800")
    page = explorer.page
    page.wait_for_timeout(1500)   # the first paints are over
    before = _entries(explorer)
    assert len(before) >= 10 and all(before.values()), before   # each entry shows its glyph
    page.evaluate(COUNT_REBUILDS)
    last_x = page.evaluate(LAST_X)
    explorer.slider("step size η").focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(400)
    explorer.wait_until(f"() => ({LAST_X})() !== {last_x}")   # the new run is drawn
    page.wait_for_timeout(500)
    assert page.evaluate("() => window.__rebuilds") == 0
    assert _entries(explorer) == before   # the same entries, each still drawn
    assert explorer.errors == []


def test_an_entry_that_appears_is_drawn(explorer, server_url):
    """Showing the gradient flow adds its legend entries: rebuilt, and their glyphs drawn."""
    explorer.open(server_url + "?steps=300")
    page = explorer.page
    page.wait_for_timeout(1000)
    assert not [k for k in _entries(explorer) if k.startswith("gradient flow")]
    page.get_by_label("show gradient flow", exact=True).first.check()
    explorer.wait_until("() => Bokeh.documents[0].get_model_by_name('flow').data.x.length > 0",
                        timeout=60000)
    page.wait_for_timeout(1000)
    entries = _entries(explorer)
    flows = {k: v for k, v in entries.items() if k.startswith("gradient flow")}
    assert len(flows) == 3 and all(flows.values()), entries   # landscape, loss, sharpness
    assert all(entries.values()), entries
    assert explorer.errors == []
