"""The layout in a real browser: plots fit a projector's width, windows fit runs, curves read."""
from __future__ import annotations

import pytest

from .conftest import ARTIFACTS, Page

pytestmark = pytest.mark.ui

PLOTS = ("landscape", "loss", "sharpness")
VIEWS = {"default": "", "xy": "?model=xy", "x2y2-sqrt-gd": "?model=x2y2&optimizer=sqrt_gd",
         "quadratic-normalized-gd": "?model=quadratic&optimizer=normalized_gd",
         "drop": "?drop_step=500&drop_eta=0.1"}


@pytest.fixture(params=[(1024, 768), (1400, 900)], ids=lambda s: f"{s[0]}x{s[1]}")
def sized(request, browser):
    width, height = request.param
    context = browser.new_context(viewport={"width": width, "height": height})
    page = Page(context.new_page())
    page.size = (width, height)
    yield page
    context.close()


def _plot_boxes(page) -> list[dict]:
    canvases = page.locator(".bk-Canvas")
    boxes = [canvases.nth(i).bounding_box() for i in range(canvases.count())]
    return [b for b in boxes if b and b["width"] > 100]


def _no_horizontal_scroll(page) -> None:
    width = page.evaluate("() => innerWidth")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    # the template scrolls its main area on its own: that must not scroll sideways either
    scroll, client = page.evaluate(
        "() => { const m = document.querySelector('#main'); return [m.scrollWidth, m.clientWidth] }")
    assert scroll <= client
    boxes = _plot_boxes(page)
    assert len(boxes) == len(PLOTS)
    for box in boxes:
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, box


def _shoot(page: Page, name: str) -> None:
    """The whole column at this width (a taller viewport, so nothing is below the fold)."""
    width, height = page.size
    ARTIFACTS.mkdir(exist_ok=True)
    page.page.screenshot(path=str(ARTIFACTS / f"layout-{name}-{width}x{height}.png"))
    page.page.set_viewport_size({"width": width, "height": 1500})
    page.page.wait_for_timeout(800)
    page.page.screenshot(path=str(ARTIFACTS / f"layout-{name}-{width}x{height}-full.png"))
    page.page.set_viewport_size({"width": width, "height": height})


@pytest.mark.parametrize("view", list(VIEWS))
def test_every_plot_fits_the_width_with_the_sidebar_open(sized, server_url, view):
    sized.open(server_url + VIEWS[view])
    sized.page.wait_for_timeout(1200)   # late layout passes
    _no_horizontal_scroll(sized.page)
    _shoot(sized, view)
    assert sized.errors == []


def test_plots_sit_side_by_side_and_grow_on_a_wide_screen(browser, server_url):
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = Page(context.new_page()).open(server_url)
    page.page.wait_for_timeout(1000)
    land, loss, sharp = _plot_boxes(page.page)
    assert land["x"] + land["width"] <= loss["x"] + 1 and loss["x"] == pytest.approx(sharp["x"])
    assert land["width"] > 600 and loss["width"] > 600   # wider than at 1400 × 900
    page.page.screenshot(path=str(ARTIFACTS / "layout-default-1920x1080.png"))
    context.close()


def test_every_curve_has_a_hover_readout_of_step_and_value(explorer, server_url):
    explorer.open(server_url + "?model=quadratic&optimizer=normalized_gd")
    names = ["loss_line", "loss_odd_line", "sharpness_line", "sharpness_odd_line"]
    covered = explorer.page.evaluate(
        "(names) => { const doc = Bokeh.documents[0]; const out = {};"
        " for (const n of names) { const r = doc.get_model_by_name(n);"
        "  out[n] = [...doc.all_models].some((m) => m.type === 'HoverTool' &&"
        "   m.renderers !== 'auto' && m.renderers.includes(r) &&"
        "   m.tooltips.some((t) => t[0] === 'step')); } return out; }", names)
    assert covered == dict.fromkeys(names, True)
    # and a real hover over the (flat, S = 1) sharpness curve, at step 30, reads it out
    x, y = explorer.page.evaluate(
        "() => { const r = Bokeh.documents[0].get_model_by_name('sharpness_line');"
        " const plot = Bokeh.index.find_one(r).parent; const f = plot.frame;"
        " const box = plot.canvas_view.el.getBoundingClientRect();"
        " return [box.left + f.x_scale.compute(30), box.top + f.y_scale.compute(1.0)]; }")
    explorer.page.mouse.move(x, y)
    tip = explorer.page.locator(".bk-Tooltip")   # its text is in its shadow root
    for part in ("step", "30", "sharpness", "1.000"):
        tip = tip.filter(has_text=part)
    tip.first.wait_for(timeout=5000)


