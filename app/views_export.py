"""Download buttons under a view's plots, and "copy link": the CLI's files, from the page.

One row: "Export…", then which figure (one plot, or the whole view), PNG, SVG, PDF, CSV of
it, HTML of the whole view (offline, interactive), and "copy link". The downloads are built
the first time "Export…" is pressed (it shows and hides them): a page that is only looked at
does not build five download buttons and a menu per view. Every file is made only when its
button is clicked, by the same functions as ``python -m app.export`` from a snapshot of the
session's state (so the page and the CLI give the same bytes), off the event loop. The PNG is
the CLI's default: 1920 × 1080 px (a 16:9 slide at twice 960 × 540).
"""
from __future__ import annotations

import asyncio
import io

import panel as pn
from bokeh.models import CustomJS
from panel.viewable import Viewer

from .export_figures import ExportError, Snapshot, figure_names, get

IMAGE_FORMATS = ("png", "svg", "pdf", "csv")
# the URL into the clipboard; if the browser refuses, a box showing it to copy by hand
COPY_JS = """
const url = window.location.href
const fallback = () => { box.value = url; box.visible = true }
try {
  navigator.clipboard.writeText(url).then(() => {
    button.label = "link copied ✓"; box.visible = false
    setTimeout(() => { button.label = "copy link" }, 2000)
  }, fallback)
} catch (error) { fallback() }
"""


class _LinkBox(pn.widgets.TextInput):
    """The box showing the link to copy by hand; it gives its copy button :data:`COPY_JS`.

    The callback goes on the button's Bokeh model as the models are made (the button's is
    made first, in the row before the box), not through ``js_on_click``, which walks and
    re-indexes the whole document once more per session.
    """

    def _get_model(self, doc, root=None, parent=None, comm=None):
        model = super()._get_model(doc, root, parent, comm)
        button = self._copy_button._models.get((root or model).ref["id"], (None,))[0]
        if button is not None:
            button.js_on_event("button_click", CustomJS(code=COPY_JS,
                                                        args={"box": model, "button": button}))
        return model


class ExportBar(Viewer):
    """The export row of the view ``page`` for the session's ``state``."""

    def __init__(self, state, page: str = "trajectory", **params):
        super().__init__(**params)
        self.state, self.page = state, page
        self.which = None
        self.buttons: dict = {}
        self.message = pn.pane.Alert("", alert_type="danger", visible=False, margin=(0, 10),
                                     sizing_mode="stretch_width")
        self.copy = pn.widgets.Button(label="copy link", width=90, height=34, margin=(4, 3),
                                      description="Copy this page's link (it holds the state)")
        self.link_box = _LinkBox(label="link", visible=False, width=320, margin=(4, 3))
        self.link_box._copy_button = self.copy
        self.toggle = pn.widgets.Toggle(label="Export…", width=80, height=34,
                                        margin=(4, 3, 4, 10))
        self.toggle.param.watch(self._on_toggle, "value")
        self.row = pn.FlexBox(self.toggle, self.copy, self.link_box, flex_wrap="wrap",
                              align_items="center", sizing_mode="stretch_width")

    def _on_toggle(self, event) -> None:
        if self.which is None:
            self._build_downloads()
            at = self.row.objects.index(self.toggle) + 1
            self.row.objects = (self.row.objects[:at] + [self.which, *self.buttons.values()]
                                + self.row.objects[at:])
        for widget in (self.which, *self.buttons.values()):
            widget.visible = event.new and (widget is not self.buttons.get("html")
                                            or self._html_shown)

    def _build_downloads(self) -> None:
        """The figure menu and the download buttons (on the first "Export…")."""
        page = self.page
        names = figure_names(page)
        options = {"all plots": page, **{get(n).title.lower(): n for n in names if n != page}}
        self.which = pn.widgets.Select(label="export figure", options=options, value=page,
                                       width=112, margin=(4, 3), stylesheets=[_NO_LABEL])
        self.buttons = {fmt: self._button(fmt, fmt.upper(), lambda f=fmt: self.which.value)
                        for fmt in IMAGE_FORMATS}
        self.buttons["html"] = self._button("html", "HTML", lambda: page, width=66,
                                            description="The whole view as one HTML file: "
                                            "offline, with zoom and hover")
        self._html_shown = all(get(n).bokeh is not None for n in names)
        self.buttons["html"].visible = self._html_shown

    def _button(self, fmt: str, label: str, view, width: int = 58, description=None):
        button = pn.widgets.FileDownload(label=label, filename=f"eos.{fmt}", width=width,
                                         height=34, margin=(4, 3), color="default",
                                         description=description or
                                         f"The figure chosen, as {fmt.upper()}")

        async def make():   # a coroutine function: Panel awaits it on the event loop
            return await self._make(button, fmt, view())
        button.callback = make
        return button

    async def _make(self, button, fmt: str, view: str):
        """The file of ``view`` in ``fmt``, made off the event loop; names the download."""
        from .export_files import file_bytes   # Matplotlib: imported at the first download
        snap_state = self.state
        loop = asyncio.get_running_loop()
        try:
            snap = Snapshot(snap_state)
            data = await loop.run_in_executor(None, file_bytes, snap, view, fmt)
        except ExportError as err:
            self._say(f"Cannot export this: {err}.")
            data = f"Cannot export this: {err}.\n".encode()
            button.filename = "eos-export-error.txt"
            return io.BytesIO(data)
        self._say("")
        button.filename = f"{snap.slug(view)}.{fmt}"
        return io.BytesIO(data)

    def _say(self, text: str) -> None:
        self.message.object = text
        self.message.visible = bool(text)

    def __panel__(self):
        return pn.Column(self.row, self.message, sizing_mode="stretch_width")


_NO_LABEL = "label { display: none; }"   # the "Export…" before it names the select


def bar(dashboard) -> ExportBar:
    """The hook in ``Dashboard.__panel__``: the trajectory view's export row."""
    return ExportBar(dashboard.state, "trajectory")
