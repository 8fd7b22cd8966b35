"""``thalex-mm config show|check``."""

from __future__ import annotations

import argparse
import sys

from thalex_mm.config import config_to_toml, load_config
from thalex_mm.errors import ConfigError

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="config_action", metavar="ACTION", required=True)
    show = sub.add_parser("show", help="print the effective configuration as TOML (secrets redacted)")
    show.add_argument("--config", metavar="FILE", help="TOML config file")
    check = sub.add_parser("check", help="validate a config file: 'ok' and exit 0, or one line per problem and exit 2")
    check.add_argument("file", metavar="FILE")


def run(args: argparse.Namespace) -> int:
    path = args.config if args.config_action == "show" else args.file
    try:
        config = load_config(path)
    except ConfigError as exc:
        for line in exc.lines():
            print(line, file=sys.stderr if args.config_action == "show" else sys.stdout)
        return 2
    if args.config_action == "show":
        sys.stdout.write(config_to_toml(config))
    else:
        print("ok")
    return 0
