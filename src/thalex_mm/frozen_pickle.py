"""Pickling of frozen dataclasses that mypyc compiles.

A compiled frozen dataclass cannot be unpickled the default way: mypyc's ``__setstate__`` sets
the fields one by one and the frozen ``__setattr__`` refuses each (``FrozenInstanceError``), so a
spawn worker never receives its task. A class that crosses a process boundary (settings sent
to ``backtest.parallel`` workers, results sent back) defines ``__reduce__`` with
:func:`reduce_frozen`, which rebuilds it through its constructor instead; in pure Python the
result is the same object as the default pickling gives. Not compiled itself (docs/build.md).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

__all__ = ["rebuild", "reduce_frozen"]


def rebuild(cls: type, state: dict[str, Any]) -> Any:
    """``cls(**state)``: the unpickling half of :func:`reduce_frozen`."""
    return cls(**state)


def reduce_frozen(obj: Any) -> tuple[Any, ...]:
    """``__reduce__`` of a frozen dataclass whose fields all go through ``__init__``."""
    return rebuild, (type(obj), {f.name: getattr(obj, f.name) for f in fields(obj)})
