"""The simulated world of a walk-forward run learns nothing from the future either: feed
delivery times before the trading start do not depend on rows after it."""

from __future__ import annotations

import numpy as np

from thalex_mm.backtest.tape import build_tape
from thalex_mm.data import EventKind, events_from_columns

S = 1_000_000_000
T0 = 1_700_000_000 * S


def _events(late_offset_s: float) -> np.ndarray:
    """A level change every 100 ms for 20 s; the recorder's clock is 1.5 s behind for the
    first 10 s and ``late_offset_s`` behind afterwards."""
    n = 200
    exch = T0 + np.arange(n, dtype=np.int64) * S // 10
    lag = np.where(np.arange(n) < 100, -1.5, -late_offset_s) * S
    local = exch + lag.astype(np.int64) + 2_000_000
    return events_from_columns(np.full(n, EventKind.BOOK_LEVEL), np.ones(n), exch, local,
                               100.0 + (np.arange(n) % 3), np.ones(n))


def test_feed_offset_when_estimated_before_a_time_ignores_the_rows_after_it():
    until = T0 + 10 * S
    a = build_tape(_events(1.5), tick_size=1.0, batch_ns=1_000_000, feed_offset_until_ns=until)
    b = build_tape(_events(30.0), tick_size=1.0, batch_ns=1_000_000, feed_offset_until_ns=until)
    n = int(np.sum(a.batch_exch_ts < until))
    assert n > 50 and int(np.sum(b.batch_exch_ts < until)) == n
    assert np.array_equal(a.batch_ts[:n], b.batch_ts[:n])
    # the whole-session estimate (the backtest default) does depend on the later rows
    c = build_tape(_events(1.5), tick_size=1.0, batch_ns=1_000_000)
    d = build_tape(_events(30.0), tick_size=1.0, batch_ns=1_000_000)
    assert not np.array_equal(c.batch_ts[:10], d.batch_ts[:10])
