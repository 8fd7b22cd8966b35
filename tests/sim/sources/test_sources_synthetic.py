"""SyntheticMarket: AS-world statistics, determinism, chunking and the background book."""

from __future__ import annotations

import math

import numpy as np
import pytest

from thalex_mm.data import EventKind, validate_book_uncrossed, validate_events
from thalex_mm.errors import ConfigError
from thalex_mm.sim.sources import SyntheticMarket, SyntheticParams


def test_synthetic_when_run_long_realised_sigma_matches_parameter() -> None:
    params = SyntheticParams(
        sigma=7.5, dt_s=0.1, mark_interval_s=1.0, background_sizes=(), arrival_rate_per_s=0.0
    )
    arr = SyntheticMarket(params, seed=11).generate(20_000)
    marks = arr[arr["kind"] == EventKind.MARK]
    assert len(marks) == 20_000
    assert np.all(np.diff(marks["exch_ts"]) == 1_000_000_000)
    realised = np.std(np.diff(marks["price"])) / math.sqrt(1.0)  # quote per sqrt(s)
    assert realised == pytest.approx(7.5, rel=0.05)
    index = arr[arr["kind"] == EventKind.INDEX]
    assert np.array_equal(index["price"], marks["price"])  # basis 0


def test_synthetic_when_run_long_arrivals_beyond_depth_follow_a_exp_minus_k_delta() -> None:
    A, k, T = 2.0, 0.5, 20_000.0
    params = SyntheticParams(
        arrival_rate_per_s=A,
        k=k,
        tick_size=0.01,
        dt_s=0.1,
        mark_interval_s=0.1,
        background_sizes=(),
        sigma=3.0,
    )
    arr = SyntheticMarket(params, seed=5).generate(T)
    marks = arr[arr["kind"] == EventKind.MARK]
    trades = arr[arr["kind"] == EventKind.TRADE]
    # the mid of each trade's step is the last MARK at or before it
    mid = marks["price"][np.searchsorted(marks["exch_ts"], trades["exch_ts"], side="right") - 1]
    depth = trades["side"] * (trades["price"] - mid)
    for side in (1, -1):
        d = depth[trades["side"] == side]
        assert len(d) / T == pytest.approx(A, rel=0.05)
        for delta in (0.5, 1.0, 2.0, 4.0):
            rate = np.count_nonzero(d >= delta - 1e-9) / T
            assert rate == pytest.approx(A * math.exp(-k * delta), rel=0.10), (side, delta)
    assert np.all(trades["qty"] == params.trade_qty)
    # every trade lies inside its step, after the step's mark
    assert np.all(
        trades["exch_ts"]
        - marks["exch_ts"][np.searchsorted(marks["exch_ts"], trades["exch_ts"], side="right") - 1]
        < 100_000_000
    )


def test_synthetic_when_same_seed_arrays_identical_and_chunking_does_not_matter() -> None:
    params = SyntheticParams(funding_rate=0.0001, feed_latency_ns=2_000_000)
    a = SyntheticMarket(params, seed=42).generate(300)
    b = SyntheticMarket(params, seed=42).generate(300)
    c = SyntheticMarket(params, seed=43).generate(300)
    assert a.tobytes() == b.tobytes()
    assert not np.array_equal(a, c)
    m = SyntheticMarket(params, seed=42)
    t0 = params.start_ts_ns
    cuts = [
        t0 + x
        for x in (1, 123_456_789, 5_000_000_000, 5_000_000_001, 77_700_000_000, 300_000_000_000)
    ]
    chunks = [m.events_until(t) for t in cuts]
    assert np.concatenate(chunks).tobytes() == a.tobytes()
    assert all(np.all(ch["exch_ts"] < t) for ch, t in zip(chunks, cuts, strict=True))
    assert np.all(a["local_ts"] - a["exch_ts"] == 2_000_000)
    assert np.count_nonzero(a["kind"] == EventKind.FUNDING_RATE) == 300


def test_synthetic_when_mid_moves_background_book_follows_and_never_crosses() -> None:
    sizes = (0.1, 0.2, 0.3, 0.4)
    params = SyntheticParams(
        background_sizes=sizes, background_offset_ticks=1, sigma=20.0, mark_interval_s=0.1
    )
    m = SyntheticMarket(params, seed=3)
    arr = m.generate(600)
    validate_events(arr)
    validate_book_uncrossed(arr)
    assert np.count_nonzero(arr["kind"] == EventKind.BOOK_CLEAR) == 1
    bids: dict[float, float] = {}
    asks: dict[float, float] = {}
    for e in arr[arr["kind"] == EventKind.BOOK_LEVEL]:
        book = bids if e["side"] > 0 else asks
        if e["qty"] > 0:
            book[float(e["price"])] = float(e["qty"])
        else:
            del book[float(e["price"])]  # only existing levels are ever removed
    mid = m.mid
    top_b = math.floor(mid) - 1
    top_a = math.ceil(mid) + 1
    assert bids == {float(top_b - i): sizes[i] for i in range(4)}
    assert asks == {float(top_a + i): sizes[i] for i in range(4)}


def test_synthetic_due_until_when_called_returns_events_up_to_now_inclusive() -> None:
    m = SyntheticMarket(SyntheticParams(), seed=1, start_ts_ns=10**18)
    first = m.due_until(10**18)
    assert len(first) > 0 and np.all(first["exch_ts"] == 10**18)
    later = m.due_until(10**18 + 2_000_000_000)
    assert later["exch_ts"].min() > 10**18 and later["exch_ts"].max() <= 10**18 + 2_000_000_000


def test_synthetic_params_when_invalid_raise_config_error_naming_key() -> None:
    with pytest.raises(ConfigError) as info:
        SyntheticParams(k=0.0, dt_s=-1.0, background_sizes=(1.0, 0.0))
    keys = {p[0] for p in info.value.problems}
    assert keys == {"synthetic.k", "synthetic.dt_s", "synthetic.background_sizes"}
