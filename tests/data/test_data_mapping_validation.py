"""map_events (grid mapping with level aggregation) and the validators."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thalex_mm.data import (
    MARKET_EVENT_DTYPE,
    EventKind,
    events_from_columns,
    map_events,
    validate_book_uncrossed,
    validate_events,
)

L, C, T = int(EventKind.BOOK_LEVEL), int(EventKind.BOOK_CLEAR), int(EventKind.TRADE)


def _ev(rows: list[tuple[int, int, float, float]]) -> np.ndarray:
    """rows of (kind, side, price, qty); exch_ts = row index."""
    n = len(rows)
    k, s, p, q = zip(*rows, strict=True) if rows else ((), (), (), ())
    return events_from_columns(k, s, np.arange(n), np.arange(n) + 7, p, q)


def _book(arr: np.ndarray) -> dict[int, dict[float, float]]:
    book: dict[int, dict[float, float]] = {1: {}, -1: {}}
    for e in arr:
        if e["kind"] == C:
            book = {1: {}, -1: {}}
        elif e["kind"] == L:
            side = book[int(e["side"])]
            if e["qty"] > 0:
                side[float(e["price"])] = float(e["qty"])
            else:
                side.pop(float(e["price"]), None)
    return book


def test_map_events_when_levels_collapse_sizes_are_aggregated() -> None:
    arr = _ev(
        [
            (C, 0, 0, 0),
            (L, 1, 100.1, 0.5),
            (L, 1, 100.7, 0.25),
            (L, -1, 101.2, 1.0),
            (L, -1, 101.9, 2.0),
            (L, 1, 100.1, 0.0),
            (L, -1, 101.2, 0.0),
            (L, -1, 101.9, 0.0),
        ]
    )
    out = map_events(arr, target_tick=1.0)
    got = [(int(e["kind"]), int(e["side"]), float(e["price"]), float(e["qty"])) for e in out]
    assert got == [
        (C, 0, 0.0, 0.0),
        (L, 1, 100.0, 0.5),  # bids floored
        (L, 1, 100.0, 0.75),
        (L, -1, 102.0, 1.0),  # asks ceiled
        (L, -1, 102.0, 3.0),
        (L, 1, 100.0, 0.25),
        (L, -1, 102.0, 2.0),
        (L, -1, 102.0, 0.0),
    ]
    assert out["local_ts"].tolist() == [0 + 7, 1 + 7, 2 + 7, 3 + 7, 4 + 7, 5 + 7, 6 + 7, 7 + 7]


def test_map_events_when_trade_and_mark_scales_and_rounds() -> None:
    arr = _ev([(T, 1, 100.4, 0.00149), (T, -1, 100.6, 0.0004), (int(EventKind.MARK), 0, 100.4, 0)])
    out = map_events(arr, price_scale=2.0, price_offset=1.0, qty_scale=1.0, target_tick=1.0)
    assert out["kind"].tolist() == [T, int(EventKind.MARK)]  # the 0.0004 trade rounds to 0
    assert out["price"].tolist() == [202.0, 201.8]  # trade to nearest tick; mark not snapped
    assert out["qty"][0] == pytest.approx(0.001)


def test_map_events_when_tick_invalid_raises() -> None:
    with pytest.raises(ValueError, match="target_tick"):
        map_events(_ev([]), target_tick=0)


level_updates = st.lists(
    st.tuples(
        st.sampled_from([1, -1]),
        st.integers(0, 60),  # source price = 1000 + i * 0.1
        st.integers(0, 5000),  # source size in 0.001 steps (0 = delete)
        st.integers(0, 9),  # 0 = clear the book first (about 1 in 10)
    ),
    min_size=1,
    max_size=80,
)


@settings(max_examples=150, deadline=None)
@given(updates=level_updates)
def test_map_events_when_any_updates_total_size_per_side_is_preserved(updates) -> None:
    rows = [(C, 0, 0.0, 0.0)]
    for side, pi, qi, clear in updates:
        if clear == 0:
            rows.append((C, 0, 0.0, 0.0))
        # keep bids below asks so the source book is a plausible one
        price = 1000 + pi * 0.1 if side == 1 else 1010 + pi * 0.1
        rows.append((L, side, price, qi * 0.001))
    src = _ev(rows)
    out = map_events(src, target_tick=1.0, target_volume_tick=0.001)
    for prefix in (len(src) // 2, len(src)):
        # check after a prefix too: map the prefix alone (the mapper is a pure function)
        s_book = _book(src[:prefix])
        m_book = _book(map_events(src[:prefix], target_tick=1.0))
        for side in (1, -1):
            assert math.isclose(
                sum(s_book[side].values()), sum(m_book[side].values()), abs_tol=1e-9
            )
            assert all(p == round(p) for p in m_book[side])
    src_book, mapped = _book(src), _book(out)
    for side in (1, -1):
        for tp, q in mapped[side].items():
            agg = sum(
                sq
                for sp, sq in src_book[side].items()
                if (math.floor(sp + 1e-9) if side == 1 else math.ceil(sp - 1e-9)) == tp
            )
            assert math.isclose(q, agg, abs_tol=1e-9)


def test_validate_events_when_rules_broken_names_row() -> None:
    good = _ev([(C, 0, 0, 0), (L, 1, 100.0, 1.0), (T, -1, 100.0, 0.5)])
    validate_events(good)
    cases = {
        "exch_ts": lambda a: a["exch_ts"].__setitem__(2, -1),
        "kind": lambda a: a["kind"].__setitem__(1, 99),
        "qty": lambda a: a["qty"].__setitem__(1, -1.0),
        "price": lambda a: a["price"].__setitem__(1, np.nan),
        "side": lambda a: a["side"].__setitem__(2, 0),
    }
    for field, breaker in cases.items():
        bad = good.copy()
        breaker(bad)
        with pytest.raises(ValueError, match=rf"events\[\d\]\.{field}"):
            validate_events(bad)
    with pytest.raises(ValueError, match="dtype"):
        validate_events(np.zeros(3))
    assert good.dtype == MARKET_EVENT_DTYPE


def test_validate_book_uncrossed_when_bid_reaches_ask_raises() -> None:
    ok = _ev([(C, 0, 0, 0), (L, 1, 100.0, 1.0), (L, -1, 101.0, 1.0), (L, -1, 101.0, 0.0)])
    validate_book_uncrossed(ok)
    crossed = _ev([(C, 0, 0, 0), (L, 1, 100.0, 1.0), (L, -1, 101.0, 1.0), (L, 1, 101.0, 2.0)])
    with pytest.raises(ValueError, match="crossed"):
        validate_book_uncrossed(crossed)
    # deleting the best ask then re-adding a lower one is tracked
    crossed2 = _ev(
        [
            (C, 0, 0, 0),
            (L, 1, 100.0, 1.0),
            (L, -1, 101.0, 1.0),
            (L, -1, 101.0, 0.0),
            (L, -1, 102.0, 1.0),
            (L, 1, 100.0, 0.0),
            (L, 1, 102.5, 1.0),
        ]
    )
    with pytest.raises(ValueError, match=r"best bid 102\.5 >= best ask 102\.0"):
        validate_book_uncrossed(crossed2)
