"""MarketMakerCore: the wired pure core, driven by hand-built events (no I/O, no sleeps)."""

from __future__ import annotations

import pytest

from thalex_mm.config import BotConfig
from thalex_mm.config.models import AvellanedaConfig, OrderConfig, RiskConfig
from thalex_mm.core.commands import (
    AmendOrder,
    CancelMassQuote,
    CancelOrder,
    CancelSession,
    Halt,
    InsertOrder,
    MassQuote,
    Resynchronise,
    ResyncReason,
)
from thalex_mm.core.error_kinds import ErrorKind
from thalex_mm.core.events import (
    BookDeltaReceived,
    BookSnapshotReceived,
    Connected,
    DecodeFailed,
    Disconnected,
    ErrorReceived,
    InstrumentsUpdated,
    KillSwitchPressed,
    OrderFill,
    OrderReport,
    OrdersUpdated,
    ReconnectRequested,
    ResponseReceived,
    ShutdownRequested,
    TickerUpdated,
    TimerFired,
)
from thalex_mm.core.market_maker import MarketMakerCore
from thalex_mm.core.position import PositionDiscrepancy
from thalex_mm.core.types import (
    ChangeReason,
    Instrument,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)

T0 = 1_700_000_000_000_000_000
MS = 1_000_000
PERP = Instrument(
    name="BTC-PERPETUAL", product="FBTCUSD", tick_size=1.0, volume_tick_size=0.001,
    min_order_amount=0.001, underlying="BTCUSD",
)


def make_core(**avellaneda) -> MarketMakerCore:
    cfg = BotConfig(
        avellaneda=AvellanedaConfig(estimate_intensity=False, k=0.5, A=2.0, gamma=0.1, **avellaneda),
        order=OrderConfig(sizes=(0.01,)),
        risk=RiskConfig(position_soft_limit=0.05, position_hard_limit=0.1),
    )
    return MarketMakerCore(cfg)


def start(core: MarketMakerCore, mid: float = 65_000.0) -> tuple:
    core.handle(InstrumentsUpdated(local_ts_ns=T0, added=(PERP,), snapshot=True))
    core.handle(Connected(local_ts_ns=T0, cancel_on_disconnect=True))
    core.handle(TickerUpdated(local_ts_ns=T0 + 1, instrument=PERP.name, mark_price=mid, index_price=mid))
    return core.handle(
        BookSnapshotReceived(
            local_ts_ns=T0 + 2, instrument=PERP.name,
            bids=((mid - 5, 1.0), (mid - 10, 2.0)), asks=((mid + 5, 1.0), (mid + 10, 2.0)),
        )
    ).commands


def send(core: MarketMakerCore, cmds, first_id: int = 1) -> dict[int, object]:
    sent = {}
    for i, c in enumerate(cmds, start=first_id):
        core.on_sent(i, c)
        sent[i] = c
    return sent


def ack(core: MarketMakerCore, rid: int, cmd: InsertOrder, ts: int, *, filled: float = 0.0, fills=()):
    status = OrderStatus.FILLED if filled >= cmd.amount else OrderStatus.OPEN
    report = OrderReport(
        order_id=f"o{cmd.client_order_id}", client_order_id=cmd.client_order_id, instrument=PERP.name,
        side=cmd.side, order_type=OrderType.LIMIT, time_in_force=TimeInForce.GTC, price=cmd.price,
        amount=cmd.amount, filled_amount=filled, remaining_amount=cmd.amount - filled, status=status,
        change_reason=ChangeReason.INSERT, fills=fills,
    )
    return core.handle(ResponseReceived(local_ts_ns=ts, request_id=rid, report=report)).commands


def test_core_when_market_arrives_quotes_two_sided_around_fair_value():
    core = make_core()
    cmds = start(core)
    inserts = [c for c in cmds if isinstance(c, InsertOrder)]
    assert {c.side for c in inserts} == {Side.BUY, Side.SELL}
    bid = next(c for c in inserts if c.side is Side.BUY)
    ask = next(c for c in inserts if c.side is Side.SELL)
    assert bid.price < 65_000.0 < ask.price
    assert abs((65_000.0 - bid.price) - (ask.price - 65_000.0)) <= 1.0  # flat inventory: symmetric
    assert bid.post_only and ask.post_only and bid.label == "AS"


