"""The market tape: a recorded event array precomputed once into what the backtest loop needs.

The loop never walks market rows one by one in Python. Everything that does not depend on our
orders is computed here with numpy, once per run:

* **Ticks and flat book slots.** Every book row gets an integer tick and a slot in a dense
  book array (``side_slot * width + tick - base_tick``); other rows point at a dummy slot.
* **Feed delivery times** (local clock of the core): either ``exch_ts + feed_latency_ns`` (a
  constant) or, with ``feed_latency_ns=None``, the recorded ``local_ts - exch_ts`` minus its
  median (the clock offset between the recorder and the exchange; the 2024 Binance captures
  run 1.5 s behind) clipped at 0, plus ``feed_base_latency_ns``. A feed is one ordered stream,
  so delivery times are made non-decreasing.
* **Batches.** Rows are delivered to the core in batches: every row whose delivery time falls
  in ``((k-1)·Δ, k·Δ]`` arrives at ``k·Δ`` (``Δ = batch_ns``; the backtest default is 1 ms,
  see ``BacktestSettings.batch_ms``: a batch as long as the quoter's minimum requote interval
  would make it react up to that late after a quiet period, which live trading, event-driven
  with only a minimum interval, never does). A batch becomes ONE
  ``BookDeltaReceived`` whose levels are the batch's *net* level changes (the last absolute
  size per (side, price)) and whose trades are the batch's prints; a batch that contains a
  ``BOOK_CLEAR`` becomes a ``BookSnapshotReceived`` of the book at the batch end.
* **Mid per batch** (for the report), and the ticker (mark / index / funding) per batch.
* **Engine masks** (``low_threat``/``high_threat``/``bid_level_ticks``/``ask_level_ticks``):
  per-row numbers that let the exchange side select, with a few vectorised comparisons, the
  only rows that can touch our resting orders (see ``thalex_mm.backtest.exchange``).

Units: timestamps ns since the epoch; prices quote currency; sizes contracts (base units).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from thalex_mm.data.events import EventKind

__all__ = ["BIG", "MarketTape", "build_tape", "infer_tick_size"]

BIG = np.int64(1) << np.int64(60)
"""Sentinel tick value "far away" (never reached by a real tick)."""

_LEVEL = int(EventKind.BOOK_LEVEL)
_CLEAR = int(EventKind.BOOK_CLEAR)
_TRADE = int(EventKind.TRADE)
_MARK = int(EventKind.MARK)
_INDEX = int(EventKind.INDEX)
_FUNDING = int(EventKind.FUNDING_RATE)


def infer_tick_size(events: np.ndarray) -> float:
    """The price grid of book rows: the smallest gap between distinct prices, rounded.

    Returns:
        The tick size, quote currency (``0.01`` when the data has fewer than two prices).
    """
    book = events["price"][(events["kind"] == _LEVEL) | (events["kind"] == _TRADE)]
    prices = np.unique(book[book > 0])
    if prices.size < 2:
        return 0.01
    gap = float(np.min(np.diff(prices)))
    # snap to 1, 2 or 5 times a power of ten (float noise in the recorded prices)
    exp = np.floor(np.log10(gap))
    base = gap / 10.0**exp
    step = min((1.0, 2.0, 5.0, 10.0), key=lambda b: abs(b - base))
    return float(round(step * 10.0**exp, 12))


@dataclass(slots=True, kw_only=True, eq=False)
class MarketTape:
    """Per-row and per-batch arrays of one market session (read-only by convention).

    Row arrays (length = rows): ``kind``, ``side``, ``exch_ts``, ``price``, ``qty``, ``ticks``,
    ``slot`` (dense-book slot; the dummy slot ``2 * width`` for non-book rows), ``low_threat``
    (ticks of ask-level rows with size and of sell prints: they can fill our bids at or above
    that tick; ``BIG`` otherwise), ``high_threat`` (bid-level rows with size and buy prints,
    for our asks; ``-BIG`` otherwise), ``bid_level_ticks`` / ``ask_level_ticks`` (ticks of
    that side's level rows, ``-BIG`` otherwise), ``clear_rows`` (indices of BOOK_CLEAR rows).

    Batch arrays (length = batches): ``batch_ts`` (delivery time, ns), ``batch_exch_ts`` (last
    exchange time in the batch), ``batch_row_end`` (first row index after the batch, in
    delivery order = row order), ``batch_mid`` (NaN when one side is empty),
    ``batch_best_bid``/``batch_best_ask``, ``batch_lv_start``/``batch_lv_split``/
    ``batch_lv_end`` (ranges into the net-change arrays ``lv_price``/``lv_qty``: bids in
    ``[start, split)``, asks in ``[split, end)``; ``lv_b2`` = batch * 2 + side slot), ``batch_snapshot`` (True: the batch holds a
    BOOK_CLEAR and is delivered as a snapshot), ``batch_mark``/``batch_index``/
    ``batch_funding`` (NaN when the batch has none).
    """

    tick_size: float
    base_tick: int
    width: int
    kind: np.ndarray
    side: np.ndarray
    exch_ts: np.ndarray
    price: np.ndarray
    qty: np.ndarray
    ticks: np.ndarray
    slot: np.ndarray
    low_threat: np.ndarray
    high_threat: np.ndarray
    bid_level_ticks: np.ndarray
    ask_level_ticks: np.ndarray
    clear_rows: np.ndarray
    deliver_ts: np.ndarray
    batch_ts: np.ndarray
    batch_exch_ts: np.ndarray
    batch_row_end: np.ndarray
    batch_mid: np.ndarray
    batch_best_bid: np.ndarray
    batch_best_ask: np.ndarray
    batch_lv_start: np.ndarray
    batch_lv_split: np.ndarray
    batch_lv_end: np.ndarray
    batch_snapshot: np.ndarray
    batch_mark: np.ndarray
    batch_index: np.ndarray
    batch_funding: np.ndarray
    lv_price: np.ndarray
    lv_qty: np.ndarray
    lv_b2: np.ndarray
    has_mark: bool

    @property
    def rows(self) -> int:
        return int(self.kind.size)

    @property
    def batches(self) -> int:
        return int(self.batch_ts.size)

    def snapshot_levels(self, batch: int) -> tuple[tuple[tuple[float, float], ...], ...]:
        """``(bids, asks)`` of the book at the end of a snapshot batch (best first)."""
        end = int(self.batch_row_end[batch])
        start = int(self.batch_row_end[batch - 1]) if batch else 0
        clears = self.clear_rows[(self.clear_rows >= start) & (self.clear_rows < end)]
        c = int(clears[-1])
        # the last size per slot among the level rows after the clear (no dense book: the
        # slot range spans the session's whole price range, millions of slots)
        rows = np.arange(c, end)
        rows = rows[self.kind[rows] == _LEVEL]
        slots = self.slot[rows]
        order = np.argsort(slots, kind="stable")
        ss = slots[order]
        last = np.r_[ss[1:] != ss[:-1], True] if ss.size else np.zeros(0, dtype=bool)
        ss = ss[last]
        qq = self.qty[rows][order][last]
        keep = qq != 0.0
        ss, qq = ss[keep], qq[keep]
        w = self.width
        out = []
        for s, rev in ((0, True), (1, False)):
            m = (ss >= s * w) & (ss < (s + 1) * w)
            nz, q = ss[m] - s * w, qq[m]
            if rev:
                nz, q = nz[::-1], q[::-1]
            px = np.round((nz + self.base_tick) * self.tick_size, 10)
            out.append(tuple(zip(px.tolist(), q.tolist(), strict=True)))
        return out[0], out[1]


def _delivery(
    exch_ts: np.ndarray, local_ts: np.ndarray, feed_latency_ns: int | None, base_ns: int
) -> np.ndarray:
    if feed_latency_ns is not None:
        d = exch_ts + np.int64(feed_latency_ns)
    else:
        off = local_ts - exch_ts
        med = np.int64(np.median(off)) if off.size else np.int64(0)
        d = exch_ts + np.maximum(off - med, 0) + np.int64(base_ns)
    return np.maximum.accumulate(d) if d.size else d


def build_tape(
    events: np.ndarray,
    *,
    tick_size: float,
    batch_ns: int,
    feed_latency_ns: int | None = None,
    feed_base_latency_ns: int = 0,
) -> MarketTape:
    """Precompute a :class:`MarketTape` from a ``MARKET_EVENT_DTYPE`` array.

    Args:
        events: rows sorted by ``exch_ts``.
        tick_size: price grid, quote currency (book and trade prices are snapped to it).
        batch_ns: delivery batch length Δ, ns (> 0).
        feed_latency_ns: constant feed latency, ns; ``None`` = from the recorded timestamps.
        feed_base_latency_ns: with recorded latency: added to the de-offset recorded latency.

    Raises:
        ValueError: ``batch_ns`` or ``tick_size`` not positive, or unsorted rows.
    """
    if batch_ns <= 0:
        raise ValueError(f"build_tape batch_ns: got {batch_ns!r}, expected > 0")
    if not tick_size > 0:
        raise ValueError(f"build_tape tick_size: got {tick_size!r}, expected > 0")
    kind = np.ascontiguousarray(events["kind"])
    side = np.ascontiguousarray(events["side"]).astype(np.int64)
    exch_ts = np.ascontiguousarray(events["exch_ts"])
    if exch_ts.size > 1 and np.any(exch_ts[1:] < exch_ts[:-1]):
        raise ValueError("build_tape: events are not sorted by exch_ts")
    price = np.ascontiguousarray(events["price"])
    qty = np.ascontiguousarray(events["qty"])
    is_level = kind == _LEVEL
    is_trade = kind == _TRADE
    priced = is_level | is_trade
    ticks = np.zeros(kind.size, dtype=np.int64)
    ticks[priced] = np.rint(price[priced] / tick_size).astype(np.int64)
    if np.any(is_level):
        base = int(ticks[is_level].min()) - 1
        width = int(ticks[is_level].max()) - base + 2
    else:
        base, width = 0, 1
    side01 = np.where(side > 0, 0, 1)
    slot = np.full(kind.size, 2 * width, dtype=np.int64)
    slot[is_level] = side01[is_level] * width + ticks[is_level] - base
    pos = qty > 0.0
    low_threat = np.where((is_level & (side < 0) & pos) | (is_trade & (side < 0)), ticks, BIG)
    high_threat = np.where((is_level & (side > 0) & pos) | (is_trade & (side > 0)), ticks, -BIG)
    bid_level_ticks = np.where(is_level & (side > 0), ticks, -BIG)
    ask_level_ticks = np.where(is_level & (side < 0), ticks, -BIG)
    clear_rows = np.flatnonzero(kind == _CLEAR)

    deliver = _delivery(exch_ts, np.ascontiguousarray(events["local_ts"]), feed_latency_ns,
                        feed_base_latency_ns)
    bts = -((-deliver) // batch_ns) * batch_ns  # ceil to the grid
    if bts.size:
        starts = np.flatnonzero(np.r_[True, bts[1:] != bts[:-1]])
    else:
        starts = np.zeros(0, dtype=np.int64)
    batch_ts = bts[starts]
    row_end = np.r_[starts[1:], kind.size].astype(np.int64)
    nb = batch_ts.size
    batch_of_row = np.repeat(np.arange(nb, dtype=np.int64), np.diff(np.r_[starts, kind.size]))
    batch_exch = exch_ts[row_end - 1] if nb else exch_ts[:0]

    # net level changes per batch: the last row per (batch, side, tick)
    lv_rows = np.flatnonzero(is_level)
    key = batch_of_row[lv_rows] * (2 * width) + slot[lv_rows]
    order = np.argsort(key, kind="stable")
    ks = key[order]
    last = np.r_[ks[1:] != ks[:-1], True] if ks.size else np.zeros(0, dtype=bool)
    sel = lv_rows[order[last]]
    kb = ks[last] // (2 * width)
    ks2 = ks[last] // width  # = batch * 2 + side01
    lv_price = np.round(ticks[sel] * tick_size, 10)
    lv_qty = qty[sel]
    ar = np.arange(nb, dtype=np.int64)
    lv_start = np.searchsorted(kb, ar, "left")
    lv_end = np.searchsorted(kb, ar, "right")
    lv_split = np.searchsorted(ks2, ar * 2 + 1, "left")

    snap = np.zeros(nb, dtype=bool)
    if clear_rows.size:
        snap[batch_of_row[clear_rows]] = True

    mark = np.full(nb, np.nan)
    index = np.full(nb, np.nan)
    funding = np.full(nb, np.nan)
    for k_, arr in ((_MARK, mark), (_INDEX, index), (_FUNDING, funding)):
        rows = np.flatnonzero(kind == k_)
        if rows.size:
            arr[batch_of_row[rows]] = price[rows]  # later rows overwrite: the last one wins

    best_bid, best_ask = _best_prices(
        nb, width, base, tick_size, lv_start, lv_end, ks2, sel, ticks, qty, snap, slot, kind,
        row_end, clear_rows,
    )
    mid = (best_bid + best_ask) / 2.0
    return MarketTape(
        tick_size=tick_size, base_tick=base, width=width, kind=kind, side=side,
        exch_ts=exch_ts, price=price, qty=qty, ticks=ticks, slot=slot, low_threat=low_threat,
        high_threat=high_threat, bid_level_ticks=bid_level_ticks,
        ask_level_ticks=ask_level_ticks, clear_rows=clear_rows, deliver_ts=deliver,
        batch_ts=batch_ts, batch_exch_ts=batch_exch, batch_row_end=row_end, batch_mid=mid,
        batch_best_bid=best_bid, batch_best_ask=best_ask, batch_lv_start=lv_start,
        batch_lv_split=lv_split, batch_lv_end=lv_end, batch_snapshot=snap, batch_mark=mark,
        batch_index=index, batch_funding=funding, lv_price=lv_price, lv_qty=lv_qty, lv_b2=ks2,
        has_mark=bool(np.any(kind == _MARK)),
    )


def _best_prices(
    nb: int, width: int, base: int, tick_size: float, lv_start: np.ndarray, lv_end: np.ndarray,
    ks2: np.ndarray, sel: np.ndarray, ticks: np.ndarray, qty: np.ndarray, snap: np.ndarray,
    slot: np.ndarray, kind: np.ndarray, row_end: np.ndarray, clear_rows: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Best bid / ask after each batch, replaying the net changes.

    Each side is a dict tick -> size plus a heap of ticks (max-heap of negated ticks for bids)
    with lazy deletion: a tick leaves the heap only when it reaches the top and is no longer
    in the dict. One pure-Python pass over the net changes (cheaper than per-batch numpy
    calls on ~50 changes each).
    """
    split = np.searchsorted(ks2, np.arange(nb, dtype=np.int64) * 2 + 1, "left").tolist()
    starts = lv_start.tolist()
    ends = lv_end.tolist()
    tk = ticks[sel].tolist()
    qq = qty[sel].tolist()
    snaps = np.flatnonzero(snap).tolist()
    next_snap = snaps.pop(0) if snaps else -1
    bids: dict[int, float] = {}
    asks: dict[int, float] = {}
    bh: list[int] = []  # negated bid ticks
    ah: list[int] = []
    none = base - 1  # "no level" marker (below every real tick)
    out_b = [none] * nb
    out_a = [none] * nb
    push, pop = heapq.heappush, heapq.heappop
    start_row = 0
    for b in range(nb):
        if b == next_snap:
            next_snap = snaps.pop(0) if snaps else -1
            end = int(row_end[b])
            c = int(clear_rows[(clear_rows >= start_row) & (clear_rows < end)][-1])
            bids.clear()
            asks.clear()
            rows = np.arange(c, end)
            rows = rows[kind[rows] == _LEVEL]
            for s, q in zip(slot[rows].tolist(), qty[rows].tolist(), strict=True):
                book, t = (bids, s + base) if s < width else (asks, s - width + base)
                if q > 0.0:
                    book[t] = q
                else:
                    book.pop(t, None)
            bh = [-t for t in bids]
            ah = list(asks)
            heapq.heapify(bh)
            heapq.heapify(ah)
        else:
            s0, sp, s1 = starts[b], split[b], ends[b]
            for t, q in zip(tk[s0:sp], qq[s0:sp], strict=True):
                if q > 0.0:
                    if t not in bids:
                        push(bh, -t)
                    bids[t] = q
                else:
                    bids.pop(t, None)
            for t, q in zip(tk[sp:s1], qq[sp:s1], strict=True):
                if q > 0.0:
                    if t not in asks:
                        push(ah, t)
                    asks[t] = q
                else:
                    asks.pop(t, None)
        start_row = int(row_end[b])
        while bh and -bh[0] not in bids:
            pop(bh)
        while ah and ah[0] not in asks:
            pop(ah)
        if bh:
            out_b[b] = -bh[0]
        if ah:
            out_a[b] = ah[0]
    return _tick_prices(out_b, none, tick_size), _tick_prices(out_a, none, tick_size)


def _tick_prices(ticks: list[int], none: int, tick_size: float) -> np.ndarray:
    """``round(t * tick_size, 10)`` per tick (NaN for ``none``), rounding each distinct tick
    once: Python's ``round`` is correctly rounded, numpy's is not bit-identical to it."""
    uniq, inverse = np.unique(np.asarray(ticks, dtype=np.int64), return_inverse=True)
    prices = np.array([round(t * tick_size, 10) if t != none else float("nan")
                       for t in uniq.tolist()])
    return prices[inverse] if uniq.size else np.zeros(0)
