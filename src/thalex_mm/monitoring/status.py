"""What the running bot shows on the dashboard: a snapshot type and the hub that holds it.

The bot (paper or live driver) builds a :class:`DashboardSnapshot` whenever something it shows
changes and calls :meth:`StatusHub.publish`; it reports fills, errors and reconnects with
:meth:`StatusHub.on_fill`, :meth:`StatusHub.on_error` and :meth:`StatusHub.on_reconnect`, and
registers its kill switch with :meth:`StatusHub.set_kill_switch`. Every call is O(1), never
blocks and never awaits: the hub only stores values. The web server
(:class:`thalex_mm.monitoring.dashboard.DashboardServer`) reads the hub on its own schedule.

Call the hub from the event-loop thread that runs the dashboard server (the bot's loop).

Units: timestamps in ns since the Unix epoch (``*_ts_ns``); prices, PnL and fees in quote
currency; sizes and positions in contracts.
"""

from __future__ import annotations

import inspect
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from thalex_mm.monitoring.metrics import Metrics
from thalex_mm.store.scrub import scrub_text

__all__ = [
    "DashboardSnapshot",
    "FillMark",
    "KillSwitch",
    "OpenOrderView",
    "StatusHub",
]

_log = logging.getLogger(__name__)

#: One open order as shown: ``(side, price, amount, status)``, e.g. ``("buy", 99.5, 0.1, "open")``.
OpenOrderView = tuple[str, float, float, str]
#: The bot's kill switch: a no-argument callable, sync or async.
KillSwitch = Callable[[], Any] | Callable[[], Awaitable[Any]]

_MAX_ERROR_CHARS = 500


@dataclass(frozen=True, slots=True, kw_only=True)
class DashboardSnapshot:
    """Everything the dashboard shows at one instant. ``None`` = not known yet.

    Attributes:
        ts_ns: when the snapshot was taken (ns); also the x coordinate on the charts.
        instrument: e.g. ``"BTC-PERPETUAL"``.
        mid: market mid price.
        fair_value: the model's fair value.
        reservation: the Avellaneda–Stoikov reservation price.
        best_bid: best bid in the book.
        best_ask: best ask in the book.
        our_bid: our bid price (None = bid side not quoted).
        our_ask: our ask price (None = ask side not quoted).
        our_bid_size: our bid size (contracts).
        our_ask_size: our ask size (contracts).
        position: signed position (contracts).
        avg_price: average entry price of the position.
        pnl_realised: realised PnL.
        pnl_unrealised: unrealised PnL (position marked to mid).
        fees: fees paid so far (positive = cost).
        pnl_total: total PnL.
        sigma: volatility estimate (per √second, as the model uses it).
        A: order-arrival intensity scale (1/s), as in the paper.
        k: intensity decay (1/price unit).
        gamma: risk aversion.
        k_per_tick: intensity decay per tick of depth (1/tick).
        intensity_confidence: weight of the fit's own data against its prior, 0..1.
        intensity_fitted_fraction: fraction of quoting time on fitted A, k, 0..1.
        intensity_source: ``fit`` / ``prior`` / ... (docs/model.md §4).
        trading_state: ``ACTIVE`` / ``REDUCING`` / ``HALTED`` (case-insensitive).
        state_reason: why the trading state is what it is.
        open_orders: our open orders, ``(side, price, amount, status)`` each.
        budget_used: messages used in the current rate-limit window.
        budget_limit: messages allowed per window.
        reconnects: reconnects so far (None = use the hub's own count).
        recent_errors: latest error texts, newest last (None = use the hub's own list).
        fills_count: fills so far (None = use the hub's own count).
        funding: funding so far (+ = received), quote currency.
        quote_age_s: seconds since the bot last decided its quotes.
        market_data_age_s: seconds since market data last updated (staleness).
    """

    ts_ns: int
    instrument: str = ""
    mid: float | None = None
    fair_value: float | None = None
    reservation: float | None = None
    best_bid: float | None = None
    best_ask: float | None = None
    our_bid: float | None = None
    our_ask: float | None = None
    our_bid_size: float | None = None
    our_ask_size: float | None = None
    position: float = 0.0
    avg_price: float | None = None
    pnl_realised: float = 0.0
    pnl_unrealised: float = 0.0
    fees: float = 0.0
    pnl_total: float = 0.0
    sigma: float | None = None
    A: float | None = None  # named as in Avellaneda & Stoikov (2008)
    k: float | None = None
    gamma: float | None = None
    k_per_tick: float | None = None
    intensity_confidence: float | None = None
    intensity_fitted_fraction: float | None = None
    intensity_source: str | None = None
    trading_state: str = "ACTIVE"
    state_reason: str = ""
    open_orders: tuple[OpenOrderView, ...] = ()
    budget_used: int | None = None
    budget_limit: int | None = None
    reconnects: int | None = None
    recent_errors: tuple[str, ...] | None = None
    fills_count: int | None = None
    funding: float | None = None
    quote_age_s: float | None = None
    market_data_age_s: float | None = None


