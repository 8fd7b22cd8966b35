"""One Thalex WebSocket connection: send frames, correlate responses by id, decode the rest.

The reader loop (``listen``) is the only consumer of the socket. Responses to control calls
made with :meth:`WsSession.call` resolve their futures (with the decoded JSON result); every
other decoded event (market data, order feeds, responses to fire-and-forget order commands,
made typed core events by ``protocol.decoder.response_event``) goes to the ``on_event``
callback, which must not block (it feeds the pure core).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect

from thalex_mm.core.events import ErrorReceived, Event
from thalex_mm.errors import TransportError
from thalex_mm.protocol.decoder import ReplyReceived, decode_frame, response_event
from thalex_mm.protocol.rejections import RequestRejected

__all__ = ["WsSession"]

Frame = dict[str, Any]

#: Requests awaiting an answer whose send time is kept (round trips); beyond this the table is
#: reset (answers that never came), so a long session cannot grow it without bound.
_MAX_TRACKED = 10_000


class WsSession:
    """A connected WebSocket with request/response correlation.

    Args:
        url: ``ws://`` or ``wss://`` endpoint (``/ws/api/v2``).
        on_event: called with every event that is not the answer to a pending :meth:`call`.
        request_timeout_s: how long :meth:`call` waits for its answer, seconds.
        ping_interval_s: WebSocket ping period, seconds (the heartbeat; also keeps COD alive).
        clock_ns: wall clock in ns (injected for tests).
        on_round_trip: called with the round trip (s, ``time.perf_counter``) of every request
            sent with an integer ``id`` when its answer (result or error) arrives; must not
            block. ``None``: round trips are not measured.

    Attributes:
        last_frame_perf_s: ``time.perf_counter()`` when the frame being (or last) dispatched
            arrived, seconds; 0.0 before the first frame. The quoter stamps tick-to-order
            latencies with it.
    """

    def __init__(
        self,
        url: str,
        on_event: Callable[[Event], None],
        *,
        request_timeout_s: float = 5.0,
        ping_interval_s: float = 5.0,
        ping_timeout_s: float | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
        on_round_trip: Callable[[float], None] | None = None,
    ) -> None:
        self.url = url
        self._on_event = on_event
        self._timeout_s = request_timeout_s
        self._ping_interval_s = ping_interval_s
        self._ping_timeout_s = ping_timeout_s if ping_timeout_s is not None else 2 * ping_interval_s
        self._clock_ns = clock_ns
        self._ws: ClientConnection | None = None
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._next_id = 1
        self._on_round_trip = on_round_trip
        self._sent_perf_s: dict[int, float] = {}  # request id -> perf_counter at send (s)
        self.frames_received = 0
        self.last_frame_ns = 0
        self.last_frame_perf_s = 0.0

    @property
    def connected(self) -> bool:
        return self._ws is not None

    def next_request_id(self) -> int:
        rid = self._next_id
        self._next_id += 1
        return rid

    async def open(self) -> None:
        """Open the socket (raises the websockets/OS error on failure)."""
        self._ws = await connect(
            self.url,
            ping_interval=self._ping_interval_s,
            ping_timeout=self._ping_timeout_s,
            max_size=16 * 2**20,
            open_timeout=self._timeout_s,
            additional_headers={"User-Agent": "thalex-mm"},
        )

    async def close(self) -> None:
        ws, self._ws = self._ws, None
        self._fail_pending(TransportError("connection closed"))
        self._sent_perf_s.clear()
        if ws is not None:
            await ws.close()

    async def send(self, frame: Frame) -> None:
        """Send one frame (fire and forget; its answer goes to ``on_event``)."""
        if self._ws is None:
            raise TransportError("not connected")
        text = orjson.dumps(frame).decode()
        if self._on_round_trip is not None:
            rid = frame.get("id")
            if isinstance(rid, int):
                if len(self._sent_perf_s) >= _MAX_TRACKED:
                    self._sent_perf_s.clear()  # answers lost for good: never grow without bound
                self._sent_perf_s[rid] = time.perf_counter()
        await self._ws.send(text)

    async def call(self, build: Callable[..., Frame], *args: Any, **kwargs: Any) -> Any:
        """Send ``build(*args, request_id=..., **kwargs)`` and wait for its result.

        Raises:
            RequestRejected: the exchange answered with an error.
            TimeoutError: no answer within ``request_timeout_s``.
        """
        rid = self.next_request_id()
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[rid] = fut
        try:
            await self.send(build(*args, request_id=rid, **kwargs))
            return await asyncio.wait_for(fut, self._timeout_s)
        finally:
            self._pending.pop(rid, None)

    async def listen(self) -> None:
        """Read until the socket closes; never blocks on anything but the socket."""
        ws = self._ws
        if ws is None:
            raise TransportError("not connected")
        try:
            async for data in ws:
                arrived_s = time.perf_counter()
                now = self._clock_ns()
                self.frames_received += 1
                self.last_frame_ns = now
                self.last_frame_perf_s = arrived_s
                for event in decode_frame(data, now):
                    if isinstance(event, ReplyReceived | ErrorReceived):
                        self._round_trip_done(event.request_id, arrived_s)
                        if self._resolve(event):
                            continue
                    self._on_event(response_event(event) if isinstance(event, ReplyReceived) else event)
        finally:
            self._fail_pending(TransportError("connection closed"))

    def _round_trip_done(self, rid: Any, arrived_s: float) -> None:
        if self._on_round_trip is None or not isinstance(rid, int):
            return
        sent_s = self._sent_perf_s.pop(rid, None)
        if sent_s is not None:
            self._on_round_trip(arrived_s - sent_s)

    def _resolve(self, event: ReplyReceived | ErrorReceived) -> bool:
        rid = event.request_id
        fut = self._pending.get(rid) if isinstance(rid, int) else None
        if fut is None or fut.done():
            return False
        if isinstance(event, ErrorReceived):
            fut.set_exception(RequestRejected(event.code, event.message))
        else:
            fut.set_result(event.result)
        return True

    def _fail_pending(self, exc: Exception) -> None:
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(exc)
        self._pending.clear()
