"""Shared helpers for the monitoring tests: a stand-in for the bot that feeds a StatusHub."""

from __future__ import annotations

import asyncio
import math
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from thalex_mm.monitoring.status import DashboardSnapshot, StatusHub

# The browser tests share the DevTools helpers in monitoring_cdp.py (as tests/sim does).
sys.path.insert(0, str(Path(__file__).parent))


@dataclass
class FakeBot:
    """Publishes a random-walk market, quotes around it and random fills; honours the kill switch.

    Mimics what the quoter does: one snapshot per tick (ts advancing by ``tick_ns``), fills now and
    then, and on kill: trading_state HALTED, quotes and open orders pulled.
    """

    hub: StatusHub
    seed: int = 7
    tick_ns: int = 100_000_000
    start_ns: int = 1_750_000_000_000_000_000
    mid: float = 100_000.0
    position: float = 0.0
    state: str = "ACTIVE"
    reason: str = "normal"
    ticks: int = 0
    killed: int = 0
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.hub.set_kill_switch(self.kill)

    def kill(self) -> None:
        self.killed += 1
        self.state = "HALTED"
        self.reason = "manual_kill"

    def step(self) -> DashboardSnapshot:
        self.ticks += 1
        ts = self.start_ns + self.ticks * self.tick_ns
        self.mid += self.rng.gauss(0.0, 5.0)
        halted = self.state == "HALTED"
        fair = self.mid + self.rng.gauss(0.0, 1.0)
        res = fair - 2.0 * self.position
        bid = None if halted else math.floor(res - 10.0)
        ask = None if halted else math.ceil(res + 10.0)
        if not halted and self.rng.random() < 0.15:
            side = self.rng.choice(("buy", "sell"))
            price = bid if side == "buy" else ask
            self.position += 0.1 if side == "buy" else -0.1
            self.hub.on_fill(ts, side, price, 0.1)
        orders = () if halted else (("buy", bid, 0.1, "open"), ("sell", ask, 0.1, "open"))
        snap = DashboardSnapshot(
            ts_ns=ts, instrument="BTC-PERPETUAL", mid=self.mid, fair_value=fair, reservation=res,
            best_bid=self.mid - 0.5, best_ask=self.mid + 0.5, our_bid=bid, our_ask=ask,
            our_bid_size=None if halted else 0.1, our_ask_size=None if halted else 0.1,
            position=self.position, avg_price=self.mid, pnl_realised=1.5 * self.ticks / 10,
            pnl_unrealised=self.position * 3.0, fees=0.01 * self.ticks,
            pnl_total=1.5 * self.ticks / 10 + self.position * 3.0 - 0.01 * self.ticks,
            sigma=0.0123, A=140.0, k=0.35, gamma=0.1, trading_state=self.state,
            state_reason=self.reason, open_orders=orders, budget_used=self.ticks % 40,
            budget_limit=50,
        )
        self.hub.publish(snap)
        return snap

    async def run(self, period_s: float = 0.05) -> None:
        while True:
            self.step()
            await asyncio.sleep(period_s)


@pytest.fixture
def fake_bot_factory():
    return FakeBot
