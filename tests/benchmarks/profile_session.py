"""Where one session's construction goes: the phases of building the page, timed and profiled.

Builds what ``app/main.py`` builds for a visitor, inside a fresh Bokeh document: the state and
its first run, the controls, the dashboard (figures and first drawing), the template, its Bokeh
models (``server_doc``), and the first message (the document serialized). Each phase is timed
(median of ``--repeat`` builds after one warm build); ``--profile`` prints cProfile's top
functions of one build by cumulative time.

    .venv/bin/python tests/benchmarks/profile_session.py [--repeat 5] [--profile 25]
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import panel as pn  # noqa: E402
from bokeh.document import Document  # noqa: E402
from panel.io.document import freeze_doc  # noqa: E402,F401  (Panel's document helpers load)

from app.about import About  # noqa: E402
from app.state import ExplorerState  # noqa: E402
from app.views import Explorer  # noqa: E402
from app.views_controls import Controls  # noqa: E402
from app.views_plots import Dashboard  # noqa: E402


def build() -> dict[str, float]:
    """One session's page, phase by phase (seconds)."""
    times = {}
    t = time.perf_counter()

    def lap(name):
        nonlocal t
        now = time.perf_counter()
        times[name] = now - t
        t = now

    state = ExplorerState()
    lap("state")
    Controls(state)
    lap("controls (widgets)")
    Dashboard(state)
    lap("dashboard (figures + first run + drawing)")
    About(state)
    lap("about")
    explorer = Explorer()
    lap("whole Explorer() again")
    template = pn.template.BootstrapTemplate(
        title="EoS Explorer", sidebar=[explorer.controls], main=[explorer], sidebar_width=340,
        header_background="#0072B2")
    lap("template object")
    doc = Document()
    template.server_doc(doc)
    lap("Bokeh models (server_doc)")
    doc.to_json()
    lap("first message (serialize)")
    times["models"] = len(doc.models)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--profile", type=int, default=0, help="top N functions of one build")
    args = ap.parse_args()
    build()   # warm: compilation, imports, caches
    runs = [build() for _ in range(args.repeat)]
    for name in runs[0]:
        values = [r[name] for r in runs]
        if name == "models":
            print(f"{'Bokeh models in the document':45s} {values[0]:.0f}")
        else:
            print(f"{name:45s} {statistics.median(values) * 1000:8.0f} ms")
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(build)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.profile)


if __name__ == "__main__":
    main()
