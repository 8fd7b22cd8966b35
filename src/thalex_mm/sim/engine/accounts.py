"""Accounts: positions, average entry price, realised/unrealised PnL, fees and funding.

Linear USD-settled perpetuals/futures (Thalex delta-1 products): PnL and fees are in quote
currency (USD).

* Fee of a fill = ``fee_rate * price * amount`` with ``fee_rate`` the maker or taker rate
  (a negative maker rate is a rebate). Fees are subtracted from cash.
* Average price: the volume-weighted entry price of the open position; reducing trades realise
  ``(price - average_price) * closed * sign(position)`` and leave the average unchanged; a trade
  through zero opens the remainder at the trade price.
* Unrealised PnL = ``(mark - average_price) * position``.
* Funding: ``accrue_funding(rate_24h, mark, dt_s)`` books
  ``-position * mark * rate_24h * dt_s / 86400`` (a positive rate: longs pay shorts), per the
  Thalex perp convention "funding accrues every second on a 24 h basis" (thalex_protocol.md §8).
  It is reported as ``unrealised_perpetual_funding`` and included in cash.
* Summary: ``cash_collateral = initial_cash + realised - fees + funding``;
  ``margin = cash_collateral + unrealised``; ``required_margin = sum(|position| * mark *
  margin_rate)``; ``remaining_margin = margin - required_margin``;
  ``session_realised_pnl = realised - fees + funding``.
"""

from __future__ import annotations

from thalex_mm.core.events import AccountSummaryUpdated, PortfolioEntry
from thalex_mm.sim.engine.fast import fast_constructor

__all__ = ["Ledger", "Position"]

_make_entry = fast_constructor(PortfolioEntry)


class Position:
    """One account's position in one instrument (mutable, engine-internal)."""

    __slots__ = ("average_price", "fees", "funding", "instrument", "position", "realised_pnl")

    def __init__(self, instrument: str) -> None:
        self.instrument = instrument
        self.position = 0.0
        self.average_price = 0.0
        self.realised_pnl = 0.0
        self.fees = 0.0
        self.funding = 0.0

    def apply(self, sign: int, price: float, amount: float) -> None:
        """Book a trade of ``amount`` contracts at ``price`` in direction ``sign`` (+1 buy)."""
        pos = self.position
        if pos == 0.0 or (pos > 0.0) == (sign > 0):
            new_abs = abs(pos) + amount
            self.average_price = (self.average_price * abs(pos) + price * amount) / new_abs
            self.position = round(pos + sign * amount, 10)
            return
        closed = min(amount, abs(pos))
        direction = 1.0 if pos > 0.0 else -1.0
        self.realised_pnl += (price - self.average_price) * closed * direction
        new_pos = round(pos + sign * amount, 10)
        if new_pos == 0.0:
            self.average_price = 0.0
        elif (new_pos > 0.0) != (pos > 0.0):
            self.average_price = price
        self.position = new_pos

    def unrealised(self, mark: float | None) -> float:
        if mark is None or self.position == 0.0:
            return 0.0
        return (mark - self.average_price) * self.position


