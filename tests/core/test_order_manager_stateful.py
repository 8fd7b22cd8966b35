"""Hypothesis state machine: our order book under any interleaving of venue messages.

A small fake venue executes our commands at send time and queues its answers (a response and a
``session.orders`` notification per request, plus fill notifications). The rules deliver queued
messages in any order, duplicate them, fill orders, and re-plan. Invariants: filled amounts never
decrease nor exceed the amount, no fill is counted twice, terminal orders stay terminal, at most
one active order per level, and the venue never holds a bid of ours at or above our own ask --
also when the message budget admits only a prefix of a quote step's commands.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from thalex_mm.config.models import ConnectionConfig, OrderConfig
from thalex_mm.core.budget import MessageBudget
from thalex_mm.core.commands import AmendOrder, InsertOrder
from thalex_mm.core.error_kinds import ErrorKind
from thalex_mm.core.events import OrderFill, OrderReport, OrdersUpdated
from thalex_mm.core.order_manager import FillRecorded, OrderManager
from thalex_mm.core.types import (
    ChangeReason,
    Instrument,
    OrderStatus,
    OrderType,
    QuoteLevel,
    Side,
    TimeInForce,
    WantedQuotes,
)

INSTR = Instrument(
    name="BTC-PERPETUAL",
    product="FBTCUSD",
    tick_size=1.0,
    volume_tick_size=0.001,
    min_order_amount=0.001,
    underlying="BTCUSD",
)
EPS = 1e-9


class FakeVenue:
    def __init__(self) -> None:
        self.orders: dict[int, dict] = {}
        self.trade_seq = 0

    @staticmethod
    def status(o) -> OrderStatus:
        if o["cancelled"]:
            return (
                OrderStatus.CANCELLED_PARTIALLY_FILLED
                if o["filled"] > EPS
                else OrderStatus.CANCELLED
            )
        if o["filled"] >= o["amount"] - EPS:
            return OrderStatus.FILLED
        return OrderStatus.PARTIALLY_FILLED if o["filled"] > EPS else OrderStatus.OPEN

    def live(self, o) -> bool:
        return self.status(o).is_live

    def report(self, o, reason, fills=()) -> OrderReport:
        return OrderReport(
            order_id=f"x{o['cid']}",
            client_order_id=o["cid"],
            instrument=INSTR.name,
            side=o["side"],
            order_type=OrderType.LIMIT,
            time_in_force=TimeInForce.GTC,
            price=o["price"],
            amount=o["amount"],
            filled_amount=o["filled"],
            remaining_amount=max(0.0, o["amount"] - o["filled"]),
            status=self.status(o),
            change_reason=reason,
            fills=tuple(fills),
        )

    def process(self, rid, cmd) -> list[tuple]:
        if isinstance(cmd, InsertOrder):
            o = dict(
                cid=cmd.client_order_id,
                side=cmd.side,
                price=cmd.price,
                amount=cmd.amount,
                filled=0.0,
                cancelled=False,
            )
            self.orders[o["cid"]] = o
            rep = self.report(o, ChangeReason.INSERT)
            return [("resp", rid, rep), ("note", rep)]
        o = self.orders.get(cmd.client_order_id)
        if o is None or not self.live(o):
            return [("err", rid, ErrorKind.ORDER_NOT_FOUND)]
        if isinstance(cmd, AmendOrder):
            o["price"] = cmd.price
            if cmd.amount <= o["filled"] + EPS:
                o["cancelled"] = True  # volume-safe amend below the filled amount deletes
            else:
                o["amount"] = cmd.amount
            rep = self.report(o, ChangeReason.AMEND)
        else:
            o["cancelled"] = True
            rep = self.report(o, ChangeReason.CANCEL)
        return [("resp", rid, rep), ("note", rep)]

    def fill(self, index: int, lots: int) -> list[tuple]:
        live = [o for o in self.orders.values() if self.live(o)]
        if not live:
            return []
        o = live[index % len(live)]
        qty = min(lots / 1000, o["amount"] - o["filled"])
        o["filled"] = round(o["filled"] + qty, 9)
        self.trade_seq += 1
        f = OrderFill(
            trade_id=f"t{self.trade_seq}", price=o["price"], amount=qty, maker_taker="maker"
        )
        return [("note", self.report(o, ChangeReason.FILL, (f,)))]

    def crossed(self) -> bool:
        bids = [o["price"] for o in self.orders.values() if self.live(o) and o["side"] is Side.BUY]
        asks = [o["price"] for o in self.orders.values() if self.live(o) and o["side"] is Side.SELL]
        return bool(bids and asks and max(bids) >= min(asks))


class OrderBookMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.om = OrderManager(OrderConfig(amend_tolerance_ticks=1), first_client_order_id=1)
        self.venue = FakeVenue()
        self.budget = MessageBudget(ConnectionConfig())
        self.now_ns = 0
        self.queue: list[tuple] = []
        self.rid = 0
        self.filled_seen: dict[object, float] = {}
        self.terminal_seen: set[object] = set()
        self.trade_ids: list[str] = []
        self.recorded_by_cid: dict[int | None, float] = {}

    def _absorb(self, records) -> None:
        for r in records:
            if isinstance(r, FillRecorded):
                self.trade_ids.append(r.trade_id)
                self.recorded_by_cid[r.client_order_id] = (
                    self.recorded_by_cid.get(r.client_order_id, 0.0) + r.amount
                )

    @rule(
        mid=st.integers(90, 110),
        half=st.integers(1, 4),
        nb=st.integers(0, 3),
        na=st.integers(0, 3),
        lots=st.integers(1, 5),
        gap_ms=st.integers(0, 400),
    )
    def quote_step(self, mid, half, nb, na, lots, gap_ms):
        w = WantedQuotes(
            instrument=INSTR.name,
            bids=tuple(
                QuoteLevel(side=Side.BUY, level=i, price=mid - half - 2 * i, amount=lots / 100)
                for i in range(nb)
            ),
            asks=tuple(
                QuoteLevel(side=Side.SELL, level=i, price=mid + half + 2 * i, amount=lots / 100)
                for i in range(na)
            ),
        )
        self.now_ns += gap_ms * 1_000_000
        # a tight budget (8 matching-engine messages/s): any admitted prefix must be safe
        admitted, _ = self.budget.admit(self.om.plan_prioritised(w, INSTR), self.now_ns)
        for cmd in admitted:
            self.rid += 1
            self.om.on_sent(self.rid, cmd)
            self.queue.extend(self.venue.process(self.rid, cmd))
            assert not self.venue.crossed(), f"self-cross after {cmd}"

    @rule(index=st.integers(0, 20), lots=st.integers(1, 60))
    def venue_fills(self, index, lots):
        self.queue.extend(self.venue.fill(index, lots))

    @precondition(lambda self: self.queue)
    @rule(index=st.integers(0, 50), duplicate=st.booleans())
    def deliver(self, index, duplicate):
        i = index % len(self.queue)
        msg = self.queue[i] if duplicate else self.queue.pop(i)
        kind = msg[0]
        if kind == "resp":
            self._absorb(self.om.on_response(msg[1], msg[2]))
        elif kind == "err":
            self._absorb(self.om.on_error(msg[1], msg[2], "order not found", code=1))
        else:
            self._absorb(self.om.on_orders(OrdersUpdated(orders=(msg[1],))))

    @rule()
    def drain_in_order(self):
        while self.queue:
            msg = self.queue.pop(0)
            if msg[0] == "resp":
                self._absorb(self.om.on_response(msg[1], msg[2]))
            elif msg[0] == "err":
                self._absorb(self.om.on_error(msg[1], msg[2], "order not found", code=1))
            else:
                self._absorb(self.om.on_orders(OrdersUpdated(orders=(msg[1],))))
        # converged: same fills and same liveness as the venue
        for cid, v in self.venue.orders.items():
            o = self.om.get(cid)
            assert abs(o.filled_amount - v["filled"]) < 1e-9
            assert o.state.is_terminal == (not self.venue.live(v))

    @invariant()
    def fills_monotonic_and_bounded(self):
        for o in self.om.orders:
            assert o.filled_amount <= o.amount + EPS
            assert o.filled_amount >= self.filled_seen.get(o.key, 0.0) - EPS
            self.filled_seen[o.key] = o.filled_amount

    @invariant()
    def terminal_stays_terminal(self):
        for o in self.om.orders:
            if o.key in self.terminal_seen:
                assert o.state.is_terminal
            if o.state.is_terminal:
                self.terminal_seen.add(o.key)

    @invariant()
    def no_double_counted_fills(self):
        assert len(self.trade_ids) == len(set(self.trade_ids))
        for cid, amount in self.recorded_by_cid.items():
            assert amount <= self.venue.orders[cid]["filled"] + EPS

    @invariant()
    def one_active_order_per_level(self):
        levels = [(o.side, o.level) for o in self.om.active_orders() if o.level >= 0]
        assert len(levels) == len(set(levels))


OrderBookMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=40, deadline=None
)
TestOrderBookMachine = OrderBookMachine.TestCase
