"""Every control of the explorer in one serialisable ``param.Parameterized`` (no Panel here).

The parameter names are the URL query names, so a link reproduces the view. Nothing in
this module raises into the UI: a bad value becomes a message string, and the last good
picture stays on screen.
"""
from __future__ import annotations

import math
import param

import dynamics

from .runs import RunResult, RunSpec, run  # noqa: F401  (RunResult: re-exported)

MAX_STEPS = 20_000   # one run must stay interactive on a 2-core machine
LIMIT = 1e6          # |start| beyond this is a typo, not an experiment
MAX_ETA = 1e3        # η beyond this diverges at once on every model: a typo in a link


def model_titles() -> dict[str, str]:
    """Dropdown label -> registry name, for every model the engine declares."""
    return {m.title: name for name, m in dynamics.MODELS.items()}


def optimizer_titles(model) -> dict[str, str]:
    """Dropdown label -> optimizer name, only the rules that make sense for ``model``."""
    return {dynamics.OPTIMIZERS[n].title: n for n in dynamics.optimizers_for(model)}


class ExplorerState(param.Parameterized):
    """The controls. Defaults follow the chosen model (``dynamics.MODELS[model]``)."""

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
    show_flow = param.Boolean(default=False, label="show gradient flow")
    x_axis = param.Selector(default="step", objects=["step", "time"],
                            label="x-axis: step or time Σ η")
    # compared runs and the replay position: their meaning lives in app/compare.py, app/replay.py
    compare = param.String(default="", doc="The compared runs, in app/compare.py's URL form.")
    cursor = param.Integer(default=-1, bounds=(-1, MAX_STEPS), label="replay step",
                           doc="The replay cursor's step (-1: no cursor).")

    URL_NAMES = ("model", "optimizer", "eta", "x0", "y0", "z0", "w0", "symmetric", "lam1",
                 "lam2", "steps", "drop_step", "drop_eta", "seed", "show_flow", "x_axis",
                 "compare", "cursor")

    def __init__(self, **params):
        super().__init__(**params)
        self.reset(keep=set(params))   # the model's own defaults, unless given here

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
        (x_lo, x_hi), *rest = m.window
        self.param.x0.softbounds = self.param.z0.softbounds = (x_lo, x_hi)
        if rest:
            self.param.y0.softbounds = self.param.w0.softbounds = tuple(rest[0])

    @param.depends("model", watch=True, on_init=False)
    def _on_model(self):
        self.reset()

    def reset(self, keep=frozenset()):
        """Back to the current model's defaults (λ₁, λ₂, the axis and ``keep`` are kept)."""
        m = self.model_object()
        self._apply_model_bounds()
        init = tuple(m.default_init) + (0.0,) * (4 - m.dim)
        values = dict(eta=m.default_eta, steps=min(m.default_steps, MAX_STEPS),
                      x0=init[0], y0=init[1], z0=init[2], w0=init[3], drop_step=0,
                      drop_eta=round(m.default_eta / 2, 6), seed=0, show_flow=False,
                      symmetric=True)
        if self.optimizer not in self.param.optimizer.objects:
            values["optimizer"] = "gd"
        self.param.update(**{k: v for k, v in values.items() if k not in keep})

    # --- URL-shaped input -----------------------------------------------------------------

    def apply_query(self, query: dict) -> list[str]:
        """Apply URL query values one by one; return a notice for each value ignored.

        The model goes first (it resets the other defaults), then every other name; a bad
        value keeps the default and says so instead of raising.
        """
        notices = []
        query = {k: v for k, v in query.items() if k in self.URL_NAMES}
        if "model" in query:
            notices += self._apply_one("model", query.pop("model"))
        if self.model == "xyzw" and {"z0", "w0"} & query.keys() and "symmetric" not in query:
            query["symmetric"] = "false"   # a link that names z₀ or w₀ means them
        for name in self.URL_NAMES:
            if name in query:
                notices += self._apply_one(name, query[name])
        return notices

    def _apply_one(self, name, raw) -> list[str]:
        p = self.param[name]
        try:
            value = _parse(p, raw)
            if name == "eta" or name == "drop_eta":
                if not value > 0:
                    raise ValueError("it must be a positive number")
                if value > MAX_ETA:
                    raise ValueError(f"it must be at most {MAX_ETA:g}")
            if name in ("lam1", "lam2", "x0", "y0", "z0", "w0") and abs(value) > LIMIT:
                raise ValueError(f"it must lie between −{LIMIT:g} and {LIMIT:g}")
            if name == "optimizer" and value not in p.objects:
                raise ValueError(f"it does not apply to the model {self.model!r}")
            setattr(self, name, value)
        except (ValueError, TypeError) as err:
            reason = str(err).split("\n")[0] if isinstance(err, ValueError) else "wrong type"
            return [f"Ignored {name}={raw!s:.40} from the link: {reason}."]
        return []

    def query(self) -> dict[str, str]:
        """The current state as URL query values (inverse of :meth:`apply_query`)."""
        return {n: str(getattr(self, n)) for n in self.URL_NAMES}

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
                       int(self.steps), int(self.seed), bool(self.show_flow))

    def run(self) -> RunResult:
        return run(self.spec())


def _parse(p: param.Parameter, raw):
    """A query string value -> the parameter's type (ValueError with a reason if not)."""
    if isinstance(raw, str):
        text = raw.strip()
    else:
        text = raw
    if isinstance(p, param.Selector):
        value = str(text)
        if value not in p.objects:
            raise ValueError("it is not one of the choices")
        return value
    if isinstance(p, param.String):   # compare: parsed (strictly) by app/compare.py
        return str(text)
    if isinstance(p, param.Boolean):
        if isinstance(text, bool):
            return text
        if str(text).lower() in ("true", "1", "yes", "on"):
            return True
        if str(text).lower() in ("false", "0", "no", "off"):
            return False
        raise ValueError("it must be true or false")
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ValueError("it is not a number") from None
    if not math.isfinite(value):
        raise ValueError("it is not a finite number")
    if isinstance(p, param.Integer):
        if value != int(value):
            raise ValueError("it must be a whole number")
        lo, hi = p.bounds or (None, None)
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ValueError(f"it must lie between {lo} and {hi}")
        return int(value)
    return value
