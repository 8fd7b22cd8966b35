"""The quote diff: wanted quotes vs our resting orders -> the fewest commands, self-cross safe.

Rules (thalex_protocol.md §5.2, §10): an order up to ``amend_tolerance_ticks`` *less*
aggressive than its wanted price and with an unchanged size is left alone (queue priority);
an order more aggressive than wanted, by any amount, is moved back at once (a stale
aggressive quote is what gets picked off: the tolerance is for advances only); otherwise it is amended
(volume-safe: the new amount is ``filled + wanted``); surplus levels are cancelled, missing ones
inserted; orders with a request in flight are never touched. A partially filled order whose
price stays put keeps resting with its remainder (its original amount still matches).

Send order: cancels, then retreats (amends moving away from the opposite side, always safe),
then moves toward the opposite side and inserts, each checked against every order that may
still rest on the other side (in-flight ones at their most aggressive price). A move that would
put our bid at or above our ask is held back until the other side has moved.

Prices are aligned to ``tick_size`` (bids down, asks up), sizes down to ``volume_tick_size``,
and sizes below ``min_order_amount`` dropped, all from the ``Instrument``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple

from thalex_mm.config.models import OrderConfig
from thalex_mm.core.budget import Priority
from thalex_mm.core.commands import AmendOrder, CancelOrder, Command, InsertOrder
from thalex_mm.core.order_records import TrackedOrder
from thalex_mm.core.order_state import OrderState
from thalex_mm.core.types import Instrument, QuoteLevel, Side, WantedQuotes, round_to_tick

__all__ = ["QuoteDiffer"]

_EPS = 1e-9
_NORM_CACHE_MAX = 4096
_PI, _PA, _PC = OrderState.PENDING_INSERT, OrderState.PENDING_AMEND, OrderState.PENDING_CANCEL


class _Move(NamedTuple):
    """A level to move toward the opposite side: an amend of ``order``, or an insert when
    ``order`` is None. Prices in quote currency, amounts in contracts."""

    priority: Priority
    side: Side
    level: int
    price: float
    amount: float
    order: TrackedOrder | None


class QuoteDiffer:
    """Stateless apart from a memo of tick alignments.

    Args:
        config: ``OrderConfig`` (amend_tolerance_ticks, label, post_only, reject_post_only).
    """

    def __init__(self, config: OrderConfig) -> None:
        self._cfg = config
        self._norm_cache: dict[tuple, dict[tuple[float, float], tuple[float, float] | None]] = {}
        self._last_norm_b: tuple | None = None
        self._last_norm_a: tuple | None = None

    def diff(
        self,
        wanted: WantedQuotes,
        instrument: Instrument,
        active: list[TrackedOrder],
        allocate_client_order_id: Callable[[], int],
    ) -> tuple[tuple[tuple[Priority, Command], ...], dict[int, int]]:
        """Commands (with priorities, in send order) turning ``active`` into ``wanted``.

        Args:
            wanted: the quotes to rest (after the risk gate).
            instrument: tick sizes and minimum amount.
            active: our non-terminal orders on ``wanted.instrument``.
            allocate_client_order_id: hands out the id of each new order.

        Returns:
            ``(commands, levels)``: ``levels`` maps each new client order id to its level.
        """
        planned: dict[int, int] = {}
        bids = self.normalise(wanted.bids, Side.BUY, instrument)
        asks = self.normalise(wanted.asks, Side.SELL, instrument)
        if bids and asks and bids[0][0] >= asks[0][0] - _EPS:
            # defensive: a crossed wanted book keeps only the non-crossing bids
            bids = [lv for lv in bids if lv[0] < asks[0][0] - _EPS]
        tick = instrument.tick_size
        eps = tick * 1e-6
        tol = self._cfg.amend_tolerance_ticks * tick + eps
        vtick = instrument.volume_tick_size
        if self._unchanged(bids, asks, active, tol, vtick / 2, eps):
            return (), planned

        cancels: list[tuple[Priority, Command]] = []
        cancelled_keys: list[int | str] = []
        retreats: list[tuple[Priority, AmendOrder, TrackedOrder]] = []
        towards: list[_Move] = []
        for side, levels in ((Side.BUY, bids), (Side.SELL, asks)):
            other_best = (
                (asks[0][0] if asks else None)
                if side is Side.BUY
                else (bids[0][0] if bids else None)
            )
            by_level: dict[int, TrackedOrder] = {}
            surplus: list[TrackedOrder] = []
            for o in active:  # creation order: deterministic
                if o.side is not side:
                    continue
                if 0 <= o.level < len(levels) and o.level not in by_level:
                    by_level[o.level] = o
                else:
                    surplus.append(o)
            for o in surplus:
                st = o.state
                if st is _PI or st is _PA or st is _PC:
                    continue
                crosses = other_best is not None and (
                    o.price >= other_best if side is Side.BUY else o.price <= other_best
                )
                prio = Priority.UNSAFE_CANCEL if (not levels or crosses) else Priority.CANCEL
                cid, oid = o.address()
                cancels.append((prio, CancelOrder(client_order_id=cid, order_id=oid)))
                cancelled_keys.append(o.key)
            for i, (price, amount) in enumerate(levels):
                prio = Priority.TOP if i == 0 else Priority.DEEPER
                held = by_level.get(i)
                if held is None:
                    towards.append(_Move(prio, side, i, price, amount, None))
                    continue
                o = held
                st = o.state
                if st is _PI or st is _PA or st is _PC:
                    continue
                away = price < o.price - eps if side is Side.BUY else price > o.price + eps
                if not away and abs(o.price - price) <= tol and abs(o.amount - o.fill_offset - amount) < vtick / 2:
                    continue
                if away:
                    retreats.append((Priority.RETREAT, self._amend(o, price, amount, vtick), o))
                else:
                    towards.append(_Move(prio, side, i, price, amount, o))

        if not cancels and not retreats and not towards:
            return (), planned  # the common case: nothing to change
        book = {o.key: (o.side, o.exposure_price()) for o in active}
        for key in cancelled_keys:
            del book[key]
        out: list[tuple[Priority, Command]] = sorted(cancels, key=lambda pc: pc[0])
        for prio, amend, o in retreats:
            out.append((prio, amend))
            book[o.key] = (o.side, amend.price)
        towards.sort(key=lambda m: m.priority)
        for prio, side, level, price, amount, held in towards:
            if side is Side.BUY:
                opp = [p for k, (s, p) in book.items() if s is Side.SELL]
                if opp and price >= min(opp) - _EPS:
                    continue  # would self-cross: wait for the ask to move
            else:
                opp = [p for k, (s, p) in book.items() if s is Side.BUY]
                if opp and price <= max(opp) + _EPS:
                    continue
            if held is None:
                cid = allocate_client_order_id()
                planned[cid] = level
                cmd: Command = InsertOrder(
                    client_order_id=cid,
                    instrument=wanted.instrument,
                    side=side,
                    amount=amount,
                    price=price,
                    label=self._cfg.label,
                    post_only=self._cfg.post_only,
                    reject_post_only=self._cfg.post_only and self._cfg.reject_post_only,
                )
                book[cid] = (side, price)
            else:
                cmd = self._amend(held, price, amount, vtick)
                book[held.key] = (side, price)
            out.append((prio, cmd))
        return tuple(out), planned

    @staticmethod
    def _amend(o: TrackedOrder, price: float, amount: float, vtick: float) -> AmendOrder:
        filled = o.filled_amount
        # ``amount`` comes from ``normalise`` (already on the volume grid, where
        # round_to_tick is the identity): only a partial fill needs re-aligning
        total = amount if filled == 0.0 else round_to_tick(filled + amount, vtick, "nearest")
        cid, oid = o.address()
        return AmendOrder(
            client_order_id=cid,
            order_id=oid,
            price=price,
            amount=total,
        )

    def normalise(
        self, levels: Iterable[QuoteLevel], side: Side, instrument: Instrument
    ) -> list[tuple[float, float]]:
        """Align to ticks (bids down, asks up; sizes down), drop tiny or duplicate-price levels.

        Returns ``(price, amount)`` best-first. Results are memoised per instrument ticks and
        ``(price, amount)``: quotes repeat a lot and this runs on every quote step.
        """
        buy = side is Side.BUY
        tick, vtick, min_amount = (
            instrument.tick_size,
            instrument.volume_tick_size,
            instrument.min_order_amount,
        )
        # one-entry memo per side: the same levels (usually the very same tuple, as the
        # builder and the gate hand back unchanged quotes as the same objects) give the same
        # result; a copy is returned so the caller may modify it
        last = self._last_norm_b if buy else self._last_norm_a
        if (
            last is not None
            and last[0] is levels
            and last[1] == tick
            and last[2] == vtick
            and last[3] == min_amount
        ):
            return last[4].copy()
        out = self._normalise(levels, buy, tick, vtick, min_amount)
        if isinstance(levels, tuple):
            memo = (levels, tick, vtick, min_amount, out.copy())
            if buy:
                self._last_norm_b = memo
            else:
                self._last_norm_a = memo
        return out

    def _normalise(
        self, levels: Iterable[QuoteLevel], buy: bool, tick: float, vtick: float,
        min_amount: float,
    ) -> list[tuple[float, float]]:
        direction = "down" if buy else "up"
        ckey = (direction, tick, vtick, min_amount)
        cache = self._norm_cache.get(ckey)
        if cache is None or len(cache) > _NORM_CACHE_MAX:
            cache = self._norm_cache[ckey] = {}
        out: list[tuple[float, float]] = []
        last = None
        ordered = True
        for lv in levels:
            key = (lv.price, lv.amount)
            pa = cache.get(key)
            # a miss: test membership, not ``is key`` (compiled, a tuple is boxed anew each time)
            if pa is None and key not in cache:
                price = round_to_tick(lv.price, tick, direction)
                amount = round_to_tick(lv.amount, vtick, "down")
                ok = price > 0 and amount >= min_amount - _EPS
                pa = cache[key] = (price, amount) if ok else None
            if pa is None:
                continue
            if last is not None and (pa[0] >= last if buy else pa[0] <= last):
                ordered = False
            last = pa[0]
            out.append(pa)
        if not ordered:  # not best-first, or two levels on one price: sort and dedupe
            out.sort(key=lambda pa: -pa[0] if buy else pa[0])
            deduped: list[tuple[float, float]] = []
            for pa in out:
                if not deduped or deduped[-1][0] != pa[0]:
                    deduped.append(pa)
            out = deduped
        return out

    @staticmethod
    def _unchanged(
        bids: list[tuple[float, float]],
        asks: list[tuple[float, float]],
        active: list[TrackedOrder],
        tol: float,
        half_vtick: float,
        eps: float,
    ) -> bool:
        """Fast path of ``plan``: every level has exactly one order that is in flight or close
        enough to its wanted price (never more aggressive) and size, and no order is surplus."""
        mask_b = mask_a = 0
        nb, na = len(bids), len(asks)
        for o in active:
            lvl = o.level
            if o.side is Side.BUY:
                if lvl < 0 or lvl >= nb or mask_b >> lvl & 1:
                    return False
                mask_b |= 1 << lvl
                p, a = bids[lvl]
            else:
                if lvl < 0 or lvl >= na or mask_a >> lvl & 1:
                    return False
                mask_a |= 1 << lvl
                p, a = asks[lvl]
            st = o.state
            if st is _PI or st is _PA or st is _PC:
                continue
            if abs(o.price - p) > tol or abs(o.amount - o.fill_offset - a) >= half_vtick:
                return False
            if (o.price > p + eps) if o.side is Side.BUY else (o.price < p - eps):
                return False  # more aggressive than wanted: retreat
        return mask_b == (1 << nb) - 1 and mask_a == (1 << na) - 1
