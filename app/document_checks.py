"""Bokeh's check of every new page's models: for development, off while serving a class.

After building a session's page, Bokeh walks all its models to warn about mistakes such
as a glyph reading a column its source lacks (``BOKEH_VALIDATE_DOC``, on by default): ~70 ms
of a session's ~0.6 s, spent again for every student on a page that is the same each time.
The check runs in the tests instead (``tests/test_document_checks.py`` builds the pages and
checks them; the browser tests' server keeps it on), so serving skips it unless
``BOKEH_VALIDATE_DOC`` is set.
"""
from __future__ import annotations

import os

from bokeh.settings import settings


def skip_unless_asked() -> None:
    """Turn the per-session check off, unless the environment asks for it."""
    if "BOKEH_VALIDATE_DOC" not in os.environ:
        settings.perform_document_validation.set_value(False)
