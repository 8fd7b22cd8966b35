"""RiskManager: limits, the trading state (ACTIVE / REDUCING / HALTED) and the pre-trade gate.

Every check runs before a command leaves the core: ``gate`` filters the model's wanted quotes
(per level, with a ``QuoteDenied`` record for each cut) and ``check_command`` is the last line
of defence for single commands. State changes are emitted as ``TradingStateChanged``.

Which halts resume by themselves (STICKY_REASONS in ``reasons``):

* sticky until ``reset()`` (a human decision): DRAWDOWN, SESSION_LOSS, DAILY_LOSS,
  TRAILING_STOP, KILL_SWITCH, MANUAL. A daily-loss halt stays after 00:00 UTC; the new day only
  resets the daily baseline.
* resume when the condition clears: DISCONNECTED, STALE_DATA, NO_MARKET, BOOK_CROSSED,
  MARK_MID_DIVERGENCE (checked at every ``evaluate``).
* resume after ``pause_cooldown_s``: FILL_RATE, CONSECUTIVE_LOSSES.
* REDUCING ends with hysteresis, so the state does not flap at a limit: POSITION_HARD_LIMIT
  when |position| <= the soft limit; MAX_NOTIONAL when |position| <= the soft limit or the
  notional is below 90 % of ``max_notional_usd``.

The soft limit does not change the state: the gate removes the side that would add to the
position (``allowed_sides``).

Start-up (inherited state): the first ``evaluate`` of a run takes the baselines of drawdown
(peak), session loss and daily loss from the PnL it sees then, which already values whatever
the account held (the driver feeds the portfolio snapshot before the first quote step), so an
inherited loss does not trip a loss limit at once. A position inherited above the soft limit
starts REDUCING (``INHERITED_POSITION``: only the reducing side quotes, capped at |position|)
until |position| <= the soft limit; above the hard limit POSITION_HARD_LIMIT applies as usual.
``take_baseline`` hands the start-up figures over once, for the journal and the console. Loss figures use ``PositionSnapshot.total_pnl_usd`` (realised +
unrealised - fees + funding); "daily" is measured from the first evaluation of each UTC day
(day = ts_ns // 86400e9).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from thalex_mm.config.models import KillSwitchAction, RiskConfig
from thalex_mm.core.commands import (
    AmendOrder,
    CancelAll,
    CancelSession,
    Command,
    Halt,
    InsertOrder,
    MassQuote,
)
from thalex_mm.core.position import PositionSnapshot, RoundTrip
from thalex_mm.core.reasons import (
    OrderDenied,
    QuoteDenied,
    Reason,
    TradingState,
    TradingStateChanged,
    TradingTrigger,
    next_trading_state,
)
from thalex_mm.core.types import (
    Instrument,
    OrderType,
    QuoteLevel,
    Side,
    TimeInForce,
    WantedQuotes,
    round_to_tick,
)

__all__ = [
    "MarketSnapshot",
    "OrderDenied",
    "QuoteDenied",
    "Reason",
    "RiskManager",
    "RunBaseline",
    "TradingState",
    "TradingStateChanged",
]

_NS_PER_S = 1_000_000_000
_NS_PER_DAY = 86_400 * _NS_PER_S
_EPS = 1e-12
_INF = float("inf")
_PAUSE_REASONS = (Reason.FILL_RATE, Reason.CONSECUTIVE_LOSSES)


@dataclass(slots=True, kw_only=True, unsafe_hash=True)
class MarketSnapshot:
    """What the risk checks need from market state (quote currency; ns).

    One is built per quote step: a written ``__init__`` (compiled; docs/build.md, "Per-event
    value objects"), not a frozen dataclass or a NamedTuple, whose constructors run interpreted.

    Attributes:
        mark_price: exchange mark; None = not known yet.
        index_price: underlying index; None = not known.
        best_bid / best_ask: top of the public book; None = empty side.
        last_data_ts_ns: local time of the last book or ticker update (0 = never).
        exchange_ts_ns: exchange time of that update (for the emitted records).
    """

    mark_price: float | None
    index_price: float | None = None
    best_bid: float | None = None
    best_ask: float | None = None
    last_data_ts_ns: int = 0
    exchange_ts_ns: int = 0

    def __init__(self, *, mark_price: float | None, index_price: float | None = None,
                 best_bid: float | None = None, best_ask: float | None = None,
                 last_data_ts_ns: int = 0, exchange_ts_ns: int = 0) -> None:
        self.mark_price = mark_price
        self.index_price = index_price
        self.best_bid = best_bid
        self.best_ask = best_ask
        self.last_data_ts_ns = last_data_ts_ns
        self.exchange_ts_ns = exchange_ts_ns

    @property
    def mid_price(self) -> float | None:
        if self.best_bid is None or self.best_ask is None:
            return None
        return 0.5 * (self.best_bid + self.best_ask)

    @property
    def crossed(self) -> bool:
        return (
            self.best_bid is not None
            and self.best_ask is not None
            and self.best_bid >= self.best_ask
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RunBaseline:
    """What the run inherited and where its loss limits are measured from (quote currency,
    contracts): the figures of the first risk evaluation."""

    ts_ns: int
    position: float
    average_price: float
    mark_price: float
    pnl_usd: float
    """Total PnL (realised + unrealised - fees + funding) at start: the drawdown peak and the
    session and daily baselines."""
    state: TradingState
    reason: Reason

    @property
    def inherited_nothing(self) -> bool:
        """A clean start: flat, no PnL carried in, trading straight away (nothing to warn of)."""
        return self.position == 0.0 and self.pnl_usd == 0.0 and self.state is TradingState.ACTIVE

    def line(self) -> str:
        """One console line for the start-up summary."""
        if self.inherited_nothing:
            return "inherited   nothing (flat, PnL 0); starts active"
        held = (
            f"position {self.position:+g} @ {self.average_price:.2f} (mark {self.mark_price:.2f})"
            if self.position else "flat"
        )
        return (
            f"inherited   {held}; "
            f"PnL baseline {self.pnl_usd:+.2f} USD for drawdown, session and daily loss; "
            f"starts {self.state.value} ({self.reason.value})"
        )


def _bps(a: float, ref: float) -> float:
    return abs(a - ref) / ref * 1e4


class RiskManager:
    """Risk limits from ``RiskConfig``; owns the trading state.

    Args:
        config: the ``[risk]`` section. Position limits and the max order size left unset
            (relative to the order size, ``core.instrument_scale``) bound nothing until
            :meth:`set_limits` gives the resolved values; the core quotes only after that.
        label: label of flatten orders.
    """

    def __init__(self, config: RiskConfig, *, label: str | None = None) -> None:
        config = _unbounded_until_resolved(config)
        self._cfg = config
        self._label = label
        self.state = TradingState.ACTIVE
        self.reason = Reason.RESUMED
        self.since_ts_ns = 0
        self._sticky: dict[Reason, str] = {}
        self._paused_until: dict[Reason, int] = {}
        self._conditions: list[tuple[Reason, str]] = []  # halts recomputed at each evaluate
        self._reduces: list[tuple[Reason, str]] = []
        self._connected = True
        self._peak_pnl = 0.0
        self._day: int | None = None
        self._day_start_pnl = 0.0
        self._session_base_pnl = 0.0  # session loss is measured from here (moved by reset)
        self._last_pnl = 0.0
        self._fills: deque[int] = deque()
        self.consecutive_losses = 0
        self._last_data_ts_ns = 0
        self._position = 0.0
        self._divergence_frac = config.mark_mid_divergence_bps / 1e4
        self._passed_key: tuple | None = None
        # the config is frozen: its limits are read once (hot path)
        self._max_drawdown = config.max_drawdown_usd
        self._session_loss = config.session_loss_limit_usd
        self._daily_loss = config.daily_loss_limit_usd
        self._trailing_stop = config.trailing_stop_usd
        self._stale_ns = config.stale_data_timeout_s * _NS_PER_S
        self._soft_limit, self._hard_limit, self._max_size = _resolved_limits(config)
        self._max_notional = config.max_notional_usd
        self._band_frac = config.price_band_bps / 1e4
        # (market, position, now_ns) of the last evaluate: gate() right after evaluate() with
        # the same objects does not evaluate again (nothing can have changed in between;
        # every other input method clears it)
        self._evaluated: tuple | None = None
        self._stale_deadline_ns = int(self._stale_ns)  # the timer's offset from the last data
        self._baseline: RunBaseline | None = None  # set by the first evaluate
        self._baseline_taken = False
        self._inherited = False  # started above the soft limit: REDUCING until back within

    def set_limits(self, config: RiskConfig) -> None:
        """Adopt the position limits and max order size resolved for the instrument
        (contracts); the trading state and its history are kept."""
        self._cfg = _unbounded_until_resolved(config)
        self._soft_limit, self._hard_limit, self._max_size = _resolved_limits(self._cfg)
        self._evaluated = None

    # ------------------------------------------------------------------ inputs

    def evaluate(
        self, market: MarketSnapshot, position: PositionSnapshot, now_ns: int
    ) -> tuple[TradingStateChanged, ...]:
        """Re-check every limit at ``now_ns`` (ns) and move the trading state if needed."""
        self._evaluated = (market, position, now_ns)
        last_data = market.last_data_ts_ns
        self._last_data_ts_ns = last_data
        signed = position.position
        self._position = signed
        pnl = position.total_pnl_usd
        self._last_pnl = pnl
        if self._baseline is None:
            self._start_from(position, pnl, now_ns)
        peak = self._peak_pnl
        if pnl > peak:
            peak = self._peak_pnl = pnl
        day = now_ns // _NS_PER_DAY
        if self._day != day:
            self._day, self._day_start_pnl = day, pnl
        drawdown = peak - pnl
        sticky = self._sticky
        if drawdown >= self._max_drawdown:
            sticky.setdefault(Reason.DRAWDOWN, f"drawdown {drawdown:.2f} USD from peak")
        session = pnl - self._session_base_pnl
        if -session >= self._session_loss:
            sticky.setdefault(Reason.SESSION_LOSS, f"session PnL {session:.2f} USD")
        daily = pnl - self._day_start_pnl
        if -daily >= self._daily_loss:
            sticky.setdefault(Reason.DAILY_LOSS, f"daily PnL {daily:.2f} USD")
        trailing = self._trailing_stop
        if trailing is not None and peak > 0 and drawdown >= trailing:
            sticky.setdefault(Reason.TRAILING_STOP, f"PnL {pnl:.2f} USD, peak {peak:.2f} USD")

        cond: list[tuple[Reason, str]] = []
        if not self._connected:
            cond.append((Reason.DISCONNECTED, ""))
        age_ns = now_ns - last_data
        if last_data <= 0 or age_ns >= self._stale_ns:
            cond.append((Reason.STALE_DATA, f"no book/ticker for {age_ns / _NS_PER_S:.1f} s"))
        mark = market.mark_price
        if mark is None or mark <= 0:
            cond.append((Reason.NO_MARKET, "no mark price"))
        bid, ask = market.best_bid, market.best_ask
        if bid is not None and ask is not None:
            if bid >= ask:
                cond.append((Reason.BOOK_CROSSED, f"bid {bid} >= ask {ask}"))
            mid = 0.5 * (bid + ask)
            if mark and abs(mid - mark) > self._divergence_frac * mark:
                cond.append((Reason.MARK_MID_DIVERGENCE, f"mid {mid} vs mark {mark}"))
        self._conditions = cond

        reduces: list[tuple[Reason, str]] = []
        pos = abs(signed)
        prev = self._reduces
        hard_was = prev and any(r is Reason.POSITION_HARD_LIMIT for r, _ in prev)
        soft = self._soft_limit
        if pos >= self._hard_limit - _EPS or (hard_was and pos > soft + _EPS):
            reduces.append((Reason.POSITION_HARD_LIMIT, f"|position| {pos}"))
        if self._inherited:
            if pos > soft + _EPS:
                reduces.append((Reason.INHERITED_POSITION, f"|position| {pos} inherited above the soft limit"))
            else:
                self._inherited = False  # worked down: from now on the usual limits only
        notional = pos * (mark or position.mark_price)
        max_notional = self._max_notional
        if notional >= max_notional or (
            prev
            and pos > soft + _EPS
            and notional >= max_notional * 0.9
            and any(r is Reason.MAX_NOTIONAL for r, _ in prev)
        ):
            reduces.append((Reason.MAX_NOTIONAL, f"notional {notional:.2f} USD"))
        self._reduces = reduces
        if (
            not (sticky or cond or reduces or self._paused_until)
            and self.state is TradingState.ACTIVE
            and self.reason is Reason.RESUMED
        ):
            return ()  # the common case: all clear and already ACTIVE (what _retarget finds)
        return self._retarget(now_ns, market.exchange_ts_ns)

    def _start_from(self, position: PositionSnapshot, pnl: float, now_ns: int) -> None:
        """First evaluation of the run: baselines from what the account holds now."""
        self._peak_pnl = self._session_base_pnl = self._day_start_pnl = pnl
        self._day = now_ns // _NS_PER_DAY
        self._inherited = abs(position.position) > self._soft_limit + _EPS
        self._baseline = RunBaseline(
            ts_ns=now_ns, position=position.position, average_price=position.average_entry_price,
            mark_price=position.mark_price, pnl_usd=pnl, state=self.state, reason=self.reason,
        )

    def take_baseline(self) -> RunBaseline | None:
        """The run's start-up figures, once (after the first ``evaluate``), with the state it
        started in; None before and afterwards."""
        if self._baseline is None or self._baseline_taken:
            return None
        self._baseline_taken = True
        b = self._baseline
        return RunBaseline(ts_ns=b.ts_ns, position=b.position, average_price=b.average_price,
                           mark_price=b.mark_price, pnl_usd=b.pnl_usd, state=self.state, reason=self.reason)

    def on_fill(self, ts_ns: int) -> tuple[TradingStateChanged, ...]:
        """Count a fill of ours for the fill-rate rule (N fills in M s -> pause)."""
        self._evaluated = None
        window_ns = int(self._cfg.fill_rate_window_s * _NS_PER_S)
        fills = self._fills
        fills.append(ts_ns)
        while fills and fills[0] <= ts_ns - window_ns:
            fills.popleft()
        if len(fills) >= self._cfg.fill_rate_max_fills:
            self._pause(Reason.FILL_RATE, ts_ns)
            fills.clear()
        return self._retarget(ts_ns, 0)

    def on_round_trip(self, trip: RoundTrip) -> tuple[TradingStateChanged, ...]:
        """Count consecutive losing round trips; at the limit, pause (counter restarts)."""
        self._evaluated = None
        self.consecutive_losses = self.consecutive_losses + 1 if trip.is_loss else 0
        if self.consecutive_losses >= self._cfg.max_consecutive_losses:
            self._pause(Reason.CONSECUTIVE_LOSSES, trip.closed_ts_ns)
            self.consecutive_losses = 0
        return self._retarget(trip.closed_ts_ns, 0)

    def on_disconnected(self, ts_ns: int) -> tuple[TradingStateChanged, ...]:
        self._evaluated = None
        self._connected = False
        self._conditions = [*self._conditions, (Reason.DISCONNECTED, "")]
        return self._retarget(ts_ns, 0)

    def on_connected(self, ts_ns: int) -> None:
        """Connected again; quoting resumes at the next ``evaluate`` with fresh data."""
        self._evaluated = None
        self._connected = True

    def halt(self, now_ns: int, detail: str = "") -> tuple[TradingStateChanged, ...]:
        """Manual halt (sticky)."""
        self._evaluated = None
        self._sticky[Reason.MANUAL] = detail
        return self._retarget(now_ns, 0)

    def kill(
        self,
        now_ns: int,
        *,
        detail: str = "",
        mark_price: float | None = None,
        instrument: Instrument | None = None,
        client_order_id: int | None = None,
        cancel_session: bool = False,
    ) -> tuple[tuple[TradingStateChanged, ...], tuple[Command, ...]]:
        """Kill switch: HALTED (sticky), cancel everything, optionally flatten.

        With ``kill_switch_action = cancel_and_flatten`` and a position, adds one reduce-only IOC
        limit order at most ``flatten_max_slippage_bps`` from ``mark_price`` (needs
        ``mark_price``, ``instrument`` and ``client_order_id``).

        With ``cancel_session`` (a cancel-on-disconnect session) the cancel is ``CancelSession``,
        which also catches orders still in flight (thalex_protocol.md §3); else ``CancelAll``.

        Returns:
            ``(changes, commands)``: the cancel, ``Halt`` and maybe the flatten ``InsertOrder``.
        """
        self._evaluated = None
        self._sticky[Reason.KILL_SWITCH] = detail
        changes = self._retarget(now_ns, 0)
        cancel: Command = CancelSession() if cancel_session else CancelAll()
        cmds: list[Command] = [cancel, Halt(reason=Reason.KILL_SWITCH.value, detail=detail)]
        flatten = self._flatten_order(mark_price, instrument, client_order_id, self._position)
        if flatten is not None:
            cmds.append(flatten)
        return changes, tuple(cmds)

    def reset(self, now_ns: int) -> tuple[TradingStateChanged, ...]:
        """Manual reset: lift sticky halts and pauses; conditions still present apply again.

        The loss limits are re-based at the current PnL (session and daily baselines, drawdown
        peak), otherwise the next evaluation would trip them again at once.
        """
        self._evaluated = None
        self._sticky.clear()
        self._session_base_pnl = self._day_start_pnl = self._last_pnl
        self._paused_until.clear()
        self.consecutive_losses = 0
        self._peak_pnl = self._last_pnl
        return self._retarget(now_ns, 0, manual=True)

    # ------------------------------------------------------------------ outputs

    def next_deadline_ns(self) -> int | None:
        """When a pause ends or data would turn stale (ns); None if nothing is scheduled."""
        stale = self._last_data_ts_ns + self._stale_deadline_ns if self._last_data_ts_ns > 0 else None
        if not self._paused_until:  # the common case, asked after every event
            return stale
        times = list(self._paused_until.values())
        if stale is not None:
            times.append(stale)
        return min(times)

    def allowed_sides(self, position: float) -> tuple[bool, bool]:
        """``(bids_allowed, asks_allowed)`` for this position (contracts) and state."""
        if self.state is TradingState.HALTED:
            return False, False
        soft = self._soft_limit
        reducing = self.state is TradingState.REDUCING
        bids = position < soft - _EPS and not (reducing and position >= -_EPS)
        asks = position > -soft + _EPS and not (reducing and position <= _EPS)
        return bids, asks

    def gate(
        self,
        wanted: WantedQuotes,
        market: MarketSnapshot,
        position: PositionSnapshot,
        now_ns: int,
        *,
        instrument: Instrument | None = None,
        resting_elsewhere: tuple[float, float] = (0.0, 0.0),
    ) -> tuple[WantedQuotes, tuple[QuoteDenied, ...], tuple[TradingStateChanged, ...]]:
        """Evaluate the limits, then cut ``wanted`` down to what they allow.

        Checks per level: state (HALTED: nothing; REDUCING: the reducing side only, its total
        capped at |position|), soft limit (one side), max order size (cut), price band vs mark
        and index, cumulative position/notional room (a full fill of the side stays within the
        hard limit and max notional), self-cross (a bid at or above our best ask).

        ``resting_elsewhere`` is ``(bids, asks)`` contracts that rest outside these quotes (kept
        leftover orders of the account): they use up room on their side as if quoted here.

        Returns:
            ``(allowed, denials, state_changes)``. With ``instrument``, cut amounts are aligned
            down to ``volume_tick_size`` and levels below ``min_order_amount`` removed.
        """
        ev = self._evaluated
        if ev is not None and ev[0] is market and ev[1] is position and ev[2] == now_ns:
            changes: tuple[TradingStateChanged, ...] = ()  # just evaluated with these inputs
        else:
            changes = self.evaluate(market, position, now_ns)
        pos = position.position
        denials: list[QuoteDenied] = []
        bids_ok, asks_ok = self.allowed_sides(pos)
        band = self._band_frac
        lo, hi = 0.0, _INF
        for ref in (market.mark_price, market.index_price):
            if ref:
                r_lo, r_hi = ref * (1.0 - band), ref * (1.0 + band)
                if r_lo > lo:
                    lo = r_lo
                if r_hi < hi:
                    hi = r_hi
        # Memo of the last quotes that passed uncut: same levels, position, band and state
        # pass again (levels are usually the QuoteBuilder's reused objects: cheap to compare).
        key = (wanted.bids, wanted.asks, pos, lo, hi, self.state, instrument, resting_elsewhere)
        if key == self._passed_key:
            return wanted, (), changes
        bids = self._filter_side(
            wanted.bids, Side.BUY, bids_ok, pos, lo, hi, instrument, now_ns, denials,
            resting_elsewhere[0],
        )
        asks = self._filter_side(
            wanted.asks, Side.SELL, asks_ok, pos, lo, hi, instrument, now_ns, denials,
            resting_elsewhere[1],
        )
        if asks and bids:
            best_ask = asks[0].price
            for lv in asks:
                if lv.price < best_ask:
                    best_ask = lv.price
            for lv in [lv for lv in bids if lv.price >= best_ask]:
                self._deny(denials, now_ns, lv, Reason.SELF_CROSS, detail=f"our ask {best_ask}")
                bids.remove(lv)
        if not denials and bids_ok and asks_ok:
            self._passed_key = key
            return wanted, (), changes  # nothing cut: hand back the same object
        self._passed_key = None
        allowed = WantedQuotes(instrument=wanted.instrument, bids=tuple(bids), asks=tuple(asks))
        return allowed, tuple(denials), changes

    @staticmethod
    def _deny(
        denials: list[QuoteDenied],
        now_ns: int,
        lv: QuoteLevel,
        reason: Reason,
        allowed: float = 0.0,
        detail: str = "",
    ) -> None:
        denials.append(
            QuoteDenied(
                ts_ns=now_ns,
                reason=reason,
                side=lv.side,
                level=lv.level,
                price=lv.price,
                amount=lv.amount,
                allowed_amount=allowed,
                detail=detail,
            )
        )

    def _filter_side(
        self,
        levels: tuple[QuoteLevel, ...],
        side: Side,
        ok: bool,
        pos: float,
        lo: float,
        hi: float,
        instrument: Instrument | None,
        now_ns: int,
        denials: list[QuoteDenied],
        used: float = 0.0,
    ) -> list[QuoteLevel]:
        """One side of the gate (hot path: plain locals, a level object is reused when uncut)."""
        out: list[QuoteLevel] = []
        if not ok:
            why = (
                self.reason if self.state is not TradingState.ACTIVE else Reason.POSITION_SOFT_LIMIT
            )
            for lv in levels:
                self._deny(denials, now_ns, lv, why)
            return out
        cfg = self._cfg
        max_size = self._max_size
        hard = self._hard_limit
        max_notional = cfg.max_notional_usd
        apos = abs(pos)
        reduces = (side is Side.SELL and pos > 0) or (side is Side.BUY and pos < 0)
        reduce_only = reduces and self.state is TradingState.REDUCING
        vtick = instrument.volume_tick_size if instrument is not None else 0.0
        min_amount = instrument.min_order_amount if instrument is not None else 0.0
        for lv in levels:
            price = lv.price
            if price < lo or price > hi:
                self._deny(
                    denials, now_ns, lv, Reason.PRICE_BAND, detail=f"band {lo:.2f}..{hi:.2f}"
                )
                continue
            amount = lv.amount
            cut_reason = None
            if amount > max_size:
                amount, cut_reason = max_size, Reason.MAX_ORDER_SIZE
            if reduce_only:
                room, why = apos - used, Reason.REDUCE_ONLY
            elif reduces:
                room = min(hard, max_notional / price) + apos - used
                why = Reason.POSITION_HARD_LIMIT
            else:
                room, why = hard - apos - used, Reason.POSITION_HARD_LIMIT
                notional_room = max_notional / price - apos - used
                if notional_room < room:
                    room, why = notional_room, Reason.MAX_NOTIONAL
            if amount > room + _EPS:
                amount, cut_reason = max(0.0, room), why
            if cut_reason is not None and vtick:
                amount = round_to_tick(amount, vtick, "down")
            if amount <= _EPS or amount < min_amount - _EPS:
                self._deny(denials, now_ns, lv, cut_reason or Reason.POSITION_HARD_LIMIT)
                continue
            if cut_reason is not None:
                self._deny(denials, now_ns, lv, cut_reason, allowed=amount)
                lv = QuoteLevel(side=side, level=lv.level, price=price, amount=amount)
            used += amount
            out.append(lv)
        return out

    def check_command(
        self,
        cmd: Command,
        now_ns: int,
        *,
        position: float | None = None,
        side: Side | None = None,
        resting_after: float | None = None,
    ) -> OrderDenied | None:
        """Last line of defence before the wire; None = allowed.

        Cancels, ``Halt`` and ``SetMmp`` always pass. HALTED allows only a reduce-only IOC
        insert that reduces the position (the flatten order, exempt from max order size).
        ``side`` tells the side of an ``AmendOrder`` (amends carry none). ``resting_after`` is
        our worst-case resting size on the command's side once it is sent (every live or
        in-flight order, pending cancels included: a cancel may lose the race to a fill),
        contracts; with it, an insert or amend is denied when a fill of all of it would take
        the position past the hard limit.
        """
        pos = self._position if position is None else position
        name = type(cmd).__name__
        cid = getattr(cmd, "client_order_id", None)

        def denied(reason: Reason, detail: str = "") -> OrderDenied:
            return OrderDenied(
                ts_ns=now_ns, reason=reason, command=name, client_order_id=cid, detail=detail
            )

        halted = self.state is TradingState.HALTED
        reducing = self.state is TradingState.REDUCING
        max_size = self._max_size
        if isinstance(cmd, InsertOrder):
            reduces = cmd.side.sign * pos < 0 and cmd.amount <= abs(pos) + _EPS
            if halted:
                flatten = cmd.reduce_only and cmd.time_in_force is TimeInForce.IOC and reduces
                return None if flatten else denied(Reason.HALTED, self.reason.value)
            if cmd.amount > max_size + _EPS:
                return denied(Reason.MAX_ORDER_SIZE, f"{cmd.amount} > {max_size}")
            if reducing and not reduces:
                return denied(Reason.REDUCE_ONLY, f"{cmd.side} {cmd.amount} at position {pos}")
            if (
                abs(pos + cmd.side.sign * cmd.amount) > self._hard_limit + _EPS
                and not reduces
            ):
                return denied(Reason.POSITION_HARD_LIMIT, f"position {pos} + {cmd.amount}")
            if not cmd.reduce_only and self._over_hard_limit(cmd.side, pos, resting_after):
                return denied(Reason.POSITION_HARD_LIMIT, f"position {pos} + resting {resting_after}")
            return None
        if isinstance(cmd, AmendOrder):
            if halted:
                return denied(Reason.HALTED, self.reason.value)
            if cmd.amount > max_size + _EPS:
                return denied(Reason.MAX_ORDER_SIZE, f"{cmd.amount} > {max_size}")
            if reducing and (side is None or side.sign * pos >= 0):
                return denied(Reason.REDUCE_ONLY, "amend while reducing")
            if side is not None and self._over_hard_limit(side, pos, resting_after):
                return denied(Reason.POSITION_HARD_LIMIT, f"position {pos} + resting {resting_after}")
            return None
        if isinstance(cmd, MassQuote):
            for q in cmd.quotes:
                for s, levels in ((Side.BUY, q.bids), (Side.SELL, q.asks)):
                    levels = levels or ()
                    if levels and halted:
                        return denied(Reason.HALTED, self.reason.value)
                    if any(a > max_size + _EPS for _, a in levels):
                        return denied(Reason.MAX_ORDER_SIZE, f"{s} level above {max_size}")
                    if (
                        levels
                        and reducing
                        and (s.sign * pos >= 0 or sum(a for _, a in levels) > abs(pos) + _EPS)
                    ):
                        return denied(Reason.REDUCE_ONLY, f"{s} side while reducing")
            return None
        return None

    # ------------------------------------------------------------------ internals

    def _over_hard_limit(self, side: Side, pos: float, resting_after: float | None) -> bool:
        return resting_after is not None and side.sign * pos + resting_after > self._hard_limit + _EPS

    def _pause(self, reason: Reason, ts_ns: int) -> None:
        until = ts_ns + int(self._cfg.pause_cooldown_s * _NS_PER_S)
        self._paused_until[reason] = max(self._paused_until.get(reason, 0), until)

    def _target(self, now_ns: int) -> tuple[TradingState, Reason, str]:
        if not (self._sticky or self._conditions or self._paused_until or self._reduces):
            return TradingState.ACTIVE, Reason.RESUMED, ""
        for reason, until in list(self._paused_until.items()):
            if now_ns >= until:
                del self._paused_until[reason]
        halts = [*self._sticky.items()]
        halts += self._conditions
        halts += [(r, "paused") for r in _PAUSE_REASONS if r in self._paused_until]
        if halts:
            return TradingState.HALTED, halts[0][0], halts[0][1]
        if self._reduces:
            return TradingState.REDUCING, self._reduces[0][0], self._reduces[0][1]
        return TradingState.ACTIVE, Reason.RESUMED, ""

    def _retarget(
        self, now_ns: int, exchange_ts_ns: int, *, manual: bool = False
    ) -> tuple[TradingStateChanged, ...]:
        state, reason, detail = self._target(now_ns)
        if state is self.state and reason is self.reason:
            return ()
        if state is TradingState.HALTED:
            trigger = TradingTrigger.HALT
        elif state is TradingState.REDUCING:
            trigger = TradingTrigger.REDUCE
        else:
            trigger = TradingTrigger.RESET if manual else TradingTrigger.RECOVER
            if manual:
                reason = Reason.MANUAL
            elif self.state is TradingState.ACTIVE:
                # ACTIVE since a manual reset (reason MANUAL) and still nothing wrong: not a
                # state change (the table has no ACTIVE -> RECOVER); the reason stops naming it
                self.reason = reason
                return ()
        if state is self.state and reason is self.reason:
            return ()
        previous = self.state
        self.state = next_trading_state(self.state, trigger)
        self.reason, self.since_ts_ns = reason, now_ns
        return (
            TradingStateChanged(
                exchange_ts_ns=exchange_ts_ns,
                local_ts_ns=now_ns,
                state=self.state,
                previous=previous,
                reason=reason,
                detail=detail or ("reset" if manual else ""),
            ),
        )

    def flatten_order(
        self, mark: float | None, instrument: Instrument | None, cid: int | None, *, position: float | None = None
    ) -> InsertOrder | None:
        """The reduce-only IOC order closing ``position`` (default: the last evaluated one) at
        most ``flatten_max_slippage_bps`` from ``mark``; None without a mark, an instrument, an
        id, a tradeable amount, or with ``kill_switch_action = cancel``."""
        return self._flatten_order(mark, instrument, cid, self._position if position is None else position)

    def _flatten_order(
        self, mark: float | None, instrument: Instrument | None, cid: int | None, position: float
    ) -> InsertOrder | None:
        if self._cfg.kill_switch_action is not KillSwitchAction.CANCEL_AND_FLATTEN:
            return None
        if mark is None or instrument is None or cid is None:
            return None
        amount = round_to_tick(abs(position), instrument.volume_tick_size, "down")
        if amount < instrument.min_order_amount - _EPS or amount <= 0:
            return None
        slip = self._cfg.flatten_max_slippage_bps / 1e4
        if position > 0:
            side, price = Side.SELL, round_to_tick(mark * (1 - slip), instrument.tick_size, "up")
        else:
            side, price = Side.BUY, round_to_tick(mark * (1 + slip), instrument.tick_size, "down")
        return InsertOrder(
            client_order_id=cid,
            instrument=instrument.name,
            side=side,
            amount=amount,
            price=price,
            label=self._label,
            order_type=OrderType.LIMIT,
            time_in_force=TimeInForce.IOC,
            post_only=False,
            reduce_only=True,
        )


def _unbounded_until_resolved(config: RiskConfig) -> RiskConfig:
    """Unset (instrument-relative) size limits as +inf: nothing to compare against yet."""
    unset = {k: float("inf") for k in ("position_soft_limit", "position_hard_limit", "max_order_size")
             if getattr(config, k) is None}
    return config.model_copy(update=unset) if unset else config


def _resolved_limits(config: RiskConfig) -> tuple[float, float, float]:
    """``(soft, hard, max order size)``, contracts, as plain floats (+inf where unset)."""
    soft, hard, size = config.position_soft_limit, config.position_hard_limit, config.max_order_size
    inf = float("inf")
    return (inf if soft is None else soft, inf if hard is None else hard, inf if size is None else size)
