"""Regenerate assets/gallery/: one PNG per preset of app/presets.py, by the export CLI.

    python scripts/make_gallery.py            # every preset
    python scripts/make_gallery.py zhu-fig2a  # only these

Each image is the preset's view at 12.8 × 7.2 in and 100 dpi (1280 × 720 px), made by
``python -m app.export --preset NAME --view VIEW --format png --out assets/gallery/NAME.png
--dpi 100`` in one process (the CLI's own function), so it is the file the command gives.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import export  # noqa: E402
from app.pages import DEFAULT_PAGE  # noqa: E402
from app.presets import PRESETS  # noqa: E402

GALLERY = ROOT / "assets" / "gallery"
DPI = 100


def command(name: str) -> list[str]:
    """The CLI arguments that make preset ``name``'s image."""
    view = PRESETS[name].values.get("view", DEFAULT_PAGE)
    return ["--preset", name, "--view", view, "--format", "png",
            "--out", str((GALLERY / f"{name}.png").relative_to(ROOT)), "--dpi", str(DPI)]


def main(names: list[str]) -> int:
    for name in names or list(PRESETS):
        args = command(name)
        status = export.main(args)
        if status:
            return status
        size = (ROOT / args[7]).stat().st_size
        print(f"{size / 1024:6.0f} KB  python -m app.export {' '.join(args)}")
    return 0


if __name__ == "__main__":
    import os
    os.chdir(ROOT)
    sys.exit(main(sys.argv[1:]))
