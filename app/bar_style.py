"""How the trajectory view's control bars are set, so its plots start high on a projector.

Buttons as wide as their words and one row tall (:data:`ROW_HEIGHT`), a bold heading per
group: at 1024 × 768 the replay fills one row, the compare bar and the landscape's view the
next (``views_compare.bar``), and the landscape starts 300 px from the top (411 before).
"""
from __future__ import annotations

import panel as pn

ROW_HEIGHT = 30   # px: a button, the speed select, the player's buttons
TIGHT_BUTTON_CSS = ".bk-btn { padding: 0 6px; }"   # Bokeh's 12 px each side made a third row


def heading(text: str) -> pn.pane.HTML:
    """A group's name, in bold, before its controls."""
    return pn.pane.HTML(f"<b>{text}</b>", margin=(0, 2, 0, 10), styles={"font-size": "14px"})


def tight(**params) -> dict:
    """A bar button's sizing: its words' width, one row tall, 3 px apart."""
    return {"width": None, "height": ROW_HEIGHT, "margin": (0, 3),
            "stylesheets": [TIGHT_BUTTON_CSS], **params}
