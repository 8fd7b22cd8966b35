"""Record Thalex public feeds into the project's replay format (``thalex-mm record``).

Connects without logging in, looks up the instrument (for its underlying), subscribes to
``book.<instrument>.none.all.raw``, ``ticker.<instrument>.raw``, ``price_index.<underlying>``
and ``recent_trades.<instrument>.single``, and writes every notification with its local receive
time (ns) through :class:`thalex_mm.data.recording.RecordingWriter` (gzip members, append-safe,
rotating). A dropped connection is re-established after a short pause (the book snapshot that
follows every subscribe is recorded as such, so the replay re-syncs).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from os import PathLike

import orjson
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from thalex_mm.data.recording import RecordingWriter

__all__ = ["RecorderStats", "record_channels", "record_feeds"]

log = logging.getLogger("thalex_mm.recorder")


@dataclass(slots=True)
class RecorderStats:
    """What a recording session did.

    Attributes:
        notifications: notifications written.
        connects: successful connections.
        files: files written.
    """

    notifications: int = 0
    connects: int = 0
    files: int = 0


def record_channels(instrument: str, underlying: str) -> list[str]:
    """The public channels recorded for ``instrument``."""
    return [
        f"book.{instrument}.none.all.raw",
        f"ticker.{instrument}.raw",
        f"price_index.{underlying}",
        f"recent_trades.{instrument}.single",
    ]


async def _session(url: str, instrument: str, writer: RecordingWriter, stats: RecorderStats,
                   clock_ns: Callable[[], int]) -> None:
    async with connect(url, max_size=2**24, ping_interval=5) as ws:
        stats.connects += 1
        await ws.send(orjson.dumps(
            {"method": "public/instrument", "id": 1, "params": {"instrument_name": instrument}}
        ).decode())
        underlying = instrument.split("-")[0] + "USD"
        subscribed = False
        async for data in ws:
            now = clock_ns()
            frame = orjson.loads(data)
            if "channel_name" in frame:
                writer.write_frame(now, frame)
                stats.notifications += 1
                continue
            if frame.get("id") == 1:
                result = frame.get("result")
                if isinstance(result, dict) and result.get("underlying"):
                    underlying = result["underlying"]
                elif "error" in frame:
                    log.warning("instrument %s: %s", instrument, frame["error"])
            elif "error" in frame:
                log.warning("exchange error: %s", frame["error"])
            if not subscribed:
                subscribed = True
                channels = record_channels(instrument, underlying)
                await ws.send(orjson.dumps(
                    {"method": "public/subscribe", "id": 2, "params": {"channels": channels}}
                ).decode())


async def record_feeds(
    url: str,
    instrument: str,
    out_dir: str | PathLike[str],
    *,
    duration_s: float | None = None,
    stop: asyncio.Event | None = None,
    reconnect_delay_s: float = 1.0,
    clock_ns: Callable[[], int] = time.time_ns,
) -> RecorderStats:
    """Record until ``duration_s`` has passed or ``stop`` is set; returns what was done.

    Args:
        url: exchange WebSocket URL.
        instrument: instrument name, e.g. ``BTC-PERPETUAL``.
        out_dir: recording directory (created).
        duration_s: stop after this many seconds; ``None`` = until ``stop``.
        stop: event that ends the recording.
        reconnect_delay_s: pause before reconnecting after a drop, seconds.
        clock_ns: local clock, ns.
    """
    stop = stop or asyncio.Event()
    stats = RecorderStats()
    writer = RecordingWriter(out_dir, flush_s=1.0)

    async def loop() -> None:
        while not stop.is_set():
            try:
                await _session(url, instrument, writer, stats, clock_ns)
            except (OSError, ConnectionClosed, InvalidHandshake, TimeoutError) as exc:
                log.warning("recorder connection lost: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), reconnect_delay_s)

    task = asyncio.create_task(loop(), name="recorder")
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), duration_s)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        writer.close()
        stats.files = len(writer.paths)
    return stats
