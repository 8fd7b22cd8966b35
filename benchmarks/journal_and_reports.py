"""Journal and report costs: a record call on the hot path, the writer's throughput, and the
time to summarise and render a large run.

Usage: python benchmarks/journal_and_reports.py [N_RECORDS]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from thalex_mm.reports import RunRecorder, compute_summary, write_report
from thalex_mm.store import Journal


def journal(n: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        j = Journal(Path(d) / "bench.sqlite", flush_interval_s=3600)  # writer idle while timing calls
        run = j.start_run("backtest", {})
        t0 = time.perf_counter_ns()
        for i in range(n):
            j.quote(run, ts_ns=i, mid=1.0, fair_value=1.0, reservation=1.0, bid=0.9, ask=1.1,
                    bid_size=0.01, ask_size=0.01, sigma=2.0, A=3.0, k=0.4, gamma=0.1)
        t1 = time.perf_counter_ns()
        for i in range(n):
            j.fill(run, ts_ns=i, trade_id=f"T{i}", side="buy", price=1.0, amount=0.01, fee=0.0)
        t2 = time.perf_counter_ns()
        j.flush()
        t3 = time.perf_counter_ns()
        print(f"journal quote() call   {(t1 - t0) / n:8.0f} ns/record (queue append, no I/O)")
        print(f"journal fill() call    {(t2 - t1) / n:8.0f} ns/record")
        rate = 2 * n / ((t3 - t2) / 1e9)
        print(f"journal writer         {rate:8,.0f} records/s ({2 * n} records, {j.stats().transactions} transaction(s))")
        j.close()


def reports(n_mids: int = 1_000_000, n_fills: int = 100_000) -> None:
    rng = np.random.default_rng(1)
    rec = RunRecorder(instrument="BTC-PERPETUAL")
    ts = np.arange(n_mids, dtype=np.int64) * 10_000_000 + 1_700_000_000_000_000_000
    mids = 65_000 + np.cumsum(rng.normal(0, 1, n_mids))
    t0 = time.perf_counter()
    for t, m in zip(ts.tolist(), mids.tolist(), strict=True):
        rec.on_mid(t, m)
    t1 = time.perf_counter()
    fill_idx = np.sort(rng.choice(n_mids, n_fills, replace=False))
    for i in fill_idx.tolist():
        side = 1 if rng.random() < 0.5 else -1
        rec.on_fill(int(ts[i]), side, float(mids[i]) - side, 0.01, 0.0)
    record = rec.finish(events=n_mids)
    t2 = time.perf_counter()
    compute_summary(record)
    t3 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        write_report(record, d)
    t4 = time.perf_counter()
    print(f"RunRecorder.on_mid     {(t1 - t0) / n_mids * 1e9:8.0f} ns/call")
    print(f"compute_summary        {t3 - t2:8.2f} s ({n_mids:,} mids, {n_fills:,} fills)")
    print(f"write_report           {t4 - t3:8.2f} s (summary.json + report.html)")


if __name__ == "__main__":
    journal(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000)
    reports()
