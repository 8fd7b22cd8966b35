"""The input of a run report: flat time series recorded during a run.

A :class:`RunRecord` is what both the backtester and ``thalex-mm report RUN_ID`` (rebuilding
from the SQLite journal) hand to :func:`thalex_mm.reports.compute_summary` and
:func:`thalex_mm.reports.write_report`. It holds numpy arrays only, so metrics are vectorised.

Source of truth for PnL: the **fills**, the **mid** samples and the **funding** payments.
Equity is *computed* from them (cash from fills, fees and funding, plus position marked to the
last mid at or before each instant); there is no separately recorded equity series that could
disagree with the fills.

Units: timestamps in integer nanoseconds since the Unix epoch (``*_ts_ns``); prices in quote
currency (USD for BTC-PERPETUAL); amounts in contracts; fees and funding in quote currency.
Contracts are linear with multiplier 1 (notional = price · amount), as Thalex perpetuals are.

Sign conventions:
- ``fill_side``: +1 buy, -1 sell (our side).
- ``fill_fee_quote``: positive = a cost paid; a maker rebate is negative.
- ``funding_quote``: positive = received, negative = paid.

:class:`RunRecorder` builds a record incrementally; each ``on_*`` call only appends to Python
lists (cheap on a backtest's hot path); :meth:`RunRecorder.finish` converts to numpy once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from thalex_mm.core.types import Side
from thalex_mm.reports.timeline import TimelineEvent

__all__ = ["RunRecord", "RunRecorder"]

_NAN = math.nan
_EMPTY_I64 = np.zeros(0, dtype=np.int64)
_EMPTY_F64 = np.zeros(0, dtype=np.float64)


def _i64(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=np.int64).reshape(-1)


def _f64(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).reshape(-1)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)  # arrays: no element-wise ==
class RunRecord:
    """Time series and facts of one run; the single input of the report.

    Every group of arrays (mid, quote, fill, funding) has one length per group, and each
    group's timestamps are non-decreasing (checked at construction; ``ValueError`` names the
    field). Arrays are converted to int64/float64/int8/bool on construction and made
    read-only.

    Attributes:
        mid_ts_ns: when a mid price was observed (ns).
        mid_price: the mid price (quote ccy).
        quote_ts_ns: when our wanted/live quotes changed (ns); a quote state holds until the
            next sample (step function). Before the first sample nothing is quoted.
        quote_bid: our bid price, NaN when the bid side is not quoted.
        quote_ask: our ask price, NaN when the ask side is not quoted.
        quote_fair_value: the model's fair value (quote ccy), NaN if unknown.
        quote_reservation: the Avellaneda–Stoikov reservation price (quote ccy), NaN if unknown.
        fill_ts_ns: fill time (ns).
        fill_side: +1 buy, -1 sell.
        fill_price: fill price (quote ccy).
        fill_amount: filled amount (contracts, > 0).
        fill_fee_quote: fee (quote ccy); positive = cost, negative = rebate.
        fill_is_maker: True for a maker (passive) fill.
        funding_ts_ns: funding payment time (ns).
        funding_quote: funding amount (quote ccy); positive = received.
        events: number of events the run processed.
        wall_seconds: wall-clock duration of the run (s); not deterministic.
        instrument: instrument name, e.g. ``"BTC-PERPETUAL"``.
        start_ts_ns: start of the run (ns); ``None`` = earliest recorded timestamp.
        end_ts_ns: end of the run (ns); ``None`` = latest recorded timestamp.
        initial_position: position held at the start (contracts).
        initial_price: entry price of ``initial_position`` (quote ccy); NaN = the first mid.
        requotes: number of quote updates sent, if the caller counted them.
        rejects: number of orders rejected by the exchange, if counted.
        counters: other named integer counters (e.g. ``{"halts": 1}``), copied to the summary.
        config: snapshot of the configuration (JSON-serialisable mapping).
        timeline: halts, kills, errors and reconnects of the run, in time order
            (:class:`~thalex_mm.reports.timeline.TimelineEvent`).
        orders: order activity as table rows ``(ts_ns, event, side, price, amount, status,
            detail)`` (paper/live, from the journal; empty for a backtest).
        fill_trade_id: the fills' trade ids (empty strings when unknown).
        fill_position_after: position after each fill as the exchange reported it
            (contracts; NaN when unknown: the report then uses the running sum).
    """

    mid_ts_ns: np.ndarray = field(default_factory=lambda: _EMPTY_I64)
    mid_price: np.ndarray = field(default_factory=lambda: _EMPTY_F64)
    quote_ts_ns: np.ndarray = field(default_factory=lambda: _EMPTY_I64)
    quote_bid: np.ndarray = field(default_factory=lambda: _EMPTY_F64)
    quote_ask: np.ndarray = field(default_factory=lambda: _EMPTY_F64)
    quote_fair_value: np.ndarray = field(default_factory=lambda: _EMPTY_F64)
    quote_reservation: np.ndarray = field(default_factory=lambda: _EMPTY_F64)
    fill_ts_ns: np.ndarray = field(default_factory=lambda: _EMPTY_I64)
    fill_side: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    fill_price: np.ndarray = field(default_factory=lambda: _EMPTY_F64)
    fill_amount: np.ndarray = field(default_factory=lambda: _EMPTY_F64)
    fill_fee_quote: np.ndarray = field(default_factory=lambda: _EMPTY_F64)
    fill_is_maker: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    funding_ts_ns: np.ndarray = field(default_factory=lambda: _EMPTY_I64)
    funding_quote: np.ndarray = field(default_factory=lambda: _EMPTY_F64)
    events: int = 0
    wall_seconds: float = 0.0
    instrument: str = ""
    start_ts_ns: int | None = None
    end_ts_ns: int | None = None
    initial_position: float = 0.0
    initial_price: float = _NAN
    requotes: int | None = None
    rejects: int | None = None
    counters: Mapping[str, int] = field(default_factory=dict)
    config: Mapping[str, Any] = field(default_factory=dict)
    timeline: tuple[TimelineEvent, ...] = ()
    orders: tuple[tuple[Any, ...], ...] = ()
    fill_trade_id: tuple[str, ...] = ()
    fill_position_after: np.ndarray = field(default_factory=lambda: _EMPTY_F64)

    def __post_init__(self) -> None:
        conv = {
            "mid_ts_ns": _i64, "mid_price": _f64,
            "quote_ts_ns": _i64, "quote_bid": _f64, "quote_ask": _f64,
            "quote_fair_value": _f64, "quote_reservation": _f64,
            "fill_ts_ns": _i64, "fill_price": _f64, "fill_amount": _f64, "fill_fee_quote": _f64,
            "funding_ts_ns": _i64, "funding_quote": _f64,
        }  # fmt: skip
        for name, fn in conv.items():
            object.__setattr__(self, name, fn(getattr(self, name)))
        object.__setattr__(self, "fill_side", np.asarray(self.fill_side, dtype=np.int8).reshape(-1))
        object.__setattr__(
            self, "fill_is_maker", np.asarray(self.fill_is_maker, dtype=bool).reshape(-1)
        )
        object.__setattr__(self, "timeline", tuple(sorted(self.timeline, key=lambda e: e.ts_ns)))
        object.__setattr__(self, "orders", tuple(tuple(o) for o in self.orders))
        object.__setattr__(self, "fill_trade_id", tuple(str(t) for t in self.fill_trade_id))
        object.__setattr__(self, "fill_position_after", _f64(self.fill_position_after))
        for name in ("fill_trade_id", "fill_position_after"):
            n = len(getattr(self, name))
            if n not in (0, len(self.fill_ts_ns)):
                raise ValueError(f"RunRecord.{name}: got length {n}, expected 0 or "
                                 f"{len(self.fill_ts_ns)} (the number of fills)")
        object.__setattr__(self, "counters", MappingProxyType(dict(self.counters)))
        object.__setattr__(self, "config", MappingProxyType(dict(self.config)))
        groups = {
            "mid": ("mid_ts_ns", "mid_price"),
            "quote": ("quote_ts_ns", "quote_bid", "quote_ask", "quote_fair_value",
                      "quote_reservation"),
            "fill": ("fill_ts_ns", "fill_side", "fill_price", "fill_amount", "fill_fee_quote",
                     "fill_is_maker"),
            "funding": ("funding_ts_ns", "funding_quote"),
        }  # fmt: skip
        for group, names in groups.items():
            n = len(getattr(self, names[0]))
            for name in names[1:]:
                if len(getattr(self, name)) != n:
                    raise ValueError(
                        f"RunRecord.{name}: got length {len(getattr(self, name))}, "
                        f"expected {n} (the length of {names[0]}, {group} group)"
                    )
            ts = getattr(self, names[0])
            if n > 1 and bool(np.any(np.diff(ts) < 0)):
                i = int(np.argmax(np.diff(ts) < 0))
                raise ValueError(
                    f"RunRecord.{names[0]}: timestamps must be non-decreasing, got "
                    f"{int(ts[i])} then {int(ts[i + 1])} at index {i + 1}"
                )
            getattr(self, names[0]).flags.writeable = False
            for name in names[1:]:
                getattr(self, name).flags.writeable = False
        bad_side = ~np.isin(self.fill_side, (-1, 1))
        if bool(np.any(bad_side)):
            i = int(np.argmax(bad_side))
            raise ValueError(
                f"RunRecord.fill_side[{i}]: got {int(self.fill_side[i])}, expected +1 or -1"
            )
        bad_amount = ~(self.fill_amount > 0)
        if bool(np.any(bad_amount)):
            i = int(np.argmax(bad_amount))
            raise ValueError(
                f"RunRecord.fill_amount[{i}]: got {float(self.fill_amount[i])}, expected > 0"
            )
        if (
            self.start_ts_ns is not None
            and self.end_ts_ns is not None
            and self.end_ts_ns < self.start_ts_ns
        ):
            raise ValueError(
                f"RunRecord.end_ts_ns: got {self.end_ts_ns}, expected >= start_ts_ns "
                f"({self.start_ts_ns})"
            )

    @property
    def first_ts_ns(self) -> int | None:
        """Earliest timestamp over all series (ns), ``None`` when nothing was recorded."""
        firsts = [int(a[0]) for a in self._ts_arrays() if len(a)]
        return min(firsts) if firsts else None

    @property
    def last_ts_ns(self) -> int | None:
        """Latest timestamp over all series (ns), ``None`` when nothing was recorded."""
        lasts = [int(a[-1]) for a in self._ts_arrays() if len(a)]
        return max(lasts) if lasts else None

    def _ts_arrays(self) -> tuple[np.ndarray, ...]:
        return (self.mid_ts_ns, self.quote_ts_ns, self.fill_ts_ns, self.funding_ts_ns)

    @property
    def window_ns(self) -> tuple[int, int]:
        """``(start_ts_ns, end_ts_ns)`` of the report window, defaults filled in (ns).

        ``(0, 0)`` for a run that recorded nothing and gave no window.
        """
        start = self.start_ts_ns if self.start_ts_ns is not None else self.first_ts_ns
        end = self.end_ts_ns if self.end_ts_ns is not None else self.last_ts_ns
        if start is None and end is None:
            return (0, 0)
        if start is None:
            start = end
        if end is None:
            end = start
        assert start is not None and end is not None
        return (int(start), int(max(start, end)))


class RunRecorder:
    """Builds a :class:`RunRecord` incrementally; every ``on_*`` call only appends to lists.

    Args:
        instrument: instrument name, e.g. ``"BTC-PERPETUAL"``.
        config: JSON-serialisable snapshot of the configuration (e.g.
            ``bot_config.model_dump(mode="json")``).
        initial_position: position held when recording starts (contracts).
        initial_price: entry price of ``initial_position`` (quote ccy); NaN = first mid.

    Timestamps must be passed in non-decreasing order per series (the record checks it).
    """

    __slots__ = (
        "_config",
        "_counters",
        "_fill_after",
        "_fill_amount",
        "_fill_fee",
        "_fill_maker",
        "_fill_price",
        "_fill_side",
        "_fill_trade_id",
        "_fill_ts",
        "_funding",
        "_funding_ts",
        "_initial_position",
        "_initial_price",
        "_instrument",
        "_mid_px",
        "_mid_ts",
        "_q_ask",
        "_q_bid",
        "_q_fv",
        "_q_r",
        "_q_ts",
        "_rejects",
        "_requotes",
        "_timeline",
    )

    def __init__(
        self,
        *,
        instrument: str = "",
        config: Mapping[str, Any] | None = None,
        initial_position: float = 0.0,
        initial_price: float = _NAN,
    ) -> None:
        self._instrument = instrument
        self._config = dict(config or {})
        self._initial_position = float(initial_position)
        self._initial_price = float(initial_price)
        self._mid_ts: list[int] = []
        self._mid_px: list[float] = []
        self._q_ts: list[int] = []
        self._q_bid: list[float] = []
        self._q_ask: list[float] = []
        self._q_fv: list[float] = []
        self._q_r: list[float] = []
        self._fill_ts: list[int] = []
        self._fill_side: list[int] = []
        self._fill_price: list[float] = []
        self._fill_amount: list[float] = []
        self._fill_fee: list[float] = []
        self._fill_maker: list[bool] = []
        self._funding_ts: list[int] = []
        self._funding: list[float] = []
        self._requotes: int | None = None
        self._rejects: int | None = None
        self._counters: dict[str, int] = {}
        self._timeline: list[TimelineEvent] = []
        self._fill_trade_id: list[str] = []
        self._fill_after: list[float] = []

    def on_timeline(self, event: TimelineEvent) -> None:
        """Record a halt, kill, error or reconnect (see ``reports.timeline``)."""
        self._timeline.append(event)

    def on_mid(self, ts_ns: int, price: float) -> None:
        """Record a mid price (quote ccy) observed at ``ts_ns``."""
        self._mid_ts.append(ts_ns)
        self._mid_px.append(price)

    def on_quote(
        self,
        ts_ns: int,
        bid: float | None,
        ask: float | None,
        fair_value: float | None = None,
        reservation: float | None = None,
    ) -> None:
        """Record our quote state from ``ts_ns`` on; ``None`` (or NaN) = side not quoted."""
        self._q_ts.append(ts_ns)
        self._q_bid.append(_NAN if bid is None else bid)
        self._q_ask.append(_NAN if ask is None else ask)
        self._q_fv.append(_NAN if fair_value is None else fair_value)
        self._q_r.append(_NAN if reservation is None else reservation)

    def on_fill(
        self,
        ts_ns: int,
        side: int | Side,
        price: float,
        amount: float,
        fee_quote: float = 0.0,
        is_maker: bool = True,
        *,
        trade_id: str = "",
        position_after: float | None = None,
    ) -> None:
        """Record one of our fills.

        Args:
            ts_ns: fill time (ns).
            side: ``Side.BUY``/``Side.SELL`` or +1/-1.
            price: fill price (quote ccy).
            amount: filled amount (contracts, > 0).
            fee_quote: fee (quote ccy); positive = cost, negative = maker rebate.
            is_maker: True for a passive fill.
            trade_id: the venue's trade id ("" when unknown).
            position_after: position after the fill as the venue reported it (contracts).
        """
        self._fill_ts.append(ts_ns)
        self._fill_side.append(side.sign if isinstance(side, Side) else side)
        self._fill_price.append(price)
        self._fill_amount.append(amount)
        self._fill_fee.append(fee_quote)
        self._fill_maker.append(is_maker)
        self._fill_trade_id.append(trade_id)
        self._fill_after.append(_NAN if position_after is None else position_after)

    def on_funding(self, ts_ns: int, amount_quote: float) -> None:
        """Record a funding payment (quote ccy; positive = received, negative = paid)."""
        self._funding_ts.append(ts_ns)
        self._funding.append(amount_quote)

    def count_requote(self, n: int = 1) -> None:
        """Count ``n`` quote updates sent (mass quotes, amends or inserts)."""
        self._requotes = (self._requotes or 0) + n

    def count_reject(self, n: int = 1) -> None:
        """Count ``n`` exchange rejections."""
        self._rejects = (self._rejects or 0) + n

    def count(self, name: str, n: int = 1) -> None:
        """Add ``n`` to the named counter (reported under ``counters`` in the summary)."""
        self._counters[name] = self._counters.get(name, 0) + n

    @property
    def fills(self) -> int:
        """Number of fills recorded so far."""
        return len(self._fill_ts)

    def finish(
        self,
        *,
        events: int = 0,
        wall_seconds: float = 0.0,
        start_ts_ns: int | None = None,
        end_ts_ns: int | None = None,
    ) -> RunRecord:
        """Convert what was recorded to a :class:`RunRecord` (the recorder stays usable).

        Args:
            events: number of events the run processed.
            wall_seconds: wall-clock duration of the run (s).
            start_ts_ns: start of the report window (ns); ``None`` = earliest timestamp.
            end_ts_ns: end of the report window (ns); ``None`` = latest timestamp.
        """
        return RunRecord(
            mid_ts_ns=np.array(self._mid_ts, dtype=np.int64),
            mid_price=np.array(self._mid_px, dtype=np.float64),
            quote_ts_ns=np.array(self._q_ts, dtype=np.int64),
            quote_bid=np.array(self._q_bid, dtype=np.float64),
            quote_ask=np.array(self._q_ask, dtype=np.float64),
            quote_fair_value=np.array(self._q_fv, dtype=np.float64),
            quote_reservation=np.array(self._q_r, dtype=np.float64),
            fill_ts_ns=np.array(self._fill_ts, dtype=np.int64),
            fill_side=np.array(self._fill_side, dtype=np.int8),
            fill_price=np.array(self._fill_price, dtype=np.float64),
            fill_amount=np.array(self._fill_amount, dtype=np.float64),
            fill_fee_quote=np.array(self._fill_fee, dtype=np.float64),
            fill_is_maker=np.array(self._fill_maker, dtype=bool),
            funding_ts_ns=np.array(self._funding_ts, dtype=np.int64),
            funding_quote=np.array(self._funding, dtype=np.float64),
            events=int(events),
            wall_seconds=float(wall_seconds),
            instrument=self._instrument,
            start_ts_ns=start_ts_ns,
            end_ts_ns=end_ts_ns,
            initial_position=self._initial_position,
            initial_price=self._initial_price,
            requotes=self._requotes,
            rejects=self._rejects,
            counters=self._counters,
            config=self._config,
            timeline=tuple(self._timeline),
            fill_trade_id=tuple(self._fill_trade_id),
            fill_position_after=np.array(self._fill_after, dtype=np.float64),
        )
