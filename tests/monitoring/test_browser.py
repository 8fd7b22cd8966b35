"""The dashboard in headless Chromium, driven over the Chrome DevTools Protocol.

A stand-in bot (``FakeBot`` in conftest) publishes a random-walk market, quotes and fills at
20 Hz. The test opens the page, checks that the charts and the state render and update, arms and
confirms the kill button, and checks that the bot's kill switch fired and the page shows HALTED
with no quotes left. Screenshots go to ``test-artifacts/`` (gitignored).

Needs Debian's ``chromium`` (``apt-get install chromium``; ``.ci/run`` installs it) or a browser
named by ``THALEX_MM_CHROMIUM``; skipped with the reason otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from monitoring_cdp import ARTIFACTS, CHROMIUM, SKIP_REASON, chromium, open_page, page_errors

from thalex_mm.monitoring.dashboard import DashboardServer
from thalex_mm.monitoring.status import StatusHub

pytestmark = [pytest.mark.real_part("headless Chromium"), pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON)]


_READ_PAGE = """(() => {
  const t = (id) => document.getElementById(id).textContent;
  const pts = (id) => Number(document.getElementById(id).dataset.points || 0);
  return {
    state: t('state'), reason: t('state-reason'), instrument: t('instrument'), mid: t('v-mid'),
    updated: t('updated'), conn: t('conn'), sigma: t('v-sigma'), budget: t('v-budget'),
    orders: document.querySelectorAll('#orders tr').length,
    canvases: document.querySelectorAll('canvas').length,
    price_points: pts('chart-price'), position_points: pts('chart-position'),
    pnl_points: pts('chart-pnl'), kill_msg: t('kill-msg'), kill_text: t('kill'),
  };
})()"""


def test_dashboard_renders_updates_and_kills(fake_bot_factory) -> None:
    async def scenario() -> None:
        hub = StatusHub()
        bot = fake_bot_factory(hub)
        server = DashboardServer(hub, stream_hz=10.0)
        url = await server.start()
        producer = asyncio.create_task(bot.run(period_s=0.05))
        try:
            async with chromium() as cdp:
                session = await open_page(cdp, url)
                await cdp.wait_for(session, "document.getElementById('state').textContent"
                                            " === 'ACTIVE' && Number(document.getElementById("
                                            "'chart-price').dataset.points) > 20")
                first = await cdp.evaluate(session, _READ_PAGE)
                await asyncio.sleep(1.0)
                second = await cdp.evaluate(session, _READ_PAGE)

                assert first["state"] == bot.state == "ACTIVE"
                assert first["reason"] == "normal"
                assert first["instrument"] == "BTC-PERPETUAL"
                assert first["conn"] == "live"
                assert first["canvases"] == 3
                assert first["orders"] == 2
                assert first["sigma"] == "0.0123"
                assert first["budget"].endswith("/ 50")
                for chart in ("price_points", "position_points", "pnl_points"):
                    assert first[chart] > 0, chart
                # Live: new points and a new mid/timestamp arrived within a second.
                assert second["price_points"] > first["price_points"]
                assert second["updated"] != first["updated"]
                mid_now = float(second["mid"].replace(",", ""))
                assert hub.latest is not None
                assert abs(mid_now - hub.latest.mid) < 200.0  # a few ticks of a σ=5 walk
                await cdp.screenshot(session, ARTIFACTS / "dashboard.png")

                # First click only arms the button.
                await cdp.evaluate(session, "document.getElementById('kill').click()")
                armed = await cdp.evaluate(session, _READ_PAGE)
                assert armed["kill_text"].startswith("Confirm")
                await asyncio.sleep(0.3)
                assert bot.killed == 0
                # Second click confirms: the bot's kill switch fires, the page shows HALTED.
                await cdp.evaluate(session, "document.getElementById('kill').click()")
                await cdp.wait_for(session, "document.getElementById('state').textContent"
                                            " === 'HALTED'")
                assert bot.killed == 1
                await cdp.wait_for(session,
                                   "document.querySelectorAll('#orders tr').length === 0")
                halted = await cdp.evaluate(session, _READ_PAGE)
                assert halted["reason"] == "manual_kill"
                assert "Kill switch triggered" in halted["kill_msg"]
                await cdp.screenshot(session, ARTIFACTS / "dashboard-halted.png")
                assert page_errors(cdp) == []
        finally:
            producer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await producer
            await server.stop()

    asyncio.run(scenario())
