"""The run read out under the plots: the verdict in plain words, then the final numbers.

Two of Panel's ``HTML`` Bokeh models of fixed height, updated by setting their text: one
small model change per run and no Markdown rendering on the server (Panel's Alert and
Markdown panes cost ~6 ms of server time per η step), and in the browser only the element's
HTML is replaced (a Bokeh ``Div`` would re-lay-out the whole page, ~20 ms). The verdict box
is coloured like Panel's Alert, from the same theme variables, by inline styles in its own
HTML (Panel's design replaces a raw model's stylesheets), so a new level is no extra change.
"""
from __future__ import annotations

from html import escape

import panel as pn
from panel.models import HTML

from . import rules
from .plots import held_sharpness
from .runs import RunResult

HEIGHT = 64   # px, room for two lines
BOX = ("box-sizing: border-box; height: {height}px; display: flex; align-items: safe center; "
       "overflow-y: auto; margin: 0 5px; padding: 0 1.25rem; "
       "border: 1px solid var(--{level}-border-subtle); "
       "border-radius: 0.25rem; background-color: var(--{level}-bg-subtle); "
       "color: var(--{level}-text-color); font-size: {size}px; line-height: 1.3")
LONG = 200   # characters: a longer sentence (an Adam episode) is set smaller


def alert_html(sentence: str, level: str) -> str:
    """``sentence`` in a box coloured like a Panel Alert of type ``level``.

    The box keeps its height (no re-layout); a sentence longer than that is set at 13 px
    and scrolls inside it from its first line, never cut off above.
    """
    size = 16 if len(sentence) <= LONG else 13
    return (f'<div style="{BOX.format(height=HEIGHT, level=level, size=size)}">'
            f'{escape(sentence)}</div>')


class Readout:
    """The verdict (coloured by its level) and the final loss, sharpness and θ."""

    def __init__(self):
        # fixed heights: a new sentence must not re-lay-out (and so repaint) the plots
        self.verdict = HTML(text="", height=HEIGHT, sizing_mode="stretch_width")
        self.numbers = HTML(text="", height=52, sizing_mode="stretch_width",
                           styles={"font-size": "15px", "padding": "0 5px"})   # two lines

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
        self.numbers.text = escape(   # the model's text is escaped HTML (as Panel sends it)
            f"<b>final loss</b> {traj.loss[-1]:.3e} &nbsp;·&nbsp; <b>final {name} "
            f"{s_final:.4g} {relation} {formula} = {final_threshold:.4g} &nbsp;·&nbsp; "
            + (f"<b>final θ</b> ({escape(where)}) after {len(traj.loss) - 1} steps"
               if traj.diverged_at is None else
               f"<b>last finite θ</b> ({escape(where)}) at step {len(traj.loss) - 1}"))
        self.verdict.text = escape(alert_html(result.verdict, result.level))

    def panes(self) -> list:
        return [pn.pane.Bokeh(self.verdict, margin=(0, 10), sizing_mode="stretch_width"),
                pn.pane.Bokeh(self.numbers, margin=(0, 10, 6, 10), sizing_mode="stretch_width")]
