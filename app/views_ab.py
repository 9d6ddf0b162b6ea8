"""The (a, b) view: the run in Zhu et al.'s reparameterized plane, beside the bifurcation
diagram of their two-step map (the math: ``ab_plane.py``; columns and words: ``ab_layers.py``).

It follows the shared state like the trajectory view (a burst of events is one flush; long
runs off the event loop; sources updated in place under one hold) but runs without the
flows, which this view does not draw, and only while it is shown. ``state.cursor`` (the
replay step) puts a marker on iterate k in both plots; the slider here moves it too.
"""
from __future__ import annotations

import asyncio
import dataclasses

import numpy as np
import panel as pn
from panel.viewable import Viewer

import dynamics

from . import ab_layers, ab_plane as ab, figures_ab
from .figures import MIN_WIDTH
from .held import hold
from .limits import MAX_STEPS
from .replay import label_step_slider
from .runs import run
from .state import ExplorerState
from .views_export import ExportBar

NAME = "ab"
RUN_PARAMS = ["model", "optimizer", "eta", "x0", "y0", "z0", "w0", "symmetric", "lam1", "lam2",
              "steps", "drop_step", "drop_eta", "seed", "beta", "beta1", "beta2", "eps"]
LIGHT_WORK = 20_000   # steps × parameters run on the event loop (a few ms); more: a thread


