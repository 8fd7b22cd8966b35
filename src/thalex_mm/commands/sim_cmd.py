"""``thalex-mm sim``: run the simulated Thalex exchange standalone.

On start it prints exactly three lines (flushed), for scripts::

    URL ws://HOST:PORT/ws/api/v2
    KEY_ID <kid>
    PRIVATE_KEY_FILE <path>

and runs until Ctrl-C / SIGTERM (or ``--duration`` seconds), then stops cleanly (exit 0).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from thalex_mm.errors import ConfigError, DataFileError
from thalex_mm.sim.app import build_simulated_exchange
from thalex_mm.sim.faults import FAULT_KEYS, parse_fault_args

__all__ = ["add_arguments", "run"]


def _speed(text: str) -> float | None:
    if text.lower() in ("max", "inf", "none"):
        return None
    v = float(text)
    if not v > 0:
        raise argparse.ArgumentTypeError(f"--speed: got {text!r}, expected a number > 0 or 'max'")
    return v


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
    parser.add_argument("--fault", action="append", default=[], metavar="KEY=VALUE",
                        help="inject a fault; keys: " + ", ".join(FAULT_KEYS))


async def _serve(args: argparse.Namespace) -> int:
    faults = parse_fault_args(args.fault)
    sim, keys = build_simulated_exchange(
        seed=args.seed, replay=args.replay, speed=args.speed, host=args.host, port=args.port,
        key_dir=args.key_dir, faults=faults,
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
        return asyncio.run(_serve(args))
    except (ConfigError, DataFileError, ValueError) as exc:
        print(f"thalex-mm sim: {exc}", file=sys.stderr)
        return 2
