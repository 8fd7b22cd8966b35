"""Step: the one result of ``MarketMakerCore.handle(event)``.

A step says everything the core has to say about one event: the **commands** to carry out now
(in send order) and the **notices** of what happened inside the core (trading-state changes,
denials, rejections, fills, position discrepancies). The driver executes the commands and
hands the notices to its one sink (the journal's ``SessionLog`` live and paper, the report's
counters in a backtest, the soak/chaos harness's tallies). Nothing else leaves the core: there
is no buffer to poll and nothing to drop when nobody polls it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from thalex_mm.core.commands import Command
from thalex_mm.core.events import Event
from thalex_mm.core.flatten import FlattenReport
from thalex_mm.core.order_records import (
    FillRecorded,
    LeftoverOrderFound,
    OrderRejected,
    OrderStateAnomaly,
    UnknownOrderReported,
)
from thalex_mm.core.position import PositionDiscrepancy
from thalex_mm.core.reasons import OrderDenied, QuoteDenied, TradingStateChanged
from thalex_mm.core.risk import RunBaseline

__all__ = ["EMPTY_STEP", "CoreLike", "Notice", "Step"]

Notice = (
    TradingStateChanged
    | QuoteDenied
    | OrderDenied
    | FillRecorded
    | OrderRejected
    | UnknownOrderReported
    | PositionDiscrepancy
    | OrderStateAnomaly
    | LeftoverOrderFound
    | RunBaseline
    | FlattenReport
)
"""Something journal-worthy that happened inside the core (past tense, typed, with reasons)."""


@dataclass(slots=True, kw_only=True, unsafe_hash=True)
class Step:
    """What the core did with one event.

    Attributes:
        commands: what to send now, in send order (the driver calls ``on_sent`` before each).
        notices: what happened, in the order it happened (for the driver's one sink).
        quoted: the quote pipeline ran in this step (even when it changed nothing); the live
            driver measures tick-to-order latency from the market frames that led to it.
    """

    commands: tuple[Command, ...] = ()
    notices: tuple[Notice, ...] = ()
    quoted: bool = False

    def __init__(self, *, commands: tuple[Command, ...] = (), notices: tuple[Notice, ...] = (),
                 quoted: bool = False) -> None:
        # A written __init__: mypyc compiles it (docs/build.md, "Per-event value objects").
        self.commands = commands
        self.notices = notices
        self.quoted = quoted


EMPTY_STEP = Step()
"""A step with nothing to send and nothing to say."""


class CoreLike(Protocol):
    """What a driver needs from the pure core (``thalex_mm.core.market_maker.MarketMakerCore``)."""

    def handle(self, event: Event) -> Step: ...
    def on_sent(self, request_id: int, command: Command) -> None: ...
    def next_deadline_ns(self) -> int | None: ...
