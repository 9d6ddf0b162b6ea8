"""Compared runs in a real browser: pin, remove, Zhu et al. Fig. 2a, and the URL round trip."""
from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import pytest

from app import compare

from .conftest import ARTIFACTS

pytestmark = pytest.mark.ui

# a slot is built with its first run: before that, no model of that name (0 rows)
LENGTH = "(n) => Bokeh.documents[0].get_model_by_name(n)?.data.t.length ?? 0"
ITEM = ("(n) => { const m = Bokeh.documents[0].get_model_by_name(n);"
        " return [m.visible, m.label.value]; }")


def note_time(what: str, seconds: float) -> None:
    """A figure for the record (test-artifacts/lazy-times.txt), never an assertion."""
    ARTIFACTS.mkdir(exist_ok=True)
    with open(ARTIFACTS / "lazy-times.txt", "a") as f:
        f.write(f"{what}: {seconds * 1000:.0f} ms\n")


def rows(explorer, i: int) -> int:
    return explorer.page.evaluate(LENGTH, f"compare{i}_run")


def wait_rows(explorer, i: int, n: int) -> None:
    """Until compared run i shows n iterates (a long one as its envelope's rows: last t)."""
    if n == 0:
        explorer.wait_until(f"() => ({LENGTH})('compare{i}_run') === 0", timeout=60000)
        return
    explorer.wait_until(f"() => {{ const t = Bokeh.documents[0].get_model_by_name("
                        f"'compare{i}_run')?.data.t ?? []; return t[t.length - 1] === {n - 1}; }}",
                        timeout=60000)


def test_pin_adds_a_legend_entry_and_a_line_and_remove_takes_them_away(explorer, server_url):
    explorer.open(server_url + "?steps=300")
    page = explorer.page
    # no compared run: no slot built (its glyphs come with the first pin)
    assert page.evaluate("() => Bokeh.documents[0].get_model_by_name('compare0_run')") is None
    started = time.perf_counter()
    page.get_by_role("button", name="+ pin run").click()
    wait_rows(explorer, 0, 301)
    note_time("first pin: click -> pinned run drawn", time.perf_counter() - started)
    assert page.evaluate(ITEM, "compare0_legend") == [True, "η = 0.2 (as live)"]
    assert page.evaluate("() => Bokeh.documents[0].get_model_by_name('compare0_loss').visible")
    # the pinned run is this run: its loss is the live loss
    assert explorer.column("compare0_run", "loss") == explorer.column("run", "loss")
    # the live η moves; the pinned run stays and its label says what now differs
    explorer.slider("step size η").focus()
    page.keyboard.press("ArrowRight")
    explorer.wait_until(f"() => ({ITEM})('compare0_legend')[1] === 'η = 0.2'")
    assert rows(explorer, 0) == 301
    page.get_by_role("button", name="✕ η = 0.2").click()
    wait_rows(explorer, 0, 0)
    assert page.evaluate(ITEM, "compare0_legend")[0] is False
    assert page.get_by_role("button", name="✕ η = 0.2").count() == 0
    # pinned again into the slot now built: the same path without building glyphs
    started = time.perf_counter()
    page.get_by_role("button", name="+ pin run").click()
    explorer.wait_until(f"() => ({ITEM})('compare0_legend')[0] === true", timeout=60000)
    note_time("pin into a built slot: click -> pinned run drawn", time.perf_counter() - started)
    assert explorer.errors == []


def test_zhu_fig_2a_adds_three_runs_and_its_url_round_trips(explorer, browser, server_url):
    explorer.open(server_url + "?model=xyzw&steps=1000")
    page = explorer.page
    page.get_by_role("button", name="Zhu Fig. 2a").click()
    for i in range(3):
        wait_rows(explorer, i, 1001)
    labels = [page.evaluate(ITEM, f"compare{i}_legend")[1] for i in range(3)]
    assert labels == ["η = 0.25", "η = 0.2 (as live)", "η = 0.1667"]
    thresholds = [explorer.column(f"compare{i}_threshold", "threshold")[0] for i in range(3)]
    assert thresholds == pytest.approx([8, 10, 12], abs=1e-5)
    explorer.wait_until("() => window.location.search.includes('compare=')")
    # the page's own URL: Playwright's page.url follows a replaceState a moment later
    url = page.evaluate("() => window.location.href")
    text = parse_qs(urlparse(url).query)["compare"][0]
    pins, notices = compare.decode(text)
    assert notices == [] and [p["eta"] for p in pins] == pytest.approx([0.25, 0.2, 1 / 6])
    sharp = [explorer.column(f"compare{i}_run", "sharpness") for i in range(3)]
    ARTIFACTS.mkdir(exist_ok=True)
    for w, h in ((1024, 768), (1400, 900)):
        # the same link in a fresh page: the same three runs
        context = browser.new_context(viewport={"width": w, "height": h})
        other = type(explorer)(context.new_page()).open(url)
        for i in range(3):
            wait_rows(other, i, 1001)
        assert [other.column(f"compare{i}_run", "sharpness") for i in range(3)] == sharp
        assert [other.page.evaluate(ITEM, f"compare{i}_legend")[1] for i in range(3)] == labels
        other.page.wait_for_timeout(1000)
        other.page.screenshot(path=str(ARTIFACTS / f"compare-zhu-{w}x{h}.png"))
        assert other.errors == []
        context.close()


def test_a_bad_compare_link_is_a_notice_and_the_good_runs_stay(explorer, server_url):
    explorer.open(server_url + "?steps=200&compare=eta:0.25;eta:banana;foo:1")
    page = explorer.page
    page.get_by_text("left out").first.wait_for(timeout=15000)
    assert page.get_by_text("eta=banana: it is not a number").count() == 1
    wait_rows(explorer, 0, 1501)   # a name left out takes the model's default: 1500 steps
    assert rows(explorer, 1) == 0
    assert explorer.errors == []
