"""Round trips: core object -> server_codec wire -> decode_frame -> the same event.

Wire times are float seconds, so a timestamp comes back as ``canon(ts) = s_to_ns(ts / 1e9)``
(within a few hundred ns of the original); the expected events apply ``canon``.
"""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from thalex_mm.core.events import (
    AccountTradesReceived,
    BookDeltaReceived,
    BookSnapshotReceived,
    ErrorReceived,
    IndexUpdated,
    InstrumentsUpdated,
    LightTickerUpdated,
    MmProtectionUpdated,
    OrdersUpdated,
    PortfolioUpdated,
    PublicTradesReceived,
    ReconnectRequested,
    ResponseReceived,
    TickerUpdated,
)
from thalex_mm.protocol.constants import (
    Channel,
    book_channel,
    lwt_channel,
    price_index_channel,
    recent_trades_channel,
    ticker_channel,
)
from thalex_mm.protocol.decoder import ReplyReceived, decode_frame, response_event
from thalex_mm.protocol.error_codes import error_kind
from thalex_mm.protocol.parsers import parse_instrument, parse_order_status, s_to_ns
from thalex_mm.protocol.server_codec import (
    account_summary_to_wire,
    account_trade_to_wire,
    book_to_wire,
    encode_error,
    encode_notification,
    encode_response,
    index_to_wire,
    instrument_to_wire,
    lwt_to_wire,
    mmp_status_to_wire,
    ns_to_s,
    order_report_to_wire,
    portfolio_entry_to_wire,
    public_trades_to_wire,
    ticker_to_wire,
)

from . import strategies as S

LOCAL = 123_456_789
FAST = settings(max_examples=60, deadline=None)


def canon(ts: int) -> int:
    return s_to_ns(ns_to_s(ts))


def canon_order(o):
    return dataclasses.replace(
        o, create_ts_ns=canon(o.create_ts_ns),
        close_ts_ns=None if o.close_ts_ns is None else canon(o.close_ts_ns),
        fills=tuple(dataclasses.replace(f, ts_ns=canon(f.ts_ns)) for f in o.fills),
    )


def decode_one(data: bytes):
    (ev,) = decode_frame(data, LOCAL)
    return ev


def test_canon_when_applied_twice_is_stable_and_close():
    for ts in (0, 1, 1_716_200_000_123_456_789, 4_000_000_000 * 10**9):
        assert canon(canon(ts)) == canon(ts)
        assert abs(canon(ts) - ts) <= 512


@FAST
@given(st.lists(S.order_reports, max_size=4), st.booleans(), st.sampled_from(["session", "account"]))
def test_orders_feed_when_round_tripped_equals_original(orders, snapshot, scope):
    channel = Channel.SESSION_ORDERS if scope == "session" else Channel.ACCOUNT_ORDERS
    ev = decode_one(encode_notification(channel, [order_report_to_wire(o) for o in orders], snapshot))
    expected = tuple(canon_order(o) for o in orders)
    ts = max([0, *(o.close_ts_ns or 0 for o in expected),
              *(f.ts_ns for o in expected for f in o.fills)])
    assert ev == OrdersUpdated(exchange_ts_ns=ts, local_ts_ns=LOCAL, orders=expected,
                               snapshot=snapshot, scope=scope)


@FAST
@given(S.order_reports)
def test_order_report_when_sent_as_response_parses_back(order):
    ev = decode_one(encode_response(42, order_report_to_wire(order)))
    assert isinstance(ev, ReplyReceived)
    assert ev.request_id == 42
    assert parse_order_status(ev.result) == canon_order(order)
    typed = response_event(ev)
    assert isinstance(typed, ResponseReceived)
    assert (typed.request_id, typed.report) == (42, canon_order(order))


@FAST
@given(S.order_reports)
def test_order_report_wire_when_optional_fields_unset_omits_them(order):
    wire = order_report_to_wire(order)
    assert ("client_order_id" in wire) == (order.client_order_id is not None)
    assert ("label" in wire) == (order.label is not None)
    assert ("reduce_only" in wire) == order.reduce_only
    assert ("close_time" in wire) == (order.close_ts_ns is not None)
    assert ("price" in wire) == (order.price is not None)
    assert ("delete_reason" in wire) == (order.delete_reason is not None)


@FAST
@given(st.lists(S.account_trades, max_size=4))
def test_trade_history_when_round_tripped_equals_original(trades):
    ev = decode_one(encode_notification(Channel.ACCOUNT_TRADE_HISTORY,
                                        [account_trade_to_wire(t) for t in trades]))
    expected = tuple(dataclasses.replace(t, ts_ns=canon(t.ts_ns)) for t in trades)
    assert ev == AccountTradesReceived(exchange_ts_ns=max([0, *(t.ts_ns for t in expected)]),
                                       local_ts_ns=LOCAL, trades=expected)


@FAST
@given(st.lists(S.portfolio_entries, max_size=4), st.booleans())
def test_portfolio_when_round_tripped_equals_original(entries, snapshot):
    ev = decode_one(encode_notification(Channel.ACCOUNT_PORTFOLIO,
                                        [portfolio_entry_to_wire(e) for e in entries], snapshot))
    assert ev == PortfolioUpdated(local_ts_ns=LOCAL, entries=tuple(entries), snapshot=snapshot)


