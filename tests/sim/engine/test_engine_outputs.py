"""Output envelope details: fast payload constructors, book-change totals, determinism."""

from __future__ import annotations

import dataclasses

import pytest
from sim_engine_helpers import PERP

from thalex_mm.core.events import AccountTrade, OrderFill, OrderReport, PortfolioEntry
from thalex_mm.core.types import ChangeReason, OrderStatus, OrderType, Side, TimeInForce
from thalex_mm.sim.engine import EngineOutput
from thalex_mm.sim.engine.fast import fast_constructor, fast_positional_constructor

# a distinct value per field (of the field's type: a compiled class checks types), so that a
# constructor that swaps two fields fails
_ENUMS = {"ChangeReason": ChangeReason.FILL, "OrderStatus": OrderStatus.FILLED,
          "OrderType": OrderType.MARKET, "Side": Side.SELL, "TimeInForce": TimeInForce.IOC}


def _sample(cls):
    values = {}
    for i, f in enumerate(dataclasses.fields(cls)):
        # a string here (postponed annotations); the type itself when the class is compiled,
        # where an Optional field's type reads ``type`` (then None, a valid value, is used)
        kind = f.type if isinstance(f.type, str) else f.type.__name__
        kind = kind.removesuffix(" | None")
        if f.default is not dataclasses.MISSING:
            values[f.name] = f.default
        elif kind in _ENUMS:
            values[f.name] = _ENUMS[kind]
        else:
            values[f.name] = {"int": i, "float": i + 0.5, "str": f"v{i}"}.get(kind)
    return values


@pytest.mark.parametrize("cls", [OrderReport, OrderFill, AccountTrade, PortfolioEntry])
def test_fast_constructor_when_given_fields_equals_normal_constructor(cls):
    values = _sample(cls)
    assert fast_constructor(cls)(**values) == cls(**values)


def test_fast_constructor_when_defaults_omitted_uses_dataclass_defaults():
    make = fast_constructor(OrderReport)
    kw = dict(order_id="1", client_order_id=None, instrument=PERP, side=Side.BUY,
              order_type=OrderType.LIMIT, time_in_force=TimeInForce.GTC, price=1.0, amount=1.0,
              filled_amount=0.0, remaining_amount=1.0, status=OrderStatus.OPEN,
              change_reason=ChangeReason.INSERT)
    assert make(**kw) == OrderReport(**kw)


def test_fast_constructor_when_class_not_slotted_refuses():
    @dataclasses.dataclass(frozen=True)
    class Plain:
        x: int

    with pytest.raises(TypeError, match="not a slot"):
        fast_constructor(Plain)


def test_book_changes_when_our_order_joins_external_report_total_incl_ours(engine):
    engine.set_external_level(PERP, Side.SELL, 105, 1.25, ts_ns=1)
    out = engine.insert("s1", PERP, Side.SELL, 0.5, 105, ts_ns=2)
    assert [(c.side, c.price, c.amount) for c in out.book_changes] == [(Side.SELL, 105.0, 1.75)]
    out = engine.set_external_level(PERP, Side.SELL, 105, 1.0, ts_ns=3)
    assert [(c.price, c.amount) for c in out.book_changes] == [(105.0, 1.5)]
    nothing = engine.set_external_level(PERP, Side.SELL, 105, 1.0, ts_ns=4)
    assert nothing == EngineOutput() and nothing.ok


def test_engine_output_when_error_not_ok_and_fields_empty(engine):
    out = engine.cancel("s1", order_id="nope", ts_ns=1)
    assert not out.ok and out.order_updates == () and out.book_changes == ()


def test_fast_positional_constructor_when_given_all_fields_equals_normal_constructor():
    names = tuple(f.name for f in dataclasses.fields(OrderReport))
    values = _sample(OrderReport)
    make = fast_positional_constructor(OrderReport, names)
    assert make(*(values[n] for n in names)) == OrderReport(**values)


def test_fast_positional_constructor_when_field_order_differs_refuses():
    names = tuple(f.name for f in dataclasses.fields(OrderReport))
    swapped = (names[1], names[0], *names[2:])
    with pytest.raises(TypeError, match="OrderReport fields"):
        fast_positional_constructor(OrderReport, swapped)
