"""Decode cost per frame, µs: stdlib json.loads vs orjson.loads vs the full decode_frame.

Frames are realistic: a full perpetual ticker, a book delta with 10 changed levels and 3 trades,
and a session.orders update with one partially filled order and its fill.

Run: ``.venv/bin/python benchmarks/decode_frames.py [--n 20000]``. Each measurement times one
call with ``time.perf_counter_ns`` after a warm-up; the table gives p50, p99 and mean.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import orjson

from thalex_mm.core.events import DecodeFailed
from thalex_mm.core.types import Side
from thalex_mm.protocol.constants import Channel, book_channel, ticker_channel
from thalex_mm.protocol.decoder import decode_frame

T0 = 1_716_200_000.123


def ticker_frame() -> bytes:
    return orjson.dumps({
        "channel_name": ticker_channel("BTC-PERPETUAL"),
        "notification": {
            "best_bid_price": 64990.0, "best_bid_amount": 0.5, "best_ask_price": 65010.0,
            "best_ask_amount": 0.2, "last_price": 65000.0, "mark_price": 65001.3,
            "mark_timestamp": T0, "delta": 1.0, "index": 64980.2, "volume_24h": 1234.5,
            "value_24h": 80_000_000.0, "low_price_24h": 63000.0, "high_price_24h": 66000.0,
            "change_24h": 512.0, "collar_low": 63000.0, "collar_high": 67000.0,
            "open_interest": 88.1, "funding_rate": 0.00001, "funding_mark": 0.012,
            "realised_funding_24h": 0.0003, "average_funding_rate_24h": 0.00001,
        },
    })


def book_frame() -> bytes:
    bids = [[64990.0 - i, round(0.1 * (i + 1), 3), round(0.1 * (i + 1), 3)] for i in range(5)]
    asks = [[65010.0 + i, round(0.2 * (i + 1), 3), round(0.2 * (i + 1), 3)] for i in range(5)]
    trades = [[65000.0 + i, 0.01 * (i + 1), (Side.BUY if i % 2 else Side.SELL).value, T0 - i,
               False] for i in range(3)]
    return orjson.dumps({
        "channel_name": book_channel("BTC-PERPETUAL"),
        "notification": {"bid_changes": bids, "ask_changes": asks, "trades": trades,
                         "total_bid_amount": 12.5, "total_ask_amount": 9.75, "time": T0},
    })


def orders_frame() -> bytes:
    return orjson.dumps({
        "channel_name": Channel.SESSION_ORDERS.value,
        "notification": [{
            "order_id": "1728379719872", "client_order_id": 101, "instrument_name": "BTC-PERPETUAL",
            "direction": "buy", "order_type": "limit", "time_in_force": "good_till_cancelled",
            "price": 64900.0, "amount": 0.2, "filled_amount": 0.05, "remaining_amount": 0.15,
            "status": "partially_filled",
            "fills": [{"trade_id": "0080000000000000169F", "price": 64900.0, "amount": 0.05,
                       "time": T0, "maker_taker": "maker", "leg_index": 0}],
            "change_reason": "fill", "insert_reason": "client_request", "label": "P",
            "create_time": T0 - 1.0, "persistent": False,
        }],
    })


def measure(fn: Callable[[], object], n: int) -> tuple[float, float, float]:
    """Return (p50, p99, mean) in µs over ``n`` single calls after ``n // 10`` warm-up calls."""
    for _ in range(n // 10):
        fn()
    clock = time.perf_counter_ns
    samples = []
    for _ in range(n):
        t = clock()
        fn()
        samples.append(clock() - t)
    samples.sort()
    return (samples[len(samples) // 2] / 1e3, samples[int(len(samples) * 0.99)] / 1e3,
            statistics.fmean(samples) / 1e3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="timed calls per cell")
    args = parser.parse_args()
    frames = {"ticker": ticker_frame(), "book delta 10 lv + 3 tr": book_frame(),
              "session.orders 1 + fill": orders_frame()}
    for name, data in frames.items():  # a benchmark of failures would be meaningless
        (ev,) = decode_frame(data, 0)
        if isinstance(ev, DecodeFailed):
            raise SystemExit(f"{name}: frame does not decode: {ev.reason}")
    header = f"{'frame':<26}{'bytes':>6}  {'method':<14}{'p50 µs':>8}{'p99 µs':>8}{'mean µs':>9}"
    lines = [header, "-" * len(header)]
    for name, data in frames.items():
        text = data.decode()
        cells = [("json.loads", lambda t=text: json.loads(t)),
                 ("orjson.loads", lambda d=data: orjson.loads(d)),
                 ("decode_frame", lambda d=data: decode_frame(d, 0))]
        for method, fn in cells:
            p50, p99, mean = measure(fn, args.n)
            lines.append(f"{name:<26}{len(data):>6}  {method:<14}{p50:>8.2f}{p99:>8.2f}{mean:>9.2f}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
