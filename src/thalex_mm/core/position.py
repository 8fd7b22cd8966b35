"""Position and PnL of one instrument, from our fills; reconciled against the exchange portfolio.

Accounting is average-cost: adding to a position moves the average entry price; reducing it
realises ``(exit - average) * closed`` (sign-adjusted); crossing zero closes the old position
and opens the remainder at the fill price. Fees are kept apart (positive = paid, a rebate is
negative) and funding too (positive = received), so
``total_pnl = realised + unrealised - fees + funding``.

Every fill is applied once per ``trade_id``. A fill first seen without its fee (an order report,
thalex_protocol.md §5.3) and later with it (``account.trade_history``, §5.4) adds only the fee.

A *round trip* runs from flat to flat (or to a flip through zero); its PnL (realised minus the
fees paid during it) feeds the consecutive-losses rule of the RiskManager.

Units: prices in quote currency (USD), amounts in contracts, PnL in quote currency.
"""

from __future__ import annotations

from dataclasses import dataclass

from thalex_mm.core.events import AccountTrade, PortfolioEntry
from thalex_mm.core.types import Side

__all__ = [
    "FillApplied",
    "PositionDiscrepancy",
    "PositionSnapshot",
    "PositionTracker",
    "RoundTrip",
]

_ZERO = 1e-12


@dataclass(frozen=True, slots=True, kw_only=True)
class RoundTrip:
    """A position that went from flat back to flat (or flipped). PnL net of fees, USD."""

    pnl_usd: float
    opened_ts_ns: int
    closed_ts_ns: int

    @property
    def is_loss(self) -> bool:
        return self.pnl_usd < 0


@dataclass(frozen=True, slots=True, kw_only=True)
class FillApplied:
    """Result of a new fill: the position after it and a completed round trip, if any."""

    trade_id: str
    position: float
    realised_pnl_usd: float
    round_trip: RoundTrip | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionSnapshot:
    """Position and PnL valued at ``mark_price`` (quote currency)."""

    instrument: str
    position: float
    average_entry_price: float
    mark_price: float
    realised_pnl_usd: float
    unrealised_pnl_usd: float
    fees_usd: float
    funding_usd: float

    @property
    def total_pnl_usd(self) -> float:
        return self.realised_pnl_usd + self.unrealised_pnl_usd - self.fees_usd + self.funding_usd

    @property
    def notional_usd(self) -> float:
        return abs(self.position) * self.mark_price


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionDiscrepancy:
    """Our position disagreed with the exchange's by more than the tolerance (contracts).

    The exchange value has been adopted; both are kept for the journal.
    """

    instrument: str
    local_position: float
    exchange_position: float
    local_average_price: float
    exchange_average_price: float | None
    ts_ns: int

    @property
    def difference(self) -> float:
        return self.exchange_position - self.local_position


