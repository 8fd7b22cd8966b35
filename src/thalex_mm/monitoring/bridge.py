"""Glue from the bot's own status objects to the dashboard and the metrics.

The paper/live drivers hold a ``CoreStatus`` (from ``MarketMakerCore.status()``), the quoter's
``QuoterStats`` and the session's ``SessionTotals``. :func:`snapshot_from_core` turns them into a
:class:`DashboardSnapshot`; :func:`sync_metrics` copies their counters into :class:`Metrics`;
:class:`CoreStatusHub` is a :class:`StatusHub` whose ``publish`` also accepts
``(status, stats, totals)``, which is how ``run_paper(hub=...)`` calls it.

Attributes are read by name (duck typing), so this module does not import the drivers; a missing
attribute reads as "unknown". Fill marks on the price chart still need ``hub.on_fill(...)`` from
where the driver sees each fill (e.g. ``SessionLog`` handling a ``FillRecorded``).
"""

from __future__ import annotations

from typing import Any

from thalex_mm.monitoring.metrics import Metrics
from thalex_mm.monitoring.status import DashboardSnapshot, StatusHub

__all__ = ["CoreStatusHub", "snapshot_from_core", "sync_metrics"]

_SAME_NAME = (
    "instrument", "mid", "fair_value", "reservation", "best_bid", "best_ask", "our_bid",
    "our_ask", "our_bid_size", "our_ask_size", "position", "pnl_realised", "pnl_unrealised",
    "fees", "pnl_total", "sigma", "A", "k", "gamma", "trading_state", "state_reason",
    "k_per_tick", "intensity_confidence", "intensity_fitted_fraction", "intensity_source",
)  # fmt: skip


def _opt_int(obj: Any, name: str) -> int | None:
    value = getattr(obj, name, None) if obj is not None else None
    return None if value is None else int(value)


def snapshot_from_core(
    status: Any,
    stats: Any = None,
    totals: Any = None,
    *,
    budget_used: int | None = None,
    budget_limit: int | None = None,
) -> DashboardSnapshot:
    """A :class:`DashboardSnapshot` from a ``CoreStatus`` (+ ``QuoterStats``, ``SessionTotals``).

    Args:
        status: has ``ts_ns`` and the fields of :class:`DashboardSnapshot` (``average_price``
            for ``avg_price``; ``fills`` for the fill count).
        stats: the quoter's stats (``reconnects``, ``errors``), or None.
        totals: the session totals (``errors``), or None.
        budget_used: messages used in the current rate-limit window, if known.
        budget_limit: messages allowed per window, if known.

    Returns:
        The snapshot.
    """
    fields: dict[str, Any] = {n: getattr(status, n) for n in _SAME_NAME if hasattr(status, n)}
    fields["trading_state"] = str(fields.get("trading_state", "ACTIVE")).upper()
    fields["state_reason"] = str(getattr(fields.get("state_reason", ""), "value",
                                         fields.get("state_reason", "")))
    avg = getattr(status, "average_price", getattr(status, "avg_price", None))
    errors: list[str] = []
    for source in (stats, totals):
        errors += [str(e) for e in (getattr(source, "errors", None) or ())]
    return DashboardSnapshot(
        ts_ns=int(status.ts_ns),
        avg_price=None if avg is None or (avg == 0 and not getattr(status, "position", 0))
        else float(avg),
        open_orders=tuple(tuple(o) for o in getattr(status, "open_orders", ())),
        budget_used=budget_used if budget_used is not None else _opt_int(status, "budget_used"),
        budget_limit=budget_limit if budget_limit is not None else _opt_int(status, "budget_limit") or None,
        reconnects=_opt_int(stats, "reconnects"),
        recent_errors=tuple(errors[-10:]) if (stats is not None or totals is not None) else None,
        fills_count=_opt_int(status, "fills"),
        **fields,
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

    def publish(self, snapshot: Any, stats: Any = None, totals: Any = None) -> None:
        if isinstance(snapshot, DashboardSnapshot):
            super().publish(snapshot)
            return
        snap = snapshot_from_core(snapshot, stats, totals)
        super().publish(snap)
        sync_metrics(self.metrics, snapshot, stats, totals)
