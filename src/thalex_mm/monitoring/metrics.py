"""Prometheus metrics, written by hand in the text exposition format (version 0.0.4).

The bot owns one :class:`Metrics` (usually ``StatusHub.metrics``) and bumps it on the hot path:
counters are plain ``int`` attributes (``metrics.quotes_sent += 1``), latencies go through
:meth:`Metrics.observe_tick_to_order` / :meth:`Metrics.observe_round_trip` (a bisect and two
additions). :meth:`Metrics.render` produces the ``/metrics`` body; nothing else is computed
until scraped.

Every metric is prefixed ``thalex_mm_``. Units are in the names (``_seconds``, ``_contracts``,
``_quote``: quote currency).
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "CONTENT_TYPE",
    "ROUND_TRIP_BUCKETS_S",
    "TICK_TO_ORDER_BUCKETS_S",
    "TRADING_STATES",
    "Histogram",
    "Metrics",
]

#: Content type of the exposition (Prometheus text format 0.0.4).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: Upper bounds (s) of the tick-to-order latency buckets: 50 µs .. 1 s.
TICK_TO_ORDER_BUCKETS_S: tuple[float, ...] = (
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0,
)
#: Upper bounds (s) of the request round-trip buckets: 1 ms .. 10 s.
ROUND_TRIP_BUCKETS_S: tuple[float, ...] = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)
#: The values of the ``trading_state`` label (one gauge each, 1 for the current state).
TRADING_STATES: tuple[str, ...] = ("ACTIVE", "REDUCING", "HALTED")

_PREFIX = "thalex_mm_"

# (attribute, help) of each counter; exposed as thalex_mm_<attribute>_total.
_COUNTERS: tuple[tuple[str, str], ...] = (
    ("quotes_sent", "Quote updates sent to the exchange (inserts and mass quotes)."),
    ("amends", "Order amendments sent."),
    ("cancels", "Order cancellations sent."),
    ("fills", "Fills of our orders."),
    ("rejects", "Requests rejected by the exchange."),
    ("reconnects", "Reconnects of the exchange connection."),
    ("throttles", "Quote updates held back by the message budget."),
)
# (attribute, metric name, help) of each plain gauge.
_GAUGES: tuple[tuple[str, str, str], ...] = (
    ("position", "position_contracts", "Signed position (contracts)."),
    ("pnl_total", "pnl_total_quote", "Total PnL (quote currency)."),
    ("pnl_realised", "pnl_realised_quote", "Realised PnL (quote currency)."),
    ("pnl_unrealised", "pnl_unrealised_quote", "Unrealised PnL (quote currency)."),
    ("sigma", "sigma", "Volatility estimate used by the model (NaN when unknown)."),
    ("open_orders", "open_orders", "Open orders of ours."),
)


def _fmt(value: float) -> str:
    """A sample value as Prometheus writes it (``+Inf``, ``-Inf``, ``NaN``, repr otherwise)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Histogram:
    """A fixed-bucket histogram of seconds.

    Args:
        bounds_s: strictly increasing, finite upper bounds (s); ``+Inf`` is implicit.

    Raises:
        ValueError: bounds empty, not finite or not strictly increasing.
    """

    __slots__ = ("bounds_s", "count", "counts", "sum_s")

    def __init__(self, bounds_s: Sequence[float]) -> None:
        bounds = tuple(float(b) for b in bounds_s)
        if not bounds or any(not math.isfinite(b) for b in bounds) or any(
                b <= a for a, b in itertools.pairwise(bounds)):
            raise ValueError(f"Histogram bounds_s: got {bounds_s!r}, expected finite, "
                             "strictly increasing values")
        self.bounds_s = bounds
        self.counts = [0] * (len(bounds) + 1)  # per bucket (not cumulative); last = +Inf
        self.sum_s = 0.0
        self.count = 0

    def observe(self, seconds: float) -> None:
        """Add one observation (s). A NaN is ignored."""
        if seconds != seconds:  # NaN
            return
        self.counts[bisect_left(self.bounds_s, seconds)] += 1
        self.sum_s += seconds
        self.count += 1

    def lines(self, name: str) -> list[str]:
        """The ``_bucket`` (cumulative), ``_sum`` and ``_count`` sample lines."""
        out = []
        running = 0
        for bound, n in zip(self.bounds_s, self.counts, strict=False):
            running += n
            out.append(f'{name}_bucket{{le="{_fmt(bound)}"}} {running}')
        out.append(f'{name}_bucket{{le="+Inf"}} {self.count}')
        out.append(f"{name}_sum {_fmt(self.sum_s)}")
        out.append(f"{name}_count {self.count}")
        return out


