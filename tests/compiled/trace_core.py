"""Run one backtest and write every core step to a file, one line per event (a test helper).

Run as a script in a subprocess, once compiled and once with ``THALEX_MM_PURE_PYTHON=1``
(tests/compiled/test_differential.py compares the two files line by line). Each line is the
event's ``repr`` and the ``repr`` of the Step the core returned (commands, notices, quoted), so
the first differing line names the event where the two builds part.

Usage: ``python trace_core.py OUT_DIR DATA [START_NS END_NS]``; writes ``OUT_DIR/steps.txt``,
``OUT_DIR/summary.json`` (via the backtest's own writer) and prints the build mode.
"""

from __future__ import annotations

import sys
from pathlib import Path

import thalex_mm
from thalex_mm.backtest.api import run_backtest
from thalex_mm.backtest.runner import BacktestSettings
from thalex_mm.config.models import BotConfig
from thalex_mm.core.commands import Command
from thalex_mm.core.events import Event
from thalex_mm.core.market_maker import MarketMakerCore
from thalex_mm.core.order_ids import seeded_base
from thalex_mm.core.step import Step


class TracingCore:
    """MarketMakerCore, every step written down (a driver-side wrapper: the core is untouched)."""

    def __init__(self, config: BotConfig, lines: list[str]) -> None:
        self.core = MarketMakerCore(config, first_client_order_id=seeded_base(0))
        self.lines = lines

    def handle(self, event: Event) -> Step:
        step = self.core.handle(event)
        self.lines.append(f"{event!r} -> {step!r}")
        return step

    def on_sent(self, request_id: int, command: Command) -> None:
        self.core.on_sent(request_id, command)

    def next_deadline_ns(self) -> int | None:
        return self.core.next_deadline_ns()

    def status(self):  # the summary's calibration block reads it
        return self.core.status()

    @property
    def config(self) -> BotConfig:
        return self.core.config


def main(argv: list[str]) -> int:
    out, data = Path(argv[0]), argv[1]
    start_ns = int(argv[2]) if len(argv) > 2 else None
    end_ns = int(argv[3]) if len(argv) > 3 else None
    lines: list[str] = []
    run_backtest([data], BotConfig(), BacktestSettings(seed=0), start_ns=start_ns, end_ns=end_ns,
                 out_dir=out, core_factory=lambda cfg: TracingCore(cfg, lines))
    (out / "steps.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(thalex_mm.build_mode())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