def test_core_status_reports_matching_engine_messages_spent_in_the_last_second():
    core = make_core()
    cmds = start(core)
    status = core.status()
    sent = sum(isinstance(c, InsertOrder) for c in cmds)
    assert sent == 2 and status.budget_used == sent
    assert status.budget_limit == core.budget.me_limit_per_window > sent
    send(core, cmds)
    for rid, c in enumerate(cmds, start=1):
        ack(core, rid, c, T0 + 3 * MS)
    later = core.handle(TimerFired(local_ts_ns=T0 + 2 * 1_000_000_000)).commands  # two quiet seconds later
    assert core.status().budget_used == len(later) == 0


def test_core_when_nothing_seen_does_not_quote():
    core = make_core()
    core.handle(InstrumentsUpdated(local_ts_ns=T0, added=(PERP,), snapshot=True))
    assert core.handle(Connected(local_ts_ns=T0, cancel_on_disconnect=True)).commands == ()
    assert core.handle(TimerFired(local_ts_ns=T0 + 10 * MS)).commands == ()


def test_core_when_bid_fills_inventory_skews_quotes_down():
    core = make_core()
    cmds = start(core)
    sent = send(core, cmds)
    bid_rid, bid = next((r, c) for r, c in sent.items() if c.side is Side.BUY)
    ask_rid, ask = next((r, c) for r, c in sent.items() if c.side is Side.SELL)
    before_mid = (bid.price + ask.price) / 2
    ack(core, ask_rid, ask, T0 + 3 * MS)
    fill = OrderFill(trade_id="t1", price=bid.price, amount=bid.amount, maker_taker="maker", ts_ns=T0 + 4 * MS)
    ack(core, bid_rid, bid, T0 + 4 * MS, filled=bid.amount, fills=(fill,))
    assert core.status().position == bid.amount
    after = core.handle(TimerFired(local_ts_ns=T0 + 500 * MS)).commands
    wanted = core.wanted
    centre = (wanted.bids[0].price + wanted.asks[0].price) / 2 if wanted.bids else wanted.asks[0].price
    assert centre < before_mid  # long inventory: reservation price below fair value
    assert any(isinstance(c, InsertOrder | AmendOrder) for c in after)


def test_core_when_requotes_arrive_in_a_burst_coalesces_to_min_interval():
    core = make_core()
    sent = send(core, start(core))
    for rid, c in sent.items():
        ack(core, rid, c, T0 + 3 * MS)
    burst = [
        core.handle(BookDeltaReceived(local_ts_ns=T0 + (10 + i) * MS, instrument=PERP.name, bids=((65_000.0 - 5 + i, 1.0),), asks=())).commands
        for i in range(3)
    ]
    # inside the 100 ms minimum requote interval only retreats go out (the bid rose: our ask
    # moves up, away from it); the bid's advance waits for the deadline
    asks = {c.client_order_id for c in sent.values() if c.side is Side.SELL}
    for cmds in burst:
        assert all(isinstance(c, AmendOrder) and c.client_order_id in asks for c in cmds)
    assert core.next_deadline_ns() == T0 + 2 + 100 * MS


def test_core_when_kill_switch_pressed_cancels_session_and_halts():
    core = make_core()
    send(core, start(core))
    cmds = core.handle(KillSwitchPressed(local_ts_ns=T0 + 5 * MS)).commands
    assert isinstance(cmds[0], CancelSession)
    assert any(isinstance(c, Halt) and c.reason == "kill_switch" for c in cmds)
    assert core.status().trading_state == "halted"
    later = core.handle(TimerFired(local_ts_ns=T0 + 900 * MS)).commands
    assert not any(isinstance(c, InsertOrder) for c in later)


def test_core_when_shutdown_requested_cancels_and_stops_quoting():
    core = make_core()
    send(core, start(core))
    assert core.handle(ShutdownRequested(local_ts_ns=T0 + 5 * MS)).commands == (CancelSession(),)
    assert core.handle(TimerFired(local_ts_ns=T0 + 900 * MS)).commands == ()


