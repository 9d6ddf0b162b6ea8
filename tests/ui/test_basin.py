"""The basin map in the browser: it draws, a click loads a start, a zoom recomputes, a slow
map shows its progress and never stalls another visitor's slider, bad links get words."""
from __future__ import annotations

import statistics
import time

import pytest

from .conftest import Page

pytestmark = pytest.mark.ui

DOC = "Bokeh.documents[0]"
VALUES = f"{DOC}.get_model_by_name('basin_image').data.value"
SPAN = f"{DOC}.get_model_by_name('threshold_line').location"
TIMES: dict[str, float] = {}   # measured figures, printed at the end (pytest -s)


def open_basin(browser, url, cells=None, size=(1400, 900)):
    """A page on ``url``; waits for a map with ``cells`` values (any, if None)."""
    context = new_context(browser, size)
    page = Page(context.new_page())
    page.page.goto(url)
    need = "> 0" if cells is None else f"=== {cells}"
    page.wait_until(f"() => window.Bokeh && Bokeh.documents.length > 0 && "
                    f"{DOC}.get_model_by_name('basin_image') !== null && "
                    f"{VALUES}.length > 0 && {VALUES}[0].length {need}", timeout=240000)
    return context, page


def new_context(browser, size=(1400, 900)):
    """A browser context patient enough for a loaded 2-core machine."""
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    context.set_default_navigation_timeout(180000)
    return context


def values(page) -> list[float]:
    return page.page.evaluate(f"() => Array.from({VALUES}[0])")


def screen(page, x, y):
    """Page pixel coordinates of the data point (x, y) on the map."""
    return page.page.evaluate(
        "([x, y]) => { const v = Bokeh.index.get_one(Bokeh.documents[0]"
        ".get_model_by_name('basin_map'));"
        " const r = v.canvas_view.el.getBoundingClientRect();"
        " return [r.left + v.frame.x_scale.compute(x), r.top + v.frame.y_scale.compute(y)]; }",
        [x, y])


def window_of(page):
    return page.page.evaluate(
        f"() => {{ const d = {DOC}.get_model_by_name('basin_image').data;"
        " return [d.x[0], d.y[0], d.dw[0], d.dh[0]]; }")


def test_the_map_draws_with_words_and_no_errors(browser, server_url):
    context, page = open_basin(browser, server_url + "?view=basin", cells=160 * 160)
    try:
        page.page.get_by_text("GD settled at the edge of stability").wait_for(timeout=15000)
        assert page.page.get_by_text("(9.9, 10)").count() >= 1
        v = values(page)
        assert any(x != x for x in v) and max(x for x in v if x == x) < 11   # grey and S
        assert page.errors == []
    finally:
        context.close()


def test_a_click_on_a_cell_runs_its_start_in_the_trajectory_view(browser, server_url):
    context, page = open_basin(browser, server_url + "?view=basin", cells=160 * 160)
    try:
        px, py = screen(page, 3.2, 0.3)
        page.page.mouse.click(px, py)
        page.wait_until(f"() => {DOC}.get_model_by_name('threshold_line') !== null",
                        timeout=60000)
        page.wait_until("() => window.location.search.includes('view=trajectory')")
        start = page.page.evaluate(
            f"() => {{ const d = {DOC}.get_model_by_name('start_marker').data_source.data;"
            " return [d.x[0], d.y[0]]; }")
        cell = (4.5 / 159, 3.0 / 159)   # the default window's cell size
        assert abs(start[0] - 3.2) <= cell[0] / 2 + 1e-9
        assert abs(start[1] - 0.3) <= cell[1] / 2 + 1e-9
        assert start != [2.8, 0.2]
        assert page.errors == []
    finally:
        context.close()


