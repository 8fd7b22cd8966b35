"""``start_monitoring``: the dashboard, the separate metrics port, and ``/metrics`` on its own
when the dashboard is disabled."""

from __future__ import annotations

import asyncio
import dataclasses
import socket

import aiohttp

from thalex_mm.config import BotConfig
from thalex_mm.config.models import MonitoringConfig
from thalex_mm.core.market_maker import MarketMakerCore
from thalex_mm.drivers.monitoring_wiring import start_monitoring
from thalex_mm.drivers.quoter import QuoterStats
from thalex_mm.drivers.session_log import SessionTotals


def _status(fills: int):
    return dataclasses.replace(MarketMakerCore(BotConfig()).status(), fills=fills)


def _stats(reconnects: int) -> QuoterStats:
    stats = QuoterStats()
    stats.reconnects = reconnects
    return stats


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        return resp.status, await resp.text()


def test_metrics_served_alone_when_dashboard_disabled():
    async def scenario() -> None:
        port = _free_port()
        cfg = MonitoringConfig(dashboard_enabled=False, metrics_port=port)
        hub, stop, url = await start_monitoring(cfg)
        try:
            assert url is None  # no dashboard
            assert hub is not None
            hub.publish(_status(7), _stats(3),
                        SessionTotals(inserts=40, mass_quotes=5, amends=11, cancels=9))
            status, text = await _get(f"http://127.0.0.1:{port}/metrics")
            assert status == 200
            lines = text.splitlines()
            assert "thalex_mm_fills_total 7.0" in lines
            assert "thalex_mm_reconnects_total 3.0" in lines
            status, _ = await _get(f"http://127.0.0.1:{port}/")
            assert status == 404  # only /metrics, not the dashboard page
        finally:
            await stop()
        try:
            await _get(f"http://127.0.0.1:{port}/metrics")
            raise AssertionError("metrics server still serving after stop()")
        except aiohttp.ClientConnectionError:
            pass

    asyncio.run(scenario())


def test_nothing_started_when_dashboard_disabled_and_no_metrics_port():
    async def scenario() -> None:
        hub, stop, url = await start_monitoring(MonitoringConfig(dashboard_enabled=False))
        assert (hub, url) == (None, None)
        await stop()

    asyncio.run(scenario())


def test_dashboard_and_separate_metrics_port_both_serve():
    async def scenario() -> None:
        port = _free_port()
        cfg = MonitoringConfig(dashboard_port=0, metrics_port=port)
        hub, stop, url = await start_monitoring(cfg)
        try:
            assert url is not None and hub is not None
            hub.publish(_status(4), _stats(0))
            status, text = await _get(f"http://127.0.0.1:{port}/metrics")
            assert status == 200 and "thalex_mm_fills_total 4.0" in text.splitlines()
        finally:
            await stop()

    asyncio.run(scenario())
