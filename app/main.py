"""`panel serve app/main.py`: the EoS Explorer page."""
import panel as pn

from app.views import Explorer
from app.warmup import start_once

start_once()  # compile every model's programs in the background, once per server

explorer = Explorer()
pn.template.BootstrapTemplate(
    title="EoS Explorer",
    sidebar=[explorer.controls],
    main=[explorer],
    sidebar_width=340,
    header_background="#0072B2",
).servable()
