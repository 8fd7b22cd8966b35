"""Review fixes: data batching, the summary's settings block, empty windows, sweep ranking and
output, response latency and rejects."""

from __future__ import annotations

import argparse
import csv
import json

import numpy as np
import pytest

from thalex_mm.backtest.api import run_backtest
from thalex_mm.backtest.runner import DEFAULT_BATCH_MS, BacktestSettings, run_session
from thalex_mm.backtest.sessions import synthetic_events, window_events
from thalex_mm.backtest.sweep import SWEEP_METRICS, sort_results, write_sweep
from thalex_mm.cli import main
from thalex_mm.commands.backtest_cmd import add_arguments, build_settings
from thalex_mm.config.models import BotConfig
from thalex_mm.core.commands import CancelOrder
from thalex_mm.core.events import BookDeltaReceived, BookSnapshotReceived, ErrorReceived
from thalex_mm.core.step import EMPTY_STEP, Step
from thalex_mm.data import EventKind, events_from_columns
from thalex_mm.reports import RunRecorder

S = 1_000_000_000
MS = 1_000_000
T0 = 1_700_000_000 * S


def _events(extra=(), seconds=10):
    L, C, M = EventKind.BOOK_LEVEL, EventKind.BOOK_CLEAR, EventKind.MARK
    rows = [(C, 0, T0, T0, 0.0, 0.0), (L, 1, T0, T0, 100.0, 2.0), (L, -1, T0, T0, 101.0, 3.0)]
    rows += [(M, 0, T0 + i * S, T0 + i * S, 100.0, 0.0) for i in range(seconds + 1)]
    rows += list(extra)
    cols = list(zip(*rows, strict=True))
    arr = events_from_columns(*cols)
    return arr[np.argsort(arr["exch_ts"], kind="stable")]


class RecordingCore:
    """Stand-in core: records events; sends ``first`` once, on the first book."""

    def __init__(self, config: BotConfig, first=()) -> None:
        self.log: list = []
        self.first = tuple(first)

    def handle(self, event):
        self.log.append(event)
        if self.first and isinstance(event, BookSnapshotReceived | BookDeltaReceived):
            out, self.first = self.first, ()
            return Step(commands=out)
        return EMPTY_STEP

    def on_sent(self, request_id, command):
        pass

    def next_deadline_ns(self):
        return None


def _book_delay_ns(settings: BacktestSettings, change_ts: int) -> int:
    """Delay between a level change at ``change_ts`` and the core seeing it."""
    cores: list[RecordingCore] = []

    def factory(cfg):
        cores.append(RecordingCore(cfg))
        return cores[-1]

    ev = _events([(EventKind.BOOK_LEVEL, 1, change_ts, change_ts, 100.5, 1.0)])
    run_session(ev, BotConfig(), settings, RunRecorder(instrument="BTC-PERPETUAL"),
                core_factory=factory)
    seen = [e.local_ts_ns for e in cores[0].log
            if isinstance(e, BookDeltaReceived) and any(p == 100.5 for p, _ in e.bids)]
    return seen[0] - change_ts


# ------------------------------------------------------------------ 1. batching


def test_default_batch_delivers_a_change_after_a_quiet_period_within_the_batch_length():
    # 5.0003 s: after 1 s without book changes; the quoter's requote interval is 100 ms
    change = T0 + 5 * S + 300_000
    assert BotConfig().quoting.min_requote_interval_ms == 100
    delay = _book_delay_ns(BacktestSettings(feed_latency_ms=0.0), change)
    assert 0 <= delay <= DEFAULT_BATCH_MS * MS
    assert DEFAULT_BATCH_MS <= 10.0
    # the knob still works: 100 ms batches deliver it at the next 100 ms boundary
    assert _book_delay_ns(BacktestSettings(feed_latency_ms=0.0, batch_ms=100.0), change) == (
        100 * MS - 300_000)


