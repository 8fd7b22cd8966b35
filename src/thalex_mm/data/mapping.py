"""Map another BTC market's events onto BTC-PERPETUAL's price and size grid.

Thalex BTC-PERPETUAL has tick 1 USD and volume tick 0.001 BTC (thalex_protocol.md §8); the
recorded sources (Binance BTCUSDT tick 0.1, Deribit, ...) have other grids. ``map_events``
rescales prices and sizes and snaps them to the target grid:

- price ``p`` → ``p * price_scale + price_offset``; size ``q`` → ``q * qty_scale``, or, with
  ``usd_contracts=True``, ``q * qty_scale / p`` (``p`` the row's *source* price): sizes quoted
  in USD (Deribit BTC-PERPETUAL and futures, BitMEX XBTUSD: Tardis ``amount`` is USD) become
  BTC at that row's own price. ``usd_contract_market`` names the markets that quote so;
- ``BOOK_LEVEL`` bids are floored and asks ceiled to ``target_tick`` (a level never moves
  towards the other side, so a book that was not crossed stays not crossed). Several source
  levels can collapse onto one target price: the mapper keeps, per side and target price, the
  current size of every source level mapped there, and emits the *aggregate* (sum) aligned to
  ``target_volume_tick`` (rounded to nearest) whenever it changes. An aggregate that rounds to 0
  deletes the level.
- ``TRADE`` prices round to the nearest tick and sizes to the nearest volume tick; a trade
  whose size rounds to 0 is dropped.
- ``BEST_BID_ASK`` prices are floored (bid) / ceiled (ask), sizes rounded.
- ``MARK`` and ``INDEX`` are rescaled but not snapped; ``FUNDING_RATE`` is unchanged.
"""

from __future__ import annotations

import math
import re

import numpy as np

from thalex_mm.data.events import EventKind, empty_events, events_from_columns

__all__ = ["map_events", "usd_contract_market"]

_EPS = 1e-9  # in ticks: absorbs float noise such as 28145.1 / 0.1 = 281450.99999999994


# Deribit inverse BTC/ETH perpetuals and futures (``BTC-PERPETUAL``, ``BTC-27DEC24``; options
# have four parts and are sized in BTC) and BitMEX inverse XBT contracts (``XBTUSD``,
# quarterlies ``XBTZ24``; not the linear ``XBTUSDT``).
_DERIBIT_USD = re.compile(r"^[A-Z]+-(PERPETUAL|\d{1,2}[A-Z]{3}\d{2})$")
_BITMEX_USD = re.compile(r"^XBT(USD|[FGHJKMNQUVXZ]\d{2})$")


def usd_contract_market(exchange: str, symbol: str) -> bool:
    """Whether a Tardis ``exchange``/``symbol`` quotes its ``amount`` in USD, not in BTC.

    True for Deribit inverse perpetuals and futures (``deribit``, ``BTC-PERPETUAL``,
    ``BTC-27DEC24``) and BitMEX inverse XBT contracts (``bitmex``, ``XBTUSD``, ``XBTZ24``);
    False for everything else (options, linear contracts, spot).
    """
    ex = exchange.strip().lower()
    sym = symbol.strip().upper()
    if ex == "deribit":
        return bool(_DERIBIT_USD.match(sym))
    if ex == "bitmex":
        return bool(_BITMEX_USD.match(sym))
    return False


def _floor_tick(x: float, tick: float) -> float:
    return round(math.floor(x / tick + _EPS) * tick, 10)


def _ceil_tick(x: float, tick: float) -> float:
    return round(math.ceil(x / tick - _EPS) * tick, 10)


def _round_tick(x: float, tick: float) -> float:
    return round(round(x / tick) * tick, 10)


