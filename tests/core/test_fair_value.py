"""Fair value sources, basis EWMA, funding adjustment, inventory units."""

from __future__ import annotations

import math

import pytest

from thalex_mm.config.models import FairValueSource, QuotingConfig
from thalex_mm.core.fair_value import FairValueModel, inventory_units

S = 1_000_000_000


@pytest.mark.parametrize(
    ("source", "expected"),
    [(FairValueSource.MID, 100.0), (FairValueSource.MICROPRICE, 100.2), (FairValueSource.MARK, 100.4)],
)
def test_fair_value_when_source_selected_uses_that_input(source, expected):
    fv = FairValueModel(QuotingConfig(fair_value=source, funding_adjust=False))
    got = fv.compute(mid=100.0, microprice=100.2, mark=100.4, index=99.0)
    assert got.price == expected and got.raw == expected


def test_fair_value_when_source_input_missing_returns_none():
    fv = FairValueModel(QuotingConfig(fair_value=FairValueSource.MARK))
    assert fv.compute(mid=100.0, mark=None) is None


def test_fair_value_when_index_basis_smooths_basis_with_halflife():
    fv = FairValueModel(QuotingConfig(fair_value=FairValueSource.INDEX_BASIS, basis_halflife_s=10.0, funding_adjust=False))
    assert fv.compute(mid=101.0, index=100.0).price == 101.0  # no basis yet: mid
    fv.update_basis(0, 101.0, 100.0)  # basis 1
    fv.update_basis(10 * S, 103.0, 100.0)  # sample 3 after one half-life: 1 + 0.5·(3 − 1) = 2
    assert fv.basis == pytest.approx(2.0)
    assert fv.compute(mid=103.0, index=100.5).price == pytest.approx(102.5)


def test_fair_value_when_funding_positive_shifts_down_by_rate_times_horizon_fraction():
    fv = FairValueModel(QuotingConfig(fair_value=FairValueSource.MID, funding_adjust=True))
    got = fv.compute(mid=50_000.0, funding_rate=1e-4, horizon_s=43_200.0)
    # 50,000 · 1e-4 · 12 h / 24 h = 2.5 lower
    assert got.funding_shift == pytest.approx(-2.5)
    assert got.price == pytest.approx(49_997.5)
    neg = fv.compute(mid=50_000.0, funding_rate=-1e-4, horizon_s=43_200.0)
    assert neg.price == pytest.approx(50_002.5)


def test_fair_value_when_funding_adjust_off_ignores_funding():
    fv = FairValueModel(QuotingConfig(fair_value=FairValueSource.MID, funding_adjust=False))
    assert fv.compute(mid=100.0, funding_rate=0.01, horizon_s=86_400.0).price == 100.0


def test_inventory_units_when_unit_size_set_divides_position():
    assert inventory_units(-0.05, 0.01) == pytest.approx(-5.0)
    with pytest.raises(ValueError, match="unit_size"):
        inventory_units(1.0, 0.0)
    assert math.isnan(FairValueModel(QuotingConfig()).basis)
