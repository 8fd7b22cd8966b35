"""``thalex-mm record``: record Thalex public feeds into replay files (no login needed).

Exit codes: 0 done; 2 bad input (bad option, unknown instrument, subscription refused by the
exchange); 1 any other error of the recording (named on one line).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from thalex_mm.protocol.constants import PROD_URL, TEST_URL
from thalex_mm.recorder import RecorderError, record_feeds

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--network", choices=("test", "prod"), default="test",
                        help="Thalex network (default test)")
    parser.add_argument("--instrument", default="BTC-PERPETUAL", help="instrument name")
    parser.add_argument("--out", required=True, metavar="DIR", help="recording directory")
    parser.add_argument("--duration", type=float, metavar="S",
                        help="stop after S seconds (default: until Ctrl-C)")
    parser.add_argument("--url", help="WebSocket URL (overrides --network; e.g. thalex-mm sim)")


async def _record(args: argparse.Namespace) -> int:
    url = args.url or (PROD_URL if args.network == "prod" else TEST_URL)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        stats = await record_feeds(url, args.instrument, args.out, duration_s=args.duration,
                                   stop=stop)
    except RecorderError as exc:
        print(f"thalex-mm record: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        print(f"thalex-mm record: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"recorded {stats.notifications} notifications into {stats.files} file(s) in "
          f"{args.out}", file=sys.stderr)
    return 0


def run(args: argparse.Namespace) -> int:
    if args.duration is not None and not args.duration > 0:
        print(f"thalex-mm record: --duration: got {args.duration}, expected > 0", file=sys.stderr)
        return 2
    return asyncio.run(_record(args))
