"""MarketMakerCore: the one pure trading core that every driver (live, paper, backtest) runs.

One entry, one exit (STYLE.md §2): ``handle(event) -> Step``. The driver sends the step's
commands (calling ``on_sent(request_id, command)`` just before each), hands its notices to its
one sink, and delivers a ``TimerFired`` at ``next_deadline_ns()``. No clock, no I/O: time
arrives in events.

The core also decides when what it knows of the exchange can no longer be trusted (a stale or
crossed book, an error that escalates, a frame lost that may have been ours, the exchange's
``reconnect`` notice) and says so with one ``Resynchronise(reason)`` per connection; the driver
only carries it out.

The quote step (DESIGN.md §3): market state → fair value → σ, A, k → model quotes (AS or GLFT)
→ risk gate (may cut a side, reduce-only, halt) → OrderManager diff → message budget →
last-line risk check → commands. It runs when something that can change the quotes happened
and at most once per ``quoting.min_requote_interval_ms`` (bursts coalesce into one step at the
deadline). Moves away from the market do not wait (``retreat_step``): inside the interval, a
change of the touch or the position runs the step and sends only its cancels and retreats
(``Priority.RETREAT`` and above: pulls, cancels, amends away from the market), which also come
first in the message budget; advances and inserts wait for the deadline.

Everything worth journaling (trading-state changes, denials, rejections, fills, position
discrepancies) is a notice of the step it happened in (``core.step.Notice``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from thalex_mm.config.models import BotConfig, FairValueSource, KillSwitchAction
from thalex_mm.core.adverse_selection import AdverseSelectionGuard
from thalex_mm.core.book import BookHealth
from thalex_mm.core.budget import Drop, ErrorAction, Escalate, MessageBudget, Priority
from thalex_mm.core.commands import (
    AmendOrder,
    CancelOrder,
    CancelSession,
    Command,
    Halt,
    InsertOrder,
    MassQuote,
    Resynchronise,
    ResyncReason,
)
from thalex_mm.core.error_kinds import ErrorKind
from thalex_mm.core.events import (
    MARKET_DATA_EVENTS,
    AccountTradesReceived,
    BookDeltaReceived,
    BookSnapshotReceived,
    Connected,
    DecodeFailed,
    Disconnected,
    ErrorReceived,
    Event,
    InstrumentsUpdated,
    KillSwitchPressed,
    MmProtectionUpdated,
    OrdersUpdated,
    PortfolioUpdated,
    ReconnectRequested,
    ResponseReceived,
    ShutdownRequested,
    TimerFired,
)
from thalex_mm.core.fair_value import FairValueModel
from thalex_mm.core.flatten import FlattenIntent
from thalex_mm.core.instrument_scale import needs_price, resolve_for_instrument
from thalex_mm.core.intensity import IntensityEstimator
from thalex_mm.core.inventory_age import InventoryAge
from thalex_mm.core.market_state import MarketState, Stream
from thalex_mm.core.order_manager import OrderManager
from thalex_mm.core.order_records import FillRecorded, OrderRejected
from thalex_mm.core.position import PositionSnapshot, PositionTracker
from thalex_mm.core.quote_builder import QuoteBuilder, QuoteFigures
from thalex_mm.core.reasons import Reason, TradingState
from thalex_mm.core.risk import MarketSnapshot, RiskManager
from thalex_mm.core.side_hold import SideHold
from thalex_mm.core.step import EMPTY_STEP, Notice, Step
from thalex_mm.core.tape_markout import TapeMarkout
from thalex_mm.core.technical import TechnicalAnalysis
from thalex_mm.core.trend_fade import trend_fade_shift
from thalex_mm.core.types import Instrument, Side, WantedQuotes

__all__ = ["CoreStatus", "MarketMakerCore"]

_NS = 1_000_000_000


_BOOK_EVENTS = (BookDeltaReceived, BookSnapshotReceived)
_AMEND_OR_CANCEL = (AmendOrder, CancelOrder)
_INSERT_OR_AMEND = (InsertOrder, AmendOrder)
_UNUSABLE_BOOK = frozenset({BookHealth.NO_SNAPSHOT, BookHealth.INCONSISTENT})
_PORTFOLIO_GRACE_NS = 1_000_000_000  # a disagreeing portfolio line this soon after a fill waits


def _earlier_future(best: int, t: int | None, now: int) -> int:
    """``t`` if it lies after ``now`` and before ``best`` (or ``best`` <= ``now``), else ``best``."""
    if t is not None and t > now and (best <= now or t < best):
        return t
    return best


@dataclass(frozen=True, slots=True, kw_only=True)
class CoreStatus:
    """What the core knows now, for the terminal status, dashboard and journal.

    Prices in quote currency, amounts in contracts, σ in quote currency per √second,
    A in 1/s, k in 1/quote currency.
    """

    ts_ns: int
    instrument: str
    connected: bool
    mid: float | None
    best_bid: float | None
    best_ask: float | None
    mark: float | None
    index: float | None
    fair_value: float | None
    reservation: float | None
    half_spread: float | None
    our_bid: float | None
    our_ask: float | None
    our_bid_size: float | None
    our_ask_size: float | None
    position: float
    average_price: float
    pnl_realised: float
    pnl_unrealised: float
    fees: float
    funding: float
    pnl_total: float
    sigma: float | None
    sigma_warm: bool
    A: float | None
    k: float | None
    intensity_source: str
    gamma: float | None
    trading_state: str
    state_reason: str
    open_orders: tuple[tuple[str, float, float, str], ...]
    quote_steps: int
    fills: int
    volume: float
    rejects: int
    denials: int
    throttles: int
    max_abs_position: float = 0.0
    """Largest |position| after any fill this session, contracts (exact, not sampled)."""
    budget_used: int = 0
    """Matching-engine messages spent in the last second (after the safety margin, the
    venue allows ``budget_limit``)."""
    budget_limit: int = 0
    quote_age_s: float | None = None
    """Seconds since the last quote step (None before the first), core clock."""
    market_data_age_s: float = math.inf
    """Seconds since the staler of book and ticker last updated (``stale_for_s``)."""
    k_per_tick: float | None = None
    """Fitted k per tick of depth (1/tick); ``k`` is the same per quote-currency unit."""
    A_market: float | None = None
    """Arrivals per second per side at depth 0 on the tape; ``A`` is the fill intensity the
    model uses (lower when quotes wait in a queue, docs/model.md §4)."""
    intensity_confidence: float = 0.0
    """Weight of the window's own orders against the market-learned prior, 0..1."""
    intensity_fitted_fraction: float | None = None
    """Fraction of the quoting time with fitted A, k (source 'fit'), 0..1; None before."""


