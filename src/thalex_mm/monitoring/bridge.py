"""Glue from the bot's own status objects to the dashboard and the metrics.

The paper/live drivers hold a ``CoreStatus`` (from ``MarketMakerCore.status()``), the quoter's
``QuoterStats`` and the session's ``SessionTotals``. :func:`snapshot_from_core` turns them into a
:class:`DashboardSnapshot`; :func:`sync_metrics` copies their counters into :class:`Metrics`;
:class:`CoreStatusHub` is a :class:`StatusHub` whose ``publish`` also accepts
``(status, stats, totals)``, which is how ``run_paper(hub=...)`` calls it.

The status is the core's typed ``CoreStatus``; of the drivers' objects only their error lists
and counters are read (the protocols below), so this module does not import the drivers. Fill
marks on the price chart still need ``hub.on_fill(...)`` from where the driver sees each fill
(e.g. ``SessionLog`` handling a ``FillRecorded``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from thalex_mm.core.market_maker import CoreStatus
from thalex_mm.monitoring.metrics import Metrics
from thalex_mm.monitoring.status import DashboardSnapshot, StatusHub

__all__ = ["CoreStatusHub", "snapshot_from_core", "sync_metrics"]


class _Errors(Protocol):
    """The session's ``SessionTotals``: recent error texts, newest last."""

    errors: Iterable[str]


class _ConnectionCounters(_Errors, Protocol):
    """The quoter's ``QuoterStats``: recent errors and the reconnect count."""

    reconnects: int


def snapshot_from_core(
    status: CoreStatus,
    stats: _ConnectionCounters | None = None,
    totals: _Errors | None = None,
    *,
    budget_used: int | None = None,
    budget_limit: int | None = None,
) -> DashboardSnapshot:
    """A :class:`DashboardSnapshot` from a ``CoreStatus`` (+ ``QuoterStats``, ``SessionTotals``).

    Args:
        status: the core's status now.
        stats: the quoter's stats (``reconnects``, ``errors``), or None.
        totals: the session totals (``errors``), or None.
        budget_used / budget_limit: messages used in / allowed per rate-limit window
            (default: the status's own figures; a limit of 0 reads as unknown).

    Returns:
        The snapshot.
    """
    s = status
    errors = [str(e) for source in (stats, totals) if source is not None for e in source.errors]
    return DashboardSnapshot(
        ts_ns=int(s.ts_ns), instrument=s.instrument, mid=s.mid, fair_value=s.fair_value,
        reservation=s.reservation, best_bid=s.best_bid, best_ask=s.best_ask, our_bid=s.our_bid,
        our_ask=s.our_ask, our_bid_size=s.our_bid_size, our_ask_size=s.our_ask_size,
        position=s.position, avg_price=s.average_price if s.average_price or s.position else None,
        pnl_realised=s.pnl_realised, pnl_unrealised=s.pnl_unrealised, fees=s.fees, pnl_total=s.pnl_total,
        sigma=s.sigma, A=s.A, k=s.k, gamma=s.gamma,
        trading_state=s.trading_state.upper(), state_reason=s.state_reason,
        open_orders=tuple(tuple(o) for o in s.open_orders),
        budget_used=s.budget_used if budget_used is None else budget_used,
        budget_limit=(s.budget_limit or None) if budget_limit is None else budget_limit,
        reconnects=None if stats is None else int(stats.reconnects),
        recent_errors=tuple(errors[-10:]) if (stats is not None or totals is not None) else None,
        fills_count=s.fills, funding=s.funding, quote_age_s=s.quote_age_s,
        market_data_age_s=s.market_data_age_s,
        k_per_tick=s.k_per_tick, intensity_confidence=s.intensity_confidence,
        intensity_fitted_fraction=s.intensity_fitted_fraction, intensity_source=s.intensity_source,
    )


def sync_metrics(metrics: Metrics, status: Any, stats: Any = None, totals: Any = None) -> None:
    """Copy the drivers' cumulative counters into ``metrics`` (absolute values, not deltas).

    ``quotes_sent`` = inserts + mass quotes; ``amends``/``cancels`` from the totals; ``fills``,
    ``rejects`` and ``throttles`` from the core status; ``reconnects`` from the quoter stats.
    Gauges are set by :meth:`Metrics.update_from_snapshot` (``StatusHub.publish`` does it).
    """
    if totals is not None:
        metrics.quotes_sent = int(getattr(totals, "inserts", 0)) + int(
            getattr(totals, "mass_quotes", 0))
        metrics.amends = int(getattr(totals, "amends", metrics.amends))
        metrics.cancels = int(getattr(totals, "cancels", metrics.cancels))
    for name in ("fills", "rejects", "throttles"):
        value = getattr(status, name, None)
        if value is not None:
            setattr(metrics, name, int(value))
    if stats is not None and getattr(stats, "reconnects", None) is not None:
        metrics.reconnects = int(stats.reconnects)


class CoreStatusHub(StatusHub):
    """A :class:`StatusHub` that also takes the drivers' ``publish(status, stats, totals)``.

    ``publish(DashboardSnapshot)`` behaves as in :class:`StatusHub`; anything else is converted
    with :func:`snapshot_from_core` and its counters copied with :func:`sync_metrics`.
    """

    def publish(
        self,
        snapshot: DashboardSnapshot | CoreStatus,
        stats: _ConnectionCounters | None = None,
        totals: _Errors | None = None,
    ) -> None:
        if isinstance(snapshot, DashboardSnapshot):
            super().publish(snapshot)
            return
        snap = snapshot_from_core(snapshot, stats, totals)
        super().publish(snap)
        sync_metrics(self.metrics, snapshot, stats, totals)
