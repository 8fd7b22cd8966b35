"""DashboardServer over real HTTP: routes, auth, SSE stream, kill endpoint, offline assets."""

from __future__ import annotations

import asyncio
import json
import re
from importlib import resources

import aiohttp
import pytest

from thalex_mm.errors import ConfigError
from thalex_mm.monitoring.dashboard import TOKEN_ENV, DashboardServer, MetricsServer, is_loopback
from thalex_mm.monitoring.status import DashboardSnapshot, StatusHub

T0 = 1_700_000_000_000_000_000
TOKEN = "s3cret-dashboard-token-0123456789"


@pytest.fixture(autouse=True)
def _no_env_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)


def run(coro):
    return asyncio.run(coro)


async def serve(hub: StatusHub, **kw):
    server = DashboardServer(hub, **kw)
    url = await server.start()
    return server, url


def test_is_loopback() -> None:
    assert all(map(is_loopback, ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "::", "192.168.1.4", "example.org"]))


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.4", "::"])
def test_non_loopback_without_token_refused(host: str) -> None:
    with pytest.raises(ConfigError) as info:
        DashboardServer(StatusHub(), host=host)
    assert host in str(info.value) and TOKEN_ENV in str(info.value)
    with pytest.raises(ConfigError):
        MetricsServer(StatusHub().metrics, host=host)


def test_non_loopback_with_env_token_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    assert DashboardServer(StatusHub(), host="0.0.0.0").token_required
    with pytest.raises(ConfigError, match="token"):
        DashboardServer(StatusHub(), token="   ")


def test_routes_serve_page_status_metrics_and_assets() -> None:
    async def scenario() -> None:
        hub = StatusHub()
        hub.publish(DashboardSnapshot(ts_ns=T0, instrument="BTC-PERPETUAL", mid=101.5,
                                      trading_state="REDUCING", state_reason="soft_limit",
                                      position=1.25))
        server, url = await serve(hub)
        try:
            assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url) and server.url == url
            async with aiohttp.ClientSession() as s:
                async with s.get(url) as r:
                    page = await r.text()
                    assert r.status == 200 and r.content_type == "text/html"
                    assert "default-src 'none'" in r.headers["Content-Security-Policy"]
                    assert 'id="chart-price"' in page and 'id="kill"' in page
                for name, ctype in (("dashboard.js", "application/javascript"),
                                    ("dashboard.css", "text/css")):
                    async with s.get(url + "static/" + name) as r:
                        assert r.status == 200 and r.content_type == ctype
                async with s.get(url + "static/../status.py") as r:
                    assert r.status == 404
                async with s.get(url + "api/status") as r:
                    st = await r.json()
                assert (st["mid"], st["trading_state"], st["state_reason"], st["position"]) == (
                    101.5, "REDUCING", "soft_limit", 1.25)
                async with s.get(url + "metrics") as r:
                    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
                    assert "thalex_mm_position_contracts 1.25\n" in await r.text()
        finally:
            await server.stop()
        await server.stop()  # idempotent

    run(scenario())


def test_token_required_when_set_and_never_echoed() -> None:
    async def scenario() -> None:
        hub = StatusHub()
        hub.publish(DashboardSnapshot(ts_ns=T0, mid=1.0))
        server, url = await serve(hub, token=TOKEN)
        try:
            async with aiohttp.ClientSession() as s:
                for path in ("", "api/status", "api/stream", "metrics"):
                    async with s.get(url + path) as r:
                        assert r.status == 401, path
                    async with s.get(url + path, params={"token": "wrong"}) as r:
                        assert r.status == 401, path
                # Liveness probes carry no token: /healthz answers, and says nothing else.
                async with s.get(url + "healthz") as r:
                    assert r.status == 200 and await r.text() == "ok\n"
                # The constant assets load without it (script/link tags cannot carry it).
                async with s.get(url + "static/dashboard.js") as r:
                    assert r.status == 200
                bodies = []
                for path in ("", "api/status", "metrics"):
                    async with s.get(url + path, params={"token": TOKEN}) as r:
                        assert r.status == 200, path
                        bodies.append(await r.text())
                    async with s.get(url + path,
                                     headers={"Authorization": f"Bearer {TOKEN}"}) as r:
                        assert r.status == 200, path
                assert all(TOKEN not in b for b in bodies)
        finally:
            await server.stop()

    run(scenario())


async def _read_events(resp: aiohttp.ClientResponse, n: int) -> list[dict]:
    events = []
    async with asyncio.timeout(10):
        async for line in resp.content:
            if line.startswith(b"data: "):
                events.append(json.loads(line[6:]))
                if len(events) == n:
                    return events
    raise AssertionError("stream ended early")


