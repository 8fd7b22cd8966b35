"""Property: whatever the order of duplicates and flushes, each trade id is stored once, first
occurrence wins, and every other record kind is stored exactly as often as it was recorded."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thalex_mm.store import Journal

_ops = st.lists(
    st.one_of(
        st.tuples(st.just("fill"), st.integers(0, 8), st.floats(1, 1e6, allow_nan=False)),
        st.tuples(st.just("quote"), st.integers(0, 8), st.floats(1, 1e6, allow_nan=False)),
        st.tuples(st.just("flush"), st.just(0), st.just(0.0)),
    ),
    max_size=60,
)


@pytest.fixture(scope="module", params=("sqlite", "postgres"))
def new_location(request, tmp_path_factory):
    """A fresh location per example: a new SQLite file, or the module's PostgreSQL schema
    (examples then differ by run id; the stats checked are per journal instance)."""
    if request.param == "postgres":
        url = request.getfixturevalue("pg_module_url")
        return lambda: url
    base, counter = tmp_path_factory.mktemp("property"), itertools.count()
    return lambda: str(base / f"p{next(counter)}.sqlite")


@settings(max_examples=40, deadline=None)
@given(ops=_ops)
def test_journal_when_fills_duplicated_across_flushes_keeps_first_of_each(new_location, ops):
    with Journal(new_location(), flush_interval_s=3600) as journal:
        run_id = journal.start_run("backtest", {})
        first_price: dict[str, float] = {}
        quotes: list[float] = []
        for ts_ns, (kind, key, value) in enumerate(ops):
            if kind == "fill":
                trade_id = f"T{key}"
                first_price.setdefault(trade_id, value)
                journal.fill(run_id, ts_ns=ts_ns, trade_id=trade_id, side="buy", price=value,
                             amount=1.0)
            elif kind == "quote":
                quotes.append(value)
                journal.quote(run_id, ts_ns=ts_ns, mid=value)
            else:
                assert journal.flush()
        stored = {f.trade_id: f.price for f in journal.fills(run_id)}
        assert stored == first_price
        assert [q.mid for q in journal.quotes(run_id)] == quotes
        n_fills = sum(1 for op in ops if op[0] == "fill")
        assert journal.stats().duplicate_fills == n_fills - len(first_price)
