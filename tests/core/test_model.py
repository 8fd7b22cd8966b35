"""Avellaneda–Stoikov and GLFT formulas against hand computations and limits."""

from __future__ import annotations

import math

import numpy as np
import pytest

from thalex_mm.core.model import (
    as_half_spread,
    as_quote,
    as_reservation_price,
    as_spread,
    glft_coefficients,
    glft_quote,
    parse_session_end_utc,
    seconds_to_session_end,
)

S = 1_000_000_000
DAY0_NS = 1_716_163_200 * S  # 2024-05-20 00:00:00 UTC


def test_as_spread_when_paper_parameters_matches_hand_computation():
    # γσ²(T−t) = 0.1·4·0.5 = 0.2 ; (2/γ)·ln(1 + γ/k) = 20·ln(1 + 1/15) = 1.290770...
    assert as_spread(0.1, 2.0, 0.5, 1.5) == pytest.approx(0.2 + 20 * math.log(16 / 15), abs=1e-12)
    assert as_spread(0.1, 2.0, 0.5, 1.5) == pytest.approx(1.4907704, abs=1e-6)
    assert as_half_spread(0.1, 2.0, 0.5, 1.5) == pytest.approx(1.4907704 / 2, abs=1e-6)


def test_as_reservation_price_when_long_is_below_mid_by_q_gamma_sigma2_tau():
    assert as_reservation_price(100.0, 3.0, 0.1, 2.0, 0.5) == pytest.approx(100.0 - 3 * 0.1 * 4 * 0.5)
    assert as_reservation_price(100.0, -3.0, 0.1, 2.0, 0.5) == pytest.approx(100.6)


def test_as_reservation_price_when_sigma_doubles_inventory_term_quadruples():
    base = 100.0 - as_reservation_price(100.0, 2.0, 0.1, 1.5, 0.7)
    doubled = 100.0 - as_reservation_price(100.0, 2.0, 0.1, 3.0, 0.7)
    assert doubled == pytest.approx(4 * base)
    # and the inventory part of the spread too
    assert as_spread(0.1, 3.0, 0.7, 1.5) - as_spread(0.1, 0.0, 0.7, 1.5) == pytest.approx(
        4 * (as_spread(0.1, 1.5, 0.7, 1.5) - as_spread(0.1, 0.0, 0.7, 1.5))
    )


def test_as_quote_when_horizon_reached_is_centred_on_mid_with_arrival_spread():
    mq = as_quote(100.0, 5.0, 0.1, 2.0, 0.0, 1.5)
    assert mq.center == 100.0
    assert mq.ask - mq.bid == pytest.approx(20 * math.log(16 / 15))


def test_as_spread_when_gamma_tends_to_zero_tends_to_two_over_k():
    assert as_spread(1e-9, 2.0, 1.0, 1.5) == pytest.approx(2 / 1.5, rel=1e-6)


def test_as_reservation_price_when_arrays_given_is_elementwise():
    s = np.array([100.0, 101.0])
    q = np.array([1.0, -2.0])
    np.testing.assert_allclose(as_reservation_price(s, q, 0.1, 2.0, 0.5), [99.8, 101.4])