def test_core_when_disconnected_stops_and_resumes_after_reconnect():
    core = make_core()
    send(core, start(core))
    assert core.handle(Disconnected(local_ts_ns=T0 + 5 * MS)).commands == ()
    assert core.handle(TimerFired(local_ts_ns=T0 + 900 * MS)).commands == ()
    core.handle(OrdersUpdated(local_ts_ns=T0 + 950 * MS, orders=(), snapshot=True, scope="account"))
    # the book from before the disconnect is gone: no quote until a fresh snapshot arrives
    assert core.handle(Connected(local_ts_ns=T0 + 1000 * MS, cancel_on_disconnect=True)).commands == ()
    assert core.status().best_bid is None
    cmds = core.handle(BookSnapshotReceived(local_ts_ns=T0 + 1100 * MS, instrument=PERP.name,
                                            bids=((64_990.0, 1.0),), asks=((65_010.0, 1.0),))).commands
    assert {c.side for c in cmds if isinstance(c, InsertOrder)} == {Side.BUY, Side.SELL}
    assert not any(isinstance(c, CancelOrder) for c in cmds)


def _run_log() -> list[str]:
    core = make_core()
    log: list[str] = []
    rid = 0
    events = [
        TickerUpdated(local_ts_ns=T0 + i * 37 * MS, instrument=PERP.name, mark_price=65_000.0 + (i % 7), index_price=65_000.0)
        if i % 3 == 0
        else BookSnapshotReceived(
            local_ts_ns=T0 + i * 37 * MS, instrument=PERP.name,
            bids=((64_995.0 + 4 * (i % 7), 1.0),), asks=((65_005.0 + 4 * (i % 7), 1.0),),
        )
        for i in range(200)
    ]
    pending: list[tuple[int, object]] = []

    def emit(cmds, ts):
        nonlocal rid
        for c in cmds:
            rid += 1
            core.on_sent(rid, c)
            log.append(repr(c))
            pending.append((rid, c))
        while pending:  # the venue answers every request 1 ms later
            r, c = pending.pop(0)
            if isinstance(c, InsertOrder):
                emit(ack(core, r, c, ts + MS), ts + MS)
            else:
                emit(core.handle(ResponseReceived(local_ts_ns=ts + MS, request_id=r, report=None)).commands, ts + MS)

    emit(start(core), T0 + 2)
    for e in events:
        emit(core.handle(e).commands, e.local_ts_ns)
    return log


def test_core_when_same_event_log_replayed_twice_commands_match_byte_for_byte():
    a, b = _run_log(), _run_log()
    assert a == b and len(a) > 2


def test_core_when_halted_in_mass_quote_mode_pulls_the_mass_quotes_once():
    cfg = BotConfig(
        avellaneda=AvellanedaConfig(estimate_intensity=False, k=0.5, A=2.0, gamma=0.1),
        order=OrderConfig(sizes=(0.01,), use_mass_quote=True),
        risk=RiskConfig(position_soft_limit=0.05, position_hard_limit=0.1),
    )
    core = MarketMakerCore(cfg)
    (arm,) = start(core)
    send(core, (arm,))
    quotes = core.handle(ResponseReceived(local_ts_ns=T0 + 3 * MS, request_id=1, report=None)).commands
    if not quotes:
        quotes = core.handle(TimerFired(local_ts_ns=T0 + 200 * MS)).commands
    assert [type(c).__name__ for c in quotes] == ["MassQuote"]
    send(core, quotes, first_id=2)
    # the mark runs 1.5 % away from the mid: risk halts, and the resting quotes must go
    halted = core.handle(TickerUpdated(local_ts_ns=T0 + 500 * MS, instrument=PERP.name,
                                       mark_price=66_000.0, index_price=66_000.0)).commands
    assert core.status().trading_state == "halted"
    assert CancelMassQuote() in halted
    send(core, halted, first_id=3)
    later = core.handle(TimerFired(local_ts_ns=T0 + 1500 * MS)).commands
    assert not any(isinstance(c, CancelMassQuote | MassQuote) for c in later)


