"""`panel serve app/main.py`: the EoS Explorer page."""
import panel as pn

from app import spare_pages
from app.session_gate import prepared
from app.views import Explorer, page_template, serve
from app.warmup import start_once

start_once()  # compile every model's programs in the background, once per server

doc = pn.state.curdoc
if spare_pages.is_spare(doc):   # the bare link's page, built ahead (app/spare_pages.py)
    spare_pages.finish(doc)
else:
    explorer = prepared(doc)   # built in the session's turn (app/session_gate.py)
    if explorer is None:   # (the server's first session, or a document of one's own)
        explorer = Explorer()
    serve(page_template(explorer), doc)   # what .servable() does, indexed once
