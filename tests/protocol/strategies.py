"""Hypothesis strategies for core objects that travel over the Thalex wire."""

from __future__ import annotations

from hypothesis import strategies as st

from thalex_mm.core.events import (
    AccountSummaryUpdated,
    AccountTrade,
    IndexUpdated,
    LightTickerUpdated,
    MmpStatus,
    OrderFill,
    OrderReport,
    PortfolioEntry,
    PublicTrade,
    TickerUpdated,
)
from thalex_mm.core.types import (
    ChangeReason,
    DeleteReason,
    Instrument,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)

numbers = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=1e-8, max_value=1e9, allow_nan=False, allow_infinity=False)
opt_numbers = st.none() | numbers
ts_ns = st.integers(min_value=0, max_value=4_000_000_000 * 10**9)
names = st.from_regex(r"[A-Z0-9][A-Z0-9\-]{0,24}", fullmatch=True)
labels = st.from_regex(r"[A-Za-z0-9<>|_\-]{1,32}", fullmatch=True)
texts = st.text(alphabet=st.characters(exclude_categories=("Cs",)), min_size=1, max_size=20)
sides = st.sampled_from(Side)

fills = st.builds(OrderFill, trade_id=texts, price=numbers, amount=positive,
                  maker_taker=st.sampled_from(["maker", "taker"]), ts_ns=ts_ns)

order_reports = st.builds(
    OrderReport,
    order_id=texts,
    client_order_id=st.none() | st.integers(min_value=0, max_value=2**64 - 1),
    instrument=names,
    side=sides,
    order_type=st.sampled_from(OrderType),
    time_in_force=st.sampled_from(TimeInForce),
    price=opt_numbers,
    amount=positive,
    filled_amount=positive,
    remaining_amount=positive,
    status=st.sampled_from(OrderStatus),
    change_reason=st.sampled_from(ChangeReason),
    delete_reason=st.none() | st.sampled_from(DeleteReason),
    label=st.none() | labels,
    persistent=st.booleans(),
    reduce_only=st.booleans(),
    fills=st.lists(fills, max_size=3).map(tuple),
    create_ts_ns=ts_ns,
    close_ts_ns=st.none() | ts_ns,
)

account_trades = st.builds(
    AccountTrade, trade_id=texts, order_id=texts, instrument=names, side=sides, price=numbers,
    amount=positive, fee=numbers, ts_ns=ts_ns,
    client_order_id=st.none() | st.integers(min_value=0, max_value=2**32),
    label=st.none() | labels, maker_taker=st.none() | st.sampled_from(["maker", "taker"]),
    fee_rate=opt_numbers, position_after=opt_numbers,
    trade_type=st.sampled_from(["normal", "liquidation", "expiration"]),
    perpetual_funding_pnl=opt_numbers,
)

portfolio_entries = st.builds(
    PortfolioEntry, instrument=names, position=numbers, mark_price=opt_numbers,
    average_price=opt_numbers, unrealised_pnl=opt_numbers, realised_pnl=opt_numbers,
    entry_value=opt_numbers, unrealised_perpetual_funding=opt_numbers,
)

account_summaries = st.builds(
    AccountSummaryUpdated, unrealised_pnl=numbers, cash_collateral=numbers, margin=numbers,
    required_margin=numbers, remaining_margin=numbers, session_realised_pnl=numbers,
)

tickers = st.builds(
    TickerUpdated, exchange_ts_ns=ts_ns, instrument=names, mark_price=numbers, index_price=numbers,
    best_bid_price=opt_numbers, best_bid_amount=opt_numbers, best_ask_price=opt_numbers,
    best_ask_amount=opt_numbers, last_price=opt_numbers, funding_rate=opt_numbers,
    funding_mark=opt_numbers, collar_low=opt_numbers, collar_high=opt_numbers,
    open_interest=opt_numbers,
)

_level = st.tuples(numbers, st.floats(min_value=0, max_value=1e9, allow_nan=False))
_opt_level = st.none() | _level


@st.composite
def light_tickers(draw) -> LightTickerUpdated:
    bid, ask = draw(_opt_level), draw(_opt_level)
    return LightTickerUpdated(
        instrument=draw(names), mark_price=draw(numbers), last_price=draw(opt_numbers),
        best_bid_price=bid and bid[0], best_bid_amount=bid and bid[1],
        best_ask_price=ask and ask[0], best_ask_amount=ask and ask[1],
    )


indexes = st.builds(IndexUpdated, exchange_ts_ns=ts_ns, index_name=names, price=numbers)
levels = st.lists(_level, max_size=12).map(tuple)


def public_trades(instrument: st.SearchStrategy[str] = names) -> st.SearchStrategy[PublicTrade]:
    return st.builds(PublicTrade, instrument=instrument, price=numbers, amount=positive,
                     aggressor=sides, ts_ns=ts_ns)


instruments = st.builds(
    Instrument, name=names, product=st.sampled_from(["", "FBTCUSD", "OETHUSD"]),
    tick_size=positive, volume_tick_size=positive, min_order_amount=positive,
    underlying=st.sampled_from(["BTCUSD", "ETHUSD"]),
    type=st.sampled_from(["perpetual", "future", "option", "combination"]),
    base_currency=st.sampled_from(["USD", "USDT"]), create_time_ns=ts_ns,
    expiration_ts_ns=st.integers(min_value=0, max_value=4_000_000_000).map(lambda s: s * 10**9),
)

mmp_statuses = st.builds(MmpStatus, product=names, remaining_amount=numbers,
                         reason=st.sampled_from(["refill", "executions", "client_cancel",
                                                 "session_end", "failover"]))