def test_xy_window_holds_the_end_on_a_drawn_branch_of_minima(explorer, server_url):
    explorer.open(server_url + "?model=xy&x0=4&y0=0.1")   # lands on the x, y < 0 branch
    x, y = explorer.column("iterates", "x"), explorer.column("iterates", "y")
    end = (x[-1], y[-1])
    assert end[0] < -0.9 and end[1] < -0.9
    mx, my = explorer.column("manifold", "x"), explorer.column("manifold", "y")
    assert min((a - end[0]) ** 2 + (b - end[1]) ** 2 for a, b in zip(mx, my)) ** 0.5 < 0.05
    ranges = explorer.page.evaluate(
        "() => { const doc = Bokeh.documents[0]; const r = doc.get_model_by_name('start_marker');"
        " const fig = [...doc.all_models].find((m) => m.type === 'Figure' &&"
        " m.renderers.includes(r)); return [fig.x_range.start, fig.x_range.end,"
        " fig.y_range.start, fig.y_range.end]; }")
    assert ranges[0] < end[0] < ranges[1] and ranges[2] < end[1] < ranges[3]
    # the switch back to the model's window: (−1, 5) × (−1, 3), the end just outside
    explorer.page.get_by_text("the model's window").click()
    explorer.wait_until(
        "() => { const doc = Bokeh.documents[0]; const r = doc.get_model_by_name('start_marker');"
        " const fig = [...doc.all_models].find((m) => m.type === 'Figure' &&"
        " m.renderers.includes(r)); return fig.x_range.start === -1 && fig.y_range.end === 3; }")
    assert explorer.errors == []


def test_a_spike_is_clipped_with_a_note_and_a_drop_is_marked(explorer, server_url):
    explorer.open(server_url + "?model=x2y2&optimizer=sqrt_gd")
    explorer.wait_until("() => Bokeh.documents[0].get_model_by_name('sharpness_note').visible")
    note = explorer.model("sharpness_note", "text")
    assert note.startswith("clipped: max 92.5") and "at step 3" in note
    explorer.open(server_url + "?drop_step=500&drop_eta=0.1")
    assert explorer.model("drop_sharpness", "location") == 500
    assert explorer.model("drop_label_sharpness", "text") == "η 0.2 → 0.1"
    assert explorer.model("drop_label_loss", "visible") is True
    # the 2/η-crossing marker has its legend entry, at the first rise through 2/η
    explorer.page.locator(".bk-item", has_text="S first reaches 2/η").first.wait_for()
    assert explorer.model("eos_sharpness", "location") is not None
    assert explorer.errors == []


LANDSCAPE_RANGES = (
    "() => { const doc = Bokeh.documents[0]; const r = doc.get_model_by_name('start_marker');"
    " const fig = [...doc.all_models].find((m) => m.type === 'Figure' &&"
    " m.renderers.includes(r)); return [fig.x_range.start, fig.x_range.end,"
    " fig.y_range.start, fig.y_range.end]; }")


def test_the_default_window_fits_the_run_and_a_users_zoom_survives_a_new_run(explorer,
                                                                          server_url):
    explorer.open(server_url)
    x0, x1, y0, y1 = explorer.page.evaluate(LANDSCAPE_RANGES)
    assert x1 - x0 < 1.5 and y1 - y0 < 1.0   # the model's window is 4.5 × 3
    xs, ys = explorer.column("iterates", "x"), explorer.column("iterates", "y")
    inside = sum(x0 <= x <= x1 and y0 <= y <= y1 for x, y in zip(xs, ys))
    assert inside >= 0.95 * len(xs)
    # a pan in the browser (as the pan tool does it), then a new η: the view stays put
    explorer.page.evaluate(
        "() => { const doc = Bokeh.documents[0]; const r = doc.get_model_by_name('start_marker');"
        " const fig = [...doc.all_models].find((m) => m.type === 'Figure' &&"
        " m.renderers.includes(r)); fig.x_range.setv({start: 1.0, end: 3.5});"
        " fig.y_range.setv({start: -0.5, end: 1.5}); }")
    explorer.page.wait_for_timeout(500)   # the change reaches the server
    before = explorer.column("iterates", "x")
    explorer.slider("step size η").focus()
    for _ in range(30):
        explorer.page.keyboard.press("ArrowLeft")
    explorer.wait_until("(b) => { const x = Bokeh.documents[0].get_model_by_name('iterates')"
                        ".data.x; return x[x.length - 1] !== b; }", before[-1])
    explorer.page.wait_for_timeout(500)
    assert explorer.page.evaluate(LANDSCAPE_RANGES) == [1.0, 3.5, -0.5, 1.5]
    assert explorer.errors == []


