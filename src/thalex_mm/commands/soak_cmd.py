"""``thalex-mm soak``: the quoter against the simulated exchange with seeded random faults.

Prints faults injected (by kind), recoveries, invariant violations (must be 0), orders sent,
fills, reconnects and memory growth; exit status 1 when an invariant was violated. The same
runs as ``python benchmarks/soak.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging

from thalex_mm.testing.soak import SoakResult, run_soak

__all__ = ["add_arguments", "run"]


def _positive(text: str) -> float:
    v = float(text)
    if not v > 0:
        raise argparse.ArgumentTypeError(f"--duration: got {text!r}, expected a number of seconds > 0")
    return v


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--duration", type=_positive, default=60.0, metavar="S",
                        help="seconds of fault injection (default 60)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the fault scheduler and market (default 0)")
    parser.add_argument("--mass-quote", action="store_true",
                        help="quote with mass quotes under market-maker protection (adds MMP trips)")
    parser.add_argument("--progress", type=float, default=30.0, metavar="S",
                        help="print a progress line every S seconds (0 = off; default 30)")
    parser.add_argument("--verbose", action="store_true", help="show the quoter's warnings while faults hit it")


def run(args: argparse.Namespace) -> int:
    if not args.verbose:
        # Every injected fault makes the quoter log a warning: keep the report readable.
        logging.getLogger("thalex_mm").setLevel(logging.CRITICAL)
        logging.getLogger("websockets").setLevel(logging.CRITICAL)
    last = [0.0]

    def progress(res: SoakResult, elapsed_s: float) -> None:
        if args.progress and elapsed_s - last[0] >= args.progress:
            last[0] = elapsed_s
            print(f"[{elapsed_s:6.0f} s] faults {sum(res.faults.values())}, checks {res.checks}, "
                  f"violations {len(res.violations)}", flush=True)

    res = asyncio.run(run_soak(args.duration, args.seed, mass_quote=args.mass_quote, progress=progress))
    print("\n".join(res.lines()), flush=True)
    return 1 if res.violations else 0
