"""Where one session's construction goes: the phases of building the page, timed and profiled.

Builds what ``app/main.py`` builds for a visitor, as a server session does: inside a fresh
Bokeh document made the current one (``set_curdoc``, so Panel's stylesheets and callbacks
are shared per document, not duplicated), with the page's query arguments (``--query``):
the explorer (state, controls, the view shown with its first run, the words), the template,
its Bokeh models (``server_doc``) and the first message (the document serialized). Each
phase is timed in this thread's CPU seconds (``time.thread_time``: what the server's one
event loop spends, whatever else the machine runs; median of ``--repeat`` builds after one
warm build; ``--wall`` for wall-clock seconds instead); the document's models
are counted by type, and the Python function calls of one build (cProfile: a figure that
does not depend on what else runs on the machine); ``--profile N`` prints cProfile's top N
functions of one build.

    .venv/bin/python tests/benchmarks/profile_session.py [--repeat 5] [--profile 25]
        [--query "compare=model:xyzw,eta:0.25&cursor=40"]
"""
from __future__ import annotations

import argparse
import collections
import cProfile
import json
import pstats
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import parse_qsl

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import panel as pn  # noqa: E402
from bokeh.document import Document  # noqa: E402
from panel.io.state import set_curdoc  # noqa: E402

from app import views  # noqa: E402
from app.views import Explorer  # noqa: E402

QUERY: dict[str, str] = {}
CLOCK = [time.thread_time]


def build() -> tuple[dict[str, float], Document]:
    """One session's page, phase by phase (seconds), and its document."""
    times = {}
    doc = Document()
    with set_curdoc(doc):
        t = CLOCK[0]()

        def lap(name):
            nonlocal t
            now = CLOCK[0]()
            times[name] = now - t
            t = now

        explorer = Explorer()
        lap("Explorer() (state, controls, view, first run)")
        if hasattr(views, "page_template"):   # as app/main.py builds the page
            template = views.page_template(explorer)
            lap("template object")
            views.serve(template, doc)
        else:   # an older app/main.py (before app.views.serve): the template made there
            template = pn.template.BootstrapTemplate(
                title="EoS Explorer", sidebar=[explorer.controls], main=[explorer],
                sidebar_width=340, header_background="#0072B2")
            lap("template object")
            template.server_doc(doc)
        lap("Bokeh models (server_doc)")
        message = doc.to_json()
        lap("first message (serialize)")
    times["total"] = sum(times.values())
    times["models"] = len(doc.models)
    times["json bytes"] = len(json.dumps(message, default=str))
    return times, doc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--profile", type=int, default=0, help="top N functions of one build")
    ap.add_argument("--query", default="", help="the page's query string (a link's state)")
    ap.add_argument("--wall", action="store_true", help="wall-clock instead of CPU time")
    ap.add_argument("--types", type=int, default=20, help="model types to list")
    args = ap.parse_args()
    QUERY.update(parse_qsl(args.query))
    if args.wall:
        CLOCK[0] = time.perf_counter
    views.session_query = lambda: dict(QUERY)   # what the page's link would say
    build()   # warm: compilation, imports, caches
    runs = [build() for _ in range(args.repeat)]
    for name in runs[0][0]:
        values = [r[name] for r, _ in runs]
        if name in ("models", "json bytes"):
            print(f"{name:48s} {values[0]:8.0f}")
        else:
            print(f"{name:48s} {statistics.median(values) * 1000:8.0f} ms")
    counts = collections.Counter(type(m).__name__ for m in runs[-1][1].models)
    print(", ".join(f"{n} {c}" for n, c in counts.most_common(args.types)))
    # Python function calls of one build: the same on a busy machine as on a quiet one
    profile = cProfile.Profile()
    profile.runcall(build)
    stats = pstats.Stats(profile)
    print(f"{'Python function calls (one build, cProfile)':48s} {stats.total_calls:8d}")
    if args.profile:
        stats.sort_stats("cumulative").print_stats(args.profile)


if __name__ == "__main__":
    main()
