"""`panel serve app/main.py`: the EoS Explorer page."""
import panel as pn

from app.views import Explorer, page_template, serve
from app.warmup import start_once

start_once()  # compile every model's programs in the background, once per server

explorer = Explorer()
serve(page_template(explorer), pn.state.curdoc)   # what .servable() does, indexed once
