"""Files of a snapshot's figures: PNG, SVG, PDF (Matplotlib, headless) and CSV (no Panel).

The same bytes for the same state, every time: Matplotlib's Agg canvas, no date in SVG or
PDF, a fixed SVG hash salt. A sheet is ``width × height`` inches (a PDF page of exactly that
size, a PNG of ``width·dpi × height·dpi`` pixels). The default, 9.6 × 5.4 in at 200 dpi, is
1920 × 1080: a 16:9 slide at twice its usual 960 × 540.
"""
from __future__ import annotations

import io
import textwrap
import threading
from dataclasses import dataclass

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from .export_figures import EXPORTS, ExportError, Snapshot, get, layout, view_header
from .presets import PRESETS

FORMATS = ("png", "svg", "pdf", "csv", "html")
SIZE = (9.6, 5.4)       # inches, one figure
PAGE_SIZE = (12.8, 7.2)  # inches, a page's figures together
DPI = {"png": 200, "page": 150}   # both 1920 × 1080 px
_LOCK = threading.Lock()   # Matplotlib's rcParams are global: one sheet at a time
MAX_PIXELS = 12000      # per side: a typo in --dpi must not fill the disk
METADATA = {"svg": {"Date": None, "Creator": "EoS Explorer"},
            "pdf": {"CreationDate": None, "ModDate": None, "Creator": "EoS Explorer",
                    "Producer": "EoS Explorer (Matplotlib)"},
            "png": {"Software": "EoS Explorer (Matplotlib)"}}


@dataclass(frozen=True)
class Theme:
    """Colours of the sheet; the data keep the page's palette (figures.py) in both."""

    name: str
    paper: str     # figure and axes background
    text: str
    grid: str
    ink: str       # the path line, the dotted "S reaches the threshold" line


THEMES = {"light": Theme("light", "#ffffff", "#222222", "#e6e6e6", "#000000"),
          "dark": Theme("dark", "#1b1e23", "#e8e8e8", "#3a3f47", "#f2f2f2")}

RC = {"svg.hashsalt": "eos-explorer", "svg.fonttype": "path", "pdf.fonttype": 42,
      "font.family": "DejaVu Sans", "font.size": 12, "axes.titlesize": 14,
      "axes.labelsize": 14, "xtick.labelsize": 12, "ytick.labelsize": 12,
      "legend.fontsize": 11, "figure.titlesize": 15, "path.simplify": True}


def default_size(view: str, fmt: str) -> tuple[float, float, int]:
    """(width, height, dpi) of ``view`` when not given."""
    if view in EXPORTS:
        return (*SIZE, DPI["png"])
    return (*PAGE_SIZE, DPI["page"])


def check_size(width: float, height: float, dpi: float) -> None:
    for name, value in (("width", width), ("height", height), ("dpi", dpi)):
        if not (np.isfinite(value) and value > 0):
            raise ExportError(f"--{name} = {value:g}: it must be a positive number")
    if max(width, height) * dpi > MAX_PIXELS:
        raise ExportError(f"{width:g} × {height:g} in at {dpi:g} dpi is more than "
                          f"{MAX_PIXELS} pixels a side; lower --dpi or the size")


def sheet(snap: Snapshot, view: str, width: float, height: float, dpi: float,
          theme: str = "light") -> Figure:
    """The Matplotlib figure of ``view`` (a figure or a page), not yet saved."""
    if theme not in THEMES:
        raise ExportError(f"there is no theme {theme!r}; the themes are {', '.join(THEMES)}")
    check_size(width, height, dpi)
    look = THEMES[theme]
    mosaic = layout(view)
    rc = {**RC, "text.color": look.text, "axes.labelcolor": look.text,
          "xtick.color": look.text, "ytick.color": look.text, "axes.edgecolor": look.grid,
          "axes.facecolor": look.paper, "figure.facecolor": look.paper,
          "savefig.facecolor": look.paper, "grid.color": look.grid,
          "legend.facecolor": look.paper, "legend.edgecolor": look.grid,
          "legend.labelcolor": look.text}
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
        axes = fig.subplot_mosaic(mosaic)
        for name, ax in axes.items():
            ax.grid(True, linewidth=0.6)
            ax.set_axisbelow(True)
            get(name).draw(snap, ax, look)
        fig.suptitle(title(snap, view, width), color=look.text)
    return fig


