"""Compared runs: up to four pinned runs drawn over the live one, each in its own colour.

A pinned run is a *full frozen spec*: every control that shapes it (model, optimizer, η,
start, steps, drop, seed) is fixed when it is pinned, so moving a control later changes
only the live run, never a pinned one; only the x-axis (step or time Σ η) is shared.

URL form (``state.compare``): runs separated by ``;``, each a list of ``name:value`` parts
separated by ``,`` — the model, η, and every other control that differs from that model's
defaults, e.g. ``model:xyzw,eta:0.25;model:xyzw,eta:0.2,optimizer:sqrt_gd``; so a link
holds its runs whatever the live controls say. A name left out takes the model's default;
a run without ``model`` takes the live run's model. Parsing is strict: a run with any bad part is left out
with a notice, never guessed at. Each run's legend label says what differs from the live run.
"""
from __future__ import annotations

import asyncio

import numpy as np

import dynamics

from . import plots
from .runs import RunResult, run
from .state import HYPER_NAMES, SYMBOLS, ExplorerState

MAX_RUNS = 4
# Okabe–Ito colours the live run does not use for its curves (vermillion, green, purple)
COLOURS = ("#56B4E9", "#0072B2", "#000000", "#E69F00")   # sky blue, blue, black, orange
PIN_NAMES = ("model", "optimizer", "eta", "x0", "y0", "z0", "w0", "symmetric", "lam1", "lam2",
             "steps", "drop_step", "drop_eta", "seed", "beta", "beta1", "beta2", "eps")
ZHU_ETAS = (2 / 8, 2 / 10, 2 / 12)   # Zhu et al. 2023, Fig. 2a: 2/η = 8, 10, 12
ZHU_MODELS = ("xyzw", "x2y2")
BUCKETS = 150   # a compared curve keeps each bucket's extremes: ≤ 4 × 150 points to repaint
SHORT_MODEL = {"quadratic": "quadratic", "xy": "xy (degree 2)", "x2y2": "x²y² (degree 4)",
               "xyzw": "xyzw (degree 4)", "arora": "Arora toy", "picky": "picky (1-D)",
               "sharpening": "self-stabilization toy"}
_DEFAULTS: dict[str, dict] = {}


def relevant_names(values: dict) -> list[str]:
    """The controls that change a run with these ``values`` (the others do not matter)."""
    model = values["model"]
    dim = 1 if model == "picky" else 4 if model == "xyzw" else 2
    names = ["model", "optimizer", "eta", "x0"] + (["y0"] if dim >= 2 else [])
    if model == "xyzw":
        names += ["symmetric"] + ([] if values["symmetric"] else ["z0", "w0"])
    if model == "quadratic":
        names += ["lam1", "lam2"]
    names += ["steps", "drop_step"]
    if 0 < values["drop_step"] < values["steps"]:
        names += ["drop_eta"]
    if dynamics.OPTIMIZERS[values["optimizer"]].stochastic:
        names += ["seed"]
    names += HYPER_NAMES.get(values["optimizer"], ())   # β, β₁, β₂, ε of the rule
    return names


def pin_values(state: ExplorerState) -> dict:
    """The frozen values of the live run (only the controls that matter to it)."""
    values = {n: getattr(state, n) for n in PIN_NAMES}
    return {n: values[n] for n in relevant_names(values)}


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.12g}"   # 0.20099999999999998 -> 0.201
    return str(value)


def _defaults(model: str) -> dict:
    if model not in _DEFAULTS:
        fresh = ExplorerState(model=model)
        _DEFAULTS[model] = {n: getattr(fresh, n) for n in PIN_NAMES}
    return _DEFAULTS[model]


def encode(values: dict) -> str:
    """One run's URL form: its model and η, then what differs from the model's defaults."""
    defaults = _defaults(values["model"])
    parts = [f"{n}:{_text(values[n])}" for n in values
             if n in ("model", "eta") or _text(values[n]) != _text(defaults[n])]
    return ",".join(parts)


def encode_all(pins: list[dict]) -> str:
    return ";".join(encode(v) for v in pins)


