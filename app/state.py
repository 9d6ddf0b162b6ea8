"""Every control of the explorer in one serialisable ``param.Parameterized`` (no Panel here).

The parameter names are the URL query names, so a link reproduces the view. Nothing in
this module raises into the UI: a bad value becomes a message string, and the last good
picture stays on screen.
"""
from __future__ import annotations

import math
import param

import dynamics

from .pages import DEFAULT_PAGE, page_titles
from .presets import PRESETS, preset_titles
from .runs import RunResult, RunSpec, run  # noqa: F401  (RunResult: re-exported)
from .sweep_plot import QUANTITIES as SWEEP_QUANTITIES, sweep_defaults

from .limits import (  # noqa: F401  (re-exported: the controls and tests use them)
    HYPER_NAMES, LIMIT, LIMITS, MAX_STEPS, OPEN_ABOVE, OPEN_BELOW, SYMBOLS, _eta_limits, _number, _parse, _text, fine_step, snap)

def model_titles() -> dict[str, str]:
    """Dropdown label -> registry name, for every model the engine declares."""
    return {m.title: name for name, m in dynamics.MODELS.items()}


def optimizer_titles(model) -> dict[str, str]:
    """Dropdown label -> optimizer name, only the rules that make sense for ``model``."""
    return {dynamics.OPTIMIZERS[n].title: n for n in dynamics.optimizers_for(model)}