def title(snap: Snapshot, view: str, width: float = PAGE_SIZE[0]) -> str:
    """The sheet's title: the preset's figure and the plot's name, then the run, wrapped to
    fit ``width`` inches at the title's size."""
    first = " — ".join(w for w in (PRESETS[snap.preset].title if snap.preset else "",
                                   get(view).title if view in EXPORTS else "") if w)
    chars = max(30, int(width * 72 / (0.55 * RC["figure.titlesize"])))
    run = textwrap.fill(snap.headline(view), chars)
    return f"{first}\n{run}" if first else run


def image_bytes(snap: Snapshot, view: str, fmt: str, width: float | None = None,
                height: float | None = None, dpi: float | None = None,
                theme: str = "light") -> bytes:
    """``view`` as PNG, SVG or PDF bytes (defaults: :func:`default_size`)."""
    if fmt not in ("png", "svg", "pdf"):
        raise ExportError(f"{fmt!r} is not an image format (png, svg, pdf)")
    w, h, d = default_size(view, fmt)
    w, h, d = (w if width is None else width, h if height is None else height,
               d if dpi is None else dpi)
    buf = io.BytesIO()
    with _LOCK:
        fig = sheet(snap, view, w, h, d, theme)
        with matplotlib.rc_context(RC):
            fig.savefig(buf, format=fmt, dpi=d, metadata=METADATA[fmt])
    return buf.getvalue()


def table(snap: Snapshot, view: str):
    """The columns of ``view``: one figure's, or a page's figures' merged (each name once)."""
    names = [n for row in layout(view) for n in row]
    tables = [get(n).data(snap) for n in dict.fromkeys(names)]
    merged = tables[0]
    for other in tables[1:]:
        for name, values in other.columns.items():
            if name not in merged.columns:
                merged.add(name, values, other.units[name])
    return merged


def _cell(value: float) -> str:
    return repr(float(value)) if np.isfinite(value) else ("nan" if np.isnan(value) else
                                                           ("inf" if value > 0 else "-inf"))


def csv_text(snap: Snapshot, view: str) -> str:
    """``view``'s columns as CSV: '#' lines naming the run and each column, then the rows.

    Numbers are written exactly (shortest repr of each float64); a column shorter than the
    longest is left empty below its end.
    """
    tab = table(snap, view)
    head = [f"# EoS Explorer — {view}"] + [f"# {line}" for line in
                                            snap.describe(view_header(snap, view))]
    head += [f"# column {name} {unit}" for name, unit in tab.units.items()]
    names = list(tab.columns)
    n = max((len(v) for v in tab.columns.values()), default=0)
    rows = [",".join(names)]
    for i in range(n):
        rows.append(",".join(_cell(col[i]) if i < len(col) else ""
                             for col in tab.columns.values()))
    return "\n".join(head + rows) + "\n"


def file_bytes(snap: Snapshot, view: str, fmt: str, width=None, height=None, dpi=None,
               theme: str = "light") -> bytes:
    """Any format of ``view``: what the CLI writes and the page's buttons download."""
    if fmt not in FORMATS:
        raise ExportError(f"there is no format {fmt!r}; the formats are {', '.join(FORMATS)}")
    layout(view)   # an unknown view is refused before any work
    if fmt == "csv":
        return csv_text(snap, view).encode("utf-8")
    if fmt == "html":
        from .export_html import standalone_html
        return standalone_html(snap, view).encode("utf-8")
    return image_bytes(snap, view, fmt, width, height, dpi, theme)
