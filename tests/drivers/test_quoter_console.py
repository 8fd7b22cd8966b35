"""The quoter's console lines (issue 12, finding 7): "connection lost" only after a connection."""

from __future__ import annotations

import asyncio
import socket

from thalex_mm.config import BotConfig
from thalex_mm.config.models import ConnectionConfig
from thalex_mm.core.market_maker import MarketMakerCore
from thalex_mm.drivers.quoter import AvellanedaQuoter


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_quoter_when_it_never_connected_does_not_print_connection_lost(caplog) -> None:
    cfg = BotConfig(connection=ConnectionConfig(reconnect_initial_s=0.05, reconnect_cap_s=0.05))
    quoter = AvellanedaQuoter(cfg, f"ws://127.0.0.1:{_closed_port()}", None, MarketMakerCore(cfg))

    async def scenario() -> None:
        task = asyncio.create_task(quoter.run())
        while not quoter.stats.errors:  # the first refused attempt (no timing assumed)
            await asyncio.sleep(0.01)
        quoter.request_stop("test")
        await task

    with caplog.at_level("WARNING", logger="thalex_mm.quoter"):
        asyncio.run(scenario())
    lines = [r.getMessage() for r in caplog.records if r.name == "thalex_mm.quoter"]
    assert lines and not any("connection lost" in m for m in lines)
    assert any(m.startswith("could not connect to ws://127.0.0.1:") for m in lines)
