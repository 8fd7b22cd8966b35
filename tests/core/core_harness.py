"""Helpers for the core tests that start the core the way the quoter does (hand-built events).

``start_up`` feeds one connection's start-up sequence in the quoter's order: instruments, the
account's open orders, the portfolio snapshot, ``Connected``, then a ticker and a book.
``feed`` tells the core every command is sent before the next event (as the quoter does).
"""

from __future__ import annotations

from thalex_mm.core.events import (
    BookSnapshotReceived,
    Connected,
    Event,
    InstrumentsUpdated,
    OrderReport,
    OrdersUpdated,
    PortfolioEntry,
    PortfolioUpdated,
    TickerUpdated,
)
from thalex_mm.core.market_maker import MarketMakerCore
from thalex_mm.core.types import Instrument

__all__ = ["MID", "MS", "PERP", "T0", "S", "feed", "start_up"]

T0 = 1_700_000_000_000_000_000
MS = 1_000_000
S = 1_000_000_000
MID = 65_000.0
PERP = Instrument(
    name="BTC-PERPETUAL", product="FBTCUSD", tick_size=1.0, volume_tick_size=0.001,
    min_order_amount=0.001, underlying="BTCUSD",
)


def feed(core: MarketMakerCore, event: Event, sent: list, notices: list | None = None) -> list:
    """Handle ``event``; each command is appended to ``sent`` and told to the core as sent
    (request id = its position in ``sent`` + 1), the step's notices to ``notices``. Returns
    this event's commands."""
    out = []
    step = core.handle(event)
    if notices is not None:
        notices.extend(step.notices)
    for cmd in step.commands:
        sent.append(cmd)
        core.on_sent(len(sent), cmd)
        out.append(cmd)
    return out


def start_up(
    core: MarketMakerCore,
    sent: list,
    *,
    ts: int = T0,
    orders: tuple[OrderReport, ...] = (),
    position: float | None = None,
    average_price: float | None = None,
    mark: float = MID,
    notices: list | None = None,
) -> list:
    """One connection's start-up; ``position`` (with ``average_price``) is what the account
    holds (None: no portfolio line). Returns the commands of the whole sequence."""
    events: list[Event] = [
        InstrumentsUpdated(local_ts_ns=ts, added=(PERP,), snapshot=True),
        OrdersUpdated(local_ts_ns=ts, orders=orders, snapshot=True, scope="account"),
    ]
    if position is not None:
        events.append(PortfolioUpdated(local_ts_ns=ts, snapshot=True, entries=(
            PortfolioEntry(instrument=PERP.name, position=position, average_price=average_price, mark_price=mark),)))
    events += [
        Connected(local_ts_ns=ts, cancel_on_disconnect=True),
        TickerUpdated(local_ts_ns=ts + 1, instrument=PERP.name, mark_price=mark, index_price=mark),
        BookSnapshotReceived(local_ts_ns=ts + 2, instrument=PERP.name,
                             bids=((mark - 5, 1.0), (mark - 10, 2.0)), asks=((mark + 5, 1.0), (mark + 10, 2.0))),
    ]
    out: list = []
    for event in events:
        out += feed(core, event, sent, notices)
    return out