def decode(text: str, live_model: str = "xyzw") -> tuple[list[dict], list[str]]:
    """``state.compare`` -> (the runs' frozen values, notices for the runs left out)."""
    pins, notices = [], []
    entries = [e for e in str(text).split(";") if e.strip()]
    for i, entry in enumerate(entries, 1):
        if len(pins) == MAX_RUNS:
            notices.append(f"At most {MAX_RUNS} runs can be compared; "
                           f"{len(entries) - i + 1} more left out.")
            break
        values, problem = decode_one(entry, live_model)
        if problem:
            notices.append(f"Compared run {i} ({entry.strip()[:60]}) left out: {problem}")
        else:
            pins.append(values)
    return pins, notices


def decode_one(entry: str, live_model: str = "xyzw") -> tuple[dict, str]:
    """One run's URL form -> (its frozen values, '') or ({}, the reason it is refused)."""
    query = {}
    for part in entry.split(","):
        name, sep, raw = part.strip().partition(":")
        name = name.strip()
        if not sep or not raw.strip():
            return {}, f"'{part.strip()[:30]}' is not name:value."
        if name not in PIN_NAMES:
            return {}, f"'{name[:30]}' is not a control a compared run can set."
        if name in query:
            return {}, f"'{name}' is given twice."
        query[name] = raw.strip()
    query.setdefault("model", live_model)
    state = ExplorerState()
    ignored = state.apply_query(query)
    if ignored:   # "Ignored eta=abc from the link: it is not a number."
        return {}, ignored[0].replace("Ignored ", "").replace(" from the link", "")
    problem = state.check()
    if problem:
        return {}, problem
    return pin_values(state), ""


def zhu_pins(state: ExplorerState) -> list[dict]:
    """Zhu et al. Fig. 2a from the live start: η = 2/8, 2/10, 2/12, no drop."""
    base = {**{n: getattr(state, n) for n in PIN_NAMES}, "drop_step": 0}
    return [{n: v for n, v in {**base, "eta": eta}.items()
             if n in relevant_names({**base, "eta": eta})} for eta in ZHU_ETAS]


def label(values: dict, live: dict) -> str:
    """What this run changes against the live run, in words ("η = 0.25", "GD on √L")."""
    def differs(*names):
        return any(_text(values.get(n)) != _text(live.get(n)) for n in names)
    words = []
    if differs("model"):
        words.append(SHORT_MODEL.get(values["model"], values["model"]))
    if differs("optimizer"):
        words.append(dynamics.OPTIMIZERS[values["optimizer"]].title)
    if differs("eta"):
        words.append(f"η = {values['eta']:.4g}")
    if differs("lam1", "lam2") and "lam1" in values:
        words.append(f"λ = ({values['lam1']:.3g}, {values['lam2']:.3g})")
    starts = [n for n in ("x0", "y0", "z0", "w0") if n in values]
    if differs(*starts, "symmetric"):
        words.append("start (" + ", ".join(f"{values[n]:.3g}" for n in starts) + ")")
    if differs("steps"):
        words.append(f"{values['steps']} steps")
    if differs("drop_step", "drop_eta"):
        words.append(f"η → {values['drop_eta']:.4g} at step {values['drop_step']}"
                     if "drop_eta" in values else "no drop")
    if "seed" in values and differs("seed"):   # a GD run beside SGD has no seed
        words.append(f"seed {values['seed']}")
    words += [f"{SYMBOLS[n]} = {values[n]:.4g}" for n in HYPER_NAMES.get(values["optimizer"], ())
              if differs(n)]
    return ", ".join(words) or f"η = {values['eta']:.4g} (as live)"


