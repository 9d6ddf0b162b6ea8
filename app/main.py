"""`panel serve app/main.py`: the EoS Explorer page."""
import panel as pn

from app.views import Explorer

explorer = Explorer()
pn.template.BootstrapTemplate(
    title="EoS Explorer",
    sidebar=[explorer.controls],
    main=[explorer],
    sidebar_width=340,
    header_background="#0072B2",
).servable()
