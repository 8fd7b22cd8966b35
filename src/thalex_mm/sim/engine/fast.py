"""Positional constructors for the frozen, slotted core payload dataclasses.

The engine builds several payload objects per operation (OrderReport, OrderFill,
AccountTrade, PortfolioEntry). A frozen dataclass ``__init__`` goes through
``object.__setattr__`` for every field; setting the slot descriptors directly builds the very
same object about twice as fast. ``fast_constructor(cls)`` returns a keyword-only
``make(**fields)`` with the dataclass's own defaults. It runs no ``__post_init__``, so it refuses
classes that define one, non-slotted classes and ``default_factory`` fields; a test pins it to
the normal constructor.

A class compiled by mypyc (docs/build.md) has no slot member descriptors but a native
``__init__`` that is already fast: for it, ``make`` calls the constructor itself (keywords),
so callers are the same in both build modes. This module is not compiled: it writes code with
``exec`` at import time and is not on the hot path itself.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable
from typing import TypeVar, cast

__all__ = ["fast_constructor", "fast_positional_constructor"]

T = TypeVar("T")


def _names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def _native_or_slotted(cls: type) -> bool:
    """True for a mypyc-compiled class (native attributes), False for a slotted one; else raise."""
    fields = dataclasses.fields(cls)
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} has __post_init__; use its constructor")
    for f in fields:
        if f.default_factory is not dataclasses.MISSING:
            raise TypeError(f"{cls.__name__}.{f.name} has a default_factory")
    kinds = {type(cls.__dict__.get(f.name)) for f in fields}
    if kinds <= {types.MemberDescriptorType}:
        return False
    if kinds <= {types.GetSetDescriptorType}:
        return True  # compiled: attributes are the native class's getters and setters
    bad = next(f.name for f in fields
               if not isinstance(cls.__dict__.get(f.name), types.MemberDescriptorType))
    raise TypeError(f"{cls.__name__}.{bad} is not a slot")


def _compile(cls: type, signature: str, names: tuple[str, ...], native: bool,
             defaults: dict[str, object]) -> Callable[..., object]:
    """``def make(<signature>)`` building ``cls`` from ``names`` (slot setters or constructor)."""
    if native:
        body = f"    return _cls({', '.join(f'{n}={n}' for n in names)})"
    else:
        sets = "\n".join(f"    _set_{n}(o, {n})" for n in names)
        body = f"    o = _new(_cls)\n{sets}\n    return o"
    scope: dict[str, object] = {"_new": object.__new__, "_cls": cls, **defaults}
    if not native:
        for n in names:
            scope[f"_set_{n}"] = cls.__dict__[n].__set__
    exec(f"def make({signature}):\n{body}\n", scope)  # built only from the class's field names
    return cast(Callable[..., object], scope["make"])


def fast_constructor(cls: type[T]) -> Callable[..., T]:
    """Build the keyword-only ``make(**fields)`` for the frozen slotted dataclass ``cls``."""
    native = _native_or_slotted(cls)
    if native:
        return cls  # the compiled constructor: same keywords, same defaults
    params = []
    defaults: dict[str, object] = {}
    klass: type = cls
    for f in dataclasses.fields(klass):
        if f.default is dataclasses.MISSING:
            params.append(f.name)
        else:
            defaults[f"_d_{f.name}"] = f.default
            params.append(f"{f.name}=_d_{f.name}")
    make = _compile(cls, "*, " + ", ".join(params), _names(cls), native, defaults)
    make.__doc__ = f"Build a {cls.__name__} (keyword arguments, as its constructor)."
    return cast(Callable[..., T], make)


def fast_positional_constructor(cls: type[T], names: tuple[str, ...]) -> Callable[..., T]:
    """Like :func:`fast_constructor`, but ``make(*values)`` takes every field positionally.

    Positional arguments skip keyword matching (~0.8 µs less for a 19-field OrderReport).

    Args:
        cls: a frozen slotted dataclass without ``__post_init__`` or ``default_factory``.
        names: the caller's idea of the field order; it must equal the dataclass's field
            names in order, or this raises ``TypeError`` (a changed payload class then fails
            at import instead of silently swapping values).
    """
    native = _native_or_slotted(cls)  # the same checks (slots, no __post_init__, ...)
    actual = _names(cls)
    if actual != names:
        raise TypeError(f"{cls.__name__} fields: got {names!r}, expected {actual!r}")
    make = _compile(cls, ", ".join(names), names, native, {})
    make.__doc__ = f"Build a {cls.__name__} from all its fields, positionally."
    return cast(Callable[..., T], make)
