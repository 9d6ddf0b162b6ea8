"""Bokeh's property defaults, worked out once per class instead of at every read.

A page is ~400 Bokeh models, each with dozens of properties the page never sets. Bokeh 3.9
works out such a property's default at every read: it merges the class's overridden defaults
along its whole MRO, copies the default, validates it, and looks for a theme value through an
attribute lookup that fails. Reads are many: every walk over a document's models (Panel makes
several per page; Bokeh one per change) reads every property that may refer to a model, and
serializing a model reads every property, even those it then leaves out as defaults. That is
~40 % of a page's CPU, on the one event loop every student shares.

``install()`` keeps Bokeh's answers and only stops recomputing them:

- a default that cannot change (not made by a function, not a theme's, an immutable value:
  None, a bool, a number or a string) is remembered per (property, class, validation on/off);
- a class's merged overridden defaults are remembered per class (classes do not change them
  after they are made);
- "no theme value" is read from the instance's dict, without raising an AttributeError;
- serializing without defaults no longer reads the defaults it is about to leave out.

Mutable and generated defaults (lists, dicts, models) are still made fresh, as Bokeh makes
them. ``tests/test_bokeh_defaults.py`` checks that a page's document serializes to the same
JSON with and without this, and that themes and overridden defaults still win.
"""
from __future__ import annotations

from typing import Any

from bokeh.core.has_props import HasProps
from bokeh.core.property.bases import Property
from bokeh.core.property.descriptors import PropertyDescriptor, UnsetValueError
from bokeh.core.property.singletons import Undefined

_IMMUTABLE = (type(None), bool, int, float, str)
_MISSING = object()
_installed = False
# what is remembered: per (property, class, validation on), per class (bounded by the classes)
_STABLE: dict[tuple, Any] = {}
_MERGED: dict[type, dict[str, Any]] = {}
# Bokeh's own functions, as they were before install() (tests compare the two)
BOKEH = {"_get_default": PropertyDescriptor._get_default,
         "_overridden_defaults": HasProps._overridden_defaults.__func__,
         "themed_values": HasProps.themed_values,
         "query_properties_with_values": HasProps.query_properties_with_values}


def install() -> None:
    """Make Bokeh remember what it recomputes (once per process; safe to call again)."""
    global _installed
    if _installed:
        return
    _installed = True
    _remember_stable_defaults()
    _remember_overridden_defaults()
    HasProps.themed_values = _themed_values
    HasProps.query_properties_with_values = _query_properties_with_values


def _themed_values(self: HasProps) -> dict[str, Any] | None:
    """The theme's values for this model, or None (as Bokeh's, without a failed lookup)."""
    return self.__dict__.get("__themed_values__")


def _remember_stable_defaults() -> None:
    bokeh_get_default = BOKEH["_get_default"]
    stable = _STABLE

    def _get_default(self: PropertyDescriptor, obj: HasProps) -> Any:
        themed = obj.__dict__.get("__themed_values__")
        if themed is not None and self.name in themed:
            return bokeh_get_default(self, obj)
        made = obj._unstable_default_values   # a list, a dict or a model made for obj
        if self.name in made:
            return made[self.name]
        key = (self, obj.__class__, Property._should_validate)
        value = stable.get(key, _MISSING)
        if value is _MISSING:
            value = bokeh_get_default(self, obj)
            if type(value) in _IMMUTABLE and not self.has_unstable_default(obj):
                stable[key] = value
        return value

    PropertyDescriptor._get_default = _get_default


def _remember_overridden_defaults() -> None:
    bokeh_overridden = BOKEH["_overridden_defaults"]
    merged = _MERGED

    def _overridden_defaults(cls: type[HasProps]) -> dict[str, Any]:
        found = merged.get(cls)
        if found is None:
            found = merged[cls] = bokeh_overridden(cls)
        return found

    HasProps._overridden_defaults = classmethod(_overridden_defaults)


def _query_properties_with_values(self: HasProps, query, *, include_defaults: bool = True,
                                  include_undefined: bool = False) -> dict[str, Any]:
    """Bokeh's ``HasProps.query_properties_with_values``, reading only what it returns.

    Bokeh reads every property first and drops the unselected ones after (its own TODO says
    the read should come after the check); a read of an unset property works out its default.
    Here an unselected property is read only when it has no default, where Bokeh's read
    raises (a required property left unset), so that error stays.
    """
    themed_keys: set[str] = set()
    keys = self.properties(_with_props=True)
    if include_defaults:
        selected = None
    else:
        selected = set(self._property_values) | set(self._unstable_default_values)
        themed = self.themed_values()
        if themed is not None:
            themed_keys = set(themed)
            selected |= themed_keys
    result: dict[str, Any] = {}
    for key in keys:
        descriptor = self.lookup(key)
        if not query(descriptor):
            continue
        if selected is not None and key not in selected \
                and _default_of(descriptor) is not Undefined:
            continue   # a default left out: Bokeh would read it and drop it
        try:
            value = descriptor.get_value(self)
        except UnsetValueError:
            if include_undefined:
                value = Undefined
            else:
                raise
        else:
            if selected is not None and key not in selected:
                continue
            if selected is not None and key not in themed_keys \
                    and key in self._unstable_default_values \
                    and _is_container(value):
                continue
        result[key] = value
    return result


def _default_of(descriptor) -> Any:
    """The property's raw default (Undefined for a required one, or an alias)."""
    return getattr(getattr(descriptor, "property", None), "_default", Undefined)


def _is_container(value: Any) -> bool:
    from bokeh.core.property.wrappers import PropertyValueContainer
    return isinstance(value, PropertyValueContainer)