class ExplorerState(param.Parameterized):
    """The controls. Defaults follow the chosen model (``dynamics.MODELS[model]``)."""

    view = param.Selector(default=DEFAULT_PAGE, objects=page_titles(),
                          doc="Which view of the run the page shows (app/pages.py).")
    model = param.Selector(default="xyzw", objects=model_titles(), doc="The objective L.")
    optimizer = param.Selector(default="gd", objects=optimizer_titles(dynamics.MODELS["xyzw"]),
                               doc="The update rule.")
    eta = param.Number(default=0.2, softbounds=(0.01, 0.5), step=0.001, label="step size η",
                       doc="The step size η; GD can only settle where sharpness ≤ 2/η.")
    x0 = param.Number(default=3.2, softbounds=(-0.5, 4.0), step=0.01, label="start x₀")
    y0 = param.Number(default=0.3, softbounds=(-0.5, 2.5), step=0.01, label="start y₀")
    z0 = param.Number(default=3.2, softbounds=(-0.5, 4.0), step=0.01, label="start z₀")
    w0 = param.Number(default=0.3, softbounds=(-0.5, 2.5), step=0.01, label="start w₀")
    symmetric = param.Boolean(default=True, label="symmetric start (z₀ = x₀, w₀ = y₀)")
    lam1 = param.Number(default=1.0, softbounds=(0.0, 3.0), step=0.01, label="λ₁")
    lam2 = param.Number(default=0.4, softbounds=(0.0, 3.0), step=0.01, label="λ₂")
    steps = param.Integer(default=1000, bounds=(1, MAX_STEPS), softbounds=(10, 5000),
                          label="steps")
    drop_step = param.Integer(default=0, bounds=(0, MAX_STEPS), label="drop η at step (0 = never)")
    drop_eta = param.Number(default=0.1, softbounds=(0.001, 1.0), step=0.001,
                            label="η after the drop")
    seed = param.Integer(default=0, bounds=(0, 2**31 - 1), label="SGD seed")
    beta = param.Number(default=0.9, softbounds=(0.0, 0.99), step=0.01, label="momentum β",
                        doc="Heavy ball's decay β of the velocity; it is held to (2 + 2β)/η.")
    beta1 = param.Number(default=0.9, softbounds=(0.0, 0.99), step=0.01, label="Adam β₁",
                         doc="Adam's decay of the running mean of g.")
    beta2 = param.Number(default=0.999, softbounds=(0.0, 0.9999), step=0.0001, label="β₂",
                         doc="The decay of the running mean of g² (RMSProp's default 0.99, "
                         "Adam's 0.999: a change of the optimizer takes its default).")
    eps = param.Number(default=1e-8, step=None, label="ε",
                       doc="Added to √v before dividing by it (RMSProp, Adam).")
    show_flow = param.Boolean(default=False, label="show gradient flow")
    show_central_flow = param.Boolean(default=False, label="show central flow")
    x_axis = param.Selector(default="step", objects=["step", "time"],
                            label="x-axis: step or time Σ η")
    input_error = param.String(default="", doc="Why the last value a control sent was refused "
                               "('' once any control changes); never in the URL.")
    # compared runs and the replay position: their meaning lives in app/compare.py, app/replay.py
    compare = param.String(default="", doc="The compared runs, in app/compare.py's URL form.")
    cursor = param.Integer(default=-1, bounds=(-1, MAX_STEPS), label="replay step",
                           doc="The replay cursor's step (-1: no cursor).")
    # the η sweep (view=sweep, app/views_sweep.py): its own range, sizes and plotted quantity;
    # each model's defaults come from app/sweep_plot.py's sweep_defaults (in reset)
    sweep_eta_from = param.Number(default=0.01, step=0.001, label="η from")
    sweep_eta_to = param.Number(default=0.9, step=0.001, label="η to")
    sweep_count = param.Integer(default=300, bounds=(2, 500), label="step sizes")
    sweep_keep = param.Integer(default=64, bounds=(2, 256), label="last iterates K")
    sweep_steps = param.Integer(default=20000, bounds=(10, 100_000), label="steps per η")
    sweep_quantity = param.Selector(default="sharpness", objects=list(SWEEP_QUANTITIES),
                                    label="plotted")

    # the basin map (app/views_basin.py): its grid, steps per start, window and colour
    basin_res = param.Integer(default=160, bounds=(8, 512), label="cells per side")
    basin_steps = param.Integer(default=2000, bounds=(1, 50_000), label="steps per start")
    basin_window = param.String(default="", doc="The map's window 'x₀,x₁,y₀,y₁' (1-D: "
                                "'x₀,x₁'); '' is the model's window (app/basin.py).")
    basin_colour = param.Selector(default="sharpness", objects=["sharpness", "loss", "settled"],
                                  doc="What colours a cell: its final sharpness, log loss, or "
                                  "the step at which it settled.")

    preset = param.Selector(default="", objects=preset_titles(),
                            doc="The preset (app/presets.py) the controls hold, '' once one moves; "
                            "a link says ?preset=NAME, the page's URL then the full state.")

    URL_NAMES = ("view", "model", "optimizer", "eta", "x0", "y0", "z0", "w0", "symmetric", "lam1",
                 "lam2", "steps", "drop_step", "drop_eta", "seed", "show_flow", "x_axis",
                 "compare", "cursor", "beta", "beta1", "beta2", "eps", "show_central_flow")
    URL_NAMES += ("basin_res", "basin_steps", "basin_window", "basin_colour")
    URL_NAMES += ("sweep_eta_from", "sweep_eta_to", "sweep_count", "sweep_keep", "sweep_steps",
                  "sweep_quantity")

    def __init__(self, **params):
        super().__init__(**params)
        self.reset(keep=set(params))   # the model's own defaults, unless given here
        self._loading = False
        self.param.watch(self._clear_input_error, list(self.URL_NAMES))

    def _clear_input_error(self, *events):
        self.input_error = ""
        if not self._loading and any(e.name not in ("view", "cursor") for e in events):
            self.preset = ""   # the controls no longer hold the preset's figure

    # --- the model and its defaults -----------------------------------------------------

    def model_object(self):
        """The Model to simulate (the quadratic is built from λ₁, λ₂)."""
        if self.model == "quadratic":
            return dynamics.quadratic((self.lam1, self.lam2))
        return dynamics.MODELS[self.model]

    @property
    def dim(self) -> int:
        return self.model_object().dim

    def _apply_model_bounds(self):
        m = self.model_object()
        self.param.optimizer.objects = optimizer_titles(m)
        self.param.eta.softbounds = tuple(m.eta_range)
        self.param.eta.step = fine_step(*m.eta_range)
        (x_lo, x_hi), *rest = m.window
        self.param.x0.softbounds = self.param.z0.softbounds = (x_lo, x_hi)
        self.param.x0.step = self.param.z0.step = fine_step(x_lo, x_hi)
        if rest:
            self.param.y0.softbounds = self.param.w0.softbounds = tuple(rest[0])
            self.param.y0.step = self.param.w0.step = fine_step(*rest[0])

    @param.depends("model", watch=True, on_init=False)
    def _on_model(self):
        self.reset()

    @param.depends("optimizer", watch=True, on_init=False)
    def _on_optimizer(self):
        """RMSProp and Adam share β₂ but not its default: a new rule takes its own."""
        if "beta2" in HYPER_NAMES.get(self.optimizer, ()):
            self.beta2 = self.defaults_of(self.optimizer)["beta2"]

    @staticmethod
    def defaults_of(optimizer: str) -> dict:
        """The engine's default hyperparameters of ``optimizer`` under the state's names."""
        names = HYPER_NAMES.get(optimizer, ())
        return dict(zip(names, dynamics.OPTIMIZERS[optimizer].hyper))

    def hyper(self) -> tuple:
        """The current optimizer's hyperparameters, in its factory's order (() for GD)."""
        return tuple(float(getattr(self, n)) for n in HYPER_NAMES.get(self.optimizer, ()))

    def reset(self, keep=frozenset()):
        """Back to the current model's defaults (λ₁, λ₂, the axis and ``keep`` are kept)."""
        m = self.model_object()
        self._apply_model_bounds()
        init = tuple(m.default_init) + (0.0,) * (4 - m.dim)
        values = dict(eta=m.default_eta, steps=min(m.default_steps, MAX_STEPS),
                      x0=init[0], y0=init[1], z0=init[2], w0=init[3], drop_step=0,
                      drop_eta=round(m.default_eta / 2, 6), seed=0, show_flow=False,
                      show_central_flow=False, symmetric=True)
        values.update(sweep_defaults(m))   # the η sweep's range for this model
        values["optimizer"] = (m.default_optimizer if m.default_optimizer in
                               self.param.optimizer.objects else "gd")
        rule = self.optimizer if "optimizer" in keep else values["optimizer"]
        for name in ("momentum", "adam", rule if rule == "rmsprop" else "adam"):
            values.update(self.defaults_of(name))   # β₂: the rule's own, else Adam's
        self.param.update(**{k: v for k, v in values.items() if k not in keep})

    # --- URL-shaped input -----------------------------------------------------------------

    def apply_query(self, query: dict) -> list[str]:
        """Apply URL query values one by one; return a notice for each value ignored.

        The model goes first (it resets the other defaults), then every other name; a bad
        value keeps the default and says so instead of raising.
        """
        notices = []
        name = query.get("preset")
        if name is not None and str(name) not in PRESETS:
            notices.append(f"Ignored preset={name!s:.40} from the link: there is no such "
                           f"preset; the presets are {', '.join(PRESETS)}.")
        elif name:
            notices += self.load_preset(str(name))
        query = {k: v for k, v in query.items() if k in self.URL_NAMES}
        if "model" in query:
            notices += self._apply_one("model", query.pop("model"))
        if self.model == "xyzw" and {"z0", "w0"} & query.keys() and "symmetric" not in query:
            query["symmetric"] = "false"   # a link that names z₀ or w₀ means them
        for name in self.URL_NAMES:
            if name in query:
                notices += self._apply_one(name, query[name])
        return notices

    def load_preset(self, name: str) -> list[str]:
        """Set every control to preset ``name``: its model's defaults, then its values."""
        values = dict(PRESETS[name].values)
        self._loading = True
        try:
            self.param.update(view=values.pop("view", DEFAULT_PAGE), compare="", cursor=-1,
                              x_axis="step", model=values.pop("model", self.model))
            self.reset(keep={"view"})
            notices = self.apply_query(values)
            self.preset = name
        finally:
            self._loading = False
        return notices

    def _apply_one(self, name, raw) -> list[str]:
        try:
            setattr(self, name, self.checked(name, raw))
        except ValueError as err:
            return [f"Ignored {name}={raw!s:.40} from the link: {err}."]
        return []

    def limits(self, name: str) -> tuple | None:
        """(lo, hi) for ``name`` from :data:`LIMITS` under the current model, or None."""
        rule = LIMITS.get(name)
        return None if rule is None else rule(self.model_object())

    def checked(self, name: str, raw):
        """``raw`` (text or number) as a value for ``name``, or ValueError with the reason.

        The one gate for links and typed values alike: the parameter's type, then
        :data:`LIMITS`, then the optimizers that apply to the model; float noise is
        removed at the parameter's step (:func:`snap`).
        """
        p = self.param[name]
        value = _parse(p, raw)
        bounds = self.limits(name)
        if bounds is not None:
            lo, hi = bounds
            below = value <= lo if name in OPEN_BELOW else value < lo
            above = value >= hi if name in OPEN_ABOVE else value > hi
            if below or above:
                left = "(" if name in OPEN_BELOW else "["
                right = ")" if name in OPEN_ABOVE else "]"
                raise ValueError(f"it must lie in {left}{_number(lo)}, {_number(hi)}{right}")
        if name == "optimizer" and value not in p.objects:
            raise ValueError(f"it does not apply to the model {self.model!r}")
        if name == "basin_window":   # numbers that make a window of the model's plane
            from .basin import parse_window
            parse_window(value, self.model_object())
        if isinstance(p, param.Number) and not isinstance(p, param.Integer):
            snapped = snap(value, p.step)   # (a tiny η = 1e-9 is not rounded to 0)
            value = snapped if bounds is None or name not in OPEN_BELOW or snapped > lo else value
        return value

    def set_from_control(self, name: str, raw) -> str:
        """Take a value a control sent (typed, stepped or slid); '' or why it was refused.

        A refused value changes nothing but :attr:`input_error`, which names it and the
        value kept; any accepted change of any control clears that message again.
        """
        try:
            value = self.checked(name, raw)
        except ValueError as err:
            symbol = SYMBOLS.get(name, name)
            kept_text = _text(getattr(self, name), self.param[name]) or "the model's default"
            kept = f"Kept {symbol} = {kept_text}; the plots show that run."
            if raw is None or str(raw).strip() == "":
                self.input_error = f"the {symbol} box is empty — type a number. {kept}"
            else:
                shown = _number(raw) if isinstance(raw, (int, float)) else f"{raw!s:.24}"
                self.input_error = f"{symbol} = {shown} — {err}. {kept}"
            return self.input_error
        setattr(self, name, value)
        return ""

    def query(self) -> dict[str, str]:
        """The current state as URL query values (inverse of :meth:`apply_query`)."""
        return {n: _text(getattr(self, n), self.param[n]) for n in self.URL_NAMES}

    # --- what to run --------------------------------------------------------------------

    def schedule(self) -> tuple:
        """[(0, η)] or, with a drop inside the run, [(0, η), (k, η₁)]."""
        if 0 < self.drop_step < self.steps:
            return ((0, float(self.eta)), (int(self.drop_step), float(self.drop_eta)))
        return ((0, float(self.eta)),)

    def start(self) -> tuple:
        """θ₀ with the model's dimension (xyzw: z₀ = x₀, w₀ = y₀ when symmetric)."""
        dim = self.dim
        if self.model == "xyzw" and self.symmetric:
            return (self.x0, self.y0, self.x0, self.y0)
        return (self.x0, self.y0, self.z0, self.w0)[:dim]

    def check(self) -> str:
        """'' if the controls describe a run, else a sentence saying what to fix."""
        for name, value in [("η", self.eta)] + ([("η after the drop", self.drop_eta)]
                                                if 0 < self.drop_step < self.steps else []):
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                return f"The step size {name} must be a positive number; it is {value}."
        for name, value in zip(("x₀", "y₀", "z₀", "w₀"), self.start()):
            if not (math.isfinite(value) and abs(value) <= LIMIT):
                return f"The start {name} = {value} is not a usable number."
        if self.model == "quadratic" and not all(math.isfinite(v) for v in (self.lam1, self.lam2)):
            return "Both eigenvalues λ₁, λ₂ must be numbers."
        return ""

    def spec(self) -> RunSpec | str:
        """A frozen :class:`RunSpec`, or the message saying why there is none."""
        problem = self.check()
        if problem:
            return problem
        return RunSpec(self.model_object(), self.optimizer, self.schedule(), self.start(),
                       int(self.steps), int(self.seed), bool(self.show_flow), self.hyper(),
                       bool(self.show_central_flow))

    def run(self) -> RunResult:
        return run(self.spec())
