"""Done-when of issue 16, in headless Chromium: a paper run killed from the dashboard leaves a
trace everywhere a trader looks.

A child process runs ``run_paper`` (simulated exchange + quoter over loopback) with a journal
and the dashboard. The test kills it from the page (arm, confirm), lets the run end at its
duration, then builds the run's report as ``thalex-mm report`` does and opens it in Chromium:
the timeline shows the kill from the dashboard, a chart zooms when dragged across (and the
others follow), and ``fills.csv`` agrees with the journal row for row. ``/metrics`` of the
running session is parsed with ``prometheus_client``'s parser. Screenshots:
``test-artifacts/report-paper-killed.png``.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import importlib.util
import json
import sys
from pathlib import Path

import aiohttp
import pytest
from monitoring_cdp import ARTIFACTS, CHROMIUM, SKIP_REASON, chromium, open_page, page_errors

from thalex_mm.commands.report_cmd import write_run_report
from thalex_mm.store import JournalReader

pytestmark = [
    pytest.mark.real_part("headless Chromium"),
    pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON),
    pytest.mark.skipif(importlib.util.find_spec("thalex_mm.drivers.paper") is None,
                       reason="thalex_mm.drivers.paper (the paper session) is not available"),
]

CHILD = r"""
import asyncio, json, sys
from thalex_mm.config.models import BotConfig
from thalex_mm.drivers.paper import run_paper
from thalex_mm.monitoring import CoreStatusHub, DashboardServer
from thalex_mm.store import Journal

async def main():
    hub = CoreStatusHub()
    server = DashboardServer(hub, stream_hz=10.0)
    url = await server.start()
    print(json.dumps({"url": url}), flush=True)
    journal = Journal(sys.argv[2], flush_interval_s=0.05)
    config = BotConfig.model_validate({"monitoring": {"quote_sample_interval_s": 0.2}})
    try:
        result = await run_paper(config, duration_s=float(sys.argv[1]), show_status=False,
                                 hub=hub, status_interval_s=0.2, journal=journal)
        print(json.dumps({"exit_reason": result.exit_reason, "run_id": result.run_id}), flush=True)
    finally:
        journal.close()
        await server.stop()

