"""The run read out under the plots: the verdict in plain words, then the final numbers.

Two raw Bokeh ``Div`` models of fixed height, updated by setting their text: one small
model change per run, no Markdown rendering on the server and no layout change in the
page (Panel's Alert and Markdown panes cost ~6 ms of server time per η step). The verdict
box is coloured like Panel's Alert, from the same theme variables (inline styles: Panel's
design replaces a raw model's stylesheets).
"""
from __future__ import annotations

from html import escape

import panel as pn
from bokeh.models import Div

from .runs import RunResult

BOX = {"font-size": "16px", "display": "flex", "align-items": "center",
       "padding": "0.75rem 1.25rem", "border": "1px solid transparent",
       "border-radius": "0.25rem", "box-sizing": "border-box"}


def alert_styles(level: str) -> dict[str, str]:
    """The verdict box in the colours of a Panel Alert of type ``level``."""
    return {**BOX, "color": f"var(--{level}-text-color)",
            "background-color": f"var(--{level}-bg-subtle)",
            "border-color": f"var(--{level}-border-subtle)"}


class Readout:
    """The verdict (coloured by its level) and the final loss, sharpness and θ."""

    def __init__(self):
        # fixed heights: a new sentence must not re-lay-out (and so repaint) the plots
        self.verdict = Div(text="", height=64, sizing_mode="stretch_width",
                           styles=alert_styles("info"))
        self.numbers = Div(text="", height=52, sizing_mode="stretch_width",
                           styles={"font-size": "15px"})   # two lines: four parameters fit

    def show(self, result: RunResult) -> None:
        traj = result.traj
        final_threshold = float(result.threshold[-1])
        s_final = float(traj.sharpness[-1])
        relation = "&lt;" if s_final < final_threshold else "≥"
        where = ", ".join(f"{n} = {v:.4g}" for n, v in
                          zip(result.spec.model.param_names, traj.params[-1]))
        self.numbers.text = (
            f"<b>final loss</b> {traj.loss[-1]:.3e} &nbsp;·&nbsp; <b>final sharpness</b> "
            f"{s_final:.4g} {relation} 2/η = {final_threshold:.4g} &nbsp;·&nbsp; "
            f"<b>final θ</b> ({escape(where)}) after {len(traj.loss) - 1} steps")
        self.verdict.text = escape(result.verdict)
        styles = alert_styles(result.level)
        if dict(self.verdict.styles) != styles:
            self.verdict.styles = styles

    def panes(self) -> list:
        return [pn.pane.Bokeh(self.verdict, margin=(0, 10), sizing_mode="stretch_width"),
                pn.pane.Bokeh(self.numbers, margin=(0, 10, 6, 10), sizing_mode="stretch_width")]
