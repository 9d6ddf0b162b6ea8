"""Four BokehJS 3.9 repaint costs, patched in the page until Bokeh ships its own fixes.

Every repaint of a figure, BokehJS 3.9 (a) rewrites the ``<style>`` of every renderer's DOM
element, even with the same text, and (b) reads each visual property (colour, width, font…)
from the CSS cascade (``getComputedStyle(el).getPropertyValue("--bk-…")``) before using the
model's value. Each rewrite invalidates the page's styles, so the next read forces a style
recalculation: 25 of them per η step here, half of a 40 ms software repaint of the three
canvases (bokeh/bokeh#15286); and (c) every axis and label reads its plot's base font size
from ``getComputedStyle`` (~3 ms per η step, measured in Chromium's profiler); (d) every
legend entry is a small canvas of its own, cleared and drawn again with each repaint of its
plot, though a legend's glyphs do not move with the data: each is one more bitmap handed to
the compositor per frame. The patch (a) skips a rewrite whose text is unchanged, (b, c)
caches each visual's CSS reads and each plot's font size until the end of the current task,
as upstream does for (b) after bokeh/bokeh#15205, and (d) draws a legend's entries again
only when they were rebuilt or resized, or a model they are drawn from changed (an entry's
item, renderer or glyph). All four keep what is drawn the same. These are private BokehJS
internals, so the patch checks the version and that the functions exist, and does nothing
otherwise.
"""
from __future__ import annotations

from bokeh.models import CustomJS

PATCHED_VERSIONS = ("3.9.",)   # later releases cache CSS reads themselves (bokeh#15205)

PAINT_JS = """
if (!window.__eos_paint_patched && PATCHED_VERSIONS.some((v) => Bokeh.version.startsWith(v))) {
  window.__eos_paint_patched = true
  let visual = null, dom = null
  try {
    visual = Bokeh.require("core/visuals/visual")
    dom = Bokeh.require("core/dom")
  } catch (error) {}
  const props = visual?.VisualProperties?.prototype
  if (typeof props?._get_css_value === "function") {
    const lookup = props._get_css_value
    props._get_css_value = function (name) {
      let cache = this.__eos_css
      if (cache == null) {   // valid until the current task (one repaint) is over
        cache = this.__eos_css = new Map()
        queueMicrotask(() => { this.__eos_css = null })
      }
      let value = cache.get(name)
      if (value === undefined) {
        value = lookup.call(this, name)
        cache.set(name, value)
      }
      return value
    }
  }
  // (c) a plot's base font size, read from its element's computed style by every axis and
  // label it lays out: once per plot and task
  let canvas = null
  try {
    canvas = Bokeh.require("models/plots/plot_canvas")
  } catch (error) {}
  const plot = canvas?.PlotView?.prototype
  const font = plot ? Object.getOwnPropertyDescriptor(plot, "base_font_size") : undefined
  if (typeof font?.get === "function") {
    const read = font.get
    Object.defineProperty(plot, "base_font_size", {
      configurable: true,
      get() {
        if (this.__eos_font === undefined) {
          this.__eos_font = read.call(this)
          queueMicrotask(() => { this.__eos_font = undefined })
        }
        return this.__eos_font
      },
    })
  }
  // (d) a legend's entries are small canvases of their own, redrawn with every repaint of
  // the plot (17 canvases per η step here, each one more bitmap to hand to the compositor):
  // redrawn only when the entries were rebuilt, resized, or a model they draw from changed
  let legend = null
  try {
    legend = Bokeh.require("models/annotations/legend")
  } catch (error) {}
  const legend_view = legend?.LegendView?.prototype
  if (typeof legend_view?._paint_glyphs === "function") {
    const paint_glyphs = legend_view._paint_glyphs
    const mark = function () { this.__eos_glyphs = null }
    legend_view._paint_glyphs = function () {
      const {glyph_width, glyph_height} = this.model
      const key = [this.entries, glyph_width, glyph_height, devicePixelRatio]
      const last = this.__eos_glyphs
      if (last != null && key.every((part, i) => part === last[i])) return
      const seen = this.__eos_watched ??= new WeakSet()
      for (const {item} of this.entries) {
        for (const model of [item, ...item.renderers.flatMap((r) => [r, r.glyph ?? r])]) {
          if (model?.change != null && !seen.has(model)) {
            seen.add(model)
            this.connect(model.change, mark)
          }
        }
      }
      for (const {glyph} of this.entries) {   // a canvas the browser dropped comes back blank
        if (!seen.has(glyph)) {
          seen.add(glyph)
          glyph.canvas?.addEventListener?.("contextrestored", () => { this.__eos_glyphs = null })
        }
      }
      paint_glyphs.call(this)
      this.__eos_glyphs = key
    }
  }
  const sheet = dom?.InlineStyleSheet?.prototype
  if (typeof sheet?._update === "function") {
    const update = sheet._update
    sheet._update = function (css) {
      if (this.el.textContent !== css) update.call(this, css)
    }
  }
}
"""


def paint_patch() -> CustomJS:
    """The patch as a callback (run it once the document is ready; it runs once a page)."""
    return CustomJS(args={"PATCHED_VERSIONS": list(PATCHED_VERSIONS)}, code=PAINT_JS)
