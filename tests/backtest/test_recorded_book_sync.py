"""The recorded book handed to the engine when our order arrives (``SimExchange._sync_for_order``).

Before we have a live order the engine sees no market rows; an order that arrives then must
meet the recorded book as it stands, including every recorded level it crosses. The exchange
keeps the recorded sizes per price slot that the data writes (not a dense array over the
session's whole price range): these tests pin the crossing levels on both sides.
"""

from __future__ import annotations

import numpy as np
import pytest

from thalex_mm.backtest.runner import BacktestSettings, run_session
from thalex_mm.config.models import BotConfig
from thalex_mm.core.commands import InsertOrder
from thalex_mm.core.events import BookDeltaReceived, BookSnapshotReceived
from thalex_mm.core.step import EMPTY_STEP, Step
from thalex_mm.core.types import Side
from thalex_mm.data import EventKind, events_from_columns
from thalex_mm.reports import RunRecorder

S = 1_000_000_000
T0 = 1_700_000_000 * S


class OneTakerCore:
    """Stand-in core: on the first book, sends one limit order (not post-only) that crosses."""

    def __init__(self, config: BotConfig, side: Side, price: float, amount: float) -> None:
        self.name = config.market.instrument
        self.side, self.price, self.amount = side, price, amount
        self.sent = False

    def handle(self, event):
        if not self.sent and isinstance(event, BookSnapshotReceived | BookDeltaReceived):
            self.sent = True
            return Step(commands=(InsertOrder(client_order_id=1, instrument=self.name,
                                              side=self.side, amount=self.amount,
                                              price=self.price, post_only=False),))
        return EMPTY_STEP

    def on_sent(self, request_id, command):
        pass

    def next_deadline_ns(self):
        return None


def _book_far_apart():
    """Bids 100 x 2, 99 x 1 and a far 10 x 1; asks 101 x 3, 102 x 4 and a far 10,000 x 1.

    The far levels make the session's price range ~10,000 ticks wide, almost all empty.
    """
    L, C, M = EventKind.BOOK_LEVEL, EventKind.BOOK_CLEAR, EventKind.MARK
    rows = [(C, 0, T0, T0, 0.0, 0.0),
            (L, 1, T0, T0, 100.0, 2.0), (L, 1, T0, T0, 99.0, 1.0), (L, 1, T0, T0, 10.0, 1.0),
            (L, -1, T0, T0, 101.0, 3.0), (L, -1, T0, T0, 102.0, 4.0),
            (L, -1, T0, T0, 10_000.0, 1.0)]
    rows += [(M, 0, T0 + i * S, T0 + i * S, 100.5, 0.0) for i in range(3)]
    cols = list(zip(*rows, strict=True))
    arr = events_from_columns(cols[0], cols[1], cols[2], cols[3], cols[4], cols[5])
    return arr[np.argsort(arr["exch_ts"], kind="stable")]


def _fills(side: Side, price: float, amount: float) -> list[tuple[float, float]]:
    rec = RunRecorder(instrument="BTC-PERPETUAL")
    settings = BacktestSettings(feed_latency_ms=0.0, batch_ms=1.0, tick_size=1.0)
    res = run_session(_book_far_apart(), BotConfig(), settings, rec,
                      core_factory=lambda cfg: OneTakerCore(cfg, side, price, amount))
    record = rec.finish(events=res.rows, start_ts_ns=res.start_ts_ns, end_ts_ns=res.end_ts_ns)
    return list(zip(record.fill_price.tolist(), record.fill_amount.tolist(), strict=True))


@pytest.mark.parametrize(("side", "price", "expected"), [
    (Side.BUY, 102.0, [(101.0, 3.0), (102.0, 2.0)]),
    (Side.SELL, 99.0, [(100.0, 2.0), (99.0, 1.0)]),
])
def test_sync_for_order_when_order_crosses_recorded_levels_it_trades_them_best_first(
        side, price, expected):
    assert _fills(side, price, 5.0) == expected


def test_sync_for_order_when_order_does_not_cross_nothing_trades():
    assert _fills(Side.BUY, 100.0, 5.0) == []
