"""Short soak runs (issue 9 item 2): seeded random faults, invariants checked after each."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from thalex_mm.testing.soak import FAULT_KINDS, run_soak

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("mass_quote", "duration_s", "seed"), [(False, 10.0, 3), (True, 6.0, 4)])
def test_short_soak_has_no_violations(mass_quote: bool, duration_s: float, seed: int) -> None:
    logging.getLogger("thalex_mm").setLevel(logging.CRITICAL)
    res = asyncio.run(run_soak(duration_s, seed, mass_quote=mass_quote, hold_s=(0.3, 1.5), quiet_s=(0.2, 0.8)))
    assert res.violations == []
    assert sum(res.faults.values()) >= 3
    assert set(res.faults) <= set(FAULT_KINDS) | {"mmp_trip"}
    assert res.checks >= 3 and res.recoveries == res.checks
    assert res.exit_reason == "chaos harness stop"
    if mass_quote:
        assert res.commands["MassQuote"] > 0 and res.commands["InsertOrder"] == 0
    else:
        assert res.commands["InsertOrder"] > 0
    assert res.fills > 0
    assert res.rss_start_kb > 0 and res.rss_end_kb > 0


def test_soak_script_prints_the_figures() -> None:
    out = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "soak.py"), "--duration", "4", "--seed", "5", "--progress", "0"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    for label in ("faults injected", "recoveries", "invariant violations 0", "orders sent", "fills",
                  "reconnects", "memory (RSS)"):
        assert label in out.stdout


def test_soak_rejects_bad_duration() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "thalex_mm", "soak", "--duration", "-1"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert out.returncode != 0
    assert "--duration" in out.stderr and "-1" in out.stderr
