"""StatusHub: bounded, sampled history; fills, errors, reconnects; the kill switch."""

from __future__ import annotations

import asyncio
import itertools
import json
import math

import pytest

from thalex_mm.monitoring.status import DashboardSnapshot, StatusHub

S = 1_000_000_000
T0 = 1_700_000_000 * S


def snap(ts_ns: int, **kw) -> DashboardSnapshot:
    return DashboardSnapshot(ts_ns=ts_ns, instrument="BTC-PERPETUAL", mid=100.0, **kw)


def test_history_sampled_at_most_sample_hz_and_bounded_to_history_s() -> None:
    hub = StatusHub(history_s=10.0, sample_hz=4.0)
    # 100 Hz for 30 s: 3000 publishes; 4 Hz keeps one per 250 ms, 10 s keeps 41.
    for i in range(3000):
        hub.publish(snap(T0 + i * 10_000_000, position=float(i)))
    assert hub.latest is not None and hub.latest.position == 2999.0
    seq, points = hub.points_after(0)
    assert seq == 120  # 30 s at 4 Hz
    ts_ms = [p[0] for p in points]
    assert all(b - a == 250 for a, b in itertools.pairwise(ts_ms))
    assert ts_ms[-1] == (T0 + 29_750_000_000) // 1_000_000  # last 250 ms boundary
    assert ts_ms[-1] - ts_ms[0] == 10_000  # history_s, both ends kept
    assert len(points) == 41
    # Incremental reads only return what is new.
    assert hub.points_after(seq) == (seq, [])
    hub.publish(snap(T0 + 31 * S, position=-1.0))
    seq2, new = hub.points_after(seq)
    assert seq2 == seq + 1 and [p[6] for p in new] == [-1.0]


def test_nan_and_none_become_json_null() -> None:
    hub = StatusHub()
    hub.publish(snap(T0, fair_value=math.nan, sigma=None, our_bid=math.inf))
    status = hub.status()
    text = json.dumps({"s": status, "p": hub.points_after(0)[1]}, allow_nan=False)
    assert status["fair_value"] is None and status["sigma"] is None and status["our_bid"] is None
    assert '"mid": 100.0' in text


def test_fills_errors_reconnects_counted_and_bounded() -> None:
    hub = StatusHub(max_fills=3, max_errors=2, clock_ns=lambda: T0)
    for i in range(5):
        hub.on_fill(T0 + i * S, "buy" if i % 2 == 0 else "sell", 100.0 + i, 0.1)
    seq, fills = hub.fills_after(0)
    assert seq == 5 and [f[2] for f in fills] == [102.0, 103.0, 104.0]
    assert [f[1] for f in fills] == ["buy", "sell", "buy"]
    assert hub.fills_after(4) == (5, [[(T0 + 4 * S) // 1_000_000, "buy", 104.0, 0.1]])
    hub.on_reconnect()
    hub.on_reconnect()
    jwt = "eyJhbGciOiJSUzUxMiJ9.eyJzdWIiOiJ4In0.c2ln"
    for text in ("first", "second", f"login failed with token {jwt}"):
        hub.on_error(text)
    status = hub.status()
    assert status["fills_count"] == 5 and status["reconnects"] == 2
    assert hub.metrics.fills == 5 and hub.metrics.reconnects == 2
    texts = [e["text"] for e in status["recent_errors"]]
    assert texts[0] == "second" and jwt not in texts[1] and "redacted" in texts[1]


def test_snapshot_counts_override_hub_counts() -> None:
    hub = StatusHub()
    hub.on_reconnect()
    hub.publish(snap(T0, reconnects=7, fills_count=11, recent_errors=("boom",)))
    status = hub.status()
    assert (status["reconnects"], status["fills_count"]) == (7, 11)
    assert [e["text"] for e in status["recent_errors"]] == ["boom"]


def test_publish_updates_metric_gauges() -> None:
    hub = StatusHub()
    hub.publish(snap(T0, position=2.5, pnl_total=-3.0, trading_state="halted"))
    assert hub.metrics.position == 2.5 and hub.metrics.pnl_total == -3.0
    assert hub.metrics.trading_state == "HALTED"


@pytest.mark.parametrize("is_async", [False, True])
def test_kill_switch_sync_and_async(is_async: bool) -> None:
    calls: list[str] = []
    hub = StatusHub(clock_ns=lambda: T0 + 5 * S)
    if is_async:
        async def cb() -> None:
            await asyncio.sleep(0)
            calls.append("async")
    else:
        def cb() -> None:
            calls.append("sync")
    assert asyncio.run(hub.kill()) is False  # nothing registered yet
    assert hub.status()["kill"]["error"] == "no kill switch registered"
    hub.set_kill_switch(cb)
    assert asyncio.run(hub.kill("test")) is True
    assert calls == ["async" if is_async else "sync"]
    kill = hub.status()["kill"]
    assert kill == {"available": True, "requested_ms": (T0 + 5 * S) // 1_000_000,
                    "source": "test", "error": None}


def test_failing_kill_switch_is_reported() -> None:
    hub = StatusHub()

    def cb() -> None:
        raise RuntimeError("exchange unreachable")

    hub.set_kill_switch(cb)
    assert asyncio.run(hub.kill()) is False
    status = hub.status()
    assert status["kill"]["error"] == "RuntimeError: exchange unreachable"
    assert "exchange unreachable" in status["recent_errors"][-1]["text"]


@pytest.mark.parametrize("kw", [{"history_s": 0}, {"sample_hz": -1}, {"max_fills": 0}])
def test_bad_bounds_rejected(kw) -> None:
    with pytest.raises(ValueError, match=next(iter(kw))):
        StatusHub(**kw)
