"""Backtest throughput side by side with hftbacktest, same session, same run.

Both replay the shared 2024 BTCUSDT perpetual session (``usdm_btcusdt_20240718.gz`` +
``usdm_btcusdt_20240719.gz``, one continuous capture, ≈ 8 min) with a market maker on top:

* **thalex-mm**: ``run_session`` with the default config (quoter at 100 ms minimum requote)
  and the default settings (market data to the core in 1 ms batches, 5/5 ms latencies,
  risk-averse queue): the code of ``backtest_throughput.py``. Wall time = tape precompute +
  event loop (cached load reported apart). Events = the rows of thalex-mm's market array
  (one per book level update, trade print, or book clear).
* **hftbacktest** (Rust core, ``HashMapMarketDepthBacktest``, no-partial-fill exchange,
  5/5 ms latencies, risk-averse queue): the numba GLFT strategy of ``reference_glft.py``,
  woken every 1 ms (``hbt.elapse(1 ms)``) and acting every 100 ms; after its JIT warm-up.
  Wall time = the strategy call (hftbacktest reads its npz files inside it). Events = the
  rows of hftbacktest's own converted data (one per depth level update, trade, depth clear
  or snapshot level).

The two converters split the same raw capture into nearly the same rows (the counts are
printed; they differ by ~1 %: hftbacktest adds its snapshot as 4,000 rows and keeps a few
trades thalex-mm drops as duplicates). So the ratio is given both ways: events/s over
events/s, and hftbacktest's wall time over thalex-mm's for the same session (the fairer one:
same market data, same simulated span).

Usage: ``python benchmarks/backtest_vs_hftbacktest.py [--repeat N] [--window-s S]``
(needs the optional ``bench`` extra: ``pip install -e '.[bench]'``; the shared data in
``$THALEX_MM_DATA_DIR`` or ``../shared/data``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

try:
    import hftbacktest
    import numba
except ImportError:
    sys.stderr.write("backtest_vs_hftbacktest: needs the optional 'bench' extra (hftbacktest, "
                     "numba): pip install -e '.[bench]'\n")
    sys.exit(2)

import numpy as np

import thalex_mm.backtest.runner as runner_module
import thalex_mm.core.market_maker as core_module
from backtest_throughput import best_run
from reference_glft import contract_usd, reference_sizes, run_reference, to_npz, warm_up
from thalex_mm.backtest.runner import DEFAULT_BATCH_MS, BacktestSettings
from thalex_mm.backtest.tape import infer_tick_size
from thalex_mm.config.models import BotConfig
from thalex_mm.data import load_events

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("THALEX_MM_DATA_DIR", REPO / ".." / "shared" / "data"))
SESSION = [DATA / "binance_usdm_btcusdt_perp_l2_trades" / n
           for n in ("usdm_btcusdt_20240718.gz", "usdm_btcusdt_20240719.gz")]
_NS = 1_000_000_000
_SUB_STEPS = 100  # 100 ms strategy step / 100 = the strategy wakes every 1 ms


def build_mode() -> str:
    """'compiled' when the core and the backtest loop run as extension modules, else 'pure
    Python' (the modules' files say which: ``.py`` or a compiled ``.so``/``.pyd``)."""
    compiled = [not m.__file__.endswith(".py") for m in (core_module, runner_module)
                if m.__file__]
    if compiled and all(compiled):
        return "compiled"
    return "pure Python" if not any(compiled) else "partly compiled"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per side; the fastest counts")
    ap.add_argument("--window-s", type=float, default=60.0,
                    help="the reference's calibration window, s (as reference_glft.py)")
    args = ap.parse_args()
    missing = [str(p) for p in SESSION if not p.is_file()]
    if missing:
        sys.stderr.write(f"backtest_vs_hftbacktest: skipped: shared data missing: "
                         f"{', '.join(missing)} (set THALEX_MM_DATA_DIR)\n")
        return 0
    config = BotConfig()
    settings = BacktestSettings()
    assert settings.batch_ms == DEFAULT_BATCH_MS == 1.0

    t = time.perf_counter()
    events = load_events([str(p) for p in SESSION])
    load_s = time.perf_counter() - t
    start, end = int(events["exch_ts"][0]), int(events["exch_ts"][-1])
    trade_from = start + round(args.window_s * _NS)
    tick = infer_tick_size(events[events["exch_ts"] < trade_from])
    inverse_usd = contract_usd(SESSION[0])
    qty, limit, _ = reference_sizes(events, trade_from, tick, config, settings, inverse_usd)
    npz = [to_npz(p) for p in SESSION]
    warm_up(npz[0], tick, _SUB_STEPS)

    ref_best = None
    for _ in range(max(1, args.repeat)):
        t = time.perf_counter()
        ref, _, rate = run_reference(npz, tick, config, args.window_s, (end - start) / _NS + 5,
                                     trade_from, end, qty, limit, inverse_usd, _SUB_STEPS)
        whole = time.perf_counter() - t
        if ref_best is None or rate > ref_best[1]:
            ref_best = (ref, rate, whole)
    assert ref_best is not None
    ref, ref_rate, ref_whole = ref_best
    ref_rows = sum(len(np.load(p)["data"]) for p in npz)
    ref_s = ref_rows / ref_rate

    ours = best_run(events, config, settings, args.repeat)
    ours_s = ours.tape_seconds + ours.loop_seconds
    ours_rate = ours.rows / ours_s

    span_s = (end - start) / _NS
    print(f"session 2024-07-18/19 BTCUSDT ({span_s:.0f} s simulated); best of {args.repeat} "
          f"per side; thalex-mm {build_mode()}; Python {sys.version.split()[0]}, CPU "
          f"{os.cpu_count()} cores")
    print(f"  hftbacktest {hftbacktest.__version__} (numba {numba.__version__}), GLFT woken "
          f"every 1 ms: {ref_rows:,} rows in {ref_s:.3f} s => {ref_rate:,.0f} events/s "
          f"(with asset build and metrics {ref_whole:.3f} s); fills {ref['fills']:.0f}")
    print(f"  thalex-mm, 1 ms batches, quoter at 100 ms: {ours.rows:,} rows in {ours_s:.3f} s "
          f"(tape {ours.tape_seconds:.3f} + loop {ours.loop_seconds:.3f}) => {ours_rate:,.0f} "
          f"events/s (cached load {load_s:.3f} s apart); batches {ours.batches:,}, core "
          f"events {ours.core_events:,}, commands {ours.commands:,}")
    print(f"  ratio thalex-mm / hftbacktest: events/s {ours_rate / ref_rate:.3f}x; "
          f"same session by wall time {ref_s / ours_s:.3f}x "
          f"(target >= 0.4x, moonshot >= 1x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