class ABView(Viewer):
    """Zhu's (a, b) plane and the two-step map's bifurcation diagram, for one session."""

    def __init__(self, state: ExplorerState, **params):
        super().__init__(**params)
        self.state = state
        self._doc = pn.state.curdoc
        self._dirty, self._scheduled = True, False
        self._path: ab.ABPath | None = None
        self.sources = figures_ab.sources()
        self.plane = figures_ab.plane_figure(self.sources)
        self.diagram = figures_ab.diagram_figure(self.sources)
        self._legend_items = figures_ab.legend_items(self.plane, self.diagram)
        self.edge = self.plane.select_one({"name": "ab_edge"})
        self.edge_label = self.plane.select_one({"name": "ab_edge_label"})
        self.doubling = self.diagram.select_one({"name": "ab_doubling"})
        self.doubling_label = self.diagram.select_one({"name": "ab_doubling_label"})
        self.alert = pn.pane.Alert("", alert_type="warning", visible=False,
                                   sizing_mode="stretch_width", margin=(0, 10))
        self.switch = pn.widgets.Button(label="Switch to x2y2", color="primary",
                                        visible=False, width=160, margin=(0, 10, 8, 10))
        self.switch.on_click(lambda e: setattr(state, "model", "x2y2"))
        self.zhu = pn.widgets.Button(label="Zhu's Fig. 3 setting", color="default",
                                     width=180, margin=(6, 10),
                                     description="x2y2, GD, η = 0.01, start (12.5, 0.05), "
                                     f"{MAX_STEPS} steps (Zhu et al. 2023, Fig. 3)")
        self.zhu.on_click(self._zhu_setting)
        self.slider = pn.widgets.IntSlider(label="replay step k", start=0, end=1,
                                           value=max(state.cursor, 0), width=300,
                                           margin=(0, 10))
        label_step_slider(self.slider, self.state.cursor)
        self.slider.param.watch(self._on_slider, "value")
        self.text = pn.pane.HTML("", sizing_mode="stretch_width", margin=(0, 10),
                                 styles={"font-size": "15px"})
        self.degree2 = pn.pane.HTML("", visible=False, sizing_mode="stretch_width",
                                    styles={"font-size": "15px"}, margin=(10, 10))
        basis = {"flex": f"1 1 {MIN_WIDTH + 20}px", "min-width": "0"}
        self.plane_box = pn.Column(pn.pane.Bokeh(self.plane, sizing_mode="stretch_width"),
                                   sizing_mode="stretch_width", styles=basis)
        self.diagram_box = pn.Column(pn.pane.Bokeh(self.diagram, sizing_mode="stretch_width"),
                                     self.degree2, sizing_mode="stretch_width", styles=basis)
        self.plots = pn.FlexBox(self.plane_box, self.diagram_box, flex_wrap="wrap",
                                align_items="flex-start", sizing_mode="stretch_width")
        state.param.watch(self._request, RUN_PARAMS)
        state.param.watch(self._on_cursor, "cursor")
        state.param.watch(self._on_view, "view")
        if state.view == NAME:
            self._draw(run(self._spec()))   # the first picture, synchronously

    # --- scheduling ------------------------------------------------------------------------

    def _spec(self):
        spec = self.state.spec()   # the flows are not drawn here: not computed either
        return spec if isinstance(spec, str) else dataclasses.replace(
            spec, show_flow=False, show_central_flow=False)

    def _request(self, *events) -> None:
        self._dirty = True
        if self.state.view != NAME or self._scheduled:
            return   # hidden: redrawn when shown again
        doc = self._doc
        if doc is None or doc.session_context is None:
            self._dirty = False
            self._draw(run(self._spec()))
            return
        self._scheduled = True
        doc.add_next_tick_callback(self._flush)

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._dirty and self.state.view == NAME:
                self._dirty = False
                spec = self._spec()
                if isinstance(spec, str) or spec.steps * len(spec.init) <= LIGHT_WORK:
                    result = run(spec)
                else:
                    result = await loop.run_in_executor(None, run, spec)
                self._draw(result)
        finally:
            self._scheduled = False

    def _on_view(self, event) -> None:
        if event.new != NAME:
            return
        if self._dirty:
            self._request()
        else:
            self._show_cursor()   # the cursor may have moved while hidden

    def _zhu_setting(self, event=None) -> None:
        """Zhu et al.'s Fig. 3 run: x2y2, GD, η = 0.01 from (12.5, 0.05), the most steps."""
        state = self.state
        if state.model != "x2y2":
            state.model = "x2y2"   # first: a new model resets the other controls
        values = {n: v for n, v in ab_layers.ZHU_FIG3.items() if n != "model"}
        state.param.update(**values, steps=MAX_STEPS, drop_step=0, cursor=-1)

    # --- drawing ---------------------------------------------------------------------------

    def _draw(self, result) -> None:
        self._dirty = False
        with hold(self._doc):
            if not result.ok:
                self._say(f"**Cannot run this:** {result.message}", "danger")
                return
            spec, traj = result.spec, result.traj
            eta = float(traj.eta[-1]) if len(traj.eta) else float(spec.eta)
            path = ab.ab_path(spec.model.name, traj.params, eta)
            if isinstance(path, str):
                self._path = None
                self._say(path, "warning", switch=spec.model.name not in ab.DEGREE)
                return
            self._say("")
            self._path = path
            figures_ab.fill(self.sources, self.plane, self.diagram, path)
            self._show_diagram(path)
            n = len(path.a)
            self.slider.end = max(n - 1, 1)
            self._show_cursor()
            self._words(result, path, eta)
            self._show_legends()

    def _show_legends(self) -> None:
        figures_ab.show_legends(self._legend_items)

    def _show_diagram(self, path: ab.ABPath) -> None:
        degree4 = path.degree == 4
        self.diagram.visible = degree4
        self.degree2.visible = not degree4
        if not degree4:
            self.degree2.object = (
                "<b>Degree 2 has no bifurcation diagram to show.</b> Its two steps near the "
                "EoS minimum are b'' ≈ b(1 + 4√2·aκ), a'' ≈ a − √2·κ³b²: no −b³ term holds b "
                "back: b grows while a &gt; 0 and a falls through 0 (along the ellipses "
                "b² + 4a²/κ² = const while b is small) to a &lt; 0, a minimum flatter than "
                "2/η. (Derived here from GD on ½(1 − xy)² the way Zhu et al. derive the "
                "degree-4 map.)")

    def _words(self, result, path: ab.ABPath, eta: float) -> None:
        spec, traj = result.spec, result.traj
        n = len(traj.loss)
        lines = [ab_layers.formula_line(path),
                 ab_layers.summary(path, float(traj.sharpness[-1]), 2.0 / eta, n - 1,
                                   traj.diverged_at)]
        state_values = dict(model=self.state.model, optimizer=self.state.optimizer,
                            eta=self.state.eta, x0=self.state.x0, y0=self.state.y0)
        i = ab_layers.last_index(path)
        lines.append(ab_layers.zhu_note(state_values, n - 1, float(path.a[i]) if i >= 0
                                        else np.nan))
        notes = list(path.notes)
        if len(spec.schedule) > 1:
            notes.append(f"η drops during the run: (a, b) and κ use the final η = {eta:g}")
        if spec.optimizer != "gd":
            notes.append(f"the curves are Zhu et al.'s analysis of plain GD; the points are "
                         f"the run of {dynamics.OPTIMIZERS[spec.optimizer].title}")
        if notes:
            lines.append("Note: " + "; ".join(notes) + ".")
        self.text.object = "<br>".join(_escape(line) for line in lines if line)

    def _say(self, message: str, level: str = "warning", switch: bool = False) -> None:
        """``message`` in place of the plots ('' shows the plots again)."""
        self.alert.object = message
        self.alert.alert_type = level
        self.alert.visible = bool(message)
        self.switch.visible = switch
        self.plots.visible = self.text.visible = not message or level == "danger"

    # --- the cursor --------------------------------------------------------------------------

    def _on_slider(self, event) -> None:
        if self.state.cursor != event.new:
            self.state.cursor = int(event.new)

    def _on_cursor(self, event) -> None:
        if self.state.view == NAME:
            self._show_cursor()

    def _show_cursor(self) -> None:
        k = self.state.cursor
        label_step_slider(self.slider, self.state.cursor)
        if k >= 0 and self.slider.value != min(k, self.slider.end):
            self.slider.value = min(k, self.slider.end)
        if self._path is None:
            return
        row = ab_layers.cursor_row(self._path, k)
        with hold(self._doc):
            self.sources["ab_cursor"].data = {c: np.asarray(v, dtype=float)
                                              for c, v in row.items()}
            self._show_legends()

    def __panel__(self):
        controls = pn.FlexBox(self.zhu, self.slider, flex_wrap="wrap", align_items="center",
                              sizing_mode="stretch_width")
        return pn.Column(self.alert, self.switch, controls, self.text, self.plots,
                         ExportBar(self.state, NAME), sizing_mode="stretch_width")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