def test_core_when_venue_refuses_a_bid_holds_the_bid_side_with_backoff_not_blind_retry():
    """Error 24 (insufficient margin) on our bid: the same bid must not be re-sent at every
    step. The bid side waits the initial backoff (0.5 s by default), then is tried again; a
    second refusal in a row doubles the wait. The ask side keeps quoting throughout."""
    core = make_core()
    sent = send(core, start(core))
    t = T0 + 3 * MS
    bid_sends: list[int] = []
    for rid, c in sent.items():
        if isinstance(c, InsertOrder) and c.side is Side.BUY:
            core.handle(ErrorReceived(local_ts_ns=t, request_id=rid, kind=ErrorKind.INSUFFICIENT_MARGIN, code=24, message="insufficient margin"))
        else:
            ack(core, rid, c, t)
    next_id = 100
    for step in range(1, 30):  # 2.9 s of 100 ms steps
        now = t + step * 100 * MS
        out = core.handle(TimerFired(local_ts_ns=now)).commands
        sent = send(core, out, first_id=next_id)
        next_id += len(out) + 1
        for rid, c in sent.items():
            if isinstance(c, InsertOrder) and c.side is Side.BUY:
                bid_sends.append(step)
                core.handle(ErrorReceived(local_ts_ns=now + MS, request_id=rid, kind=ErrorKind.INSUFFICIENT_MARGIN, code=24, message="insufficient margin"))
    # refused at 0 -> held 0.5 s -> retried at step 5, refused 1 ms later -> held 1 s -> step 16
    # -> held 2 s -> beyond step 29
    assert bid_sends == [5, 16], bid_sends
    assert core.status().our_ask is not None


def test_core_when_book_freezes_while_ticker_ticks_pulls_quotes_as_stale():
    core = make_core()
    sent = send(core, start(core))
    for rid, c in sent.items():
        ack(core, rid, c, T0 + 3 * MS)
    second = 1_000_000_000
    pulled = []
    for s in range(1, 9):  # the ticker keeps coming every second; the book never changes again
        out = core.handle(TickerUpdated(local_ts_ns=T0 + s * second, instrument=PERP.name,
                                        mark_price=65_000.0 + s, index_price=65_000.0 + s)).commands
        pulled += [c for c in out if isinstance(c, CancelOrder | CancelSession)]
        send(core, out, first_id=1000 + 10 * s)
    assert core.status().trading_state != "active" and "stale" in core.status().state_reason
    assert pulled, "quotes were left resting on a frozen book"
    assert core.stale_for_s(T0 + 8 * second) >= 7.9  # the driver's reconnect check sees it too


def test_core_in_mass_quote_mode_fair_value_ignores_our_own_resting_quotes():
    cfg = BotConfig(
        avellaneda=AvellanedaConfig(estimate_intensity=False, k=0.5, A=2.0, gamma=0.1),
        order=OrderConfig(sizes=(0.01,), use_mass_quote=True),
        risk=RiskConfig(position_soft_limit=0.05, position_hard_limit=0.1),
    )
    core = MarketMakerCore(cfg)
    send(core, start(core))
    quotes = core.handle(ResponseReceived(local_ts_ns=T0 + 3 * MS, request_id=1, report=None)).commands
    if not quotes:
        quotes = core.handle(TimerFired(local_ts_ns=T0 + 200 * MS)).commands
    (mq,) = quotes
    send(core, quotes, first_id=2)
    fair_before = core.status().fair_value
    (our_bid, size), = mq.quotes[0].bids[:1]
    assert 64_995.0 < our_bid < 65_005.0  # inside the public spread: it becomes the best bid
    # the feed shows our bid (and not yet our ask): the public mid jumps, the market's does not
    core.handle(BookDeltaReceived(local_ts_ns=T0 + 300 * MS, instrument=PERP.name,
                                  bids=((our_bid, size),), asks=()))
    core.handle(TimerFired(local_ts_ns=T0 + 600 * MS))
    assert core.market.book.best_bid == our_bid
    assert core.status().fair_value == pytest.approx(fair_before, abs=1e-6)


