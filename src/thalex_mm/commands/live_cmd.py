"""``thalex-mm live --network test|prod``: trade on Thalex with a key from the environment.

This module only reads and checks the command line; the run is ``thalex_mm.drivers.live``.

Production needs :data:`CONFIRM_FLAG`: ``--network prod``, and any ``--url`` that is neither a
loopback address (a local ``thalex-mm sim``) nor the testnet host — the flag is checked before
anything connects.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from urllib.parse import urlsplit

from thalex_mm.config import load_config, load_credentials
from thalex_mm.config.models import BotConfig, Network, is_loopback_host
from thalex_mm.config.secrets import Credentials
from thalex_mm.errors import ConfigError
from thalex_mm.logging_setup import configure_logging
from thalex_mm.protocol.constants import PROD_URL, TEST_URL, network_url
from thalex_mm.store.scrub import scrub_text

__all__ = ["CONFIRM_FLAG", "add_arguments", "journal_network", "production_reason", "run"]

CONFIRM_FLAG = "--i-understand-this-trades-real-money"


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


async def _run(config: BotConfig, url: str, creds: Credentials, args: argparse.Namespace) -> int:
    from thalex_mm.drivers.live import run_live

    summary = await run_live(config, url, creds, journal_path=args.db or config.monitoring.journal_path,
                             network=journal_network(args.network, args.url), duration_s=args.duration,
                             dashboard_port=args.dashboard_port)
    print("\n".join(summary.lines()))
    if summary.run_id is not None:
        from thalex_mm.commands.report_cmd import report_after_run

        report_after_run(args.db or config.monitoring.journal_path, summary.run_id)
    # a kill or risk halt may lead the exit reason ("...; then fatal: ...")
    return 1 if "fatal: " in summary.exit_reason else 0
