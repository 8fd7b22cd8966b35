"""The values that cross a process boundary (spawn and Ray workers) survive pickling, compiled
or not: a compiled frozen dataclass cannot be unpickled field by field, so those classes
rebuild through their constructor (``thalex_mm.frozen_pickle``)."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from thalex_mm.backtest.parallel import map_tasks
from thalex_mm.backtest.runner import BacktestSettings, SessionResult
from thalex_mm.sim.engine import EngineConfig
from thalex_mm.sim.engine.queue_models import PowerProbQueue


def _session_result() -> SessionResult:
    return SessionResult(rows=10, batches=3, rows_to_engine=4, engine_ops=5, core_events=6,
                         commands=7, rejects=1, batch_ms=1.0, tick_size=0.1, start_ts_ns=1,
                         end_ts_ns=2, tape_seconds=0.5, loop_seconds=0.25, final_position=-0.002,
                         calibration={"A_per_s": 1.5, "sigma": None})


@pytest.mark.parametrize("value", [
    BacktestSettings(order_latency_ms=7.5, feed_latency_ms=None, batch_ms=None,
                     queue_model="power3", maker_fee_rate=-0.0001, tick_size=0.5, seed=11),
    _session_result(),
    EngineConfig(maker_fee_rate=0.0002, margin_rate=0.05, self_trade_prevention=False),
], ids=lambda v: type(v).__name__)
def test_pickle_round_trip_when_value_crosses_to_a_worker_keeps_every_field(value):
    back = pickle.loads(pickle.dumps(value))

    assert type(back) is type(value)
    for f in dataclasses.fields(value):
        got, want = getattr(back, f.name), getattr(value, f.name)
        if f.name == "queue_model" and not isinstance(want, str):
            assert type(got) is type(want)
        else:
            assert got == want, f.name


def test_pickle_round_trip_keeps_a_non_default_queue_model_of_the_engine():
    config = EngineConfig(queue_model=PowerProbQueue(3.0))

    back = pickle.loads(pickle.dumps(config))

    assert isinstance(back.queue_model, PowerProbQueue)
    assert back.queue_model.n == 3.0


def _latency_of(settings: BacktestSettings) -> float:
    return settings.order_latency_ms + settings.seed


def test_map_tasks_when_spread_over_spawned_workers_receives_settings_and_returns_in_order():
    tasks = [BacktestSettings(order_latency_ms=float(i), seed=i) for i in range(3)]

    assert map_tasks(_latency_of, tasks, jobs=2) == [0.0, 2.0, 4.0]
