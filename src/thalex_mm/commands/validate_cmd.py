"""``thalex-mm validate as2008``: reproduce published model results beside the paper's figures."""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["add_arguments", "run"]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}, expected an integer >= 2") from None
    if value < 2:
        raise argparse.ArgumentTypeError(f"got {value}, expected an integer >= 2")
    return value


def _gamma(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}, expected a number > 0") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"got {value}, expected a number > 0")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="validate_target", metavar="TARGET", required=True)
    p = sub.add_parser(
        "as2008",
        help="Avellaneda & Stoikov (2008) Tables 1-3: inventory vs symmetric strategy",
        description="Simulate the AS 2008 world with our model functions and print the results beside the journal's.",
    )
    p.add_argument("--paths", type=_positive_int, default=1000, help="Monte-Carlo paths per gamma (default 1000, as the paper)")
    p.add_argument("--seed", type=int, default=1, help="numpy seed (default 1)")
    p.add_argument("--gamma", type=_gamma, action="append", help="gamma to run (repeatable; default 0.1, 0.01, 1)")
    p.add_argument("--json", action="store_true", help='print one JSON object {"<gamma>": {"inventory": {...}, "symmetric": {...}}}')


def run(args: argparse.Namespace) -> int:
    from thalex_mm.validate.as2008 import GAMMAS, format_table
    from thalex_mm.validate.as2008 import run as run_as2008

    gammas = tuple(args.gamma) if args.gamma else GAMMAS
    results = run_as2008(gammas, paths=args.paths, seed=args.seed)
    if args.json:
        sys.stdout.write(json.dumps(results, sort_keys=False) + "\n")
    else:
        sys.stdout.write(format_table(results, paths=args.paths, seed=args.seed))
    return 0