class PositionTracker:
    """Average-cost position of one instrument.

    Args:
        instrument: instrument name (fills of others are ignored by ``apply_trade``).
        tolerance: largest |local - exchange| position accepted silently, contracts.
    """

    def __init__(self, instrument: str, *, tolerance: float = 1e-9) -> None:
        self.instrument = instrument
        self.tolerance = tolerance
        self.position = 0.0
        self.max_abs_position = 0.0  # largest |position| after any fill or reconcile, contracts
        self.average_entry_price = 0.0
        self.realised_pnl_usd = 0.0
        self.fees_usd = 0.0
        self.funding_usd = 0.0
        # funding accrued on the open position and not yet settled into a trade (the
        # portfolio's unrealised_perpetual_funding; positive = received)
        self.unrealised_funding_usd = 0.0
        self._fees_by_trade: dict[str, float] = {}
        self._funding_keys: set[str] = set()
        self._trip_start_realised = 0.0
        self._trip_start_fees = 0.0
        self._trip_open_ts_ns = 0
        self.round_trips: list[RoundTrip] = []
        self._snapshot_key: tuple[float, ...] = ()
        self._snapshot: PositionSnapshot | None = None
        self._synced = False  # a portfolio line was adopted (the first one is the inheritance)

    # ------------------------------------------------------------------ fills

    def apply_fill(
        self,
        *,
        trade_id: str,
        side: Side,
        price: float,
        amount: float,
        fee: float | None = None,
        ts_ns: int = 0,
    ) -> FillApplied | None:
        """Apply one fill; None if ``trade_id`` was already applied (a known fee may be added).

        Args:
            trade_id: exchange trade id (dedup key).
            side: our side.
            price: fill price, quote currency.
            amount: filled contracts, > 0.
            fee: fee paid, quote currency (negative = rebate); None = not known yet.
            ts_ns: fill time, ns.
        """
        if amount <= 0 or price <= 0:
            raise ValueError(f"fill {trade_id}: got price={price} amount={amount}, expected > 0")
        if trade_id in self._fees_by_trade:
            if fee is not None and self._fees_by_trade[trade_id] == 0.0 and fee != 0.0:
                self._fees_by_trade[trade_id] = fee
                self.fees_usd += fee
            return None
        self._fees_by_trade[trade_id] = fee or 0.0
        self.fees_usd += fee or 0.0

        was_flat = abs(self.position) <= _ZERO
        if was_flat:
            self._start_trip(ts_ns, include_fee=fee or 0.0)
        signed = side.sign * amount
        pos = self.position
        trip: RoundTrip | None = None
        if was_flat or (pos > 0) == (signed > 0):
            new_pos = pos + signed
            self.average_entry_price = (abs(pos) * self.average_entry_price + amount * price) / abs(
                new_pos
            )
            self.position = new_pos
        else:
            closed = min(abs(pos), amount)
            direction = 1.0 if pos > 0 else -1.0
            self.realised_pnl_usd += (price - self.average_entry_price) * closed * direction
            new_pos = pos + signed
            if abs(new_pos) <= _ZERO:
                self.position = 0.0
                self.average_entry_price = 0.0
                trip = self._close_trip(ts_ns)
            elif (new_pos > 0) != (pos > 0):  # flipped: remainder opens at this price
                trip = self._close_trip(ts_ns)
                self._start_trip(ts_ns, include_fee=0.0)
                self.position = new_pos
                self.average_entry_price = price
            else:
                self.position = new_pos
        self.max_abs_position = max(self.max_abs_position, abs(self.position))
        return FillApplied(
            trade_id=trade_id,
            position=self.position,
            realised_pnl_usd=self.realised_pnl_usd,
            round_trip=trip,
        )

    def apply_trade(self, trade: AccountTrade) -> FillApplied | None:
        """Apply an ``account.trade_history`` Trade (with its fee and funding PnL)."""
        if trade.instrument != self.instrument:
            return None
        if trade.perpetual_funding_pnl:
            self.add_funding(trade.perpetual_funding_pnl, key=f"trade:{trade.trade_id}")
        return self.apply_fill(
            trade_id=trade.trade_id,
            side=trade.side,
            price=trade.price,
            amount=trade.amount,
            fee=trade.fee,
            ts_ns=trade.ts_ns,
        )

    def add_funding(self, pnl_usd: float, *, key: str) -> bool:
        """Add funding PnL (positive = received) once per ``key``; False if already added."""
        if key in self._funding_keys:
            return False
        self._funding_keys.add(key)
        self.funding_usd += pnl_usd
        return True

    def _start_trip(self, ts_ns: int, *, include_fee: float) -> None:
        self._trip_start_realised = self.realised_pnl_usd
        self._trip_start_fees = self.fees_usd - include_fee
        self._trip_open_ts_ns = ts_ns

    def _close_trip(self, ts_ns: int) -> RoundTrip:
        pnl = (self.realised_pnl_usd - self._trip_start_realised) - (
            self.fees_usd - self._trip_start_fees
        )
        trip = RoundTrip(pnl_usd=pnl, opened_ts_ns=self._trip_open_ts_ns, closed_ts_ns=ts_ns)
        self.round_trips.append(trip)
        return trip

    # ------------------------------------------------------------------ valuation

    def unrealised_pnl_usd(self, mark_price: float) -> float:
        """``(mark - average) * position``, quote currency."""
        if abs(self.position) <= _ZERO:
            return 0.0
        return (mark_price - self.average_entry_price) * self.position

    def snapshot(self, mark_price: float) -> PositionSnapshot:
        """Position and PnL at ``mark_price`` (memoised until a fill, funding or a new mark)."""
        key = (
            mark_price,
            self.position,
            self.average_entry_price,
            self.realised_pnl_usd,
            self.fees_usd,
            self.funding_usd,
            self.unrealised_funding_usd,
        )
        if key == self._snapshot_key and self._snapshot is not None:
            return self._snapshot
        self._snapshot_key = key
        self._snapshot = snap = PositionSnapshot(
            instrument=self.instrument,
            position=self.position,
            average_entry_price=self.average_entry_price,
            mark_price=mark_price,
            realised_pnl_usd=self.realised_pnl_usd,
            unrealised_pnl_usd=self.unrealised_pnl_usd(mark_price),
            fees_usd=self.fees_usd,
            funding_usd=self.funding_usd + self.unrealised_funding_usd,
        )
        return snap

    # ------------------------------------------------------------------ reconcile

    def reconcile(self, entry: PortfolioEntry, ts_ns: int = 0) -> PositionDiscrepancy | None:
        """Adopt the exchange's position (the exchange wins), and its unsettled funding.

        Adopting the exchange's average price must not step total PnL: after the first line
        (the start-up snapshot, whose position and PnL are inherited as they are), realised PnL
        absorbs the difference, so ``realised + unrealised`` is the same before and after at
        the line's mark price (at any price when the positions agree):
        ``realised' = realised + (m - a_local)·q_local - (m - a_exchange)·q_exchange``.

        Returns:
            A ``PositionDiscrepancy`` when |local - exchange| > ``tolerance``, else None.
        """
        if entry.instrument != self.instrument:
            return None
        if entry.unrealised_perpetual_funding is not None:
            self.unrealised_funding_usd = entry.unrealised_perpetual_funding
        local_pos, local_avg = self.position, self.average_entry_price
        out = None
        if abs(entry.position - local_pos) > self.tolerance:
            out = PositionDiscrepancy(
                instrument=self.instrument,
                local_position=local_pos,
                exchange_position=entry.position,
                local_average_price=local_avg,
                exchange_average_price=entry.average_price,
                ts_ns=ts_ns,
            )
        self.position = entry.position if abs(entry.position) > _ZERO else 0.0
        self.max_abs_position = max(self.max_abs_position, abs(self.position))
        if self.position == 0.0:
            self.average_entry_price = 0.0
        elif entry.average_price is not None:
            self.average_entry_price = entry.average_price
        elif out is not None and local_avg == 0.0 and entry.mark_price:
            self.average_entry_price = entry.mark_price
        if self._synced:
            m = entry.mark_price or self.average_entry_price or local_avg
            before = (m - local_avg) * local_pos if abs(local_pos) > _ZERO else 0.0
            self.realised_pnl_usd += before - (m - self.average_entry_price) * self.position
        self._synced = True
        return out
