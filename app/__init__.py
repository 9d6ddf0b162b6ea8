"""EoS Explorer dashboard: Panel + HoloViews + Bokeh on top of the ``dynamics`` engine."""
