"""What the app calls an optimizer's threshold and the sharpness held to it, in plain Unicode.

Every rule is held to a threshold T (``dynamics.Optimizer.threshold``): 2/η for GD, (2 + 2β)/η
for heavy-ball momentum, (2 + 2β₁)/((1 − β₁)η) for Adam. GD and momentum are held through the
sharpness S = λ_max(H); RMSProp and Adam, preconditioned by P, through the *effective*
sharpness λ_max(P⁻¹H) (Cohen et al. 2022). The words on screen come from the engine's own
LaTeX formula, so they cannot drift from what the run was held to.
"""
from __future__ import annotations

import dynamics

# LaTeX of the engine's threshold formulas -> Unicode (longest first: \beta_1 before \beta)
_UNICODE = ((r"\beta_1", "β₁"), (r"\beta_2", "β₂"), (r"\beta", "β"), (r"\eta", "η"),
            ("-", "−"), ("{", ""), ("}", ""))
PRECONDITIONED_NAME = "preconditioned sharpness λ_max(P⁻¹H)"


def _rule(optimizer) -> dynamics.Optimizer:
    return dynamics.OPTIMIZERS[optimizer] if isinstance(optimizer, str) else optimizer


def threshold_formula(optimizer) -> str:
    """The threshold as Unicode text: '2/η', '(2 + 2β)/η', '(2 + 2β₁)/((1 − β₁)η)'."""
    text = _rule(optimizer).threshold_formula
    for latex, plain in _UNICODE:
        text = text.replace(latex, plain)
    return text


def compact_formula(optimizer) -> str:
    """:func:`threshold_formula` without spaces, for a legend: '(2+2β₁)/((1−β₁)η)'."""
    return threshold_formula(optimizer).replace(" ", "")


def preconditioned(optimizer) -> bool:
    """True for RMSProp and Adam: held through λ_max(P⁻¹H), not λ_max(H)."""
    return _rule(optimizer).preconditioner_fn is not None


def sharpness_name(optimizer) -> str:
    """'sharpness' or 'preconditioned sharpness λ_max(P⁻¹H)': what is held to the threshold."""
    return PRECONDITIONED_NAME if preconditioned(optimizer) else "sharpness"