def test_sse_stream_delivers_history_then_increments() -> None:
    async def scenario() -> None:
        hub = StatusHub(sample_hz=4.0)
        for i in range(3):
            hub.publish(DashboardSnapshot(ts_ns=T0 + i * 500_000_000, mid=100.0 + i))
        hub.on_fill(T0, "buy", 99.5, 0.2)
        server, url = await serve(hub, stream_hz=20.0)
        try:
            async with aiohttp.ClientSession() as s, s.get(url + "api/stream") as resp:
                assert resp.headers["Content-Type"] == "text/event-stream"
                (first,) = await _read_events(resp, 1)
                assert [p[1] for p in first["points"]] == [100.0, 101.0, 102.0]
                assert first["fills"] == [[T0 // 1_000_000, "buy", 99.5, 0.2]]
                assert first["status"]["mid"] == 102.0
                hub.publish(DashboardSnapshot(ts_ns=T0 + 2 * 10**9, mid=107.0,
                                              trading_state="HALTED"))
                hub.on_fill(T0 + 2 * 10**9, "sell", 107.5, 0.1)
                (second,) = await _read_events(resp, 1)
                assert [p[1] for p in second["points"]] == [107.0]
                assert second["fills"] == [[(T0 + 2 * 10**9) // 1_000_000, "sell", 107.5, 0.1]]
                assert second["status"]["trading_state"] == "HALTED"
        finally:
            await server.stop()

    run(scenario())


def test_stop_ends_open_streams_quickly() -> None:
    async def scenario() -> None:
        hub = StatusHub()
        hub.publish(DashboardSnapshot(ts_ns=T0, mid=1.0))
        server, url = await serve(hub)
        async with aiohttp.ClientSession() as s, s.get(url + "api/stream") as resp:
            await _read_events(resp, 1)
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            await server.stop()
            assert loop.time() - t0 < 1.5

    run(scenario())


def test_kill_requires_post_json_confirm_and_same_origin() -> None:
    async def scenario() -> None:
        hub = StatusHub()
        calls = []
        server, url = await serve(hub)
        try:
            async with aiohttp.ClientSession() as s:
                async with s.get(url + "api/kill") as r:
                    assert r.status == 405
                host = url.split("/")[2]
                own = {"Origin": f"http://{host}"}
                async with s.post(url + "api/kill", json={"confirm": True}, headers=own) as r:
                    assert r.status == 503  # no kill switch registered yet
                hub.set_kill_switch(lambda: calls.append(1))
                async with s.post(url + "api/kill", data="confirm=true", headers=own) as r:
                    assert r.status == 415
                async with s.post(url + "api/kill", json={"confirm": "yes"}, headers=own) as r:
                    assert r.status == 400
                async with s.post(url + "api/kill", json={"confirm": True},
                                  headers={"Origin": "http://evil.example"}) as r:
                    assert r.status == 403
                assert calls == []
                async with s.post(url + "api/kill", json={"confirm": True},
                                  headers={"Origin": f"http://{host}"}) as r:
                    body = await r.json()
                    assert r.status == 200 and body["killed"] is True
                assert calls == [1]
                async with s.get(url + "api/status") as r:
                    assert (await r.json())["kill"]["requested_ms"] is not None
        finally:
            await server.stop()

    run(scenario())


def test_foreign_host_header_refused_without_token() -> None:
    async def scenario() -> None:
        hub = StatusHub()
        hub.set_kill_switch(lambda: pytest.fail("kill switch must not fire"))
        server, url = await serve(hub)
        port = url.rsplit(":", 1)[1].strip("/")
        try:
            async with aiohttp.ClientSession() as s:
                for host in (f"evil.example:{port}", "evil.example"):
                    async with s.get(url + "api/status", headers={"Host": host}) as r:
                        assert r.status == 403, host
                    async with s.post(url + "api/kill", json={"confirm": True},
                                      headers={"Host": host, "Origin": f"http://{host}"}) as r:
                        assert r.status == 403, host
                for host in (f"localhost:{port}", f"127.0.0.1:{port}"):
                    async with s.get(url + "api/status", headers={"Host": host}) as r:
                        assert r.status == 200, host
        finally:
            await server.stop()

    run(scenario())


def test_separate_metrics_server() -> None:
    async def scenario() -> None:
        hub = StatusHub()
        hub.metrics.quotes_sent += 9
        server = MetricsServer(hub.metrics)
        url = await server.start()
        try:
            async with aiohttp.ClientSession() as s:
                async with s.get(url + "metrics") as r:
                    assert "thalex_mm_quotes_sent_total 9.0\n" in await r.text()
                async with s.get(url) as r:
                    assert r.status == 404
        finally:
            await server.stop()

    run(scenario())


def test_static_assets_reference_nothing_external() -> None:
    static = resources.files("thalex_mm.monitoring") / "static"
    names = sorted(p.name for p in static.iterdir() if p.is_file())
    assert names == ["VENDORED.md", "dashboard.css", "dashboard.js", "index.html",
                     "uplot.LICENSE", "uplot.iife.min.js", "uplot.min.css"]
    for name in ("dashboard.css", "dashboard.js", "index.html", "uplot.min.css"):
        text = (static / name).read_text(encoding="utf-8")
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/|@import|wss?://", text, re.I), name
    # The vendored library names its home page in its banner comment, and fetches nothing.
    lib = (static / "uplot.iife.min.js").read_text(encoding="utf-8")
    assert re.findall(r"https?://[^\s\"')]+", lib) == ["https://github.com/leeoniya/uPlot"]
    assert "MIT" in (static / "uplot.LICENSE").read_text(encoding="utf-8")


def test_metrics_endpoint_when_scraped_parses_with_prometheus_client() -> None:
    from prometheus_client.parser import text_string_to_metric_families

    async def scenario() -> None:
        hub = StatusHub()
        hub.publish(DashboardSnapshot(ts_ns=T0, mid=101.5, fees=0.75, trading_state="HALTED",
                                      state_reason="kill_switch"))
        server, url = await serve(hub)
        try:
            async with aiohttp.ClientSession() as s, s.get(url + "metrics") as r:
                text = await r.text()
        finally:
            await server.stop()
        families = {f.name: f for f in text_string_to_metric_families(text)}
        assert families["thalex_mm_fees_quote"].samples[0].value == 0.75
        assert families["thalex_mm_mid_price_quote"].samples[0].value == 101.5
        (halt,) = families["thalex_mm_halt_reason"].samples
        assert halt.labels == {"reason": "kill_switch"} and halt.value == 1.0
        assert families["thalex_mm_tick_to_order_seconds"].type == "histogram"
        assert any(name.startswith("process_") for name in families)

    run(scenario())


def test_resume_endpoint_when_confirmed_calls_the_resume_switch_and_names_the_source() -> None:
    async def scenario() -> None:
        hub = StatusHub()
        calls: list[str] = []
        hub.set_resume_switch(lambda: calls.append(hub.resume_source))
        hub.set_limits({"position_soft_limit": 0.05, "position_hard_limit": 0.1,
                        "session_loss_limit": 300.0, "max_drawdown": 500.0})
        hub.publish(DashboardSnapshot(ts_ns=T0, pnl_total=12.0, position=0.07))
        hub.publish(DashboardSnapshot(ts_ns=T0 + 1, pnl_total=-4.0, position=0.07))
        server, url = await serve(hub)
        try:
            async with aiohttp.ClientSession() as s:
                own = {"Origin": url.rstrip("/")}
                async with s.post(url + "api/resume", json={"confirm": True}) as r:
                    assert r.status == 403 and calls == []  # no Origin, no token: as the kill
                async with s.post(url + "api/resume", json={"confirm": "yes"}, headers=own) as r:
                    assert r.status == 400 and calls == []
                async with s.post(url + "api/resume", json={"confirm": True}, headers=own) as r:
                    assert r.status == 200 and (await r.json())["resumed"] is True
                async with s.get(url + "api/status") as r:
                    st = await r.json()
        finally:
            await server.stop()
        assert calls == ["dashboard 127.0.0.1"]
        assert st["resume"]["source"] == "dashboard 127.0.0.1"
        assert st["limits"]["position_hard_limit"] == 0.1
        assert st["session_loss"] == 4.0 and st["drawdown"] == 16.0


def test_kill_when_request_is_not_same_origin_json_is_refused() -> None:
    """Issue 12, finding 7: a sandboxed iframe sends ``Origin: null`` and a ``text/plain`` body
    (no CORS preflight); a script without a browser sends no Origin at all. Neither may kill."""

    async def scenario() -> None:
        hub = StatusHub()
        hub.set_kill_switch(lambda: pytest.fail("kill switch must not fire"))
        server, url = await serve(hub)
        host = url.split("/")[2]
        try:
            async with aiohttp.ClientSession() as s:
                cases = [
                    ({"Origin": "null", "Content-Type": "text/plain"}, '{"confirm":true}'),
                    ({"Origin": "null", "Content-Type": "application/json"}, '{"confirm":true}'),
                    ({"Origin": f"http://{host}", "Content-Type": "text/plain"}, '{"confirm":true}'),
                    ({"Content-Type": "application/json"}, '{"confirm":true}'),  # no Origin, no token
                ]
                for headers, body in cases:
                    async with s.post(url + "api/kill", data=body, headers=headers) as r:
                        assert r.status in (403, 415), (headers, r.status)
        finally:
            await server.stop()

    run(scenario())


def test_kill_when_token_is_given_needs_no_origin() -> None:
    async def scenario() -> None:
        hub = StatusHub()
        calls: list[int] = []
        hub.set_kill_switch(lambda: calls.append(1))
        server, url = await serve(hub, token=TOKEN)
        try:
            async with aiohttp.ClientSession() as s, s.post(
                url + "api/kill", json={"confirm": True}, headers={"Authorization": f"Bearer {TOKEN}"}
            ) as r:
                assert r.status == 200, await r.text()
            assert calls == [1]
        finally:
            await server.stop()

    run(scenario())
