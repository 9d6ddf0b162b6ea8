"""The words around the plots: the intro and the "about this run" card.

Both are built from the registries only — a model's ``title``, ``formula`` and ``note``, an
optimizer's ``title`` and ``formula`` — so a model or an update rule added to ``dynamics``
is explained here without a change to this file. The text builders are pure functions.
"""
from __future__ import annotations

import panel as pn
from panel.viewable import Viewer

import dynamics

# What to watch for, per update rule; a rule without an entry gets FALLBACK.
WATCH = {
    "gd": "Move η and watch the run settle below 2/η, hover at the **edge of stability**, "
          "or diverge.",
    "normalized_gd": "Every step has length η whatever the gradient, so it cannot settle at a "
                     "minimum: the loss falls, then the iterates bounce across the valley and "
                     "drift along it towards flatter minima (Arora, Li, Panigrahi 2022).",
    "sqrt_gd": "Near a minimum the step η∇L/(2√L) does not shrink, so like normalized GD it "
               "cannot settle: it bounces across the valley and drifts towards flatter "
               "minima (Arora, Li, Panigrahi 2022).",
    "sgd": "Each step follows one sample's loss, drawn at random: a minimum that GD can hold "
           "may throw SGD out when the samples' curvatures differ (Wu, Ma, E 2018).",
    "flow": "Gradient flow is the limit η → 0 (shown at the times Σ η): it slides down "
            "without oscillating, and nothing holds its sharpness at 2/η.",
    "central_flow": "The central flow (Cohen, Damian et al. 2024) is gradient flow until the "
                    "sharpness reaches 2/η, then gradient flow kept on S = 2/η: the path GD "
                    "follows on average at the edge of stability, without its oscillation.",
    "momentum": "Heavy-ball momentum v ← βv + ∇L, θ ← θ − ηv is stable near a minimum only "
                "while S ≤ (2 + 2β)/η: move β and η and watch the dashed line move.",
    "rmsprop": "RMSProp divides each step by √v: what it is held to is the sharpness of P⁻¹H, "
               "which rises to 2/η as v shrinks near a minimum (Cohen et al. 2022).",
    "adam": "Adam's preconditioned sharpness λ_max(P⁻¹H) rises as its v̂ shrinks, reaches "
            "(2 + 2β₁)/((1 − β₁)η) = 38/η for β₁ = 0.9, and the loss spikes there (Cohen et "
            "al. 2022, 'Adaptive gradient methods at the edge of stability').",
}
FALLBACK = "Move η and compare the sharpness with the dashed stability threshold."


def split_lines(latex: str) -> list[str]:
    r"""``latex`` cut at its top-level ``,\ `` separators (never inside braces)."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(latex):
        c = latex[i]
        if c == "\\" and latex[i + 1:i + 2] in ("{", "}"):
            i += 2   # an escaped brace: \{ \} are characters, not groups
            continue
        depth += {"{": 1, "}": -1}.get(c, 0)
        if depth == 0 and latex.startswith(r",\ ", i):
            parts.append(latex[start:i + 1])
            start = i = i + 3
            continue
        i += 1
    parts.append(latex[start:])
    return [p.strip() for p in parts if p.strip()]


def formula_lines(latex: str) -> list[str]:
    """Inline math, one ``$…$`` per line, so a long formula wraps at its commas."""
    return [f"${line}$" for line in split_lines(latex)]


def intro_text(model, optimizer: str, page: str = "trajectory") -> str:
    """The "What am I looking at?" paragraph for ``optimizer`` (a name) on ``model``, for
    the view ``page`` of app/pages.py (the trajectory view's plots are told one by one;
    another view says what it shows in its own caption)."""
    from .pages import PAGES   # (no Panel there)
    opt = dynamics.OPTIMIZERS[optimizer]
    threshold = _unicode(getattr(opt, "threshold_formula", r"2/\eta"))
    preconditioned = getattr(opt, "preconditioner_fn", None) is not None
    held = ("" if threshold == "2/η" and not preconditioned else
            f" {opt.title} is held to **{threshold}**"
            + (" by the sharpness of P⁻¹H (P: its preconditioner)" if preconditioned else "")
            + ".")
    plane = ("the loss along x" if len(model.plane) == 1 else
             "the landscape (grey = log-loss)")
    plots = ((f"The first plot shows {plane}, its minima coloured by "
              "their sharpness (the legend says which GD can hold) and the iterates from the "
              "start ⊕ (click to move it); the other two show the loss and the sharpness "
              "against the step, with the threshold dashed. ") if page == "trajectory" else
             f"This view, *{PAGES[page].title}*: {PAGES[page].caption} ")
    return (
        f"**What am I looking at?** **{opt.title}** on *{model.title}* (the rule and the "
        "objective are in the card below). Near a minimum, gradient descent θ ← θ − η∇L(θ) "
        "is only stable if the *sharpness* S (the largest eigenvalue of the Hessian ∇²L) "
        f"is at most **2/η**.{held} " + plots + WATCH.get(optimizer, FALLBACK)
    )


def _unicode(latex: str) -> str:
    r"""A threshold formula as plain text: ``(2 + 2\beta)/\eta`` → "(2 + 2β)/η"."""
    for tex, text in ((r"\beta_1", "β₁"), (r"\beta", "β"), (r"\eta", "η"), ("{", ""),
                      ("}", ""), (r"\,", ""), ("- ", "− ")):
        latex = latex.replace(tex, text)
    return latex


def about_parts(model, optimizer: str) -> list[tuple[str, str]]:
    r"""The card as ("markdown", text) and ("math", "$…$") parts, in order.

    Formulas go to KaTeX panes, not into Markdown: Markdown would eat their backslashes
    (``\,`` and ``\|`` come out as "," and "|").
    """
    opt = dynamics.OPTIMIZERS[optimizer]
    return ([("markdown", f"**The model: {model.title}**")]
            + [("math", line) for line in formula_lines(model.formula)]
            + [("markdown", model.note), ("markdown", f"**The update rule: {opt.title}**")]
            + [("math", line) for line in formula_lines(opt.formula)])


def _pane(kind: str, text: str):
    if kind == "math":
        return pn.pane.LaTeX(text, renderer="katex", styles={"font-size": "17px"},
                             sizing_mode="stretch_width", margin=(2, 10))
    return pn.pane.Markdown(text, styles={"font-size": "15px"}, sizing_mode="stretch_width",
                            margin=(4, 10))


class About(Viewer):
    """The intro paragraph and the card, following the state's model and optimizer."""

    def __init__(self, state, **params):
        super().__init__(**params)
        self.state = state
        self.intro = pn.pane.Markdown("", styles={"font-size": "15px"},
                                      sizing_mode="stretch_width", margin=(0, 10))
        self.body = pn.Column(sizing_mode="stretch_width")
        self.card = pn.Card(self.body, title="About this model and update rule",
                            collapsed=False, sizing_mode="stretch_width", margin=(6, 10))
        state.param.watch(self._update, ["model", "optimizer", "lam1", "lam2", "view"])
        self._update()

    def _update(self, *events) -> None:
        model, optimizer = self.state.model_object(), self.state.optimizer
        self.intro.object = intro_text(model, optimizer, self.state.view)
        self.body.objects = [_pane(kind, text) for kind, text in about_parts(model, optimizer)]

    def __panel__(self):
        return pn.Column(self.intro, self.card, sizing_mode="stretch_width")