class Compared:
    """The compared runs of one session: state.compare <-> frozen runs -> their results.

    Results are simulated through ``runs.run`` off the event loop and kept per URL form,
    so a run that stays pinned is never simulated again.
    """

    def __init__(self, state: ExplorerState, doc=None, on_results=None):
        self.state, self.doc, self.on_results = state, doc, None
        self.pins: list[dict] = []
        self.results: list[RunResult] = []
        self.notices: list[str] = []
        self._cache: dict[str, RunResult] = {}
        self._busy = False
        state.param.watch(self._on_text, "compare")
        self._on_text()
        self.on_results = on_results   # called once results arrive (not for the first sync)

    # --- actions ------------------------------------------------------------------------

    def pin(self) -> str:
        """Pin the live run; '' or why not."""
        if self.state.check():
            return "The live run cannot be pinned: " + self.state.check()
        if len(self.pins) >= MAX_RUNS:
            return f"At most {MAX_RUNS} runs can be compared: remove one first."
        self.state.compare = encode_all(self.pins + [pin_values(self.state)])
        return ""

    def zhu(self) -> str:
        """Replace the compared runs by Zhu et al. Fig. 2a's three; '' or why not."""
        if self.state.model not in ZHU_MODELS:
            return "Zhu et al. Fig. 2a is a run of xyzw or x²y²: choose one of those models."
        self.state.compare = encode_all(zhu_pins(self.state))
        return ""

    def remove(self, index: int) -> None:
        if 0 <= index < len(self.pins):
            self.state.compare = encode_all(self.pins[:index] + self.pins[index + 1:])

    def clear(self) -> None:
        self.state.compare = ""

    # --- text -> runs -> results --------------------------------------------------------

    def _on_text(self, *events) -> None:
        pins, notices = decode(self.state.compare, self.state.model)
        canonical = encode_all(pins)
        self.pins, self.notices = pins, notices
        if canonical != self.state.compare:
            self.state.compare = canonical   # the URL says only what is drawn
            self.notices = notices           # (the canonical text itself has none)
            return
        self._schedule()

    def _schedule(self) -> None:
        doc = self.doc
        if doc is None or doc.session_context is None:
            self.results = [self._run(v) for v in self.pins]
            if self.on_results:
                self.on_results()
        elif not self._busy:
            self._busy = True
            doc.add_next_tick_callback(self._refresh)

    async def _refresh(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                pins = list(self.pins)
                results = [await loop.run_in_executor(None, self._run, v) for v in pins]
                if pins == self.pins:
                    break
        finally:
            self._busy = False
        self.results = results
        if self.on_results:
            self.on_results()

    def _run(self, values: dict) -> RunResult:
        key = encode(values)
        if key not in self._cache:
            if len(self._cache) > 4 * MAX_RUNS:
                self._cache.pop(next(iter(self._cache)))
            state = ExplorerState()
            state.apply_query({n: _text(v) for n, v in values.items()})
            self._cache[key] = run(state.spec())
        return self._cache[key]


def layers(result: RunResult, x_axis: str = "step", plane=None) -> dict:
    """One compared run's columns: its path and end in the plane, its curves, its 2/η.

    The path is empty when the run's plane is not ``plane`` (the live model's plane), and
    everything is empty for a run that could not be made.
    """
    empty = {"path": {"x": [], "y": []}, "end": {"x": [], "y": []},
             "run": {"t": [], "loss": [], "sharpness": []}, "threshold": {"t": [], "threshold": []}}
    if not result.ok:
        return empty
    model = result.spec.model
    data = plots.run_data(model, result.traj, result.threshold, x_axis)
    it, steps = data["iterates"], data["threshold_steps"]
    same_plane = plane is None or tuple(model.plane) == tuple(plane)
    curves = data["run"]
    rows = envelope_rows([curves["loss"], curves["sharpness"]])
    return {"path": {"x": it["x"], "y": it["y"]} if same_plane else empty["path"],
            "end": ({"x": it["x"][-1:], "y": it["y"][-1:]} if same_plane and len(it["x"])
                    else empty["end"]),
            "run": {k: np.asarray(curves[k])[rows] for k in ("t", "loss", "sharpness")},
            "threshold": {"t": steps["t"], "threshold": steps["threshold"]}}


def envelope_rows(columns, buckets: int = BUCKETS) -> np.ndarray:
    """Rows that keep every column's min and max in each of ``buckets`` runs of steps.

    A line through these rows covers the same band as the full line at any width of up to
    ``buckets`` pixels (a 2-cycle stays a band, a spike stays), with at most 4 rows a bucket
    for two columns; short runs keep every row. Non-finite values count as extremes too.
    """
    n = len(columns[0])
    if n <= 4 * buckets:
        return np.arange(n)
    size = -(-n // buckets)
    pad = buckets * size - n
    keep = [np.arange(0, n, size), [n - 1]]
    for col in columns:
        values = np.nan_to_num(np.asarray(col, dtype=float), nan=np.inf, posinf=np.inf)
        blocks = np.concatenate([values, np.full(pad, values[-1])]).reshape(buckets, size)
        start = np.arange(buckets) * size
        keep += [start + blocks.argmin(axis=1), start + blocks.argmax(axis=1)]
    rows = np.unique(np.concatenate(keep))
    return rows[rows < n]
