"""Monitoring of a running bot: live dashboard, Prometheus metrics and the status hub.

The bot fills a :class:`StatusHub` (snapshots, fills, errors, reconnects, kill switch) and bumps
:class:`Metrics`; a :class:`DashboardServer` serves both over HTTP on 127.0.0.1 (page, SSE
stream, ``/api/kill``, ``/metrics``). Module map:

- ``status``: :class:`DashboardSnapshot`, :class:`StatusHub`
- ``metrics``: :class:`Metrics`, :class:`Histogram` (Prometheus exposition via ``prometheus_client``)
- ``dashboard``: :class:`DashboardServer`, :class:`MetricsServer` (aiohttp)
- ``bridge``: :class:`CoreStatusHub`, :func:`snapshot_from_core` (driver status -> snapshot)
- ``static/``: the page (HTML, JS, CSS; no external resources)
"""

from thalex_mm.monitoring.bridge import CoreStatusHub, snapshot_from_core, sync_metrics
from thalex_mm.monitoring.dashboard import TOKEN_ENV, DashboardServer, MetricsServer, is_loopback
from thalex_mm.monitoring.metrics import (
    CONTENT_TYPE,
    ROUND_TRIP_BUCKETS_S,
    TICK_TO_ORDER_BUCKETS_S,
    TRADING_STATES,
    Histogram,
    Metrics,
)
from thalex_mm.monitoring.status import DashboardSnapshot, FillMark, OpenOrderView, StatusHub

__all__ = [
    "CONTENT_TYPE",
    "ROUND_TRIP_BUCKETS_S",
    "TICK_TO_ORDER_BUCKETS_S",
    "TOKEN_ENV",
    "TRADING_STATES",
    "CoreStatusHub",
    "DashboardServer",
    "DashboardSnapshot",
    "FillMark",
    "Histogram",
    "Metrics",
    "MetricsServer",
    "OpenOrderView",
    "StatusHub",
    "is_loopback",
    "snapshot_from_core",
    "sync_metrics",
]