class Metrics:
    """The bot's counters, gauges and latency histograms.

    Counters (bump directly, e.g. ``metrics.amends += 1``): ``quotes_sent``, ``amends``,
    ``cancels``, ``fills``, ``rejects``, ``reconnects``, ``throttles``. ``StatusHub`` already
    counts ``fills`` (``on_fill``) and ``reconnects`` (``on_reconnect``); the bot counts the rest.

    Gauges: ``position``, ``pnl_total``, ``pnl_realised``, ``pnl_unrealised``, ``sigma``,
    ``open_orders``, ``trading_state`` (a name from :data:`TRADING_STATES`); set by
    :meth:`update_from_snapshot` (``StatusHub.publish`` calls it) or directly.

    Histograms: ``tick_to_order`` (market event received -> order sent) and ``round_trip``
    (request sent -> exchange reply), both in seconds.
    """

    __slots__ = (
        "amends", "cancels", "fills", "open_orders", "pnl_realised", "pnl_total",
        "pnl_unrealised", "position", "quotes_sent", "reconnects", "rejects", "round_trip",
        "sigma", "throttles", "tick_to_order", "trading_state",
    )  # fmt: skip

    def __init__(
        self,
        *,
        tick_to_order_buckets_s: Sequence[float] = TICK_TO_ORDER_BUCKETS_S,
        round_trip_buckets_s: Sequence[float] = ROUND_TRIP_BUCKETS_S,
    ) -> None:
        self.quotes_sent = 0
        self.amends = 0
        self.cancels = 0
        self.fills = 0
        self.rejects = 0
        self.reconnects = 0
        self.throttles = 0
        self.position = 0.0
        self.pnl_total = 0.0
        self.pnl_realised = 0.0
        self.pnl_unrealised = 0.0
        self.sigma = math.nan
        self.open_orders = 0
        self.trading_state = "ACTIVE"
        self.tick_to_order = Histogram(tick_to_order_buckets_s)
        self.round_trip = Histogram(round_trip_buckets_s)

    def observe_tick_to_order(self, seconds: float) -> None:
        """Record one tick-to-order latency (s)."""
        self.tick_to_order.observe(seconds)

    def observe_round_trip(self, seconds: float) -> None:
        """Record one request round trip (s)."""
        self.round_trip.observe(seconds)

    def update_from_snapshot(self, snapshot: Any) -> None:
        """Set the gauges from a ``DashboardSnapshot`` (or anything with the same fields)."""
        self.position = float(snapshot.position)
        self.pnl_total = float(snapshot.pnl_total)
        self.pnl_realised = float(snapshot.pnl_realised)
        self.pnl_unrealised = float(snapshot.pnl_unrealised)
        self.sigma = math.nan if snapshot.sigma is None else float(snapshot.sigma)
        self.open_orders = len(snapshot.open_orders)
        state = snapshot.trading_state
        self.trading_state = str(getattr(state, "name", state)).upper()

    def render(self, extra_lines: Iterable[str] = ()) -> str:
        """The whole exposition (ends with a newline)."""
        out: list[str] = []
        for attr, help_text in _COUNTERS:
            name = f"{_PREFIX}{attr}_total"
            out += [f"# HELP {name} {help_text}", f"# TYPE {name} counter",
                    f"{name} {getattr(self, attr)}"]
        for attr, metric, help_text in _GAUGES:
            name = _PREFIX + metric
            out += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge",
                    f"{name} {_fmt(float(getattr(self, attr)))}"]
        name = _PREFIX + "trading_state"
        out += [f"# HELP {name} Trading state: 1 for the current state, 0 for the others.",
                f"# TYPE {name} gauge"]
        states = TRADING_STATES if self.trading_state in TRADING_STATES else (
            *TRADING_STATES, self.trading_state)
        out += [f'{name}{{state="{_escape_label(s)}"}} {int(s == self.trading_state)}'
                for s in states]
        for hist, metric, help_text in (
            (self.tick_to_order, "tick_to_order_seconds",
             "Latency from a market event to the order it caused being sent (s)."),
            (self.round_trip, "request_round_trip_seconds",
             "Round trip of an exchange request (s)."),
        ):
            name = _PREFIX + metric
            out += [f"# HELP {name} {help_text}", f"# TYPE {name} histogram"]
            out += hist.lines(name)
        out.extend(extra_lines)
        return "\n".join(out) + "\n"