def _parse(argv):
    p = argparse.ArgumentParser()
    add_arguments(p)
    return build_settings(p.parse_args(["--data", "synthetic:1", *argv]))


def test_cli_batch_ms_and_response_latency_flags():
    s = _parse([])
    assert s.batch_ms == DEFAULT_BATCH_MS
    assert s.order_latency_ms == s.response_latency_ms == 5.0
    s = _parse(["--latency-ms", "7"])
    assert (s.order_latency_ms, s.response_latency_ms) == (7.0, 7.0)
    s = _parse(["--latency-ms", "7", "--response-latency-ms", "2.5", "--batch-ms", "20"])
    assert (s.order_latency_ms, s.response_latency_ms, s.batch_ms) == (7.0, 2.5, 20.0)


# ------------------------------------------------------------------ 2. settings block


def test_summary_settings_block_describes_the_world_and_stays_deterministic(tmp_path):
    argv = ["--data", "synthetic:30:2", "--seed", "5", "--latency-ms", "7",
            "--response-latency-ms", "3", "--latency-jitter", "0.3", "--batch-ms", "20",
            "--queue-model", "power2", "--strip-timing"]
    texts = []
    for name in ("a", "b"):
        assert main(["backtest", "--out", str(tmp_path / name), *argv]) == 0
        texts.append((tmp_path / name / "summary.json").read_text())
    assert texts[0] == texts[1]  # byte-identical with --strip-timing
    st = json.loads(texts[0])["settings"]
    av = BotConfig().avellaneda
    assert st["order_latency_ms"] == 7.0 and st["response_latency_ms"] == 3.0
    assert st["latency_jitter"] == 0.3 and st["batch_ms"] == 20.0
    assert st["queue_model"] == "power2" and st["seed"] == 5
    assert st["feed_latency_ms"] is None and st["feed_base_latency_ms"] == 1.0
    assert (st["maker_fee_rate"], st["taker_fee_rate"]) == (av.maker_fee_rate, av.taker_fee_rate)
    assert st["funding_source"] == "data" and st["funding_rate_24h"] is None
    assert st["tick_size"] > 0 and st["data"] == ["synthetic:30:2"]
    # another world gives another block
    assert main(["backtest", "--out", str(tmp_path / "c"), *argv, "--batch-ms", "5"]) == 0
    other = json.loads((tmp_path / "c" / "summary.json").read_text())["settings"]
    assert other["batch_ms"] == 5.0


def test_settings_block_names_data_files_by_base_name_and_fixed_funding():
    out = run_backtest(["synthetic:10:1"], BotConfig(),
                       BacktestSettings(funding_rate_24h=0.01, tick_size=0.5,
                                        maker_fee_rate=-0.0001))
    st = out.summary["settings"]
    assert st["funding_source"] == "fixed" and st["funding_rate_24h"] == 0.01
    assert st["tick_size"] == 0.5 and st["maker_fee_rate"] == -0.0001


# ------------------------------------------------------------------ 3. empty windows


def test_window_after_the_data_is_empty_not_a_snapshot_only_session():
    ev = synthetic_events("synthetic:10", seed=1)
    after = int(ev["exch_ts"][-1]) + S
    assert window_events(ev, after, None).size == 0
    assert window_events(ev, after, after + S).size == 0


