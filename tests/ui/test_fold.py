"""Above the fold on a projector: the trajectory view's plots start high, its controls in rows.

At 1024 × 768 the landscape's canvas used to start 411 px down (the replay's slider over its
buttons, then the compare bar, then the landscape's view toggle: four rows of controls); the
replay now fills one row and the compare bar and the view toggle share the next.
"""
from __future__ import annotations

import pytest

from .conftest import ARTIFACTS, Page

pytestmark = pytest.mark.ui

# 320 px: at 1024 × 768 at least 448 of the landscape's 560 px (80 %) on screen unscrolled;
# the layout gives 300, the old one 411
LANDSCAPE_TOP = 320
REPLAY_BUTTONS = ("first step", "previous step", "pause replay", "play replay", "next step",
                  "last step")

CANVAS_TOPS_JS = """() => {
  const doc = Bokeh.documents[0], tops = {};
  const named = {landscape: 'start_marker', loss: 'loss_line', sharpness: 'sharpness_line'};
  for (const [plot, name] of Object.entries(named)) {
    const r = doc.get_model_by_name(name);
    const fig = [...doc.all_models].find((m) => m.type === 'Figure' && m.renderers.includes(r));
    tops[plot] = Bokeh.index.get_one(fig).canvas_view.el.getBoundingClientRect().top;
  }
  return tops;
}"""


def _open(browser, server_url, size, query=""):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = Page(context.new_page()).open(server_url + query)
    page.page.wait_for_timeout(1500)   # late layout passes
    return context, page


def _box(locator) -> dict:
    box = locator.bounding_box()
    assert box is not None
    return box


def _middle(box: dict) -> float:
    return box["y"] + box["height"] / 2


def _disjoint(a: dict, b: dict, slack: float = 1.5) -> bool:
    """No overlap beyond ``slack`` (a button group's buttons share their 1 px border)."""
    return (a["x"] + a["width"] <= b["x"] + slack or b["x"] + b["width"] <= a["x"] + slack
            or a["y"] + a["height"] <= b["y"] + slack or b["y"] + b["height"] <= a["y"] + slack)


def test_the_landscape_starts_high_and_the_replay_is_one_row_at_1024(browser, server_url):
    context, page = _open(browser, server_url, (1024, 768))
    try:
        tops = page.page.evaluate(CANVAS_TOPS_JS)
        assert tops["landscape"] <= LANDSCAPE_TOP, tops
        buttons = [_box(page.page.get_by_role("button", name=n)) for n in REPLAY_BUTTONS]
        # one row: the six buttons level, left to right, and the slider beside them
        row = _middle(buttons[0])
        assert all(abs(_middle(b) - row) <= 1 for b in buttons), buttons
        assert all(a["x"] + a["width"] <= b["x"] + 0.5 for a, b in zip(buttons, buttons[1:]))
        slider = _box(page.page.locator("input[type=range]").first)
        assert slider["x"] >= buttons[-1]["x"] + buttons[-1]["width"]
        assert buttons[0]["y"] <= _middle(slider) <= buttons[0]["y"] + buttons[0]["height"]
        speed = _box(page.page.get_by_role("combobox").filter(has_text="100 steps/s"))
        hide = _box(page.page.get_by_role("button", name="✕ cursor"))
        assert abs(_middle(speed) - row) <= 3 and abs(_middle(hide) - row) <= 3
        # the compare bar and the landscape's view toggle: the next row, above the landscape
        pin = _box(page.page.get_by_role("button", name="+ pin run"))
        view = _box(page.page.get_by_role("button", name="the model's window"))
        assert abs(_middle(pin) - _middle(view)) <= 1 and _middle(pin) > row
        assert view["y"] + view["height"] <= tops["landscape"]
        # nothing overlaps, nothing runs past the window's edge
        named = [*REPLAY_BUTTONS, "✕ cursor", "+ pin run", "Zhu Fig. 2a", "clear",
                 "fit the run", "the model's window"]
        boxes = [_box(page.page.get_by_role("button", name=n)) for n in named]
        boxes += [slider, speed, _box(page.page.get_by_text("Landscape view:").first),
                  _box(page.page.get_by_text("Compare", exact=True).first),
                  _box(page.page.get_by_text("Replay", exact=True).first)]
        for i, a in enumerate(boxes):
            assert a["x"] >= 0 and a["x"] + a["width"] <= 1024, a
            for b in boxes[i + 1:]:
                assert _disjoint(a, b), (a, b)
        ARTIFACTS.mkdir(exist_ok=True)
        page.page.screenshot(path=str(ARTIFACTS / "fold-1024x768.png"))
        assert page.errors == []
    finally:
        context.close()


@pytest.mark.parametrize("size", [(1280, 720), (1400, 900), (1920, 1080)],
                         ids=lambda s: f"{s[0]}x{s[1]}")
def test_side_by_side_the_curves_start_as_high_as_the_landscape(browser, server_url, size):
    """Where the plots sit side by side, the loss and the landscape start level (the view
    toggle is no longer over the landscape alone), as high as at 1024 px or higher."""
    context, page = _open(browser, server_url, size)
    try:
        tops = page.page.evaluate(CANVAS_TOPS_JS)
        assert abs(tops["loss"] - tops["landscape"]) <= 1, tops
        assert tops["landscape"] <= LANDSCAPE_TOP, tops
        page.page.screenshot(path=str(ARTIFACTS / f"fold-{size[0]}x{size[1]}.png"))
        assert page.errors == []
    finally:
        context.close()


def test_a_pinned_run_wraps_the_bar_without_overlap(browser, server_url):
    """With a compared run its chip joins the compare bar: at 1024 px the view toggle goes
    to a row of its own, and the landscape still starts in the top half of the screen."""
    context, page = _open(browser, server_url, (1024, 768), "?compare=eta:0.25")
    try:
        chip = page.page.get_by_role("button", name="✕ η = 0.25")
        chip.wait_for(timeout=60000)
        page.page.wait_for_timeout(1000)
        named = ["+ pin run", "Zhu Fig. 2a", "clear", "fit the run", "the model's window",
                 "✕ cursor"]
        boxes = [_box(page.page.get_by_role("button", name=n)) for n in named] + [_box(chip)]
        for i, a in enumerate(boxes):
            assert a["x"] + a["width"] <= 1024, a
            for b in boxes[i + 1:]:
                assert _disjoint(a, b), (a, b)
        assert page.page.evaluate(CANVAS_TOPS_JS)["landscape"] <= 768 / 2
        page.page.screenshot(path=str(ARTIFACTS / "fold-pinned-1024x768.png"))
        assert page.errors == []
    finally:
        context.close()
