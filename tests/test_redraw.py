"""What one η step sends to the browser: the run's own sources, not the landscape again,
and no new axis ranges while the run stays in view.

Counts the Bokeh document's change events of a Dashboard (no server: each change is drawn
at once) for a key press on η, against what must change (the run) and what must not (the
background image, the minima, the landscape's window).
"""
from __future__ import annotations

import numpy as np
import pytest
from bokeh.document import Document
from bokeh.document.events import ColumnDataChangedEvent, ModelChangedEvent

from app import plots
from app.state import ExplorerState
from app.views_plots import Dashboard


@pytest.fixture
def dashboard():
    state = ExplorerState(model="xyzw", eta=0.2, steps=3000)
    board = Dashboard(state)
    doc = Document()
    for fig in [board.landscape.figure, *board.curves.figures]:
        doc.add_root(fig)
    return board, doc


def _changes(doc, change):
    events = []
    doc.on_change(events.append)
    change()
    doc.remove_on_change(events.append)
    sources = {e.model.name: set(e.cols or ()) for e in events
               if isinstance(e, ColumnDataChangedEvent)}
    models = [(e.model, e.attr) for e in events if isinstance(e, ModelChangedEvent)]
    return sources, models


def _inside(window, xs, ys) -> bool:
    (x_lo, x_hi), (y_lo, y_hi) = window
    return bool(np.all((xs >= x_lo) & (xs <= x_hi) & (ys >= y_lo) & (ys <= y_hi)))


def test_an_eta_step_sends_the_run_and_not_the_landscape(dashboard):
    board, doc = dashboard
    fig = board.landscape.figure
    window = board._window
    sources, models = _changes(doc, lambda: setattr(board.state, "eta", 0.201))
    assert board._result.spec.eta == 0.201
    # the run changed: its path and curves travel, only their changed columns
    assert sources["iterates"] == {"x", "y"} and sources["run"] == {"loss", "sharpness"}
    assert set(sources) <= {"iterates", "run", "threshold_steps"}   # no image, no minima
    assert board._window == window
    ranges = [fig.x_range, fig.y_range] + [f.y_range for f in board.curves.figures]
    assert not [attr for model, attr in models if model in ranges]   # no new ticks, no layout
    # the kept window still holds the new run
    traj = board._result.traj
    xs, ys = plots.plane_coords(board._result.spec.model, traj.params, traj.loss)
    assert _inside(window, xs, ys)


def test_a_run_that_leaves_the_window_gets_a_new_one(dashboard):
    board, doc = dashboard
    before = board._window
    sources, _ = _changes(doc, lambda: board.state.param.update(x0=1.2, y0=1.6))
    assert board._window != before and "image" in sources
    traj = board._result.traj
    xs, ys = plots.plane_coords(board._result.spec.model, traj.params, traj.loss)
    assert _inside(board._window, xs, ys)


def test_many_small_steps_keep_the_run_in_view(dashboard):
    """Key-stepping η up and down: every run drawn is inside the window shown with it."""
    board, _ = dashboard
    for eta in [0.201, 0.202, 0.203, 0.204, 0.205, 0.204, 0.2, 0.19, 0.18]:
        board.state.eta = eta
        traj = board._result.traj
        xs, ys = plots.plane_coords(board._result.spec.model, traj.params, traj.loss)
        # the window holds the run's central quantiles, as fit_window does
        q = np.quantile(xs, [0.01, 0.99]), np.quantile(ys, [0.01, 0.99])
        assert _inside(board._window, q[0], q[1])
        # the kept y-ranges hold what the run settles into and the threshold 2/η
        sharp = board.curves.sharpness_figure.y_range
        tail = traj.sharpness[len(traj.sharpness) // 2:]
        assert sharp.start <= min(tail.min(), 2 / eta) and sharp.end >= max(tail.max(), 2 / eta)
        loss = board.curves.loss_figure.y_range
        assert loss.start <= traj.loss[len(traj.loss) // 2:].min() and loss.end >= traj.loss.max()


def test_a_kept_range_holds_the_new_curve_and_is_not_much_too_big():
    from app.views_plots import _keeps_range
    assert _keeps_range((0.0, 10.0), (1.0, 9.0), log=False)
    assert not _keeps_range((0.0, 10.0), (1.0, 11.0), log=False)   # the curve would leave it
    assert not _keeps_range((0.0, 10.0), (4.0, 5.0), log=False)    # far too big for it now
    assert _keeps_range((1e-10, 1.0), (1e-9, 0.5), log=True)        # decades on a log axis
    assert not _keeps_range((1e-10, 1.0), (1e-12, 0.5), log=True)
    assert not _keeps_range((None, 1.0), (0.0, 1.0), log=False)


def test_legend_stand_ins_share_a_view_only_with_their_own_kind(dashboard):
    """A view shared by a marker and a line stand-in flips its masked rows at every repaint
    in BokehJS (none for a marker at NaN, all for a line), and each flip rebuilds the legend."""
    from bokeh.models import Legend
    board, _ = dashboard
    for fig in [board.landscape.figure, *board.curves.figures]:
        kinds: dict = {}
        for legend in fig.select(type=Legend):
            for item in legend.items:
                for renderer in item.renderers:
                    kinds.setdefault(renderer.view.id, set()).add(type(renderer.glyph).__name__)
        assert kinds and all(len(k) == 1 for k in kinds.values()), kinds
