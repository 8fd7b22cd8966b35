"""RiskManager: one test per limit (state + reason), the gate property, check_command, kill switch."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thalex_mm.config.models import KillSwitchAction, RiskConfig
from thalex_mm.core.commands import (
    AmendOrder,
    CancelAll,
    CancelOrder,
    CancelSession,
    Halt,
    InsertOrder,
    InstrumentQuote,
    MassQuote,
)
from thalex_mm.core.position import PositionSnapshot, RoundTrip
from thalex_mm.core.reasons import (
    TRADING_TRANSITIONS,
    Reason,
    TradingState,
    TradingTrigger,
    next_trading_state,
)
from thalex_mm.core.risk import MarketSnapshot, RiskManager
from thalex_mm.core.types import Instrument, QuoteLevel, Side, TimeInForce, WantedQuotes
from thalex_mm.errors import InvalidTransition

S = 1_000_000_000
T0 = 1_700_000_000 * S  # 2023-11-14 22:13:20 UTC
MARK = 50_000.0
INSTR = Instrument(
    name="BTC-PERPETUAL",
    product="FBTCUSD",
    tick_size=1.0,
    volume_tick_size=0.001,
    min_order_amount=0.001,
    underlying="BTCUSD",
)
A, R, H = TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED


def mkt(now=T0, mark=MARK, bid=MARK - 5, ask=MARK + 5, index=None, age_s=0.0) -> MarketSnapshot:
    return MarketSnapshot(
        mark_price=mark,
        index_price=index,
        best_bid=bid,
        best_ask=ask,
        last_data_ts_ns=now - int(age_s * S),
    )


def pos(position=0.0, pnl=0.0, mark=MARK) -> PositionSnapshot:
    return PositionSnapshot(
        instrument=INSTR.name,
        position=position,
        average_entry_price=mark,
        mark_price=mark,
        realised_pnl_usd=pnl,
        unrealised_pnl_usd=0.0,
        fees_usd=0.0,
        funding_usd=0.0,
    )


BTC_LIMITS = {"position_soft_limit": 0.05, "position_hard_limit": 0.1, "max_order_size": 0.1}


def rm(**kw) -> RiskManager:
    """A manager whose run started flat at PnL 0 (the first evaluation sets the baselines)."""
    r = RiskManager(RiskConfig(**(BTC_LIMITS | kw)), label="AS")
    r.evaluate(mkt(now=T0 - S), pos(), T0 - S)
    return r


def step(r: RiskManager, now=T0, position=0.0, pnl=0.0, **m):
    return r.evaluate(mkt(now=now, **m), pos(position, pnl), now)


def wanted(bids=(), asks=()) -> WantedQuotes:
    return WantedQuotes(
        instrument=INSTR.name,
        bids=tuple(
            QuoteLevel(side=Side.BUY, level=i, price=p, amount=a) for i, (p, a) in enumerate(bids)
        ),
        asks=tuple(
            QuoteLevel(side=Side.SELL, level=i, price=p, amount=a) for i, (p, a) in enumerate(asks)
        ),
    )


def both(amount=0.01):
    return wanted([(MARK - 10, amount)], [(MARK + 10, amount)])


# ---------------------------------------------------------------- table


@pytest.mark.parametrize(("key", "target"), list(TRADING_TRANSITIONS.items()))
def test_trading_transition_when_in_table_moves_to_target(key, target):
    assert next_trading_state(*key) is target


@pytest.mark.parametrize(
    "key",
    [(s, t) for s in TradingState for t in TradingTrigger if (s, t) not in TRADING_TRANSITIONS],
)
def test_trading_transition_when_not_in_table_raises(key):
    with pytest.raises(InvalidTransition):
        next_trading_state(*key)


def test_trading_table_when_listed_has_expected_size_and_no_active_recover():
    assert len(TRADING_TRANSITIONS) == 11
    assert (A, TradingTrigger.RECOVER) not in TRADING_TRANSITIONS


# ---------------------------------------------------------------- limits, one by one


def test_risk_when_fresh_market_and_flat_stays_active_without_event():
    r = rm()
    assert step(r) == ()
    assert (r.state, r.reason) == (A, Reason.RESUMED)


def test_soft_limit_when_long_removes_bids_but_stays_active():
    r = rm(position_soft_limit=0.05)
    allowed, denials, changes = r.gate(both(), mkt(), pos(0.06), T0)
    assert changes == () and r.state is A
    assert allowed.bids == () and len(allowed.asks) == 1
    assert [(d.reason, d.side) for d in denials] == [(Reason.POSITION_SOFT_LIMIT, Side.BUY)]
    assert r.allowed_sides(-0.06) == (True, False)


def test_hard_limit_when_reached_goes_reducing_and_recovers_below_soft():
    r = rm(position_soft_limit=0.05, position_hard_limit=0.1)
    (ch,) = step(r, position=0.1)
    assert (ch.previous, ch.state, ch.reason) == (A, R, Reason.POSITION_HARD_LIMIT)
    assert ch.local_ts_ns == T0
    allowed, denials, _ = r.gate(
        wanted([(MARK - 10, 0.01)], [(MARK + 10, 0.06), (MARK + 20, 0.06)]), mkt(), pos(0.1), T0
    )
    assert allowed.bids == ()
    assert [lv.amount for lv in allowed.asks] == pytest.approx(
        [0.06, 0.04]
    )  # capped at |position| in total
    assert {d.reason for d in denials} == {Reason.POSITION_HARD_LIMIT, Reason.REDUCE_ONLY}
    assert step(r, position=0.07) == ()  # hysteresis: still above the soft limit
    (ch,) = step(r, position=0.05)
    assert (ch.state, ch.reason) == (A, Reason.RESUMED)


def test_max_notional_when_exceeded_goes_reducing():
    r = rm(max_notional_usd=4_000.0, position_hard_limit=0.2, position_soft_limit=0.1)
    (ch,) = step(r, position=0.09, mark=50_000.0)  # 4500 USD
    assert (ch.state, ch.reason) == (R, Reason.MAX_NOTIONAL)


def test_max_notional_when_flat_cuts_bid_size_to_notional_room():
    r = rm(max_notional_usd=2_000.0, position_hard_limit=0.2, position_soft_limit=0.1)
    allowed, denials, _ = r.gate(wanted([(MARK - 10, 0.05)]), mkt(), pos(0.0), T0, instrument=INSTR)
    assert allowed.bids[0].amount == pytest.approx(0.04)  # 2000 / 49990 = 0.04000..., down to tick
    assert (
        denials[0].reason is Reason.MAX_NOTIONAL
        and denials[0].allowed_amount == allowed.bids[0].amount
    )


def test_max_order_size_when_level_too_big_is_cut_and_command_denied():
    r = rm(max_order_size=0.1)
    allowed, denials, _ = r.gate(wanted([(MARK - 10, 0.5)]), mkt(), pos(0.0), T0)
    assert allowed.bids[0].amount == 0.1
    assert (denials[0].reason, denials[0].allowed_amount) == (Reason.MAX_ORDER_SIZE, 0.1)
    big = InsertOrder(
        client_order_id=1, instrument=INSTR.name, side=Side.BUY, amount=0.2, price=MARK
    )
    assert r.check_command(big, T0).reason is Reason.MAX_ORDER_SIZE
    assert (
        r.check_command(AmendOrder(client_order_id=1, price=MARK, amount=0.2), T0).reason
        is Reason.MAX_ORDER_SIZE
    )


def test_drawdown_when_equity_falls_from_peak_halts_sticky_until_reset():
    r = rm(max_drawdown_usd=500.0, session_loss_limit_usd=10_000.0, daily_loss_limit_usd=10_000.0)
    step(r, pnl=300.0)
    assert step(r, pnl=-199.0) == ()
    (ch,) = step(r, pnl=-200.0)
    assert (ch.state, ch.reason) == (H, Reason.DRAWDOWN)
    assert step(r, pnl=300.0) == ()  # sticky
    (ch,) = r.reset(T0 + S)
    assert (ch.state, ch.reason) == (A, Reason.MANUAL)


def test_session_loss_when_reached_halts():
    r = rm(session_loss_limit_usd=300.0, max_drawdown_usd=1_000.0)
    assert step(r, pnl=-299.0) == ()
    (ch,) = step(r, pnl=-300.0)
    assert (ch.state, ch.reason) == (H, Reason.SESSION_LOSS)


def test_daily_loss_when_new_utc_day_starts_measures_from_new_baseline():
    r = rm(
        daily_loss_limit_usd=1_000.0, session_loss_limit_usd=100_000.0, max_drawdown_usd=100_000.0
    )
    day = 86_400 * S
    midnight = (T0 // day + 1) * day
    assert step(r, now=midnight - S, pnl=-900.0) == ()
    assert step(r, now=midnight, pnl=-1_800.0) == ()  # today's loss is only 900
    (ch,) = step(r, now=midnight + S, pnl=-2_800.0)
    assert (ch.state, ch.reason) == (H, Reason.DAILY_LOSS)


def test_trailing_stop_when_pnl_drops_from_peak_profit_halts():
    r = rm(trailing_stop_usd=50.0, max_drawdown_usd=500.0)
    assert step(r, pnl=-60.0) == ()  # no peak profit yet: trailing stop inactive
    step(r, pnl=200.0)
    assert step(r, pnl=151.0) == ()
    (ch,) = step(r, pnl=150.0)
    assert (ch.state, ch.reason) == (H, Reason.TRAILING_STOP)


def test_consecutive_losses_when_limit_reached_pauses_then_resumes_after_cooldown():
    r = rm(max_consecutive_losses=3, pause_cooldown_s=30.0, stale_data_timeout_s=100.0)
    step(r)

    def trip(p, t):
        return r.on_round_trip(RoundTrip(pnl_usd=p, opened_ts_ns=t - S, closed_ts_ns=t))

    assert trip(-1, T0) == () and trip(-1, T0) == ()
    assert trip(+1, T0) == ()  # a win resets the count
    trip(-1, T0)
    trip(-1, T0)
    (ch,) = trip(-1, T0 + S)
    assert (ch.state, ch.reason) == (H, Reason.CONSECUTIVE_LOSSES)
    assert r.next_deadline_ns() == T0 + 31 * S
    assert step(r, now=T0 + 30 * S) == ()
    (ch,) = step(r, now=T0 + 31 * S)
    assert (ch.state, ch.reason) == (A, Reason.RESUMED)


def test_price_band_when_quote_far_from_mark_or_index_is_denied():
    r = rm(price_band_bps=100.0)
    w = wanted([(MARK * 0.988, 0.01), (MARK * 0.995, 0.01)], [(MARK * 1.005, 0.01)])
    allowed, denials, _ = r.gate(w, mkt(), pos(), T0)
    assert [lv.price for lv in allowed.bids] == [MARK * 0.995]
    assert [(d.reason, d.price) for d in denials] == [(Reason.PRICE_BAND, MARK * 0.988)]
    allowed, denials, _ = r.gate(w, mkt(index=MARK * 1.01), pos(), T0)  # index 1% higher
    assert allowed.bids == () and len(allowed.asks) == 1


def test_book_crossed_when_bid_above_ask_halts_and_resumes_when_uncrossed():
    r = rm()
    (ch,) = step(r, bid=MARK + 1, ask=MARK)
    assert (ch.state, ch.reason) == (H, Reason.BOOK_CROSSED)
    allowed, denials, _ = r.gate(both(), mkt(bid=MARK + 1, ask=MARK), pos(), T0)
    assert allowed.bids == allowed.asks == () and {d.reason for d in denials} == {
        Reason.BOOK_CROSSED
    }
    (ch,) = step(r)
    assert ch.state is A


def test_mark_mid_divergence_when_beyond_limit_halts():
    r = rm(mark_mid_divergence_bps=50.0)
    assert step(r, mark=MARK * 1.0049) == ()
    (ch,) = step(r, mark=MARK * 1.006)
    assert (ch.state, ch.reason) == (H, Reason.MARK_MID_DIVERGENCE)


def test_stale_data_when_no_update_for_timeout_halts_and_resumes_when_fresh():
    r = rm(stale_data_timeout_s=5.0)
    assert step(r, age_s=4.9) == ()
    assert r.next_deadline_ns() == T0 - int(4.9 * S) + 5 * S
    (ch,) = step(r, age_s=5.0)
    assert (ch.state, ch.reason) == (H, Reason.STALE_DATA)
    (ch,) = step(r, now=T0 + S)
    assert ch.state is A
    r2 = rm()
    (ch,) = r2.evaluate(MarketSnapshot(mark_price=MARK), pos(), T0)  # never any data
    assert ch.reason is Reason.STALE_DATA


def test_fill_rate_when_spike_pauses_for_cooldown():
    r = rm(fill_rate_max_fills=5, fill_rate_window_s=10.0, pause_cooldown_s=30.0)
    step(r)
    for i in range(4):
        assert r.on_fill(T0 + i * S) == ()
    assert r.on_fill(T0 + 20 * S) == ()  # the old ones left the window
    changes = ()
    for i in range(4):
        changes += r.on_fill(T0 + 21 * S + i)
    (ch,) = changes
    assert (ch.state, ch.reason) == (H, Reason.FILL_RATE)
    assert step(r, now=T0 + 51 * S) == ()  # pause ends 30 s after the last fill
    (ch,) = step(r, now=T0 + 52 * S)
    assert ch.state is A


def test_disconnected_when_lost_halts_and_resumes_after_reconnect():
    r = rm()
    (ch,) = r.on_disconnected(T0)
    assert (ch.state, ch.reason) == (H, Reason.DISCONNECTED)
    assert step(r) == ()
    r.on_connected(T0 + S)
    (ch,) = step(r, now=T0 + S)
    assert ch.state is A


def test_manual_halt_when_requested_is_sticky_and_cleared_by_reset():
    r = rm()
    (ch,) = r.halt(T0, "operator")
    assert (ch.state, ch.reason, ch.detail) == (H, Reason.MANUAL, "operator")
    assert step(r) == ()
    assert r.reset(T0)[0].state is A


def test_kill_switch_when_flatten_configured_cancels_and_sends_reduce_only_ioc():
    r = rm(kill_switch_action=KillSwitchAction.CANCEL_AND_FLATTEN, flatten_max_slippage_bps=20.0)
    step(r, position=0.0123)
    changes, cmds = r.kill(T0, detail="test", mark_price=MARK, instrument=INSTR, client_order_id=77)
    assert (changes[0].state, changes[0].reason) == (H, Reason.KILL_SWITCH)
    assert cmds[0] == CancelAll() and cmds[1] == Halt(reason="kill_switch", detail="test")
    flat = cmds[2]
    assert (flat.side, flat.amount, flat.reduce_only, flat.time_in_force) == (
        Side.SELL,
        0.012,
        True,
        TimeInForce.IOC,
    )
    assert flat.price == 49_900.0 and flat.price >= MARK * (1 - 0.002)
    assert r.check_command(flat, T0) is None
    normal = InsertOrder(
        client_order_id=78, instrument=INSTR.name, side=Side.SELL, amount=0.01, price=MARK
    )
    assert r.check_command(normal, T0).reason is Reason.HALTED
    assert r.check_command(CancelOrder(client_order_id=5), T0) is None
    assert step(r, position=0.0) == ()  # sticky


def test_kill_switch_when_cancel_only_sends_no_order():
    r = rm()
    step(r, position=0.05)
    _, cmds = r.kill(T0, mark_price=MARK, instrument=INSTR, client_order_id=1)
    assert cmds == (CancelAll(), Halt(reason="kill_switch", detail=""))
    _, cmds = r.kill(T0, cancel_session=True)
    assert cmds[0] == CancelSession()


def test_check_command_when_reducing_denies_increasing_orders_and_mass_quote_sides():
    r = rm(position_soft_limit=0.05, position_hard_limit=0.1)
    step(r, position=-0.1)
    buy = InsertOrder(
        client_order_id=1, instrument=INSTR.name, side=Side.BUY, amount=0.05, price=MARK
    )
    sell = InsertOrder(
        client_order_id=2, instrument=INSTR.name, side=Side.SELL, amount=0.01, price=MARK
    )
    assert r.check_command(buy, T0) is None
    assert r.check_command(sell, T0).reason is Reason.REDUCE_ONLY
    mq = MassQuote(
        quotes=(
            InstrumentQuote(instrument=INSTR.name, bids=((MARK, 0.05),), asks=((MARK + 5, 0.01),)),
        )
    )
    assert r.check_command(mq, T0).reason is Reason.REDUCE_ONLY
    mq_ok = MassQuote(
        quotes=(InstrumentQuote(instrument=INSTR.name, bids=((MARK, 0.05),), asks=()),)
    )
    assert r.check_command(mq_ok, T0) is None


# ---------------------------------------------------------------- the gate property

levels = st.lists(st.tuples(st.floats(-0.03, 0.03), st.floats(0.0005, 0.3)), max_size=4)


@settings(max_examples=200, deadline=None)
@given(
    position=st.floats(-0.15, 0.15),
    bids=levels,
    asks=levels,
    mark=st.floats(20_000, 150_000),
    crossed=st.booleans(),
    stale=st.booleans(),
    pnl=st.floats(-600, 600),
)
def test_gate_when_random_inputs_never_passes_a_limit_breaking_quote(
    position, bids, asks, mark, crossed, stale, pnl
):
    cfg = RiskConfig(**BTC_LIMITS)
    r = RiskManager(cfg)
    r.evaluate(MarketSnapshot(mark_price=mark, last_data_ts_ns=T0 - S), pos(0.0, 0.0, mark), T0 - S)  # started flat
    w = wanted(
        [(mark * (1 - abs(d)), a) for d, a in bids], [(mark * (1 + abs(d)), a) for d, a in asks]
    )
    m = MarketSnapshot(
        mark_price=mark,
        best_bid=mark + 1 if crossed else mark - 1,
        best_ask=mark + 0.5 if crossed else mark + 1,
        last_data_ts_ns=T0 - (10 * S if stale else 0),
    )
    allowed, denials, _ = r.gate(w, m, pos(position, pnl, mark), T0, instrument=INSTR)
    kept = len(allowed.bids) + len(allowed.asks)
    assert kept + len([d for d in denials if d.allowed_amount == 0]) == len(w.bids) + len(w.asks)
    if r.state is H:
        assert kept == 0
        return
    if crossed or stale or -pnl >= cfg.session_loss_limit_usd:
        raise AssertionError("must be halted")
    for side_levels, side in ((allowed.bids, Side.BUY), (allowed.asks, Side.SELL)):
        increases = side.sign * position >= 0
        total = 0.0
        for lv in side_levels:
            total += lv.amount
            assert lv.amount <= cfg.max_order_size + 1e-12
            assert abs(lv.price - mark) / mark * 1e4 <= cfg.price_band_bps + 1e-9
            assert lv.amount >= INSTR.min_order_amount
            assert (
                r.check_command(
                    InsertOrder(
                        client_order_id=1,
                        instrument=INSTR.name,
                        side=side,
                        amount=lv.amount,
                        price=lv.price,
                    ),
                    T0,
                    position=position,
                )
                is None
            )
            after = position + side.sign * total
            assert abs(after) <= cfg.position_hard_limit + 1e-9 or (
                not increases and abs(after) <= abs(position)
            )
            if increases:
                assert abs(after) * lv.price <= cfg.max_notional_usd + 1e-6
        if side_levels and r.state is R:
            assert not increases and total <= abs(position) + 1e-9
        if side_levels and abs(position) >= cfg.position_soft_limit:
            assert not increases
    if allowed.bids and allowed.asks:
        assert max(lv.price for lv in allowed.bids) < min(lv.price for lv in allowed.asks)


def test_reset_when_the_next_evaluation_finds_nothing_wrong_stays_active_without_an_event():
    r = rm()
    r.kill(T0, detail="kill switch (dashboard 127.0.0.1)")
    (ch,) = r.reset(T0 + S)
    assert (ch.state, ch.reason) == (A, Reason.MANUAL)
    assert step(r, now=T0 + 2 * S) == ()  # used to raise InvalidTransition(ACTIVE, RECOVER)
    assert (r.state, r.reason) == (A, Reason.RESUMED)
    (ch,) = step(r, now=T0 + 3 * S, position=0.2)  # a real change still reports
    assert (ch.state, ch.reason) == (R, Reason.POSITION_HARD_LIMIT)
