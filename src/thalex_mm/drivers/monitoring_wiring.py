"""Start the dashboard (and a separate metrics port) for a running quoter; shared by paper and live.

Returns a hub that the driver's status loop feeds (``hub.publish(status, stats, totals)``) and
an async ``stop`` to call at the end. The kill button of the page triggers the quoter's kill
switch. With ``monitoring.dashboard_enabled = false`` the dashboard is not started; a set
``monitoring.metrics_port`` still serves ``/metrics`` (fed through the hub); with neither, nothing
is started and the hub is None.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from thalex_mm.config.models import MonitoringConfig

__all__ = ["risk_limits", "start_monitoring", "wire_controls"]

log = logging.getLogger("thalex_mm.monitoring")


async def start_monitoring(
    cfg: MonitoringConfig, *, port: int | None = None
) -> tuple[Any | None, Callable[[], Awaitable[None]], str | None]:
    """Start the dashboard server and/or the separate metrics server.

    Args:
        cfg: the ``[monitoring]`` section.
        port: override of ``dashboard_port`` (0 = ephemeral).

    Returns:
        ``(hub, stop, url)``: url is the dashboard's, None when it is disabled; hub is None
        when neither the dashboard nor a metrics port is on.
    """
    if not cfg.dashboard_enabled and cfg.metrics_port is None:
        async def _noop() -> None:
            return None

        return None, _noop, None
    from thalex_mm.monitoring.bridge import CoreStatusHub
    from thalex_mm.monitoring.dashboard import DashboardServer, MetricsServer
    from thalex_mm.monitoring.metrics import Metrics

    metrics = Metrics()
    hub = CoreStatusHub(metrics=metrics)
    if not cfg.dashboard_enabled:
        only = MetricsServer(metrics, cfg.dashboard_host, cfg.metrics_port)
        metrics_url = await only.start()
        log.info("metrics at %smetrics (dashboard disabled)", metrics_url)
        return hub, only.stop, None
    wanted = cfg.dashboard_port if port is None else port
    server = DashboardServer(hub, cfg.dashboard_host, wanted, metrics=metrics)
    try:
        url = await server.start()
    except OSError as exc:  # port taken (another bot, a test): never stop trading for the dashboard
        log.warning("dashboard port %s unavailable (%s); using a free port", wanted, exc.strerror)
        await server.stop()
        server = DashboardServer(hub, cfg.dashboard_host, 0, metrics=metrics)
        url = await server.start()
    extra = None
    if cfg.metrics_port is not None:
        extra = MetricsServer(metrics, cfg.dashboard_host, cfg.metrics_port)
        await extra.start()

    async def stop() -> None:
        await server.stop()
        if extra is not None:
            await extra.stop()

    return hub, stop, url


def risk_limits(risk: Any) -> dict[str, float | None]:
    """The limits the dashboard shows position and losses against (contracts, quote ccy)."""
    return {
        "position_soft_limit": risk.position_soft_limit,
        "position_hard_limit": risk.position_hard_limit,
        "session_loss_limit": risk.session_loss_limit_usd,
        "max_drawdown": risk.max_drawdown_usd,
        "daily_loss_limit": risk.daily_loss_limit_usd,
    }


def wire_controls(hub: Any | None, quoter: Any, config: Any) -> None:
    """Connect the dashboard's controls to a running quoter: the kill switch and the resume
    (each names who pressed it: ``dashboard <address>``), and the risk limits it shows."""
    if hub is None:
        return
    if hasattr(hub, "set_kill_switch"):
        hub.set_kill_switch(lambda: quoter.press_kill_switch(getattr(hub, "kill_source", "") or "dashboard"))
    if hasattr(hub, "set_resume_switch"):
        hub.set_resume_switch(lambda: quoter.resume_trading(getattr(hub, "resume_source", "") or "dashboard"))
    if hasattr(hub, "set_limits"):
        hub.set_limits(risk_limits(config.risk))
