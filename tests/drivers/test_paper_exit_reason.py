"""A real paper session killed from the hub (as the dashboard does): the summary, the journal's
exit reason and its risk events say so; the clean stop afterwards adds no risk event."""

from __future__ import annotations

import asyncio
from pathlib import Path

from thalex_mm.config.models import BotConfig
from thalex_mm.drivers.paper import run_paper
from thalex_mm.monitoring.bridge import CoreStatusHub
from thalex_mm.store import Journal, JournalReader


def _config() -> BotConfig:
    return BotConfig.model_validate({
        "quoting": {"min_requote_interval_ms": 20},
        "avellaneda": {"estimate_intensity": False},
        "monitoring": {"quote_sample_interval_s": 0.2, "dashboard_enabled": False},
    })


def _paper_with_presses(db: Path, presses: list[tuple[float, str]], duration_s: float):
    """A journaled paper run; at each ``(seconds, "kill"|"resume")`` the hub is pressed as the
    dashboard presses it (source ``dashboard 127.0.0.1``)."""
    journal = Journal(db, flush_interval_s=0.05)
    hub = CoreStatusHub()

    def on_started(sim, quoter) -> None:
        loop = asyncio.get_running_loop()
        for at_s, what in presses:
            press = getattr(hub, what)
            loop.call_later(at_s, lambda p=press: asyncio.ensure_future(p(source="dashboard 127.0.0.1")))

    try:
        return asyncio.run(asyncio.wait_for(run_paper(
            _config(), duration_s=duration_s, seed=3, journal=journal, show_status=False,
            status_interval_s=0.1, hub=hub, on_started=on_started), 30.0))
    finally:
        journal.close()


def test_paper_run_when_killed_from_the_dashboard_names_the_kill_as_exit_reason(tmp_path: Path) -> None:
    db = tmp_path / "journal.sqlite"
    result = _paper_with_presses(db, [(1.5, "kill")], 3.0)
    assert result.exit_reason.startswith("kill switch (dashboard 127.0.0.1) at 20")
    assert result.exit_reason.endswith("UTC; then duration reached")
    assert any(line.startswith("fee rates          maker 0.00 bp, taker 5.00 bp") for line in result.lines())
    with JournalReader(db) as reader:
        (run,) = reader.list_runs()
        events = reader.risk_events(result.run_id)
    assert run.exit_reason == result.exit_reason
    assert [(e.state, e.reason) for e in events] == [("halted", "kill_switch")]


def test_paper_run_when_resumed_after_a_kill_quotes_again_and_ends_on_its_duration(tmp_path: Path) -> None:
    db = tmp_path / "journal.sqlite"
    result = _paper_with_presses(db, [(1.0, "kill"), (1.8, "resume")], 3.5)
    assert result.exit_reason == "duration reached"  # the kill was lifted: it did not end the run
    with JournalReader(db) as reader:
        events = reader.risk_events(result.run_id)
        orders = reader.orders(result.run_id)
    assert [(e.state, e.reason) for e in events] == [("halted", "kill_switch"), ("active", "manual")]
    resumed_ns = events[1].ts_ns
    assert [o for o in orders if o.event == "sent:insert" and o.ts_ns > resumed_ns]  # quoting again
