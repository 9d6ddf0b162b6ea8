"""The figures a state exports: each one's data as columns and its Matplotlib drawing (no Panel).

A figure is an :class:`Export`: a name (``landscape``, ``loss``, ``sharpness``, …), the page
of :data:`app.pages.PAGES` it belongs to, and three functions of a :class:`Snapshot` (one
frozen state, its run computed once)::

    data(snap) -> Table                 the columns behind the plot (float64, the page's numbers)
    draw(snap, ax, theme) -> None       the plot on a Matplotlib Axes, styled like the page
    bokeh(snap) -> bokeh LayoutDOM      the page's own Bokeh figure (standalone HTML), new
                                        models each call, built with no document or session
    header(snap) -> {key: text}         optional: the CSV header's lines of this view that
                                        replace (or add to) Snapshot.describe's, by key
    words(snap) -> html                 optional: the page's caption for this run, under the
                                        HTML file's title (default: the run's verdict)

**Registering a view's figures** (one entry each, imported only when asked for)::

    EXPORTS["basin"] = "app.export_basin:BASIN"      # an Export(page="basin", …) there
    PAGE_LAYOUTS["basin"] = [["basin"]]               # optional: a page's figures on one sheet

A view's data function may keep what is costly in ``snap.memo(key, fn)`` (computed once per
snapshot, shared by its CSV, drawing and HTML). :func:`figure_names` lists a page's figures.
Files are written by :mod:`app.export_files` (PNG/SVG/PDF/CSV) and :mod:`app.export_html`.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

import dynamics

from . import compare
from .pages import PAGES
from .presets import PRESETS
from .runs import RunResult, run
from .state import HYPER_NAMES, SYMBOLS, ExplorerState

# name -> "module:attribute" of its Export; the trajectory view's three are app/export_trajectory
EXPORTS: dict[str, str] = {
    "landscape": "app.export_trajectory:LANDSCAPE",
    "loss": "app.export_trajectory:LOSS",
    "sharpness": "app.export_trajectory:SHARPNESS",
    "basin": "app.export_basin:BASIN",
    "sweep": "app.export_sweep:SWEEP",
    "ab_plane": "app.export_ab:AB_PLANE",
    "ab_map": "app.export_ab:AB_MAP",
    "swing": "app.export_anatomy:SWING",
    "phase_plane": "app.export_anatomy:PHASE",
    "distance": "app.export_anatomy:DISTANCE",
}
# page -> its figures on one sheet, as a Matplotlib mosaic (default: its figures in a row)
PAGE_LAYOUTS: dict[str, list[list[str]]] = {
    "trajectory": [["landscape", "loss"], ["landscape", "sharpness"]],
    "basin": [["basin"]],
    "sweep": [["sweep"]],
    "ab": [["ab_plane", "ab_map"]],
    "oscillation": [["swing", "phase_plane"]],
    "distance": [["distance"]],
}


def fresh(snap: "Snapshot", key, build: Callable):
    """Bokeh models shared by a view's figures, built once per HTML file: kept in the
    snapshot until :func:`app.export_html.standalone_html` has put them in their document,
    then forgotten (a model belongs to one document; the next file builds new ones)."""
    return snap.memo(("bokeh", key), build)


def view_header(snap: "Snapshot", view: str | None) -> dict[str, str]:
    """The CSV header lines of ``view``'s figures (their :attr:`Export.header`), merged."""
    extra: dict[str, str] = {}
    if view is None:
        return extra
    for name in dict.fromkeys(n for row in layout(view) for n in row):
        if get(name).header is not None:
            extra.update(get(name).header(snap))
    return extra


class ExportError(ValueError):
    """Why a figure cannot be exported (a sentence for the user)."""


@dataclass
class Table:
    """Named columns of one figure (each 1-D; shorter ones are padded in a CSV) and their
    meaning, ``units[name]`` = "[unit] what it is"."""

    columns: dict[str, np.ndarray]
    units: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, values, unit: str) -> None:
        self.columns[name] = np.asarray(values, dtype=float)
        self.units[name] = unit


@dataclass(frozen=True)
class Export:
    """One exportable figure: its page, title and the three functions (module docstring)."""

    page: str
    title: str
    data: Callable
    draw: Callable
    bokeh: Callable | None = None
    header: Callable | None = None
    words: Callable | None = None


def get(name: str) -> Export:
    if name not in EXPORTS:
        raise ExportError(f"there is no figure {name!r}; the figures are {', '.join(EXPORTS)}")
    module, attr = EXPORTS[name].split(":")
    return getattr(importlib.import_module(module), attr)


def figure_names(page: str) -> list[str]:
    """The figures of ``page``, in the order of :data:`PAGE_LAYOUTS` (else of EXPORTS)."""
    if page in PAGE_LAYOUTS:
        return list(dict.fromkeys(n for row in PAGE_LAYOUTS[page] for n in row))
    return [n for n in EXPORTS if get(n).page == page]


def view_names() -> list[str]:
    """What ``--view`` accepts: every figure and every page that has figures."""
    return list(EXPORTS) + [p for p in PAGES if p not in EXPORTS and figure_names(p)]


