"""``thalex-mm live --network test|prod``: trade on Thalex with a key from the environment.

Production needs :data:`CONFIRM_FLAG`: ``--network prod``, and any ``--url`` that is neither a
loopback address (a local ``thalex-mm sim``) nor the testnet host — the flag is checked before
anything connects.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import time
from urllib.parse import urlsplit

from thalex_mm.config import load_config, load_credentials
from thalex_mm.config.models import BotConfig, Network, is_loopback_host
from thalex_mm.errors import ConfigError
from thalex_mm.logging_setup import configure_logging
from thalex_mm.protocol.constants import PROD_URL, TEST_URL, network_url
from thalex_mm.store.scrub import scrub_text

__all__ = ["CONFIRM_FLAG", "JOURNAL_HANDOVER_S", "add_arguments", "journal_network", "production_reason", "run"]

CONFIRM_FLAG = "--i-understand-this-trades-real-money"

#: How often the live loop hands the core's fills, risk events and PnL to the journal, seconds.
#: With the journal writer's 0.2 s commit interval a kill -9 loses at most the last ~0.7 s of
#: records (see ``thalex_mm.store.journal``); the dashboard is still published once a second.
JOURNAL_HANDOVER_S = 0.5
_PUBLISH_INTERVAL_S = 1.0

log = logging.getLogger("thalex_mm.live")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--network", choices=("test", "prod"), required=True, help="Thalex testnet or production")
    parser.add_argument("--config", metavar="FILE", help="TOML config file")
    parser.add_argument("--url", help="any Thalex-protocol endpoint instead (e.g. a running `thalex-mm sim`)")
    parser.add_argument("--db", metavar="PATH", help="journal file (default: monitoring.journal_path)")
    parser.add_argument("--duration", type=float, default=None, metavar="SECONDS", help="stop after this many seconds")
    parser.add_argument("--dashboard-port", type=_port, default=None, metavar="PORT",
                        help="dashboard port (default: monitoring.dashboard_port; 0 = any free port)")
    parser.add_argument(CONFIRM_FLAG, dest="confirmed", action="store_true",
                        help="required for --network prod and for any --url that is not loopback or testnet")


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"got {text!r}, expected a port number 0..65535 (0 = any free port)")
    return port


def production_reason(network: str, url: str | None) -> str | None:
    """Why ``live`` with this ``--network``/``--url`` may trade real money, or None when it cannot.

    Production is ``--network prod``, the production URL, or any URL whose host is neither a
    loopback address (127.0.0.0/8, ::1, localhost) nor the testnet host; an unparsable URL
    counts as production.

    Args:
        network: ``"test"`` or ``"prod"``.
        url: the ``--url`` override, or None.

    Returns:
        A short reason for the refusal message, or None.
    """
    if network == "prod":
        return "--network prod"
    if url is None:
        return None
    shown = scrub_text(url)
    try:
        host = urlsplit(url).hostname
    except ValueError:
        host = None
    if url.rstrip("/") == PROD_URL or host == urlsplit(PROD_URL).hostname:
        return f"--url {shown} is the production endpoint"
    if host is not None and (is_loopback_host(host) or host == urlsplit(TEST_URL).hostname):
        return None
    return f"--url {shown} is not a loopback or testnet address"


def journal_network(network: str, url: str | None) -> str:
    """What the journal records as the run's network: ``test``/``prod`` for the standard
    endpoints, else the URL itself (the journal masks any password in it)."""
    if url is None or url.rstrip("/") == network_url(network):
        return network
    if url.rstrip("/") == PROD_URL:
        return "prod"
    if url.rstrip("/") == TEST_URL:
        return "test"
    return url


def _effective_config(config: BotConfig, network: str, url: str | None) -> BotConfig:
    """The config as this run uses it: market.network/url from the command line (so the
    journal's config snapshot names the venue actually traded)."""
    market = config.market.model_copy(update={"network": Network(network), "url": url})
    return config.model_copy(update={"market": market})


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
        configure_logging(config.monitoring)
        creds = load_credentials()
    except ConfigError as exc:
        for line in exc.lines():
            print(scrub_text(line), file=sys.stderr)
        return 2
    reason = production_reason(args.network, args.url)
    if reason is not None and not args.confirmed:
        print(f"refusing to trade on production without {CONFIRM_FLAG} ({reason})", file=sys.stderr)
        return 2
    url = args.url or network_url(args.network)
    config = _effective_config(config, args.network, args.url)
    r = config.risk
    print(f"network     {args.network} ({scrub_text(url)})")
    print(f"account     {config.market.account or '(key default)'}  key {creds.key_id}")
    o = config.order
    sizes = list(o.sizes) if o.sizes is not None else f"{o.size_notional:g} USD notional each (at the price)"
    soft = r.position_soft_limit if r.position_soft_limit is not None else f"{r.soft_limit_orders:g} orders"
    hard = r.position_hard_limit if r.position_hard_limit is not None else f"{r.hard_limit_orders:g} orders"
    print(f"instrument  {config.market.instrument}  sizes {sizes}  levels {o.levels}")
    print(f"limits      position soft/hard {soft}/{hard}  max order {r.max_order_size or 'hard limit'}  "
          f"max notional {r.max_notional_usd} USD  session loss {r.session_loss_limit_usd} USD")
    return asyncio.run(_run(config, url, creds, args))


async def _run(config, url, creds, args) -> int:
    from thalex_mm.core.market_maker import MarketMakerCore
    from thalex_mm.drivers.monitoring_wiring import start_monitoring
    from thalex_mm.drivers.paper import PaperResult
    from thalex_mm.drivers.quoter import AvellanedaQuoter
    from thalex_mm.drivers.session_log import SessionLog
    from thalex_mm.store import open_journal

    journal = open_journal(args.db or config.monitoring.journal_path)
    network = journal_network(args.network, args.url)
    await _recover_crashed_runs(journal, config, url, creds, network=network)
    run_id = journal.start_run("live", config, network=network)
    hub, stop_dashboard, dash_url = await start_monitoring(config.monitoring, port=args.dashboard_port)
    if dash_url:
        print(f"dashboard   {dash_url}")
    log = SessionLog(journal, run_id, quote_sample_interval_s=config.monitoring.quote_sample_interval_s, hub=hub,
                     instrument=config.market.instrument)
    core = MarketMakerCore(config)
    quoter = AvellanedaQuoter(config, url, creds, core, on_command=log.on_command, on_event=log.on_event,
                               latency=getattr(hub, "metrics", None))
    if hub is not None:
        hub.set_kill_switch(lambda: quoter.press_kill_switch("dashboard"))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, quoter.request_stop, "signal")
    runner = asyncio.create_task(quoter.run())
    started = loop.time()
    reason = "stopped"
    next_publish = started
    try:
        while not runner.done():
            await asyncio.wait({runner}, timeout=JOURNAL_HANDOVER_S)
            status = core.status()
            log.drain(core.drain_records(), status.ts_ns)
            log.sample(status)
            if hub is not None and loop.time() >= next_publish:
                next_publish = loop.time() + _PUBLISH_INTERVAL_S
                hub.publish(status, quoter.stats, log.totals)
            if args.duration is not None and loop.time() - started >= args.duration:
                quoter.request_stop("duration reached")
        reason = await runner
    finally:
        try:  # the last records, and fills still waiting for their trade's fee
            last = core.status()
            log.drain(core.drain_records(), last.ts_ns)
            log.finish(last.ts_ns)
        finally:
            journal.finish_run(run_id, "stopped" if not runner.done() else runner.result())
        journal.close()
        await stop_dashboard()
    s = core.status()
    t = log.totals
    summary = PaperResult(
        exit_reason=reason, seconds=loop.time() - started, fills=s.fills, volume=s.volume,
        pnl_realised=s.pnl_realised, pnl_unrealised=s.pnl_unrealised, fees=s.fees, pnl_total=s.pnl_total,
        funding=s.funding, position=s.position, max_abs_position=max(t.max_abs_position, s.max_abs_position, abs(s.position)),
        quote_steps=s.quote_steps, inserts=t.inserts, amends=t.amends, cancels=t.cancels, rejects=s.rejects,
        reconnects=quoter.stats.reconnects, open_orders_after=len(s.open_orders), run_id=run_id,
    )
    # "open orders left": the orders the core still knew of at exit (after the shutdown's
    # confirmed cancel_session, normally 0; the exchange's cancel-on-disconnect covers the rest).
    for line in summary.lines():
        print(line)
    return 0 if not reason.startswith("fatal") else 1


