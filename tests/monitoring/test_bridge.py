"""The bridge from the drivers' status objects (the core's CoreStatus; the quoter's stats and
the session totals duck-typed here) to the hub and metrics."""

from __future__ import annotations

from collections import deque
from types import SimpleNamespace

from thalex_mm.core.market_maker import CoreStatus
from thalex_mm.monitoring.bridge import CoreStatusHub, snapshot_from_core
from thalex_mm.monitoring.status import DashboardSnapshot

T0 = 1_700_000_000_000_000_000


def core_status(**kw):
    base = dict(
        ts_ns=T0, instrument="BTC-PERPETUAL", connected=True, mid=65000.5, best_bid=65000.0,
        best_ask=65001.0, mark=65000.4, index=65000.1, fair_value=65000.7, reservation=64999.9,
        half_spread=1.5, our_bid=64998.5, our_ask=65001.5, our_bid_size=0.01,
        our_ask_size=0.02, position=-0.03, average_price=65010.0, pnl_realised=1.25,
        pnl_unrealised=0.3, fees=-0.01, funding=0.0, pnl_total=1.56, sigma=2.0,
        sigma_warm=True, A=140.0, k=1.5, intensity_source="config", gamma=0.1,
        trading_state="reducing", state_reason="position_soft_limit",
        open_orders=(("buy", 64998.5, 0.01, "open"), ("sell", 65001.5, 0.02, "open")),
        quote_steps=40, fills=7, volume=0.07, rejects=2, denials=0, throttles=3,
    )
    base.update(kw)
    return CoreStatus(**base)


def test_snapshot_from_core_maps_fields() -> None:
    stats = SimpleNamespace(reconnects=4, errors=deque(["ConnectionResetError: gone"]))
    totals = SimpleNamespace(inserts=10, mass_quotes=2, amends=5, cancels=6,
                             errors=["rejected: post only"])
    snap = snapshot_from_core(core_status(), stats, totals, budget_used=12, budget_limit=50)
    assert snap.ts_ns == T0 and snap.mid == 65000.5 and snap.avg_price == 65010.0
    assert snap.trading_state == "REDUCING" and snap.state_reason == "position_soft_limit"
    assert snap.open_orders[1] == ("sell", 65001.5, 0.02, "open")
    assert (snap.reconnects, snap.fills_count, snap.budget_used) == (4, 7, 12)
    assert snap.recent_errors == ("ConnectionResetError: gone", "rejected: post only")
    assert (snap.sigma, snap.A, snap.k, snap.gamma) == (2.0, 140.0, 1.5, 0.1)
    flat = snapshot_from_core(core_status(position=0.0, average_price=0.0))
    assert flat.avg_price is None and flat.recent_errors is None and flat.reconnects is None
    assert flat.budget_used == 0 and flat.budget_limit is None  # a limit of 0 is not known
    from_status = snapshot_from_core(core_status(budget_used=3, budget_limit=40))
    assert (from_status.budget_used, from_status.budget_limit) == (3, 40)


def test_core_status_hub_accepts_both_call_shapes_and_syncs_metrics() -> None:
    hub = CoreStatusHub()
    stats = SimpleNamespace(reconnects=1, errors=deque())
    totals = SimpleNamespace(inserts=10, mass_quotes=2, amends=5, cancels=6, errors=[])
    hub.publish(core_status(), stats, totals)
    m = hub.metrics
    assert (m.quotes_sent, m.amends, m.cancels, m.fills, m.rejects, m.throttles,
            m.reconnects) == (12, 5, 6, 7, 2, 3, 1)
    assert m.position == -0.03 and m.trading_state == "REDUCING"
    status = hub.status()
    assert status["fills_count"] == 7 and status["reconnects"] == 1
    hub.publish(DashboardSnapshot(ts_ns=T0 + 10**9, mid=1.0, trading_state="HALTED"))
    assert hub.status()["trading_state"] == "HALTED" and m.trading_state == "HALTED"
