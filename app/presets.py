"""Named states that reproduce the talk's and the papers' figures, one entry each.

A preset is a link: its values are URL query values (``app.state.ExplorerState.URL_NAMES``),
applied through the same gate as a typed or linked value, on top of the model's own
defaults. ``?preset=NAME`` opens one; the page then shows (and its URL holds) the full
state, so a preset and any state moved from it round-trip through a link.
The claim each caption makes is checked against the run in ``tests/test_presets.py``.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Preset:
    """One named figure: the title in the menu, the figure it reproduces, its state."""

    title: str
    caption: str                       # one line naming the figure and what it shows
    values: dict = field(default_factory=dict)   # URL query values; model first


def _pins(*runs: str) -> str:
    """Compared runs in app/compare.py's URL form."""
    return ";".join(runs)


PRESETS: dict[str, Preset] = {
    "quadratic-split": Preset(
        "Quadratic: λ₂ < 2/η < λ₁",
        "Seed, the quadratic: with λ₂ = 0.4 < 2/η = 0.8 < λ₁ = 1 every direction but the "
        "first converges; θ₁ flips sign and grows by |1 − ηλ₁| = 1.5 each step.",
        {"model": "quadratic", "lam1": "1", "lam2": "0.4", "eta": "2.5", "x0": "0.001",
         "y0": "1", "steps": "40"}),
    "degree-4-vs-2": Preset(
        "(1 − x²y²)² against (1 − xy)²",
        "Seed, the two toys from one start at η = 0.2: degree 4 settles just below "
        "2/η = 10 (the edge), degree 2 at a minimum far flatter than 2/η.",
        {"model": "x2y2", "eta": "0.2", "x0": "2.8", "y0": "0.2", "steps": "1500",
         "compare": _pins("model:xy,eta:0.2,x0:2.8,y0:0.2,steps:1500")}),
    "zhu-fig2a": Preset(
        "Zhu et al. Fig. 2a: η = 2/8, 2/10, 2/12",
        "Zhu et al. 2023, Fig. 2a: the same start at three step sizes; each run ends with "
        "its sharpness just below its own 2/η (8, 10, 12).",
        {"model": "xyzw", "eta": "0.2", "x0": "2.8", "y0": "0.2", "steps": "1500",
         "compare": _pins("model:xyzw,eta:0.25", "model:xyzw,eta:0.1666666667")}),
    "zhu-fig2b": Preset(
        "Zhu et al. Fig. 2b: the basin map at η = 0.2",
        "Zhu et al. 2023, Fig. 2b: GD at η = 0.2 for up to 50 000 steps from every start of "
        "the plane; the starts that end just below 2/η = 10 are marked.",
        {"view": "basin", "model": "xyzw", "eta": "0.2", "basin_res": "256",
         "basin_steps": "50000"}),
    "zhu-fig2b-zoom": Preset(
        "Zhu et al. Fig. 2b zoomed: the fractal boundary",
        "Zhu et al. 2023, Fig. 2b's boundary in [3.0, 3.4] × [0.1, 0.5]: about 60 % of these "
        "starts end at the edge, in bands that split again at every zoom (colour by the "
        "settling step to see them best).",
        {"view": "basin", "model": "xyzw", "eta": "0.2", "basin_res": "256",
         "basin_steps": "50000", "basin_window": "3,3.4,0.1,0.5"}),
    "zhu-ab": Preset(
        "Zhu et al.: the run in the (a, b) plane",
        "Zhu et al. 2023, Def. 2: in a = √(x² − y²) − (η⁻² − 4)^¼, b = xy − 1 the iterates of "
        "GD at η = 0.2 alternate around the parabola b² = aκ/2 + κ⁴/16 and end near a = −κ³/8.",
        {"view": "ab", "model": "x2y2", "eta": "0.2", "x0": "2.8", "y0": "0.2",
         "steps": "1500"}),
    "period-doubling": Preset(
        "The η sweep of x²y²: periods 2, 4, 8, … then chaos",
        "GD on ¼(1 − x²y²)² from (1.2, 0.9), η from 0.3 to 0.85: it converges up to η = ½, "
        "where its flattest minimum (S = 4) loses stability; then periods 2, 4, 8, … and chaos.",
        {"view": "sweep", "model": "x2y2", "x0": "1.2", "y0": "0.9",
         "sweep_eta_from": "0.3", "sweep_eta_to": "0.85", "sweep_quantity": "observable"}),
    "q1-swing": Preset(
        "The swing along q₁ (self-stabilization)",
        "Cohen et al. 2021, Damian et al. 2022: past 2/η the iterate swings along the top "
        "eigenvector with alternating sign; the swing grows, then the sharpness falls back.",
        {"view": "oscillation", "model": "xyzw", "eta": "0.2", "x0": "3", "y0": "0.01",
         "steps": "1000"}),
    "gd-vs-flows": Preset(
        "GD against gradient flow and the central flow",
        "Cohen, Damian et al. 2024: after the edge, GD drifts away from gradient flow "
        "(‖θ − θ_GF‖ ≈ 1.2 at the end) but stays near the central flow (≈ 0.013).",
        {"view": "distance", "model": "xyzw", "eta": "0.2", "x0": "3", "y0": "0.01",
         "steps": "1500"}),
    "arora-fig1-sqrt": Preset(
        "Arora et al. Fig. 1: GD on √L",
        "Arora, Li, Panigrahi 2022, Fig. 1 (left): GD on √L for L = (1 + x²)y², lr 0.5 "
        "from (14.7, 3): the iterates drift along y = 0 towards smaller sharpness.",
        {"model": "arora", "optimizer": "sqrt_gd", "eta": "0.5", "x0": "14.7", "y0": "3",
         "steps": "12"}),
    "arora-fig1-normalized": Preset(
        "Arora et al. Fig. 1: normalized GD",
        "Arora, Li, Panigrahi 2022, Fig. 1 (right): normalized GD, lr 5 from (14.7, −3): "
        "it cannot converge; it drifts along the minima y = 0 towards x = 0.",
        {"model": "arora", "optimizer": "normalized_gd", "eta": "5", "x0": "14.7",
         "y0": "-3", "steps": "10"}),
    "arora-fig2": Preset(
        "Arora et al. Fig. 2: normalized GD on a quadratic",
        "Arora, Li, Panigrahi 2022, Fig. 2: normalized GD on diag(1, 0.4), lr 1: the loss "
        "falls, then the iterate aligns with the top eigenvector and bounces along it.",
        {"model": "quadratic", "lam1": "1", "lam2": "0.4", "optimizer": "normalized_gd",
         "eta": "1", "x0": "1.5", "y0": "2.5", "steps": "11"}),
    "wu-ma-e": Preset(
        "Wu–Ma–E: SGD is more picky",
        "Wu, Ma, E 2018: both minima have sharpness 2 < 2/η; from x₀ = 1 − 10⁻⁵ at η = 0.7 "
        "GD stays at x = 1, SGD leaves it (its noise is unstable there) and settles at 0.",
        {"model": "picky", "optimizer": "sgd", "eta": "0.7", "x0": "0.99999", "steps": "200",
         "compare": _pins("model:picky,optimizer:gd,eta:0.7")}),
    "step-drop": Preset(
        "A step-size drop: sharpening resumes",
        "Seed Fig. 7's shape in the self-stabilization toy (Damian et al. 2022): at η = 0.2 the "
        "sharpness sits at 2/η = 10 with the loss held above 0; when η drops to 0.1 at step "
        "600 it rises again, to 15.7 (the minimum's 15.75 < 2/η = 20).",
        {"model": "sharpening", "eta": "0.2", "x0": "0.5", "y0": "0.3", "steps": "1200",
         "drop_step": "600", "drop_eta": "0.1"}),
    "momentum-edge": Preset(
        "Heavy-ball momentum at (2 + 2β)/η",
        "Cohen et al.: heavy-ball momentum with β = 0.5 at η = 0.2 is held to (2 + 2β)/η = 15, "
        "not to 2/η = 10: it settles at a minimum just below 15.",
        {"model": "xyzw", "optimizer": "momentum", "beta": "0.5", "eta": "0.2",
         "x0": "2.8", "y0": "0.2", "steps": "3000"}),
    "adam-edge": Preset(
        "Adam at 38/η (preconditioned sharpness)",
        "Cohen et al. 2022: full-batch Adam (β₁ = 0.9, η = 0.1): its preconditioned sharpness "
        "λ₁(P⁻¹H) rises to and hovers at (2 + 2β₁)/((1 − β₁)η) = 38/η = 380.",
        {"model": "xyzw", "optimizer": "adam", "eta": "0.1", "x0": "3", "y0": "0.01",
         "steps": "3000"}),
    "central-flow": Preset(
        "The central flow beside GD",
        "Cohen, Damian et al. 2024: gradient flow sharpens past 2/η and leaves GD; the "
        "central flow holds S = 2/η and follows GD's time-average.",
        {"model": "xyzw", "eta": "0.2", "x0": "3", "y0": "0.01", "steps": "1000",
         "show_flow": "true", "show_central_flow": "true"}),
}


def preset_titles() -> dict[str, str]:
    """Menu title -> preset name, with '' for "no preset" first."""
    return {"— choose a figure —": "", **{p.title: name for name, p in PRESETS.items()}}
