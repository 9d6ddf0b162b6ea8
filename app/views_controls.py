"""The sidebar: every control of :class:`ExplorerState`, shown only where it applies."""
from __future__ import annotations

import math

import panel as pn
from panel.viewable import Viewer

import dynamics

from .state import ExplorerState


def fine_step(lo: float, hi: float, ticks: int = 500) -> float:
    """A round slider step giving about ``ticks`` positions over [lo, hi]."""
    return 10.0 ** round(math.log10(max(hi - lo, 1e-12) / ticks))


def live(widget):
    """Handle this widget's browser changes at once, not after Panel's 50 ms debounce.

    Panel waits ``_debounce`` ms to merge bursts of browser events; the dashboard merges
    bursts itself (one run per scheduled flush), so here the wait is only latency. Nor do
    its value events flip the page's busy indicator: handling one only marks the view
    dirty (the run comes after), and each flip is two more round trips per key press.
    """
    for part in (widget, getattr(widget, "_slider", None), getattr(widget, "_value_edit", None)):
        if part is not None:
            part._debounce = 0
            part._busy__ignore = [*type(part)._busy__ignore, "value", "value_throttled"]
    return widget


class Controls(Viewer):
    """Widgets built from the state's parameters (one set per session, never shared)."""

    def __init__(self, state: ExplorerState, **params):
        super().__init__(**params)
        self.state = state
        w = pn.widgets
        slider = dict(sizing_mode="stretch_width", format="0.[0000]")
        self.model = w.Select.from_param(state.param.model, name="model",
                                         sizing_mode="stretch_width")
        self.formula = pn.pane.LaTeX("", styles={"font-size": "15px", "overflow-x": "auto",
                                                 "max-width": "100%"},
                                     margin=(0, 10), renderer="katex",
                                     sizing_mode="stretch_width")
        self.optimizer = w.Select.from_param(state.param.optimizer, name="optimizer",
                                             sizing_mode="stretch_width")
        self.eta = live(w.EditableFloatSlider.from_param(state.param.eta, name="step size η",
                                                         **slider))
        self.starts = {n: live(w.EditableFloatSlider.from_param(state.param[n], **slider))
                       for n in ("x0", "y0", "z0", "w0")}
        self.symmetric = w.Checkbox.from_param(state.param.symmetric)
        self.lams = {n: live(w.EditableFloatSlider.from_param(state.param[n], start=0.0,
                                                              end=3.0, step=0.01, **slider))
                     for n in ("lam1", "lam2")}
        self.steps = live(w.EditableIntSlider.from_param(state.param.steps, start=10, end=5000,
                                                         step=10, sizing_mode="stretch_width"))
        self.drop_step = w.IntInput.from_param(state.param.drop_step, step=100,
                                               sizing_mode="stretch_width")
        self.drop_eta = w.FloatInput.from_param(state.param.drop_eta, step=0.001,
                                                sizing_mode="stretch_width")
        self.seed = w.IntInput.from_param(state.param.seed, sizing_mode="stretch_width")
        self.show_flow = w.Checkbox.from_param(state.param.show_flow)
        self.x_axis = w.RadioButtonGroup.from_param(state.param.x_axis, name="x-axis",
                                                    button_type="default",
                                                    sizing_mode="stretch_width")
        self.reset = w.Button(name="reset to the model's defaults", button_type="default",
                              sizing_mode="stretch_width")
        self.reset.on_click(lambda event: state.reset())
        state.param.watch(self._on_model, ["model", "lam1", "lam2"])
        state.param.watch(self._on_visibility, ["model", "optimizer", "symmetric"])
        self._on_model()
        self._on_visibility()

    def _on_model(self, *events):
        """Slider ranges follow the model (its η range and its plotting window)."""
        m = self.state.model_object()
        lo, hi = m.eta_range
        self.eta.param.update(start=lo, end=hi, step=fine_step(lo, hi))
        (x_lo, x_hi), *rest = m.window
        for name in ("x0", "z0"):
            self.starts[name].param.update(start=x_lo, end=x_hi, step=fine_step(x_lo, x_hi))
        if rest:
            y_lo, y_hi = rest[0]
            for name in ("y0", "w0"):
                self.starts[name].param.update(start=y_lo, end=y_hi,
                                               step=fine_step(y_lo, y_hi))
        self.formula.object = f"${m.formula}$"
        # a long formula (picky) gets smaller type so it fits the sidebar
        size = "15px" if len(m.formula) < 60 else "11px"
        self.formula.styles = {**self.formula.styles, "font-size": size}

    def _on_visibility(self, *events):
        s = self.state
        dim = s.dim
        self.starts["y0"].visible = dim >= 2
        self.symmetric.visible = s.model == "xyzw"
        for name in ("z0", "w0"):
            self.starts[name].visible = s.model == "xyzw" and not s.symmetric
        for widget in self.lams.values():
            widget.visible = s.model == "quadratic"
        self.seed.visible = dynamics.OPTIMIZERS[s.optimizer].stochastic

    def __panel__(self):
        starts = [self.starts["x0"], self.starts["y0"], self.symmetric, self.starts["z0"],
                  self.starts["w0"]]
        return pn.Column(
            self.model, self.formula, *self.lams.values(), self.optimizer, self.eta,
            *starts, self.steps,
            pn.pane.Markdown("**Step-size drop** (at step k, η → η₁)", margin=(10, 10, 0, 10)),
            pn.Row(self.drop_step, self.drop_eta, sizing_mode="stretch_width"),
            self.seed, self.show_flow, self.x_axis, self.reset,
            sizing_mode="stretch_width",
        )
