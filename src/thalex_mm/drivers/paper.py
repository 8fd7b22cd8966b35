"""``thalex-mm paper``: the simulated exchange and the quoter in one process, over loopback.

The simulated exchange (synthetic A–S market by default, or a replay) listens on 127.0.0.1 with
a freshly generated API key; the quoter logs in with that key and trades against it over a real
WebSocket — the same code path as live trading, in the same session shell
(:mod:`thalex_mm.drivers.session`: terminal status, journal, dashboard, signals, summary).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from typing import Any

from thalex_mm.config.models import BotConfig
from thalex_mm.config.secrets import Credentials, Secret
from thalex_mm.drivers.session import SessionSummary, run_session
from thalex_mm.fees import paper_fee_rates
from thalex_mm.sim.app import running_simulated_exchange
from thalex_mm.store import close_crashed_runs

__all__ = ["PaperResult", "run_paper"]

PaperResult = SessionSummary
"""A paper run's summary (the same figures as a live run's)."""


async def run_paper(
    config: BotConfig,
    *,
    duration_s: float | None = 60.0,
    replay: Sequence[str] | None = None,
    seed: int = 0,
    journal: Any | None = None,
    show_status: bool = True,
    status_interval_s: float = 0.5,
    hub: Any | None = None,
    dashboard_port: int | None = None,
    sim_kwargs: dict[str, Any] | None = None,
    on_started: Any | None = None,
) -> PaperResult:
    """Run one paper session; returns its summary.

    Args:
        config: BOT_CONFIG (market.network is ignored: the venue is the embedded simulator).
        duration_s: stop after this long (None = until Ctrl-C / SIGTERM).
        replay: recorded data files to replay instead of the synthetic market.
        seed: seed of the synthetic market.
        journal: a ``thalex_mm.store`` journal, or None.
        show_status: render the live terminal status.
        hub / dashboard_port: the dashboard hub; None starts the dashboard from
            ``config.monitoring`` (when enabled) on ``dashboard_port`` (0 = ephemeral).
        sim_kwargs: extra arguments for ``build_simulated_exchange``: the CLI's ``--sim``,
            ``--fault`` and replay-mapping options (``commands.sim_cmd.market_kwargs``), or a
            test's faults/rates. Fee rates given here override the config's, for the
            simulator and the model alike (``thalex_mm.fees.paper_fee_rates``).
        on_started: called with ``(sim, quoter)`` once both run (tests and the dashboard).
    """
    # One set of fee rates for the model and the simulated exchange (a --sim override reaches both).
    config, kwargs, fee_rates = paper_fee_rates(config, sim_kwargs)
    key_dir = tempfile.mkdtemp(prefix="thalex-mm-paper-")
    async with running_simulated_exchange(seed=seed, replay=replay, key_dir=key_dir, **kwargs) as (sim, keys):
        creds = Credentials(key_id=keys.kid, private_key=Secret(keys.private_key_pem()))
        run_id = None
        if journal is not None:
            close_crashed_runs(journal, "paper", config)  # earlier paper runs killed with kill -9
            run_id = journal.start_run("paper", config)
        return await run_session(
            config, sim.url, creds, journal=journal, run_id=run_id, hub=hub, dashboard_port=dashboard_port,
            duration_s=duration_s, status_interval_s=status_interval_s, show_status=show_status,
            # shutdown ran cancel_session: what the exchange itself still holds of ours
            open_orders_left=lambda _status: len(sim.open_orders(keys.account)),
            on_started=None if on_started is None else lambda quoter: on_started(sim, quoter),
            fee_rates=fee_rates.describe(),
        )