async def _recover_crashed_runs(journal, config, url, creds, *, network: str | None = None) -> None:
    """Close the live runs of this journal whose process died (kill -9, power loss) and
    journal the fills they missed.

    Only runs of the same instrument, account and network whose process is gone count
    (:func:`thalex_mm.store.recovery.crashed_runs`: the run row's pid is not alive on this
    host); another bot still running on the same journal keeps its run open.

    A run journals fills about once a second, so a crash loses the last ones. Before the new
    run starts, the exchange's ``private/trade_history`` fills the gap: every trade of the
    instrument since the oldest unfinished run started whose trade id the journal does not
    hold yet is journaled into the unfinished run that was running at its time. Each such run
    is then finished with exit reason ``crashed``, stopped at its last journaled record. Any
    failure here is logged and skipped: recovery bookkeeping must not stop trading.
    """
    from thalex_mm.drivers.ws_session import WsSession
    from thalex_mm.protocol import requests as rq
    from thalex_mm.protocol.auth import make_login_token
    from thalex_mm.protocol.decoder import parse_account_trade
    from thalex_mm.store.recovery import config_identity, crashed_runs

    ident = config_identity(config)
    if network is not None:
        ident["network"] = network
    crashed = crashed_runs(journal, mode="live", **ident)
    if not crashed:
        return
    known = journal.trade_ids(since_ns=0)
    instrument = config.market.instrument
    recovered: dict[str, int] = {r.run_id: 0 for r in crashed}
    session = WsSession(url, lambda _event: None, request_timeout_s=config.connection.request_timeout_s,
                        ping_interval_s=config.connection.ping_interval_s)
    try:
        await session.open()
        listener = asyncio.create_task(session.listen())
        try:
            token = make_login_token(creds.key_id, creds.private_key.reveal(), time.time())
            await session.call(rq.login, token, config.market.account)
            del token
            result = await session.call(rq.trade_history, limit=1000, time_low=crashed[0].started_ns / 1e9,
                                        sort="ascending", instrument_names=instrument)
        finally:
            listener.cancel()
            await session.close()
        raw = result.get("trades", []) if isinstance(result, dict) else (result or [])
        for item in raw:
            trade = parse_account_trade(item)
            if trade.instrument != instrument or trade.trade_type != "normal" or trade.trade_id in known:
                continue
            owner = [r for r in crashed if r.started_ns <= trade.ts_ns]
            if not owner:
                continue
            known.add(trade.trade_id)
            recovered[owner[-1].run_id] += 1
            journal.fill(owner[-1].run_id, ts_ns=trade.ts_ns, trade_id=trade.trade_id, side=trade.side.value,
                         price=trade.price, amount=trade.amount, fee=trade.fee, maker_taker=trade.maker_taker,
                         client_order_id=trade.client_order_id, order_id=trade.order_id,
                         position_after=trade.position_after)
    except Exception as exc:  # never let bookkeeping stop the bot; the runs still get closed
        log.warning("crash recovery: could not read the exchange's trade history: %s: %s", type(exc).__name__, exc)
    for r in crashed:
        last = journal.last_record_ns(r.run_id)
        journal.finish_run(r.run_id, f"crashed (process {r.pid} gone; {recovered[r.run_id]} missed fills "
                                     "recovered from the exchange's trade history)",
                           stopped_ns=r.started_ns if last is None else max(last, r.started_ns))
        print(f"recovered   run {r.run_id}: crashed, {recovered[r.run_id]} missed fills journaled")
