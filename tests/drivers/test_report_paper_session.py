"""A real paper session (quoter + simulated exchange, journaled): ``thalex-mm report`` of the
run shows the same fees and PnL as the session's own summary."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from thalex_mm.cli import main
from thalex_mm.config.models import BotConfig
from thalex_mm.drivers.paper import run_paper
from thalex_mm.sim.app import default_synthetic_params
from thalex_mm.store import Journal, JournalReader

MAKER_FEE_RATE = 0.00005  # as in the bug report
TAKER_FEE_RATE = 0.0005


def _config() -> BotConfig:
    return BotConfig.model_validate({
        "quoting": {"min_requote_interval_ms": 20},
        "connection": {"ping_interval_s": 0.5, "cancel_on_disconnect_timeout_s": 2,
                       "reconnect_initial_s": 0.05, "reconnect_cap_s": 0.5,
                       "request_timeout_s": 2.0},
        "risk": {"stale_data_timeout_s": 1.0},
        "avellaneda": {"estimate_intensity": False, "maker_fee_rate": MAKER_FEE_RATE,
                       "taker_fee_rate": TAKER_FEE_RATE},
        "monitoring": {"quote_sample_interval_s": 0.2},
    })


def test_report_of_a_paper_run_has_the_sessions_fees_and_maker_flags(tmp_path: Path) -> None:
    db = tmp_path / "journal.sqlite"
    journal = Journal(db, flush_interval_s=0.05)
    try:
        result = asyncio.run(asyncio.wait_for(run_paper(
            _config(), duration_s=4.0, seed=5, journal=journal, show_status=False,
            status_interval_s=0.1,
            sim_kwargs={
                "synthetic": default_synthetic_params(arrival_rate_per_s=20.0, k=0.15,
                                                      background_offset_ticks=15),
                "publish_interval_s": 0.02,
            },
        ), 20.0))
    finally:
        journal.close()
    assert result.fills > 0 and result.run_id is not None
    assert result.fees > 0  # the simulator charged the configured fee rates

    with JournalReader(db) as reader:
        fills = reader.fills(result.run_id)
    assert len(fills) == result.fills
    assert all(f.maker_taker in ("maker", "taker") for f in fills)
    for f in fills:
        rate = MAKER_FEE_RATE if f.maker_taker == "maker" else TAKER_FEE_RATE
        assert f.fee == pytest.approx(rate * f.price * f.amount, rel=1e-6, abs=1e-9)

    out = tmp_path / "report"
    assert main(["report", result.run_id, "--db", str(db), "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["fills"] == result.fills
    assert summary["fills_maker"] == sum(f.maker_taker == "maker" for f in fills)
    assert summary["fees"] == pytest.approx(result.fees, rel=1e-9, abs=1e-9)
    assert summary["pnl_realised"] == pytest.approx(result.pnl_realised, abs=1e-6)
    assert summary["final_position"] == pytest.approx(result.position, abs=1e-9)
    assert summary["rejects"] == result.rejects
    assert summary["requotes"] == result.inserts + result.amends  # no mass quoting here
    # Unrealised PnL differs only by the mark: the report marks at the last sampled mid, the
    # session at the exchange's mark price (within 20 bp of each other here).
    tolerance = abs(result.position) * fills[-1].price * 0.002 + 1e-6
    assert summary["pnl_total"] == pytest.approx(result.pnl_total, abs=tolerance)
