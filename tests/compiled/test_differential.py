"""The compiled build and the pure-Python sources behave identically (docs/build.md).

Each test runs the same work twice in subprocesses: once as installed (compiled when the install
is) and once with ``THALEX_MM_PURE_PYTHON=1``, which loads the ``.py`` sources even though the
compiled modules are present. ``trace_core.py`` writes every core step (the event, then the
commands, notices and ``quoted`` the core returned) and the backtest's ``summary.json``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import thalex_mm

REPO = Path(__file__).resolve().parents[2]
TRACE = Path(__file__).with_name("trace_core.py")
DATA = Path(os.environ.get("THALEX_MM_DATA_DIR", REPO / ".." / "shared" / "data"))
BINANCE_2024 = DATA / "binance_usdm_btcusdt_perp_l2_trades" / "usdm_btcusdt_20240718.gz"
# the summary's wall-clock fields: the only ones allowed to differ between two runs
TIMING_KEYS = frozenset({"wall_seconds", "events_per_second", "rows_per_second", "created_at",
                         "started_at", "finished_at", "run_id"})


def _trace(tmp: Path, mode: str, *args: str) -> tuple[list[str], dict]:
    env = dict(os.environ)
    env.pop(thalex_mm.PURE_PYTHON_ENV, None)
    if mode == "pure":
        env[thalex_mm.PURE_PYTHON_ENV] = "1"
    out = tmp / mode
    out.mkdir()
    done = subprocess.run([sys.executable, str(TRACE), str(out), *args], env=env,
                          capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    reported = done.stdout.strip().splitlines()[-1]
    assert reported.startswith("pure") == (mode == "pure"), reported
    steps = (out / "steps.txt").read_text(encoding="utf-8").splitlines()
    return steps, json.loads((out / "summary.json").read_text(encoding="utf-8"))


def _without_timing(value: object) -> object:
    if isinstance(value, dict):
        return {k: _without_timing(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [_without_timing(v) for v in value]
    return value


def _assert_same(tmp: Path, *args: str) -> int:
    compiled_steps, compiled_summary = _trace(tmp, "compiled", *args)
    pure_steps, pure_summary = _trace(tmp, "pure", *args)
    for i, (c, p) in enumerate(zip(compiled_steps, pure_steps, strict=False)):
        assert c == p, f"step {i} differs:\ncompiled: {c[:2000]}\npure:     {p[:2000]}"
    assert len(compiled_steps) == len(pure_steps)
    assert _without_timing(compiled_summary) == _without_timing(pure_summary)
    return len(compiled_steps)


@pytest.fixture(scope="module")
def compiled_install() -> None:
    """The install is compiled (whatever mode this process runs in: each run sets its own)."""
    info = thalex_mm.build_info()
    if not info["compiled"]:
        pytest.skip(f"the install is not compiled, nothing to compare: {info['reason']}")


def test_core_steps_when_synthetic_session_replayed_equal_in_compiled_and_pure_mode(
    tmp_path: Path, compiled_install: None
) -> None:
    n = _assert_same(tmp_path, "synthetic:60:3")
    assert n > 1_000  # a real session: thousands of core steps compared


@pytest.mark.real_part("the shared market data (THALEX_MM_DATA_DIR or ../shared/data)")
def test_core_steps_when_recorded_session_slice_replayed_equal_in_compiled_and_pure_mode(
    tmp_path: Path, compiled_install: None
) -> None:
    if not BINANCE_2024.is_file():
        pytest.skip(f"shared Binance capture not found: {BINANCE_2024}")
    start_ns = 1_721_347_080_000_000_000  # 2024-07-18 23:58 UTC: the capture's last 2 minutes
    n = _assert_same(tmp_path, str(BINANCE_2024), str(start_ns), str(start_ns + 120 * 10**9))
    assert n > 2_000