class Ledger:
    """All accounts' positions and cash.

    Args:
        maker_fee_rate: fraction of notional charged to the maker (negative = rebate).
        taker_fee_rate: fraction of notional charged to the taker.
        initial_cash_usd: starting cash of every account, USD.
        margin_rate: required margin as a fraction of |position| * mark.
        fee_free_accounts: accounts charged no fees (the external counterparty).
    """

    __slots__ = (
        "_cash",
        "_positions",
        "fee_free_accounts",
        "initial_cash_usd",
        "maker_fee_rate",
        "margin_rate",
        "marks",
        "taker_fee_rate",
    )

    def __init__(
        self,
        *,
        maker_fee_rate: float,
        taker_fee_rate: float,
        initial_cash_usd: float,
        margin_rate: float,
        fee_free_accounts: frozenset[str] = frozenset(),
    ) -> None:
        self.maker_fee_rate = maker_fee_rate
        self.taker_fee_rate = taker_fee_rate
        self.initial_cash_usd = initial_cash_usd
        self.margin_rate = margin_rate
        self.fee_free_accounts = fee_free_accounts
        self.marks: dict[str, float] = {}
        self._positions: dict[str, dict[str, Position]] = {}
        self._cash: dict[str, float] = {}

    def ensure_account(self, account: str) -> None:
        if account not in self._positions:
            self._positions[account] = {}
            self._cash[account] = self.initial_cash_usd

    def position(self, account: str, instrument: str) -> float:
        p = self._positions.get(account, {}).get(instrument)
        return p.position if p is not None else 0.0

    def get(self, account: str, instrument: str) -> Position:
        self.ensure_account(account)
        book = self._positions[account]
        p = book.get(instrument)
        if p is None:
            p = book[instrument] = Position(instrument)
        return p

    def apply_fill(
        self, account: str, instrument: str, sign: int, price: float, amount: float, maker: bool
    ) -> tuple[float, float, float]:
        """Book one fill.

        Returns:
            ``(fee_usd, fee_rate, position_after)``.
        """
        p = self.get(account, instrument)
        p.apply(sign, price, amount)
        if account in self.fee_free_accounts:
            return 0.0, 0.0, p.position
        rate = self.maker_fee_rate if maker else self.taker_fee_rate
        fee = rate * price * amount
        p.fees += fee
        return fee, rate, p.position

    def accrue_funding(self, instrument: str, rate_24h: float, mark: float, dt_s: float) -> list[str]:
        """Accrue perpetual funding on every open position in ``instrument``.

        Args:
            rate_24h: funding rate as a fraction of notional per 24 hours (> 0: longs pay).
            mark: the funding mark price, USD.
            dt_s: the accrual interval, seconds.

        Returns:
            The accounts whose line changed.
        """
        changed = []
        factor = rate_24h * dt_s / 86400.0
        for account, positions in self._positions.items():
            p = positions.get(instrument)
            if p is not None and p.position != 0.0:
                p.funding -= p.position * mark * factor
                changed.append(account)
        return changed

    def entry(self, account: str, instrument: str) -> PortfolioEntry:
        p = self.get(account, instrument)
        mark = self.marks.get(instrument)
        return _make_entry(
            instrument=instrument,
            position=p.position,
            mark_price=mark,
            average_price=p.average_price if p.position != 0.0 else None,
            unrealised_pnl=p.unrealised(mark),
            realised_pnl=p.realised_pnl,
            entry_value=p.average_price * p.position,
            unrealised_perpetual_funding=p.funding,
        )

    def portfolio(self, account: str) -> tuple[PortfolioEntry, ...]:
        """Lines with a non-zero position (like Thalex, closed positions are left out)."""
        positions = self._positions.get(account, {})
        return tuple(
            self.entry(account, name) for name, p in positions.items() if p.position != 0.0
        )

    def summary(self, account: str, ts_ns: int = 0) -> AccountSummaryUpdated:
        self.ensure_account(account)
        realised = fees = funding = unrealised = required = 0.0
        for name, p in self._positions[account].items():
            mark = self.marks.get(name)
            realised += p.realised_pnl
            fees += p.fees
            funding += p.funding
            unrealised += p.unrealised(mark)
            if mark is not None:
                required += abs(p.position) * mark * self.margin_rate
        cash = self._cash[account] + realised - fees + funding
        margin = cash + unrealised
        return AccountSummaryUpdated(
            exchange_ts_ns=ts_ns,
            unrealised_pnl=unrealised,
            cash_collateral=cash,
            margin=margin,
            required_margin=required,
            remaining_margin=margin - required,
            session_realised_pnl=realised - fees + funding,
        )

    def accounts(self) -> tuple[str, ...]:
        return tuple(self._positions)
