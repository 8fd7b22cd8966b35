"""Prometheus exposition: strict line grammar, cumulative buckets, counters and gauges."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thalex_mm.monitoring.metrics import (
    TICK_TO_ORDER_BUCKETS_S,
    TRADING_STATES,
    Histogram,
    Metrics,
)
from thalex_mm.monitoring.status import DashboardSnapshot

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
_VALUE = r"(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]Inf|NaN)"
_SAMPLE = re.compile(rf"^({_NAME})(?:\{{({_LABEL}(?:,{_LABEL})*)?\}})? ({_VALUE})$")
_HELP = re.compile(rf"^# HELP ({_NAME}) .+$")
_TYPE = re.compile(rf"^# TYPE ({_NAME}) (counter|gauge|histogram|summary|untyped)$")


def parse(text: str) -> tuple[dict[str, str], list[tuple[str, dict[str, str], float]]]:
    """Parse the text format strictly; fail on any line that is not HELP, TYPE or a sample."""
    assert text.endswith("\n")
    types: dict[str, str] = {}
    samples = []
    for n, line in enumerate(text.rstrip("\n").split("\n"), 1):
        if m := _TYPE.match(line):
            assert m.group(1) not in types, f"line {n}: second TYPE for {m.group(1)}"
            types[m.group(1)] = m.group(2)
        elif _HELP.match(line):
            continue
        elif m := _SAMPLE.match(line):
            labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"',
                                     m.group(2) or ""))
            samples.append((m.group(1), labels, float(m.group(3).replace("Inf", "inf"))))
        else:
            raise AssertionError(f"line {n} is not valid exposition format: {line!r}")
    for name, _, _ in samples:
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in types or family in types, f"sample {name} has no TYPE line"
    return types, samples


def value(samples, name: str, **labels: str) -> float:
    found = [v for n, lab, v in samples if n == name and lab == labels]
    assert len(found) == 1, (name, labels, found)
    return found[0]


def test_counters_and_gauges_exposed_with_their_values() -> None:
    m = Metrics()
    m.quotes_sent += 3
    m.amends += 2
    m.cancels += 5
    m.rejects += 1
    m.throttles += 4
    m.update_from_snapshot(DashboardSnapshot(
        ts_ns=1, position=-0.3, pnl_total=12.5, pnl_realised=10.0, pnl_unrealised=2.5,
        sigma=0.02, trading_state="reducing", open_orders=(("buy", 1.0, 0.1, "open"),)))
    types, samples = parse(m.render())
    for counter, expected in (("quotes_sent", 3), ("amends", 2), ("cancels", 5), ("fills", 0),
                              ("rejects", 1), ("reconnects", 0), ("throttles", 4)):
        name = f"thalex_mm_{counter}_total"
        assert types[name] == "counter"
        assert value(samples, name) == expected
    assert value(samples, "thalex_mm_position_contracts") == -0.3
    assert value(samples, "thalex_mm_pnl_total_quote") == 12.5
    assert value(samples, "thalex_mm_pnl_realised_quote") == 10.0
    assert value(samples, "thalex_mm_sigma") == 0.02
    assert value(samples, "thalex_mm_open_orders") == 1
    assert types["thalex_mm_trading_state"] == "gauge"
    states = {lab["state"]: v for n, lab, v in samples if n == "thalex_mm_trading_state"}
    assert states == {s: float(s == "REDUCING") for s in TRADING_STATES}


def test_unknown_sigma_is_nan_and_unknown_state_is_added() -> None:
    m = Metrics()
    m.update_from_snapshot(DashboardSnapshot(ts_ns=1, sigma=None, trading_state='odd"state'))
    _, samples = parse(m.render())
    assert math.isnan(value(samples, "thalex_mm_sigma"))
    states = {lab["state"]: v for n, lab, v in samples if n == "thalex_mm_trading_state"}
    assert states['ODD\\"STATE'] == 1.0
    assert sum(states.values()) == 1.0


def _check_histogram(samples, name: str, observations: list[float], bounds) -> None:
    buckets = [(lab["le"], v) for n, lab, v in samples if n == f"{name}_bucket"]
    assert [le for le, _ in buckets][-1] == "+Inf"
    assert [float(le) for le, _ in buckets[:-1]] == list(bounds)
    counts = [v for _, v in buckets]
    assert counts == sorted(counts), "buckets must be cumulative"
    for (le, v) in buckets:
        limit = math.inf if le == "+Inf" else float(le)
        assert v == sum(1 for x in observations if x <= limit), le
    assert counts[-1] == value(samples, f"{name}_count") == len(observations)
    assert value(samples, f"{name}_sum") == pytest.approx(sum(observations))


def test_histogram_edges_are_inclusive() -> None:
    m = Metrics()
    obs = [0.0001, 0.0001, 0.00011, 2.0, 0.0]
    for x in obs:
        m.observe_tick_to_order(x)
    m.observe_tick_to_order(math.nan)  # ignored
    types, samples = parse(m.render())
    assert types["thalex_mm_tick_to_order_seconds"] == "histogram"
    _check_histogram(samples, "thalex_mm_tick_to_order_seconds", obs, TICK_TO_ORDER_BUCKETS_S)
    assert value(samples, "thalex_mm_tick_to_order_seconds_bucket", le="0.0001") == 3


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=30.0), max_size=60))
def test_round_trip_histogram_property(obs: list[float]) -> None:
    m = Metrics()
    for x in obs:
        m.observe_round_trip(x)
    _, samples = parse(m.render())
    _check_histogram(samples, "thalex_mm_request_round_trip_seconds", obs,
                     m.round_trip.bounds_s)


@pytest.mark.parametrize("bounds", [(), (0.1, 0.1), (0.2, 0.1), (0.1, math.inf)])
def test_histogram_rejects_bad_bounds(bounds) -> None:
    with pytest.raises(ValueError, match="bounds_s"):
        Histogram(bounds)


def test_metrics_when_parsed_by_prometheus_client_carry_the_trading_and_process_families() -> None:
    from prometheus_client.parser import text_string_to_metric_families

    m = Metrics()
    m.update_from_snapshot(DashboardSnapshot(
        ts_ns=1, mid=100_000.0, best_bid=99_999.0, best_ask=100_001.5, our_bid=99_990.0,
        our_ask=100_012.0, fees=1.25, funding=-0.5, quote_age_s=0.3, market_data_age_s=0.05,
        budget_used=12, budget_limit=48, trading_state="HALTED", state_reason="kill_switch"))
    m.observe_tick_to_order(0.002)
    families = {f.name: f for f in text_string_to_metric_families(m.render())}

    def one(name: str, **labels: str) -> float:
        (sample,) = [s for s in families[name].samples if s.labels == labels and s.name == name]
        return sample.value

    assert one("thalex_mm_fees_quote") == 1.25
    assert one("thalex_mm_funding_quote") == -0.5
    assert one("thalex_mm_mid_price_quote") == 100_000.0
    assert one("thalex_mm_market_spread_quote") == 2.5
    assert one("thalex_mm_quoted_spread_quote") == 22.0
    assert one("thalex_mm_quote_age_seconds") == 0.3
    assert one("thalex_mm_market_data_staleness_seconds") == 0.05
    assert one("thalex_mm_message_budget_use_ratio") == 0.25
    assert one("thalex_mm_halt_reason", reason="kill_switch") == 1.0
    (build,) = families["thalex_mm_build_info"].samples  # an info metric: gauge 1 with labels
    assert build.value == 1.0 and build.labels["version"] and build.labels["python"]
    assert "process_cpu_seconds" in families or "process_start_time_seconds" in families
    assert "python_info" in families
    help_text = families["thalex_mm_tick_to_order_seconds"].documentation
    assert "requote interval" in help_text and "INCLUDES" in help_text


def test_halt_reason_when_active_is_none_with_value_zero() -> None:
    from prometheus_client.parser import text_string_to_metric_families

    m = Metrics()
    m.update_from_snapshot(DashboardSnapshot(ts_ns=1, trading_state="ACTIVE", state_reason="normal"))
    (fam,) = [f for f in text_string_to_metric_families(m.render()) if f.name == "thalex_mm_halt_reason"]
    assert [(s.labels, s.value) for s in fam.samples] == [({"reason": "none"}, 0.0)]
