"""decode_frame on the inputs tests/protocol/test_decoder_fuzz.py does not generate: deep
nesting, numbers beyond 64 bits / beyond double range, NaN/Infinity literals, invalid UTF-8
spliced into otherwise valid frames. It never raises; bad frames become ``DecodeFailed``."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thalex_mm.core.events import DecodeFailed, Event
from thalex_mm.protocol.decoder import EXCERPT_CHARS, decode_frame

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Valid frames with one numeric slot "@" each place a number may appear.
TEMPLATES = [
    '{"channel_name":"ticker.BTC-PERPETUAL.raw","notification":{"best_bid_price":@,"best_bid_amount":@,'
    '"best_ask_price":@,"best_ask_amount":@,"last_price":@,"mark_price":@,"mark_timestamp":@,"index":@,'
    '"funding_rate":@}}',
    '{"channel_name":"book.BTC-PERPETUAL.none.all.raw","snapshot":true,"notification":{"bid_changes":'
    '[[@,@,0]],"ask_changes":[[@,@,0]],"trades":[],"time":@}}',
    '{"channel_name":"price_index.BTCUSD","notification":{"index_name":"BTCUSD","price":@,"timestamp":@}}',
    '{"channel_name":"session.orders","notification":[{"order_id":"1","client_order_id":@,'
    '"instrument_name":"BTC-PERPETUAL","direction":"buy","order_type":"limit",'
    '"time_in_force":"good_till_cancelled","price":@,"amount":@,"filled_amount":@,"remaining_amount":@,'
    '"status":"open","fills":[],"change_reason":"insert","create_time":@,"persistent":false}]}',
    '{"channel_name":"account.portfolio","notification":[{"instrument_name":"BTC-PERPETUAL","position":@,'
    '"mark_price":@}]}',
    '{"id":@,"result":{"x":@}}',
    '{"id":@,"error":{"code":@,"message":"m"}}',
]

EXTREME_LITERALS = [
    "NaN", "-NaN", "Infinity", "-Infinity", "nan", "inf", "1e400", "-1e400", "1e308", "-1e308",
    "1e-400", "4.9e-324", "-0.0", "0", "-0", str(2**63), str(2**64), str(-(2**63) - 1), "1" * 400,
    "1e300", "9007199254740993", "0.1e", "01", "+1", ".5", "1.", "0x10",
]
numbers = (st.sampled_from(EXTREME_LITERALS)
           | st.integers(min_value=-(10**60), max_value=10**60).map(str)
           | st.floats(allow_nan=False, allow_infinity=False).map(repr))


def _check(events: object) -> tuple[Event, ...]:
    assert isinstance(events, tuple) and events
    assert all(isinstance(e, Event) for e in events)
    for e in events:
        if isinstance(e, DecodeFailed):
            assert e.reason and len(e.excerpt) <= EXCERPT_CHARS
        for name in ("price", "mark_price", "index", "position", "amount"):
            value = getattr(e, name, None)
            if isinstance(value, float):
                assert math.isfinite(value), f"{type(e).__name__}.{name} = {value}"
    return events


def _fill(template: str, values: list[str]) -> str:
    parts = template.split("@")
    out = [parts[0]]
    for i, rest in enumerate(parts[1:]):
        out.append(values[i % len(values)])
        out.append(rest)
    return "".join(out)


@FUZZ
@given(st.sampled_from(TEMPLATES), st.lists(numbers, min_size=1, max_size=10))
def test_decode_frame_when_numbers_are_extreme_never_raises(template, values):
    _check(decode_frame(_fill(template, values), 7))


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
@pytest.mark.parametrize("template", TEMPLATES[:3])
def test_decode_frame_when_number_is_not_finite_gives_decode_failed(template, literal):
    # orjson (strict JSON) refuses these, so no NaN/inf can reach the core as a price or time
    values = ["1"] * 20
    values[0] = literal
    (event,) = _check(decode_frame(_fill(template, values), 7))
    assert isinstance(event, DecodeFailed)
    assert event.reason.startswith("invalid JSON")


@FUZZ
@given(st.integers(min_value=1, max_value=3000), st.sampled_from(["[", '{"a":']))
def test_decode_frame_when_nested_deeply_never_raises(depth, opener):
    closer = "]" if opener == "[" else "}"
    body = opener * depth + "1" + closer * depth
    for frame in (body, '{"id":1,"result":' + body + "}",
                  '{"channel_name":"session.orders","notification":' + body + "}"):
        events = _check(decode_frame(frame, 7))
        if depth > 1024:  # orjson's nesting limit
            assert isinstance(events[0], DecodeFailed)


@FUZZ
@given(st.sampled_from(TEMPLATES), st.binary(min_size=1, max_size=8), st.integers(min_value=0))
def test_decode_frame_when_invalid_utf8_spliced_in_never_raises(template, junk, where):
    data = _fill(template, ["1"]).encode()
    at = where % (len(data) + 1)
    raw = data[:at] + b"\xff" + junk + data[at:]
    events = _check(decode_frame(raw, 7))
    assert isinstance(events[0], DecodeFailed)  # 0xFF is never valid UTF-8


@pytest.mark.parametrize("ts", ["1e300", "1e20", "-1e300"])
def test_decode_frame_when_timestamp_is_out_of_range_never_raises(ts):
    frame = ('{"channel_name":"ticker.BTC-PERPETUAL.raw","notification":{"mark_price":1,'
             f'"mark_timestamp":{ts},"index":2}}}}')
    _check(decode_frame(frame, 7))


def test_decode_frame_when_timestamp_overflows_gives_precise_reason():
    frame = ('{"channel_name":"ticker.BTC-PERPETUAL.raw","notification":{"mark_price":1,'
             '"mark_timestamp":1e300,"index":2}}')
    (event,) = decode_frame(frame, 7)
    assert isinstance(event, DecodeFailed)
    assert not event.reason.startswith("internal decoder error"), event.reason
