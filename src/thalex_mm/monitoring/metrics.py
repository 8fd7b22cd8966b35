"""Prometheus metrics, exposed with the official ``prometheus_client`` library.

The bot owns one :class:`Metrics` (usually ``StatusHub.metrics``) and bumps it on the hot path:
counters are plain ``int`` attributes (``metrics.quotes_sent += 1``), latencies go through
:meth:`Metrics.observe_tick_to_order` / :meth:`Metrics.observe_round_trip` (a bisect and two
additions). Nothing else is computed until scraped: at scrape time a custom collector turns the
attributes into ``prometheus_client`` metric families, and :meth:`Metrics.render` writes them,
together with the standard ``process_*``, ``python_info``/``python_gc_*`` (platform) metrics,
with ``prometheus_client.generate_latest``. Each :class:`Metrics` has its own registry, so
several bots (or tests) in one process never share values.

Every bot metric is prefixed ``thalex_mm_``. Units are in the names (``_seconds``,
``_contracts``, ``_quote``: quote currency, ``_messages``, ``_ratio``).
"""

from __future__ import annotations

import itertools
import math
import platform
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
)

from thalex_mm import __version__

__all__ = [
    "CONTENT_TYPE",
    "ROUND_TRIP_BUCKETS_S",
    "TICK_TO_ORDER_BUCKETS_S",
    "TICK_TO_ORDER_HELP",
    "TRADING_STATES",
    "Histogram",
    "Metrics",
]

#: Content type of the exposition: text format 0.0.4, what ``generate_latest`` writes for our
#: (ASCII) names and every Prometheus server reads (newer clients call it ``version=1.0.0``).
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
#: HELP of the tick-to-order histogram: what it measures, honestly (see drivers/quoter.py).
TICK_TO_ORDER_HELP = (
    "Seconds from the arrival of the first market-data frame since the previous quote step to "
    "the sending of the first order request of the quote step it caused. INCLUDES any wait for "
    "quoting.min_requote_interval_ms (the requote interval), so it is not pure processing "
    "latency; steps with no market frame (fills, order updates only) are not counted."
)

_PREFIX = "thalex_mm_"

# (attribute, help) of each counter; exposed as thalex_mm_<attribute>_total.
_COUNTERS: tuple[tuple[str, str], ...] = (
    ("quotes_sent", "Quote updates sent to the exchange (inserts and mass quotes)."),
    ("amends", "Order amendments sent."),
    ("cancels", "Order cancellations sent."),
    ("fills", "Fills of our orders."),
    ("rejects", "Requests rejected by the exchange (expected races such as an amend of an order "
                "that just filled are not counted)."),
    ("reconnects", "Reconnects of the exchange connection."),
    ("throttles", "Quote updates held back by the message budget."),
)
# (attribute, metric name, help) of each plain gauge; NaN = not known (yet).
_GAUGES: tuple[tuple[str, str, str], ...] = (
    ("position", "position_contracts", "Signed position (contracts)."),
    ("pnl_total", "pnl_total_quote", "Total PnL after fees and funding (quote currency)."),
    ("pnl_realised", "pnl_realised_quote", "Realised PnL (quote currency)."),
    ("pnl_unrealised", "pnl_unrealised_quote", "Unrealised PnL (quote currency)."),
    ("fees", "fees_quote", "Fees paid this session (quote currency; + = cost, - = rebate)."),
    ("funding", "funding_quote", "Funding this session (quote currency; + = received)."),
    ("mid", "mid_price_quote", "Market mid price (quote currency; NaN when unknown)."),
    ("market_spread", "market_spread_quote",
     "Best ask minus best bid of the public book (quote currency; NaN when one side is empty)."),
    ("quoted_spread", "quoted_spread_quote",
     "Our ask minus our bid (quote currency; NaN unless both sides are quoted)."),
    ("quote_age_s", "quote_age_seconds",
     "Seconds since the core last ran a quote step (its quotes were last decided)."),
    ("market_data_age_s", "market_data_staleness_seconds",
     "Seconds since the staler of book and ticker last updated (inf before any data)."),
    ("sigma", "sigma", "Volatility estimate used by the model, quote currency per sqrt(second) "
                       "(NaN when unknown)."),
    ("open_orders", "open_orders", "Open orders of ours."),
    ("budget_used", "message_budget_used_messages",
     "Matching-engine messages spent in the current rate-limit window (NaN when unknown)."),
    ("budget_limit", "message_budget_limit_messages",
     "Matching-engine messages allowed per window (NaN when unknown)."),
)


