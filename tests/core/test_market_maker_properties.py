"""Property test of the whole core against the matching engine: on random markets, with risk
limits that bind, no command the core emits may break a limit.

The venue is the backtester's in-process matching engine (real fills, queue positions,
latency); the core is wrapped so every ``handle`` is checked against the core's own view just
before the commands leave: position + resting same-side size + a new order never exceeds the
hard limit, no order exceeds the maximum order size, no bid reaches our own ask, and a halted
core sends no quote at all.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thalex_mm.backtest.runner import BacktestSettings, run_session
from thalex_mm.config.models import BotConfig
from thalex_mm.core.commands import AmendOrder, CancelOrder, InsertOrder, MassQuote
from thalex_mm.core.market_maker import MarketMakerCore
from thalex_mm.core.order_state import OrderState
from thalex_mm.core.reasons import TradingState
from thalex_mm.core.types import Side
from thalex_mm.data.events import EventKind, events_from_columns
from thalex_mm.reports import RunRecorder

EPS = 1e-9
HARD = 0.03
MAX_ORDER = 0.01
T0 = 1_700_000_000_000_000_000
STEP_NS = 50_000_000  # one market update every 50 ms


def _config(use_mass_quote: bool, levels: int) -> BotConfig:
    return BotConfig.model_validate({
        "order": {"sizes": [0.01], "levels": levels, "use_mass_quote": use_mass_quote,
                  "mmp_trade_amount": 0.02, "mmp_quote_amount": 0.04},
        "risk": {"position_soft_limit": 0.02, "position_hard_limit": HARD, "max_order_size": MAX_ORDER,
                 "pause_cooldown_s": 1.0},
        "avellaneda": {"estimate_intensity": False},
    })


def _market(seed: int, steps: int, vol_ticks: float, trade_p: float, jump_p: float) -> np.ndarray:
    """A random-walk book (5 levels a side, tick 0.5), trades at the touch, a mark each second
    (sometimes jumping away from the mid so the divergence halt trips)."""
    rng = np.random.default_rng(seed)
    tick = 0.5
    mid_ticks = 130_000
    cols: list[tuple[int, int, int, float, float]] = []
    prev: set[tuple[int, float]] = set()
    for i in range(steps):
        ts = T0 + i * STEP_NS
        mid_ticks += round(float(rng.normal(0.0, vol_ticks)))
        levels = {(1, (mid_ticks - 1 - j) * tick) for j in range(5)} | {(-1, (mid_ticks + 1 + j) * tick) for j in range(5)}
        if i == 0:
            cols.append((int(EventKind.BOOK_CLEAR), 0, ts, 0.0, 0.0))
        for side, price in sorted(prev - levels):
            cols.append((int(EventKind.BOOK_LEVEL), side, ts, price, 0.0))
        for side, price in sorted(levels):
            cols.append((int(EventKind.BOOK_LEVEL), side, ts, price, float(rng.uniform(0.01, 0.5))))
        prev = levels
        if rng.random() < trade_p:
            aggressor = 1 if rng.random() < 0.5 else -1
            price = (mid_ticks + aggressor) * tick
            cols.append((int(EventKind.TRADE), aggressor, ts + 1, price, float(rng.uniform(0.005, 0.05))))
        if i % 20 == 0:
            mark = mid_ticks * tick * (1.03 if rng.random() < jump_p else 1.0)
            cols.append((int(EventKind.MARK), 0, ts + 2, mark, 0.0))
    kind, side, ts, price, qty = (np.array(c) for c in zip(*cols, strict=True))
    return events_from_columns(kind, side, ts, ts + 1_000_000, price, qty)


class CheckedCore:
    """The real core; every batch of commands is checked before it is returned (a wrapper: the
    core may be compiled, and a compiled class takes no interpreted subclass)."""

    violations: list[str]

    def __init__(self, config: BotConfig) -> None:
        self.core = MarketMakerCore(config)
        self.violations = []
        self.checked = 0

    def __getattr__(self, name: str):
        return getattr(self.core, name)  # on_sent, next_deadline_ns, position, orders, risk, ...

    def handle(self, event):
        step = self.core.handle(event)
        self._check(step.commands, type(event).__name__)
        return step

    def _check(self, cmds, why: str) -> None:
        pos = self.position.position
        exposure = {Side.BUY: 0.0, Side.SELL: 0.0}
        best = {Side.BUY: -np.inf, Side.SELL: np.inf}
        amended = {c.client_order_id for c in cmds if isinstance(c, AmendOrder)}
        # the venue handles our requests in order: an order whose cancel went out earlier (or
        # earlier in this batch) is gone before a new order arrives, so it cannot be crossed;
        # but until the cancel is acknowledged a fill may beat it, so its size still counts
        cancelled = {c.client_order_id for c in cmds if isinstance(c, CancelOrder)}
        for o in self.orders.active_orders(self.instrument_name):
            if o.client_order_id in amended:
                continue
            exposure[o.side] += o.remaining_amount if o.pending_amount is None else max(
                o.remaining_amount, o.pending_amount - o.filled_amount)
            if o.state is OrderState.PENDING_CANCEL or o.client_order_id in cancelled:
                continue
            p = o.exposure_price()
            best[o.side] = max(best[o.side], p) if o.side is Side.BUY else min(best[o.side], p)
        halted = self.risk.state is TradingState.HALTED
        for c in cmds:
            self.checked += 1
            flatten = isinstance(c, InsertOrder) and c.reduce_only
            if isinstance(c, InsertOrder | AmendOrder | MassQuote) and halted and not flatten:
                self.violations.append(f"{why}: {type(c).__name__} sent while halted ({self.risk.reason})")
            if isinstance(c, InsertOrder) and not c.reduce_only:
                if c.amount > MAX_ORDER + EPS:
                    self.violations.append(f"{why}: insert of {c.amount} > max order size")
                exposure[c.side] += c.amount
                worst = pos + exposure[Side.BUY] if c.side is Side.BUY else -(pos - exposure[Side.SELL])
                if worst > HARD + EPS:
                    self.violations.append(f"{why}: {c.side} insert {c.amount} at position {pos:+.3f}, "
                                           f"same-side open {exposure[c.side] - c.amount:.3f} > hard limit")
                self._cross(c.side, c.price, best, why)
            elif isinstance(c, AmendOrder):
                o = self.orders.get(c.client_order_id)
                if o is None:
                    continue
                remaining = c.amount - o.filled_amount
                if remaining > MAX_ORDER + EPS:
                    self.violations.append(f"{why}: amend to {remaining} remaining > max order size")
                exposure[o.side] += remaining
                worst = pos + exposure[Side.BUY] if o.side is Side.BUY else -(pos - exposure[Side.SELL])
                if worst > HARD + EPS:
                    self.violations.append(f"{why}: {o.side} amend to {remaining} at position {pos:+.3f} > hard limit")
                self._cross(o.side, c.price, best, why)

    def _cross(self, side: Side, price: float, best: dict, why: str) -> None:
        if side is Side.BUY:
            if price >= best[Side.SELL] - EPS:
                self.violations.append(f"{why}: bid {price} at or above our ask {best[Side.SELL]}")
            best[Side.BUY] = max(best[Side.BUY], price)
        else:
            if price <= best[Side.BUY] + EPS:
                self.violations.append(f"{why}: ask {price} at or below our bid {best[Side.BUY]}")
            best[Side.SELL] = min(best[Side.SELL], price)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31 - 1),
    vol_ticks=st.floats(0.0, 6.0),
    trade_p=st.floats(0.05, 0.9),
    jump_p=st.sampled_from([0.0, 0.0, 0.2]),
    mass_quote=st.booleans(),
    levels=st.integers(1, 3),
)
def test_core_on_random_markets_never_sends_an_order_that_breaks_a_limit(
    seed, vol_ticks, trade_p, jump_p, mass_quote, levels
):
    events = _market(seed, 1_200, vol_ticks, trade_p, jump_p)  # one minute
    cores: list[CheckedCore] = []

    def factory(config: BotConfig) -> CheckedCore:
        cores.append(CheckedCore(config))
        return cores[-1]

    run_session(events, _config(mass_quote, levels), BacktestSettings(seed=seed),
                RunRecorder(instrument="BTC-PERPETUAL"), core_factory=factory)
    (core,) = cores
    assert core.checked > 0, "the core never sent anything: the test checked nothing"
    assert core.violations == [], core.violations[:5]
