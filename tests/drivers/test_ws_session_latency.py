"""WsSession round trips: every request with an id is timed from send to its answer.

A tiny loopback JSON-RPC server answers requests (results, errors, or nothing); the tests count
what reached ``on_round_trip`` and compare with what was sent (no timed asserts).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import orjson
from websockets.asyncio.server import ServerConnection, serve

from thalex_mm.core.events import Event, ResponseReceived
from thalex_mm.drivers.ws_session import WsSession
from thalex_mm.protocol.rejections import RequestRejected


async def _answer(ws: ServerConnection) -> None:
    async for raw in ws:
        req = orjson.loads(raw)
        method = req.get("method")
        if method == "silent":
            continue  # never answered
        if "id" not in req:
            continue
        if method == "fail":
            reply: dict[str, Any] = {"id": req["id"], "error": {"code": 1, "message": "nope"}}
        else:
            reply = {"id": req["id"], "result": {"echo": method}}
        await ws.send(orjson.dumps(reply).decode())


def _req(method: str, *, request_id: int | None = None) -> dict[str, Any]:
    d: dict[str, Any] = {"method": method, "params": {}}
    if request_id is not None:
        d["id"] = request_id
    return d


def _ping(*, request_id: int) -> dict[str, Any]:
    return _req("public/ping", request_id=request_id)


async def _with_session(body: Any, *, observe: bool = True) -> tuple[list[float], list[Event]]:
    seen: list[float] = []
    events: list[Event] = []
    async with serve(_answer, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        session = WsSession(
            f"ws://127.0.0.1:{port}", events.append, request_timeout_s=2.0, ping_interval_s=5.0,
            on_round_trip=seen.append if observe else None,
        )
        await session.open()
        listener = asyncio.create_task(session.listen())
        try:
            await body(session, events)
        finally:
            await session.close()
            listener.cancel()
            with contextlib.suppress(BaseException):
                await listener
    return seen, events


async def _until(cond: Any) -> None:
    for _ in range(500):
        if cond():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


def test_calls_and_fire_and_forget_requests_are_each_timed_once() -> None:
    async def body(session: WsSession, events: list[Event]) -> None:
        for _ in range(3):
            assert await session.call(_ping) == {"echo": "public/ping"}
        for _ in range(4):
            await session.send(_req("private/insert", request_id=session.next_request_id()))
        await _until(lambda: sum(isinstance(e, ResponseReceived) for e in events) == 4)

    seen, events = asyncio.run(_with_session(body))
    assert len(seen) == 7  # 3 calls + 4 order requests, one observation each
    assert all(0.0 < s < 2.0 for s in seen), seen
    assert len(events) == 4  # the call answers resolved their futures, not the callback


def test_error_answers_are_timed_and_unanswered_or_id_less_requests_are_not() -> None:
    async def body(session: WsSession, events: list[Event]) -> None:
        try:
            await session.call(lambda *, request_id: _req("fail", request_id=request_id))
        except RequestRejected:
            pass
        else:  # pragma: no cover - the server always rejects "fail"
            raise AssertionError("expected a rejection")
        await session.send(_req("silent", request_id=session.next_request_id()))
        await session.send(_req("no-id"))
        await session.send(_req("private/insert", request_id=session.next_request_id()))
        await _until(lambda: len(events) == 1)
        assert len(session._sent_perf_s) == 1  # only the silent one still waits

    seen, _ = asyncio.run(_with_session(body))
    assert len(seen) == 2  # the rejection and the answered insert


def test_no_observer_no_bookkeeping() -> None:
    async def body(session: WsSession, events: list[Event]) -> None:
        await session.send(_req("silent", request_id=session.next_request_id()))
        assert session._sent_perf_s == {}

    seen, _ = asyncio.run(_with_session(body, observe=False))
    assert seen == []


def test_last_frame_stamp_advances_with_frames() -> None:
    async def body(session: WsSession, events: list[Event]) -> None:
        assert session.last_frame_perf_s == 0.0
        await session.call(_ping)
        first = session.last_frame_perf_s
        await session.call(_ping)
        assert first > 0.0 and session.last_frame_perf_s > first

    asyncio.run(_with_session(body))
