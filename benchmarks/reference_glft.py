"""A reference market maker side by side with thalex-mm, on the same sessions and the same world.

The reference is the GLFT strategy of hftbacktest's tutorial "Guéant–Lehalle–Fernandez-Tapia
Market Making Model and Grid Trading", written here from the tutorial's description (not
copied) as a numba function and run in **hftbacktest** (PyPI, the optional ``bench`` extra:
``pip install -e '.[bench]'``). Every 100 ms step it:

* records the mid change (ticks) and the deepest trade print of the step relative to the mid
  at the start of the step (ticks);
* every 5 s, over a rolling window (``--window-s``, default 60 s = thalex-mm evaluate's
  calibration window; the tutorial uses 10 min, longer than some of these sessions):
  σ = std of the 100 ms mid changes · √10 (ticks per √s); the trading intensity λ(δ) per depth
  level δ = 0.5, 1.5, … ticks = the number of steps whose deepest print went beyond δ (a
  quote at the print's own price is not counted as filled), per second;
  ``log λ = log A − k δ`` by least squares over at most 70 levels with λ > 0; then the
  coefficients of Guéant et al. (eq. 4.6/4.7 with ξ = γ, Δ = 1)
  ``c1 = 1/(ξΔ) · log(1 + ξΔ/k)`` and ``c2 = sqrt(γ / (2AΔk) · (1 + ξΔ/k)^(k/(ξΔ) + 1))``;
* quotes one level per side (thalex-mm's default ``quoting.levels = 1``; the tutorial's grid
  is this with more levels): half spread ``(c1 + Δ/2 · c2 · σ) · adj1``, skew
  ``c2 · σ · adj2`` per order-size of inventory (γ = 0.05, adj1 = 1, adj2 = 0.05 as in the
  tutorial), post-only, never inside the touch; no quotes before the first calibration;
  order size and position limit are thalex-mm's, resolved for the session's instrument at the
  price where trading starts (``order.size_notional`` / price and ``risk.soft_limit_orders``
  order sizes unless set: docs/model.md §9).

The same world for both: 5 ms order-entry and 5 ms response latency; risk-averse queue model;
feed latency from the recorded receive times (hftbacktest's converter shifts them by the most
negative receive − exchange offset, thalex-mm's tape by the median offset plus 1 ms);
thalex-mm's fee rates (``avellaneda.maker_fee_rate`` / ``taker_fee_rate``) as a
trading-value fee model; tick size inferred from the calibration window. hftbacktest uses its
**no-partial-fill exchange**: 2.4.4's partial-fill exchange does not book partial fills into
the position. thalex-mm runs as ``thalex-mm evaluate`` does (calibration window, then trading).
Both are measured over the same trading window (session start + ``--window-s`` to the end)
with the same code (``thalex_mm.evaluation.blocks``): PnL (mark-to-mid, after fees), PnL in bps
of traded notional, markouts (bps of notional, amount-weighted, per side), volume, fills; and
rows per second of wall time (hftbacktest after its JIT warm-up; thalex-mm tape + loop).

Data: the Binance USDT-M sessions in ``$THALEX_MM_DATA_DIR`` or ``../shared/data``, converted
with hftbacktest's own converter (``hftbacktest.data.utils.binancefutures.convert``) into npz
files in ``$THALEX_MM_CACHE_DIR/hftbacktest`` (default ``~/.cache/thalex-mm/hftbacktest``),
never into the repository (2023 captures have µs receive times: they are rewritten to ns
first, the converter reads 19 digits). COIN-M (inverse) sessions run in hftbacktest as an
``inverse_asset`` of the symbol's contract value (ETHUSD 10 USD, BTCUSD 100 USD): orders are
whole contracts (thalex-mm's size in the base currency converted at the price where trading
starts, at least one), fills are converted back to the base currency for the shared metrics,
and its own PnL (base currency) is shown at the last mid.

Usage: ``python benchmarks/reference_glft.py [--window-s 60] [--sessions LABEL…]``
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import os
import re
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

try:
    import hftbacktest
    from hftbacktest import BUY_EVENT, GTX, LIMIT, BacktestAsset, HashMapMarketDepthBacktest
    from hftbacktest.data.utils import binancefutures
    from numba import njit
except ImportError:
    sys.stderr.write("reference_glft: needs the optional 'bench' extra (hftbacktest, numba): "
                     "pip install -e '.[bench]'\n")
    sys.exit(2)

from thalex_mm.backtest.runner import BacktestSettings
from thalex_mm.backtest.sessions import group_sessions
from thalex_mm.backtest.tape import infer_tick_size
from thalex_mm.config.models import BotConfig
from thalex_mm.core.instrument_scale import resolve_for_instrument
from thalex_mm.core.types import Instrument
from thalex_mm.data import EventKind, load_events
from thalex_mm.data.binance import coinm_contract_usd
from thalex_mm.evaluation.blocks import block_sums, metrics_from_sums
from thalex_mm.evaluation.session_run import SessionTask, run_walkforward_session
from thalex_mm.reports import RunRecord

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("THALEX_MM_DATA_DIR", REPO / ".." / "shared" / "data"))
SESSION_DIRS = ("binance_usdm_btcusdt_perp_l2_trades", "binance_usdm_ethusdt_perp_l2_trades",
                "binance_coinm_ethusd_perp_l2_trades")
LATENCY_NS = 5_000_000
STEP_NS = 100_000_000
GAMMA, DELTA, ADJ1, ADJ2 = 0.05, 1.0, 1.0, 0.05
_NS = 1_000_000_000
_FILLED = 3


def contract_usd(path: Path) -> float | None:
    """USD value of one contract when the capture is a COIN-M (inverse) symbol, else None."""
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as fh:
        for _, line in zip(range(200), fh, strict=False):
            m = re.search(r'"s":"([A-Z0-9_]+)"', line)
            if m:
                return coinm_contract_usd(m.group(1))
    return None


def cache_dir() -> Path:
    base = os.environ.get("THALEX_MM_CACHE_DIR")
    root = Path(base) if base else Path.home() / ".cache" / "thalex-mm"
    return root / "hftbacktest"


def to_npz(path: Path) -> Path:
    """One capture converted by hftbacktest's converter (cached by name, size and mtime)."""
    st = path.stat()
    out = cache_dir() / f"{path.name}.{st.st_size}.{st.st_mtime_ns}.npz"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    src = path
    with gzip.open(path, "rb") as fh:
        first = fh.readline().partition(b" ")[0]
    if len(first) < 19:  # µs receive times: the converter reads 19 digits of ns
        src = out.with_suffix(".ns.gz")
        with gzip.open(path, "rb") as fin, gzip.open(src, "wb", compresslevel=1) as fout:
            for line in fin:
                head, sep, rest = line.partition(b" ")
                if head.isdigit() and len(head) < 19:
                    head = str(int(head) * 1000).encode()
                fout.write(head + sep + rest)
    with contextlib.redirect_stdout(io.StringIO()):  # the converter prints its steps
        binancefutures.convert(str(src), output_filename=str(out), combined_stream=True,
                               buffer_size=30_000_000)
    if src != path:
        src.unlink()
    return out