def map_events(
    arr: np.ndarray,
    price_scale: float = 1.0,
    price_offset: float = 0.0,
    qty_scale: float = 1.0,
    target_tick: float = 1.0,
    target_volume_tick: float = 0.001,
    *,
    usd_contracts: bool = False,
) -> np.ndarray:
    """Rescale and snap an event array to a target price/size grid (see module docstring).

    Args:
        arr: a sorted ``MARKET_EVENT_DTYPE`` array.
        price_scale: multiply source prices by this.
        price_offset: then add this, quote currency.
        qty_scale: multiply source sizes by this constant (e.g. ``1e-4`` turns 10-USD
            contracts into BTC near 100,000 USD/BTC).
        target_tick: target price tick, quote currency (> 0).
        target_volume_tick: target size step, base units (> 0).
        usd_contracts: source sizes are USD amounts: each row's size is divided by that row's
            source price (then multiplied by ``qty_scale``), giving base units (BTC).

    Returns:
        A new sorted event array (may have fewer rows: unchanged aggregates and zero-size
        trades are not emitted).

    Raises:
        ValueError: a tick or scale is not > 0.
    """
    if not (target_tick > 0 and target_volume_tick > 0 and price_scale > 0 and qty_scale > 0):
        raise ValueError(
            "map_events: target_tick, target_volume_tick, price_scale and qty_scale must be > 0, "
            f"got {target_tick}, {target_volume_tick}, {price_scale}, {qty_scale}"
        )
    kinds = arr["kind"].tolist()
    sides = arr["side"].tolist()
    exch = arr["exch_ts"].tolist()
    local = arr["local_ts"].tolist()
    prices = arr["price"].tolist()
    qtys = arr["qty"].tolist()

    # per side: target price -> {source price: scaled source size}
    sources: dict[int, dict[float, dict[float, float]]] = {1: {}, -1: {}}
    # per side: target price -> last emitted aligned aggregate
    emitted: dict[int, dict[float, float]] = {1: {}, -1: {}}
    out_k: list[int] = []
    out_s: list[int] = []
    out_e: list[int] = []
    out_l: list[int] = []
    out_p: list[float] = []
    out_q: list[float] = []

    level = int(EventKind.BOOK_LEVEL)
    clear = int(EventKind.BOOK_CLEAR)
    trade = int(EventKind.TRADE)
    bba = int(EventKind.BEST_BID_ASK)
    rescale_only = (int(EventKind.MARK), int(EventKind.INDEX))
    vt = target_volume_tick
    if usd_contracts:
        # size in base units = USD amount / source price, per row (non-positive prices keep 0)
        src_px = np.asarray(prices, dtype=np.float64)
        scales = (qty_scale / np.where(src_px > 0, src_px, np.inf)).tolist()
    else:
        scales = [qty_scale] * len(kinds)

    for i, k in enumerate(kinds):
        s = sides[i]
        if k == level:
            src_p = prices[i]
            p = src_p * price_scale + price_offset
            tp = _floor_tick(p, target_tick) if s > 0 else _ceil_tick(p, target_tick)
            side_src = sources[s]
            levels = side_src.get(tp)
            q = qtys[i] * scales[i]
            if levels is None:
                if q <= 0:
                    continue
                levels = side_src[tp] = {}
            if q > 0:
                levels[src_p] = q
            else:
                levels.pop(src_p, None)
            agg = _round_tick(math.fsum(levels.values()), vt) if levels else 0.0
            if not levels:
                del side_src[tp]
            prev = emitted[s].get(tp, 0.0)
            if agg == prev:
                continue
            if agg > 0:
                emitted[s][tp] = agg
            else:
                emitted[s].pop(tp, None)
            out_k.append(level)
            out_s.append(s)
            out_e.append(exch[i])
            out_l.append(local[i])
            out_p.append(tp)
            out_q.append(agg)
            continue
        if k == clear:
            sources = {1: {}, -1: {}}
            emitted = {1: {}, -1: {}}
            p, q = prices[i], qtys[i]
        elif k == trade:
            p = _round_tick(prices[i] * price_scale + price_offset, target_tick)
            q = _round_tick(qtys[i] * scales[i], vt)
            if q <= 0:
                continue
        elif k == bba:
            raw = prices[i] * price_scale + price_offset
            p = _floor_tick(raw, target_tick) if s > 0 else _ceil_tick(raw, target_tick)
            q = _round_tick(qtys[i] * scales[i], vt)
        elif k in rescale_only:
            p, q = prices[i] * price_scale + price_offset, qtys[i]
        else:
            p, q = prices[i], qtys[i]
        out_k.append(k)
        out_s.append(s)
        out_e.append(exch[i])
        out_l.append(local[i])
        out_p.append(p)
        out_q.append(q)

    if not out_k:
        return empty_events()
    return events_from_columns(
        np.array(out_k, dtype=np.uint8),
        np.array(out_s, dtype=np.int8),
        np.array(out_e, dtype=np.int64),
        np.array(out_l, dtype=np.int64),
        np.array(out_p, dtype=np.float64),
        np.array(out_q, dtype=np.float64),
    )