def _float(value: Any) -> float:
    """A gauge value: None -> NaN."""
    return math.nan if value is None else float(value)


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

    def family(self, name: str, help_text: str) -> HistogramMetricFamily:
        """The ``prometheus_client`` histogram family (cumulative buckets, sum, count)."""
        buckets: list[tuple[str, float]] = []
        running = 0
        for bound, n in zip(self.bounds_s, self.counts, strict=False):
            running += n
            buckets.append((repr(bound), running))
        buckets.append(("+Inf", self.count))
        return HistogramMetricFamily(name, help_text, buckets=buckets, sum_value=self.sum_s)


class Metrics:
    """The bot's counters, gauges and latency histograms, and their registry.

    Counters (bump directly, e.g. ``metrics.amends += 1``): ``quotes_sent``, ``amends``,
    ``cancels``, ``fills``, ``rejects``, ``reconnects``, ``throttles``. ``StatusHub`` already
    counts ``fills`` (``on_fill``) and ``reconnects`` (``on_reconnect``); the bot counts the rest.

    Gauges (see ``_GAUGES`` for names and units): position, PnL, fees, funding, mid, market
    and quoted spread, quote age, market-data staleness, σ, open orders, message budget, plus
    ``trading_state`` and ``halt_reason`` (labelled); set by :meth:`update_from_snapshot`
    (``StatusHub.publish`` calls it) or directly.

    Histograms: ``tick_to_order`` (see :data:`TICK_TO_ORDER_HELP`) and ``round_trip``
    (request sent -> exchange reply), both in seconds.

    ``registry`` also holds the standard process, platform and GC collectors and
    ``thalex_mm_build_info``.
    """

    __slots__ = (
        "amends", "budget_limit", "budget_used", "cancels", "fees", "fills", "funding",
        "market_data_age_s", "market_spread", "mid", "open_orders", "pnl_realised",
        "pnl_total", "pnl_unrealised", "position", "quote_age_s", "quoted_spread",
        "quotes_sent", "reconnects", "registry", "rejects", "round_trip", "sigma",
        "state_reason", "throttles", "tick_to_order", "trading_state",
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
        self.fees = 0.0
        self.funding = 0.0
        self.mid = math.nan
        self.market_spread = math.nan
        self.quoted_spread = math.nan
        self.quote_age_s = math.nan
        self.market_data_age_s = math.nan
        self.sigma = math.nan
        self.open_orders = 0
        self.budget_used = math.nan
        self.budget_limit = math.nan
        self.trading_state = "ACTIVE"
        self.state_reason = ""
        self.tick_to_order = Histogram(tick_to_order_buckets_s)
        self.round_trip = Histogram(round_trip_buckets_s)
        self.registry = CollectorRegistry(auto_describe=False)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.registry.register(_BotCollector(self))

    def observe_tick_to_order(self, seconds: float) -> None:
        """Record one tick-to-order latency (s)."""
        self.tick_to_order.observe(seconds)

    def observe_round_trip(self, seconds: float) -> None:
        """Record one request round trip (s)."""
        self.round_trip.observe(seconds)

    def update_from_snapshot(self, snapshot: Any) -> None:
        """Set the gauges from a ``DashboardSnapshot`` (or anything with the same fields; a
        missing field leaves its gauge unknown)."""
        self.position = float(snapshot.position)
        self.pnl_total = float(snapshot.pnl_total)
        self.pnl_realised = float(snapshot.pnl_realised)
        self.pnl_unrealised = float(snapshot.pnl_unrealised)
        self.fees = _float(getattr(snapshot, "fees", None))
        self.funding = _float(getattr(snapshot, "funding", None))
        self.sigma = _float(snapshot.sigma)
        self.mid = _float(getattr(snapshot, "mid", None))
        self.market_spread = _spread(getattr(snapshot, "best_bid", None), getattr(snapshot, "best_ask", None))
        self.quoted_spread = _spread(getattr(snapshot, "our_bid", None), getattr(snapshot, "our_ask", None))
        self.quote_age_s = _float(getattr(snapshot, "quote_age_s", None))
        self.market_data_age_s = _float(getattr(snapshot, "market_data_age_s", None))
        self.open_orders = len(snapshot.open_orders)
        self.budget_used = _float(getattr(snapshot, "budget_used", None))
        self.budget_limit = _float(getattr(snapshot, "budget_limit", None))
        state = snapshot.trading_state
        self.trading_state = str(getattr(state, "name", state)).upper()
        reason = getattr(snapshot, "state_reason", "")
        self.state_reason = str(getattr(reason, "value", reason))

    def render(self, extra_lines: Iterable[str] = ()) -> str:
        """The whole exposition (``prometheus_client.generate_latest``; ends with a newline)."""
        text = generate_latest(self.registry).decode("utf-8")
        extra = list(extra_lines)
        return text + ("\n".join(extra) + "\n" if extra else "")


def _spread(low: Any, high: Any) -> float:
    if low is None or high is None:
        return math.nan
    return float(high) - float(low)


class _BotCollector:
    """Turns a :class:`Metrics`' attributes into metric families at scrape time."""

    def __init__(self, metrics: Metrics) -> None:
        self._m = metrics

    def collect(self) -> Iterator[Metric]:
        m = self._m
        for attr, help_text in _COUNTERS:
            c = CounterMetricFamily(f"{_PREFIX}{attr}", help_text)
            c.add_metric([], getattr(m, attr))
            yield c
        for attr, metric, help_text in _GAUGES:
            yield GaugeMetricFamily(_PREFIX + metric, help_text, value=_float(getattr(m, attr)))
        ratio = m.budget_used / m.budget_limit if m.budget_limit and m.budget_limit > 0 else math.nan
        yield GaugeMetricFamily(_PREFIX + "message_budget_use_ratio",
                                "Share of the message budget spent in the current window (0..1+).",
                                value=ratio)
        states = GaugeMetricFamily(_PREFIX + "trading_state",
                                   "Trading state: 1 for the current state, 0 for the others.",
                                   labels=["state"])
        known = TRADING_STATES if m.trading_state in TRADING_STATES else (*TRADING_STATES, m.trading_state)
        for s in known:
            states.add_metric([s], float(s == m.trading_state))
        yield states
        halted = m.trading_state == "HALTED"
        halt = GaugeMetricFamily(_PREFIX + "halt_reason",
                                 "Why trading is halted: 1 with the reason label while HALTED "
                                 "(e.g. kill_switch, drawdown, disconnected); 0 with reason "
                                 '"none" otherwise.', labels=["reason"])
        halt.add_metric([m.state_reason or "unknown" if halted else "none"], float(halted))
        yield halt
        yield m.tick_to_order.family(_PREFIX + "tick_to_order_seconds", TICK_TO_ORDER_HELP)
        yield m.round_trip.family(_PREFIX + "request_round_trip_seconds",
                                  "Seconds from sending an exchange request with an id to "
                                  "receiving its answer.")
        info = InfoMetricFamily(_PREFIX + "build", "Version of thalex-mm and of Python running it.")
        info.add_metric([], {"version": __version__, "python": platform.python_version()})
        yield info