@njit
def _coefficients(xi, gamma, delta, A, k):
    inv_k = 1.0 / k
    c1 = 1.0 / (xi * delta) * np.log(1.0 + xi * delta * inv_k)
    c2 = np.sqrt(gamma / (2.0 * A * delta * k) * (1.0 + xi * delta * inv_k) ** (k / (xi * delta) + 1.0))
    return c1, c2


@njit
def _fit_intensity(depths, seconds):
    """(A per s, k per tick) of λ(δ) = A·exp(−kδ), δ = 0.5, 1.5, … ticks: steps whose deepest
    print went beyond δ, per second; NaN when fewer than 3 levels were reached."""
    counts = np.zeros(70)
    for d in depths:
        if not np.isfinite(d):
            continue
        for j in range(70):  # a quote at the print's own price may not fill: beyond only
            if d > j + 0.5 + 1e-9:
                counts[j] += 1.0
            else:
                break
    n = 0
    while n < 70 and counts[n] > 0:
        n += 1
    if n < 3:
        return np.nan, np.nan
    x = np.arange(n) + 0.5
    y = np.log(counts[:n] / seconds)
    xm, ym = x.mean(), y.mean()
    slope = ((x - xm) * (y - ym)).sum() / ((x - xm) ** 2).sum()
    return np.exp(ym - slope * xm), -slope


@njit
def _elapse(hbt, sub_steps):
    """Advance one strategy step (``STEP_NS``) in ``sub_steps`` equal parts, waking after each
    (1 ms parts match thalex-mm's 1 ms data batches: ``backtest_vs_hftbacktest.py``); False
    at the end of the data."""
    part = STEP_NS // sub_steps
    for _ in range(sub_steps):  # noqa: SIM110 (numba compiles no generator inside all())
        if hbt.elapse(part) != 0:
            return False
    return True


