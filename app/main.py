"""`panel serve app/main.py`: the EoS Explorer page."""
import panel as pn

from app.session_gate import prepared
from app.views import Explorer, page_template, serve
from app.warmup import start_once

start_once()  # compile every model's programs in the background, once per server

explorer = prepared(pn.state.curdoc)   # built in the session's turn (app/session_gate.py)
if explorer is None:   # (the server's first session, or a document of one's own)
    explorer = Explorer()
serve(page_template(explorer), pn.state.curdoc)   # what .servable() does, indexed once
