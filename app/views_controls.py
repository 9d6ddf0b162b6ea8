"""The sidebar: every control of :class:`ExplorerState`, shown only where it applies."""
from __future__ import annotations

import panel as pn
from panel.links import Callback
from panel.viewable import Viewer

import dynamics

from .about import formula_lines
from .presets import PRESETS, preset_titles
from .state import HYPER_NAMES, ExplorerState, fine_step


def bind(widget, state: ExplorerState, name: str):
    """Two-way link of ``widget`` and ``state.<name>`` through the state's one gate.

    Every value the widget sends goes through :meth:`ExplorerState.set_from_control`: a
    refused one (out of :data:`app.limits.LIMITS`, empty, not a number) leaves the state as
    it was, puts the widget back to the kept value and the reason in ``state.input_error``.
    An editable slider's box would also stretch the slider to any typed value, in the
    browser, for the rest of the session (Panel 1.9 adds that jscallback to the box):
    that callback is dropped, so the slider's range is the model's, always.
    """
    widget.value = getattr(state, name)
    box = getattr(widget, "_value_edit", None)
    if box is not None:
        for callback in list(Callback.registry.get(box, [])):
            callback.unwatch()

    def put_back():
        widget.value = getattr(state, name)

    def from_widget(event):
        if event.new == getattr(state, name):
            return   # the state's own value coming back (or a refused one put back)
        if state.set_from_control(name, event.new):
            # not now: Panel does not echo a property to the browser while it handles the
            # browser's change of that same property, so the box would keep the bad text
            doc = pn.state.curdoc
            if doc is not None and doc.session_context is not None:
                doc.add_next_tick_callback(put_back)
            else:
                put_back()

    def from_state(event):
        # not the state's own value with the float noise taken off (a key press sends
        # 0.20099999999999998, the state keeps 0.201): sent back while the keys go on, it
        # would pull the browser's slider back to an older value mid-burst
        if widget.value != event.new and not _noise_apart(widget.value, event.new):
            widget.value = event.new

    widget.param.watch(from_widget, "value")
    state.param.watch(from_state, name)
    return widget