def test_core_when_book_gets_an_invalid_level_pulls_quotes_until_a_fresh_snapshot():
    core = make_core()
    sent = send(core, start(core))
    for rid, c in sent.items():
        ack(core, rid, c, T0 + 3 * MS)
    core.handle(BookDeltaReceived(local_ts_ns=T0 + 200 * MS, instrument=PERP.name,
                                  bids=((float("nan"), 1.0),), asks=()))
    out = core.handle(TimerFired(local_ts_ns=T0 + 400 * MS)).commands
    assert sorted(type(c).__name__ for c in out) == ["CancelOrder", "CancelOrder"]
    for rid in send(core, out, first_id=50):
        core.handle(ResponseReceived(local_ts_ns=T0 + 450 * MS, request_id=rid, report=None))
    again = core.handle(BookSnapshotReceived(local_ts_ns=T0 + 600 * MS, instrument=PERP.name,
                                             bids=((64_995.0, 1.0),), asks=((65_005.0, 1.0),))).commands
    assert any(isinstance(c, InsertOrder) for c in again)


def test_core_when_snapshot_repeats_trades_feeds_intensity_only_the_new_ones():
    from thalex_mm.core.events import PublicTrade

    cfg = BotConfig(avellaneda=AvellanedaConfig(estimate_intensity=True), order=OrderConfig(sizes=(0.01,)))
    core = MarketMakerCore(cfg)
    start(core)

    def trade(i: int) -> PublicTrade:
        return PublicTrade(instrument=PERP.name, price=65_006.0, amount=0.1, aggressor=Side.BUY, ts_ns=T0 + i * MS)

    core.handle(BookDeltaReceived(local_ts_ns=T0 + 10 * MS, instrument=PERP.name, bids=(), asks=(),
                                  trades=(trade(1), trade(2))))
    assert len(core.intensity._orders) == 2
    core.handle(BookSnapshotReceived(local_ts_ns=T0 + 20 * MS, instrument=PERP.name,
                                     bids=((64_995.0, 1.0),), asks=((65_005.0, 1.0),),
                                     trades=(trade(1), trade(2), trade(3))))
    assert len(core.intensity._orders) == 3  # trade 3 only: 1 and 2 were counted already


def test_core_microprice_fair_value_ignores_our_own_size_at_the_touch():
    cfg = BotConfig(
        avellaneda=AvellanedaConfig(estimate_intensity=False, k=0.5, A=2.0, gamma=0.1, unit_size=0.5),
        order=OrderConfig(sizes=(0.5,)),
        risk=RiskConfig(position_soft_limit=1.0, position_hard_limit=2.0, max_order_size=1.0),
        quoting={"fair_value": "microprice"},
    )
    core = MarketMakerCore(cfg)
    # the market: 1.0 bid at 64,995 and 1.0 ask at 65,005 -> microprice 65,000
    sent = send(core, start(core))
    for rid, c in sent.items():
        ack(core, rid, c, T0 + 3 * MS)
    fair = core.status().fair_value
    bid = next(c for c in sent.values() if isinstance(c, InsertOrder) and c.side is Side.BUY)
    assert 64_995.0 < bid.price < 65_000.0
    # our bid shows on the feed as the new best bid: the public microprice moves, the
    # market's (without our size) does not
    core.handle(BookDeltaReceived(local_ts_ns=T0 + 300 * MS, instrument=PERP.name,
                                  bids=((bid.price, bid.amount),), asks=()))
    core.handle(TimerFired(local_ts_ns=T0 + 600 * MS))
    assert core.market.book.microprice != pytest.approx(fair)
    assert core.status().fair_value == pytest.approx(fair, abs=1e-6)


