"""`panel serve ...` in this process, which counts its live session objects on SIGUSR1.

    python tests/serve_counted.py COUNT_FILE app/main.py --port P ...

On SIGUSR1 the server (after a full garbage collection) writes one JSON line to COUNT_FILE:
how many objects of each type in :data:`COUNTED` are alive, and how many of them are pages
built ahead that no session has been given (``"spare pages"``). For tests that check, from
outside, that a closed session's objects are freed; nothing here is part of the app.
"""
import gc
import json
import signal
import sys
from pathlib import Path

COUNTED = ("ServerSession", "Document", "Explorer", "Dashboard", "ExplorerState",
           "BootstrapTemplate")


def _count(count_file):
    def handler(signum, frame):
        gc.collect()
        counts = dict.fromkeys(COUNTED, 0)
        for obj in gc.get_objects():
            name = type(obj).__name__
            if name in counts:
                counts[name] += 1
        # pages built ahead for the bare link (app/spare_pages.py) and not given to anyone
        spare_pages = sys.modules.get("app.spare_pages")
        counts["spare pages"] = spare_pages.held() if spare_pages else 0
        with open(count_file, "w") as f:
            f.write(json.dumps(counts) + "\n")
    return handler


if __name__ == "__main__":
    # this checkout's `app`, as `python -m panel serve` from its root would import (run as a
    # script, sys.path starts at tests/, and an editable install may point elsewhere)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    signal.signal(signal.SIGUSR1, _count(sys.argv[1]))
    sys.argv = ["panel", "serve", *sys.argv[2:]]
    from panel.command import main
    main()
