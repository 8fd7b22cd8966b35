"""Soak: the quoter against the simulated exchange with seeded random faults (issue 9).

    python benchmarks/soak.py --duration 600 --seed 1 [--mass-quote]

Same as ``thalex-mm soak``: prints faults injected (by kind), recoveries, invariant violations
(must be 0), orders sent, fills, reconnects and memory growth; exits 1 on a violation.
"""

from __future__ import annotations

import argparse
import sys

from thalex_mm.commands import soak_cmd


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="soak the quoter against the simulator with random faults")
    soak_cmd.add_arguments(parser)
    return soak_cmd.run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
