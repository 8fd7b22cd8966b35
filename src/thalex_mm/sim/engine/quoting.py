"""Mass quotes and market-maker protection (thalex_protocol.md §5.5, §6).

Semantics (the current spec, multi-level form):

* Each item ``(instrument, bids, asks)`` has sides that are ``None`` (omitted: left alone) or
  a list of up to 10 ``(price, amount)`` levels with distinct prices (``[]`` clears the side).
* A side that is sent replaces all of the session's previous quotes on that side: a level
  whose price is not re-sent is deleted with ``delete_reason=replaced``; a level sent with
  amount 0 is deleted with ``client_cancel``; a level re-sent with the *same price and the same
  original amount* is kept untouched (queue priority and any partial fill kept); a level with a
  new amount at the same price is deleted (``replaced``) and inserted anew at the back of the
  queue (replacement is not volume-safe, §5.5).
* Quotes are GTC limit orders, non-persistent, skip the collar check, and may trade on insert
  unless ``post_only``. Self-trade prevention applies as for inserts.
* Refusals (whole request): a persistent session → PERSISTENT_SESSION; more than 100 items →
  INVALID_REQUEST. Per level (counted in ``n_fail`` with ``errors``): unknown instrument
  (UNKNOWN_INSTRUMENT), no MMP group for the product (PROT_NOT_SET), an exhausted group
  (INVALID_PROT_GROUP — [INF], the code is not documented), amount > the group's
  ``quote_amount`` (QUOTE_EXCEEDS_PROT_GROUP_SIZE), bad price/amount, more than 10 levels or a
  repeated price (INVALID_REQUEST).
"""

from __future__ import annotations

from collections.abc import Sequence

from thalex_mm.core.events import MmpStatus
from thalex_mm.core.types import ChangeReason, DeleteReason, Side
from thalex_mm.protocol.error_codes import ErrorCode
from thalex_mm.sim.engine.book import RestingOrder
from thalex_mm.sim.engine.core import _Op
from thalex_mm.sim.engine.market import _MarketMixin
from thalex_mm.sim.engine.mmp import MmpGroup, MmpReason
from thalex_mm.sim.engine.outputs import (
    EngineError,
    EngineOutput,
    MassQuoteError,
    MassQuoteResult,
    MmpUpdate,
)
from thalex_mm.sim.engine.validation import check_amount, check_price

__all__: list[str] = []

# enum members as module constants: a class attribute lookup per check is costly
_BUY = Side.BUY
_SELL = Side.SELL

QuoteSide = Sequence[tuple[float, float]] | None
MAX_LEVELS = 10
MAX_ITEMS = 100


