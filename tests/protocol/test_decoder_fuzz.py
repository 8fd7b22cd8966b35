"""decode_frame never raises, whatever arrives (bytes, text, any JSON, frame-shaped junk)."""

from __future__ import annotations

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thalex_mm.core.events import DecodeFailed, Event
from thalex_mm.protocol.decoder import EXCERPT_CHARS, decode_frame
from thalex_mm.protocol.server_codec import parse_request

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64 - 1)
                | st.floats(allow_nan=False, allow_infinity=False)
                | st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=12))
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=25,
)

CHANNELS = ["ticker.BTC-PERPETUAL.raw", "lwt.BTC-PERPETUAL.1000ms", "book.BTC-PERPETUAL.none.all.raw",
            "price_index.BTCUSD", "recent_trades.BTCUSD.all", "instruments", "system",
            "session.orders", "account.orders", "account.trade_history", "account.portfolio",
            "account.summary", "session.mm_protection", "ticker", "book.X", "unknown.channel"]

# Plausible payload pieces so that deep parsing paths are reached, not just the type checks.
FIELD_NAMES = ["mark_price", "mark_timestamp", "index", "time", "bid_changes", "ask_changes", "trades",
               "order_id", "direction", "amount", "price", "status", "fills", "change_reason",
               "order_type", "time_in_force", "filled_amount", "remaining_amount", "instrument_name",
               "event", "added", "removed", "m", "b", "a", "position", "product", "reason",
               "remaining_amount", "trade_id", "timestamp", "index_name"]
field_dicts = st.dictionaries(st.sampled_from(FIELD_NAMES), json_values, max_size=10)
payloads = json_values | field_dicts | st.lists(field_dicts | json_values, max_size=4)


def _check(events: object) -> None:
    assert isinstance(events, tuple)
    assert events and all(isinstance(e, Event) for e in events)
    for e in events:
        assert e.local_ts_ns == 7
        if isinstance(e, DecodeFailed):
            assert len(e.excerpt) <= EXCERPT_CHARS
            assert e.reason
            # every failure is explained precisely, never by the catch-all
            assert not e.reason.startswith("internal decoder error"), e.reason


@FUZZ
@given(st.binary(max_size=300))
def test_decode_frame_when_arbitrary_bytes_never_raises(data):
    _check(decode_frame(data, 7))


@FUZZ
@given(st.text(max_size=300))
def test_decode_frame_when_arbitrary_text_never_raises(text):
    _check(decode_frame(text, 7))


@FUZZ
@given(json_values)
def test_decode_frame_when_arbitrary_json_never_raises(value):
    _check(decode_frame(orjson.dumps(value), 7))


@FUZZ
@given(st.sampled_from(CHANNELS) | st.text(max_size=20), payloads, json_values)
def test_decode_frame_when_notification_shaped_junk_never_raises(channel, payload, snapshot):
    frame = {"channel_name": channel, "notification": payload, "snapshot": snapshot}
    _check(decode_frame(orjson.dumps(frame), 7))


@FUZZ
@given(json_values, json_values, st.sampled_from(["result", "error"]))
def test_decode_frame_when_reply_shaped_junk_never_raises(rid, body, key):
    _check(decode_frame(orjson.dumps({"id": rid, key: body}), 7))


@FUZZ
@given(st.binary(max_size=200) | json_values.map(orjson.dumps))
def test_parse_request_when_arbitrary_input_never_raises(data):
    parse_request(data)