@njit
def glft(hbt, window, order_qty, max_position, steps_out, fills_out, calib_out, sub_steps=1):
    """The reference strategy (module docstring). Returns (steps, fills) recorded.

    ``sub_steps``: the strategy wakes ``sub_steps`` times per 100 ms step and acts on the last.
    """
    depth = hbt.depth(0)
    tick = depth.tick_size
    n = steps_out.shape[0]
    arrival = np.full(n, np.nan)
    mid_chg = np.full(n, np.nan)
    mid = np.nan
    c1 = c2 = vol = np.nan
    t = 0
    nf = 0
    oid = 1
    while t < n and _elapse(hbt, sub_steps):
        orders = hbt.orders(0)
        values = orders.values()
        while values.has_next():
            o = values.get()
            if o.status == _FILLED and nf < fills_out.shape[0]:
                fills_out[nf, 0] = o.exch_timestamp
                fills_out[nf, 1] = 1.0 if o.side == 1 else -1.0
                fills_out[nf, 2] = o.exec_price
                fills_out[nf, 3] = o.exec_qty
                nf += 1
        hbt.clear_inactive_orders(0)
        bb, ba = depth.best_bid_tick, depth.best_ask_tick
        prev = mid
        deepest = np.nan
        trades = hbt.last_trades(0)
        for i in range(len(trades)):
            px = trades[i].px / tick
            d = px - prev if (trades[i].ev & BUY_EVENT) == BUY_EVENT else prev - px
            if np.isfinite(d) and not (d <= deepest):
                deepest = d
        hbt.clear_last_trades(0)
        mid = (bb + ba) / 2.0
        arrival[t] = deepest
        mid_chg[t] = mid - prev
        steps_out[t, 0] = hbt.current_timestamp
        steps_out[t, 1] = mid * tick
        if t >= window and t % 50 == 0:
            chg = mid_chg[t + 1 - window:t + 1]
            vol = np.nanstd(chg) * np.sqrt(10.0)
            A, k = _fit_intensity(arrival[t + 1 - window:t + 1], window * 0.1)
            if np.isfinite(A) and np.isfinite(k) and k > 0:
                c1, c2 = _coefficients(GAMMA, GAMMA, DELTA, A, k)
                calib_out[0], calib_out[1], calib_out[2] = A, k, vol
        t += 1
        if not (np.isfinite(c1) and np.isfinite(vol)) or bb <= 0 or ba <= bb:
            continue
        q = hbt.position(0) / order_qty
        half = (c1 + DELTA / 2.0 * c2 * vol) * ADJ1
        skew = c2 * vol * ADJ2
        r = mid - skew * q
        bid = min(np.round(r - half), bb)
        ask = max(np.round(r + half), ba)
        have_bid = have_ask = False
        values = orders.values()
        while values.has_next():
            o = values.get()
            if o.status != 1:  # NEW: resting
                continue
            if o.side == 1:
                if o.price_tick == bid and hbt.position(0) < max_position:
                    have_bid = True
                else:
                    hbt.cancel(0, o.order_id, False)
            else:
                if o.price_tick == ask and hbt.position(0) > -max_position:
                    have_ask = True
                else:
                    hbt.cancel(0, o.order_id, False)
        if not have_bid and hbt.position(0) < max_position:
            hbt.submit_buy_order(0, oid, bid * tick, order_qty, GTX, LIMIT, False)
            oid += 1
        if not have_ask and hbt.position(0) > -max_position:
            hbt.submit_sell_order(0, oid, ask * tick, order_qty, GTX, LIMIT, False)
            oid += 1
    return t, nf


def _asset(data: list, tick: float, maker: float, taker: float, inverse_usd: float | None):
    """hftbacktest asset of the shared world; inverse (contracts of ``inverse_usd``) for COIN-M."""
    a = BacktestAsset().data(data)
    a = a.inverse_asset(inverse_usd) if inverse_usd else a.linear_asset(1.0)
    return (a.constant_order_latency(LATENCY_NS, LATENCY_NS).risk_adverse_queue_model()
            .no_partial_fill_exchange().trading_value_fee_model(maker, taker)
            .tick_size(tick).lot_size(1.0 if inverse_usd else 0.001).last_trades_capacity(10_000))


