"""app.bokeh_defaults: Bokeh's answers, only remembered — checked against Bokeh's own functions.

Three checks: every property of every Bokeh model reads the same as Bokeh's own default
computation would give; serializing every model leaves out and keeps the same properties as
Bokeh's own query; and whole pages (in separate processes, with and without the module)
serialize to the same first message. Themes, overridden defaults, fresh mutable defaults,
validation switched off and required properties left unset keep Bokeh's behaviour.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from bokeh.core.has_props import HasProps
from bokeh.core.properties import Int, Override, Required, String
from bokeh.core.property.descriptors import PropertyDescriptor, UnsetValueError
from bokeh.core.property.singletons import Undefined
from bokeh.core.property.validation import validate
from bokeh.document import Document
from bokeh.model import Model
from bokeh.models import ColumnDataSource, GlyphRenderer, Plot, Range1d, Title
from bokeh.themes import Theme

from app import bokeh_defaults
from app.bokeh_defaults import BOKEH

ROOT = Path(__file__).resolve().parents[1]
bokeh_defaults.install()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _instances():
    """One default-constructed instance of every concrete Bokeh model (those that allow it)."""
    import bokeh.models  # noqa: F401  (the whole catalogue)
    import panel.models  # noqa: F401  (Panel's models too)
    out = []
    for cls in sorted(set(Model.model_class_reverse_map.values()), key=lambda c: c.__name__):
        try:
            out.append(cls())
        except Exception:   # abstract, or needs arguments
            continue
    return out


def _same(a, b) -> bool:
    if isinstance(a, HasProps) or isinstance(b, HasProps):
        return type(a) is type(b)   # a fresh model as a default: one of the same kind
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    return a == b


def test_every_default_reads_as_bokeh_computes_it():
    instances = _instances()
    assert len(instances) > 300
    checked = 0
    for obj in instances:
        for name in obj.properties(_with_props=True):   # (aliases read another's)
            if name in obj._property_values:
                continue
            descriptor = obj.lookup(name)
            if type(descriptor) is not PropertyDescriptor:
                continue   # an alias: it reads the property it stands for
            if name in obj._unstable_default_values:
                continue   # generated once per instance (a model, a list): Bokeh keeps it
            expected = descriptor.instance_default(obj)   # Bokeh's own computation
            if expected is Undefined:   # required, and unset: a read fails, as in Bokeh
                with pytest.raises(UnsetValueError):
                    getattr(obj, name)
                continue
            got = getattr(obj, name)
            assert _same(got, expected), (type(obj).__name__, name, got, expected)
            checked += 1
            assert _same(getattr(obj, name), expected)   # and again, from memory
    assert checked > 5000


def test_serializing_keeps_and_leaves_out_what_bokeh_does():
    def query(fn, obj, defaults):
        try:
            return fn(obj, lambda p: p.serialized, include_defaults=defaults)
        except UnsetValueError:   # a required property unset: both must refuse
            return UnsetValueError

    compared = 0
    for obj in _instances():
        for defaults in (False, True):
            ours = query(type(obj).query_properties_with_values, obj, defaults)
            bokehs = query(BOKEH["query_properties_with_values"], obj, defaults)
            if ours is UnsetValueError or bokehs is UnsetValueError:
                assert ours is bokehs, type(obj).__name__
                continue
            assert ours.keys() == bokehs.keys(), type(obj).__name__
            assert all(_same(ours[k], bokehs[k]) for k in ours), type(obj).__name__
            compared += 1
    assert compared > 600


def test_a_theme_wins_over_a_remembered_default_and_leaves_with_it():
    title = Title()
    assert title.text_font_size == "13px"    # remembered for Title now
    doc = Document()
    doc.add_root(title)
    doc.theme = Theme(json={"attrs": {"Title": {"text_font_size": "30px"}}})
    assert title.text_font_size == "30px"
    assert "text_font_size" in title.properties_with_values(include_defaults=False)
    doc.theme = Theme(json={})
    assert title.text_font_size == "13px"
    assert Title().text_font_size == "13px"  # another instance, never themed


def test_overridden_defaults_are_per_class():
    class Wide(Range1d):
        start = Override(default=-5)

    assert Range1d().start == 0 and Wide().start == -5 and Range1d().start == 0
    assert HasProps._overridden_defaults.__func__(Wide) == BOKEH["_overridden_defaults"](Wide)


def test_mutable_defaults_stay_fresh_per_instance():
    a, b = Plot(), Plot()
    assert a.renderers is not b.renderers
    a.renderers.append(GlyphRenderer())   # an append to one is not the other's (nor the class's)
    assert b.renderers == [] and Plot().renderers == []
    assert ColumnDataSource().data is not ColumnDataSource().data


def test_validation_off_is_remembered_apart():
    with validate(False):
        off = Title().text_font_size
    assert off == Title().text_font_size == "13px"


def test_a_required_property_left_unset_still_fails_to_serialize():
    class Needs(Model):
        __implementation__ = None
        count = Required(Int)
        label = String(default="x")

    needs = Needs()
    with pytest.raises(UnsetValueError):
        needs.properties_with_values(include_defaults=False)
    needs.count = 3
    assert needs.properties_with_values(include_defaults=False) == {"count": 3}


@pytest.mark.parametrize("query", ["", "view=ab",
                                   "compare=model:xyzw,eta:0.25;eta:0.3&eta=-1&optimizer=adam"])
def test_a_page_sends_the_same_first_message_with_and_without(query):
    # (not the basin map or the η sweep: their first message holds whatever part of the map
    # a background job has finished by then, so it differs from build to build anyway)
    def page(*flags):
        return subprocess.run([sys.executable, str(ROOT / "tests" / "page_json.py"), *flags,
                               query], capture_output=True, text=True, check=True,
                              cwd=ROOT).stdout

    ours, bokehs = page(), page("--bokeh-as-is")
    assert len(ours) > 50_000
    assert ours == bokehs


def test_what_is_remembered_does_not_grow_with_sessions():
    from panel.io.state import set_curdoc

    from app import views

    def page():
        doc = Document()
        with set_curdoc(doc):
            views.serve(views.page_template(views.Explorer()), doc)
            doc.to_json()
        return len(bokeh_defaults._STABLE), len(bokeh_defaults._MERGED)

    page()
    first = page()
    assert first[0] > 200   # a page's models read through it
    assert page() == page() == first   # per class and property, not per session