@dataclass(frozen=True, slots=True)
class FillMark:
    """One fill as marked on the price chart. ``side`` is ``"buy"`` or ``"sell"``."""

    seq: int
    ts_ns: int
    side: str
    price: float
    amount: float


@dataclass(slots=True)
class _KillState:
    requested_ts_ns: int | None = None
    source: str = ""
    error: str | None = None


def _num(x: float | None) -> float | None:
    """JSON-safe float: NaN/inf -> None."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _side_text(side: Any) -> str:
    text = str(getattr(side, "value", side)).lower()
    if text in ("1", "+1", "b", "bid"):
        return "buy"
    if text in ("-1", "s", "ask", "offer"):
        return "sell"
    return text


class StatusHub:
    """Holds the latest snapshot, bounded chart history, fills, errors and the kill switch.

    Args:
        history_s: chart history kept, seconds (> 0). Default 600 (ten minutes).
        sample_hz: at most this many chart points per second (> 0). Default 4.
        max_fills: fill marks kept (> 0).
        max_errors: error texts kept (> 0).
        metrics: the :class:`Metrics` to update (gauges on publish, ``fills`` and
            ``reconnects`` counters); a new one by default.
        clock_ns: wall clock (ns) for error and kill timestamps; injectable for tests.

    Raises:
        ValueError: a bound is not positive (the message names it).
    """

    def __init__(
        self,
        *,
        history_s: float = 600.0,
        sample_hz: float = 4.0,
        max_fills: int = 500,
        max_errors: int = 50,
        metrics: Metrics | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        for name, value in (("history_s", history_s), ("sample_hz", sample_hz),
                            ("max_fills", max_fills), ("max_errors", max_errors)):
            if not value > 0:
                raise ValueError(f"StatusHub {name}: got {value!r}, expected > 0")
        self.history_s = float(history_s)
        self.sample_interval_ns = int(1e9 / sample_hz)
        self.metrics = metrics if metrics is not None else Metrics()
        self._clock_ns = clock_ns
        self._latest: DashboardSnapshot | None = None
        self._points: deque[tuple[int, list[Any]]] = deque(
            maxlen=max(2, math.ceil(history_s * sample_hz) + 1))
        self._last_point_ts_ns: int | None = None
        self._point_seq = 0
        self._fills: deque[FillMark] = deque(maxlen=max_fills)
        self._fill_seq = 0
        self._fills_total = 0
        self._errors: deque[tuple[int, str]] = deque(maxlen=max_errors)
        self._reconnects = 0
        self._kill_switch: KillSwitch | None = None
        self._kill = _KillState()
        self._resume_switch: KillSwitch | None = None
        self._resume = _KillState()
        self._limits: dict[str, float | None] = {}
        self._peak_pnl: float | None = None
        self.version = 0  # bumped on every change; the server polls it

    # -- called by the bot (cheap, never blocks) ------------------------------------------

    def publish(self, snapshot: DashboardSnapshot) -> None:
        """Store the latest snapshot; add a chart point at most every ``1/sample_hz`` s."""
        self._latest = snapshot
        self.version += 1
        pnl = _num(snapshot.pnl_total)
        if pnl is not None and (self._peak_pnl is None or pnl > self._peak_pnl):
            self._peak_pnl = pnl
        self.metrics.update_from_snapshot(snapshot)
        last = self._last_point_ts_ns
        ts = snapshot.ts_ns
        if last is None or ts - last >= self.sample_interval_ns or ts < last:
            if last is not None and ts < last:  # clock went back (e.g. a new backtest): restart
                self._points.clear()
            self._last_point_ts_ns = ts
            self._point_seq += 1
            self._points.append((self._point_seq, [
                ts // 1_000_000, _num(snapshot.mid), _num(snapshot.fair_value),
                _num(snapshot.reservation), _num(snapshot.our_bid), _num(snapshot.our_ask),
                _num(snapshot.position), _num(snapshot.pnl_total),
            ]))
            horizon = ts - int(self.history_s * 1e9)
            while self._points and self._points[0][1][0] * 1_000_000 < horizon:
                self._points.popleft()

    def on_fill(self, ts_ns: int, side: Any, price: float, amount: float) -> None:
        """Mark one fill of ours. ``side``: ``"buy"``/``"sell"`` or a ``Side`` enum."""
        self._fill_seq += 1
        self._fills_total += 1
        self._fills.append(FillMark(self._fill_seq, int(ts_ns), _side_text(side), float(price),
                                    float(amount)))
        self.metrics.fills += 1
        self.version += 1

    def on_error(self, text: str) -> None:
        """Record an error text (scrubbed of keys/tokens, cut to 500 characters)."""
        clean = scrub_text(str(text))
        if len(clean) > _MAX_ERROR_CHARS:
            clean = clean[:_MAX_ERROR_CHARS - 1] + "…"
        self._errors.append((self._clock_ns(), clean))
        self.version += 1

    def on_reconnect(self) -> None:
        """Count one reconnect of the exchange connection."""
        self._reconnects += 1
        self.metrics.reconnects += 1
        self.version += 1

    def set_kill_switch(self, callback: KillSwitch | None) -> None:
        """Register the bot's kill switch (no-argument callable, sync or async; None clears)."""
        self._kill_switch = callback

    def set_resume_switch(self, callback: KillSwitch | None) -> None:
        """Register how the bot resumes after a kill or a sticky risk halt (None clears)."""
        self._resume_switch = callback

    def set_limits(self, limits: dict[str, float | None]) -> None:
        """The risk limits the page shows position and losses against (contracts, quote ccy):
        ``position_soft_limit``, ``position_hard_limit``, ``session_loss_limit``,
        ``max_drawdown``, ``daily_loss_limit``."""
        self._limits = {k: _num(v) for k, v in limits.items()}
        self.version += 1

    # -- called by the server ---------------------------------------------------------------

    @property
    def latest(self) -> DashboardSnapshot | None:
        """The last published snapshot, None before the first."""
        return self._latest

    @property
    def kill_switch_set(self) -> bool:
        """True when the bot registered a kill switch."""
        return self._kill_switch is not None

    @property
    def kill_source(self) -> str:
        """Who pressed the kill switch last (e.g. ``dashboard 127.0.0.1``); set before the
        switch is called, so the switch can name it. Empty if never."""
        return self._kill.source

    @property
    def kill_requested_ts_ns(self) -> int | None:
        """When the kill switch was last triggered (ns), None if never."""
        return self._kill.requested_ts_ns

    @property
    def resume_source(self) -> str:
        """Who asked to resume last (set before the resume switch is called). Empty if never."""
        return self._resume.source

    async def resume(self, source: str = "dashboard") -> bool:
        """Lift a kill or sticky halt through the registered resume switch.

        Returns:
            True when a resume switch was registered and called without raising.
        """
        return await _press(self._resume_switch, self._resume, source, self._clock_ns(),
                            "resume switch", self)

    async def kill(self, source: str = "dashboard") -> bool:
        """Trigger the kill switch; awaits it when it is async.

        Args:
            source: who asked (shown on the page and logged).

        Returns:
            True when a kill switch was registered and called without raising.
        """
        return await _press(self._kill_switch, self._kill, source, self._clock_ns(),
                            "kill switch", self)

    def points_after(self, seq: int) -> tuple[int, list[list[Any]]]:
        """Chart points newer than ``seq``: ``(last_seq, [[ts_ms, mid, fair, reservation, bid,
        ask, position, pnl_total], ...])``; a ``seq`` older than the history gives it all."""
        pts = [p for s, p in self._points if s > seq] if seq < self._point_seq else []
        return self._point_seq, pts

    def fills_after(self, seq: int) -> tuple[int, list[list[Any]]]:
        """Fill marks newer than ``seq``: ``(last_seq, [[ts_ms, side, price, amount], ...])``."""
        fills = [[f.ts_ns // 1_000_000, f.side, f.price, f.amount]
                 for f in self._fills if f.seq > seq] if seq < self._fill_seq else []
        return self._fill_seq, fills

    def status(self) -> dict[str, Any]:
        """The current state as a JSON-ready dict (no NaN; no secrets)."""
        s = self._latest
        errors = [{"ts_ms": ts // 1_000_000, "text": t} for ts, t in self._errors]
        out: dict[str, Any] = {
            "ready": s is not None,
            "reconnects": self._reconnects,
            "fills_count": self._fills_total,
            "recent_errors": errors[-10:],
            "kill": {
                "available": self._kill_switch is not None,
                "requested_ms": (None if self._kill.requested_ts_ns is None
                                 else self._kill.requested_ts_ns // 1_000_000),
                "source": self._kill.source,
                "error": self._kill.error,
            },
            "history_s": self.history_s,
            "resume": {
                "available": self._resume_switch is not None,
                "requested_ms": (None if self._resume.requested_ts_ns is None
                                 else self._resume.requested_ts_ns // 1_000_000),
                "source": self._resume.source,
                "error": self._resume.error,
            },
            "limits": dict(self._limits),
        }
        if s is None:
            return out
        out.update({
            "ts_ms": s.ts_ns // 1_000_000,
            "instrument": s.instrument,
            "trading_state": str(getattr(s.trading_state, "name", s.trading_state)).upper(),
            "state_reason": str(getattr(s.state_reason, "value", s.state_reason)),
            "open_orders": [
                {"side": _side_text(o[0]), "price": _num(o[1]), "amount": _num(o[2]),
                 "status": str(getattr(o[3], "value", o[3]))}
                for o in s.open_orders
            ],
            "budget_used": s.budget_used,
            "budget_limit": s.budget_limit,
        })
        pnl = _num(s.pnl_total)
        out["session_loss"] = None if pnl is None else max(0.0, -pnl)
        out["drawdown"] = (None if pnl is None or self._peak_pnl is None
                           else max(0.0, self._peak_pnl - pnl))
        for name in ("mid", "fair_value", "reservation", "best_bid", "best_ask", "our_bid",
                     "our_ask", "our_bid_size", "our_ask_size", "position", "avg_price",
                     "pnl_realised", "pnl_unrealised", "fees", "pnl_total", "sigma", "A", "k",
                     "gamma", "k_per_tick", "intensity_confidence", "intensity_fitted_fraction"):
            out[name] = _num(getattr(s, name))
        out["intensity_source"] = s.intensity_source
        if s.reconnects is not None:
            out["reconnects"] = s.reconnects
        if s.fills_count is not None:
            out["fills_count"] = s.fills_count
        if s.recent_errors is not None:
            out["recent_errors"] = [{"ts_ms": None, "text": scrub_text(str(t))[:_MAX_ERROR_CHARS]}
                                    for t in s.recent_errors[-10:]]
        return out


async def _press(callback: KillSwitch | None, state: _KillState, source: str, now_ns: int,
                 what: str, hub: StatusHub) -> bool:
    """Call an operator switch (sync or async), recording who asked, when, and any failure."""
    state.requested_ts_ns = now_ns
    state.source = scrub_text(source)
    hub.version += 1
    if callback is None:
        state.error = f"no {what} registered"
        return False
    _log.warning("%s triggered from %s", what, state.source)
    try:
        result = callback()
        if inspect.isawaitable(result):
            await result
    except Exception as exc:  # the page must learn that it failed
        state.error = scrub_text(f"{type(exc).__name__}: {exc}")
        _log.exception("%s raised", what)
        hub.on_error(f"{what} failed: {state.error}")
        return False
    state.error = None
    return True
