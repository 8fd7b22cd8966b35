"""``thalex-mm sim``: run the simulated Thalex exchange standalone.

On start it prints exactly three lines (flushed), for scripts::

    URL ws://HOST:PORT/ws/api/v2
    KEY_ID <kid>
    PRIVATE_KEY_FILE <path>

and runs until Ctrl-C / SIGTERM (or ``--duration`` seconds), then stops cleanly (exit 0).

``--sim KEY=VALUE`` sets the simulated market (σ, A, k, background book, fees, queue model,
collar band, self-trade prevention, funding rate, rate limits; see ``--help``), ``--fault``
injects faults, and ``--price-scale``/``--qty-scale``/``--qty-unit`` map replayed data. A bad
value exits 2 with one line per problem. ``paper`` shares these options
(``add_market_arguments`` / ``market_kwargs``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from typing import Any

from thalex_mm.errors import ConfigError, DataFileError
from thalex_mm.sim.app import (
    QTY_UNITS,
    SIM_OPTION_KEYS,
    ReplayMapping,
    build_simulated_exchange,
    parse_sim_options,
    sim_options_help,
)
from thalex_mm.sim.faults import FAULT_KEYS, parse_fault_args

__all__ = ["add_arguments", "add_market_arguments", "market_kwargs", "run"]


def _speed(text: str) -> float | None:
    if text.lower() in ("max", "inf", "none"):
        return None
    v = float(text)
    if not v > 0:
        raise argparse.ArgumentTypeError(f"--speed: got {text!r}, expected a number > 0 or 'max'")
    return v


def add_market_arguments(parser: argparse.ArgumentParser) -> None:
    """``--sim``, ``--fault`` and the replay mapping options (``sim`` and ``paper``)."""
    parser.add_argument("--sim", action="append", default=[], metavar="KEY=VALUE",
                        help="set the simulated market (repeatable); keys (default) — "
                        + sim_options_help().replace("%", "%%"))
    parser.add_argument("--fault", action="append", default=[], metavar="KEY=VALUE",
                        help="inject a fault (repeatable); keys: " + ", ".join(FAULT_KEYS))
    parser.add_argument("--price-scale", type=float, default=1.0, metavar="X",
                        help="replay: multiply source prices by X (default 1)")
    parser.add_argument("--price-offset", type=float, default=0.0, metavar="USD",
                        help="replay: then add USD to source prices (default 0)")
    parser.add_argument("--qty-scale", type=float, default=1.0, metavar="X",
                        help="replay: multiply source sizes by X (default 1)")
    parser.add_argument("--qty-unit", default="auto", metavar="UNIT",
                        help="replay: source size unit, one of " + ", ".join(QTY_UNITS)
                        + "; usd = USD amounts, converted to BTC per row at that row's price; "
                        "auto (default) = usd for Tardis files of Deribit BTC-PERPETUAL/"
                        "futures and BitMEX XBTUSD, else base")


def market_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """``build_simulated_exchange`` keyword arguments from ``add_market_arguments`` options.

    Raises:
        ConfigError: one problem per bad ``--sim``/``--fault``/mapping value, or synthetic
            market keys given together with ``--replay``.
    """
    options = parse_sim_options(args.sim)
    replay = getattr(args, "replay", None)
    if replay:
        synthetic = [k for k in options.values if SIM_OPTION_KEYS[k][0] == "synthetic"]
        if synthetic:
            raise ConfigError([(f"--sim {k}", options.values[k],
                                "no synthetic-market key with --replay (the data sets the market)")
                               for k in synthetic])
    kwargs = options.build_kwargs()
    kwargs["faults"] = parse_fault_args(args.fault)
    kwargs["replay_mapping"] = ReplayMapping(
        price_scale=args.price_scale, price_offset=args.price_offset,
        qty_scale=args.qty_scale, qty_unit=args.qty_unit,
    )
    return kwargs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="TCP port (default 0 = ephemeral)")
    parser.add_argument("--replay", nargs="+", metavar="PATH",
                        help="replay recorded data files instead of the synthetic market")
    parser.add_argument("--speed", type=_speed, default=1.0,
                        help="replay speed factor (1 = real time, 'max' = as fast as possible)")
    parser.add_argument("--seed", type=int, default=0, help="synthetic market seed")
    parser.add_argument("--key-dir", metavar="DIR",
                        help="where to write the generated private key (default: a temp dir)")
    parser.add_argument("--duration", type=float, metavar="S",
                        help="stop after S seconds (default: run until Ctrl-C)")
    add_market_arguments(parser)


async def _serve(args: argparse.Namespace, kwargs: dict[str, Any]) -> int:
    sim, keys = build_simulated_exchange(
        seed=args.seed, replay=args.replay, speed=args.speed, host=args.host, port=args.port,
        key_dir=args.key_dir, **kwargs,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with sim:
        print(f"URL {sim.url}", flush=True)
        print(f"KEY_ID {keys.kid}", flush=True)
        print(f"PRIVATE_KEY_FILE {keys.private_key_path}", flush=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), args.duration)
    return 0


def run(args: argparse.Namespace) -> int:
    try:
        kwargs = market_kwargs(args)
    except ConfigError as exc:
        for line in exc.lines():
            print(f"thalex-mm sim: {line}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_serve(args, kwargs))
    except ConfigError as exc:
        for line in exc.lines():
            print(f"thalex-mm sim: {line}", file=sys.stderr)
        return 2
    except (DataFileError, ValueError) as exc:
        print(f"thalex-mm sim: {exc}", file=sys.stderr)
        return 2