def layout(view: str) -> list[list[str]]:
    """The mosaic of ``view`` (a figure alone, or a page's figures)."""
    if view in EXPORTS:
        return [[view]]
    names = figure_names(view)
    if not names:
        raise ExportError(f"there is no view {view!r}; the views are {', '.join(view_names())}")
    return PAGE_LAYOUTS.get(view, [names])


class Snapshot:
    """A private copy of a state, its run and compared runs computed once, on demand."""

    def __init__(self, state: ExplorerState):
        self.state = ExplorerState()
        notices = self.state.apply_query(state.query())
        if notices:   # a state's own query always applies; say so if it did not
            raise ExportError(notices[0])
        self.preset = state.preset
        self._memo: dict = {}

    @classmethod
    def from_query(cls, query: dict) -> "Snapshot":
        """A snapshot of the defaults with ``query`` applied; ExportError on any bad value."""
        unknown = [k for k in query if k not in ExplorerState.URL_NAMES and k != "preset"]
        if unknown:
            raise ExportError(f"{unknown[0]!r} is not a query name; the names are "
                              f"preset, {', '.join(ExplorerState.URL_NAMES)}")
        name = query.get("preset")
        if name is not None and name not in PRESETS:
            raise ExportError(f"there is no preset {name!r}; the presets are {', '.join(PRESETS)}")
        state = ExplorerState()
        notices = state.apply_query(query)
        if notices:   # "Ignored eta=-1 from the link: it must lie in (0, 0.5]."
            raise ExportError(notices[0].replace("Ignored ", "").replace(" from the link", ""))
        problem = state.check()
        if problem:
            raise ExportError(problem)
        return cls(state)

    @classmethod
    def from_preset(cls, name: str) -> "Snapshot":
        return cls.from_query({"preset": name})

    def memo(self, key, compute: Callable):
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    @property
    def result(self) -> RunResult:
        """The live run (ExportError if it cannot be made)."""
        result = self.memo("result", lambda: run(self.state.spec()))
        if not result.ok:
            raise ExportError(result.message)
        return result

    @property
    def compared(self) -> list[tuple[str, RunResult]]:
        """(legend label, result) of each compared run that ran, in the page's order."""
        def compute():
            pins, _ = compare.decode(self.state.compare, self.state.model)
            live = compare.pin_values(self.state)
            out = []
            for values in pins:
                other = ExplorerState()
                other.apply_query({n: compare._text(v) for n, v in values.items()})
                result = run(other.spec())
                if result.ok:
                    out.append((compare.label(values, live), result))
            return out
        return self.memo("compared", compute)

    # --- words --------------------------------------------------------------------------

    def rule_title(self) -> str:
        return dynamics.OPTIMIZERS[self.state.optimizer].title

    def eta_text(self) -> str:
        """η, or its schedule "η = 0.2, then 0.1 from step 400"."""
        (_, eta), *rest = self.state.schedule()
        return f"η = {eta:g}" + "".join(f", then {e:g} from step {k}" for k, e in rest)

    def start_text(self) -> str:
        names = self.state.model_object().param_names
        return "(" + ", ".join(f"{n} = {v:g}" for n, v in zip(names, self.state.start())) + ")"

    def hyper_text(self) -> str:
        names = HYPER_NAMES.get(self.state.optimizer, ())
        return ", ".join(f"{SYMBOLS[n]} = {getattr(self.state, n):g}" for n in names)

    def headline(self, view: str | None = None) -> str:
        """One line naming the run: rule, model, step size (a sweep's: its η range),
        hyperparameters."""
        hyper = self.hyper_text()
        model = self.state.model_object()
        eta = view_header(self, view).get("step size", self.eta_text()).split(" (")[0]
        return (f"{self.rule_title()} · {model.title} · {eta}"
                + (f", {hyper}" if hyper else ""))

    def describe(self, extra: dict[str, str] | None = None) -> list[str]:
        """The header of a CSV: what ran, from where, for how long, and the link.

        ``extra`` (key -> text, a view's :attr:`Export.header`) replaces the line of that key
        ("steps", "start", "step size", …) or adds one before the preset and the link.
        """
        s = self.state
        model = s.model_object()
        lines = {"model": f"{s.model} — {model.title}; {model.formula}",
                 "optimizer": f"{s.optimizer} — {self.rule_title()}"
                 + (f" ({self.hyper_text()})" if self.hyper_text() else ""),
                 "step size": self.eta_text(), "start": self.start_text(),
                 "steps": f"{s.steps}" + (f"; SGD seed {s.seed}" if s.optimizer == "sgd"
                                          else "")}
        lines.update(extra or {})
        if self.preset:
            lines["preset"] = f"{self.preset} — {PRESETS[self.preset].title}"
        lines["link query"] = "&".join(f"{k}={v}" for k, v in s.query().items())
        return [f"{key}: {text}" for key, text in lines.items()]

    def slug(self, view: str) -> str:
        """A file name stem naming model, η and view: 'eos_xyzw_eta0.2_landscape'."""
        return f"eos_{self.state.model}_eta{self.state.eta:g}_{view}"