def test_core_when_portfolio_line_predates_a_fresh_fill_does_not_roll_the_position_back():
    from thalex_mm.core.events import PortfolioEntry, PortfolioUpdated

    core = make_core()
    sent = send(core, start(core))
    bid_rid, bid = next((r, c) for r, c in sent.items() if isinstance(c, InsertOrder) and c.side is Side.BUY)
    fill = OrderFill(trade_id="t1", price=bid.price, amount=bid.amount, maker_taker="maker", ts_ns=T0 + 4 * MS)
    ack(core, bid_rid, bid, T0 + 4 * MS, filled=bid.amount, fills=(fill,))
    assert core.status().position == bid.amount
    stale = PortfolioEntry(instrument=PERP.name, position=0.0)
    notices = core.handle(PortfolioUpdated(local_ts_ns=T0 + 100 * MS, entries=(stale,))).notices
    assert core.status().position == bid.amount  # held: it may predate the fill
    fresh = PortfolioEntry(instrument=PERP.name, position=bid.amount, average_price=bid.price)
    notices += core.handle(PortfolioUpdated(local_ts_ns=T0 + 200 * MS, entries=(fresh,))).notices
    notices += core.handle(TimerFired(local_ts_ns=T0 + 2_000 * MS)).notices
    assert core.status().position == bid.amount
    assert not [r for r in notices if isinstance(r, PositionDiscrepancy)]
    # a disagreeing line with no fill around it is the exchange's word: adopted at once
    core.handle(PortfolioUpdated(local_ts_ns=T0 + 5_000 * MS, entries=(stale,)))
    assert core.status().position == 0.0


def test_core_when_held_portfolio_line_is_not_superseded_adopts_it_after_the_grace():
    from thalex_mm.core.events import PortfolioEntry, PortfolioUpdated

    core = make_core()
    sent = send(core, start(core))
    bid_rid, bid = next((r, c) for r, c in sent.items() if isinstance(c, InsertOrder) and c.side is Side.BUY)
    fill = OrderFill(trade_id="t1", price=bid.price, amount=bid.amount, maker_taker="maker", ts_ns=T0 + 4 * MS)
    ack(core, bid_rid, bid, T0 + 4 * MS, filled=bid.amount, fills=(fill,))
    core.handle(PortfolioUpdated(local_ts_ns=T0 + 100 * MS, entries=(PortfolioEntry(instrument=PERP.name, position=0.0),)))
    assert core.status().position == bid.amount
    assert core.next_deadline_ns() <= T0 + 1_100 * MS
    notices = core.handle(TimerFired(local_ts_ns=T0 + 1_200 * MS)).notices
    assert core.status().position == 0.0  # the exchange's word stands
    assert [r for r in notices if isinstance(r, PositionDiscrepancy)]


# ------------------------------------------------------------------ resynchronising

S = 1_000_000_000


def _resyncs(step) -> list[Resynchronise]:
    return [c for c in step.commands if isinstance(c, Resynchronise)]


def test_core_when_feeds_stay_silent_past_the_limit_resynchronises_once_per_connection():
    core = make_core()
    start(core)
    assert _resyncs(core.handle(TimerFired(local_ts_ns=T0 + 10 * S))) == []
    (cmd,) = _resyncs(core.handle(TimerFired(local_ts_ns=T0 + 16 * S)))
    assert cmd.reason is ResyncReason.STALE_DATA
    assert _resyncs(core.handle(TimerFired(local_ts_ns=T0 + 17 * S))) == []  # already on its way
    core.handle(Disconnected(local_ts_ns=T0 + 18 * S))
    core.handle(Connected(local_ts_ns=T0 + 19 * S, cancel_on_disconnect=True))
    assert _resyncs(core.handle(TimerFired(local_ts_ns=T0 + 20 * S))) == []  # snapshots on the way
    (again,) = _resyncs(core.handle(TimerFired(local_ts_ns=T0 + 35 * S)))
    assert again.reason is ResyncReason.STALE_DATA


def test_core_when_timer_fires_right_after_connecting_before_any_data_does_not_resynchronise():
    core = make_core()
    core.handle(Connected(local_ts_ns=T0, cancel_on_disconnect=True))
    assert _resyncs(core.handle(TimerFired(local_ts_ns=T0 + S))) == []