class MarketMakerCore:
    """Wires market state, TA, intensity, model, risk, orders, budget and position.

    Args:
        config: the effective BOT_CONFIG.
        first_client_order_id: the run's first client order id: the driver supplies
            ``order_ids.run_base_from_wall_clock(start)`` (live, paper) or
            ``order_ids.seeded_base(seed)`` (backtests), so ids never repeat across runs.
    """

    def __init__(self, config: BotConfig, *, first_client_order_id: int = 1) -> None:
        self.config = config
        m = config.market
        self.instrument_name = m.instrument
        self.market = MarketState(m.instrument, m.underlying)
        self.ta = TechnicalAnalysis(config.technical)
        self.intensity = IntensityEstimator(config.avellaneda)
        self.fair = FairValueModel(config.quoting)
        self.guard = AdverseSelectionGuard(config.quoting)
        self.inventory_age = InventoryAge(config.quoting.inventory_age_horizon_s, config.quoting.inventory_age_skew)
        self.tape = TapeMarkout(horizon_s=config.quoting.markout_horizon_s,
                                window_s=config.avellaneda.intensity_window_s,
                                recalibrate_s=config.avellaneda.recalibrate_interval_s,
                                min_fills=config.quoting.tape_markout_min_fills)
        self.orders = OrderManager(config.order, first_client_order_id=first_client_order_id)
        self.budget = MessageBudget(config.connection)
        cc = config.connection
        self.side_hold = SideHold(cc.throttle_cooldown_initial_s, cc.throttle_cooldown_cap_s, cc.throttle_quiet_reset_s)
        self.risk = RiskManager(config.risk, label=config.order.label)
        self.position = PositionTracker(m.instrument)
        self.flatten = FlattenIntent()  # the kill switch's flatten, kept until done (flatten.py)
        self.instrument: Instrument | None = None
        self.builder: QuoteBuilder | None = None
        self._notices: list[Notice] = []  # of the step being handled (handle returns them)
        self.figures: QuoteFigures | None = None
        self.wanted = WantedQuotes(instrument=m.instrument)
        self._min_interval_ns = int(config.quoting.min_requote_interval_ms * 1_000_000)
        self._derive_step_settings()
        self._connected = False
        self._connected_ns = 0  # local time of the last Connected
        self._resync_requested = False  # a Resynchronise went out on this connection
        self._cod = False
        self._mass_quote = config.order.use_mass_quote
        self._shutdown = False
        self._dirty = False
        self._now_ns = 0
        self._last_quote_ns: int | None = None
        self._retreat_key: tuple | None = None  # (touch, position, state) at the last step
        self._last_exchange_ts_ns = 0
        self._crossed_since_ns: int | None = None
        self._last_trade_ts_ns = 0  # newest public trade fed to the intensity estimator
        self._last_fill_ns = -_PORTFOLIO_GRACE_NS  # local time of the last fill applied
        self._held_portfolio: tuple[Any, int] | None = None  # (line, local time) awaiting grace
        self._fills = 0
        self._volume = 0.0
        self._rejects = 0
        self._denials = 0
        self._throttles = 0
        self.quote_steps = 0

    # ------------------------------------------------------------------ the entry

    def handle(self, event: Event) -> Step:
        """Consume one event; return the commands to send now (in send order) and the notices
        of what happened while handling it."""
        self._notices = []
        steps_before = self.quote_steps
        now = event.local_ts_ns
        if now > self._now_ns:
            self._now_ns = now
        now = self._now_ns
        if event.exchange_ts_ns:
            self._last_exchange_ts_ns = event.exchange_ts_ns
        urgent: tuple[Command, ...] = ()
        if isinstance(event, MARKET_DATA_EVENTS):
            self._on_market(event, now)
        elif isinstance(event, OrdersUpdated):
            self._on_order_records(self.orders.on_orders(event), now)
            self._dirty = True
        elif isinstance(event, ResponseReceived):
            self._on_order_records(self.orders.on_response(event.request_id, event.report, now), now)
            self._dirty = True
        elif isinstance(event, ErrorReceived):
            if isinstance(self._on_error(event, now), Escalate):
                # the session itself is bad: nothing on it can be trusted; start over (login
                # runs again, and a refused login is fatal there)
                urgent = self._resync(ResyncReason.SESSION_ERROR, f"{event.code}: {event.message[:80]}")
        elif isinstance(event, DecodeFailed):
            if event.may_hide_private_state:
                # a lost order/fill/portfolio notification (or response) leaves us believing in
                # orders the exchange no longer has: fresh snapshots are the safe way back
                urgent = self._resync(ResyncReason.LOST_FRAME, event.reason[:120])
        elif isinstance(event, ReconnectRequested):
            urgent = self._resync(ResyncReason.EXCHANGE_RECONNECT)
        elif isinstance(event, AccountTradesReceived):
            for trade in event.trades:
                applied = self.position.apply_trade(trade)
                if applied is not None:
                    self.guard.on_fill(now, trade.side, trade.price)
                    self._on_fill_applied(applied, now)
        elif isinstance(event, PortfolioUpdated):
            for entry in event.entries:
                if entry.instrument == self.instrument_name:
                    self._on_portfolio_line(entry, now, snapshot=event.snapshot)
        elif isinstance(event, MmProtectionUpdated):
            if self.instrument is not None:
                self.orders.on_mm_protection(event, self.instrument.product)
            self._dirty = True
        elif isinstance(event, InstrumentsUpdated):
            self._on_instruments(event)
        elif isinstance(event, Connected):
            self._connected = True
            self._connected_ns = now
            self._shutdown = False
            self._cod = event.cancel_on_disconnect
            self.budget.set_cancel_on_disconnect(event.cancel_on_disconnect)
            self.risk.on_connected(now)
            self.flatten.on_reconnected()
            self._last_quote_ns = None
            self._dirty = True
        elif isinstance(event, Disconnected):
            self._connected = False
            self._resync_requested = False
            self.market.book.clear()  # the next connection starts from a fresh snapshot
            self._crossed_since_ns = None  # the next connection starts from a snapshot
            self.orders.on_disconnected()
            changes = self.risk.on_disconnected(now)
            if not self._shutdown:  # the end of a clean stop is not a risk event
                self._notices.extend(changes)
            self.wanted = WantedQuotes(instrument=self.instrument_name)
        elif isinstance(event, KillSwitchPressed):
            urgent = self._kill(now, f"kill switch ({event.source})")
            self.wanted = WantedQuotes(instrument=self.instrument_name)
        elif isinstance(event, ShutdownRequested):
            self._shutdown = True
            urgent = self._cancel_everything(now)
            self.wanted = WantedQuotes(instrument=self.instrument_name)
        elif isinstance(event, TimerFired):
            self.ta.advance(now)
            self._settle_held_portfolio(now)
            self._dirty = True
            urgent = self._check_feeds(now)
        quoted = self._maybe_quote(now)
        if self._connected and not self._shutdown and self.orders.has_leftovers:
            quoted += self._admit(self.orders.leftover_cancels(self.instrument_name), now)
        if self.flatten.active:
            quoted += self._flatten_step(now)
        commands = urgent + quoted if urgent else quoted
        ran = self.quote_steps != steps_before
        if not commands and not self._notices and not ran:
            return EMPTY_STEP  # most events: nothing to send, nothing to say
        return Step(commands=commands, notices=tuple(self._notices), quoted=ran)

    def on_sent(self, request_id: int, command: Command) -> None:
        """The driver is sending ``command`` as request ``request_id``."""
        self.orders.on_sent(request_id, command)

    def next_deadline_ns(self) -> int | None:
        """When the core next wants a ``TimerFired`` (ns, always in the future), or None."""
        # the earliest of the candidates after now (None and 0 stand for "no deadline"); the
        # driver asks after every event, so no list is built
        now = self._now_ns
        best = 0
        if self._dirty and self._last_quote_ns is not None and self._ready():
            best = _earlier_future(best, self._last_quote_ns + self._min_interval_ns, now)
        best = _earlier_future(best, self.budget.next_deadline_ns(), now)
        best = _earlier_future(best, self.risk.next_deadline_ns(), now)
        best = _earlier_future(best, self.side_hold.next_deadline_ns(now), now)
        if self._held_portfolio is not None:
            best = _earlier_future(best, self._held_portfolio[1] + _PORTFOLIO_GRACE_NS, now)
        if self._estimate_intensity:
            best = _earlier_future(best, self.intensity.next_calibration_ns(), now)
        return best if best > now else None

    def stale_for_s(self, now_ns: int) -> float:
        """Seconds since the staler of book and ticker last updated (a stream never seen yet
        does not count while the other one flows); inf if neither was ever seen."""
        ages = [self.market.staleness_s(stream, now_ns) for stream in (Stream.BOOK, Stream.TICKER)]
        seen = [a for a in ages if math.isfinite(a)]
        return max(seen) if seen else math.inf

    def book_crossed_for_s(self, now_ns: int) -> float:
        """Seconds the public book has stayed crossed or locked (best bid >= best ask) without a
        break; 0 when it is not. A lasting cross means a broken local book (a lost delta): the
        core asks for a resynchronisation."""
        if self._crossed_since_ns is None:
            return 0.0
        return max(0.0, (now_ns - self._crossed_since_ns) / _NS)

    # ------------------------------------------------------------------ inputs

    def _on_instruments(self, event: InstrumentsUpdated) -> None:
        for inst in event.added:
            if inst.name == self.instrument_name:
                self.instrument = inst
                # sizes relative to the price wait for the first quote step (_scaled_builder)
                self.builder = None if needs_price(self.config) else self._build(inst, math.nan)
                self.intensity.set_tick_size(inst.tick_size)
                self.tape.set_tick_size(inst.tick_size)
                self._dirty = True

    def _on_market(self, event: Event, now: int) -> None:
        mid_before: float | None = None  # only trades need the touch and mid before
        touch_before: tuple[float | None, float | None] = (None, None)
        if getattr(event, "trades", None):
            mid_before = self.market.book.mid
            # the rest of the market's touch and mid: a print at our own quote is not a print
            # "at the touch" of the market (docs/model.md §4)
            touch_before = self._external_touch()
            if touch_before[0] is not None and touch_before[1] is not None and touch_before[0] < touch_before[1]:
                mid_before = 0.5 * (touch_before[0] + touch_before[1])
        # Intensity learns from the trades inside book messages only: they arrive with the book
        # change they caused (so "mid before" is right) and earlier than recent_trades (§4.2);
        # feeding both would count every trade twice.
        if not self.market.apply(event):
            return
        if isinstance(event, _BOOK_EVENTS):
            bb, ba = self.market.book.best_bid, self.market.book.best_ask
            if bb is not None and ba is not None and bb >= ba:
                if self._crossed_since_ns is None:
                    self._crossed_since_ns = now
            else:
                self._crossed_since_ns = None
            if event.trades:
                fit = self._estimate_intensity
                if fit:
                    self.intensity.start(now)
                # a snapshot (on subscribe, after a resync) repeats trades already counted:
                # only trades newer than every earlier message's are new arrivals
                seen_until = self._last_trade_ts_ns
                markout = self._tape_markout_on
                for t in event.trades:
                    ts = t.ts_ns or now
                    if ts > seen_until:
                        if fit:
                            self.intensity.add_trade(ts, t.price, t.aggressor, mid_before,
                                                     touch_before[1] if t.aggressor is Side.BUY else touch_before[0])
                        self.guard.on_public_trade(ts, t.amount, t.aggressor)
                        if markout:
                            self.tape.add_order(ts, t.aggressor, t.price, mid_before,
                                                touch_before[1] if t.aggressor is Side.BUY else touch_before[0])
                        self._last_trade_ts_ns = max(self._last_trade_ts_ns, ts)
            mid = self._external_mid()
            if mid is not None:
                self.ta.update(now, mid)
                index = self.market.index_price or self.market.ticker.index_price
                if index:
                    self.fair.update_basis(now, mid, index)
        self._dirty = True

    def _on_order_records(self, records: tuple[Any, ...], now: int) -> None:
        for rec in records:
            if isinstance(rec, FillRecorded):
                if rec.instrument != self.instrument_name:
                    continue
                applied = self.position.apply_fill(
                    trade_id=rec.trade_id, side=rec.side, price=rec.price, amount=rec.amount, ts_ns=rec.ts_ns or now
                )
                if applied is not None:
                    self._fills += 1
                    self._volume += rec.amount
                    self.guard.on_fill(now, rec.side, rec.price)
                    self._on_fill_applied(applied, now)
            elif isinstance(rec, OrderRejected) and not rec.expected:
                self._rejects += 1
                self._hold_refused_side(rec, now)
            self._notices.append(rec)

    def _hold_refused_side(self, rec: OrderRejected, now: int) -> None:
        """A refused insert/amend/mass quote is not re-sent blindly: its side waits a backoff."""
        if not isinstance(rec.action, Drop) or not isinstance(rec.command, InsertOrder | AmendOrder | MassQuote):
            return
        tracked = self.orders.get(rec.client_order_id) if rec.client_order_id is not None else None
        sides = (tracked.side,) if tracked is not None else (Side.BUY, Side.SELL)
        for side in sides:
            self.side_hold.on_refused(side, now)

    def _on_portfolio_line(self, entry: Any, now: int, *, snapshot: bool) -> None:
        """The exchange's position wins, but a line that disagrees within a moment of a fill we
        just applied may simply predate that fill (the feeds are not ordered with each other):
        it is held for ``_PORTFOLIO_GRACE_NS`` and adopted only if no fill came since."""
        differs = abs(entry.position - self.position.position) > self.position.tolerance
        if differs and not snapshot and now - self._last_fill_ns < _PORTFOLIO_GRACE_NS:
            self._held_portfolio = (entry, now)
            return
        self._held_portfolio = None
        self._adopt_portfolio(entry, now)

    def _settle_held_portfolio(self, now: int) -> None:
        held = self._held_portfolio
        if held is None or now - held[1] < _PORTFOLIO_GRACE_NS:
            return
        self._held_portfolio = None
        if self._last_fill_ns <= held[1] and self._adopt_portfolio(held[0], now):
            self._dirty = True  # no fill since: the exchange's line stands

    def _adopt_portfolio(self, entry: Any, now: int) -> bool:
        """Reconcile with one portfolio line; True if it disagreed (a discrepancy is recorded)."""
        discrepancy = self.position.reconcile(entry, now)
        if discrepancy is not None:
            self._notices.append(discrepancy)
        return discrepancy is not None

    def _on_fill_applied(self, applied: Any, now: int) -> None:
        self._last_fill_ns = now
        self._notices.extend(self.risk.on_fill(now))
        if applied.round_trip is not None:
            self._notices.extend(self.risk.on_round_trip(applied.round_trip))
        self._dirty = True

    def _on_error(self, event: ErrorReceived, now: int) -> ErrorAction:
        if event.kind is ErrorKind.THROTTLE_EXCEEDED:
            self._throttles += 1
        action = self.budget.on_error(event.kind, now)
        if event.request_id is not None:
            records = self.orders.on_error(event.request_id, event.kind, event.message, code=event.code)
            self._on_order_records(records, now)
        self._dirty = True
        return action

    # ------------------------------------------------------------------ resynchronising

    def _resync(self, reason: ResyncReason, detail: str = "") -> tuple[Command, ...]:
        """One ``Resynchronise`` per connection (the driver is already on its way after it)."""
        if self._resync_requested:
            return ()
        self._resync_requested = True
        return (Resynchronise(reason=reason, detail=detail),)

    def _check_feeds(self, now: int) -> tuple[Command, ...]:
        """Resynchronise when a stream stayed silent, or the book crossed, for
        ``connection.stale_reconnect_s`` (the risk gate pulled the quotes long before). The
        clock starts at the connection at the earliest: its snapshots are still on their way."""
        if not self._connected:
            return ()
        limit = self.config.connection.stale_reconnect_s
        since_connected_s = (now - self._connected_ns) / _NS
        if min(self.stale_for_s(now), since_connected_s) > limit:
            return self._resync(ResyncReason.STALE_DATA, f"book or ticker silent for > {limit:.1f} s")
        if self.book_crossed_for_s(now) > limit:
            # no sequence numbers on the book feed: a lasting cross is a lost delta
            return self._resync(ResyncReason.BOOK_CROSSED, f"for > {limit:.1f} s")
        return ()

    # ------------------------------------------------------------------ quoting

    def _ready(self) -> bool:
        """Connected, instrument known, and the book seen at least once (no quote on nothing)."""
        return (
            self._connected
            and not self._shutdown
            and self.instrument is not None
            and self.market.last_update_ns(Stream.BOOK) is not None
        )

    def _maybe_quote(self, now: int) -> tuple[Command, ...]:
        if not self._dirty or not self._ready():
            return ()
        if self._last_quote_ns is not None and now < self._last_quote_ns + self._min_interval_ns:
            return self._retreat_step(now)
        return self._quote_step(now)

    def _step_key(self) -> tuple:
        book = self.market.book
        return (book.best_bid, book.best_ask, self.position.position, self.risk.state)

    def _retreat_step(self, now: int) -> tuple[Command, ...]:
        """Inside the requote interval: only what moves away from the market goes out now."""
        if self._step_key() == self._retreat_key:
            return ()  # nothing that could call for a retreat changed since the last step
        return self._quote_step(now, retreats_only=True)

    def _external_touch(self) -> tuple[float | None, float | None]:
        """Best bid and ask of the rest of the market: the public book minus our own resting
        size. Fair value and volatility must not follow our own quotes (a skewed quote would
        otherwise drag the mid, the fair value, and the next quote with it)."""
        bid, ask, _ = self._external_touch_and_microprice(microprice=False)
        return bid, ask

    def _external_touch_and_microprice(
        self, *, microprice: bool
    ) -> tuple[float | None, float | None, float | None]:
        """``_external_touch`` and, when asked (else None), the microprice of the rest of the
        market (sizes at the external touch less ours): one look at our own levels for both."""
        book = self.market.book
        bid, ask = book.best_bid, book.best_ask
        if not self.orders.rests_at(self.instrument_name, bid, ask):
            # none of ours rests at the touch: the public touch is the market's
            return bid, ask, (book.microprice if microprice else None)
        top_bid, top_ask = self._external_top()
        bid = top_bid[0] if top_bid else None
        ask = top_ask[0] if top_ask else None
        if not microprice:
            return bid, ask, None
        if top_bid is None or top_ask is None or top_bid[0] >= top_ask[0]:
            return bid, ask, book.microprice
        (b, bq), (a, aq) = top_bid, top_ask
        return bid, ask, (b * aq + a * bq) / (bq + aq)

    def _external_top(self) -> tuple[tuple[float, float] | None, tuple[float, float] | None]:
        """``(price, size)`` of the best bid and ask left once our own size is taken out
        (searched over the top 16 levels; None for a side with nothing else)."""
        book = self.market.book
        own: dict[tuple[Side, float], float] = {}
        for side, price, amount in self.orders.own_levels(self.instrument_name):
            own[(side, price)] = own.get((side, price), 0.0) + amount
        top: list[tuple[float, float] | None] = []
        for side in (Side.BUY, Side.SELL):
            found = None
            for price, amount in book.levels(side, 16):
                rest = amount - own.get((side, price), 0.0)
                if rest > 1e-12:
                    found = (price, rest)
                    break
            top.append(found)
        return top[0], top[1]

    def _external_mid(self) -> float | None:
        bid, ask, _ = self._external_touch_and_microprice(microprice=False)
        if bid is None or ask is None or bid >= ask:
            return self.market.book.mid
        return 0.5 * (bid + ask)

    def _market_snapshot(self, touch: tuple[float | None, float | None]) -> MarketSnapshot:
        t = self.market.ticker
        # the older of the two streams: a book frozen while the ticker ticks is stale data
        book_ns = self.market.last_update_ns(Stream.BOOK) or 0
        ticker_ns = self.market.last_update_ns(Stream.TICKER) or 0
        last = min(book_ns, ticker_ns) if book_ns and ticker_ns else max(book_ns, ticker_ns)
        return MarketSnapshot(
            mark_price=t.mark_price,
            index_price=self.market.index_price or t.index_price,
            best_bid=touch[0],
            best_ask=touch[1],
            last_data_ts_ns=last,
            exchange_ts_ns=self._last_exchange_ts_ns,
        )

    def _position_snapshot(self, mark: float | None) -> PositionSnapshot:
        ref = mark or self._external_mid() or self.position.average_entry_price or 0.0
        return self.position.snapshot(ref)

    def _derive_step_settings(self) -> None:
        """The config switches and values the quote step reads, kept as plain attributes (one
        load per step instead of an attribute chain); set again whenever ``config`` is."""
        cfg = self.config
        av, q = cfg.avellaneda, cfg.quoting
        self._estimate_intensity = av.estimate_intensity
        self._fixed_A, self._fixed_k = av.A, av.k
        self._fv_microprice = q.fair_value is FairValueSource.MICROPRICE
        self._funding_adjust = q.funding_adjust
        self._funding_horizon_s = av.horizon_s if q.funding_adjust else 0.0
        self._inventory_age_on = q.inventory_age_enabled
        self._trend_fade_on = q.trend_fade_enabled
        self._trend_fade_s = q.trend_fade_s
        self._tape_markout_on = q.tape_markout_enabled
        self._one_sided_limit = cfg.risk.position_soft_limit if q.one_sided_at_limit else None

    def _build(self, inst: Instrument, price: float) -> QuoteBuilder:
        cfg = self.config = resolve_for_instrument(self.config, inst, price)
        self._derive_step_settings()
        self.risk.set_limits(cfg.risk)
        return QuoteBuilder(inst, cfg.avellaneda, cfg.quoting, cfg.order)

    def _scaled_builder(self) -> QuoteBuilder | None:
        """The quote builder, made on the first step with a price when sizes are relative to
        it: the config's unset sizes, limits and γ are resolved once, for this instrument at
        this price (core.instrument_scale), and kept for the session."""
        if self.builder is None and self.instrument is not None:
            price = self._external_mid() or self.market.book.mid
            if price is None or not price > 0:
                return None
            self.builder = self._build(self.instrument, price)
        return self.builder

    def _quote_step(self, now: int, *, retreats_only: bool = False) -> tuple[Command, ...]:
        """One quote step; with ``retreats_only`` (inside the interval) the planned advances
        and inserts are dropped, the step stays due at the deadline and is not counted unless
        it sends something."""
        assert self.instrument is not None
        if self._scaled_builder() is None:
            return ()
        assert self.builder is not None
        self._retreat_key = self._step_key()
        if not retreats_only:
            self._dirty = False
            self._last_quote_ns = now
            self.quote_steps += 1
        if self._estimate_intensity:
            self.intensity.maybe_recalibrate(now)
            self.intensity.note_quote(now)
        bid, ask, microprice = self._external_touch_and_microprice(microprice=self._fv_microprice)
        touch = (bid, ask)
        ms = self._market_snapshot(touch)
        pos = self._position_snapshot(ms.mark_price)
        book = self.market.book
        ext_mid = ms.mid_price if ms.mid_price is not None and not ms.crossed else book.mid
        # Evaluate the limits first: the sides the model may quote depend on the state now.
        self._notices.extend(self.risk.evaluate(ms, pos, now))
        baseline = self.risk.take_baseline()  # what the run inherited: once, at the first step
        if baseline is not None:
            self._notices.append(baseline)
        fv = self.fair.compute(
            mid=ext_mid,
            microprice=microprice,
            mark=ms.mark_price,
            index=ms.index_price,
            funding_rate=self.market.ticker.funding_rate if self._funding_adjust else None,
            horizon_s=self._funding_horizon_s,
        )
        # no snapshot since (re)connecting, or an invalid level seen: nothing here is a price
        # to quote around, so nothing is wanted (resting orders are pulled)
        unusable_book = book.health() in _UNUSABLE_BOOK
        if fv is not None and math.isfinite(fv.price) and fv.price > 0 and not unusable_book:
            vol = self.ta.volatility()
            est = self.intensity.current
            A, k = (est.A, est.k) if self._estimate_intensity else (self._fixed_A, self._fixed_k)
            allow_bid, allow_ask = self.risk.allowed_sides(pos.position)
            allow_bid = allow_bid and not self.side_hold.held(Side.BUY, now)
            allow_ask = allow_ask and not self.side_hold.held(Side.SELL, now)
            half_prev = self.figures.half_spread if self.figures else self.instrument.tick_size
            adj = self.guard.adjust(now, half_prev, ext_mid)
            centre_shift = 0.0
            if self._inventory_age_on:
                self.inventory_age.update(now, pos.position)
                centre_shift = self.inventory_age.center_shift(now, half_prev)
            if self._trend_fade_on:
                centre_shift += trend_fade_shift(self.ta.trend.reading(), fv.price, self._trend_fade_s)
            floor = 0.0
            if self._tape_markout_on:
                self.tape.update(now, ext_mid)
                floor = self.tape.widen(half_prev)
            wanted, self.figures = self.builder.build(
                ts_ns=now,
                fair_value=fv.price + adj.center_shift + centre_shift,
                widen_bid=adj.widen_bid + floor,
                widen_ask=adj.widen_ask + floor,
                sigma=vol.sigma_price_per_sqrt_s,
                A=A,
                k=k,
                position=pos.position,
                best_bid=touch[0],
                best_ask=touch[1],
                allow_bid=allow_bid,
                allow_ask=allow_ask,
                position_limit=self._one_sided_limit,
            )
        else:
            wanted = WantedQuotes(instrument=self.instrument_name)
        wanted, denials, changes = self.risk.gate(
            wanted, ms, pos, now, instrument=self.instrument, resting_elsewhere=self.orders.leftover_resting(self.instrument_name)
        )
        self._denials += len(denials)
        self._notices.extend(changes)
        self._notices.extend(denials)
        self.wanted = wanted
        if self.risk.state is TradingState.HALTED:
            planned = self.orders.cancel_everything(self.instrument_name)
        elif self._mass_quote:
            planned = self.orders.plan_mass_quote_prioritised(wanted, self.instrument)
        else:
            planned = self.orders.plan_prioritised(wanted, self.instrument)
        if retreats_only:
            planned = tuple(pc for pc in planned if pc[0] <= Priority.RETREAT)
            if not planned:
                return ()
            self.quote_steps += 1  # it sends: a step for the driver's tick-to-order stamp
        return self._admit(planned, now, position=pos.position)

    def _admit(self, planned: tuple[tuple[Any, Command], ...], now: int, *, position: float | None = None) -> tuple[Command, ...]:
        if not planned:
            return ()
        admitted, deferred = self.budget.admit(planned, now)
        if deferred:
            self._dirty = True
        if not admitted:
            return ()
        out: list[Command] = []
        pos = self.position.position if position is None else position
        # worst-case resting size per side: every live or in-flight order (a pending cancel may
        # lose to a fill; an amend in flight may leave either size resting)
        resting = {Side.BUY: 0.0, Side.SELL: 0.0}
        share: dict[int | str, float] = {}
        for o in self.orders.active_orders(self.instrument_name):
            rem = o.remaining_amount
            if o.pending_amount is not None:
                rem = max(rem, o.pending_amount - o.filled_amount)
            resting[o.side] += rem
            share[o.key] = rem
        blocked = False
        for cmd in admitted:
            side = None
            after = None
            tracked = None
            if isinstance(cmd, InsertOrder):
                side = cmd.side
                after = resting[side] + cmd.amount
            elif isinstance(cmd, _AMEND_OR_CANCEL):
                tracked = self.orders.find(cmd.client_order_id, cmd.order_id)
                side = tracked.side if tracked is not None else None
                if isinstance(cmd, AmendOrder) and tracked is not None:
                    old = share.get(tracked.key, 0.0)
                    new_share = max(old, cmd.amount - tracked.filled_amount)
                    after = resting[tracked.side] - old + new_share
            if blocked and isinstance(cmd, _INSERT_OR_AMEND):
                continue  # a later move may rely on the denied one (self-cross): re-plan
            denied = self.risk.check_command(cmd, now, position=pos, side=side, resting_after=after)
            if denied is not None:
                self._denials += 1
                self._notices.append(denied)
                blocked = self._dirty = True
                continue
            if after is not None and side is not None:
                resting[side] = after
                if tracked is not None:
                    share[tracked.key] = new_share
            out.append(cmd)
        return tuple(out)

    # ------------------------------------------------------------------ stop paths

    def _cancel_everything(self, now: int) -> tuple[Command, ...]:
        if not self._connected:
            return ()
        if self._cod:
            return (CancelSession(),)
        cmds = self.orders.cancel_everything(self.instrument_name)
        admitted, _ = self.budget.admit(cmds, now)
        return admitted

    def _kill(self, now: int, detail: str) -> tuple[Command, ...]:
        book = self.market.book
        mark = self.market.ticker.mark_price or book.mid
        cid = self.orders.allocate_client_order_id() if self.instrument is not None else None
        changes, cmds = self.risk.kill(
            now,
            detail=detail,
            mark_price=mark,
            instrument=self.instrument,
            client_order_id=cid,
            cancel_session=self._cod,
        )
        self._notices.extend(changes)
        pos = self.position.position
        if self.config.risk.kill_switch_action is KillSwitchAction.CANCEL_AND_FLATTEN and (
            self.instrument is None or abs(pos) >= self.instrument.min_order_amount
        ):
            self._notices.append(self.flatten.request(now, pos))
            sent = next((c for c in cmds if isinstance(c, InsertOrder)), None)
            if sent is not None and self._connected:
                self._notices.append(self.flatten.sent(now, sent.client_order_id, pos))
        if not self._connected:
            return tuple(c for c in cmds if isinstance(c, Halt))
        return cmds

    def _flatten_step(self, now: int) -> tuple[Command, ...]:
        """The kill switch's flatten, until the position is flat or the operator cancels it:
        a new reduce-only IOC attempt whenever none is in flight (``flatten.FlattenIntent``)."""
        inst = self.instrument
        if inst is None:
            return ()
        pos = self.position.position
        done = self.flatten.check_flat(now, pos, inst.min_order_amount)
        if done is not None:
            self._notices.append(done)
            return ()
        if not self._connected or self._shutdown:
            return ()
        cid = self.flatten.in_flight_id
        last = self.orders.get(cid) if cid is not None else None
        if not self.flatten.due(now, last is not None and not last.state.is_terminal):
            return ()
        mark = self.market.ticker.mark_price or self.market.book.mid
        order = self.risk.flatten_order(mark, inst, self.orders.allocate_client_order_id(), position=pos)
        if order is None:
            return ()
        denied = self.risk.check_command(order, now, position=pos)
        if denied is not None:
            self._denials += 1
            self._notices.append(denied)
            return ()
        self._notices.append(self.flatten.sent(now, order.client_order_id, pos))
        return (order,)

    def reset_risk(self, now_ns: int) -> tuple[Notice, ...]:
        """Operator reset of sticky halts (loss limits, kill switch); returns the state changes
        (for the driver's sink, like a step's notices)."""
        self._dirty = True
        out: list[Notice] = list(self.risk.reset(now_ns))
        cancelled = self.flatten.cancel(now_ns, self.position.position)
        if cancelled is not None:
            out.append(cancelled)
        return tuple(out)

    # ------------------------------------------------------------------ status

    def status(self) -> CoreStatus:
        book, t = self.market.book, self.market.ticker
        mark = t.mark_price
        snap = self._position_snapshot(mark)
        fig = self.figures
        vol = self.ta.volatility()
        est = self.intensity.current
        bids, asks = self.wanted.bids, self.wanted.asks
        open_orders = tuple(
            (o.side.value, o.price, o.remaining_amount, o.state.value) for o in self.orders.active_orders(self.instrument_name)
        )
        return CoreStatus(
            ts_ns=self._now_ns,
            instrument=self.instrument_name,
            connected=self._connected,
            mid=book.mid,
            best_bid=book.best_bid,
            best_ask=book.best_ask,
            mark=mark,
            index=self.market.index_price or t.index_price,
            fair_value=fig.fair_value if fig else None,
            reservation=fig.reservation_price if fig else None,
            half_spread=fig.half_spread if fig else None,
            our_bid=bids[0].price if bids else None,
            our_ask=asks[0].price if asks else None,
            our_bid_size=bids[0].amount if bids else None,
            our_ask_size=asks[0].amount if asks else None,
            position=snap.position,
            average_price=self.position.average_entry_price,
            pnl_realised=snap.realised_pnl_usd,
            pnl_unrealised=snap.unrealised_pnl_usd,
            fees=snap.fees_usd,
            funding=snap.funding_usd,
            pnl_total=snap.total_pnl_usd,
            sigma=vol.sigma_price_per_sqrt_s,
            sigma_warm=vol.warm,
            A=est.A if self.config.avellaneda.estimate_intensity else self.config.avellaneda.A,
            k=est.k if self.config.avellaneda.estimate_intensity else self.config.avellaneda.k,
            intensity_source=str(getattr(est.source, "value", est.source)),
            gamma=self.builder.gamma if self.builder is not None else self.config.avellaneda.gamma,
            trading_state=self.risk.state.value,
            state_reason=self.risk.reason.value if isinstance(self.risk.reason, Reason) else str(self.risk.reason),
            open_orders=open_orders,
            quote_steps=self.quote_steps,
            fills=self._fills,
            volume=self._volume,
            rejects=self._rejects,
            denials=self._denials,
            throttles=self._throttles,
            max_abs_position=self.position.max_abs_position,
            budget_used=self.budget.me_used(self._now_ns),
            budget_limit=self.budget.me_limit_per_window,
            quote_age_s=None if self._last_quote_ns is None else (self._now_ns - self._last_quote_ns) / _NS,
            market_data_age_s=self.stale_for_s(self._now_ns),
            k_per_tick=est.k_per_tick if math.isfinite(est.k_per_tick) else None,
            A_market=est.A_market if math.isfinite(est.A_market) else None,
            intensity_confidence=est.confidence,
            intensity_fitted_fraction=self.intensity.fitted_fraction,
        )

