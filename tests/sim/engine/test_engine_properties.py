"""Property tests: random order flows keep the engine's books and accounts consistent."""

from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sim_engine_helpers import PERP, PRODUCT, make_engine

from thalex_mm.core.types import Side, TimeInForce
from thalex_mm.sim.engine import EngineConfig, LogProbQueue, PowerProbQueue, RiskAverseQueue

SIDES = st.sampled_from([Side.BUY, Side.SELL])
PRICES = st.integers(min_value=95, max_value=105)
AMOUNTS = st.integers(min_value=1, max_value=800).map(lambda n: n / 1000)
SESSIONS = st.sampled_from(["s1", "s2", "s3"])

OPS = st.one_of(
    st.tuples(st.just("insert"), SESSIONS, SIDES, AMOUNTS, PRICES, st.booleans(), st.booleans()),
    st.tuples(st.just("amend"), SESSIONS, st.integers(0, 30), AMOUNTS, PRICES),
    st.tuples(st.just("cancel"), SESSIONS, st.integers(0, 30)),
    st.tuples(st.just("ext_level"), SIDES, PRICES, st.integers(0, 3000).map(lambda n: n / 1000)),
    st.tuples(st.just("ext_market"), SIDES, AMOUNTS, st.one_of(st.none(), PRICES)),
    st.tuples(st.just("ext_trade"), SIDES, PRICES, AMOUNTS),
    st.tuples(
        st.just("quote"),
        st.one_of(st.none(), st.lists(st.tuples(PRICES, AMOUNTS), max_size=4,
                                      unique_by=lambda x: x[0])),
        st.one_of(st.none(), st.lists(st.tuples(PRICES, AMOUNTS), max_size=4,
                                      unique_by=lambda x: x[0])),
    ),
    st.tuples(st.just("cancel_all"), SESSIONS),
    st.tuples(st.just("cancel_mq")),
)
QUEUES = st.sampled_from([RiskAverseQueue(), PowerProbQueue(2.0), LogProbQueue()])
FEES = (0.0002, 0.0005)


def run(ops, queue_model):
    e = make_engine(EngineConfig(maker_fee_rate=FEES[0], taker_fee_rate=FEES[1],
                                 queue_model=queue_model))
    e.set_mark(PERP, 100.0)
    e.set_session_persistent("s1", False)
    e.set_mmp("s1", PRODUCT, 2.0, 2.0, ts_ns=0)
    ids: list[str] = []
    outputs = []
    for ts, op in enumerate(ops, start=1):
        kind = op[0]
        if kind == "insert":
            _, s, side, amount, price, post_only, ioc = op
            out = e.insert(s, PERP, side, amount, price, post_only=post_only and not ioc,
                           time_in_force=TimeInForce.IOC if ioc else None, ts_ns=ts)
            if out.ok:
                ids.append(out.response.order_id)
        elif kind == "amend":
            _, s, i, amount, price = op
            out = e.amend(s, amount, price, order_id=ids[i % len(ids)] if ids else "0",
                          ts_ns=ts)
        elif kind == "cancel":
            _, s, i = op
            out = e.cancel(s, order_id=ids[i % len(ids)] if ids else "0", ts_ns=ts)
        elif kind == "ext_level":
            out = e.set_external_level(PERP, op[1], op[2], op[3], ts_ns=ts)
        elif kind == "ext_market":
            out = e.external_market_order(PERP, op[1], op[2], op[3], ts_ns=ts)
        elif kind == "ext_trade":
            out = e.external_trade(PERP, op[1], op[2], op[3], ts_ns=ts)
        elif kind == "quote":
            out = e.mass_quote("s1", [(PERP, op[1], op[2])], ts_ns=ts)
            for u in out.order_updates:
                ids.append(u.report.order_id)
        elif kind == "cancel_all":
            out = e.cancel_all(op[1], ts_ns=ts)
        else:
            out = e.cancel_mass_quote("s1", ts_ns=ts)
        outputs.append(out)
        check_book(e)
    return e, outputs


def check_book(e):
    book = e._books[PERP]
    bb, ba = book.bids.best(), book.asks.best()
    if bb is not None and ba is not None:
        assert bb.ticks < ba.ticks, f"crossed at rest: bid {bb.price} ask {ba.price}"
    resting = {}
    for bs in (book.bids, book.asks):
        for level in bs.levels.values():
            assert level.external >= 0.0
            assert not level.is_empty(), "empty level kept"
            for o in level.orders:
                assert 0.0 <= o.queue_ahead <= level.external + 1e-9
                assert o.remaining > 0.0
                assert o.remaining + o.filled == pytest.approx(o.amount, abs=1e-8)
                assert o.ticks == level.ticks and o.side is bs.side
                resting[o.order_id] = o
    assert set(resting) == set(e._orders), "index and book disagree"


@settings(max_examples=100, deadline=None)
@given(ops=st.lists(OPS, min_size=10, max_size=60), queue_model=QUEUES)
def test_random_flow_when_any_ops_book_uncrossed_and_size_conserved(ops, queue_model):
    e, outputs = run(ops, queue_model)
    fills_by_order: dict[str, float] = defaultdict(float)
    last_report = {}
    trade_sides: dict[str, list[str]] = defaultdict(list)
    for out in outputs:
        for u in out.order_updates:
            r = u.report
            fills_by_order[r.order_id] += sum(f.amount for f in r.fills)
            last_report[r.order_id] = r
            assert r.filled_amount + r.remaining_amount <= r.amount + 1e-8
        for t in out.account_trades:
            tr = t.trade
            rate = FEES[0] if tr.maker_taker == "maker" else FEES[1]
            assert tr.fee == pytest.approx(rate * tr.price * tr.amount, abs=1e-12)
            trade_sides[tr.trade_id].append(tr.maker_taker)
    # sum of reported fills = filled amount, for every order ever reported
    for oid, r in last_report.items():
        assert fills_by_order[oid] == pytest.approx(r.filled_amount, abs=1e-8), oid
        if r.status.is_live:
            assert e._orders[oid].filled == pytest.approx(r.filled_amount, abs=1e-8)
    # a trade between two of our orders is reported once as maker and once as taker
    for sides in trade_sides.values():
        assert sorted(sides) in (["maker"], ["taker"], ["maker", "taker"])
    # positions net to zero across all accounts, the external counterparty included
    net = sum(e.ledger.position(acc, PERP) for acc in e.ledger.accounts())
    assert net == pytest.approx(0.0, abs=1e-8)
    # our positions equal our signed fills
    signed = defaultdict(float)
    for out in outputs:
        for t in out.account_trades:
            signed[t.account] += t.trade.side.sign * t.trade.amount
    for acc in ("A", "B"):
        assert e.ledger.position(acc, PERP) == pytest.approx(signed[acc], abs=1e-8)


@settings(max_examples=30, deadline=None)
@given(ops=st.lists(OPS, min_size=1, max_size=40))
def test_random_flow_when_replayed_twice_outputs_identical(ops):
    _, first = run(ops, PowerProbQueue(2.0))
    _, second = run(ops, PowerProbQueue(2.0))
    assert repr(first) == repr(second)
