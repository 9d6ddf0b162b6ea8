"""Print a page's first message (its document as JSON), in a form two processes can compare.

    python tests/page_json.py [--bokeh-as-is] [QUERY]

Builds what ``app/main.py`` builds for a visitor with the link's query ``QUERY`` (e.g.
``view=basin``) in a document of its own, serializes it as the server's first message does,
and prints it with what differs from process to process made neutral: the Python ids Panel
puts in model names (binary buffers are inlined as base64). ``--bokeh-as-is`` builds
it without ``app.bokeh_defaults`` (Bokeh computing every default at every read).
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from urllib.parse import parse_qsl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    args = sys.argv[1:]
    as_is = "--bokeh-as-is" in args
    query = dict(parse_qsl(next((a for a in args if not a.startswith("--")), "")))
    if as_is:
        from app import bokeh_defaults
        bokeh_defaults.install = lambda: None   # the page's own install() does nothing
    from bokeh.document import Document
    from panel.io.state import set_curdoc

    from app import views
    views.session_query = lambda: dict(query)
    doc = Document()
    with set_curdoc(doc):
        views.serve(views.page_template(views.Explorer()), doc)
        message = doc.to_json(deferred=False)   # buffers inline, as base64

    text = json.dumps(message, sort_keys=True)
    print(re.sub(r'(-|_)\d{9,}', r"\1ID", text))


if __name__ == "__main__":
    main()