asyncio.run(main())
"""


async def _drag(cdp, session: str, element_id: str, from_frac: float, to_frac: float) -> None:
    """Press, move and release the mouse across a chart's plot area (a user's zoom)."""
    box = await cdp.evaluate(session, f"""(() => {{
        const over = document.querySelector('#{element_id} .u-over');
        over.scrollIntoView({{block: 'center'}});
        const r = over.getBoundingClientRect();
        return [r.left, r.top, r.width, r.height]; }})()""")
    left, top, width, height = box
    y = top + height / 2
    x0, x1 = left + width * from_frac, left + width * to_frac
    await cdp.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x0, "y": y}, session)
    await cdp.send("Input.dispatchMouseEvent", {"type": "mousePressed", "x": x0, "y": y,
                                                "button": "left", "clickCount": 1}, session)
    for i in range(1, 11):
        x = x0 + (x1 - x0) * i / 10
        await cdp.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y,
                                                    "button": "left", "buttons": 1}, session)
    await cdp.send("Input.dispatchMouseEvent", {"type": "mouseReleased", "x": x1, "y": y,
                                                "button": "left", "clickCount": 1}, session)


def test_paper_run_killed_from_dashboard_shows_in_report_timeline_zoomable_charts_and_fills_csv(
        tmp_path: Path) -> None:
    db = tmp_path / "journal.sqlite"
    out = tmp_path / "report"

    async def scenario() -> dict:
        log_path = tmp_path / "paper-child.log"
        with log_path.open("wb") as log:
            child = await asyncio.create_subprocess_exec(
                sys.executable, "-c", CHILD, "20", str(db), stdout=asyncio.subprocess.PIPE,
                stderr=log)
        try:
            assert child.stdout is not None
            line = await asyncio.wait_for(child.stdout.readline(), 30.0)
            assert line, f"paper child exited: {log_path.read_text(errors='replace')[-2000:]}"
            url = json.loads(line)["url"]
            async with chromium() as cdp:
                session = await open_page(cdp, url)
                await cdp.wait_for(session, "document.getElementById('state').textContent"
                                            " === 'ACTIVE' && document.querySelectorAll("
                                            "'#orders tr').length > 0", timeout_s=30.0)
                async with aiohttp.ClientSession() as http, http.get(url + "metrics") as r:
                    from prometheus_client.parser import text_string_to_metric_families

                    families = {f.name for f in text_string_to_metric_families(await r.text())}
                assert {"thalex_mm_fees_quote", "thalex_mm_halt_reason",
                        "thalex_mm_market_data_staleness_seconds"} <= families
                await asyncio.sleep(3.0)  # some fills before the kill
                await cdp.evaluate(session, "document.getElementById('kill').click()")
                await cdp.evaluate(session, "document.getElementById('kill').click()")
                await cdp.wait_for(session, "document.getElementById('state').textContent"
                                            " === 'HALTED'", timeout_s=15.0)
                assert page_errors(cdp) == []
            done = await asyncio.wait_for(child.stdout.readline(), 60.0)
            assert done, f"paper child died: {log_path.read_text(errors='replace')[-2000:]}"
            result = json.loads(done)
            await asyncio.wait_for(child.wait(), 20.0)
        finally:
            if child.returncode is None:
                child.kill()
                await child.wait()

        assert result["exit_reason"].startswith("kill switch (dashboard 127.0.0.1) at ")
        with JournalReader(db) as reader:
            summary = write_run_report(reader, result["run_id"], out)
            fills = reader.fills(result["run_id"])
        assert summary["exit_reason"] == result["exit_reason"]

        async with chromium() as cdp:
            session = await open_page(cdp, (out / "report.html").as_uri())
            await cdp.wait_for(session, "window.thalexCharts && window.thalexCharts.equity"
                                        " && window.thalexCharts.quotes", timeout_s=20.0)
            rows = await cdp.evaluate(session, """[...document.querySelectorAll(
                '#timeline-table tbody tr')].map(tr => [...tr.cells].map(td => td.textContent))""")
            before = await cdp.evaluate(session, "(() => { const s = thalexCharts.quotes.scales.x;"
                                                 " return s.max - s.min; })()")
            await _drag(cdp, session, "plot-equity", 0.3, 0.6)
            await cdp.wait_for(session, "document.getElementById('plot-equity').dataset.zoomed"
                                        " === '1'", timeout_s=5.0)
            after = await cdp.evaluate(session, "(() => { const s = thalexCharts.quotes.scales.x;"
                                                " return s.max - s.min; })()")
            await cdp.screenshot(session, ARTIFACTS / "report-paper-killed.png")
            errors = page_errors(cdp)
        return {"rows": rows, "before": before, "after": after, "errors": errors,
                "fills": fills}

    with contextlib.suppress(KeyboardInterrupt):
        got = asyncio.run(scenario())
    kills = [r for r in got["rows"] if r[1] == "kill"]
    assert len(kills) == 1 and "kill switch (dashboard 127.0.0.1)" in kills[0][2]
    assert got["after"] < 0.5 * got["before"], "dragging the equity chart did not zoom the others"
    assert got["errors"] == []
    with (out / "fills.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    fills = got["fills"]
    assert len(rows) == len(fills) > 0
    for row, f in zip(rows, fills, strict=True):
        assert row["trade_id"] == f.trade_id and row["side"] == f.side
        assert float(row["price"]) == f.price and float(row["size"]) == f.amount
        assert float(row["fee"]) == f.fee and row["liquidity"] == f.maker_taker
        if f.position_after is not None:
            assert float(row["position_after"]) == f.position_after
