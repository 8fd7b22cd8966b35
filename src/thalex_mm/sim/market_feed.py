"""The market side of the simulated exchange: apply a market source to the engine, publish feeds.

A *source* hands out rows of ``MARKET_EVENT_DTYPE`` (``thalex_mm.data.events``) whose time has
come (``due_until(now_ns)``). Each row becomes an engine call: ``BOOK_LEVEL`` sets other
participants' size at a level, ``TRADE`` is a market order from the rest of the market (a sweep
to the row's price for the synthetic world, a printed trade for replays), ``MARK``/``INDEX``/
``FUNDING_RATE`` update the ticker. Every ``publish_interval_s`` the accumulated book changes and
trades go out on ``book.*`` and ``recent_trades.*``, with ``ticker.*``, ``lwt.*`` and
``price_index.*``. All delays (``raw``, ``100ms``...) are served at that one cadence (a documented
simplification).

Perpetual funding is charged on the simulated clock, as the backtester does: at each mark update
(a ``MARK`` row, or the mid-derived mark of a source without them), once at least
:data:`FUNDING_ACCRUAL_MIN_S` of simulated time has passed since the last accrual, every open
position pays ``position · mark · rate · dt / 86,400 s`` (the ticker's ``funding_rate`` is a
fraction of notional per 24 h, > 0: longs pay shorts) for the elapsed ``dt``, at the rate in
force during it. The changed portfolio lines go out like any other portfolio change
(``account.portfolio``); ``account_summary`` includes the funding.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from thalex_mm.core.events import IndexUpdated, PublicTrade, TickerUpdated
from thalex_mm.core.types import Instrument, Side
from thalex_mm.data.events import EventKind
from thalex_mm.protocol import server_codec as sc
from thalex_mm.protocol.constants import Channel

__all__ = ["BTC_PERPETUAL", "FUNDING_ACCRUAL_MIN_S", "MarketFeed", "MarketSource"]

_LEVEL, _TRADE, _CLEAR = int(EventKind.BOOK_LEVEL), int(EventKind.TRADE), int(EventKind.BOOK_CLEAR)

#: Shortest simulated interval between two funding accruals, seconds (Thalex accrues about
#: every second).
FUNDING_ACCRUAL_MIN_S = 1.0
_NS_PER_S = 1_000_000_000

BTC_PERPETUAL = Instrument(
    name="BTC-PERPETUAL",
    product="FBTCUSD",
    tick_size=1.0,
    volume_tick_size=0.001,
    min_order_amount=0.001,
    underlying="BTCUSD",
    type="perpetual",
    base_currency="USD",
    create_time_ns=1_700_000_000_000_000_000,
)
"""Real-looking metadata (thalex_protocol.md §4.1, §8)."""


class MarketSource(Protocol):
    def due_until(self, now_ns: int) -> np.ndarray: ...


@dataclass
class _Ticker:
    mark: float = 0.0
    index: float = 0.0
    funding_rate: float = 0.0
    last: float | None = None
    ts_ns: int = 0


class MarketFeed:
    """Engine + source + public feeds for one instrument.

    Args:
        engine: the matching engine (``thalex_mm.sim.engine.MatchingEngine``).
        source: where market events come from.
        instrument: the instrument the source drives.
        trade_mode: ``"sweep"``: a TRADE row is a market order that trades up to its price
            (synthetic world); ``"print"``: a recorded trade printed at its price (replay).
        publish_interval_s: cadence of public feed messages, seconds.
        fast_path: level updates that can trade with nothing and meet none of our orders use
            the engine's ``set_external_level_fast`` (False: the full call, for comparisons).

    The ticker's collar_low/high come from the engine (``collar_bounds``). A source without
    MARK rows (a Binance replay) gets mark = index = mid of the book at each publish.
    """

    def __init__(
        self,
        engine: Any,
        source: MarketSource,
        instrument: Instrument = BTC_PERPETUAL,
        *,
        trade_mode: str = "sweep",
        publish_interval_s: float = 0.05,
        fast_path: bool = True,
    ) -> None:
        self.engine = engine
        self.fast_path = fast_path  # False: every level update takes the full engine call
        self.source = source
        self.instrument = instrument
        self.instruments = {instrument.name: instrument}
        self.trade_mode = trade_mode
        self.publish_interval_s = publish_interval_s
        self.publish: Callable[[dict[str, bytes]], None] = lambda frames: None
        self.publish_private: Callable[[Any], None] = lambda out: None
        self._tick = _Ticker()
        self._book_changes: dict[tuple[int, float], float] = {}
        self._trades: list[PublicTrade] = []
        self.events_applied = 0
        self._external: dict[tuple[int, float], float] = {}
        self.last_publish_ns = 0
        self._mark_seen = False
        self._funding_ts_ns: int | None = None  # simulated time of the last funding accrual

    # ------------------------------------------------------------------ state for requests

    def ticker(self, name: str) -> TickerUpdated:
        t = self._tick
        (bb, bba), (ba, baa) = self._best()
        low, high = self.engine.collar_bounds(name) or (None, None)
        return TickerUpdated(
            exchange_ts_ns=t.ts_ns, instrument=name, mark_price=t.mark, index_price=t.index,
            best_bid_price=bb, best_bid_amount=bba, best_ask_price=ba, best_ask_amount=baa,
            last_price=t.last, funding_rate=t.funding_rate, funding_mark=t.mark,
            collar_low=low, collar_high=high,
        )

    def index(self, underlying: str) -> IndexUpdated | None:
        if underlying != self.instrument.underlying:
            return None
        return IndexUpdated(exchange_ts_ns=self._tick.ts_ns, index_name=underlying, price=self._tick.index)

    def last_price(self, name: str) -> float | None:
        return self._tick.last

    def _best(self) -> tuple[tuple[float | None, float | None], tuple[float | None, float | None]]:
        bids, asks = self.engine.book_levels(self.instrument.name, 1)
        b = bids[0] if bids else (None, None)
        a = asks[0] if asks else (None, None)
        return b, a

    def is_valid_channel(self, name: str) -> bool:
        return self._family(name) is not None

    def _family(self, name: str) -> str | None:
        """Map a channel name to the feed family that serves it (None = invalid)."""
        inst, und = self.instrument.name, self.instrument.underlying
        parts = name.split(".")
        head = parts[0]
        if name in (Channel.SYSTEM.value, Channel.INSTRUMENTS.value):
            return name
        if head in ("ticker", "lwt") and len(parts) == 3 and parts[1] == inst:
            return head
        if head == "book" and len(parts) == 5 and parts[1] == inst and parts[2] == "none":
            return "book"
        if head == "price_index" and len(parts) == 2 and parts[1] == und:
            return "price_index"
        if head == "recent_trades" and len(parts) == 3 and (
            (parts[1] == inst and parts[2] == "single") or (parts[1] == und and parts[2] == "all")
        ):
            return "recent_trades"
        return None

    def snapshot_frames(self, channel: str) -> list[bytes]:
        family = self._family(channel)
        now_s = self._tick.ts_ns / 1e9
        if family == "book":
            depth_txt = channel.split(".")[3]
            depth = None if depth_txt == "all" else int(depth_txt) if depth_txt.isdigit() else None
            bids, asks = self.engine.book_levels(self.instrument.name, depth)
            payload = sc.book_to_wire(bids, asks, (), sum(a for _, a in bids), sum(a for _, a in asks), now_s)
            return [sc.encode_notification(channel, payload, snapshot=True)]
        if family == "ticker":
            return [sc.encode_notification(channel, sc.ticker_to_wire(self.ticker(self.instrument.name)))]
        if family == "lwt":
            return [sc.encode_notification(channel, self._lwt_payload())]
        if family == "price_index":
            idx = self.index(self.instrument.underlying)
            return [sc.encode_notification(channel, sc.index_to_wire(idx))] if idx else []
        if family == "recent_trades":
            return [sc.encode_notification(channel, [], snapshot=True)]
        if family == Channel.INSTRUMENTS.value:
            added = [{"added": sc.instrument_to_wire(i)} for i in self.instruments.values()]
            return [sc.encode_notification(channel, added, snapshot=True)]
        return []

    def _lwt_payload(self) -> dict[str, Any]:
        (bb, bba), (ba, baa) = self._best()
        d: dict[str, Any] = {"m": self._tick.mark}
        if bb is not None:
            d["b"] = [bb, bba, bba]
        if ba is not None:
            d["a"] = [ba, baa, baa]
        if self._tick.last is not None:
            d["l"] = self._tick.last
        return d

    # ------------------------------------------------------------------ engine outputs

    def note_book_changes(self, changes: Any, trades: Any) -> None:
        for c in changes:
            self._book_changes[(1 if c.side is Side.BUY else -1, c.price)] = c.amount
        if trades:
            self._trades.extend(trades)
            self._tick.last = trades[-1].price

    # ------------------------------------------------------------------ the loop

    def apply(self, rows: np.ndarray) -> None:
        """Apply source rows to the engine (synchronously).

        Level updates that cannot trade and meet none of our orders take the engine's fast path
        (``set_external_level_fast``: no output envelope, the change goes straight into this
        cycle's book delta); everything else goes through the full engine call and
        ``publish_private``.
        """
        eng = self.engine
        name = self.instrument.name
        sweep = self.trade_mode == "sweep"
        publish_private = self.publish_private
        external = self._external
        book_changes = self._book_changes
        fast = getattr(eng, "set_external_level_fast", None) if self.fast_path else None
        level_kind, trade_kind, clear_kind = _LEVEL, _TRADE, _CLEAR
        buy, sell = Side.BUY, Side.SELL
        for kind, side, ts, price, qty in zip(
            rows["kind"].tolist(), rows["side"].tolist(), rows["exch_ts"].tolist(),
            rows["price"].tolist(), rows["qty"].tolist(), strict=True,
        ):
            if kind == level_kind:
                key = (side, price)
                if qty > 0:
                    external[key] = qty
                elif external.pop(key, None) is None:
                    continue
                if fast is not None:
                    total = fast(name, side > 0, price, qty)
                    if total is not None:
                        book_changes[(1 if side > 0 else -1, price)] = total
                        continue
                out = eng.set_external_level(name, buy if side > 0 else sell, price, qty, ts_ns=ts)
            elif kind == trade_kind:
                if qty <= 0:
                    continue
                aggressor = buy if side > 0 else sell
                if sweep:
                    out = eng.external_market_order(name, aggressor, qty, price, ts_ns=ts)
                else:
                    out = eng.external_trade(name, aggressor, price, qty, ts_ns=ts)
            elif kind == clear_kind:
                for (s, p) in list(external):
                    publish_private(eng.set_external_level(name, buy if s > 0 else sell, p, 0.0, ts_ns=ts))
                external.clear()
                continue
            elif kind == EventKind.MARK:
                self._mark_seen = True
                self._tick.mark = price
                self._tick.ts_ns = ts
                eng.set_mark(name, price)
                self._accrue_funding(ts)
                continue
            elif kind == EventKind.INDEX:
                self._tick.index = price
                self._tick.ts_ns = ts
                continue
            elif kind == EventKind.FUNDING_RATE:
                self._tick.funding_rate = price
                continue
            else:
                continue
            publish_private(out)
        self.events_applied += len(rows)

    def publish_now(self, now_ns: int) -> None:
        """Build this cycle's public frames and hand them to ``publish``."""
        frames: dict[str, bytes] = {}
        inst, und = self.instrument.name, self.instrument.underlying
        t_s = now_ns / 1e9
        if not self._mark_seen:
            self._mark_from_mid(now_ns)
        if self._book_changes or self._trades:
            bids = [(p, a) for (s, p), a in self._book_changes.items() if s > 0]
            asks = [(p, a) for (s, p), a in self._book_changes.items() if s < 0]
            payload = sc.book_to_wire(bids, asks, self._trades, 0.0, 0.0, t_s)
            frames[f"book.{inst}.none.all.raw"] = sc.encode_notification(f"book.{inst}.none.all.raw", payload)
        if self._trades:
            rows = sc.public_trades_to_wire(self._trades)
            frames[f"recent_trades.{inst}.single"] = sc.encode_notification(f"recent_trades.{inst}.single", rows)
            frames[f"recent_trades.{und}.all"] = sc.encode_notification(f"recent_trades.{und}.all", rows)
        if self._tick.mark:
            ticker = sc.ticker_to_wire(self.ticker(inst))
            frames[f"ticker.{inst}.raw"] = sc.encode_notification(f"ticker.{inst}.raw", ticker)
            frames[f"lwt.{inst}.raw"] = sc.encode_notification(f"lwt.{inst}.raw", self._lwt_payload())
            idx = self.index(und)
            if idx is not None and idx.price:
                frames[f"price_index.{und}"] = sc.encode_notification(f"price_index.{und}", sc.index_to_wire(idx))
        self._book_changes.clear()
        self._trades.clear()
        self.last_publish_ns = now_ns
        if frames:
            self.publish(self._alias(frames))

    def _mark_from_mid(self, now_ns: int) -> None:
        """Sources without MARK/INDEX rows (e.g. a Binance replay): mark = index = mid."""
        (bb, _), (ba, _) = self._best()
        if bb is None or ba is None:
            return
        mid = (bb + ba) / 2.0
        t = self._tick
        t.mark = mid
        t.index = mid
        t.ts_ns = now_ns
        self.engine.set_mark(self.instrument.name, mid)
        self._accrue_funding(now_ns)

    def _accrue_funding(self, ts_ns: int) -> None:
        """Charge funding for the simulated time since the last accrual (at a mark update)."""
        last = self._funding_ts_ns
        if last is None or ts_ns < last:  # first mark, or a clock that went back (a new replay)
            self._funding_ts_ns = ts_ns
            return
        dt_ns = ts_ns - last
        if dt_ns < FUNDING_ACCRUAL_MIN_S * _NS_PER_S:
            return
        self._funding_ts_ns = ts_ns
        t = self._tick
        if not t.funding_rate or not t.mark or self.instrument.type != "perpetual":
            return
        out = self.engine.accrue_funding(self.instrument.name, t.funding_rate, t.mark, dt_ns / _NS_PER_S,
                                         ts_ns=ts_ns)
        self.publish_private(out)

    def _alias(self, frames: dict[str, bytes]) -> dict[str, bytes]:
        """Serve every delay/depth variant of a family with the canonical frame (renamed)."""
        return _AliasMap(frames, self)

    async def run(self, clock_ns: Callable[[], int]) -> None:
        """Apply due source rows and publish, every ``publish_interval_s``, until cancelled."""
        while True:
            now = clock_ns()
            rows = self.source.due_until(now)
            if len(rows):
                self.apply(rows)
            self.publish_now(now)
            await asyncio.sleep(self.publish_interval_s)


class _AliasMap(dict):
    """A frames dict that also answers for channel names of the same family (other delays or
    depths), re-encoding the frame with the subscriber's channel name."""

    def __init__(self, frames: dict[str, bytes], feed: MarketFeed) -> None:
        super().__init__(frames)
        self._by_family = {feed._family(k): k for k in frames}
        self._feed = feed

    def _canonical(self, name: str) -> str | None:
        fam = self._feed._family(name)
        return self._by_family.get(fam) if fam else None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (dict.__contains__(self, name) or self._canonical(name) is not None)

    def __getitem__(self, name: str) -> bytes:
        if dict.__contains__(self, name):
            return dict.__getitem__(self, name)
        canon = self._canonical(name)
        if canon is None:
            raise KeyError(name)
        frame = dict.__getitem__(self, canon)
        return frame.replace(canon.encode(), name.encode(), 1)