def test_cli_from_after_the_data_exits_2_naming_from_and_the_data_range(tmp_path, capsys):
    ev = synthetic_events("synthetic:10", seed=1)
    rc = main(["backtest", "--data", "synthetic:10:1", "--from", "2099-01-01",
               "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2
    assert "--from 2099-01-01T00:00:00Z" in err
    from datetime import UTC, datetime

    first = datetime.fromtimestamp(int(ev["exch_ts"][0]) // S, tz=UTC)
    assert first.strftime("%Y-%m-%dT%H:%M:%SZ") in err
    assert not (tmp_path / "o" / "summary.json").exists()


# ------------------------------------------------------------------ 4. sweep


def _res(**cols):
    n = len(next(iter(cols.values())))
    return [{"params": {"avellaneda.gamma": i}, "summary": {k: v[i] for k, v in cols.items()}}
            for i in range(n)]


def test_sweep_sorts_by_the_metrics_natural_direction():
    r = _res(max_drawdown=[3.0, 1.0, None, 2.0], pnl_total=[1.0, -2.0, 5.0, 0.5],
             final_position=[-0.1, 0.5, 0.0, -0.01])
    gammas = lambda rows: [x["params"]["avellaneda.gamma"] for x in rows]  # noqa: E731
    assert gammas(sort_results(r, "max_drawdown")) == [1, 3, 0, 2]  # best (smallest) first
    assert gammas(sort_results(r, "pnl_total")) == [2, 0, 3, 1]
    assert gammas(sort_results(r, "final_position")) == [2, 3, 0, 1]
    assert gammas(sort_results(r, "max_drawdown", ascending=False)) == [0, 3, 1, 2]
    assert gammas(sort_results(r, "pnl_total", ascending=True)) == [1, 3, 0, 2]
    assert SWEEP_METRICS["fees"] == "lower" and SWEEP_METRICS["markout_10s"] == "higher"


def test_sweep_cli_unknown_metric_exits_2_listing_valid_ones(capsys):
    rc = main(["sweep", "--data", "synthetic:5", "--grid", "avellaneda.gamma=0.1",
               "--metric", "pnl", "--jobs", "1"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "'pnl'" in err and "pnl_total" in err and "max_drawdown" in err


def test_sweep_cli_out_writes_ranked_json_and_csv(tmp_path, capsys):
    out = tmp_path / "sw"
    rc = main(["sweep", "--data", "synthetic:10:1", "--grid", "avellaneda.gamma=0.05,1.0",
               "--metric", "max_drawdown", "--jobs", "1", "--out", str(out)])
    assert rc == 0
    doc = json.loads((out / "sweep.json").read_text())
    assert doc["metric"] == "max_drawdown" and doc["best_first"] == "lower"
    dd = [r["summary"]["max_drawdown"] for r in doc["results"]]
    assert len(dd) == 2 and dd == sorted(dd)
    assert [r["rank"] for r in doc["results"]] == [1, 2]
    assert doc["results"][0]["summary"]["settings"]["batch_ms"] == DEFAULT_BATCH_MS
    rows = list(csv.DictReader((out / "sweep.csv").read_text().splitlines()))
    assert [float(x["max_drawdown"]) for x in rows] == pytest.approx(dd)
    assert {x["avellaneda.gamma"] for x in rows} == {"0.05", "1.0"}
    assert "sweep.json" in capsys.readouterr().out


def test_write_sweep_with_forced_order(tmp_path):
    r = _res(pnl_total=[1.0, 3.0, 2.0])
    jpath, _ = write_sweep(r, tmp_path, "pnl_total", ascending=True)
    doc = json.loads(jpath.read_text())
    assert [x["summary"]["pnl_total"] for x in doc["results"]] == [1.0, 2.0, 3.0]
    assert doc["best_first"] == "lower"


# ------------------------------------------------------------------ 5. rejects


def test_rejects_count_engine_errors_on_our_commands():
    bad = (CancelOrder(order_id="no-such-order"), CancelOrder(client_order_id=99))
    cores: list[RecordingCore] = []

    def factory(cfg):
        cores.append(RecordingCore(cfg, first=bad))
        return cores[-1]

    out = run_backtest(["synthetic:5:1"], BotConfig(), BacktestSettings(), core_factory=factory)
    errors = [e for e in cores[0].log if isinstance(e, ErrorReceived)]
    assert len(errors) == 2
    assert out.summary["rejects"] == 2
    # a run without refused commands reports 0 (counted), not None (unknown)
    ok = run_backtest(["synthetic:5:1"], BotConfig(), BacktestSettings(),
                      core_factory=lambda cfg: RecordingCore(cfg))
    assert ok.summary["rejects"] == 0