def test_a_box_zoom_recomputes_inside_the_new_window(browser, server_url):
    context, page = open_basin(browser, server_url + "?view=basin", cells=160 * 160)
    try:
        x, y, dw, dh = window_of(page)
        old = values(page)
        n = 160
        xs = [x + dw * (j + 0.5) / n for j in range(n)]
        ys = [y + dh * (i + 0.5) / n for i in range(n)]
        inside = {old[i * n + j] for i in range(n) for j in range(n)
                  if 3.0 <= xs[j] <= 3.4 and 0.1 <= ys[i] <= 0.5}
        (x0, y0), (x1, y1) = screen(page, 3.0, 0.5), screen(page, 3.4, 0.1)
        page.page.mouse.move(x0, y0)
        page.page.mouse.down()
        page.page.mouse.move(x1, y1, steps=8)
        t0 = time.monotonic()
        page.page.mouse.up()
        page.wait_until(f"() => {VALUES}[0].length === 64 * 64", timeout=60000)
        TIMES["zoom → coarse 64²"] = time.monotonic() - t0
        page.wait_until(f"() => {VALUES}[0].length === 160 * 160 && "
                        f"{DOC}.get_model_by_name('basin_image').data.dw[0] < 1", timeout=60000)
        TIMES["zoom → full 160²"] = time.monotonic() - t0
        print("\nbasin zoom timings:", {k: round(v, 3) for k, v in TIMES.items()})
        new = values(page)
        assert len(set(new)) > len(inside)
        page.wait_until("() => window.location.search.includes('basin_window=')")
        x, y, dw, dh = window_of(page)
        assert 2.9 < x < 3.1 and 0.3 < dw < 0.5 and 0.0 < y < 0.2
        assert page.errors == []
    finally:
        context.close()


SLOW = "?view=basin&optimizer=momentum&basin_res=512&basin_steps=4000"


def test_a_slow_map_shows_progress(browser, server_url):
    context = new_context(browser)
    page = Page(context.new_page())
    try:
        page.page.goto(server_url + SLOW)
        progress = f"{DOC}.get_model_by_name('basin_progress')"
        page.wait_until(f"() => window.Bokeh && Bokeh.documents.length > 0 && "
                        f"{progress} !== null && {progress}.visible && "
                        f"{progress}.text.includes('512 × 512')", timeout=120000)
        assert "% done" in page.page.evaluate(f"() => {progress}.text")
        assert page.errors == []
    finally:
        context.close()


def eta_latency(page, presses=5) -> float:
    """Median seconds from an η key press to the new threshold in the browser."""
    slider = page.slider("step size η")
    slider.focus()
    times = []
    for k in range(presses):
        before = page.page.evaluate(f"() => {SPAN}")
        t0 = time.monotonic()
        page.page.keyboard.press("ArrowRight" if k % 2 == 0 else "ArrowLeft")
        page.wait_until(f"(b) => {SPAN} !== b", before, timeout=60000)
        times.append(time.monotonic() - t0)
        page.page.wait_for_timeout(150)
    return statistics.median(times)


def test_another_visitors_slider_stays_live_while_a_big_map_computes(browser, server_url):
    student_context = new_context(browser)
    student = Page(student_context.new_page()).open(server_url + "?steps=1000")
    mapper_context = None
    try:
        eta_latency(student, presses=2)             # compiled and warm
        idle = eta_latency(student, presses=7)
        mapper_context = new_context(browser, (1024, 768))
        mapper = Page(mapper_context.new_page())
        mapper.page.goto(server_url + SLOW.replace("4000", "6000"))
        progress = f"{DOC}.get_model_by_name('basin_progress')"
        mapper.wait_until(f"() => window.Bokeh && Bokeh.documents.length > 0 && "
                          f"{progress} !== null && {progress}.visible && "
                          f"{progress}.text.includes('512 × 512')", timeout=120000)
        busy = eta_latency(student, presses=7)
        still = mapper.page.evaluate(f"() => {progress}.visible")
        TIMES["η redraw, idle server"] = idle
        TIMES["η redraw, 512² map computing"] = busy
        print("\nbasin timings:", {k: round(v, 3) for k, v in TIMES.items()})
        assert still, "the map finished before the busy measurements did"
        assert busy <= 2 * idle
        assert student.errors == []
    finally:
        if mapper_context is not None:
            mapper_context.close()
        student_context.close()


@pytest.mark.parametrize("query,words", [
    ("basin_res=9999", "Ignored basin_res=9999"),
    ("basin_window=1,0,0,1", "Ignored basin_window=1,0,0,1"),
    ("basin_steps=abc", "Ignored basin_steps=abc"),
])
def test_bad_basin_values_in_the_link_get_a_notice(browser, server_url, query, words):
    context, page = open_basin(browser, server_url + "?view=basin&" + query)
    try:
        page.page.get_by_text(words).first.wait_for(timeout=15000)
        assert page.page.get_by_text("Traceback").count() == 0
    finally:
        context.close()
