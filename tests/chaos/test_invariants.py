"""The risk invariant of the chaos checks (``risk_violation``) on hand-made commands: it must
flag exactly the commands that break a limit."""

from __future__ import annotations

import pytest

from thalex_mm.config.models import RiskConfig
from thalex_mm.core.commands import AmendOrder, CancelOrder, InsertOrder, InstrumentQuote, MassQuote
from thalex_mm.core.types import Side, TimeInForce
from thalex_mm.testing import risk_violation

RISK = RiskConfig(position_soft_limit=0.02, position_hard_limit=0.03, max_order_size=0.01, price_band_bps=100.0)
MARK = 65_000.0


def _insert(side: Side, amount: float, price: float = MARK, **kw: object) -> InsertOrder:
    return InsertOrder(client_order_id=1, instrument="BTC-PERPETUAL", side=side, amount=amount, price=price, **kw)  # type: ignore[arg-type]


def test_max_order_size() -> None:
    assert risk_violation(_insert(Side.BUY, 0.01), RISK, position=0.0, same_side_open=0.0, mark=MARK) is None
    why = risk_violation(_insert(Side.BUY, 0.011), RISK, position=0.0, same_side_open=0.0, mark=MARK)
    assert why is not None and "max_order_size" in why


@pytest.mark.parametrize(
    ("side", "position", "open_", "bad"),
    [
        (Side.BUY, 0.02, 0.0, False),  # 0.02 + 0.01 = 0.03: at the limit
        (Side.BUY, 0.021, 0.0, True),  # 0.031
        (Side.BUY, 0.01, 0.011, True),  # 0.01 + 0.011 open + 0.01 = 0.031
        (Side.SELL, 0.029, 0.01, False),  # selling reduces a long position
        (Side.SELL, -0.015, 0.006, True),  # 0.015 + 0.006 + 0.01 = 0.031 short
    ],
)
def test_position_room_counts_position_and_same_side_open(side: Side, position: float, open_: float, bad: bool) -> None:
    why = risk_violation(_insert(side, 0.01), RISK, position=position, same_side_open=open_, mark=MARK)
    assert (why is not None) is bad, why


def test_price_band_with_slack() -> None:
    # band 100 bps + 10 bps slack = 110 bps = 715 USD at 65,000
    ok = risk_violation(_insert(Side.BUY, 0.01, MARK - 700), RISK, position=0.0, same_side_open=0.0, mark=MARK)
    bad = risk_violation(_insert(Side.BUY, 0.01, MARK - 730), RISK, position=0.0, same_side_open=0.0, mark=MARK)
    assert ok is None and bad is not None and "outside" in bad
    unknown_mark = risk_violation(_insert(Side.BUY, 0.01, 1.0), RISK, position=0.0, same_side_open=0.0, mark=None)
    assert unknown_mark is None


def test_flatten_order_is_exempt_and_cancels_pass() -> None:
    flatten = _insert(Side.SELL, 0.5, MARK * 0.998, reduce_only=True, time_in_force=TimeInForce.IOC)
    assert risk_violation(flatten, RISK, position=0.5, same_side_open=0.0, mark=MARK) is None
    assert risk_violation(CancelOrder(client_order_id=1), RISK, position=9.0, same_side_open=9.0, mark=MARK) is None


def test_amend_counts_the_unfilled_part_only_for_size_checks() -> None:
    amend = AmendOrder(client_order_id=1, price=MARK, amount=0.01)
    assert risk_violation(amend, RISK, position=0.0, same_side_open=0.0, mark=MARK, filled=0.004) is None
    big = AmendOrder(client_order_id=1, price=MARK, amount=0.02)
    assert "max_order_size" in (risk_violation(big, RISK, position=0.0, same_side_open=0.0, mark=MARK) or "")


def test_mass_quote_side_total_against_the_hard_limit() -> None:
    def mq(bids: tuple[tuple[float, float], ...]) -> MassQuote:
        return MassQuote(quotes=(InstrumentQuote(instrument="BTC-PERPETUAL", bids=bids, asks=None),))

    two = ((MARK - 5, 0.01), (MARK - 10, 0.01))
    assert risk_violation(mq(two), RISK, position=0.01, same_side_open=0.0, mark=MARK) is None
    why = risk_violation(mq(two), RISK, position=0.011, same_side_open=0.0, mark=MARK)
    assert why is not None and "hard limit" in why
    assert "max_order_size" in (risk_violation(mq(((MARK, 0.02),)), RISK, position=0.0, same_side_open=0.0, mark=MARK) or "")
