"""command_to_request details the official client cannot show (multi-level quotes, errors)."""

from __future__ import annotations

import orjson
import pytest

from thalex_mm.core.commands import (
    AmendOrder,
    CancelOrder,
    Halt,
    InsertOrder,
    InstrumentQuote,
    MassQuote,
)
from thalex_mm.core.types import OrderType, Side, TimeInForce
from thalex_mm.errors import InvalidState
from thalex_mm.protocol.requests import command_to_request, encode_frame


def test_mass_quote_when_sides_have_0_1_2_levels_uses_list_single_list_forms():
    cmd = MassQuote(quotes=(
        InstrumentQuote(instrument="A", bids=((10.0, 1.0), (9.0, 2.0)), asks=()),
        InstrumentQuote(instrument="B", bids=((5.0, 1.0),), asks=None),
    ), post_only=False, reject_post_only=True)
    frame = command_to_request(cmd, None)
    assert frame == {"method": "private/mass_quote", "params": {
        "quotes": [{"i": "A", "b": [[10.0, 1.0], [9.0, 2.0]], "a": []},
                   {"i": "B", "b": {"p": 5.0, "a": 1.0}}],
        "post_only": False, "reject_post_only": True}}
    forced = command_to_request(cmd, 1, single_level_form=False)
    assert forced["params"]["quotes"][1]["b"] == [[5.0, 1.0]]
    assert forced["id"] == 1


def test_insert_when_market_ioc_reduce_only_sends_explicit_strings():
    cmd = InsertOrder(client_order_id=3, instrument="X", side=Side.SELL, amount=0.5, price=None,
                      order_type=OrderType.MARKET, time_in_force=TimeInForce.IOC, reduce_only=True)
    wire = orjson.loads(encode_frame(command_to_request(cmd, 3)))
    assert wire == {"method": "private/insert", "id": 3, "params": {
        "direction": "sell", "instrument_name": "X", "amount": 0.5, "client_order_id": 3,
        "order_type": "market", "time_in_force": "immediate_or_cancel", "reduce_only": True}}
    assert type(command_to_request(cmd, 3)["params"]["direction"]) is str


@pytest.mark.parametrize("cmd", [
    AmendOrder(client_order_id=None, price=1.0, amount=1.0),
    CancelOrder(),
    Halt(reason="kill_switch"),
])
def test_command_to_request_when_command_has_no_wire_form_raises_invalid_state(cmd):
    with pytest.raises(InvalidState, match=type(cmd).__name__):
        command_to_request(cmd, 1)
