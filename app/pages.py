"""The explorer's views: each has a name for the URL (``view=basin``), a title for its button,
one line saying what it shows, and the class that draws it.

A session builds a view the first time it is shown, never before, so a page costs only
the view it opens (fifty students opening the default view build fifty trajectory views
and nothing else). Every view class takes the session's ``ExplorerState`` as its one
argument and follows it; nothing here imports Panel, so the state can list the names.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    """One view of the explorer."""

    title: str      # on its button
    caption: str    # one line: what it shows
    target: str     # "package.module:Class", built as Class(state)

    def build(self, state):
        module, name = self.target.split(":")
        return getattr(importlib.import_module(module), name)(state)


PAGES: dict[str, Page] = {
    "trajectory": Page("Trajectory", "One run: its path on the landscape, the loss, and the "
                       "sharpness against the rule's threshold.", "app.views_plots:Dashboard"),
    "basin": Page("Basin map", "Where each start ends: final sharpness over a grid of starts, "
                  "the cells that settle just below the threshold marked.",
                  "app.views_basin:BasinView"),
    "sweep": Page("η sweep", "One start, hundreds of step sizes: where the run converges, "
                  "cycles, turns chaotic or diverges.", "app.views_sweep:SweepView"),
    "ab": Page("(a, b) plane", "Zhu et al.'s coordinates of the minimalist example: the run "
               "follows the parabola to a = −κ³/8, beside the two-step map's bifurcation "
               "diagram.", "app.views_ab:ABView"),
    # issue 12 (anatomy of a run): the swing along q₁; the distance from the two flows
    "oscillation": Page("Swing along q₁", "The iterate's swing across its central "
                        "point along the top eigenvector, and the sharpness that drives it.",
                        "app.views_oscillation:OscillationView"),
    "distance": Page("GD vs the flows", "How far GD is from gradient flow and from "
                     "the central flow, against time.", "app.views_distance:DistanceView"),
}
DEFAULT_PAGE = "trajectory"


def page_titles() -> dict[str, str]:
    """Button title -> URL name, in the order of :data:`PAGES`."""
    return {page.title: name for name, page in PAGES.items()}
