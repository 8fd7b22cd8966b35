"""Perpetual funding in the websocket simulator (paper/sim): charged on the simulated clock at
mark updates, longs pay a positive rate, and the changed portfolio lines reach subscribers."""

from __future__ import annotations

import numpy as np
import pytest
from sim_ws_helpers import Client, run_sim

from thalex_mm.core.types import Side
from thalex_mm.data.events import MARKET_EVENT_DTYPE, EventKind
from thalex_mm.sim.engine import EngineConfig, MatchingEngine
from thalex_mm.sim.market_feed import BTC_PERPETUAL, FUNDING_ACCRUAL_MIN_S, MarketFeed
from thalex_mm.sim.static_source import StaticSource

NAME = BTC_PERPETUAL.name
MARK = 65_000.0
T0 = 1_700_000_000_000_000_000
S = 1_000_000_000


def _rows(*rows: tuple[EventKind, int, float]) -> np.ndarray:
    """(kind, exch_ts_ns, price) rows."""
    out = np.zeros(len(rows), dtype=MARKET_EVENT_DTYPE)
    for i, (kind, ts, price) in enumerate(rows):
        out[i] = (kind, 0, ts, ts, price, 0.0)
    return out


def _marks(times_ns: list[int], rate: float | None = None) -> np.ndarray:
    rows: list[tuple[EventKind, int, float]] = []
    for ts in times_ns:
        rows.append((EventKind.MARK, ts, MARK))
        if rate is not None:
            rows.append((EventKind.FUNDING_RATE, ts, rate))
    return _rows(*rows)


def _trade_long_short(eng: MatchingEngine, amount: float, ts_ns: int) -> None:
    """Account A buys ``amount`` from account B at the mark (A long, B short)."""
    eng.open_session("sa", "A")
    eng.open_session("sb", "B")
    assert eng.insert("sa", NAME, Side.BUY, amount, MARK, ts_ns=ts_ns, label="x").error is None
    assert eng.insert("sb", NAME, Side.SELL, amount, MARK, ts_ns=ts_ns, label="x").error is None
    assert eng.ledger.get("A", NAME).position == amount
    assert eng.ledger.get("B", NAME).position == -amount


def _feed() -> tuple[MarketFeed, MatchingEngine, list]:
    eng = MatchingEngine(EngineConfig(maker_fee_rate=0.0, taker_fee_rate=0.0))
    eng.add_instrument(BTC_PERPETUAL)
    feed = MarketFeed(eng, StaticSource())
    outs: list = []
    feed.publish_private = outs.append
    return feed, eng, outs


def _funding(eng: MatchingEngine, account: str) -> float:
    return eng.ledger.get(account, NAME).funding


@pytest.mark.parametrize("rate", [0.0003, -0.0002])
def test_mark_updates_charge_funding_longs_pay_a_positive_rate(rate: float) -> None:
    feed, eng, outs = _feed()
    feed.apply(_marks([T0], rate))  # the rate in force from T0 on; starts the funding clock
    _trade_long_short(eng, 0.5, T0)
    feed.apply(_marks([T0 + k * S for k in range(1, 11)], rate))  # 10 s of simulated time
    expected = 0.5 * MARK * rate * 10.0 / 86_400.0
    assert _funding(eng, "A") == pytest.approx(-expected, rel=1e-9)  # the long pays rate > 0
    assert _funding(eng, "B") == pytest.approx(expected, rel=1e-9)
    assert (_funding(eng, "A") < 0) == (rate > 0)
    # The summary includes it (no fees, no realised PnL here).
    summary = eng.account_summary("A")
    assert summary.session_realised_pnl == pytest.approx(-expected, rel=1e-9)
    # Each accrual publishes the changed lines of both accounts, with the running funding.
    changes = [p for o in outs for p in o.portfolio_changes]
    assert len(changes) == 2 * 10
    last = {p.account: p.entry.unrealised_perpetual_funding for p in changes}
    assert last == {"A": _funding(eng, "A"), "B": _funding(eng, "B")}


def test_sub_second_marks_accrue_the_elapsed_simulated_time_in_whole_chunks() -> None:
    feed, eng, outs = _feed()
    feed.apply(_marks([T0], 0.001))
    _trade_long_short(eng, 0.2, T0)
    step = int(0.3 * S)
    feed.apply(_marks([T0 + k * step for k in range(1, 11)], 0.001))  # marks up to T0 + 3.0 s
    # Accruals at the first mark >= 1 s after the previous: 1.2 s and 2.4 s; 3.0 s is pending.
    assert FUNDING_ACCRUAL_MIN_S == 1.0
    assert len(outs) == 2
    assert _funding(eng, "A") == pytest.approx(-0.2 * MARK * 0.001 * 2.4 / 86_400.0, rel=1e-9)


def test_no_rate_or_no_position_charges_nothing() -> None:
    feed, eng, outs = _feed()
    feed.apply(_marks([T0], 0.0))
    _trade_long_short(eng, 0.5, T0)
    feed.apply(_marks([T0 + k * S for k in range(1, 6)]))
    assert _funding(eng, "A") == 0.0 and outs == []
    feed.apply(_marks([T0 + 6 * S], 0.001))  # rate set now: applies from here on
    eng.insert("sa", NAME, Side.SELL, 0.5, MARK, ts_ns=T0, label="x")
    eng.insert("sb", NAME, Side.BUY, 0.5, MARK, ts_ns=T0, label="x")  # both flat again
    feed.apply(_marks([T0 + k * S for k in range(7, 12)], 0.001))
    assert _funding(eng, "A") == 0.0 and _funding(eng, "B") == 0.0


def test_funding_reaches_account_portfolio_subscribers_and_the_summary(tmp_path) -> None:
    source = StaticSource(mid=MARK)

    async def body(sim, keys) -> None:
        c = await Client.open(sim.url)
        try:
            await c.login(keys)
            got = await c.call("private/subscribe", {"channels": ["account.portfolio"]})
            assert got["result"] == ["account.portfolio"]
            eng, me = sim.engine, keys.account
            eng.open_session("other-side", "someone-else")
            eng.open_session("mine", me)
            assert eng.insert("mine", NAME, Side.BUY, 0.1, MARK, ts_ns=T0, label="x").error is None
            assert eng.insert("other-side", NAME, Side.SELL, 0.1, MARK, ts_ns=T0, label="x").error is None
            source.push(_marks([T0], 0.01))
            source.push(_marks([T0 + 2 * S], 0.01))  # 2 s later: one accrual

            def funded(n: dict) -> bool:
                return n["channel_name"] == "account.portfolio" and any(
                    (e.get("unrealised_perpetual_funding") or 0.0) != 0.0 for e in n["notification"])

            note = await c.note(funded, timeout=3.0)
            entry = next(e for e in note["notification"] if e["instrument_name"] == NAME)
            expected = -0.1 * MARK * 0.01 * 2.0 / 86_400.0
            assert entry["unrealised_perpetual_funding"] == pytest.approx(expected, rel=1e-9)
            summary = (await c.call("private/account_summary"))["result"]
            fee = eng.ledger.get(me, NAME).fees
            assert summary["session_realised_pnl"] == pytest.approx(expected - fee, rel=1e-9)
        finally:
            await c.close()

    run_sim(body, tmp_path, source=source)