def test_seconds_to_session_end_when_before_at_after_end_counts_to_next_0800():
    end = parse_session_end_utc("08:00")
    assert end == 8 * 3600
    assert seconds_to_session_end(DAY0_NS + (7 * 3600 + 59 * 60) * S, end) == 60.0
    assert seconds_to_session_end(DAY0_NS + 8 * 3600 * S, end) == 86_400.0
    assert seconds_to_session_end(DAY0_NS + 8 * 3600 * S + S // 2, end) == 86_399.5
    assert seconds_to_session_end(DAY0_NS, end) == 8 * 3600.0


@pytest.mark.parametrize("bad", ["8:00:00", "24:00", "ab:cd", "12:60"])
def test_parse_session_end_utc_when_malformed_raises_naming_value(bad):
    with pytest.raises(ValueError, match="session_end_utc"):
        parse_session_end_utc(bad)


def test_glft_coefficients_when_paper_parameters_match_hand_computation():
    gamma, k, A = 0.1, 1.5, 140.0
    c1, c2 = glft_coefficients(gamma, k, A)
    assert c1 == pytest.approx(math.log(1 + gamma / k) / gamma, rel=1e-12)
    assert c1 == pytest.approx(0.6453852, abs=1e-6)
    assert c2 == pytest.approx(math.sqrt(gamma / (2 * A * k) * (1 + gamma / k) ** (k / gamma + 1)), rel=1e-12)
    assert c2 == pytest.approx(0.0258587, abs=1e-6)


def test_glft_coefficients_when_xi_delta_tends_to_zero_tend_to_limits():
    c1, c2 = glft_coefficients(0.1, 1.5, 140.0, xi=0.0)
    assert c1 == pytest.approx(1 / 1.5)
    assert c2 == pytest.approx(math.sqrt(0.1 / (2 * 140 * 1.5) * math.e))
    c1s, c2s = glft_coefficients(0.1, 1.5, 140.0, xi=1e-9)
    assert (c1s, c2s) == pytest.approx((c1, c2), rel=1e-6)


def test_glft_coefficients_when_lot_size_given_uses_xi_delta():
    c1, c2 = glft_coefficients(0.1, 1.5, 140.0, delta=2.0)
    x = 0.2
    assert c1 == pytest.approx(math.log(1 + x / 1.5) / x)
    assert c2 == pytest.approx(math.sqrt(0.1 / (2 * 140 * 2 * 1.5) * (1 + x / 1.5) ** (1.5 / x + 1)))


def test_glft_quote_when_flat_is_symmetric_and_half_spread_is_c1_plus_half_sigma_c2():
    c1, c2 = glft_coefficients(0.1, 1.5, 140.0)
    mq = glft_quote(100.0, 0.0, 0.1, 2.0, 1.5, 140.0)
    assert mq.half_spread == pytest.approx(c1 + 0.5 * 2.0 * c2)
    assert 100.0 - mq.bid == pytest.approx(mq.ask - 100.0)


def test_glft_quote_when_long_bid_depth_grows_by_q_sigma_c2_and_ask_depth_shrinks():
    _, c2 = glft_coefficients(0.1, 1.5, 140.0)
    flat = glft_quote(100.0, 0.0, 0.1, 2.0, 1.5, 140.0)
    long = glft_quote(100.0, 3.0, 0.1, 2.0, 1.5, 140.0)
    assert (100.0 - long.bid) - (100.0 - flat.bid) == pytest.approx(3 * 2.0 * c2)
    assert (long.ask - 100.0) - (flat.ask - 100.0) == pytest.approx(-3 * 2.0 * c2)
    assert long.skew == pytest.approx(2.0 * c2)


def test_glft_quote_when_multipliers_set_scale_half_spread_and_skew():
    base = glft_quote(100.0, 2.0, 0.1, 2.0, 1.5, 140.0)
    m = glft_quote(100.0, 2.0, 0.1, 2.0, 1.5, 140.0, half_spread_multiplier=2.0, skew_multiplier=0.5)
    assert m.half_spread == pytest.approx(2 * base.half_spread)
    assert m.skew == pytest.approx(0.5 * base.skew)


def test_glft_coefficients_when_non_positive_input_raises():
    with pytest.raises(ValueError, match="k=0"):
        glft_coefficients(0.1, 0.0, 140.0)


QUOTING_CORE = ("book", "market_state", "volatility", "signals", "technical", "intensity", "model", "fair_value", "quote_builder")
FORBIDDEN = {"asyncio", "socket", "time", "random", "uuid", "threading", "logging", "sqlite3", "datetime", "numpy"}


@pytest.mark.parametrize("module", QUOTING_CORE)
def test_quoting_core_module_when_parsed_imports_nothing_impure(module):
    import ast
    from pathlib import Path

    import thalex_mm.core

    src = Path(thalex_mm.core.__file__).with_name(f"{module}.py").read_text()
    imported = set()
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & FORBIDDEN