def _noise_apart(shown, kept) -> bool:
    """Are ``shown`` and ``kept`` the same number but for float noise (10⁻¹² relative)?"""
    try:
        return abs(float(shown) - float(kept)) <= 1e-12 * max(1.0, abs(float(kept)))
    except (TypeError, ValueError):   # None, a text, a choice: not numbers
        return False


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
    """Widgets built from the state's parameters (one set per session, never shared).

    A control that does not apply to the model and rule shown (β, β₁, β₂, ε; z₀, w₀ of a
    symmetric start; λ₁, λ₂; the seed) is built the first time it applies, not before: a
    default page does not build (and send) nine hidden widgets.
    """

    LAZY = ("lam1", "lam2", "beta", "beta1", "beta2", "eps", "z0", "w0", "seed")

    def __init__(self, state: ExplorerState, **params):
        super().__init__(**params)
        self.state = state
        w = pn.widgets
        slider = dict(sizing_mode="stretch_width", format="0.[000000]")
        p = state.param
        # a figure of the papers in one click: every control set as it says (app/presets.py)
        self.preset = w.Select(label="figure preset", options=preset_titles(),
                               value=state.preset, sizing_mode="stretch_width")
        self.preset_caption = pn.pane.Markdown("", margin=(0, 10, 4, 10), visible=False,
                                               styles={"font-size": "13px", "color": "#333"},
                                               sizing_mode="stretch_width")
        self.preset.param.watch(self._on_preset_choice, "value")
        state.param.watch(self._on_preset, "preset")
        self._on_preset()
        self.model = w.Select.from_param(state.param.model, label="model",
                                         sizing_mode="stretch_width")
        self.formula = pn.Column(sizing_mode="stretch_width", margin=(0, 0, 6, 0))
        self.optimizer = w.Select.from_param(state.param.optimizer, label="optimizer",
                                             sizing_mode="stretch_width")
        self.eta = live(bind(w.EditableFloatSlider(label="step size η", **slider), state, "eta"))
        # the rule's hyperparameters, each shown only for the rules that have it
        self._factories = {
            n: (lambda n=n, lo=lo, hi=hi: live(bind(w.EditableFloatSlider(
                label=p[n].label, start=lo, end=hi, step=p[n].step, **slider), state, n)))
            for n, (lo, hi) in (("beta", (0.0, 0.99)), ("beta1", (0.0, 0.99)),
                                ("beta2", (0.0, 0.9999)))}
        self._factories["eps"] = lambda: bind(w.FloatInput(label="ε (added to √v)", step=1e-8,
                                                           sizing_mode="stretch_width"),
                                              state, "eps")
        self._factories.update({
            n: (lambda n=n: live(bind(w.EditableFloatSlider(label=p[n].label, **slider),
                                      state, n))) for n in ("z0", "w0")})
        self._factories.update({
            n: (lambda n=n: live(bind(w.EditableFloatSlider(label=p[n].label, start=0.0,
                                                            end=3.0, step=0.01, **slider),
                                      state, n))) for n in ("lam1", "lam2")})
        self._factories["seed"] = lambda: bind(w.IntInput(label=p.seed.label,
                                                          sizing_mode="stretch_width"),
                                               state, "seed")
        self.hyper, self.lams = {}, {}   # those built so far, by name
        self.starts = {n: live(bind(w.EditableFloatSlider(label=p[n].label, **slider), state, n))
                       for n in ("x0", "y0")}
        self.seed = None
        self.symmetric = w.Checkbox.from_param(state.param.symmetric)
        self.steps = live(bind(w.EditableIntSlider(label=p.steps.label, start=10, end=5000,
                                                   step=10, sizing_mode="stretch_width"),
                               state, "steps"))
        self.drop_step = bind(w.IntInput(label=p.drop_step.label, step=100,
                                         sizing_mode="stretch_width"), state, "drop_step")
        self.drop_eta = bind(w.FloatInput(label=p.drop_eta.label, step=0.001,
                                          sizing_mode="stretch_width"), state, "drop_eta")
        self.show_flow = w.Checkbox.from_param(state.param.show_flow)
        self.show_central_flow = w.Checkbox.from_param(state.param.show_central_flow)
        self.x_axis = w.RadioButtonGroup.from_param(state.param.x_axis, label="x-axis",
                                                    color="default",
                                                    sizing_mode="stretch_width")
        self.reset = w.Button(label="reset to the model's defaults", color="default",
                              sizing_mode="stretch_width")
        self.reset.on_click(lambda event: state.reset())
        self.drop_title = pn.pane.Markdown("**Step-size drop** (at step k, η → η₁)",
                                           margin=(10, 10, 0, 10))
        self.drop_row = pn.Row(self.drop_step, self.drop_eta, sizing_mode="stretch_width")
        self.column = pn.Column(sizing_mode="stretch_width")
        state.param.watch(self._on_model, ["model", "lam1", "lam2"])
        state.param.watch(self._on_visibility, ["model", "optimizer", "symmetric"])
        self._on_model()
        self._on_visibility()

    def widget(self, name: str):
        """The control ``name`` of :attr:`LAZY` (or a start), built now if it is not yet."""
        for group in (self.hyper, self.lams, self.starts):
            if name in group:
                return group[name]
        if name == "seed" and self.seed is not None:
            return self.seed
        made = self._factories[name]()
        if name in ("z0", "w0"):
            self.starts[name] = made
            self._set_range(name)
        elif name in ("lam1", "lam2"):
            self.lams[name] = made
        elif name == "seed":
            self.seed = made
        else:
            self.hyper[name] = made
        return made

    def _on_preset_choice(self, event):
        if event.new and event.new != self.state.preset:
            self.state.load_preset(event.new)

    def _on_preset(self, *events):
        """The menu shows the preset the controls hold, and its caption; '—' once moved."""
        name = self.state.preset
        self.preset.value = name
        self.preset_caption.object = PRESETS[name].caption if name else ""
        self.preset_caption.visible = bool(name)

    def _set_range(self, name: str) -> None:
        """A start slider's range is the model's plotting window (x for x₀, z₀; y for y₀, w₀)."""
        (x_lo, x_hi), *rest = self.state.model_object().window
        if name in ("x0", "z0"):
            self.starts[name].param.update(start=x_lo, end=x_hi, step=fine_step(x_lo, x_hi))
        elif rest:
            y_lo, y_hi = rest[0]
            self.starts[name].param.update(start=y_lo, end=y_hi, step=fine_step(y_lo, y_hi))

    def _on_model(self, *events):
        """Slider ranges follow the model (its η range and its plotting window)."""
        m = self.state.model_object()
        lo, hi = m.eta_range
        self.eta.param.update(start=lo, end=hi, step=self.state.param.eta.step)
        for name in self.starts:
            self._set_range(name)
        # one pane per line: a long formula (picky) wraps instead of being cut off
        self.formula.objects = [
            pn.pane.LaTeX(line, renderer="katex", margin=(0, 10), sizing_mode="stretch_width",
                          styles={"font-size": "15px", "overflow-x": "auto"})
            for line in formula_lines(m.formula)]

    def _applies(self) -> dict[str, bool]:
        """Which of the model- and rule-specific controls apply to the state now."""
        s = self.state
        names = HYPER_NAMES.get(s.optimizer, ())
        xyzw = s.model == "xyzw"
        return {"y0": s.dim >= 2, "symmetric": xyzw,
                "z0": xyzw and not s.symmetric, "w0": xyzw and not s.symmetric,
                "lam1": s.model == "quadratic", "lam2": s.model == "quadratic",
                "seed": dynamics.OPTIMIZERS[s.optimizer].stochastic,
                **{n: n in names for n in ("beta", "beta1", "beta2", "eps")}}

    def _on_visibility(self, *events):
        applies = self._applies()
        for name, shown in applies.items():
            if shown and name in self.LAZY:
                self.widget(name)
        for name, shown in applies.items():
            widget = (self.symmetric if name == "symmetric" else self.seed if name == "seed"
                      else {**self.hyper, **self.lams, **self.starts}.get(name))
            if widget is not None:
                widget.visible = shown
        objects = self._objects()
        if objects != self.column.objects:   # a control was built: it joins the sidebar
            self.column.objects = objects

    def _objects(self) -> list:
        """The sidebar's items in order: every control built so far (hidden where it does
        not apply)."""
        def built(*names):
            return [self.widget(n) for n in names
                    if n in self.hyper or n in self.lams or n in self.starts
                    or (n == "seed" and self.seed is not None)]
        return [self.preset, self.preset_caption, self.model, self.formula,
                *built("lam1", "lam2"), self.optimizer, *built("beta", "beta1", "beta2", "eps"),
                self.eta, self.starts["x0"], self.starts["y0"], self.symmetric,
                *built("z0", "w0"), self.steps, self.drop_title, self.drop_row, *built("seed"), self.show_flow, self.show_central_flow, self.x_axis,
                self.reset]

    def __panel__(self):
        return self.column
