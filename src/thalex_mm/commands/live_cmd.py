"""``thalex-mm live --network test|prod``: trade on Thalex with a key from the environment."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from thalex_mm.config import load_config, load_credentials
from thalex_mm.errors import ConfigError
from thalex_mm.protocol.constants import network_url

__all__ = ["add_arguments", "run"]

CONFIRM_FLAG = "--i-understand-this-trades-real-money"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--network", choices=("test", "prod"), required=True, help="Thalex testnet or production")
    parser.add_argument("--config", metavar="FILE", help="TOML config file")
    parser.add_argument("--url", help="any Thalex-protocol endpoint instead (e.g. a running `thalex-mm sim`)")
    parser.add_argument("--db", metavar="PATH", help="journal file (default: monitoring.journal_path)")
    parser.add_argument("--duration", type=float, default=None, metavar="SECONDS", help="stop after this many seconds")
    parser.add_argument(CONFIRM_FLAG, dest="confirmed", action="store_true", help="required for --network prod")


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
        creds = load_credentials()
    except ConfigError as exc:
        for line in exc.lines():
            print(line, file=sys.stderr)
        return 2
    if args.network == "prod" and not args.confirmed and not args.url:
        print(f"refusing to trade on production without {CONFIRM_FLAG}", file=sys.stderr)
        return 2
    url = args.url or network_url(args.network)
    r = config.risk
    print(f"network     {args.network} ({url})")
    print(f"account     {config.market.account or '(key default)'}  key {creds.key_id}")
    print(f"instrument  {config.market.instrument}  sizes {list(config.order.sizes)}  levels {config.order.levels}")
    print(f"limits      position soft/hard {r.position_soft_limit}/{r.position_hard_limit}  max order {r.max_order_size}  "
          f"max notional {r.max_notional_usd} USD  session loss {r.session_loss_limit_usd} USD")
    return asyncio.run(_run(config, url, creds, args))


async def _run(config, url, creds, args) -> int:
    from thalex_mm.core.market_maker import MarketMakerCore
    from thalex_mm.drivers.monitoring_wiring import start_monitoring
    from thalex_mm.drivers.quoter import AvellanedaQuoter
    from thalex_mm.drivers.session_log import SessionLog
    from thalex_mm.store import open_journal

    journal = open_journal(args.db or config.monitoring.journal_path)
    run_id = journal.start_run("live", config)
    hub, stop_dashboard, dash_url = await start_monitoring(config.monitoring)
    if dash_url:
        print(f"dashboard   {dash_url}")
    log = SessionLog(journal, run_id, quote_sample_interval_s=config.monitoring.quote_sample_interval_s, hub=hub)
    core = MarketMakerCore(config)
    quoter = AvellanedaQuoter(config, url, creds, core, on_command=log.on_command, on_event=log.on_event)
    if hub is not None:
        hub.set_kill_switch(lambda: quoter.press_kill_switch("dashboard"))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, quoter.request_stop, "signal")
    runner = asyncio.create_task(quoter.run())
    started = loop.time()
    try:
        while not runner.done():
            await asyncio.wait({runner}, timeout=1.0)
            status = core.status()
            log.drain(core.drain_records(), status.ts_ns)
            log.sample(status)
            if hub is not None:
                hub.publish(status, quoter.stats, log.totals)
            if args.duration is not None and loop.time() - started >= args.duration:
                quoter.request_stop("duration reached")
        reason = await runner
    finally:
        journal.finish_run(run_id, "stopped" if not runner.done() else runner.result())
        journal.close()
        await stop_dashboard()
    s = core.status()
    print(f"exit: {reason}; fills {s.fills}, volume {s.volume:.3f}, PnL {s.pnl_total:+.2f} USD, position {s.position:+.3f}")
    return 0 if not reason.startswith("fatal") else 1