# one chain of single inheritance (mypyc compiles no multiple inheritance, docs/build.md):
# MatchingEngine -> _QuotingMixin -> _MarketMixin -> _EngineCore
class _QuotingMixin(_MarketMixin):
    # ------------------------------------------------------------ MMP

    def _products(self) -> set[str]:
        return {i.product for i in self._instruments.values()}

    def set_mmp(
        self, session: str, product: str, trade_amount: float, quote_amount: float, *, ts_ns: int
    ) -> EngineOutput:
        """``private/set_mm_protection`` (§6): create or replace (and refill) the group.

        Args:
            trade_amount: contracts of quote executions allowed before the group trips.
            quote_amount: largest single quote, contracts; must be ≥ trade_amount.
        """
        self._session(session)
        if product not in self._products():
            return self._error(ErrorCode.UNKNOWN_PRODUCT, f"unknown product {product!r}")
        if not (trade_amount > 0.0 and quote_amount > 0.0):
            return self._error(ErrorCode.INVALID_QUANTITY,
                               "trade_amount and quote_amount must be > 0")
        if trade_amount > quote_amount:
            return self._error(
                ErrorCode.INVALID_REQUEST,
                f"trade_amount {trade_amount} must be <= quote_amount {quote_amount}",
            )
        group = MmpGroup(float(trade_amount), float(quote_amount))
        self._mmp[(session, product)] = group
        op = self._begin(ts_ns)
        op.mmp_updates.append(MmpUpdate(session, MmpStatus(
            product=product, remaining_amount=group.remaining, reason=MmpReason.REFILL.value)))
        return self._finish(op, None)

    def mmp_remaining(self, session: str, product: str) -> float | None:
        """Remaining executable contracts of a group, or None when unset."""
        g = self._mmp.get((session, product))
        return g.remaining if g is not None else None

    def _reset_groups(
        self, op: _Op, session: str | None, product: str | None, reason: MmpReason,
        drop: bool = False,
    ) -> None:
        for key, group in list(self._mmp.items()):
            s, p = key
            if (session is not None and s != session) or (product is not None and p != product):
                continue
            if drop:
                del self._mmp[key]
            else:
                group.refill()
            op.mmp_updates.append(MmpUpdate(s, MmpStatus(
                product=p, remaining_amount=group.trade_amount, reason=reason.value)))

    def cancel_mass_quote(
        self, session: str, product: str | None = None, *, ts_ns: int
    ) -> EngineOutput:
        """``private/cancel_mass_quote`` (§5.5): delete the mass quotes of *all* sessions
        (optionally of one product; ``client_bulk_cancel``) and refill those MMP groups
        (reason ``client_cancel``). Response ``None``."""
        self._session(session)
        if product is not None and product not in self._products():
            return self._error(ErrorCode.UNKNOWN_PRODUCT, f"unknown product {product!r}")
        op = self._begin(ts_ns)
        self._pull_quotes(op, None, product, DeleteReason.CLIENT_BULK_CANCEL)
        self._reset_groups(op, None, product, MmpReason.CLIENT_CANCEL)
        return self._finish(op, None)

    # ------------------------------------------------------------ mass quote

    def mass_quote(
        self,
        session: str,
        quotes: Sequence[tuple[str, QuoteSide, QuoteSide]],
        *,
        ts_ns: int,
        label: str | None = None,
        post_only: bool = False,
        reject_post_only: bool = False,
    ) -> EngineOutput:
        """``private/mass_quote`` (§5.5); see the module docstring for the semantics.

        Args:
            quotes: items ``(instrument, bids, asks)``; a side is None or a list of
                ``(price, amount)``.

        Returns:
            An output whose response is a :class:`MassQuoteResult`.
        """
        s = self._session(session)
        if s.persistent:
            return self._error(ErrorCode.PERSISTENT_SESSION,
                               "mass_quote needs a non-persistent session "
                               "(set_cancel_on_disconnect)")
        if len(quotes) > MAX_ITEMS:
            return self._error(ErrorCode.INVALID_REQUEST,
                               f"{len(quotes)} quote items, at most {MAX_ITEMS} allowed")
        op = self._begin(ts_ns)
        errors: list[MassQuoteError] = []
        n_ok = 0
        for name, bids, asks in quotes:
            inst = self._instruments.get(name)
            sides = ((_BUY, bids), (_SELL, asks))
            if inst is None:
                for side, levels in sides:
                    for lv in levels or ():
                        errors.append(MassQuoteError(ErrorCode.UNKNOWN_INSTRUMENT,
                                                     f"unknown instrument {name!r}", side, lv[0]))
                if not any(levels for _, levels in sides):
                    errors.append(MassQuoteError(ErrorCode.UNKNOWN_INSTRUMENT,
                                                 f"unknown instrument {name!r}"))
                continue
            group = self._mmp.get((session, inst.product))
            for side, levels in sides:
                if levels is None:
                    continue
                group_err = None
                if group is None:
                    group_err = (ErrorCode.PROT_NOT_SET,
                                 f"market-maker protection is not set for {inst.product}")
                elif group.tripped:
                    group_err = (ErrorCode.INVALID_PROT_GROUP,
                                 f"protection group {inst.product} is exhausted; refill it")
                elif len(levels) > MAX_LEVELS:
                    group_err = (ErrorCode.INVALID_REQUEST,
                                 f"{len(levels)} levels, at most {MAX_LEVELS} per side")
                if group_err is not None or group is None:  # group None sets group_err
                    if group_err is not None:
                        errors.extend(MassQuoteError(group_err[0], group_err[1], side, lv[0])
                                      for lv in levels)
                    continue
                n_ok += self._quote_side(op, s.account, session, inst.name, side, levels,
                                         group, label, post_only, reject_post_only, errors)
        result = MassQuoteResult(n_ok, len(errors), tuple(errors))
        return self._finish(op, result)

    def _quote_side(
        self, op: _Op, account: str, session: str, name: str, side: Side,
        levels: Sequence[tuple[float, float]], group: MmpGroup, label: str | None,
        post_only: bool, reject_post_only: bool, errors: list[MassQuoteError],
    ) -> int:
        inst = self._instruments[name]
        wanted: dict[int, tuple[float, float]] = {}
        zeroed: set[int] = set()
        n_ok = 0
        for price, amount in levels:
            p = check_price(inst, price)
            if isinstance(p, EngineError):
                errors.append(MassQuoteError(p.code, p.message, side, price))
                continue
            ticks, px = p
            a = check_amount(inst, amount, allow_zero=True)
            if isinstance(a, EngineError):
                errors.append(MassQuoteError(a.code, a.message, side, px))
                continue
            if ticks in wanted or ticks in zeroed:
                errors.append(MassQuoteError(ErrorCode.INVALID_REQUEST,
                                             f"price {px} appears twice", side, px))
                continue
            if a > group.quote_amount:
                errors.append(MassQuoteError(
                    ErrorCode.QUOTE_EXCEEDS_PROT_GROUP_SIZE,
                    f"amount {a} exceeds quote_amount {group.quote_amount}", side, px))
                continue
            if a == 0.0:
                zeroed.add(ticks)
                n_ok += 1
            else:
                wanted[ticks] = (px, a)
        existing = list(self._quotes.get((session, name, side), {}).values())
        keep: set[int] = set()
        for o in existing:
            ticks = o.ticks
            want = wanted.get(ticks)
            if want is not None and ticks not in keep and abs(want[1] - o.amount) < 1e-12:
                keep.add(ticks)
                continue
            reason = DeleteReason.CLIENT_CANCEL if ticks in zeroed else DeleteReason.REPLACED
            self._delete(op, o, reason)
        for ticks, (px, a) in wanted.items():
            n_ok += 1
            if ticks in keep:
                continue
            o = RestingOrder(
                self._next_order_id(), session, account, name, side, px, ticks, a,
                label=label, persistent=False, post_only=post_only, is_quote=True,
                create_ts_ns=op.ts_ns,
            )
            self._place(op, o, ticks, ChangeReason.INSERT, reject_post_only)
        return n_ok
