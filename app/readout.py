"""The run read out under the plots: the verdict in plain words, then the final numbers.

Two of Panel's ``HTML`` Bokeh models of fixed height, updated by setting their text: one
small model change per run and no Markdown rendering on the server (Panel's Alert and
Markdown panes cost ~6 ms of server time per η step), and in the browser only the element's
HTML is replaced (a Bokeh ``Div`` would re-lay-out the whole page, ~20 ms). The verdict box
is coloured like Panel's Alert, from the same theme variables, by inline styles in its own
HTML (Panel's design replaces a raw model's stylesheets), so a new level is no extra change.
"""
from __future__ import annotations

import re
from html import escape, unescape

import panel as pn
from panel.models import HTML

from . import rules
from .plots import held_sharpness
from .runs import RunResult

HEIGHT = 64   # px, room for two lines (three at 13 px)
NUMBERS_HEIGHT = 38   # px, the final numbers' two lines at 14 px (2 × 18.2)
NUMBERS_LONG = 170    # characters: longer numbers are set at 13 px (two lines at 1024 px hold
                      # ~180 at 14 px, ~195 at 13; the longest seen, Adam's, is 148)
TALL = 112    # px, for a sentence over LONGER characters: six lines at 13 px
BOX = ("box-sizing: border-box; height: {height}px; display: flex; align-items: safe center; "
       "overflow-y: auto; margin: 0 5px; padding: 0 1.25rem; "
       "border: 1px solid var(--{level}-border-subtle); "
       "border-radius: 0.25rem; background-color: var(--{level}-bg-subtle); "
       "color: var(--{level}-text-color); font-size: {size}px; line-height: 1.3")
LONG = 200     # characters: a longer sentence (a cycle's points) is set smaller
LONGER = 260   # characters: a longer one (an Adam episode) gets the TALL box


def box_height(sentence: str) -> int:
    """The verdict box's height for ``sentence``: two heights only, so that a run whose
    sentence changes length by a few words (every η step) never re-lays out the page."""
    return TALL if len(sentence) > LONGER else HEIGHT


def alert_html(sentence: str, level: str) -> str:
    """``sentence`` in a box coloured like a Panel Alert of type ``level``.

    A sentence longer than ``LONG`` is set at 13 px; in its box (``box_height``) it fits in
    full at 1024 × 768 (and scrolls inside it from its first line if ever it does not).
    """
    size = 16 if len(sentence) <= LONG else 13
    height = box_height(sentence)
    return (f'<div style="{BOX.format(height=height, level=level, size=size)}">'
            f'{escape(sentence)}</div>')


def numbers_html(text: str) -> str:
    """The final numbers' HTML ``text`` at 14 px, or at 13 px if longer than NUMBERS_LONG
    characters, so that they keep to their box's two lines at 1024 px."""
    size = 14 if len(unescape(re.sub(r"<[^>]+>", "", text))) <= NUMBERS_LONG else 13
    return f'<div style="font-size: {size}px">{text}</div>'


class Readout:
    """The verdict (coloured by its level) and the final loss, sharpness and θ."""

    def __init__(self):
        # fixed heights: a new sentence must not re-lay-out (and so repaint) the plots
        self.verdict = HTML(text="", height=HEIGHT, sizing_mode="stretch_width",
                            margin=(5, 5, 3, 5))   # the numbers close under it
        # two lines from 1024 px wide; a third (a narrower window) grows it, hides no word
        self.numbers = HTML(text="", min_height=NUMBERS_HEIGHT, sizing_mode="stretch_width",
                            margin=(3, 5, 0, 5), styles={"line-height": "1.3",
                                                         "padding": "0 5px"})

    def show(self, result: RunResult) -> None:
        traj = result.traj
        final_threshold = float(result.threshold[-1])
        held, pre = held_sharpness(traj)   # RMSProp, Adam: λ_max(P⁻¹H), the one held
        s_final = float(held[-1])
        relation = "&lt;" if s_final < final_threshold else "≥"
        if f"{s_final:.4g}" == f"{final_threshold:.4g}":   # equal to the digits shown
            relation = "≈"
        formula = escape(rules.compact_formula(result.spec.optimizer))
        name = "λ_max(P⁻¹H)</b>" if pre else "sharpness</b>"   # two lines at 1024 px
        where = ", ".join(f"{n} = {v:.4g}" for n, v in
                          zip(result.spec.model.param_names, traj.params[-1]))
        self.numbers.text = escape(numbers_html(   # the model's text is escaped HTML (as Panel)
            f"<b>final loss</b> {traj.loss[-1]:.3e} &nbsp;·&nbsp; <b>final {name} "
            f"{s_final:.4g} {relation} {formula} = {final_threshold:.4g} &nbsp;·&nbsp; "
            + (f"<b>final θ</b> ({escape(where)}) after {len(traj.loss) - 1} steps"
               if traj.diverged_at is None else
               f"<b>last finite θ</b> ({escape(where)}) at step {len(traj.loss) - 1}")))
        height = box_height(result.verdict)
        if self.verdict.height != height:
            self.verdict.height = height
        self.verdict.text = escape(alert_html(result.verdict, result.level))

    def panes(self) -> list:
        return [pn.pane.Bokeh(self.verdict, margin=(0, 10), sizing_mode="stretch_width"),
                pn.pane.Bokeh(self.numbers, margin=(0, 10, 4, 10), sizing_mode="stretch_width")]