def test_core_when_book_stays_crossed_past_the_limit_resynchronises_for_the_crossed_book():
    core = make_core()
    start(core)
    core.handle(BookDeltaReceived(local_ts_ns=T0 + S, instrument=PERP.name, bids=((65_010.0, 1.0),), asks=()))
    steps = []
    for s in range(2, 18):  # data keeps flowing (not stale), the cross stays
        core.handle(TickerUpdated(local_ts_ns=T0 + s * S, instrument=PERP.name, mark_price=65_000.0,
                                  index_price=65_000.0))
        core.handle(BookDeltaReceived(local_ts_ns=T0 + s * S, instrument=PERP.name, bids=((65_010.0, 1.0),), asks=()))
        steps.append(core.handle(TimerFired(local_ts_ns=T0 + s * S + 1)))
    found = [c for st in steps for c in _resyncs(st)]
    assert [c.reason for c in found] == [ResyncReason.BOOK_CROSSED]


def test_core_when_error_escalates_resynchronises_and_an_order_error_does_not():
    core = make_core()
    start(core)
    order_error = ErrorReceived(local_ts_ns=T0 + S, request_id=None, kind=ErrorKind.INSUFFICIENT_MARGIN,
                                code=24, message="insufficient margin")
    assert _resyncs(core.handle(order_error)) == []
    session_error = ErrorReceived(local_ts_ns=T0 + S, request_id=None, kind=ErrorKind.SESSION_EXHAUSTED,
                                  code=11, message="session exhausted")
    (cmd,) = _resyncs(core.handle(session_error))
    assert cmd.reason is ResyncReason.SESSION_ERROR and cmd.detail.startswith("11")


def test_core_when_a_frame_that_may_be_private_is_lost_resynchronises_and_a_public_one_not():
    core = make_core()
    start(core)
    public = DecodeFailed(local_ts_ns=T0 + S, excerpt='{"channel_name":"ticker.X"', reason="bad",
                          may_hide_private_state=False)
    assert _resyncs(core.handle(public)) == []
    private = DecodeFailed(local_ts_ns=T0 + S, excerpt='{"id":5,"result":', reason="invalid JSON")
    (cmd,) = _resyncs(core.handle(private))
    assert cmd.reason is ResyncReason.LOST_FRAME


def test_core_when_exchange_announces_a_reconnect_resynchronises():
    core = make_core()
    start(core)
    (cmd,) = _resyncs(core.handle(ReconnectRequested(local_ts_ns=T0 + S)))
    assert cmd.reason is ResyncReason.EXCHANGE_RECONNECT


def test_core_when_clean_stop_disconnects_records_no_risk_event():
    from thalex_mm.core.reasons import TradingStateChanged

    core = make_core()
    send(core, start(core))
    notices = [*core.handle(ShutdownRequested(local_ts_ns=T0 + 5 * MS)).notices,
               *core.handle(Disconnected(local_ts_ns=T0 + 6 * MS)).notices]
    assert [n for n in notices if isinstance(n, TradingStateChanged)] == []


def test_core_when_connection_drops_mid_run_records_the_halt():
    from thalex_mm.core.reasons import Reason, TradingStateChanged

    core = make_core()
    send(core, start(core))
    notices = core.handle(Disconnected(local_ts_ns=T0 + 6 * MS)).notices
    assert [n.reason for n in notices if isinstance(n, TradingStateChanged)] == [Reason.DISCONNECTED]


def test_core_when_cancel_of_a_filled_order_is_not_found_counts_no_reject():
    core = make_core()
    sent = send(core, start(core))
    core.handle(ShutdownRequested(local_ts_ns=T0 + 5 * MS))  # plans cancels, nothing else
    rid = next(iter(sent))
    cancel = CancelOrder(client_order_id=sent[rid].client_order_id)
    core.on_sent(99, cancel)
    core.handle(ErrorReceived(local_ts_ns=T0 + 7 * MS, request_id=99, kind=ErrorKind.ORDER_NOT_FOUND,
                              code=1, message=f"client_order_id {cancel.client_order_id} not found"))
    assert core.status().rejects == 0
    core.handle(ErrorReceived(local_ts_ns=T0 + 8 * MS, request_id=rid, kind=ErrorKind.INVALID_PRICE,
                              code=13, message="bad price"))
    assert core.status().rejects == 1
