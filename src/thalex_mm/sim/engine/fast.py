"""Positional constructors for the frozen, slotted core payload dataclasses.

The engine builds several payload objects per operation (OrderReport, OrderFill,
AccountTrade, PortfolioEntry). A frozen dataclass ``__init__`` goes through
``object.__setattr__`` for every field; setting the slot descriptors directly builds the very
same object about twice as fast. ``fast_constructor(cls)`` returns a keyword-only
``make(**fields)`` with the dataclass's own defaults. It runs no ``__post_init__``, so it refuses
classes that define one, non-slotted classes and ``default_factory`` fields; a test pins it to
the normal constructor.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable

__all__ = ["fast_constructor", "fast_positional_constructor"]


def fast_constructor(cls: type) -> Callable[..., object]:
    """Build the keyword-only ``make(**fields)`` for the frozen slotted dataclass ``cls``."""
    fields = dataclasses.fields(cls)
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} has __post_init__; use its constructor")
    names = [f.name for f in fields]
    for name in names:
        if not isinstance(cls.__dict__.get(name), types.MemberDescriptorType):
            raise TypeError(f"{cls.__name__}.{name} is not a slot")
    params = []
    defaults: dict[str, object] = {}
    for f in fields:
        if f.default_factory is not dataclasses.MISSING:
            raise TypeError(f"{cls.__name__}.{f.name} has a default_factory")
        if f.default is dataclasses.MISSING:
            params.append(f.name)
        else:
            defaults[f"_d_{f.name}"] = f.default
            params.append(f"{f.name}=_d_{f.name}")
    args = "*, " + ", ".join(params)
    body = "\n".join(f"    _set_{n}(o, {n})" for n in names)
    src = f"def make({args}):\n    o = _new(_cls)\n{body}\n    return o\n"
    scope: dict[str, object] = {"_new": object.__new__, "_cls": cls, **defaults}
    for n in names:
        scope[f"_set_{n}"] = cls.__dict__[n].__set__
    exec(src, scope)  # the source is built only from the dataclass's own field names
    make = scope["make"]
    make.__doc__ = f"Build a {cls.__name__} (keyword arguments, as its constructor)."
    return make  # type: ignore[return-value]


def fast_positional_constructor(cls: type, names: tuple[str, ...]) -> Callable[..., object]:
    """Like :func:`fast_constructor`, but ``make(*values)`` takes every field positionally.

    Positional arguments skip keyword matching (~0.8 µs less for a 19-field OrderReport).

    Args:
        cls: a frozen slotted dataclass without ``__post_init__`` or ``default_factory``.
        names: the caller's idea of the field order; it must equal the dataclass's field
            names in order, or this raises ``TypeError`` (a changed payload class then fails
            at import instead of silently swapping values).
    """
    fast_constructor(cls)  # the same checks (slots, no __post_init__, no default_factory)
    actual = tuple(f.name for f in dataclasses.fields(cls))
    if actual != names:
        raise TypeError(f"{cls.__name__} fields: got {names!r}, expected {actual!r}")
    body = "\n".join(f"    _set_{n}(o, {n})" for n in names)
    src = f"def make({', '.join(names)}):\n    o = _new(_cls)\n{body}\n    return o\n"
    scope: dict[str, object] = {"_new": object.__new__, "_cls": cls}
    for n in names:
        scope[f"_set_{n}"] = cls.__dict__[n].__set__
    exec(src, scope)  # the source is built only from the dataclass's own field names
    make = scope["make"]
    make.__doc__ = f"Build a {cls.__name__} from all its fields, positionally."
    return make  # type: ignore[return-value]
