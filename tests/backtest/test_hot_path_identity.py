"""The hot path's outputs, pinned: every step of the core (commands, notices, quoted, next
deadline) on the core_step benchmark's seeded walk and on a recorded session, and the
backtest's ``summary.json`` (timing keys aside), hashed against a golden file.

Why: the per-event path is optimised for speed (caches, precomputed constants, numpy in the
tape); none of that may change a single output, not even the last bit of a float. A change
that alters behaviour on purpose regenerates the golden file and says why in its commit:

    .venv/bin/python tests/backtest/test_hot_path_identity.py --regenerate

``--full`` prints the digests of both shared sessions replayed whole (slower; what
``benchmarks/backtest_throughput.py`` runs), for checking an optimisation by hand.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from thalex_mm.backtest.api import TIMING_KEYS, run_backtest
from thalex_mm.backtest.runner import BacktestSettings
from thalex_mm.backtest.sessions import parse_time_ns
from thalex_mm.config.models import BotConfig
from thalex_mm.core.events import Event
from thalex_mm.core.market_maker import MarketMakerCore
from thalex_mm.core.order_ids import seeded_base
from thalex_mm.core.order_manager import OrderManager
from thalex_mm.core.step import Step
from thalex_mm.testing.quote_walk import Venue, open_market, walk, walk_config

REPO = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("THALEX_MM_DATA_DIR", REPO / ".." / "shared" / "data"))
BINANCE = DATA / "binance_usdm_btcusdt_perp_l2_trades"
DUMP = None  # a text file every step is also written to (``--dump FILE``, for diffing)
GOLDEN = Path(__file__).with_name("hot_path_identity.json")
SESSION_2024 = ("usdm_btcusdt_20240718.gz", "usdm_btcusdt_20240719.gz")
SESSION_2023 = ("usdm_btcusdt_20230404.dat.gz", "usdm_btcusdt_20230405.dat.gz")
WINDOW_2024 = ("2024-07-18T23:58:00Z", "2024-07-19T00:03:00Z")


class RecordingCore:
    """A ``MarketMakerCore`` whose every output is folded into a digest (repr of each step and
    each next deadline: floats print exactly, so a changed bit changes the digest)."""

    def __init__(self, config: BotConfig, **kwargs: Any) -> None:
        self.core = MarketMakerCore(config, **kwargs)
        self._hash = hashlib.sha256()
        self.counts = {"events": 0, "commands": 0, "notices": 0, "quoted": 0}

    @property
    def config(self) -> BotConfig:
        return self.core.config

    @property
    def orders(self) -> OrderManager:
        return self.core.orders

    def handle(self, event: Event) -> Step:
        step = self.core.handle(event)
        text = f"{step.commands!r}|{step.notices!r}|{step.quoted}\n"
        if DUMP is not None:
            DUMP.write(text)
        self._hash.update(text.encode())
        self.counts["events"] += 1
        self.counts["commands"] += len(step.commands)
        self.counts["notices"] += len(step.notices)
        self.counts["quoted"] += step.quoted
        return step

    def on_sent(self, request_id: int, command: Any) -> None:
        self._hash.update(f"sent {request_id}\n".encode())
        self.core.on_sent(request_id, command)

    def next_deadline_ns(self) -> int | None:
        d = self.core.next_deadline_ns()
        self._hash.update(f"deadline {d}\n".encode())
        return d

    def status(self) -> Any:
        return self.core.status()

    def digest(self) -> dict[str, Any]:
        self._hash.update(repr(self.core.status()).encode())
        return {**self.counts, "sha256": self._hash.hexdigest()}


# ---------------------------------------------------------------- the core_step walk

VARIANT = {  # the switches the default config leaves off, and the other order path
    "order": {"use_mass_quote": True},
    "quoting": {"inventory_age_enabled": True, "fade_enabled": True, "fair_value": "mid"},
}


def core_walk_digest(n: int = 3000, levels: int = 1, seed: int = 7,
                     extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """``benchmarks/core_step.py``'s scenario (``thalex_mm.testing.quote_walk``), every output
    recorded, the next deadline asked after every event as the drivers do."""
    core = RecordingCore(walk_config(levels, extra))
    venue = Venue(core, after_batch=core.next_deadline_ns)
    open_market(core, venue)
    for now, ticker, delta in walk(n, seed):
        if ticker is not None:
            core.handle(ticker)
        out = core.handle(delta)
        core.next_deadline_ns()
        venue(out.commands, now + 1)
    return core.digest()


# ---------------------------------------------------------------- a recorded session


def backtest_digest(files: tuple[str, ...], window: tuple[str, str] | None,
                    config: BotConfig | None = None) -> dict[str, Any]:
    """The 1 ms-batch backtest (default config and settings) of ``files``: every core output
    and the summary (timing keys aside)."""
    cores: list[RecordingCore] = []

    def factory(config: BotConfig, **kwargs: Any) -> RecordingCore:
        cores.append(RecordingCore(config, **kwargs))
        return cores[-1]

    start, end = (parse_time_ns(window[0]), parse_time_ns(window[1])) if window else (None, None)
    settings = BacktestSettings()
    out = run_backtest([str(BINANCE / f) for f in files], config or BotConfig(), settings,
                       start_ns=start, end_ns=end,
                       core_factory=lambda c: factory(c, first_client_order_id=seeded_base(settings.seed)))
    summary = {k: v for k, v in out.summary.items() if k not in TIMING_KEYS}
    assert len(cores) == 1
    return {"core": cores[0].digest(),
            "summary_sha256": hashlib.sha256(json.dumps(summary, sort_keys=True).encode()).hexdigest(),
            "fills": summary["fills"], "pnl_total": summary["pnl_total"]}


def _have_data() -> bool:
    return all((BINANCE / f).is_file() for f in SESSION_2024)


def _golden() -> dict[str, Any]:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_core_outputs_when_core_step_walk_replayed_match_golden() -> None:
    assert core_walk_digest() == _golden()["core_walk"]


def test_core_outputs_when_walk_mass_quotes_three_levels_match_golden() -> None:
    assert core_walk_digest(1500, levels=3, extra=VARIANT) == _golden()["core_walk_variant"]


@pytest.mark.real_part("the shared market data (THALEX_MM_DATA_DIR or ../shared/data)")
def test_backtest_outputs_when_recorded_window_replayed_match_golden() -> None:
    if not _have_data():
        pytest.skip(f"shared Binance captures not found under {BINANCE}")
    assert backtest_digest(SESSION_2024, WINDOW_2024) == _golden()["backtest_2024_window"]


def _full() -> dict[str, Any]:
    return {"core_walk_20000": core_walk_digest(20_000),
            "core_walk_3_levels": core_walk_digest(3000, levels=3),
            "backtest_2023": backtest_digest(SESSION_2023, None),
            "backtest_2024": backtest_digest(SESSION_2024, None),
            "backtest_2023_variant": backtest_digest(
                SESSION_2023, None, BotConfig.model_validate(VARIANT))}


if __name__ == "__main__":
    if "--dump" in sys.argv:
        DUMP = open(sys.argv[sys.argv.index("--dump") + 1], "w", encoding="utf-8")  # noqa: SIM115
    if "--regenerate" in sys.argv:
        golden = {"core_walk": core_walk_digest(),
                  "core_walk_variant": core_walk_digest(1500, levels=3, extra=VARIANT),
                  "backtest_2024_window": backtest_digest(SESSION_2024, WINDOW_2024)}
        GOLDEN.write_text(json.dumps(golden, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {GOLDEN}")
    elif "--full" in sys.argv:
        print(json.dumps(_full(), indent=2, sort_keys=True))
    else:
        print(__doc__)