@FAST
@given(S.account_summaries)
def test_account_summary_when_round_tripped_equals_original(summary):
    ev = decode_one(encode_notification(Channel.ACCOUNT_SUMMARY, account_summary_to_wire(summary)))
    assert ev == dataclasses.replace(summary, local_ts_ns=LOCAL, exchange_ts_ns=0)


@FAST
@given(S.tickers, st.sampled_from(["raw", "100ms", "1000ms"]))
def test_ticker_when_round_tripped_equals_original(ticker, delay):
    ev = decode_one(encode_notification(ticker_channel(ticker.instrument, delay),
                                        ticker_to_wire(ticker)))
    assert ev == dataclasses.replace(ticker, local_ts_ns=LOCAL,
                                     exchange_ts_ns=canon(ticker.exchange_ts_ns))
    assert isinstance(ev, TickerUpdated)


@FAST
@given(S.light_tickers())
def test_lwt_when_round_tripped_equals_original(lwt):
    ev = decode_one(encode_notification(lwt_channel(lwt.instrument, "1000ms"), lwt_to_wire(lwt)))
    assert isinstance(ev, LightTickerUpdated)
    assert ev == dataclasses.replace(lwt, local_ts_ns=LOCAL)


@FAST
@given(S.names, S.levels, S.levels, st.data(), st.booleans(),
       st.floats(min_value=0, max_value=4e9, allow_nan=False))
def test_book_when_round_tripped_equals_original(instrument, bids, asks, data, snapshot, time_s):
    trades = tuple(data.draw(st.lists(S.public_trades(st.just(instrument)), max_size=5)))
    payload = book_to_wire(bids, asks, trades, 1.0, 2.0, time_s)
    ev = decode_one(encode_notification(book_channel(instrument), payload, snapshot))
    cls = BookSnapshotReceived if snapshot else BookDeltaReceived
    assert ev == cls(exchange_ts_ns=s_to_ns(time_s), local_ts_ns=LOCAL, instrument=instrument,
                     bids=bids, asks=asks,
                     trades=tuple(dataclasses.replace(t, ts_ns=canon(t.ts_ns)) for t in trades))


@FAST
@given(S.indexes)
def test_index_when_round_tripped_equals_original(index):
    ev = decode_one(encode_notification(price_index_channel(index.index_name), index_to_wire(index)))
    assert ev == IndexUpdated(exchange_ts_ns=canon(index.exchange_ts_ns), local_ts_ns=LOCAL,
                              index_name=index.index_name, price=index.price)


@FAST
@given(st.lists(S.public_trades(), max_size=6), st.booleans())
def test_recent_trades_when_round_tripped_equals_original(trades, snapshot):
    ev = decode_one(encode_notification(recent_trades_channel("BTCUSD", "all"),
                                        public_trades_to_wire(trades), snapshot))
    expected = tuple(dataclasses.replace(t, ts_ns=canon(t.ts_ns)) for t in trades)
    assert ev == PublicTradesReceived(exchange_ts_ns=max([0, *(t.ts_ns for t in expected)]),
                                      local_ts_ns=LOCAL, trades=expected, snapshot=snapshot)


@FAST
@given(st.lists(S.instruments, max_size=3), st.lists(S.instruments, max_size=2), st.booleans())
def test_instruments_when_round_tripped_equals_original(added, removed, snapshot):
    payload = [{"added": instrument_to_wire(i)} for i in added] + [
        {"removed": instrument_to_wire(i)} for i in removed]
    ev = decode_one(encode_notification(Channel.INSTRUMENTS, payload, snapshot))

    def fix(i):
        return dataclasses.replace(i, create_time_ns=canon(i.create_time_ns))

    assert ev == InstrumentsUpdated(local_ts_ns=LOCAL, added=tuple(fix(i) for i in added),
                                    removed=tuple(fix(i) for i in removed), snapshot=snapshot)


@FAST
@given(S.instruments)
def test_instrument_when_sent_as_response_parses_back(inst):
    ev = decode_one(encode_response(0, [instrument_to_wire(inst)]))
    assert [parse_instrument(d) for d in ev.result] == [
        dataclasses.replace(inst, create_time_ns=canon(inst.create_time_ns))]


@FAST
@given(st.lists(S.mmp_statuses, min_size=1, max_size=3))
def test_mm_protection_when_round_tripped_equals_original(items):
    ev = decode_one(encode_notification(Channel.SESSION_MM_PROTECTION,
                                        [mmp_status_to_wire(s) for s in items]))
    assert ev == MmProtectionUpdated(local_ts_ns=LOCAL, items=tuple(items))


def test_system_reconnect_when_round_tripped_gives_reconnect_requested():
    ev = decode_one(encode_notification(Channel.SYSTEM, {"event": "reconnect"}))
    assert ev == ReconnectRequested(local_ts_ns=LOCAL)


@FAST
@given(st.none() | st.integers(min_value=0, max_value=2**63), st.integers(min_value=-(2**31), max_value=2**31),
       S.texts)
def test_error_when_round_tripped_gives_error_received(rid, code, message):
    ev = decode_one(encode_error(rid, code, message))
    assert ev == ErrorReceived(local_ts_ns=LOCAL, request_id=rid, kind=error_kind(code), code=code, message=message)
