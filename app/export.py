"""``python -m app.export``: a preset or a link's state -> PNG / SVG / PDF / HTML / CSV.

    python -m app.export --preset zhu-fig2a --view trajectory --format png --out fig2a.png
    python -m app.export --query 'model=xyzw&eta=0.2&x0=2.8&y0=0.2' --view sharpness \\
        --format pdf --out sharpness.pdf --width 6 --height 3.4

Headless (Matplotlib for the images, no browser), deterministic (the same state gives the
same bytes), and the same files the page's download buttons give. A bad preset, view,
format, size or query value is one line on stderr and exit status 2.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import parse_qsl

from .compare import decode
from .export_figures import ExportError, Snapshot, view_names
from .export_files import FORMATS, THEMES, file_bytes
from .presets import PRESETS

USAGE_ERROR = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):   # one line and status 2, like every other refusal here
        raise ExportError(message)


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m app.export", description=__doc__.split("\n\n")[0])
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--preset", help=f"a named figure: {', '.join(PRESETS)}")
    source.add_argument("--query", help="a link's query, e.g. 'model=xyzw&eta=0.2&x0=2.8'")
    p.add_argument("--view", default="trajectory",
                   help="a figure or a page: " + ", ".join(view_names()))
    p.add_argument("--format", required=True, help=", ".join(FORMATS))
    p.add_argument("--out", required=True, type=Path, help="the file to write")
    p.add_argument("--width", type=float, help="inches (default 9.6 a figure, 12.8 a page)")
    p.add_argument("--height", type=float, help="inches (default 5.4 a figure, 7.2 a page)")
    p.add_argument("--dpi", type=float, help="dots per inch (default 200 a figure, 150 a page)")
    p.add_argument("--theme", default="light", help=", ".join(THEMES))
    return p


def snapshot(args) -> Snapshot:
    if args.preset is not None:
        if args.preset not in PRESETS:
            raise ExportError(f"there is no preset {args.preset!r}; the presets are "
                              f"{', '.join(PRESETS)}")
        return Snapshot.from_preset(args.preset)
    pairs = parse_qsl(args.query.lstrip("?"), keep_blank_values=True)
    snap = Snapshot.from_query(dict(pairs))
    _, left_out = decode(snap.state.compare, snap.state.model)
    if left_out:   # the page shows the others and says so; a file must not drop a run
        raise ExportError(left_out[0])
    return snap


def export(argv: list[str] | None = None) -> Path:
    """Parse ``argv``, write the file, return its path (ExportError with the reason)."""
    args = parser().parse_args(argv)
    if args.format not in FORMATS:
        raise ExportError(f"there is no format {args.format!r}; the formats are "
                          f"{', '.join(FORMATS)}")
    if args.view not in view_names():
        raise ExportError(f"there is no view {args.view!r}; the views are "
                          f"{', '.join(view_names())}")
    if args.theme not in THEMES:
        raise ExportError(f"there is no theme {args.theme!r}; the themes are {', '.join(THEMES)}")
    data = file_bytes(snapshot(args), args.view, args.format, args.width, args.height,
                      args.dpi, args.theme)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    return args.out


def main(argv: list[str] | None = None) -> int:
    try:
        out = export(argv)
    except ExportError as err:
        print(f"app.export: error: {err}", file=sys.stderr)
        return USAGE_ERROR
    except OSError as err:
        print(f"app.export: error: cannot write the file: {err}", file=sys.stderr)
        return USAGE_ERROR
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
