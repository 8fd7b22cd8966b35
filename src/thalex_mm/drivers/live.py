"""``thalex-mm live``: the session shell against a Thalex endpoint, journaled; crashed live runs
of the same journal are closed first (:mod:`thalex_mm.drivers.crash_recovery`)."""

from __future__ import annotations

from thalex_mm.config.models import BotConfig
from thalex_mm.config.secrets import Credentials
from thalex_mm.drivers.crash_recovery import recover_crashed_runs
from thalex_mm.drivers.session import SessionSummary, run_session
from thalex_mm.fees import FeeRates
from thalex_mm.store import open_journal

__all__ = ["JOURNAL_HANDOVER_S", "LIVE_FEE_SOURCE", "run_live"]

#: Period of the live status loop, seconds: quote and PnL samples reach the journal at least
#: this often (fills, risk events and rejections go at once, as the core notices them). With the
#: journal writer's 0.2 s commit interval a kill -9 loses at most the last ~0.7 s of records (see
#: ``thalex_mm.store.journal``).
JOURNAL_HANDOVER_S = 0.5
#: What the live summary says of its fee rates: the model's assumption, not the venue's word.
LIVE_FEE_SOURCE = "config, as the model assumes; Thalex charges your account's rates"


async def run_live(
    config: BotConfig,
    url: str,
    creds: Credentials,
    *,
    journal_path: str,
    network: str,
    duration_s: float | None = None,
    dashboard_port: int | None = None,
) -> SessionSummary:
    """Trade ``config`` on ``url`` until ``duration_s`` or a signal; returns the summary.
    ``journal_path``: SQLite file or ``postgresql://`` URL; ``network``: the run's network as
    journaled; ``dashboard_port``: override of ``monitoring.dashboard_port`` (0 = any free)."""
    journal = open_journal(journal_path)
    try:
        await recover_crashed_runs(journal, config, url, creds, network=network)
        run_id = journal.start_run("live", config, network=network)
        # "open orders left": the orders the core still knew of at exit (after the shutdown's
        # confirmed cancel_session, normally 0; the exchange's cancel-on-disconnect covers the rest)
        return await run_session(config, url, creds, journal=journal, run_id=run_id, dashboard_port=dashboard_port,
                                 duration_s=duration_s, status_interval_s=JOURNAL_HANDOVER_S,
                                 publish_interval_s=1.0,  # the dashboard: once a second
                                 fee_rates=FeeRates(maker=config.avellaneda.maker_fee_rate,
                                                    taker=config.avellaneda.taker_fee_rate,
                                                    source=LIVE_FEE_SOURCE).describe())
    finally:
        journal.close()
