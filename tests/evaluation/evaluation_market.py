"""Small thalex-mm recordings of a moving market for evaluation tests (real files, real loader)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from thalex_mm.data import RecordingWriter

S = 1_000_000_000
T0_NS = 1_720_250_000 * S  # 2024-07-06


def write_market(directory: Path, seconds: int, *, seed: int = 3, t0_ns: int = T0_NS,
                 shock_at_s: float | None = None, shock_usd: float = 0.0) -> Path:
    """Record ``seconds`` of a BTC-PERPETUAL market: book and trades 5 times a second,
    ticker every second. From ``shock_at_s`` on every price is ``shock_usd`` higher (the
    rows before it are byte-identical with and without the shock; a fractional shock also
    moves the book off the 1 USD grid, so anything that read the price grid from the whole
    session would change earlier decisions)."""
    rng = np.random.default_rng(seed)
    mid = 60000.0
    old = None
    with RecordingWriter(directory, rotate_s=None, flush_records=200) as w:
        for k in range(seconds * 5):
            ts = t0_ns + k * S // 5
            t_s = ts / S
            mid += float(rng.normal(0, 2.0))
            shift = shock_usd if shock_at_s is not None and k / 5 >= shock_at_s else 0.0
            new = round(mid) + shift  # a fractional shock moves the book off the grid
            bids = [[new - 1 - i, 1.0 + i, 1.0 + i] for i in range(5)]
            asks = [[new + 1 + i, 1.0 + i, 1.0 + i] for i in range(5)]
            if old is not None:  # delete the previous levels that are not set again
                bids += [[p, 0, 0] for p in sorted({old - 1 - i for i in range(5)}
                                                   - {new - 1 - i for i in range(5)})]
                asks += [[p, 0, 0] for p in sorted({old + 1 + i for i in range(5)}
                                                   - {new + 1 + i for i in range(5)})]
            old = new
            buy = bool(rng.random() < 0.5)
            depth = int(rng.integers(0, 3))
            trades = [[new + (1 + depth if buy else -1 - depth), 0.05,
                       "buy" if buy else "sell", t_s, False]]
            w.write_frame(ts, {"channel_name": "book.BTC-PERPETUAL.none.all.raw",
                               "snapshot": k == 0,
                               "notification": {"bid_changes": bids, "ask_changes": asks,
                                                "trades": trades, "time": t_s}})
            if k % 5 == 0:
                w.write_frame(ts + 1, {"channel_name": "ticker.BTC-PERPETUAL.raw",
                                       "notification": {"mark_price": mid + shift,
                                                        "mark_timestamp": t_s,
                                                        "index": mid + shift,
                                                        "funding_rate": 0.0,
                                                        "best_bid_price": new - 1,
                                                        "best_bid_amount": 1.0,
                                                        "best_ask_price": new + 1,
                                                        "best_ask_amount": 1.0}})
    return directory
