"""Default config on every shared recorded session: the issue-13 goals table.

Runs the real backtester (``thalex_mm.backtest.api.run_backtest``, same path as
``thalex-mm backtest``) once per session, with the DEFAULT config (or ``--config F``) plus any
``--set section.key=value`` overrides, online calibration only, and prints per session:

    PnL (quote ccy), PnL per traded notional (bps), 10 s markout (quote ccy per unit and bps
    of price), fills, max |position| (and the soft limit), two-sided quote uptime, and the
    intensity calibration figures of the session's last status (A, k per tick, confidence,
    fraction of the time fitted values were used).

and an aggregate line: total PnL / total notional (bps), notional-weighted 10 s markout (bps).
Goals (issue 13): bps >= 0 on every session with fills, aggregate markout >= 0, max |position|
<= soft limit, two-sided uptime >= 95 %.

Sessions are read from ``$THALEX_MM_DATA_DIR`` or ``../shared/data``; a session whose files are
absent is skipped with the reason printed.

Usage: ``.venv/bin/python benchmarks/calibration_sessions.py [--config F] [--set K=V ...]
[--only LABEL ...] [--json OUT] [--latency-ms MS] [--queue-model NAME]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from thalex_mm.backtest.api import run_backtest
from thalex_mm.backtest.runner import BacktestSettings
from thalex_mm.backtest.sweep import apply_overrides, parse_grid
from thalex_mm.config.loader import load_config

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("THALEX_MM_DATA_DIR", REPO / ".." / "shared" / "data"))
BTC = "binance_usdm_btcusdt_perp_l2_trades"
SESSIONS: dict[str, list[str]] = {
    "BTCUSDT-2023": [f"{BTC}/usdm_btcusdt_20230404.dat.gz", f"{BTC}/usdm_btcusdt_20230405.dat.gz"],
    "BTCUSDT-2024": [f"{BTC}/usdm_btcusdt_20240718.gz", f"{BTC}/usdm_btcusdt_20240719.gz"],
    "ETHUSDT-2024": ["binance_usdm_ethusdt_perp_l2_trades/usdm_ethusdt_20240808.gz"],
    "ETHUSD-CM-2024": ["binance_coinm_ethusd_perp_l2_trades/cm_ethusd_perp_20240808.gz",
                       "binance_coinm_ethusd_perp_l2_trades/cm_ethusd_perp_20240809.gz"],
}


def _fmt(v, spec: str) -> str:
    return "n/a" if v is None else format(v, spec)


def run(config, only: list[str] | None, settings: BacktestSettings | None = None) -> list[dict]:
    rows: list[dict] = []
    for label, files in SESSIONS.items():
        if only and label not in only:
            continue
        paths = [DATA / f for f in files]
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            print(f"{label}: skipped, data absent ({', '.join(missing)})", file=sys.stderr)
            continue
        out = run_backtest([str(p) for p in paths], config, settings)
        s = out.summary
        price = None
        res = out.sessions[0][2] if out.sessions else None
        notional = s.get("notional_volume") or 0.0
        volume = s.get("volume") or 0.0
        if volume > 0:
            price = notional / volume
        mk = s.get("markout_10s")
        row = {
            "session": label,
            "pnl": s.get("pnl_total"),
            "notional": notional,
            "bps": (s["pnl_total"] / notional * 1e4) if notional > 0 else None,
            "markout_10s": mk,
            "markout_10s_bps": (mk / price * 1e4) if (mk is not None and price) else None,
            "fills": s.get("fills"),
            "max_abs_position": s.get("max_abs_position"),
            # the limit the core resolved for this instrument (relative default) or the config's
            "soft_limit": (s.get("calibration") or {}).get("position_soft_limit") or config.risk.position_soft_limit,
            "order_size": (s.get("calibration") or {}).get("order_size"),
            "two_sided": s.get("quote_uptime"),
            "calibration": s.get("calibration"),
            "tick": getattr(res, "tick_size", None),
        }
        rows.append(row)
    return rows


def show(rows: list[dict]) -> None:
    head = (f"{'session':<15} {'pnl':>9} {'notional':>10} {'bps':>7} {'mk10s':>8} {'mk10s_bps':>9} "
            f"{'fills':>6} {'max|pos|':>9} {'soft':>6} {'uptime2':>7}  calibration")
    print(head)
    for r in rows:
        cal = r.get("calibration") or {}
        cal_s = ""
        if cal:
            cal_s = (f"A={_fmt(cal.get('A_per_s'), '.3g')}/s k={_fmt(cal.get('k_per_tick'), '.3g')}/tick "
                     f"conf={_fmt(cal.get('intensity_confidence'), '.2f')} "
                     f"fitted={_fmt(cal.get('intensity_fitted_fraction'), '.2f')}")
        print(f"{r['session']:<15} {_fmt(r['pnl'], '9.3f')} {r['notional']:>10.0f} {_fmt(r['bps'], '7.3f')} "
              f"{_fmt(r['markout_10s'], '8.4f')} {_fmt(r['markout_10s_bps'], '9.3f')} {r['fills']:>6} "
              f"{_fmt(r['max_abs_position'], '9.4g')} {_fmt(r['soft_limit'], '6.4g')} {_fmt(r['two_sided'], '7.3f')}  {cal_s}")
    notional = sum(r["notional"] for r in rows)
    pnl = sum(r["pnl"] or 0.0 for r in rows)
    mk = [(r["markout_10s_bps"], r["notional"]) for r in rows if r["markout_10s_bps"] is not None]
    mk_bps = sum(v * w for v, w in mk) / sum(w for _, w in mk) if mk and sum(w for _, w in mk) else None
    print(f"{'aggregate':<15} {pnl:9.3f} {notional:>10.0f} {_fmt(pnl / notional * 1e4 if notional else None, '7.3f')} "
          f"{'':>8} {_fmt(mk_bps, '9.3f')}")
    goals = {
        "bps>=0 on every session with fills": all((r["bps"] or 0) >= 0 for r in rows if r["fills"]),
        "every session has fills": all(r["fills"] for r in rows),
        "aggregate 10s markout >= 0": mk_bps is not None and mk_bps >= 0,
        "max|pos| <= soft limit": all(r["soft_limit"] is not None and (r["max_abs_position"] or 0) <= r["soft_limit"] + 1e-6
                                      for r in rows),
        "two-sided >= 95%": all((r["two_sided"] or 0) >= 0.95 for r in rows),
    }
    for k, ok in goals.items():
        print(f"goal {k}: {'met' if ok else 'NOT met'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", default=None, help="BOT_CONFIG TOML (default: the defaults)")
    ap.add_argument("--set", action="append", default=[], metavar="K=V",
                    help="override one config key, e.g. quoting.fade_enabled=false")
    ap.add_argument("--only", nargs="*", default=None, help="session labels to run")
    ap.add_argument("--json", default=None, help="write the rows as JSON here")
    ap.add_argument("--latency-ms", type=float, default=5.0, help="order and response latency, ms (default 5)")
    ap.add_argument("--queue-model", default="risk_averse", help="queue model (default risk_averse)")
    args = ap.parse_args()
    config = load_config(args.config, env={})
    overrides = {}
    for item in args.set:
        key, values = parse_grid(item)  # section.key=value (numbers and booleans parsed)
        overrides[key] = values[0]
    if overrides:
        config = apply_overrides(config, overrides)
    settings = BacktestSettings(order_latency_ms=args.latency_ms, response_latency_ms=args.latency_ms,
                                queue_model=args.queue_model)
    rows = run(config, args.only, settings)
    if not rows:
        print(f"no shared session found under {DATA} (set THALEX_MM_DATA_DIR): nothing measured")
        return
    show(rows)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