LONG_VERDICTS = {"adam": "?optimizer=adam", "arora": "?model=arora",
                 "x2y2-sqrt-gd": "?model=x2y2&optimizer=sqrt_gd",
                 "arora-phase-2": "?preset=arora-fig1-normalized"}


@pytest.mark.parametrize("view", list(LONG_VERDICTS))
def test_a_long_verdict_is_read_in_full_without_scrolling_its_box(sized, server_url, view):
    """The verdict box keeps one of two heights (no re-layout per η step); the longest
    sentences (an Adam episode, a cycle's points) fit it whole on a projector."""
    sized.open(server_url + LONG_VERDICTS[view])
    box = sized.page.locator('div[style*="safe center"]').first
    box.wait_for(timeout=20000)
    sized.page.wait_for_timeout(800)   # late layout passes
    text = box.inner_text()
    assert len(text) > 150, text
    scroll, client = box.evaluate("e => [e.scrollHeight, e.clientHeight]")
    assert scroll <= client + 1, (view, scroll, client, text)


# Every plot's title and every line label (a = 1/(8κ), a = −κ³/8, the drop, the clip note)
# measured in the page with the fonts BokehJS draws them in: the title within its canvas,
# a label within its frame. Bokeh neither wraps nor shrinks them; at the narrowest width
# where two plots sit side by side (1280 × 720) a long one was cut off.
TEXT_BOXES_JS = """() => {
  const ctx = document.createElement('canvas').getContext('2d');
  const width = (m, text) => {
    ctx.font = `${m.text_font_style} ${m.text_font_size} ${m.text_font}`;
    return Math.max(...text.split('\\n').map((line) => ctx.measureText(line).width));
  };
  const out = [];
  for (const m of Bokeh.documents[0].all_models) {
    if (m.type !== 'Figure' && m.type !== 'Plot') continue;
    let v = null;
    try { v = Bokeh.index.get_one(m) } catch (e) { continue }
    if (v == null || v.canvas_view.el.getBoundingClientRect().width === 0) continue;
    const room = v.canvas_view.el.getBoundingClientRect().width, f = v.frame.bbox;
    if (m.title && m.title.text)
      out.push({kind: 'title', text: m.title.text, lo: f.left, hi: f.left + width(m.title, m.title.text), min: 0, max: room});
    for (const r of [...m.center, ...m.above, ...m.below]) {
      if (r.type !== 'Label' || !r.visible || !r.text || r.x_units !== 'data' || typeof r.x !== 'number') continue;
      const w = width(r, r.text), x = v.frame.x_scale.compute(r.x) + r.x_offset;
      const lo = r.anchor.endsWith('right') ? x - w : r.anchor.endsWith('center') ? x - w / 2 : x;
      if (x < f.left || x > f.right) continue;   // its line is outside the window: not drawn
      out.push({kind: 'label', text: r.text, lo: lo, hi: lo + w, min: f.left, max: f.right});
    }
  }
  return out;
}"""
TEXT_VIEWS = {"trajectory": "?drop_step=500&drop_eta=0.1", "ab": "?view=ab&model=x2y2&eta=0.2",
              "basin": "?view=basin", "sweep": "?view=sweep", "oscillation": "?view=oscillation",
              "distance": "?view=distance"}


@pytest.mark.parametrize("size", [(1024, 768), (1280, 720)], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("view", list(TEXT_VIEWS))
def test_every_title_and_line_label_is_drawn_whole(browser, server_url, view, size):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = Page(context.new_page())
    page.page.goto(server_url + TEXT_VIEWS[view])
    page.wait_until("() => window.Bokeh && Bokeh.documents.length > 0", timeout=60000)
    page.page.wait_for_timeout(4000)   # the view's runs drawn, late layout passes
    boxes = page.page.evaluate(TEXT_BOXES_JS)
    context.close()
    assert any(b["kind"] == "title" for b in boxes), boxes
    if view == "ab":   # the period doubling's label is drawn, and measured
        assert any(b["text"].startswith("period doubling") for b in boxes), boxes
    cut = [b for b in boxes if b["lo"] < b["min"] - 1 or b["hi"] > b["max"] + 1]
    assert cut == [], cut
    assert page.errors == []
