"""The calibration window of a walk-forward session: the core watches but cannot quote.

:class:`CalibrationGate` wraps a trading core for the backtest loop. From the session's first
row the core receives every market event (book, trades, ticker, timers), so its online
estimators (volatility, intensity, fair-value basis) learn from the calibration window; but the
``Connected`` event the loop delivers at the start is held back until ``trade_from_ns`` (core
clock). A core that is not connected never quotes (``MarketMakerCore._ready``), so no order can
exist before ``trade_from_ns``. At ``trade_from_ns`` the gate asks the loop for a timer and
hands the core the held ``Connected`` in its place: from then on the core trades as it would
live, with what it learned so far and nothing else.

The gate is causal by construction: it only reacts to events at or before their own time and
never looks at the tape. It changes no timing of the loop and needs no hook in it (the loop
only calls ``handle``, ``on_sent`` and ``next_deadline_ns``; everything else is forwarded).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from thalex_mm.core.events import Connected, Event, TimerFired

__all__ = ["CalibrationGate"]


class CalibrationGate:
    """A core that stays disconnected (market data only) until ``trade_from_ns``.

    Args:
        core: the trading core (``MarketMakerCore`` or a stand-in with the same methods).
        trade_from_ns: first instant of the trading window, core (local) clock, ns.
        on_time: optional progress hook, called with the core clock (ns) every
            ``PROGRESS_EVERY`` events (it sees time only; it cannot change anything).

    Attributes:
        connected_at_ns: when the held ``Connected`` was delivered (None before).
        calibration: the core's ``status()`` right after connecting (None before, or when
            the core has no ``status``): what it had learned in the calibration window.
    """

    PROGRESS_EVERY = 4096

    def __init__(self, core: Any, trade_from_ns: int,
                 on_time: Callable[[int], None] | None = None) -> None:
        self.core = core
        self.trade_from_ns = int(trade_from_ns)
        self._on_time = on_time
        self._events = 0
        self._held: Connected | None = None
        self.connected_at_ns: int | None = None
        self.calibration: Any = None

    def handle(self, event: Event) -> Any:
        """Forward ``event``; hold ``Connected`` until a timer at or after ``trade_from_ns``."""
        if self._on_time is not None:
            self._events += 1
            if self._events % self.PROGRESS_EVERY == 0:
                self._on_time(event.local_ts_ns)
        if self.connected_at_ns is None:
            if isinstance(event, Connected):
                self._held = event
                # the core still gets a (harmless) step at this instant, and its result has
                # whatever type the core returns
                event = TimerFired(exchange_ts_ns=event.exchange_ts_ns,
                                   local_ts_ns=event.local_ts_ns)
            elif (isinstance(event, TimerFired) and self._held is not None
                  and event.local_ts_ns >= self.trade_from_ns):
                self.connected_at_ns = event.local_ts_ns
                result = self.core.handle(dataclasses.replace(
                    self._held, exchange_ts_ns=event.exchange_ts_ns,
                    local_ts_ns=event.local_ts_ns))
                status = getattr(self.core, "status", None)
                self.calibration = status() if callable(status) else None
                return result
        return self.core.handle(event)

    def next_deadline_ns(self) -> int | None:
        """The core's next deadline, and ``trade_from_ns`` while the gate is closed."""
        dl = self.core.next_deadline_ns()
        if self.connected_at_ns is not None or self._held is None:
            return dl
        return self.trade_from_ns if dl is None else min(dl, self.trade_from_ns)

    def on_sent(self, request_id: int, command: Any) -> None:
        """Forwarded to the core."""
        self.core.on_sent(request_id, command)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.core, name)
