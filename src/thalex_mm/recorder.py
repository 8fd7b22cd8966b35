"""Record Thalex public feeds into the project's replay format (``thalex-mm record``).

Connects without logging in, looks the instrument up in ``public/instruments`` (for its
underlying; an unknown instrument is a :class:`RecorderError`), subscribes to
``book.<instrument>.none.all.raw``, ``ticker.<instrument>.raw``, ``price_index.<underlying>``
and ``recent_trades.<instrument>.single``, and writes every notification with its local receive
time (ns) through :class:`thalex_mm.data.recording.RecordingWriter` (gzip members, append-safe,
rotating). A dropped connection is re-established after a short pause (the book snapshot that
follows every subscribe is recorded as such, so the replay re-syncs). Only network errors are
retried: a refusal by the exchange (error response, book channel not accepted) or any other
exception in the recording task ends :func:`record_feeds` with that exception.
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

__all__ = ["RecorderError", "RecorderStats", "record_channels", "record_feeds"]

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


class RecorderError(Exception):
    """The exchange refused the recording (unknown instrument, subscription error): retrying
    cannot help, so :func:`record_feeds` stops and raises it."""


_INSTRUMENTS_ID = 1
_SUBSCRIBE_ID = 2


def _error_text(error: object) -> str:
    if isinstance(error, dict):
        return f"{error.get('message', error)} (code {error.get('code')})"
    return str(error)


def _find_instrument(result: object, instrument: str) -> dict:
    """The instrument's entry in a ``public/instruments`` result, or :class:`RecorderError`."""
    if not isinstance(result, list):
        raise RecorderError(f"public/instruments: expected a list, got {result!r:.80}")
    names = [r.get("instrument_name") for r in result if isinstance(r, dict)]
    for r in result:
        if isinstance(r, dict) and r.get("instrument_name") == instrument:
            return r
    known = ", ".join(sorted(n for n in names if isinstance(n, str))[:8])
    raise RecorderError(f"--instrument: unknown instrument {instrument!r} (active: {known}"
                        f"{', ...' if len(names) > 8 else ''})")


async def _session(url: str, instrument: str, writer: RecordingWriter, stats: RecorderStats,
                   clock_ns: Callable[[], int]) -> None:
    """One connection: check the instrument, subscribe, write notifications until closed.

    Raises:
        RecorderError: unknown instrument, or the subscription was refused.
    """
    async with connect(url, max_size=2**24, ping_interval=5) as ws:
        stats.connects += 1
        await ws.send(orjson.dumps(
            {"method": "public/instruments", "id": _INSTRUMENTS_ID, "params": {}}).decode())
        channels: list[str] = []
        async for data in ws:
            now = clock_ns()
            frame = orjson.loads(data)
            if "channel_name" in frame:
                writer.write_frame(now, frame)
                stats.notifications += 1
                continue
            rid = frame.get("id")
            if rid == _INSTRUMENTS_ID:
                if "error" in frame:
                    raise RecorderError(f"public/instruments: {_error_text(frame['error'])}")
                info = _find_instrument(frame.get("result"), instrument)
                underlying = info.get("underlying") or instrument.split("-")[0] + "USD"
                channels = record_channels(instrument, underlying)
                await ws.send(orjson.dumps(
                    {"method": "public/subscribe", "id": _SUBSCRIBE_ID,
                     "params": {"channels": channels}}).decode())
            elif rid == _SUBSCRIBE_ID:
                if "error" in frame:
                    raise RecorderError(f"public/subscribe: {_error_text(frame['error'])}")
                accepted = frame.get("result")
                accepted = set(accepted) if isinstance(accepted, list) else set(channels)
                if channels[0] not in accepted:
                    raise RecorderError(f"public/subscribe: the exchange did not accept "
                                        f"{channels[0]!r} (accepted: {sorted(accepted)})")
                missing = [c for c in channels if c not in accepted]
                if missing:
                    log.warning("channels not accepted (not recorded): %s", missing)
            elif "error" in frame:
                log.warning("exchange error: %s", frame["error"])


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

    Raises:
        RecorderError: unknown instrument or refused subscription (checked on every connect).
        Exception: any non-network error of the recording task, as raised (files written so
            far are closed first).
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
    stopper = asyncio.create_task(stop.wait(), name="recorder-stop")
    try:
        await asyncio.wait({task, stopper}, timeout=duration_s,
                           return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            task.result()  # a refusal or a bug in the recording task: raise it here
    finally:
        for t in (task, stopper):
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await t
        writer.close()
        stats.files = len(writer.paths)
    return stats
