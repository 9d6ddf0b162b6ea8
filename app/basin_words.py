"""The basin map's caption: what the colours mean and what to look for, true for the map shown."""
from __future__ import annotations

import dynamics

from . import basin, rules

_SQUARE = '<span style="display:inline-block;width:12px;height:12px;background:{};' \
          'border:1px solid #555;vertical-align:middle"></span>'


def _pct(fraction: float) -> str:
    return f"{100 * fraction:.1f} %" if fraction else "0 %"


def caption(spec: basin.BasinSpec, result: dict, t: float | None, colour: str) -> str:
    """HTML: the marked cells (with the band's numbers and their share), the grey ones, the
    rule's own remarks (SGD's seed, a rule that never stops early, xyzw's plane)."""
    rule = dynamics.OPTIMIZERS[spec.optimizer]
    s = basin.summary(result, t, spec.steps)
    edge, grey = _SQUARE.format(basin.EDGE_COLOUR), _SQUARE.format(basin.DIVERGED_COLOUR)
    formula = rules.threshold_formula(spec.optimizer)
    lines = []
    if t is None:
        lines.append(f"No cells are marked: {rule.title} is held to its threshold through the "
                     "preconditioned sharpness λ_max(P⁻¹H), and P depends on its running "
                     "averages at the end of each run, so the final sharpness S shown here has "
                     "no fixed threshold to compare with.")
    else:
        at = "GD settled" if spec.optimizer == "gd" else f"{rule.title} settled"
        band = f"({t - basin.BAND:g}, {t:g})"
        lines.append(f"{edge} Cells marked end just below the threshold, with S in {band} = "
                     f"({formula} − {basin.BAND:g}, {formula}): {at} at the edge of stability. "
                     f"<b>{_pct(s.edge)}</b> of the {s.cells:,} starts.")
    lines.append(f"{grey} Grey: diverged ({_pct(s.diverged)})."
                 + (f" {_pct(s.unsettled)} were still moving at step {spec.steps:,}."
                    if s.unsettled and not _runs_every_step(spec) else ""))
    if colour == "settled":
        if _runs_every_step(spec):
            lines.append(f"{rule.title} runs every one of its steps (a quiet step says nothing "
                         "about its next one), so every finite cell shows "
                         f"{spec.steps:,}: colour by final sharpness or loss instead.")
        else:
            lines.append("Colour: the step at which a cell stopped moving (a step of at most "
                         "10⁻⁹); the fractal boundary between basins shows best here.")
    if spec.optimizer == "sgd":
        lines.append(f"Every cell is one SGD run drawing its samples from seed {spec.seed}: "
                     "another seed (sidebar) draws other samples and gives another map.")
    if spec.model.name == "xyzw":
        lines.append("Starts on the symmetric plane z₀ = x₀, w₀ = y₀.")
    lines.append("◎ the current start. Click a cell to run it in the trajectory view; zoom "
                 "(box or wheel) or pan to recompute the map inside the new window.")
    return "<br>".join(lines)


def _runs_every_step(spec: basin.BasinSpec) -> bool:
    """SGD and the rules with state never stop early (dynamics/sweeps.py)."""
    rule = dynamics.OPTIMIZERS[spec.optimizer]
    return rule.stochastic or rule.stateful
