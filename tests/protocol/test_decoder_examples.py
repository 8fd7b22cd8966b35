"""decode_frame on the example frames of thalex_protocol.md, and on precise failure cases."""

from __future__ import annotations

import orjson
import pytest

from thalex_mm.core.error_kinds import ErrorKind
from thalex_mm.core.events import (
    AccountSummaryUpdated,
    AccountTradesReceived,
    BookDeltaReceived,
    BookSnapshotReceived,
    DecodeFailed,
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
from thalex_mm.core.types import ChangeReason, DeleteReason, OrderStatus, OrderType, Side
from thalex_mm.errors import ProtocolError
from thalex_mm.protocol.decoder import EXCERPT_CHARS, ReplyReceived, decode_frame, response_event
from thalex_mm.protocol.parsers import parse_trade_history, s_to_ns

LOCAL = 1_716_200_003_000_000_000


def one(frame: str | bytes):
    events = decode_frame(frame, LOCAL)
    assert len(events) == 1
    assert events[0].local_ts_ns == LOCAL
    return events[0]


def failed(frame: str | bytes) -> DecodeFailed:
    ev = one(frame)
    assert isinstance(ev, DecodeFailed), ev
    return ev


def test_s_to_ns_when_float_seconds_rounds_to_nearest_ns():
    assert abs(s_to_ns(1716200000.51) - 1_716_200_000_510_000_000) <= 256  # float resolution
    assert s_to_ns(1.5) == 1_500_000_000
    assert s_to_ns(0.0000000014) == 1


def test_ticker_example_when_decoded_gives_all_fields():
    ev = one(
        '{"channel_name":"ticker.BTC-PERPETUAL.raw","notification":{"best_bid_price":64990,'
        '"best_bid_amount":0.5,"best_ask_price":65010,"best_ask_amount":0.2,"last_price":65000,'
        '"mark_price":65001.3,"mark_timestamp":1716200000.51,"delta":1,"index":64980.2,'
        '"collar_low":63000,"collar_high":67000,"funding_rate":0.00001,"funding_mark":0.012,'
        '"volume_24h":12.3,"open_interest":88.1}}'
    )
    assert ev == TickerUpdated(
        exchange_ts_ns=s_to_ns(1716200000.51), local_ts_ns=LOCAL, instrument="BTC-PERPETUAL",
        mark_price=65001.3, index_price=64980.2, best_bid_price=64990.0, best_bid_amount=0.5,
        best_ask_price=65010.0, best_ask_amount=0.2, last_price=65000.0, funding_rate=0.00001,
        funding_mark=0.012, collar_low=63000.0, collar_high=67000.0, open_interest=88.1,
    )
    assert isinstance(ev.best_bid_price, float)


def test_ticker_when_empty_side_is_null_gives_none():
    ev = one('{"channel_name":"ticker.BTC-PERPETUAL.100ms","notification":{"best_bid_price":null,'
             '"best_bid_amount":null,"mark_price":1,"mark_timestamp":2,"delta":1,"index":3}}')
    assert isinstance(ev, TickerUpdated)
    assert (ev.best_bid_price, ev.best_ask_price, ev.mark_price, ev.index_price) == (None, None, 1, 3)


def test_book_snapshot_example_when_decoded_gives_levels_and_trades():
    ev = one(
        '{"channel_name":"book.BTC-PERPETUAL.none.all.raw","snapshot":true,"notification":{'
        '"bid_changes":[[64990,0.5,0.5],[64980,1.2,1.2]],"ask_changes":[[65010,0.2,0.2]],'
        '"trades":[[65000,0.1,"buy",1716199990.1,false]],"total_bid_amount":1.7,'
        '"total_ask_amount":0.2,"time":1716200000.2}}'
    )
    assert isinstance(ev, BookSnapshotReceived)
    assert ev.instrument == "BTC-PERPETUAL"
    assert ev.bids == ((64990.0, 0.5), (64980.0, 1.2))
    assert ev.asks == ((65010.0, 0.2),)
    assert ev.exchange_ts_ns == s_to_ns(1716200000.2)
    (t,) = ev.trades
    assert (t.instrument, t.price, t.amount, t.aggressor, t.ts_ns) == (
        "BTC-PERPETUAL", 65000.0, 0.1, Side.BUY, s_to_ns(1716199990.1))


def test_book_delta_example_when_no_snapshot_flag_gives_delta():
    ev = one(
        '{"channel_name":"book.BTC-PERPETUAL.none.all.raw","notification":{"bid_changes":'
        '[[64990,0,0]],"ask_changes":[],"trades":[],"total_bid_amount":1.2,'
        '"total_ask_amount":0.2,"time":1716200000.7}}'
    )
    assert ev == BookDeltaReceived(exchange_ts_ns=s_to_ns(1716200000.7), local_ts_ns=LOCAL,
                                   instrument="BTC-PERPETUAL", bids=((64990.0, 0.0),), asks=())


def test_book_when_instrument_contains_dot_keeps_it_whole():
    ev = one('{"channel_name":"book.ETH-X-2500.5-C.5.10.100ms","notification":{"bid_changes":[],'
             '"ask_changes":[],"trades":[],"time":1}}')
    assert isinstance(ev, BookDeltaReceived)
    assert ev.instrument == "ETH-X-2500.5-C"


def test_lwt_example_when_decoded_gives_mark_bid_ask_last():
    ev = one('{"channel_name":"lwt.BTC-PERPETUAL.1000ms","notification":{"b":[64990,0.5,0.5],'
             '"a":[65010,0.2,0.2],"l":65000,"m":65001.3}}')
    assert ev == LightTickerUpdated(
        exchange_ts_ns=0, local_ts_ns=LOCAL, instrument="BTC-PERPETUAL", mark_price=65001.3,
        best_bid_price=64990.0, best_bid_amount=0.5, best_ask_price=65010.0,
        best_ask_amount=0.2, last_price=65000.0)


def test_lwt_when_sides_absent_gives_none():
    ev = one('{"channel_name":"lwt.BTC-PERPETUAL.raw","notification":{"m":10,"b":[]}}')
    assert isinstance(ev, LightTickerUpdated)
    assert (ev.best_bid_price, ev.best_ask_price, ev.last_price, ev.mark_price) == (None, None, None, 10)


def test_price_index_example_when_decoded_gives_index():
    ev = one('{"channel_name":"price_index.BTCUSD","notification":{"index_name":"BTCUSD",'
             '"price":64980.2,"timestamp":1716200000.4}}')
    assert ev == IndexUpdated(exchange_ts_ns=s_to_ns(1716200000.4), local_ts_ns=LOCAL,
                              index_name="BTCUSD", price=64980.2)


def test_recent_trades_example_when_decoded_gives_trades():
    ev = one('{"channel_name":"recent_trades.BTCUSD.all","notification":[[65000,0.1,"sell",'
             '1716200001.3,"BTC-PERPETUAL",false],[64999,0.2,"buy",1716200001.1,"BTC-PERPETUAL",true]]}')
    assert isinstance(ev, PublicTradesReceived)
    assert [(t.price, t.amount, t.aggressor) for t in ev.trades] == [
        (65000.0, 0.1, Side.SELL), (64999.0, 0.2, Side.BUY)]
    assert ev.exchange_ts_ns == s_to_ns(1716200001.3)  # the latest trade
    assert ev.snapshot is False


def test_instruments_doc_example_when_added_lacks_tick_fields_fails_naming_field():
    # The reference's example is abbreviated; the bot never invents a volume tick.
    ev = failed('{"channel_name":"instruments","snapshot":true,"notification":[{"added":'
                '{"instrument_name":"BTC-PERPETUAL","type":"perpetual","tick_size":1}}]}')
    assert "instruments[0].added.volume_tick_size: missing" in ev.reason


def test_instruments_when_full_objects_gives_added_and_removed():
    inst = ('{"instrument_name":"BTC-PERPETUAL","product":"FBTCUSD","tick_size":1,'
            '"volume_tick_size":0.001,"min_order_amount":0.001,"underlying":"BTCUSD",'
            '"type":"perpetual","base_currency":"USD","create_time":1700000000.0}')
    ev = one('{"channel_name":"instruments","snapshot":true,"notification":[{"added":' + inst +
             '},{"removed":{"instrument_name":"BTC-1JAN24"}}]}')
    assert isinstance(ev, InstrumentsUpdated)
    assert ev.snapshot is True
    (a,) = ev.added
    assert (a.name, a.product, a.tick_size, a.volume_tick_size, a.min_order_amount, a.underlying,
            a.type, a.create_time_ns) == ("BTC-PERPETUAL", "FBTCUSD", 1.0, 0.001, 0.001, "BTCUSD",
                                          "perpetual", 1_700_000_000_000_000_000)
    assert [r.name for r in ev.removed] == ["BTC-1JAN24"]


def test_instruments_when_filtered_channel_name_uses_same_parser():
    ev = one('{"channel_name":"instruments.futures.BTCUSD.all","notification":[{"removed":'
             '{"instrument_name":"BTC-1JAN24","tick_size":1}}]}')
    assert isinstance(ev, InstrumentsUpdated)
    assert [(r.name, r.tick_size) for r in ev.removed] == [("BTC-1JAN24", 1.0)]
    assert ev.added == ()


def test_system_reconnect_when_decoded_gives_reconnect_requested():
    assert isinstance(one('{"channel_name":"system","notification":{"event":"reconnect"}}'),
                      ReconnectRequested)
    assert "system.event" in failed('{"channel_name":"system","notification":{"event":"x"}}').reason


SESSION_ORDERS = (
    '{"channel_name":"session.orders","notification":[{"order_id":"1728379719872",'
    '"client_order_id":101,"instrument_name":"BTC-PERPETUAL","direction":"buy","order_type":"limit",'
    '"time_in_force":"good_till_cancelled","price":64900,"amount":0.2,"filled_amount":0.05,'
    '"remaining_amount":0.15,"status":"partially_filled","fills":[{"trade_id":"0080000000000000169F",'
    '"price":64900,"amount":0.05,"time":1716200002.1,"maker_taker":"maker","leg_index":0}],'
    '"change_reason":"fill","insert_reason":"client_request","label":"P","create_time":1716200001.2,'
    '"persistent":false}]}'
)


def test_session_orders_example_when_decoded_gives_order_report_with_fill():
    ev = one(SESSION_ORDERS)
    assert isinstance(ev, OrdersUpdated)
    assert (ev.scope, ev.snapshot) == ("session", False)
    (o,) = ev.orders
    assert (o.order_id, o.client_order_id, o.instrument, o.side, o.order_type, o.price) == (
        "1728379719872", 101, "BTC-PERPETUAL", Side.BUY, OrderType.LIMIT, 64900.0)
    assert (o.amount, o.filled_amount, o.remaining_amount) == (0.2, 0.05, 0.15)
    assert (o.status, o.change_reason, o.delete_reason, o.label) == (
        OrderStatus.PARTIALLY_FILLED, ChangeReason.FILL, None, "P")
    assert (o.persistent, o.reduce_only, o.close_ts_ns) == (False, False, None)
    assert o.create_ts_ns == s_to_ns(1716200001.2)
    (f,) = o.fills
    assert (f.trade_id, f.price, f.amount, f.maker_taker, f.ts_ns) == (
        "0080000000000000169F", 64900.0, 0.05, "maker", s_to_ns(1716200002.1))
    assert ev.exchange_ts_ns == f.ts_ns


def test_account_orders_when_cancelled_gives_account_scope_and_delete_reason():
    ev = one('{"channel_name":"account.orders","snapshot":true,"notification":[{"order_id":"A",'
             '"instrument_name":"X","direction":"sell","order_type":"limit","time_in_force":'
             '"good_till_cancelled","price":1,"amount":1,"filled_amount":0,"remaining_amount":0,'
             '"status":"cancelled","fills":[],"change_reason":"cancel","delete_reason":"session_end",'
             '"insert_reason":"client_request","create_time":1,"close_time":2.5,"persistent":true,'
             '"reduce_only":true,"label":7}]}')
    assert isinstance(ev, OrdersUpdated)
    (o,) = ev.orders
    assert (ev.scope, ev.snapshot, o.delete_reason, o.close_ts_ns, o.label, o.client_order_id) == (
        "account", True, DeleteReason.SESSION_END, 2_500_000_000, "7", None)
    assert (o.persistent, o.reduce_only, ev.exchange_ts_ns) == (True, True, 2_500_000_000)


def test_account_trade_history_example_when_decoded_gives_trade():
    ev = one('{"channel_name":"account.trade_history","notification":[{"trade_id":"0080000000000000169F",'
             '"order_id":"1728379719872","instrument_name":"BTC-PERPETUAL","direction":"buy",'
             '"price":64900,"amount":0.05,"label":"P","time":1716200002.1,"position_after":0.05,'
             '"trade_type":"normal","maker_taker":"maker","fee":0.16,"fee_rate":0.00005,'
             '"index":64890,"client_order_id":101}]}')
    assert isinstance(ev, AccountTradesReceived)
    (t,) = ev.trades
    assert (t.trade_id, t.order_id, t.side, t.price, t.amount, t.fee, t.fee_rate) == (
        "0080000000000000169F", "1728379719872", Side.BUY, 64900.0, 0.05, 0.16, 0.00005)
    assert (t.client_order_id, t.label, t.maker_taker, t.position_after, t.trade_type) == (
        101, "P", "maker", 0.05, "normal")
    assert t.ts_ns == ev.exchange_ts_ns == s_to_ns(1716200002.1)


_TRADE = ('{"trade_id":"t1","order_id":"o1","instrument_name":"BTC-PERPETUAL","direction":"sell",'
          '"price":64900,"amount":0.05,"time":1716200002.1,"trade_type":"normal","fee":0.16}')


@pytest.mark.parametrize("result", [f'{{"trades":[{_TRADE}],"bookmark":null}}', f"[{_TRADE}]"])
def test_trade_history_result_when_parsed_gives_its_trades(result):
    (t,) = parse_trade_history(orjson.loads(result))
    assert (t.trade_id, t.side, t.price, t.fee) == ("t1", Side.SELL, 64900.0, 0.16)


def test_trade_history_result_when_a_trade_is_malformed_names_it():
    with pytest.raises(ProtocolError, match=r"trades\[1\]"):
        parse_trade_history(orjson.loads(f'{{"trades":[{_TRADE},{{"trade_id":1}}]}}'))


def test_account_portfolio_example_when_decoded_gives_entry():
    ev = one('{"channel_name":"account.portfolio","notification":[{"instrument_name":"BTC-PERPETUAL",'
             '"position":0.05,"mark_price":64950,"start_price":64900,"average_price":64900,'
             '"unrealised_pnl":2.5,"realised_pnl":0,"entry_value":3245}]}')
    assert isinstance(ev, PortfolioUpdated)
    (e,) = ev.entries
    assert (e.instrument, e.position, e.mark_price, e.average_price, e.unrealised_pnl,
            e.realised_pnl, e.entry_value, e.unrealised_perpetual_funding) == (
        "BTC-PERPETUAL", 0.05, 64950.0, 64900.0, 2.5, 0.0, 3245.0, None)


def test_account_summary_when_decoded_gives_margins():
    ev = one('{"channel_name":"account.summary","notification":{"cash":[],"unrealised_pnl":1.5,'
             '"cash_collateral":1000,"margin":1001.5,"required_margin":100,"remaining_margin":901.5,'
             '"session_realised_pnl":-2}}')
    assert ev == AccountSummaryUpdated(local_ts_ns=LOCAL, unrealised_pnl=1.5, cash_collateral=1000.0,
                                       margin=1001.5, required_margin=100.0, remaining_margin=901.5,
                                       session_realised_pnl=-2.0)


def test_mm_protection_example_when_decoded_gives_items():
    ev = one('{"channel_name":"session.mm_protection","notification":[{"product":"FBTCUSD",'
             '"remaining_amount":0.8,"reason":"executions"}]}')
    assert isinstance(ev, MmProtectionUpdated)
    assert [(i.product, i.remaining_amount, i.reason) for i in ev.items] == [
        ("FBTCUSD", 0.8, "executions")]


@pytest.mark.parametrize(("frame", "rid", "result"), [
    ('{"id":5,"result":{"message_rate":50}}', 5, {"message_rate": 50}),
    ('{"id":4,"result":null}', 4, None),
    ('{"id":null,"result":["ticker.BTC-PERPETUAL.raw"]}', None, ["ticker.BTC-PERPETUAL.raw"]),
    ('{"id":7,"result":{"n_success":4,"n_fail":0,"errors":[]}}', 7,
     {"n_success": 4, "n_fail": 0, "errors": []}),
])
def test_response_when_result_present_gives_reply_received(frame, rid, result):
    assert one(frame) == ReplyReceived(local_ts_ns=LOCAL, request_id=rid, result=result)
    # not an order status: the core gets the answer without a report
    assert response_event(one(frame)) == ResponseReceived(local_ts_ns=LOCAL, request_id=rid, report=None)


def test_response_event_when_result_is_an_order_status_carries_its_report():
    frame = ('{"id":9,"result":{"order_id":"o1","client_order_id":3,"instrument_name":"BTC-PERPETUAL",'
             '"direction":"buy","order_type":"limit","time_in_force":"good_till_cancelled","price":100.0,'
             '"amount":0.1,"filled_amount":0,"remaining_amount":0.1,"status":"open","change_reason":"insert",'
             '"fills":[],"create_time":1.0}}')
    ev = response_event(one(frame))
    assert isinstance(ev, ResponseReceived) and ev.request_id == 9
    assert ev.report is not None and (ev.report.order_id, ev.report.client_order_id) == ("o1", 3)


def test_response_event_when_order_status_is_malformed_gives_decode_failed_naming_the_field():
    ev = response_event(one('{"id":9,"result":{"order_id":"o1","direction":"sideways"}}'))
    assert isinstance(ev, DecodeFailed) and ev.may_hide_private_state
    assert ev.reason.startswith("order response:")


def test_error_when_error_present_gives_error_received():
    assert one(b'{"id":101,"error":{"code":4,"message":"throttle exceeded"}}') == ErrorReceived(
        local_ts_ns=LOCAL, request_id=101, kind=ErrorKind.THROTTLE_EXCEEDED, code=4, message="throttle exceeded")


@pytest.mark.parametrize(("frame", "reason_part"), [
    ("{not json", "invalid JSON"),
    ("[1,2]", "expected a JSON object, got list"),
    ('"x"', "expected a JSON object, got str"),
    ("{}", "none of channel_name, result, error"),
    ('{"channel_name":"foo.bar","notification":{}}', "unknown channel 'foo.bar'"),
    ('{"channel_name":5,"notification":{}}', "channel_name: expected a string, got int"),
    ('{"channel_name":"system"}', "'notification' missing"),
    ('{"channel_name":"ticker.X.raw","notification":{"mark_price":1,"index":2}}',
     "ticker.mark_timestamp: missing"),
    ('{"channel_name":"ticker.X.raw","notification":{"mark_price":"1","mark_timestamp":1,"index":2}}',
     "ticker.mark_price: expected a number, got str"),
    ('{"channel_name":"ticker.X.raw","notification":{"mark_price":true,"mark_timestamp":1,"index":2}}',
     "ticker.mark_price: expected a number, got bool"),
    ('{"channel_name":"ticker.X","notification":{"mark_price":1,"mark_timestamp":1,"index":2}}',
     "expected ticker.<instrument>"),
    ('{"channel_name":"book.X.none.all.raw","notification":{"bid_changes":[[1]],"time":1}}',
     "book.bid_changes[0]: expected [price, amount, outright_amount], got 1 items"),
    ('{"channel_name":"book.X.none.all.raw","notification":{"trades":[[1,1,"up",1,false]],"time":1}}',
     "book.trades[0][2] (direction): got 'up'"),
    ('{"channel_name":"session.orders","notification":{}}', "session.orders: expected an array"),
    ('{"channel_name":"session.orders","notification":[{"order_id":"1"}]}',
     "session.orders[0].instrument_name: missing"),
    ('{"channel_name":"session.orders","notification":[{"order_id":"1","instrument_name":"X",'
     '"direction":"buy","order_type":"limit","time_in_force":"good_till_cancelled","amount":1,'
     '"filled_amount":0,"remaining_amount":1,"status":"weird","change_reason":"insert"}]}',
     "session.orders[0].status: got 'weird'"),
    ('{"id":"abc","result":1}', "id: expected an integer or null, got str"),
    ('{"id":1,"error":{"code":"4","message":"x"}}', "error.code: expected an integer, got str"),
    ('{"id":1,"error":"boom"}', "error: expected an object, got str"),
    ('{"channel_name":"price_index.BTCUSD","notification":{"price":1e999}}', "infinity"),
    ('{"channel_name":"instruments","notification":[{"changed":{}}]}', "expected {'added'"),
    ('{"channel_name":"book.X.none.all.raw","snapshot":"yes","notification":{}}',
     "snapshot: expected true/false, got str"),
])
def test_decode_when_frame_is_bad_gives_decode_failed_with_precise_reason(frame, reason_part):
    ev = failed(frame)
    assert reason_part in ev.reason
    assert ev.excerpt == frame[:EXCERPT_CHARS]


def test_decode_failed_excerpt_when_frame_is_long_is_truncated():
    frame = '{"channel_name":"nope","notification":"' + "x" * 1000 + '"}'
    assert failed(frame).excerpt == frame[:EXCERPT_CHARS]
    assert len(failed(frame.encode()).excerpt) == EXCERPT_CHARS


def test_decode_when_bytes_are_not_utf8_gives_decode_failed():
    ev = failed(b"\xff\xfe{\x00")
    assert "invalid JSON" in ev.reason
