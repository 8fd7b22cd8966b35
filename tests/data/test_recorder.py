"""``thalex-mm record`` fails fast on a refused recording and never swallows a bug."""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

import orjson
import pytest
from websockets.asyncio.server import serve

from thalex_mm.commands import record_cmd
from thalex_mm.data import read_recording
from thalex_mm.recorder import RecorderError, record_feeds
from thalex_mm.sim.engine import EngineConfig, MatchingEngine
from thalex_mm.sim.market_feed import BTC_PERPETUAL, MarketFeed
from thalex_mm.sim.server import SimExchange
from thalex_mm.sim.static_source import StaticSource

DURATION_S = 8.0  # a recording that is refused must end long before this


async def _with_sim(body):
    engine = MatchingEngine(EngineConfig())
    engine.add_instrument(BTC_PERPETUAL)
    sim = SimExchange(MarketFeed(engine, StaticSource(), publish_interval_s=0.02))
    url = await sim.start()
    try:
        return await body(url)
    finally:
        await sim.stop()


async def _with_fake(subscribe_reply: dict, body):
    """A server that lists BTC-PERPETUAL and answers subscribe with ``subscribe_reply``."""

    async def handler(ws):
        async for raw in ws:
            req = orjson.loads(raw)
            if req["method"] == "public/instruments":
                result = [{"instrument_name": "BTC-PERPETUAL", "underlying": "BTCUSD"}]
                await ws.send(orjson.dumps({"id": req["id"], "result": result}).decode())
            else:
                await ws.send(orjson.dumps({"id": req["id"], **subscribe_reply}).decode())

    async with serve(handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        return await body(f"ws://127.0.0.1:{port}")


def _args(url: str, out: Path, instrument: str) -> argparse.Namespace:
    return argparse.Namespace(network="test", instrument=instrument, out=str(out),
                              duration=DURATION_S, url=url)


def test_unknown_instrument_exits_2_with_one_line(tmp_path, capsys):
    async def body(url):
        t = time.monotonic()
        rc = await record_cmd._record(_args(url, tmp_path / "rec", "BTC-PERPX"))
        return rc, time.monotonic() - t

    rc, elapsed = asyncio.run(_with_sim(body))
    err = capsys.readouterr().err
    assert rc == 2 and elapsed < DURATION_S / 2
    ours = [ln for ln in err.splitlines() if ln.startswith("thalex-mm record")]
    assert len(ours) == 1 and "Traceback" not in err  # (other lines: library logging)
    assert "unknown instrument 'BTC-PERPX'" in ours[0]
    assert "BTC-PERPETUAL" in err  # names what the exchange has


def test_subscribe_error_response_raises_and_exits_2(tmp_path, capsys):
    reply = {"error": {"code": 3, "message": "bad channel"}}

    async def direct(url):
        with pytest.raises(RecorderError, match="public/subscribe: bad channel"):
            await record_feeds(url, "BTC-PERPETUAL", tmp_path / "a", duration_s=DURATION_S)

    asyncio.run(_with_fake(reply, direct))

    async def cli(url):
        return await record_cmd._record(_args(url, tmp_path / "b", "BTC-PERPETUAL"))

    assert asyncio.run(_with_fake(reply, cli)) == 2
    assert "bad channel" in capsys.readouterr().err


def test_book_channel_not_accepted_is_refused(tmp_path):
    async def direct(url):
        with pytest.raises(RecorderError, match=r"did not accept 'book\.BTC-PERPETUAL"):
            await record_feeds(url, "BTC-PERPETUAL", tmp_path, duration_s=DURATION_S)

    asyncio.run(_with_fake({"result": ["price_index.BTCUSD"]}, direct))


def test_non_network_error_in_the_recording_task_propagates(tmp_path, capsys, monkeypatch):
    calls = []

    def broken_clock() -> int:
        calls.append(1)
        if len(calls) > 3:
            raise ZeroDivisionError("clock broke")
        return time.time_ns()

    async def direct(url):
        t = time.monotonic()
        with pytest.raises(ZeroDivisionError, match="clock broke"):
            await record_feeds(url, "BTC-PERPETUAL", tmp_path / "a", duration_s=DURATION_S,
                               clock_ns=broken_clock)
        return time.monotonic() - t

    assert asyncio.run(_with_sim(direct)) < DURATION_S / 2

    orig = record_cmd.record_feeds

    async def failing(*a, **kw):
        return await orig(*a, **kw, clock_ns=broken_clock)

    calls.clear()
    monkeypatch.setattr(record_cmd, "record_feeds", failing)
    rc = asyncio.run(_with_sim(
        lambda url: record_cmd._record(_args(url, tmp_path / "b", "BTC-PERPETUAL"))))
    assert rc == 1
    assert "ZeroDivisionError: clock broke" in capsys.readouterr().err


def test_valid_instrument_records_the_book(tmp_path):
    async def body(url):
        return await record_feeds(url, "BTC-PERPETUAL", tmp_path, duration_s=1.0)

    stats = asyncio.run(_with_sim(body))
    assert stats.connects == 1 and stats.notifications > 3 and stats.files == 1
    ev = read_recording(sorted(tmp_path.glob("*.jsonl.gz")))
    assert ev.size > 0
    assert int((ev["kind"] == 1).sum()) >= 1  # the book snapshot's BOOK_CLEAR