def run_reference(npz: list[Path], tick: float, config: BotConfig, window_s: float,
                  seconds: float, trade_from_ns: int, end_ns: int,
                  order_qty: float, max_position: float, inverse_usd: float | None = None,
                  sub_steps: int = 1) -> tuple[dict, np.ndarray, float]:
    """Order size and position limit in hftbacktest's units (contracts for inverse);
    ``sub_steps`` wake-ups per 100 ms step (see :func:`glft`)."""
    av = config.avellaneda
    asset = _asset([str(p) for p in npz], tick, av.maker_fee_rate, av.taker_fee_rate, inverse_usd)
    hbt = HashMapMarketDepthBacktest([asset])
    n = int(seconds / 0.1) + 10
    steps = np.zeros((n, 2))
    fills = np.zeros((100_000, 4))
    calib = np.full(3, np.nan)
    rows = sum(len(np.load(p)["data"]) for p in npz)
    t0 = time.perf_counter()
    t, nf = glft(hbt, int(window_s * 10), float(order_qty), float(max_position), steps, fills, calib,
                 sub_steps)
    wall = time.perf_counter() - t0
    sv = hbt.state_values(0)
    last_mid = steps[t - 1, 1]
    if inverse_usd:  # hftbacktest's inverse equity, base currency: −balance − size·position/price − fee
        own_pnl = (-sv.balance - sv.position * inverse_usd / last_mid - sv.fee) * last_mid
    else:
        own_pnl = sv.balance + sv.position * last_mid - sv.fee  # hftbacktest's own books
    hbt.close()
    steps, fills = steps[:t], fills[:nf].copy()
    if inverse_usd:  # contracts -> base currency at the fill price (the shared metrics' unit)
        fills[:, 3] = fills[:, 3] * inverse_usd / fills[:, 2]
    order = np.argsort(fills[:, 0], kind="stable")
    fills = fills[order]
    fee = av.maker_fee_rate * fills[:, 2] * fills[:, 3]  # post-only: every fill is a maker
    record = RunRecord(mid_ts_ns=steps[:, 0].astype(np.int64), mid_price=steps[:, 1],
                       fill_ts_ns=fills[:, 0].astype(np.int64),
                       fill_side=fills[:, 1].astype(np.int8), fill_price=fills[:, 2],
                       fill_amount=fills[:, 3], fill_fee_quote=fee,
                       fill_is_maker=np.ones(len(fills), dtype=bool),
                       start_ts_ns=trade_from_ns, end_ts_ns=end_ns)
    blocks = block_sums(record, 30.0)
    m = _metrics(blocks)
    m["A"], m["k"], m["sigma"] = (float(x) for x in calib)
    m["pnl_hftbacktest"] = float(own_pnl)
    return m, blocks, rows / wall if wall > 0 else float("nan")


def _metrics(blocks: np.ndarray) -> dict:
    return {k: float(v) for k, v in metrics_from_sums(blocks.sum(axis=0)).items()}


def reference_sizes(events: np.ndarray, trade_from: int, tick: float, config: BotConfig,
                    settings: BacktestSettings, inverse_usd: float | None
                    ) -> tuple[float, float, BotConfig]:
    """The reference's order size and position limit in hftbacktest's units (contracts of
    ``inverse_usd`` for COIN-M), resolved like thalex-mm's at the last print before
    ``trade_from``; and the resolved config thalex-mm will quote with."""
    trades = events[(events["kind"] == EventKind.TRADE) & (events["exch_ts"] < trade_from)]
    price = float(trades["price"][-1])  # the last print before trading starts
    vtick = settings.volume_tick_size
    inst = Instrument(name="REF", product="REF", tick_size=tick, volume_tick_size=vtick,
                      min_order_amount=vtick, underlying="REF")
    scaled = resolve_for_instrument(config, inst, price)  # what thalex-mm will quote with
    qty, limit = scaled.order.sizes[0], scaled.risk.position_soft_limit
    if inverse_usd:  # whole contracts of inverse_usd
        qty = max(1.0, round(qty * price / inverse_usd))
        limit = qty * scaled.risk.soft_limit_orders if config.risk.position_soft_limit is None \
            else max(qty, round(limit * price / inverse_usd))
    return float(qty), float(limit), scaled


def warm_up(npz: Path, tick: float, sub_steps: int = 1) -> None:
    """Compile the numba strategy on the first 20,000 rows (kept out of the timings)."""
    data = np.load(npz)["data"][:20_000].copy()
    hbt = HashMapMarketDepthBacktest([_asset([data], tick, 0.0, 0.0, None)])
    glft(hbt, 10, 0.01, 0.05, np.zeros((50, 2)), np.zeros((10, 4)), np.full(3, np.nan),
         sub_steps)
    hbt.close()


