"""The quote-step scenario: a seeded random walk of the BTC-PERPETUAL mid fed to a core whose
every book message is a quote step, with a venue that acknowledges every request at once.

One scenario, two users: ``benchmarks/core_step.py`` times ``handle(book delta)`` on it and
``tests/backtest/test_hot_path_identity.py`` pins every output of it, so the benchmark measures
exactly what the identity test guards. Pure (no clock, no I/O): the caller times and records.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from thalex_mm.config.models import BotConfig
from thalex_mm.core.commands import Command, InsertOrder
from thalex_mm.core.events import (
    BookDeltaReceived,
    BookSnapshotReceived,
    Connected,
    Event,
    InstrumentsUpdated,
    OrderReport,
    ResponseReceived,
    TickerUpdated,
)
from thalex_mm.core.order_manager import OrderManager
from thalex_mm.core.step import Step
from thalex_mm.core.types import ChangeReason, Instrument, OrderStatus, OrderType, TimeInForce

__all__ = ["BTC", "STEP_NS", "T0", "Venue", "WalkCore", "open_market", "walk", "walk_config"]

BTC = Instrument(name="BTC-PERPETUAL", product="FBTCUSD", tick_size=1.0, volume_tick_size=0.001,
                 min_order_amount=0.001, underlying="BTCUSD")
T0 = 1_716_163_200_000_000_000
"""Start of the walk, ns."""
STEP_NS = 20_000_000
"""Time between book messages, ns."""
START_MID = 65_000.0


class WalkCore(Protocol):
    """What the scenario needs from a core (``MarketMakerCore`` or a wrapper around it)."""

    @property
    def orders(self) -> OrderManager: ...
    def handle(self, event: Event) -> Step: ...
    def on_sent(self, request_id: int, command: Any) -> None: ...


def walk_config(levels: int, extra: dict[str, dict[str, Any]] | None = None) -> BotConfig:
    """GLFT, ``levels`` levels 5 ticks apart, no minimum requote interval (every message is a
    quote step); ``extra`` adds or overrides keys per section."""
    base: dict[str, dict[str, Any]] = {
        "order": {"sizes": [0.01], "levels": levels, "level_spacing_ticks": 5,
                  "amend_tolerance_ticks": 2},
        "quoting": {"min_requote_interval_ms": 0},
        "avellaneda": {"horizon": "infinite", "gamma": 0.05, "unit_size": 0.01},
    }
    extra = extra or {}
    return BotConfig.model_validate({k: {**base.get(k, {}), **extra.get(k, {})}
                                     for k in {*base, *extra}})


class Venue:
    """Sends ``cmds`` and acknowledges them, and whatever the acknowledgements make the core
    send, until the core is quiet. Like a driver, it registers a whole batch (``on_sent``)
    before anything else happens; an insert or amend is answered with the open order, anything
    else with an empty result.

    Args:
        core: the core under test.
        after_batch: called after each batch of acknowledgements is handled (the identity test
            asks for the next deadline there, as the drivers do).
    """

    def __init__(self, core: WalkCore, after_batch: Callable[[], object] | None = None) -> None:
        self.core = core
        self.after_batch = after_batch
        self.request_id = 0

    def __call__(self, cmds: tuple[Command, ...], ts_ns: int) -> None:
        core = self.core
        batch = list(cmds)
        while batch:
            sent = []
            for c in batch:
                self.request_id += 1
                core.on_sent(self.request_id, c)
                sent.append((self.request_id, c))
            batch = []
            for rid, c in sent:
                batch += core.handle(ResponseReceived(local_ts_ns=ts_ns, request_id=rid,
                                                      report=self._report(c))).commands
            if self.after_batch is not None:
                self.after_batch()

    def _report(self, c: Command) -> OrderReport | None:
        o = self.core.orders.get(getattr(c, "client_order_id", None) or -1)
        if o is None or not hasattr(c, "price"):
            return None
        reason = ChangeReason.INSERT if isinstance(c, InsertOrder) else ChangeReason.AMEND
        price, amount = c.price, c.amount  # type: ignore[attr-defined]  # an insert or an amend
        return OrderReport(order_id=f"x{c.client_order_id}", client_order_id=c.client_order_id,  # type: ignore[attr-defined]
                           instrument=BTC.name, side=o.side, order_type=OrderType.LIMIT,
                           time_in_force=TimeInForce.GTC, price=price, amount=amount,
                           filled_amount=0.0, remaining_amount=amount, status=OrderStatus.OPEN,
                           change_reason=reason)


def open_market(core: WalkCore, venue: Venue) -> None:
    """Instruments, connection, ticker and a one-level book at :data:`START_MID`, at :data:`T0`."""
    mid = START_MID
    core.handle(InstrumentsUpdated(local_ts_ns=T0, added=(BTC,), snapshot=True))
    core.handle(Connected(local_ts_ns=T0, cancel_on_disconnect=True))
    core.handle(TickerUpdated(local_ts_ns=T0, instrument=BTC.name, mark_price=mid, index_price=mid))
    venue(core.handle(BookSnapshotReceived(local_ts_ns=T0 + 1, instrument=BTC.name,
                                           bids=((mid - 5, 1.0),), asks=((mid + 5, 1.0),))).commands,
          T0 + 2)


def walk(n: int, seed: int) -> Iterator[tuple[int, TickerUpdated | None, BookDeltaReceived]]:
    """``n`` steps of the mid's walk (most leave it unchanged; moves of 1 or 4 ticks): per step
    its time (ns), a ticker every 50 steps (else None; handle it first) and the book delta."""
    rng = random.Random(seed)
    mid = START_MID
    for i in range(n):
        now = T0 + (i + 1) * STEP_NS
        old = mid
        mid += rng.choice((-1.0, 0.0, 0.0, 0.0, 1.0)) * rng.choice((1.0, 1.0, 4.0))
        bids = ((mid - 5, 1.0 + (i % 3)),) if mid == old else ((old - 5, 0.0), (mid - 5, 1.0))
        asks = ((mid + 5, 1.0),) if mid == old else ((old + 5, 0.0), (mid + 5, 1.0))
        ticker = (TickerUpdated(local_ts_ns=now - 1, instrument=BTC.name, mark_price=mid,
                                index_price=mid) if i % 50 == 0 else None)
        yield now, ticker, BookDeltaReceived(instrument=BTC.name, bids=bids, asks=asks,
                                             local_ts_ns=now)