_COLS = ("pnl", "pnl_bps", "fills", "volume", "markout_1s_bps", "markout_10s_bps",
         "markout_60s_bps", "markout_10s_buy_bps", "markout_10s_sell_bps")


def _row(name: str, m: dict, rate: float) -> str:
    cells = " ".join(f"{m.get(c, float('nan')):>10.4g}" for c in _COLS)
    return f"  {name:<10} {cells} " + (f"{rate:>12,.0f}" if rate == rate else f"{'':>12}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--window-s", type=float, default=60.0,
                    help="calibration window of both (and the reference's rolling window), s")
    ap.add_argument("--sessions", nargs="*", default=None, help="only these session labels")
    args = ap.parse_args()
    dirs = [DATA / d for d in SESSION_DIRS if (DATA / d).is_dir()]
    if not dirs:
        sys.stderr.write(f"reference_glft: skipped: no shared Binance data under {DATA} "
                         "(set THALEX_MM_DATA_DIR)\n")
        return 0
    config = BotConfig()
    settings = BacktestSettings()  # 5 ms latencies, risk-averse queue, config fees
    print(f"hftbacktest {hftbacktest.__version__} (no-partial-fill exchange; 2.4.4's "
          "partial-fill exchange does not book partial fills into position), thalex-mm "
          f"default config; latency 5/5 ms, risk-averse queue, fees maker "
          f"{config.avellaneda.maker_fee_rate} taker {config.avellaneda.taker_fee_rate}; "
          f"calibration/rolling window {args.window_s:g} s; metrics over the trading window")
    print(f"  {'':<10} " + " ".join(f"{c[:10]:>10}" for c in _COLS) + f" {'rows/s':>12}")
    warmed = False
    pooled: dict[str, list[np.ndarray]] = {"reference": [], "thalex-mm": []}
    for sess in group_sessions([str(d) for d in dirs]):
        if args.sessions and sess.label not in args.sessions:
            continue
        events = load_events(list(sess.paths))
        start, end = int(events["exch_ts"][0]), int(events["exch_ts"][-1])
        trade_from = start + round(args.window_s * _NS)
        tick = infer_tick_size(events[events["exch_ts"] < trade_from])
        inverse_usd = contract_usd(Path(sess.paths[0]))
        qty, limit, scaled = reference_sizes(events, trade_from, tick, config, settings,
                                             inverse_usd)
        npz = [to_npz(Path(p)) for p in sess.paths]
        if not warmed:
            warm_up(npz[0], tick)
            warmed = True
        names = ", ".join(Path(p).name for p in sess.paths)
        unit = f"contracts of {inverse_usd:g} USD" if inverse_usd else "base"
        print(f"session {sess.label} ({names}; tick {tick:g}; trading "
              f"{(end - trade_from) / _NS:.0f} s; reference order {qty:g} / limit {limit:g} {unit}, "
              f"thalex-mm γ {scaled.avellaneda.gamma:g})")
        ref, ref_blocks, ref_rate = run_reference(npz, tick, config, args.window_s,
                                                  (end - start) / _NS + 5, trade_from, end,
                                                  qty, limit, inverse_usd)
        run = run_walkforward_session(SessionTask(
            point=0, session=0, label=sess.label, paths=tuple(sess.paths),
            config_json=config.model_dump(mode="json"), overrides={},
            settings=replace(settings, tick_size=tick), trade_from_ns=trade_from,
            block_s=30.0))
        ours = _metrics(run.blocks)
        pooled["reference"].append(ref_blocks)
        pooled["thalex-mm"].append(run.blocks)
        print(_row("reference", ref, ref_rate))
        print(_row("thalex-mm", ours, run.rows / run.wall_seconds if run.wall_seconds else 0))
        cal = run.calibration or {}
        print(f"    reference PnL by hftbacktest's own state: {ref['pnl_hftbacktest']:.4g}; "
              f"A={ref['A']:.4g}/s k={ref['k']:.4g}/tick σ={ref['sigma']:.4g} "
              f"tick/√s; thalex-mm A={cal.get('A')} k={cal.get('k')} σ={cal.get('sigma')} "
              f"({cal.get('intensity_source')})")
    if pooled["reference"]:
        print("all sessions (pooled: PnL and notional summed, markouts weighted by notional)")
        for name, blocks in pooled.items():
            print(_row(name, _metrics(np.concatenate(blocks)), float("nan")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
